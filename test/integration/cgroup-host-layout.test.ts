import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeFixtureTree } from "../../src/cgroup/fixture-tree.js";
import { detectLayout } from "../../src/cgroup/layout.js";
import { nodeCountersBoundCgroups } from "../../src/engine/readers.js";
import { readNodePressure } from "../../src/procfs/pressure.js";

// The reference machines are hybrid hosts (see TESTING.md). If this fails, the host changed or
// the cgroup mounts are missing; it must not be skipped, since every node-engine test relies on it.
describe("this host's cgroup layout", () => {
  test("the reference host mounts cgroup2 at /sys/fs/cgroup/unified", () => {
    expect(existsSync("/sys/fs/cgroup/unified/cgroup.controllers")).toBe(true);
  });

  test("detectLayout finds hybrid: separate v1 cpu and cpuacct mounts, memory, and unified with PSI", async () => {
    const r = await detectLayout("/sys/fs/cgroup");
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value).toEqual({
      version: "hybrid",
      root: "/sys/fs/cgroup",
      v1: { cpu: "/sys/fs/cgroup/cpu", cpuacct: "/sys/fs/cgroup/cpuacct", memory: "/sys/fs/cgroup/memory", blkio: "/sys/fs/cgroup/blkio" },
      unified: "/sys/fs/cgroup/unified",
      psi: true,
    });
  });

  test("node PSI is readable from /proc/pressure", async () => {
    const r = await readNodePressure();
    expect(r.problems).toEqual([]);
    expect(r.cpu?.someTotalUsec).toBeGreaterThanOrEqual(0);
    expect(r.io?.fullTotalUsec).toBeGreaterThanOrEqual(0);
  });

  test("this kernel's /proc counters bound its cgroups', and a fixture tree's are bound by nothing", async () => {
    const host = await detectLayout("/sys/fs/cgroup");
    if (!host.ok) throw new Error(host.error.message);
    expect(nodeCountersBoundCgroups(host.value, "/proc")).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), "xander-bound-"));
    try {
      await writeFixtureTree(dir, { version: "v2", driver: "systemd", runtime: "containerd", pods: 1, containersPerPod: 1 });
      const fixture = await detectLayout(dir);
      if (!fixture.ok) throw new Error(fixture.error.message);
      expect(nodeCountersBoundCgroups(fixture.value, "/proc")).toBe(false);
      expect(nodeCountersBoundCgroups(host.value, dir)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
