/**
 * The JSON shapes of a node's history as its agent serves it (`GET /api/v1/history/...`) and as the CLI
 * and the controller's read API consume it. Times are RFC 3339; shares are 0..1; bytes and cores are plain
 * numbers. These shapes are part of the documented API: add fields, never change or remove one.
 */

/** One point of a container's series: a raw sample, or a 1-minute rollup (with its maxima). */
export interface SeriesPoint {
  readonly t: string;
  readonly intervalMs: number;
  readonly cpuCores?: number;
  /** The largest per-sample value within a rollup; equal to cpuCores for a raw point. */
  readonly cpuCoresMax?: number;
  readonly cpuLimitCores?: number | null;
  readonly throttleRatio?: number;
  readonly cpuStallShare?: number;
  readonly memoryStallShare?: number;
  readonly ioStallShare?: number;
  readonly workingSetBytes?: number;
  readonly workingSetBytesMax?: number;
  readonly memoryLimitBytes?: number | null;
  readonly oomKills: number;
}

export interface ContainerHistory {
  readonly name?: string;
  readonly containerId: string;
  /** Oldest first. */
  readonly points: readonly SeriesPoint[];
}

/** `GET /api/v1/history/pods/{namespace}/{name}?since=1h` on the agent of the pod's node. */
export interface PodHistory {
  readonly node: string;
  readonly pod: { readonly namespace: string; readonly name: string; readonly uid: string };
  readonly resolution: "raw" | "1m";
  readonly since: string;
  readonly containers: readonly ContainerHistory[];
}

export interface IncidentCulpritJson {
  readonly namespace?: string;
  readonly name?: string;
  readonly uid: string;
  readonly score: number;
  readonly share: number;
}

/** An incident on the wire: `GET /api/v1/history/incidents` (agent) and `/api/v1/incidents` (controller). */
export interface IncidentJson {
  readonly id: string;
  readonly node: string;
  readonly rule: string;
  readonly severity: string;
  readonly policy?: string;
  readonly pod?: { readonly namespace?: string; readonly name?: string; readonly uid: string };
  readonly container?: string;
  readonly workload?: string;
  readonly start: string;
  /** Absent while the incident is open. */
  readonly end?: string;
  readonly lastSeen: string;
  readonly durationMs: number;
  readonly peak: number;
  readonly peakAt: string;
  readonly threshold: number;
  readonly culprits: readonly IncidentCulpritJson[];
  readonly callers: readonly string[];
  readonly evidence: Readonly<Record<string, string | number>>;
  readonly message: string;
}

/** `GET /api/v1/history/incidents?since=24h&namespace=&rule=&pod=ns/name` on an agent. */
export interface IncidentList {
  readonly node: string;
  readonly since: string;
  /** Newest first, at most the agent's cap (`limit`). */
  readonly incidents: readonly IncidentJson[];
  /** The most incidents the agent answers at once. */
  readonly limit?: number;
  /** More incidents matched than `limit`: the oldest were left out. Absent from older agents. */
  readonly truncated?: boolean;
}
