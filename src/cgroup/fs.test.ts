import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSmallFileSync, readWholeFileSync } from "./fs.js";

// The buffer is shared and only grows: these run in order, each file larger than the buffer the one before left.
describe("reading kernel files through the shared buffer", () => {
  it("reads regular files larger than the buffer whole, growing it either way, and throws the error of a missing one", () => {
    const dir = mkdtempSync(join(tmpdir(), "xander-fs-"));
    try {
      const small = "x".repeat(200 * 1024 + 7);
      writeFileSync(join(dir, "small"), small);
      expect(readSmallFileSync(join(dir, "small"))).toBe(small);
      const large = "y".repeat(600 * 1024 + 3);
      writeFileSync(join(dir, "large"), large);
      expect(readWholeFileSync(join(dir, "large"))).toBe(large);
      expect(() => readWholeFileSync(join(dir, "missing"))).toThrow(expect.objectContaining({ code: "ENOENT" }) as Error);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads a seq_file of many records to its end, though one read returns about a page of it", () => {
    // A record per kernel symbol, megabytes in all: /proc/vmstat and cgroup.procs are read the same way. A module
    // or BPF program loaded meanwhile changes it, so the read must match the file as read just before or after.
    const before = readFileSync("/proc/kallsyms", "latin1");
    const got = readWholeFileSync("/proc/kallsyms");
    const after = readFileSync("/proc/kallsyms", "latin1");
    expect(before.length).toBeGreaterThan(1024 * 1024);
    expect(got === before || got === after ? "the whole file" : `${got.length} of ${before.length} characters`).toBe("the whole file");
  });
});
