import fc from "fast-check";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseVmstatOomKills, readNodeOomKills } from "./vmstat.js";

describe("/proc/vmstat oom_kill", () => {
  it("finds the oom_kill line among the others", () => {
    expect(parseVmstatOomKills("nr_free_pages 3\noom_kill 120\noom_kill_other 5\nunevictable 0\n")).toEqual({ ok: true, value: 120 });
  });

  it("names the file when the kernel has no such counter, and never throws", () => {
    const parsed = parseVmstatOomKills("nr_free_pages 3\noom_killx 4\n", "/host/proc/vmstat");
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatchObject({ file: "/host/proc/vmstat", message: expect.stringContaining("oom_kill") as unknown });
    fc.assert(fc.property(fc.string(), (text) => { parseVmstatOomKills(text); }));
  });

  it("reads this machine's counter, and names a missing file", () => {
    const here = readNodeOomKills("/proc");
    expect(here.ok && here.value >= 0).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), "xander-vmstat-"));
    try {
      expect(readNodeOomKills(dir)).toMatchObject({ ok: false, error: { file: join(dir, "vmstat") } });
      writeFileSync(join(dir, "vmstat"), "oom_kill 7\n");
      expect(readNodeOomKills(dir)).toEqual({ ok: true, value: 7 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
