/**
 * Incidents as `xander scan` and the agent keep them: the tracker fed by every tick's analysis, the node
 * history as their record, and the recently closed ones kept in memory for NodeFindings status. A failing history write is logged and
 * detection goes on; the open incidents live in memory and are written again on their next change.
 */
import type { Incident, IncidentQuery } from "../analysis/incident.js";
import { IncidentTracker, type FindingChanges, type IncidentUpdate } from "../analysis/incident-tracker.js";
import type { PodRef } from "../analysis/types.js";
import { recentIncident } from "../api/incident-json.js";
import type { RecentIncident } from "../api/types.generated.js";
import type { Logger } from "../util/log.js";

/** What the recorder needs of the history store. */
export interface IncidentStore {
  upsertIncidents(incidents: readonly Incident[]): void;
  openIncidents(): Incident[];
  incidents(query: IncidentQuery): Incident[];
}

/** NodeFindings carries the incidents that closed within this long. */
export const RECENT_INCIDENTS_MS = 24 * 3_600_000;
export const DEFAULT_MAX_RECENT_INCIDENTS = 50;
/** The most recent incidents kept in memory for status, whatever a policy asks for (the CRD's maximum). */
const RECENT_KEPT = 100;

export interface IncidentRecorderOptions {
  readonly node: string;
  readonly store: IncidentStore | undefined;
  readonly logger: Logger;
  readonly workloadOf?: (pod: PodRef) => string | undefined;
  readonly callersOf?: (pod: PodRef) => readonly string[];
}

export class IncidentRecorder {
  private readonly tracker: IncidentTracker;
  /** Closed incidents, newest first. */
  private recentClosed: Incident[] = [];
  private lastWriteError: string | undefined;

  constructor(private readonly options: IncidentRecorderOptions) {
    this.tracker = new IncidentTracker({
      node: options.node,
      ...(options.workloadOf ? { workloadOf: options.workloadOf } : {}),
      ...(options.callersOf ? { callersOf: options.callersOf } : {}),
    });
  }

  /** Resumes incidents a previous run left open and loads the recently closed ones; returns how many were resumed. */
  restore(nowMs: number): number {
    const store = this.options.store;
    if (!store) return 0;
    try {
      const open = store.openIncidents();
      this.tracker.resume(open, nowMs);
      this.recentClosed = store
        .incidents({ sinceMs: nowMs - RECENT_INCIDENTS_MS, limit: RECENT_KEPT * 2 })
        .filter((incident) => incident.endMs !== undefined)
        .slice(0, RECENT_KEPT);
      return open.length;
    } catch (error) {
      this.options.logger.warn({ err: error }, "could not read incidents from the history store; starting without them");
      return 0;
    }
  }

  update(changes: FindingChanges, nowMs: number): IncidentUpdate {
    const update = this.tracker.update(changes, nowMs);
    if (update.closed.length > 0) this.recentClosed = [...update.closed, ...this.recentClosed].slice(0, RECENT_KEPT);
    this.write(update.changed);
    return update;
  }

  open(): Incident[] {
    return this.tracker.openIncidents();
  }

  /** NodeFindings.status.recentIncidents: closed within 24 h, newest first, at most `max`. */
  recent(nowMs: number, max: number): RecentIncident[] {
    return this.recentClosed
      .filter((incident) => (incident.endMs ?? incident.lastSeenMs) >= nowMs - RECENT_INCIDENTS_MS)
      .slice(0, max)
      .map(recentIncident);
  }

  private write(incidents: readonly Incident[]): void {
    const store = this.options.store;
    if (!store || incidents.length === 0) return;
    try {
      store.upsertIncidents(incidents);
      this.lastWriteError = undefined;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (message !== this.lastWriteError) this.options.logger.error({ err: error }, "could not write incidents to the history store; detection continues");
      this.lastWriteError = message;
    }
  }
}
