/**
 * How long history is kept, and the pruning that enforces it. Raw samples are kept `rawMs` (1 h), rollups,
 * node samples and the targets they name `rollupMs` (24 h), closed incidents `incidentMs` (14 days), all
 * measured back from the newest tick's wall clock.
 */
import { MINUTE_MS } from "./codec.js";
import type { IncidentTable } from "./incidents.js";
import type { RollupTable } from "./rollups.js";
import type { TargetTable } from "./targets.js";
import type { TickTable } from "./ticks.js";
import type { Retention } from "./types.js";

export const DEFAULT_RETENTION: Retention = { rawMs: 3_600_000, rollupMs: 86_400_000, incidentMs: 14 * 86_400_000 };
const MIN_RAW_RETENTION_MS = 2 * MINUTE_MS;
const PRUNE_EVERY_MS = MINUTE_MS;

export function validRetention(retention: Retention): Retention {
  if (!(retention.rawMs >= MIN_RAW_RETENTION_MS)) {
    throw new RangeError(`raw retention ${retention.rawMs} ms is too short: keep at least 2 minutes, so a minute is still raw when it is rolled up`);
  }
  if (!(retention.rollupMs >= retention.rawMs)) {
    throw new RangeError(`rollup retention ${retention.rollupMs} ms is shorter than raw retention ${retention.rawMs} ms`);
  }
  // Incidents are records of their own, not summaries of samples, so any span works; only zero or less would
  // delete each incident the moment it closes.
  if (!(retention.incidentMs > 0)) {
    throw new RangeError(`incident retention ${retention.incidentMs} ms must be positive: closed incidents would be deleted as soon as they close`);
  }
  return retention;
}

export interface PrunedTables {
  readonly ticks: TickTable;
  readonly rollups: RollupTable;
  readonly targets: TargetTable;
  readonly incidents: IncidentTable;
}

/** Prunes every table at most once a minute of tick time, inside the tick's transaction. */
export class Pruner {
  private lastPruneMs: number | undefined;

  constructor(
    private readonly retention: Retention,
    private readonly tables: PrunedTables,
  ) {}

  pruneIfDue(wallMs: number): void {
    // A clock that stepped back prunes at once: its cutoffs are the ones that keep the most.
    if (this.lastPruneMs !== undefined && wallMs - this.lastPruneMs < PRUNE_EVERY_MS && wallMs >= this.lastPruneMs) return;
    this.lastPruneMs = wallMs;
    const { ticks, rollups, targets, incidents } = this.tables;
    ticks.pruneRaw(wallMs - this.retention.rawMs);
    const rollupCutoffMs = wallMs - this.retention.rollupMs;
    rollups.prune(rollupCutoffMs);
    ticks.pruneNode(rollupCutoffMs);
    targets.prune(rollupCutoffMs - MINUTE_MS);
    incidents.pruneIncidents(wallMs - this.retention.incidentMs);
  }
}
