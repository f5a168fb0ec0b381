import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSmallFileSync, readWholeFileSync } from "./fs.js";

describe("reading kernel files through the shared buffer", () => {
  it("reads a seq_file of many records to its end, though one read returns about a page of it", () => {
    // A record per kernel symbol, megabytes in all: /proc/vmstat and cgroup.procs are read the same way.
    const whole = readFileSync("/proc/kallsyms", "latin1");
    expect(whole.length).toBeGreaterThan(64 * 1024);
    expect(readWholeFileSync("/proc/kallsyms")).toBe(whole);
  });

  it("reads regular files larger than the buffer whole either way, and throws the error of a missing one", () => {
    const dir = mkdtempSync(join(tmpdir(), "xander-fs-"));
    try {
      const text = "x".repeat(200 * 1024 + 7);
      writeFileSync(join(dir, "big"), text);
      expect(readWholeFileSync(join(dir, "big"))).toBe(text);
      expect(readSmallFileSync(join(dir, "big"))).toBe(text);
      expect(() => readWholeFileSync(join(dir, "missing"))).toThrow(expect.objectContaining({ code: "ENOENT" }) as Error);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
