import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { readNodePressure } from "./pressure.js";

describe("readNodePressure", () => {
  let proc: string;
  beforeEach(() => {
    proc = mkdtempSync(path.join(tmpdir(), "xander-proc-"));
  });
  afterEach(() => {
    rmSync(proc, { recursive: true, force: true });
  });

  function pressure(files: Record<string, string>): void {
    mkdirSync(path.join(proc, "pressure"));
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(proc, "pressure", name), text);
  }

  test("node PSI totals are read from all three files, cpu without full on kernels before 5.13", async () => {
    pressure({
      cpu: "some avg10=64.72 avg60=38.71 avg300=12.55 total=46233762\n",
      memory: "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
      io: "some avg10=0.14 avg60=0.28 avg300=0.18 total=1508851\nfull avg10=0.00 avg60=0.10 avg300=0.11 total=1128180\n",
    });
    const r = await readNodePressure(proc);
    expect(r).toMatchObject({
      cpu: { someTotalUsec: 46233762 },
      memory: { someTotalUsec: 0, fullTotalUsec: 0 },
      io: { someTotalUsec: 1508851, fullTotalUsec: 1128180 },
      problems: [],
    });
    expect(r.cpu).not.toHaveProperty("fullTotalUsec");
    expect(typeof r.monoMs).toBe("number");
  });

  test("a kernel without PSI yields no totals and problems that say why", async () => {
    const r = await readNodePressure(proc);
    expect(r.cpu).toBeUndefined();
    expect(r.problems).toHaveLength(3);
    expect(r.problems[0]).toContain(`cannot read ${path.join(proc, "pressure", "cpu")}: PSI is not available`);
  });

  test("a garbled file drops that resource only and names the file", async () => {
    pressure({
      cpu: "some avg10=x\n",
      memory: "some avg10=0.00 avg60=0.00 avg300=0.00 total=5\n",
      io: "some avg10=0.00 avg60=0.00 avg300=0.00 total=6\n",
    });
    const r = await readNodePressure(proc);
    expect(r.cpu).toBeUndefined();
    expect(r.memory).toEqual({ someTotalUsec: 5 });
    expect(r.problems).toEqual([expect.stringContaining(`cannot parse ${path.join(proc, "pressure", "cpu")} line 1`)]);
  });
});
