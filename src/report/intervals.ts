/**
 * Starved time: how long a pod spent in at least one incident. Two incidents on one pod at once (CPU
 * throttling while memory is near its limit) are one starved stretch, so intervals are merged, never
 * summed. Pure.
 */
import type { Incident } from "../analysis/incident.js";
import { incidentPodName } from "../analysis/incident.js";

export interface Interval {
  readonly startMs: number;
  readonly endMs: number;
}

/**
 * An incident's interval. An open one runs to `nowMs`, as its duration does, unless its node is stale:
 * then nothing is known past its last-seen time.
 */
export function incidentInterval(incident: Incident, nowMs: number, staleNodes: ReadonlySet<string> = NONE): Interval {
  const openEndMs = staleNodes.has(incident.node) ? incident.lastSeenMs : nowMs;
  return { startMs: incident.startMs, endMs: Math.max(incident.startMs, incident.endMs ?? openEndMs) };
}

const NONE: ReadonlySet<string> = new Set();

/** Milliseconds covered by the union of `intervals`, counting only what falls within [fromMs, toMs]. */
export function unionMs(intervals: readonly Interval[], fromMs: number, toMs: number): number {
  const clipped = intervals
    .map((i) => ({ startMs: Math.max(i.startMs, fromMs), endMs: Math.min(i.endMs, toMs) }))
    .filter((i) => i.endMs > i.startMs)
    .sort((a, b) => a.startMs - b.startMs);
  let total = 0;
  let run: { startMs: number; endMs: number } | undefined;
  for (const i of clipped) {
    if (run !== undefined && i.startMs <= run.endMs) {
      run.endMs = Math.max(run.endMs, i.endMs);
      continue;
    }
    if (run !== undefined) total += run.endMs - run.startMs;
    run = { ...i };
  }
  return run === undefined ? total : total + run.endMs - run.startMs;
}

/** Starved milliseconds per pod ("namespace/name") within [fromMs, toMs]; node-level incidents are left out. */
export function starvedMsByPod(
  incidents: readonly Incident[],
  fromMs: number,
  toMs: number,
  nowMs: number,
  staleNodes: ReadonlySet<string> = NONE,
): Map<string, number> {
  const byPod = new Map<string, Interval[]>();
  for (const incident of incidents) {
    const pod = incidentPodName(incident);
    if (pod === undefined) continue;
    const list = byPod.get(pod) ?? [];
    list.push(incidentInterval(incident, nowMs, staleNodes));
    byPod.set(pod, list);
  }
  return new Map([...byPod].map(([pod, list]) => [pod, unionMs(list, fromMs, toMs)]));
}

/**
 * Whether an incident was open at any time within [fromMs, toMs]. Unlike matchesIncident, an open incident
 * on a stale node counts only up to its last sighting.
 */
export function overlaps(incident: Incident, fromMs: number, toMs: number, nowMs: number, staleNodes: ReadonlySet<string> = NONE): boolean {
  const i = incidentInterval(incident, nowMs, staleNodes);
  return i.startMs <= toMs && i.endMs >= fromMs;
}
