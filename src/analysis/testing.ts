import type { ContainerSample, NodeSample, Tick } from "../sampler/types.js";

/** Builds synthetic ticks for analysis tests and benchmarks: one sample per container per second. */
export function sample(podUid: string, containerId: string, wallMs: number, values: Partial<ContainerSample> = {}): ContainerSample {
  return { key: `${podUid}/${containerId}`, podUid, containerId, wallMs, intervalMs: 1000, oomKills: 0, ...values };
}

export function tick(wallMs: number, containers: ContainerSample[], node?: Partial<NodeSample>, gone: string[] = []): Tick {
  return {
    wallMs,
    containers,
    ...(node ? { node: { wallMs, intervalMs: 1000, ...node } } : {}),
    gone,
    problems: [],
  };
}
