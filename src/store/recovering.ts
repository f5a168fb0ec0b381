/**
 * A history store that survives its file going bad while it runs. The open path already moves a corrupt
 * file aside at start (open.ts); this does the same for corruption found later, by any call: it drops the
 * handle, moves the file aside (kept for inspection, as at start), opens a fresh history in its place and
 * retries the call once. Detection never depended on the file (the rolling windows live in memory), so the
 * agent loses only history that was already unreadable, and never stops writing.
 *
 * A disk that keeps producing corrupt pages would otherwise leave a new `.corrupt-*` file behind every tick:
 * after one recovery, corruption within RECOVERY_INTERVAL_MS is thrown to the caller (which logs and carries
 * on) instead of being recovered again.
 *
 * With `reopenEveryMs`, a file that cannot be opened at all (a full disk at start, an unwritable directory) is
 * not fatal either: the store runs without it, each call throws HistoryUnavailableError naming the file and the
 * cause, and the next call after `reopenEveryMs` tries to open it again.
 */
import type { Incident, IncidentQuery } from "../analysis/incident.js";
import type { Edge } from "../deps/edges.js";
import type { ContainerSample, NodeSample, Target, Tick } from "../sampler/types.js";
import { SchemaTooNewError } from "./migrations.js";
import { isCorruption, messageOf, moveAside } from "./open.js";
import type { HistoryStore, PodSeries, Resolution, Retention, StoreLogger, StoreStats, StoredTarget } from "./types.js";

export const RECOVERY_INTERVAL_MS = 10 * 60_000;

/** A history on one file that can be dropped without closing it, once the file is unreadable. */
export interface AbandonableStore extends HistoryStore {
  /** Closes the file without writing anything: for a file that has become unreadable. */
  abandon(): void;
}

/** The history file is not open: it could not be opened, and the next try is not due yet. */
export class HistoryUnavailableError extends Error {
  constructor(
    readonly path: string,
    cause: unknown,
    reopenEveryMs: number,
  ) {
    super(`history store ${path} is not open (${messageOf(cause)}); trying to open it every ${Math.ceil(reopenEveryMs / 1000)} s`, { cause });
    this.name = "HistoryUnavailableError";
  }
}

export interface RecoveringOptions {
  readonly path: string;
  readonly retention: Retention;
  /** Undefined: a failing open throws, from the constructor on. */
  readonly reopenEveryMs?: number;
  readonly now?: () => number;
}

const EMPTY_STATS: StoreStats = { samplesStored: 0, rawRows: 0, rollupRows: 0, fileBytes: 0 };

export class RecoveringHistoryStore implements HistoryStore {
  private inner: AbandonableStore | undefined;
  private lastRecoveryMs = Number.NEGATIVE_INFINITY;
  private openError: unknown;
  private nextOpenMs = Number.NEGATIVE_INFINITY;
  private lastStats: StoreStats = EMPTY_STATS;
  private readonly now: () => number;

  constructor(
    private readonly open: () => AbandonableStore,
    private readonly logger: StoreLogger,
    private readonly options: RecoveringOptions,
  ) {
    this.now = options.now ?? Date.now;
    if (options.reopenEveryMs === undefined) this.inner = open();
    else this.tryOpen();
  }

  get path(): string {
    return this.options.path;
  }

  get retention(): Retention {
    return this.options.retention;
  }

  /** Whether the file is open now (it may still fail to be written). */
  get isOpen(): boolean {
    return this.inner !== undefined;
  }

  appendTick(tick: Tick, targets: readonly Target[]): void {
    this.guard((store) => {
      store.appendTick(tick, targets);
    });
  }

  podSeries(podUid: string, sinceMs: number, opts?: { readonly resolution?: Resolution | "auto" }): PodSeries {
    return this.guard((store) => store.podSeries(podUid, sinceMs, opts));
  }

  latestWindow(sinceMs: number): ContainerSample[] {
    return this.guard((store) => store.latestWindow(sinceMs));
  }

  nodeSeries(sinceMs: number): NodeSample[] {
    return this.guard((store) => store.nodeSeries(sinceMs));
  }

  targets(): StoredTarget[] {
    return this.guard((store) => store.targets());
  }

  appendEdges(edges: readonly Edge[]): void {
    this.guard((store) => {
      store.appendEdges(edges);
    });
  }

  edges(sinceMs: number): Edge[] {
    return this.guard((store) => store.edges(sinceMs));
  }

  upsertIncidents(incidents: readonly Incident[]): void {
    this.guard((store) => {
      store.upsertIncidents(incidents);
    });
  }

  incidents(query: IncidentQuery): Incident[] {
    return this.guard((store) => store.incidents(query));
  }

  openIncidents(): Incident[] {
    return this.guard((store) => store.openIncidents());
  }

  /** The last stats read while the file was open: status keeps its count while the history is away. */
  stats(): StoreStats {
    if (this.options.reopenEveryMs !== undefined && this.inner === undefined) return this.lastStats;
    this.lastStats = this.guard((store) => store.stats());
    return this.lastStats;
  }

  close(): void {
    const inner = this.inner;
    if (inner === undefined) return;
    try {
      inner.close();
    } catch (error) {
      // Nothing more can be written to it. A corrupt file is moved aside by the next start; on a full disk the
      // last ticks stay in the WAL, which the next open replays.
      inner.abandon();
      if (!isCorruption(error)) this.logger.warn({ path: this.path, error: messageOf(error) }, `could not close the history store ${this.path} cleanly (${messageOf(error)})`);
    }
  }

  private guard<T>(call: (store: AbandonableStore) => T): T {
    const inner = this.inner ?? this.reopen();
    try {
      return call(inner);
    } catch (error) {
      if (!isCorruption(error) || this.now() - this.lastRecoveryMs < RECOVERY_INTERVAL_MS) throw error;
      return call(this.recover(inner, error));
    }
  }

  /** Opens the file if a try is due; throws HistoryUnavailableError when it is not open after that. */
  private reopen(): AbandonableStore {
    if (this.now() >= this.nextOpenMs) this.tryOpen();
    if (this.inner !== undefined) return this.inner;
    throw new HistoryUnavailableError(this.path, this.openError, this.options.reopenEveryMs ?? 0);
  }

  private tryOpen(): void {
    const reopenEveryMs = this.options.reopenEveryMs ?? 0;
    const failedBefore = this.openError !== undefined;
    try {
      this.inner = this.open();
      this.openError = undefined;
      if (failedBefore) this.logger.warn({ path: this.path }, `history store ${this.path} is open again; ticks are written to it from now on`);
    } catch (error) {
      if (error instanceof SchemaTooNewError) throw error;
      this.openError = error;
      this.nextOpenMs = this.now() + reopenEveryMs;
      this.logger.warn(
        { path: this.path, error: messageOf(error), retryInMs: reopenEveryMs },
        `cannot open the history store ${this.path} (${messageOf(error)}); running without history, detection continues, trying again in ${Math.ceil(reopenEveryMs / 1000)} s`,
      );
    }
  }

  private recover(inner: AbandonableStore, error: unknown): AbandonableStore {
    const path = inner.path;
    this.lastRecoveryMs = this.now();
    inner.abandon();
    const movedTo = moveAside(path, new Date(this.lastRecoveryMs));
    this.logger.warn(
      { path, movedTo, error: messageOf(error) },
      `history store ${path} became unreadable (${messageOf(error)}); moved it aside to ${movedTo} and started a fresh history`,
    );
    this.inner = undefined;
    this.inner = this.open();
    return this.inner;
  }
}
