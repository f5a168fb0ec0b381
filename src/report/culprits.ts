/**
 * Noisy neighbours over a report's span: who was named culprit, for how much of whose starved time, and
 * what it used while its victims starved. Pure.
 */
import type { Incident } from "../analysis/incident.js";
import type { PodHistory } from "../api/history.js";
import { workloadRef, type OwnerOf } from "./cluster.js";
import { containerStats, pointsWithin, seriesByContainer } from "./stats.js";
import type { AdviseCulprit, BlameView, ContainerAdvice, CulpritReport, WorkloadRef } from "./types.js";
import type { Interval } from "./intervals.js";

/** One culprit named in one incident. */
export interface Blame {
  readonly culprit: WorkloadRef;
  /** "namespace/name" of the culprit pod; its uid when the name is not known. */
  readonly culpritPod: string;
  readonly victim: WorkloadRef;
  readonly interval: Interval;
  /** The incident's time within the span, times the culprit's share of it. */
  readonly blamedMs: number;
  readonly score: number;
  /** "namespace/name" of the starved pod. */
  readonly victimPod: string;
  /** The incident's peak stall share (CPUStarvation's value): what to fall back on without the victim's series. */
  readonly peakStallShare: number;
}

/** Every culprit of `incident` (a neighbour on its node), with the time the incident spent within the span (`interval`, clipped). */
export function blamesOf(incident: Incident, victim: WorkloadRef, interval: Interval, ownerOf: OwnerOf): Blame[] {
  const durationMs = Math.max(0, interval.endMs - interval.startMs);
  return incident.culprits.map((c) => {
    const { namespace = "", name } = c.pod;
    const culpritPod = name === undefined ? c.pod.uid : `${namespace}/${name}`;
    const culprit = workloadRef(namespace, name ?? c.pod.uid, name === undefined ? undefined : ownerOf(incident.node, culpritPod));
    const victimPod = `${incident.pod.namespace ?? ""}/${incident.pod.name ?? incident.pod.uid}`;
    return { culprit, culpritPod, victim, interval, blamedMs: durationMs * c.share, score: c.score, victimPod, peakStallShare: incident.rule === "CPUStarvation" ? incident.peakValue : 0 };
  });
}

/** A victim workload's culprits, most blamed time first. */
export function blameViews(blames: readonly Blame[]): BlameView[] {
  const byKey = new Map<string, { ref: WorkloadRef; blamedMs: number; maxScore: number; incidents: number }>();
  for (const b of blames) {
    const entry = byKey.get(b.culprit.key) ?? { ref: b.culprit, blamedMs: 0, maxScore: 0, incidents: 0 };
    entry.blamedMs += b.blamedMs;
    entry.maxScore = Math.max(entry.maxScore, b.score);
    entry.incidents++;
    byKey.set(b.culprit.key, entry);
  }
  return [...byKey.values()]
    .map((e) => ({ ...e.ref, blamedMs: Math.round(e.blamedMs), maxScore: e.maxScore, incidents: e.incidents }))
    .sort((a, b) => b.blamedMs - a.blamedMs || b.maxScore - a.maxScore || a.key.localeCompare(b.key));
}

/**
 * How much of the time the victims' tasks waited for a CPU while this culprit was blamed: the mean CPU stall
 * share of their series within the blamed intervals, or, without their series, the incidents' peaks
 * weighted by blamed time (an upper bound).
 */
function victimStallShare(list: readonly Blame[], histories: ReadonlyMap<string, readonly PodHistory[]>): number {
  let weighted = 0;
  let weight = 0;
  const points = list.flatMap((b) => seriesByContainer(histories.get(b.victimPod) ?? []).flatMap((series) => pointsWithin(series.points, [b.interval])));
  for (const point of points) {
    if (point.cpuStallShare === undefined) continue;
    weighted += point.cpuStallShare * point.intervalMs;
    weight += point.intervalMs;
  }
  if (weight > 0) return weighted / weight;
  const blamed = list.reduce((sum, b) => sum + b.blamedMs, 0);
  return blamed > 0 ? list.reduce((sum, b) => sum + b.peakStallShare * b.blamedMs, 0) / blamed : 0;
}

function usageDuring(
  culprit: WorkloadRef,
  pods: readonly string[],
  intervals: readonly Interval[],
  victims: readonly string[],
  blamedMs: number,
  stallShare: number,
  histories: ReadonlyMap<string, readonly PodHistory[]>,
  advise: AdviseCulprit | undefined,
): ContainerAdvice[] {
  const own = pods.flatMap((p) => histories.get(p) ?? []);
  return seriesByContainer(own)
    .map((series) => ({ ...series, points: pointsWithin(series.points, intervals) }))
    .filter((series) => series.points.length > 0)
    .map((series) => {
      const stats = containerStats(series);
      const advice = advise?.({ ...stats, namespace: culprit.namespace, workload: culprit.workload, victims, blamedMs, victimStallShare: stallShare }) ?? [];
      return { container: series.container, stats, advice };
    });
}

/** Culprit workloads, most blamed time first, each with its usage while its victims starved. */
export function culpritReports(blames: readonly Blame[], histories: ReadonlyMap<string, readonly PodHistory[]>, advise: AdviseCulprit | undefined): CulpritReport[] {
  const byKey = new Map<string, Blame[]>();
  for (const b of blames) {
    const list = byKey.get(b.culprit.key) ?? [];
    list.push(b);
    byKey.set(b.culprit.key, list);
  }
  const reports = [...byKey.values()].map((list): CulpritReport => {
    const first = list[0] as Blame;
    const victims = new Map<string, { key: string; incidents: number; blamedMs: number }>();
    for (const b of list) {
      const v = victims.get(b.victim.key) ?? { key: b.victim.key, incidents: 0, blamedMs: 0 };
      v.incidents++;
      v.blamedMs += b.blamedMs;
      victims.set(b.victim.key, v);
    }
    const blamedMs = Math.round(list.reduce((sum, b) => sum + b.blamedMs, 0));
    const victimList = [...victims.values()].map((v) => ({ ...v, blamedMs: Math.round(v.blamedMs) })).sort((a, b) => b.blamedMs - a.blamedMs || a.key.localeCompare(b.key));
    const pods = [...new Set(list.map((b) => b.culpritPod))].sort();
    const intervals = list.map((b) => b.interval);
    const victimKeys = victimList.map((v) => v.key);
    return {
      ...first.culprit,
      pods,
      blamedMs,
      maxScore: Math.max(...list.map((b) => b.score)),
      victims: victimList,
      containers: usageDuring(first.culprit, pods, intervals, victimKeys, blamedMs, victimStallShare(list, histories), histories, advise),
    };
  });
  return reports.sort((a, b) => b.blamedMs - a.blamedMs || b.maxScore - a.maxScore || a.key.localeCompare(b.key));
}
