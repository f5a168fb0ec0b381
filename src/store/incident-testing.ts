import type { Incident } from "../analysis/incident.js";
import { T0_MS } from "./testing.js";

/** Builders for incident tests and the incidents benchmark. Nothing here reads the host. */

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** A closed CPUStarvation incident of 10 minutes from T0 with every optional field set; `over` replaces fields. */
export function incidentOf(over: Partial<Incident> = {}): Incident {
  return {
    id: "m5x0-0badcafe",
    node: "node-a",
    rule: "CPUStarvation",
    severity: "warning",
    policy: "default",
    pod: { uid: "uid-web-1", namespace: "shop", name: "web-1" },
    container: "app",
    workload: "Deployment/web",
    startMs: T0_MS,
    endMs: T0_MS + 600_000,
    lastSeenMs: T0_MS + 600_000,
    peakValue: 0.62,
    peakAtMs: T0_MS + 120_000,
    threshold: 0.3,
    culprits: [{ pod: { uid: "uid-batch-1", namespace: "batch", name: "etl-1" }, score: 0.8, share: 0.75 }],
    callers: ["Deployment/frontend", "Deployment/api"],
    evidence: { stallShare: 0.62, culpritCores: 1.9, culprit: "batch/etl-1" },
    message: "CPU pressure 62% while not throttled; batch/etl-1 took 1.9 cores",
    ...over,
  };
}

/** The same incident, still open: no end, last seen `lastSeenMs`. */
export function openIncidentOf(over: Partial<Incident> = {}): Incident {
  return without(incidentOf(over), "endMs");
}

/** A copy of `value` without the named fields (absent, not undefined). */
export function without<T extends object, K extends keyof T>(value: T, ...keys: readonly K[]): Omit<T, K> {
  return Object.fromEntries(Object.entries(value).filter(([key]) => !(keys as readonly PropertyKey[]).includes(key))) as Omit<T, K>;
}

/** What JSON makes of a value: drops undefined fields and turns -0 into 0, as a reader of the API sees it. */
export function normalised(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}
