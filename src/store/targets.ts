/**
 * The `targets` table: the dictionary of container keys and names that samples and rollups refer to by id,
 * with when each was first and last seen and when its cgroup vanished. All of it is kept in memory (a node
 * runs hundreds of containers), so a tick never reads it back.
 */
import type Database from "better-sqlite3";
import type { Target } from "../sampler/types.js";
import { MAX_TARGET_ID } from "./codec.js";
import type { StoredTarget } from "./types.js";

/** What the store keeps in memory per target. */
export interface CachedTarget {
  readonly id: number;
  target: Target;
  readonly firstSeenMs: number;
  lastSeenMs: number;
  /** last_seen_ms in the file lags by up to a minute: it is written once a minute, not on every tick. */
  lastSeenWrittenMs: number;
  goneAtMs: number | undefined;
}

type TargetRow = [number, string, string, string, string, string | null, string | null, string | null, number, number, number | null];

export class TargetTable {
  private readonly byKey = new Map<string, CachedTarget>();
  private readonly byId = new Map<number, CachedTarget>();
  private maxTargetId = 0;
  private readonly insert: Database.Statement;
  private readonly update: Database.Statement;
  private readonly updateLastSeen: Database.Statement;
  private readonly deleteTarget: Database.Statement;
  private readonly deleteRollups: Database.Statement;

  constructor(
    private readonly db: Database.Database,
    private readonly path: string,
  ) {
    this.insert = db.prepare(
      `INSERT INTO targets (id, key, pod_uid, container_id, rel_path, namespace, pod_name, container_name,
         first_seen_ms, last_seen_ms, gone_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
    );
    this.update = db.prepare(
      `UPDATE targets SET pod_uid = ?, container_id = ?, rel_path = ?, namespace = ?, pod_name = ?, container_name = ?,
         last_seen_ms = ?, gone_at_ms = ? WHERE id = ?`,
    );
    this.updateLastSeen = db.prepare("UPDATE targets SET last_seen_ms = ? WHERE id = ?");
    this.deleteTarget = db.prepare("DELETE FROM targets WHERE id = ?");
    this.deleteRollups = db.prepare("DELETE FROM rollups_1m WHERE target_id = ?");
  }

  /** (Re)reads every target from the file. */
  load(): void {
    this.byKey.clear();
    this.byId.clear();
    this.maxTargetId = 0;
    const rows = this.db
      .prepare<[], TargetRow>(
        `SELECT id, key, pod_uid, container_id, rel_path, namespace, pod_name, container_name, first_seen_ms, last_seen_ms, gone_at_ms
         FROM targets`,
      )
      .raw()
      .all();
    for (const row of rows) {
      const [id, , , , , , , , firstSeenMs, lastSeenMs, goneAtMs] = row;
      this.cache({ id, target: targetFromRow(row), firstSeenMs, lastSeenMs, lastSeenWrittenMs: lastSeenMs, goneAtMs: goneAtMs ?? undefined });
    }
  }

  byTargetId(id: number): CachedTarget | undefined {
    return this.byId.get(id);
  }

  byTargetKey(key: string): CachedTarget | undefined {
    return this.byKey.get(key);
  }

  /** The containers of one pod, in id order. */
  ofPod(podUid: string): CachedTarget[] {
    return [...this.byId.values()].filter((cached) => cached.target.podUid === podUid).sort((a, b) => a.id - b.id);
  }

  list(): StoredTarget[] {
    return [...this.byId.values()].sort((a, b) => a.id - b.id).map(storedTarget);
  }

  /** Records that a target is live at `wallMs`, inserting it or refreshing its names; returns its cache entry. */
  touch(target: Target, wallMs: number): CachedTarget {
    const cached = this.byKey.get(target.key);
    if (!cached) return this.insertTarget(target, wallMs);
    cached.lastSeenMs = Math.max(cached.lastSeenMs, wallMs);
    if (cached.goneAtMs !== undefined || (cached.target !== target && !sameTarget(cached.target, target))) {
      cached.target = target;
      cached.goneAtMs = undefined;
      this.write(cached);
    }
    return cached;
  }

  markGone(key: string, wallMs: number): void {
    const cached = this.byKey.get(key);
    if (!cached) return;
    cached.goneAtMs = wallMs;
    this.write(cached);
  }

  /** Writes the last-seen times that moved since they were last written. */
  flushLastSeen(): void {
    for (const cached of this.byId.values()) {
      if (cached.lastSeenMs === cached.lastSeenWrittenMs) continue;
      this.updateLastSeen.run(cached.lastSeenMs, cached.id);
      cached.lastSeenWrittenMs = cached.lastSeenMs;
    }
  }

  /** A target is forgotten once nothing about it is left: its last rollup minute is older than the cutoff. */
  prune(cutoffMs: number): void {
    for (const cached of [...this.byId.values()]) {
      if (cached.lastSeenMs >= cutoffMs) continue;
      this.deleteRollups.run(cached.id);
      this.deleteTarget.run(cached.id);
      this.byId.delete(cached.id);
      this.byKey.delete(cached.target.key);
    }
  }

  private insertTarget(target: Target, wallMs: number): CachedTarget {
    const id = this.allocateTargetId();
    this.insert.run(
      id,
      target.key,
      target.podUid,
      target.containerId,
      target.relPath,
      target.namespace ?? null,
      target.podName ?? null,
      target.containerName ?? null,
      wallMs,
      wallMs,
    );
    const cached: CachedTarget = { id, target, firstSeenMs: wallMs, lastSeenMs: wallMs, lastSeenWrittenMs: wallMs, goneAtMs: undefined };
    this.cache(cached);
    return cached;
  }

  private write(cached: CachedTarget): void {
    const { target } = cached;
    this.update.run(
      target.podUid,
      target.containerId,
      target.relPath,
      target.namespace ?? null,
      target.podName ?? null,
      target.containerName ?? null,
      cached.lastSeenMs,
      cached.goneAtMs ?? null,
      cached.id,
    );
    cached.lastSeenWrittenMs = cached.lastSeenMs;
  }

  /**
   * Target ids must fit the low bits of a sample's rowid. They grow by one; once the space is used up, ids of
   * targets pruned by retention are reused (their raw samples are gone by then; stray rollups are removed).
   */
  private allocateTargetId(): number {
    if (this.maxTargetId < MAX_TARGET_ID) return this.maxTargetId + 1;
    for (let id = 1; id <= MAX_TARGET_ID; id++) {
      if (this.byId.has(id)) continue;
      this.deleteRollups.run(id);
      return id;
    }
    throw new Error(`history store ${this.path} tracks ${MAX_TARGET_ID} targets, the most it can; shorten the rollup retention`);
  }

  private cache(cached: CachedTarget): void {
    this.byKey.set(cached.target.key, cached);
    this.byId.set(cached.id, cached);
    this.maxTargetId = Math.max(this.maxTargetId, cached.id);
  }
}

export function storedTarget(cached: CachedTarget): StoredTarget {
  return {
    ...cached.target,
    firstSeenMs: cached.firstSeenMs,
    lastSeenMs: cached.lastSeenMs,
    ...(cached.goneAtMs === undefined ? {} : { goneAtMs: cached.goneAtMs }),
  };
}

function sameTarget(a: Target, b: Target): boolean {
  return (
    a.podUid === b.podUid &&
    a.containerId === b.containerId &&
    a.relPath === b.relPath &&
    a.namespace === b.namespace &&
    a.podName === b.podName &&
    a.containerName === b.containerName
  );
}

function targetFromRow(row: TargetRow): Target {
  const [, key, podUid, containerId, relPath, namespace, podName, containerName] = row;
  return {
    key,
    podUid,
    containerId,
    relPath,
    ...(namespace === null ? {} : { namespace }),
    ...(podName === null ? {} : { podName }),
    ...(containerName === null ? {} : { containerName }),
  };
}
