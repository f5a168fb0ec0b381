import fc from "fast-check";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  classifyPath,
  containerCgroupPath,
  discoverPods,
  discoveryMount,
  parseContainerRef,
  podCgroupPath,
  qosClassFromApi,
} from "./discover.js";
import { writeFixtureTree } from "./fixture-tree.js";
import type { CgroupDriver, CgroupLayout, ContainerRuntime, QosClass } from "./types.js";

const fixtures = fileURLToPath(new URL("../../test/fixtures/cgroup/", import.meta.url));
const ID = "a3f5c7e9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a5";
const UID = "5b3e7a9c-2f41-4d8e-b6a0-9c1d2e3f4a5b";
const ESC = UID.replaceAll("-", "_");

describe("classifyPath (pure)", () => {
  test("systemd pod slices of every QoS class are pods, with the escaped uid recovered", () => {
    expect(classifyPath(`kubepods.slice/kubepods-pod${ESC}.slice`)).toEqual({ kind: "pod", podUid: UID, qosClass: "guaranteed", driver: "systemd" });
    expect(classifyPath(`kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${ESC}.slice`)).toEqual({ kind: "pod", podUid: UID, qosClass: "burstable", driver: "systemd" });
    expect(classifyPath(`/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${ESC}.slice/`)).toEqual({ kind: "pod", podUid: UID, qosClass: "besteffort", driver: "systemd" });
  });

  test("cgroupfs pod directories of every QoS class are pods", () => {
    expect(classifyPath(`kubepods/pod${UID}`)).toEqual({ kind: "pod", podUid: UID, qosClass: "guaranteed", driver: "cgroupfs" });
    expect(classifyPath(`kubepods/burstable/pod${UID}`)).toEqual({ kind: "pod", podUid: UID, qosClass: "burstable", driver: "cgroupfs" });
    expect(classifyPath(`kubepods/besteffort/pod${UID}`)).toEqual({ kind: "pod", podUid: UID, qosClass: "besteffort", driver: "cgroupfs" });
  });

  test("containerd, CRI-O and docker scopes are containers of their runtime", () => {
    const pod = `kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${ESC}.slice`;
    for (const [name, runtime] of [
      [`cri-containerd-${ID}.scope`, "containerd"],
      [`crio-${ID}.scope`, "cri-o"],
      [`docker-${ID}.scope`, "docker"],
    ] as const) {
      expect(classifyPath(`${pod}/${name}`)).toEqual({
        kind: "container",
        podUid: UID,
        qosClass: "burstable",
        driver: "systemd",
        containerId: ID,
        runtime,
        podRelPath: pod,
      });
    }
  });

  test("a crio-conmon scope is never mistaken for a container", () => {
    expect(classifyPath(`kubepods.slice/kubepods-pod${ESC}.slice/crio-conmon-${ID}.scope`)).toBeUndefined();
    expect(classifyPath(`kubepods/burstable/pod${UID}/crio-conmon-${ID}`)).toBeUndefined();
  });

  test("cgroupfs containers are bare ids of unknown runtime, or crio-<id> for CRI-O", () => {
    expect(classifyPath(`kubepods/pod${UID}/${ID}`)).toMatchObject({ kind: "container", containerId: ID, runtime: "unknown", qosClass: "guaranteed" });
    expect(classifyPath(`kubepods/besteffort/pod${UID}/crio-${ID}`)).toMatchObject({ kind: "container", containerId: ID, runtime: "cri-o", qosClass: "besteffort" });
  });

  test("a pod slice under the wrong QoS parent is not a pod", () => {
    expect(classifyPath(`kubepods.slice/kubepods-besteffort.slice/kubepods-burstable-pod${ESC}.slice`)).toBeUndefined();
    expect(classifyPath(`kubepods.slice/kubepods-burstable.slice/kubepods-pod${ESC}.slice`)).toBeUndefined();
    expect(classifyPath(`other/burstable/pod${UID}`)).toBeUndefined();
  });

  test("system cgroups and kubepods' own levels are neither pods nor containers", () => {
    for (const p of [
      "",
      "kubepods.slice",
      "kubepods.slice/kubepods-burstable.slice",
      "kubepods",
      "kubepods/burstable",
      "system.slice/containerd.service",
      "init.scope",
      `system.slice/docker-${ID}.scope`,
      `kubepods.slice/kubepods-pod${ESC}.slice/init.scope`,
      `kubepods.slice/kubepods-pod${ESC}.slice/${ID}`,
      `kubepods.slice/kubepods-pod${ESC}.slice/cri-containerd-${ID}.scope/nested`,
    ]) {
      expect(classifyPath(p)).toBeUndefined();
    }
  });

  test("a kubelet --cgroup-root prefix does not hide pods", () => {
    expect(classifyPath(`kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/kubelet-kubepods-burstable-pod${ESC}.slice`)).toMatchObject({ kind: "pod", podUid: UID, qosClass: "burstable" });
    expect(classifyPath(`kubelet/kubepods/pod${UID}/${ID}`)).toMatchObject({ kind: "container", podUid: UID, containerId: ID });
  });

  test("static pods' 32-hex UIDs (no dashes) are recovered too", () => {
    expect(classifyPath("kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod3c5e0fbbb0f2c7e6c3f4d1e8a2b7c9d0.slice")).toMatchObject({ podUid: "3c5e0fbbb0f2c7e6c3f4d1e8a2b7c9d0" });
  });

  test("classifyPath never throws on arbitrary paths", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.constantFrom("kubepods", "kubepods.slice", "burstable", `pod${UID}`, `crio-${ID}.scope`, "..", ".")), { maxLength: 6 }), (segments) => {
        const r = classifyPath(segments.join("/"));
        expect(r === undefined || ["pod", "container"].includes(r.kind)).toBe(true);
      }),
    );
  });
});

describe("API-driven path resolution", () => {
  const uid = fc.uuid();
  const qos = fc.constantFrom<QosClass>("guaranteed", "burstable", "besteffort");
  const driver = fc.constantFrom<CgroupDriver>("systemd", "cgroupfs");
  const runtime = fc.constantFrom<ContainerRuntime>("containerd", "cri-o", "docker");
  const id = fc.stringMatching(/^[0-9a-f]{64}$/);

  test("a resolved pod path classifies back to the same uid, QoS class and driver", () => {
    fc.assert(
      fc.property(uid, qos, driver, (u, q, d) => {
        expect(classifyPath(podCgroupPath(u, q, d))).toEqual({ kind: "pod", podUid: u, qosClass: q, driver: d });
      }),
    );
  });

  test("a resolved container path classifies back to the same container", () => {
    fc.assert(
      fc.property(uid, qos, driver, runtime, id, (u, q, d, r, i) => {
        const pod = podCgroupPath(u, q, d);
        const c = containerCgroupPath(pod, i, r, d);
        // cgroupfs containerd and docker share the bare-id form, so the runtime cannot come back.
        const expectedRuntime = d === "cgroupfs" && r !== "cri-o" ? "unknown" : r;
        expect(c && classifyPath(c)).toEqual({ kind: "container", podUid: u, qosClass: q, driver: d, containerId: i, runtime: expectedRuntime, podRelPath: pod });
      }),
    );
  });

  test("the kubelet's systemd escaping turns every dash of the uid into an underscore", () => {
    expect(podCgroupPath(UID, "burstable", "systemd")).toBe(`kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${ESC}.slice`);
    expect(podCgroupPath(UID, "guaranteed", "cgroupfs")).toBe(`kubepods/pod${UID}`);
  });

  test("an unknown runtime has no predictable systemd scope name", () => {
    expect(containerCgroupPath("kubepods.slice/x", ID, "unknown", "systemd")).toBeUndefined();
    expect(containerCgroupPath("kubepods/x", ID, "unknown", "cgroupfs")).toBe(`kubepods/x/${ID}`);
  });

  test("containerStatuses ids split into runtime and id", () => {
    expect(parseContainerRef(`containerd://${ID}`)).toEqual({ runtime: "containerd", containerId: ID });
    expect(parseContainerRef(`cri-o://${ID}`)).toEqual({ runtime: "cri-o", containerId: ID });
    expect(parseContainerRef(`docker://${ID}`)).toEqual({ runtime: "docker", containerId: ID });
    expect(parseContainerRef(`rkt://${ID}`)).toBeUndefined();
    expect(parseContainerRef("")).toBeUndefined();
  });

  test("API QoS class names map to path QoS classes", () => {
    expect(qosClassFromApi("Guaranteed")).toBe("guaranteed");
    expect(qosClassFromApi("Burstable")).toBe("burstable");
    expect(qosClassFromApi("BestEffort")).toBe("besteffort");
    expect(qosClassFromApi("toString")).toBeUndefined();
  });

  test("discovery walks the cpu controller on v1 and hybrid hosts and the unified root on v2", () => {
    const v2: CgroupLayout = { version: "v2", root: "/r", v1: {}, unified: "/r", psi: true };
    const hybrid: CgroupLayout = { version: "hybrid", root: "/r", v1: { cpu: "/r/cpu", memory: "/r/memory" }, unified: "/r/unified", psi: true };
    const memoryOnly: CgroupLayout = { version: "v1", root: "/r", v1: { memory: "/r/memory" }, psi: false };
    expect([discoveryMount(v2), discoveryMount(hybrid), discoveryMount(memoryOnly)]).toEqual(["/r", "/r/cpu", "/r/memory"]);
  });
});

interface Summary {
  readonly podUid: string;
  readonly qosClass: QosClass;
  readonly containers: readonly string[];
}
function summarise(pods: Awaited<ReturnType<typeof discoverPods>>): Summary[] {
  return pods.map((p) => ({ podUid: p.podUid, qosClass: p.qosClass, containers: p.containers.map((c) => `${c.runtime}:${c.containerId.slice(0, 8)}`) }));
}

describe("discoverPods on fixture trees", () => {
  test("v2 systemd+containerd: three pods, one per QoS class, each with sandbox and app", async () => {
    const pods = await discoverPods(path.join(fixtures, "v2-systemd-containerd"));
    expect(summarise(pods)).toEqual([
      { podUid: "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", qosClass: "besteffort", containers: ["containerd:01234567", "containerd:fedcba98"] },
      { podUid: "d7c6b5a4-3e2f-4a1b-9c8d-7e6f5a4b3c2d", qosClass: "burstable", containers: ["containerd:77aa88bb", "containerd:b2c4d6e8"] },
      { podUid: "5b3e7a9c-2f41-4d8e-b6a0-9c1d2e3f4a5b", qosClass: "guaranteed", containers: ["containerd:4f1e2d3c", "containerd:a3f5c7e9"] },
    ]);
    expect(pods.every((p) => p.driver === "systemd")).toBe(true);
    expect(pods[2]?.containers[1]?.relPath).toBe(
      "kubepods.slice/kubepods-pod5b3e7a9c_2f41_4d8e_b6a0_9c1d2e3f4a5b.slice/cri-containerd-a3f5c7e9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a5.scope",
    );
  });

  test("v2 cgroupfs+CRI-O: conmon cgroups are skipped, every crio container is found", async () => {
    const pods = await discoverPods(path.join(fixtures, "v2-cgroupfs-crio"));
    expect(summarise(pods)).toEqual([
      { podUid: "e5e5e5e5-9abc-4def-8123-456789abcdef", qosClass: "besteffort", containers: ["cri-o:3c4d5e6f"] },
      { podUid: "b0a7b0a7-5678-4cde-9f01-23456789abcd", qosClass: "burstable", containers: ["cri-o:1a2b3c4d", "cri-o:2b3c4d5e"] },
      { podUid: "c0ffee00-1234-4abc-8def-0123456789ab", qosClass: "guaranteed", containers: ["cri-o:9f8e7d6c"] },
    ]);
    expect(pods.flatMap((p) => p.containers).some((c) => c.relPath.includes("conmon"))).toBe(false);
    expect(pods.every((p) => p.driver === "cgroupfs")).toBe(true);
  });

  test("v1 cgroupfs+docker: bare container ids under the co-mounted cpu controller", async () => {
    const pods = await discoverPods(path.join(fixtures, "v1-cgroupfs-docker", "cpu"));
    expect(summarise(pods)).toEqual([
      { podUid: "3d4c5b6a-7988-4a1b-8b0c-2d3e4f5a6b7c", qosClass: "besteffort", containers: ["unknown:cc22dd33", "unknown:e4da3b7f"] },
      { podUid: "2e3d4c5b-6a79-4881-9a0b-1c2d3e4f5a6b", qosClass: "burstable", containers: ["unknown:7d793037", "unknown:bb11cc22"] },
      { podUid: "1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b", qosClass: "guaranteed", containers: ["unknown:5d41402a", "unknown:aa00bb11"] },
    ]);
  });

  test("hybrid (this host's capture): the same relPaths are found under cpu and under unified", async () => {
    const root = path.join(fixtures, "hybrid-systemd-containerd");
    const viaCpu = await discoverPods(path.join(root, "cpu"));
    const viaUnified = await discoverPods(path.join(root, "unified"));
    expect(viaCpu).toEqual(viaUnified);
    expect(summarise(viaCpu)).toEqual([
      { podUid: "0c9e8d7f-6a5b-4c3d-9e2f-1a0b9c8d7e6f", qosClass: "besteffort", containers: ["containerd:e7f6d5c4"] },
      { podUid: "a2d4e6f8-1b3c-4d5e-8f9a-b0c1d2e3f4a5", qosClass: "burstable", containers: ["containerd:c4e1a7b3"] },
      { podUid: "6f1c2b9e-3d4a-4c8e-9b7a-0e5d2f1a8c43", qosClass: "guaranteed", containers: ["containerd:3b2f9c1d", "containerd:9d8c7b6a"] },
    ]);
  });

  test("a mount without kubepods yields no pods rather than an error", async () => {
    expect(await discoverPods(path.join(fixtures, "v1-cgroupfs-docker", "pids"))).toEqual([]);
    expect(await discoverPods("/nonexistent/xander/cgroup")).toEqual([]);
  });
});

describe("discoverPods on generated trees", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "xander-discover-"));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test.each([
    ["systemd", "containerd"],
    ["systemd", "cri-o"],
    ["systemd", "docker"],
    ["cgroupfs", "containerd"],
    ["cgroupfs", "cri-o"],
  ] as const)("every generated pod and container is found with driver %s and runtime %s", async (driver, runtime) => {
    const root = path.join(dir, `${driver}-${runtime}`);
    const tree = await writeFixtureTree(root, { version: "v2", driver, runtime, pods: 12, containersPerPod: 3 });
    const pods = await discoverPods(root);
    const byUid = new Map(pods.map((p) => [p.podUid, p]));
    expect(pods).toHaveLength(12);
    for (const want of tree.pods) {
      const got = byUid.get(want.podUid);
      expect(got?.qosClass).toBe(want.qosClass);
      expect(got?.relPath).toBe(want.relPath);
      expect(got?.containers.map((c) => c.containerId).sort()).toEqual(want.containers.map((c) => c.containerId).sort());
    }
  });

  test("110 pods × 3 containers are all found", async () => {
    const root = path.join(dir, "bench");
    await writeFixtureTree(root, { version: "v2", driver: "systemd", runtime: "containerd", pods: 110, containersPerPod: 3 });
    const pods = await discoverPods(root);
    expect(pods).toHaveLength(110);
    expect(pods.reduce((n, p) => n + p.containers.length, 0)).toBe(330);
  });
});
