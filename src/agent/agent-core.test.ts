import type { Finding } from "../analysis/types.js";
import { nodePolicy, policyFor, samplingFor } from "./bindings.js";
import { KubeError } from "../kube/errors.js";
import { eventName, eventNote, FindingEvents, worthAnEvent } from "./events.js";
import { detectDriver, nodePodFromApi, resolveTargets } from "./pods.js";
import { writeReason } from "./reporter.js";
import { matchesSelector } from "./selector.js";
import { buildStatus, materialFingerprint, nodeFinding } from "./status.js";
import { silentLogger } from "../util/log.js";
import { policy, starvedFinding } from "./testing.js";

const finding = starvedFinding;

describe("label selectors", () => {
  it.each([
    [{ matchLabels: { app: "web" } }, { app: "web", tier: "x" }, true],
    [{ matchLabels: { app: "web" } }, { app: "db" }, false],
    [{ matchExpressions: [{ key: "tier", operator: "In" as const, values: ["a", "b"] }] }, { tier: "b" }, true],
    [{ matchExpressions: [{ key: "tier", operator: "NotIn" as const, values: ["a"] }] }, {}, true],
    [{ matchExpressions: [{ key: "tier", operator: "Exists" as const }] }, {}, false],
    [{ matchExpressions: [{ key: "tier", operator: "DoesNotExist" as const }] }, {}, true],
    [undefined, { any: "thing" }, true],
  ])("%j matches %j: %s", (selector, labels, expected) => {
    expect(matchesSelector(selector, labels)).toBe(expected);
  });
});

describe("policy bindings", () => {
  const everywhere = policy("default");
  const shop = policy("shop-only", { selector: { namespaceSelector: { matchLabels: { team: "shop" } } } });
  const critical = policy("critical-pods", { selector: { podSelector: { matchLabels: { tier: "critical" } } } });

  it("the most specific matching policy governs a pod, and excluded namespaces get none", () => {
    const pod = { namespace: "shop", labels: { tier: "critical" } };
    expect(policyFor(pod, { team: "shop" }, [everywhere, shop, critical])?.name).toBe("critical-pods");
    expect(policyFor({ namespace: "shop", labels: {} }, { team: "shop" }, [everywhere, shop, critical])?.name).toBe("shop-only");
    expect(policyFor({ namespace: "other", labels: {} }, {}, [shop, critical])).toBeUndefined();
    expect(policyFor({ namespace: "kube-system", labels: {} }, {}, [everywhere])).toBeUndefined();
  });

  it("node rules follow the broadest policy; sampling takes the shortest interval and longest window", () => {
    const fast = policy("fast", { sampling: { interval: "500ms", window: "20s" } });
    expect(nodePolicy([critical, everywhere])?.name).toBe("default");
    expect(samplingFor([everywhere, fast], { intervalMs: 9, windowMs: 9 })).toEqual({ intervalMs: 500, windowMs: 20000 });
    expect(samplingFor([], { intervalMs: 9, windowMs: 9 })).toEqual({ intervalMs: 9, windowMs: 9 });
  });
});

describe("pods to cgroups", () => {
  const apiPod = {
    metadata: { uid: "1234-5678", name: "orders", namespace: "shop", labels: { app: "orders" } },
    spec: { nodeName: "n1" },
    status: { phase: "Running", qosClass: "Burstable", podIP: "10.244.0.5", containerStatuses: [{ name: "api", containerID: "containerd://abc123def456" }, { name: "starting" }] },
  };

  it("maps uid, qosClass and containerID to the kubelet's cgroup path, and skips finished pods", () => {
    const pod = nodePodFromApi(apiPod);
    expect(pod?.containers).toEqual([{ name: "api", containerId: "abc123def456", runtime: "containerd", running: false }]);
    const resolution = resolveTargets([pod!], [], "systemd", (path) => path === "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234_5678.slice/cri-containerd-abc123def456.scope");
    expect(resolution.targets).toEqual([
      expect.objectContaining({ key: "1234-5678/abc123def456", podName: "orders", namespace: "shop", containerName: "api" }),
    ]);
    expect(nodePodFromApi({ ...apiPod, status: { ...apiPod.status, phase: "Succeeded" } })).toBeUndefined();
  });

  it("says why each pod is not sampled: no statuses yet, no containerID yet, or an ID of no known runtime", () => {
    const at = (name: string, containerStatuses?: { name: string; containerID?: string }[]): ReturnType<typeof nodePodFromApi> =>
      nodePodFromApi({ metadata: { uid: name, name, namespace: "shop" }, status: { phase: "Pending", qosClass: "BestEffort", ...(containerStatuses ? { containerStatuses } : {}) } });
    const pods = [at("fresh"), at("creating", [{ name: "api", containerID: "" }]), at("odd", [{ name: "api", containerID: "rkt://0123" }, { name: "side", containerID: "containerd://" }])];
    const { targets, unsampled } = resolveTargets(pods.map((p) => p!), [], "cgroupfs", () => true);
    expect(targets).toEqual([]);
    expect(unsampled).toEqual([
      { pod: "shop/fresh", reasons: ["no container statuses yet"], unknownRuntime: false },
      { pod: "shop/creating", reasons: ["container api has no containerID yet"], unknownRuntime: false },
      {
        pod: "shop/odd",
        reasons: ['container api has containerID "rkt://0123", not containerd://, cri-o:// or docker://<id>', 'container side has containerID "containerd://", not containerd://, cri-o:// or docker://<id>'],
        unknownRuntime: true,
      },
    ]);
  });

  it("counts a running container without a cgroup as awaiting one, and a waiting or exited one not", () => {
    const withState = (state: Record<string, unknown>) =>
      nodePodFromApi({ ...apiPod, status: { ...apiPod.status, containerStatuses: [{ name: "api", containerID: "containerd://abc123def456", state }] } })!;
    const running = withState({ running: { startedAt: "2026-12-03T22:00:00Z" } });
    const crashLooping = withState({ waiting: { reason: "CrashLoopBackOff" } });
    const exited = withState({ terminated: { exitCode: 0, reason: "Completed" } });
    expect(running.containers[0]?.running).toBe(true);
    expect(resolveTargets([running], [], "systemd", () => false).awaitingCgroup).toBe(1);
    expect(resolveTargets([running], [], "systemd", () => true).awaitingCgroup).toBe(0);
    expect(resolveTargets([crashLooping], [], "systemd", () => false).awaitingCgroup).toBe(0);
    expect(resolveTargets([crashLooping], [], "systemd", () => false).unsampled).toHaveLength(1);
    expect(resolveTargets([exited], [], "systemd", () => false).awaitingCgroup).toBe(0);
  });

  it("falls back to the tree walk when the computed path does not exist", () => {
    const pod = nodePodFromApi(apiPod)!;
    const walked = [{ podUid: "1234-5678", qosClass: "burstable" as const, driver: "cgroupfs" as const, relPath: "custom/pod1234-5678", containers: [{ containerId: "abc123def456", runtime: "unknown" as const, relPath: "custom/pod1234-5678/abc123def456" }] }];
    const resolution = resolveTargets([pod], walked, detectDriver(walked), () => false);
    expect(resolution.targets[0]?.relPath).toBe("custom/pod1234-5678/abc123def456");
    expect(resolveTargets([pod], [], "systemd", () => false).unsampled).toEqual([
      {
        pod: "shop/orders",
        reasons: [
          "container starting has no containerID yet",
          "container api has no cgroup at kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234_5678.slice/cri-containerd-abc123def456.scope nor one in the cgroup tree",
        ],
        unknownRuntime: false,
      },
    ]);
  });
});

describe("NodeFindings status", () => {
  it("carries the culprit and string evidence, and bounds the list keeping the most severe", () => {
    const entry = nodeFinding(finding);
    expect(entry.culprit).toEqual({ uid: "u2", namespace: "batch", name: "cruncher", score: 0.9 });
    expect(entry.evidence).toEqual({ ownCores: "0.05", culprit: "batch/cruncher used 1.9 cores" });
    expect(entry.window).toBe("5s");
    const critical: Finding = { ...finding, rule: "OOMKill", severity: "critical", culprit: undefined };
    const status = buildStatus({ findings: [critical, finding], agent: { version: "1", cgroupLayout: "v2", pods: 3, samplesStored: 10 }, maxFindings: 1 });
    expect(status.findings?.map((f) => f.rule)).toEqual(["OOMKill"]);
    expect(status.summary).toEqual({ critical: 1, warning: 1, topRisk: "OOMKill shop/orders" });
  });

  it("a value moving is not a material change; a new culprit is", () => {
    const base = materialFingerprint([finding]);
    expect(materialFingerprint([{ ...finding, value: 0.9, lastSeenMs: 99 }])).toBe(base);
    expect(materialFingerprint([{ ...finding, culprit: { ...finding.culprit!, pod: { uid: "u3" } } }])).not.toBe(base);
    expect(materialFingerprint([])).not.toBe(base);
  });
});

describe("status write pacing", () => {
  const timing = { heartbeatMs: 60_000, minIntervalMs: 5_000 };
  it("writes first, on material change after minInterval, and at the heartbeat", () => {
    expect(writeReason({}, "a", 0, timing)).toBe("first");
    expect(writeReason({ lastWriteMs: 0, lastFingerprint: "a" }, "b", 4_000, timing)).toBeUndefined();
    expect(writeReason({ lastWriteMs: 0, lastFingerprint: "a" }, "b", 5_000, timing)).toBe("change");
    expect(writeReason({ lastWriteMs: 0, lastFingerprint: "a" }, "a", 59_000, timing)).toBeUndefined();
    expect(writeReason({ lastWriteMs: 0, lastFingerprint: "a" }, "a", 60_000, timing)).toBe("heartbeat");
    expect(writeReason({ lastWriteMs: 0, lastFingerprint: "a", retryAtMs: 70_000 }, "b", 65_000, timing)).toBeUndefined();
  });
});

describe("finding events", () => {
  it("one Event per finding, naming the culprit, not one per tick", async () => {
    const created: unknown[] = [];
    const events = new FindingEvents({ create: (obj) => { created.push(obj); return Promise.resolve(obj); } }, "n1", silentLogger());
    expect(await events.raised([{ item: finding, atMs: 1000 }], 1000)).toEqual({ emitted: 1, retry: [] });
    expect(await events.raised([{ item: finding, atMs: 2000 }], 2000)).toEqual({ emitted: 0, retry: [] });
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ reason: "CPUStarvation", type: "Warning", regarding: { kind: "Pod", name: "orders", namespace: "shop", uid: "u1" }, related: { name: "cruncher" } });
    expect(eventNote(finding)).toMatch(/Culprit: batch\/cruncher \(score 0.9\)/);
    expect(worthAnEvent({ ...finding, pod: { uid: "node" } })).toBe(false);
  });

  it("an Event the API server could not take is handed back, then created late with its own time, saying so", async () => {
    const created: { eventTime: string; note: string; metadata: { name: string } }[] = [];
    let reachable = false;
    const api = {
      create: <T,>(obj: T): Promise<T> => {
        if (!reachable) return Promise.reject(new Error("connect ECONNREFUSED 10.96.0.1:443"));
        created.push(obj as unknown as (typeof created)[number]);
        return Promise.resolve(obj);
      },
    };
    const events = new FindingEvents(api, "n1", silentLogger());
    const queued = [{ item: finding, atMs: Date.parse("2026-01-01T00:00:00Z") }];
    const down = await events.raised(queued, queued[0]!.atMs + 1000);
    expect(down).toEqual({ emitted: 0, retry: queued });
    reachable = true;
    const back = await events.raised(down.retry, queued[0]!.atMs + 5 * 60_000);
    expect(back).toEqual({ emitted: 1, retry: [] });
    expect(created[0]?.eventTime).toBe("2026-01-01T00:00:00.000000Z");
    expect(created[0]?.note).toMatch(/reported 5m late, the API server could not be reached\)$/);
    expect(created[0]?.note.length).toBeLessThanOrEqual(1024);
  });

  it("a pod named at the 253-character maximum still gets an Event named within it, ending in its hash", async () => {
    const longName = `web.${"a".repeat(235)}.${"b".repeat(13)}`;
    expect(longName).toHaveLength(253);
    const name = eventName(longName, "0123456789ab");
    expect(name.length).toBeLessThanOrEqual(253);
    // The cut fell on a dot: no ".." before the hash.
    expect(name).toBe(`web.${"a".repeat(235)}.0123456789ab`);
    expect(eventName("orders", "0123456789ab")).toBe("orders.0123456789ab");
    const created: { metadata: { name: string } }[] = [];
    const events = new FindingEvents({ create: (obj) => { created.push(obj as unknown as (typeof created)[number]); return Promise.resolve(obj); } }, "n1", silentLogger());
    await events.raised([{ item: { ...finding, pod: { ...finding.pod, name: longName } }, atMs: 1 }], 1);
    expect(created[0]?.metadata.name).toMatch(/^web\.a+\.[0-9a-f]{12}$/);
    expect(created[0]?.metadata.name.length).toBeLessThanOrEqual(253);
  });

  it("a rejected Event (not transient) is dropped, not retried; a conflict means an earlier try went through", async () => {
    const reject = (status: number) => ({ create: () => Promise.reject(new KubeError("no", status, undefined)) });
    expect(await new FindingEvents(reject(403), "n1", silentLogger()).raised([{ item: finding, atMs: 1 }], 2)).toEqual({ emitted: 0, retry: [] });
    expect(await new FindingEvents(reject(409), "n1", silentLogger()).raised([{ item: finding, atMs: 1 }], 2)).toEqual({ emitted: 1, retry: [] });
    expect((await new FindingEvents(reject(503), "n1", silentLogger()).raised([{ item: finding, atMs: 1 }], 2)).retry).toHaveLength(1);
  });
});
