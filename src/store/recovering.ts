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
 */
import type { Incident, IncidentQuery } from "../analysis/incident.js";
import type { Edge } from "../deps/edges.js";
import type { ContainerSample, NodeSample, Target, Tick } from "../sampler/types.js";
import { isCorruption, messageOf, moveAside } from "./open.js";
import type { HistoryStore, PodSeries, Resolution, Retention, StoreLogger, StoreStats, StoredTarget } from "./types.js";

export const RECOVERY_INTERVAL_MS = 10 * 60_000;

/** A history on one file that can be dropped without closing it, once the file is unreadable. */
export interface AbandonableStore extends HistoryStore {
  /** Closes the file without writing anything: for a file that has become unreadable. */
  abandon(): void;
}

export class RecoveringHistoryStore implements HistoryStore {
  private inner: AbandonableStore;
  private lastRecoveryMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly open: () => AbandonableStore,
    private readonly logger: StoreLogger,
    private readonly now: () => number = Date.now,
  ) {
    this.inner = open();
  }

  get path(): string {
    return this.inner.path;
  }

  get retention(): Retention {
    return this.inner.retention;
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

  stats(): StoreStats {
    return this.guard((store) => store.stats());
  }

  close(): void {
    try {
      this.inner.close();
    } catch (error) {
      if (!isCorruption(error)) throw error;
      this.inner.abandon(); // nothing more can be written to it; the next start moves it aside
    }
  }

  private guard<T>(call: (store: AbandonableStore) => T): T {
    try {
      return call(this.inner);
    } catch (error) {
      if (!isCorruption(error) || this.now() - this.lastRecoveryMs < RECOVERY_INTERVAL_MS) throw error;
      this.recover(error);
      return call(this.inner);
    }
  }

  private recover(error: unknown): void {
    const path = this.inner.path;
    this.lastRecoveryMs = this.now();
    this.inner.abandon();
    const movedTo = moveAside(path, new Date(this.lastRecoveryMs));
    this.logger.warn(
      { path, movedTo, error: messageOf(error) },
      `history store ${path} became unreadable (${messageOf(error)}); moved it aside to ${movedTo} and started a fresh history`,
    );
    this.inner = this.open();
  }
}
