import { sample } from "../analysis/testing.js";
import type { ReadOutcome } from "../cgroup/types.js";
import { NodeEngine } from "../engine/node-engine.js";
import type { Target } from "../sampler/types.js";
import { silentLogger } from "../util/log.js";
import { KubeletOomKills } from "./oom-kills.js";
import { nodePodFromApi, type NodePod } from "./pods.js";

const STARTED_MS = Date.parse("2026-12-01T10:00:00Z");

/** The Pod as the kubelet reports it: instance `running`, and `killed` as an earlier instance an OOM kill ended. */
function pod(running: string, killed?: string, finishedAt = "2026-12-01T10:05:00Z"): NodePod {
  const lastState = killed === undefined ? {} : { lastState: { terminated: { reason: "OOMKilled", containerID: `containerd://${killed}`, finishedAt } } };
  const parsed = nodePodFromApi({
    metadata: { name: "hog-1", namespace: "apps", uid: "u1" },
    status: { phase: "Running", qosClass: "Burstable", containerStatuses: [{ name: "main", containerID: `containerd://${running}`, ...lastState }] },
  });
  if (!parsed) throw new Error("pod not parsed");
  return parsed;
}

describe("OOM kills the kubelet recorded", () => {
  it("reads the killed instance from lastState.terminated, and nothing from other reasons", () => {
    expect(pod("bbb", "aaa").oomKilled).toEqual([{ containerName: "main", containerId: "aaa", finishedAtMs: Date.parse("2026-12-01T10:05:00Z") }]);
    const errored = nodePodFromApi({
      metadata: { name: "p", namespace: "n", uid: "u" },
      status: { containerStatuses: [{ name: "main", containerID: "containerd://b", lastState: { terminated: { reason: "Error", containerID: "containerd://a", finishedAt: "2026-12-01T10:05:00Z" } } }] },
    });
    expect(errored?.oomKilled).toEqual([]);
  });

  it("counts a kill its cgroup did not show once, as a sample of the killed instance", () => {
    const kills = new KubeletOomKills(STARTED_MS);
    // While the kubelet waits out the restart backoff, the status still names the killed instance.
    const first = kills.missed([pod("aaa", "aaa")], [], STARTED_MS + 400_000, 1000);
    expect(first).toEqual([
      {
        sample: { key: "u1/aaa", podUid: "u1", containerId: "aaa", wallMs: STARTED_MS + 400_000, intervalMs: 1000, oomKills: 1 },
        names: { pod: { uid: "u1", namespace: "apps", name: "hog-1" }, containerName: "main" },
      },
    ]);
    // Still in lastState while the next instance runs: not counted again.
    expect(kills.missed([pod("bbb", "aaa")], [], STARTED_MS + 401_000, 1000)).toEqual([]);
  });

  it("does not count a kill twice when a tick read it from the cgroup", () => {
    const kills = new KubeletOomKills(STARTED_MS);
    expect(kills.missed([pod("aaa")], [sample("u1", "aaa", STARTED_MS + 300_000, { oomKills: 1 })], STARTED_MS + 300_000, 1000)).toEqual([]);
    expect(kills.missed([pod("bbb", "aaa")], [], STARTED_MS + 301_000, 1000)).toEqual([]);
  });

  it("leaves kills from before the agent started to the run that saw them", () => {
    const kills = new KubeletOomKills(STARTED_MS);
    expect(kills.missed([pod("bbb", "aaa", "2026-12-01T09:59:00Z")], [], STARTED_MS + 1000, 1000)).toEqual([]);
  });

  it("raises OOMKill on the pod even though the killed container's cgroup is already gone", async () => {
    const target: Target = { key: "u1/aaa", podUid: "u1", containerId: "aaa", relPath: "kubepods/burstable/podu1/aaa", namespace: "apps", podName: "hog-1", containerName: "main" };
    let present = true;
    const engine = new NodeEngine({
      windowMs: 5000,
      nodeCores: 2,
      logger: silentLogger(),
      readCounters: (relPath): ReadOutcome =>
        present ? { kind: "read", counters: { monoMs: Date.now(), wallMs: Date.now(), memoryUsageBytes: 1, oomKills: 0 }, problems: [] } : { kind: "gone", relPath },
    });
    const kills = new KubeletOomKills(STARTED_MS);
    const ticks: Awaited<ReturnType<NodeEngine["tick"]>>[] = [];
    for (let s = 1; s <= 3; s++) ticks.push(await engine.tick([target], STARTED_MS + s * 1000, (sampled) => kills.missed([], sampled.containers, STARTED_MS + s * 1000, 1000)));
    // The kill: the cgroup vanishes before any read shows it; the kubelet's record arrives in the same tick that finds it gone.
    present = false;
    const killed = pod("aaa", "aaa", new Date(STARTED_MS + 3500).toISOString());
    const { tick, analysis } = await engine.tick([target], STARTED_MS + 4000, (sampled) => kills.missed([killed], sampled.containers, STARTED_MS + 4000, 1000));
    expect(tick.gone).toEqual(["u1/aaa"]);
    expect(ticks.flatMap((t) => t.analysis.raised)).toEqual([]);
    expect(analysis.raised).toMatchObject([{ rule: "OOMKill", pod: { uid: "u1", namespace: "apps", name: "hog-1" }, container: "main", value: 1 }]);
  });
});
