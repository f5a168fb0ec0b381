import type { Incident, IncidentQuery } from "../analysis/incident.js";
import type { Edge } from "../deps/edges.js";
import type { ContainerSample, NodeSample, Target, Tick } from "../sampler/types.js";

/** The slice of a pino logger the store uses; pino's `Logger` satisfies it. */
export interface StoreLogger {
  warn(obj: object, msg: string): void;
}

/** How long each kind of history is kept, measured back from the newest tick's wall clock. */
export interface Retention {
  /** Raw per-tick samples. Must cover at least two minutes, so a minute is still raw when it is rolled up. */
  readonly rawMs: number;
  /** 1-minute rollups, node samples and the targets they name. Must be at least `rawMs`. */
  readonly rollupMs: number;
  /** Closed incidents, counted from their end; open ones are kept however old. Any positive span. */
  readonly incidentMs: number;
}

export interface StoreOptions {
  readonly logger?: StoreLogger;
  readonly retention?: Partial<Retention>;
  /** How long a write waits for another connection's lock before failing. */
  readonly busyTimeoutMs?: number;
  /**
   * When set, a file that cannot be opened (a full disk, an unwritable directory) does not throw: the store
   * starts without it, every call fails with HistoryUnavailableError, and opening is tried again this often.
   * For the agent, which detects from memory and must not crash-loop over its history. A schema from a newer
   * build still throws: waiting does not fix it.
   */
  readonly reopenEveryMs?: number;
}

/** A target as the store remembers it, with when it was first and last seen and when its cgroup vanished. */
export interface StoredTarget extends Target {
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
  readonly goneAtMs?: number;
}

export type Resolution = "raw" | "1m";

/**
 * One minute of one container, shaped like a sample so the same code can chart either.
 * `wallMs` is the end of the minute, `intervalMs` the time the raw samples covered; rates and shares are
 * means weighted by interval; periods, throttled periods and OOM kills are sums; limits are the minute's maximum.
 */
export interface RollupSample extends ContainerSample {
  readonly sampleCount: number;
  readonly cpuCoresMax?: number;
  readonly cpuStallShareMax?: number;
  readonly memoryStallShareMax?: number;
  readonly ioStallShareMax?: number;
  readonly workingSetBytesMax?: number;
}

export type ContainerSeries<S extends ContainerSample> = {
  readonly target: StoredTarget;
  /** Oldest first. */
  readonly points: readonly S[];
};

export type PodSeries =
  | { readonly podUid: string; readonly resolution: "raw"; readonly containers: readonly ContainerSeries<ContainerSample>[] }
  | { readonly podUid: string; readonly resolution: "1m"; readonly containers: readonly ContainerSeries<RollupSample>[] };

export interface StoreStats {
  /** Container samples appended since the database was created (pruned ones included). */
  readonly samplesStored: number;
  readonly rawRows: number;
  readonly rollupRows: number;
  /** Database file plus its write-ahead log, as on disk. */
  readonly fileBytes: number;
}

/** The node-local history: one writer (the agent), queries for windows, charts and status. */
export interface HistoryStore {
  readonly path: string;
  readonly retention: Retention;
  /** Writes a tick's samples, node sample, target upserts and vanished targets in one transaction. */
  appendTick(tick: Tick, targets: readonly Target[]): void;
  /** The containers of one pod since `sinceMs`; "auto" picks raw for short recent spans, else 1-minute rollups. */
  podSeries(podUid: string, sinceMs: number, opts?: { readonly resolution?: Resolution | "auto" }): PodSeries;
  /**
   * Every raw container sample since `sinceMs`, in append (time) order: refills rolling windows after a restart.
   * Samples read back carry every field; a signal the host did not expose is `undefined`.
   */
  latestWindow(sinceMs: number): ContainerSample[];
  nodeSeries(sinceMs: number): NodeSample[];
  targets(): StoredTarget[];
  /**
   * Upserts the edges one dependency poll saw, in one transaction: counts and lastSeen are the newest,
   * firstSeen the earliest, peak the largest. Edges last seen before the rollup retention are dropped.
   */
  appendEdges(edges: readonly Edge[]): void;
  /** Edges last seen at or after `sinceMs`, most recently seen first. */
  edges(sinceMs: number): Edge[];
  /** Inserts incidents, or replaces those already stored under the same id, in one transaction. */
  upsertIncidents(incidents: readonly Incident[]): void;
  /** Incidents that overlap [sinceMs, untilMs) and match the query's filters, newest first; at most `limit` (1000). */
  incidents(query: IncidentQuery): Incident[];
  /** Incidents not yet closed, newest first: the agent resumes them after a restart. */
  openIncidents(): Incident[];
  stats(): StoreStats;
  /** Flushes last-seen times, checkpoints and truncates the write-ahead log, and closes the file. */
  close(): void;
}
