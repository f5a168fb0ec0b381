import type { CgroupSandbox, SandboxPod, SandboxPodSpec } from "../demo/sandbox.js";

/** The node the benchmarks model: the kubelet's default pod limit, three containers each. */
export const PODS = 110;
export const CONTAINERS_PER_POD = 3;

/** The i-th bench pod: a third BestEffort, the rest Burstable, each with a 256 MiB memory limit. */
export function benchPodSpec(i: number, uid?: string): SandboxPodSpec {
  return {
    name: `bench-${i}`,
    qosClass: i % 3 === 0 ? "besteffort" : "burstable",
    containers: CONTAINERS_PER_POD,
    memoryLimitBytes: 256 * 1024 * 1024,
    ...(uid === undefined ? {} : { uid }),
  };
}

/** Creates the bench's pod tree in the sandbox's real hierarchies; `uids` gives pods the apiserver's UIDs. */
export function addBenchPods(sandbox: CgroupSandbox, uids: readonly string[] = []): SandboxPod[] {
  return Array.from({ length: PODS }, (_, i) => sandbox.addPod(benchPodSpec(i, uids[i])));
}
