import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { writeFixtureTree } from "./fixture-tree.js";
import { decideLayout, detectLayout, type LayoutFacts } from "./layout.js";

const fixtures = fileURLToPath(new URL("../../test/fixtures/cgroup/", import.meta.url));

function facts(partial: Partial<LayoutFacts>): LayoutFacts {
  return { root: "/sys/fs/cgroup", rootIsCgroup2: false, hierarchies: new Map(), cgroup2: new Set(), psi: false, ...partial };
}

describe("decideLayout (pure)", () => {
  test("a root that is itself a cgroup2 mount is pure v2 with the root as the unified tree", () => {
    expect(decideLayout(facts({ rootIsCgroup2: true, psi: true }))).toEqual({
      ok: true,
      value: { version: "v2", root: "/sys/fs/cgroup", v1: {}, unified: "/sys/fs/cgroup", psi: true },
    });
  });

  test("separately mounted v1 controllers without a unified tree are v1, never with PSI", () => {
    const r = decideLayout(
      facts({
        hierarchies: new Map([
          ["cpu", "cpu"],
          ["cpuacct", "cpuacct"],
          ["memory", "memory"],
          ["pids", "pids"],
        ]),
        psi: true,
      }),
    );
    expect(r).toEqual({
      ok: true,
      value: { version: "v1", root: "/sys/fs/cgroup", v1: { cpu: "/sys/fs/cgroup/cpu", cpuacct: "/sys/fs/cgroup/cpuacct", memory: "/sys/fs/cgroup/memory" }, psi: false },
    });
  });

  test("cpu and cpuacct symlinked to a cpu,cpuacct co-mount both resolve to the co-mount", () => {
    const r = decideLayout(
      facts({
        hierarchies: new Map([
          ["cpu", "cpu,cpuacct"],
          ["cpuacct", "cpu,cpuacct"],
          ["cpu,cpuacct", "cpu,cpuacct"],
        ]),
      }),
    );
    expect(r.ok && r.value.v1).toEqual({ cpu: "/sys/fs/cgroup/cpu,cpuacct", cpuacct: "/sys/fs/cgroup/cpu,cpuacct" });
  });

  test("a co-mount without symlinks, in either order, still serves both controllers", () => {
    for (const name of ["cpu,cpuacct", "cpuacct,cpu"]) {
      const r = decideLayout(facts({ hierarchies: new Map([[name, name]]) }));
      expect(r.ok && r.value.v1).toEqual({ cpu: `/sys/fs/cgroup/${name}`, cpuacct: `/sys/fs/cgroup/${name}` });
    }
  });

  test("v1 controllers plus a cgroup2 unified mount are hybrid, carrying the PSI flag", () => {
    const r = decideLayout(
      facts({
        hierarchies: new Map([
          ["cpu", "cpu"],
          ["memory", "memory"],
          ["unified", "unified"],
        ]),
        cgroup2: new Set(["unified"]),
        psi: true,
      }),
    );
    expect(r).toEqual({
      ok: true,
      value: { version: "hybrid", root: "/sys/fs/cgroup", v1: { cpu: "/sys/fs/cgroup/cpu", memory: "/sys/fs/cgroup/memory" }, unified: "/sys/fs/cgroup/unified", psi: true },
    });
  });

  test("an unreadable root names the path and the way out", () => {
    const r = decideLayout(facts({ root: "/host/sys/fs/cgroup", rootError: "EACCES" }));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.path).toBe("/host/sys/fs/cgroup");
    expect(r.error.message).toContain("cannot read /host/sys/fs/cgroup: permission denied");
    expect(r.error.message).toContain("run as root or mount the host cgroupfs read-only at /host/sys/fs/cgroup");
  });

  test("a root with no cgroup hierarchy is an error, not an empty layout", () => {
    const r = decideLayout(facts({ hierarchies: new Map([["pids", "pids"]]) }));
    expect(!r.ok && r.error.message).toContain("no cgroup hierarchy found under /sys/fs/cgroup");
  });
});

describe("detectLayout on fixture trees", () => {
  test("v2 systemd+containerd is pure v2 with PSI", async () => {
    const root = path.join(fixtures, "v2-systemd-containerd");
    expect(await detectLayout(root)).toEqual({ ok: true, value: { version: "v2", root, v1: {}, unified: root, psi: true } });
  });

  test("PSI is detected through a child when the v2 root cgroup has no pressure files (Linux 5.10)", async () => {
    const root = path.join(fixtures, "v2-cgroupfs-crio");
    const r = await detectLayout(root);
    expect(r.ok && r.value.psi).toBe(true);
  });

  test("v1 with a cpu,cpuacct co-mount and symlinks resolves both controllers to the co-mount", async () => {
    const root = path.join(fixtures, "v1-cgroupfs-docker");
    expect(await detectLayout(root)).toEqual({
      ok: true,
      value: {
        version: "v1",
        root,
        v1: { cpu: path.join(root, "cpu,cpuacct"), cpuacct: path.join(root, "cpu,cpuacct"), memory: path.join(root, "memory"), blkio: path.join(root, "blkio") },
        psi: false,
      },
    });
  });

  test("this host's captured hybrid tree is hybrid with separate cpu and cpuacct mounts and PSI", async () => {
    const root = path.join(fixtures, "hybrid-systemd-containerd");
    expect(await detectLayout(root)).toEqual({
      ok: true,
      value: {
        version: "hybrid",
        root,
        v1: { cpu: path.join(root, "cpu"), cpuacct: path.join(root, "cpuacct"), memory: path.join(root, "memory"), blkio: path.join(root, "blkio") },
        unified: path.join(root, "unified"),
        psi: true,
      },
    });
  });

  test("a missing root is an error naming the path", async () => {
    const r = await detectLayout("/nonexistent/xander/cgroup");
    expect(!r.ok && r.error.message).toContain("cannot read /nonexistent/xander/cgroup: no such directory");
  });
});

describe("detectLayout on generated trees", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "xander-layout-"));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test.each(["v1", "v2", "hybrid"] as const)("a generated %s tree is detected as that version, with PSI unless v1", async (version) => {
    const root = path.join(dir, version);
    await writeFixtureTree(root, { version, driver: "systemd", runtime: "containerd", pods: 3, containersPerPod: 1 });
    const r = await detectLayout(root);
    expect(r.ok && r.value.version).toBe(version);
    expect(r.ok && r.value.psi).toBe(version !== "v1");
  });
});
