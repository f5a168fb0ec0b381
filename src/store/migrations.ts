import type Database from "better-sqlite3";

/**
 * The schema's history. `PRAGMA user_version` holds the number of migrations applied.
 * A migration is frozen once released: change the schema by appending a new one, never by editing an old one,
 * because nodes in the field hold databases at every earlier version.
 */
export interface Migration {
  readonly version: number;
  readonly description: string;
  up(db: Database.Database): void;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "targets dictionary, ticks, raw container samples, node samples",
    up(db) {
      db.exec(`
        CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
        INSERT INTO meta (key, value) VALUES ('samples_stored', 0);

        CREATE TABLE targets (
          id INTEGER PRIMARY KEY,
          key TEXT NOT NULL UNIQUE,
          pod_uid TEXT NOT NULL,
          container_id TEXT NOT NULL,
          rel_path TEXT NOT NULL,
          namespace TEXT,
          pod_name TEXT,
          container_name TEXT,
          first_seen_ms INTEGER NOT NULL,
          last_seen_ms INTEGER NOT NULL,
          gone_at_ms INTEGER
        );
        CREATE INDEX targets_pod_uid ON targets (pod_uid);

        CREATE TABLE ticks (id INTEGER PRIMARY KEY, wall_ms INTEGER NOT NULL, interval_ms INTEGER NOT NULL);
        CREATE INDEX ticks_wall_ms ON ticks (wall_ms);

        -- id = tick id * 2^20 + target id. Scaled integers: *_mcores millicores, *_bp basis points (1e-4),
        -- *_kib KiB; -1 in a limit means unlimited, NULL means the host does not expose the signal.
        CREATE TABLE samples (
          id INTEGER PRIMARY KEY,
          wall_delta_ms INTEGER,
          interval_delta_ms INTEGER,
          cpu_mcores INTEGER,
          periods INTEGER,
          throttled_periods INTEGER,
          cpu_limit_mcores INTEGER,
          cpu_stall_bp INTEGER,
          memory_stall_bp INTEGER,
          memory_full_stall_bp INTEGER,
          io_stall_bp INTEGER,
          io_full_stall_bp INTEGER,
          working_set_kib INTEGER,
          memory_limit_kib INTEGER,
          oom_kills INTEGER NOT NULL
        );

        CREATE TABLE node_samples (
          tick_id INTEGER PRIMARY KEY,
          wall_ms INTEGER NOT NULL,
          interval_ms INTEGER NOT NULL,
          cpu_stall_bp INTEGER,
          memory_stall_bp INTEGER,
          memory_full_stall_bp INTEGER,
          io_stall_bp INTEGER,
          io_full_stall_bp INTEGER
        );
        CREATE INDEX node_samples_wall_ms ON node_samples (wall_ms);
      `);
    },
  },
  {
    version: 2,
    description: "1-minute rollups per target; the store backfills closed minutes still in raw history on open",
    up(db) {
      // Keyed by target first: a pod's chart over a day is one range read. Written once a minute, so the
      // scattered inserts this causes are cheap, unlike for raw samples.
      db.exec(`
        CREATE TABLE rollups_1m (
          target_id INTEGER NOT NULL,
          minute INTEGER NOT NULL,
          sample_count INTEGER NOT NULL,
          interval_ms INTEGER NOT NULL,
          cpu_mcores INTEGER,
          cpu_mcores_max INTEGER,
          periods INTEGER,
          throttled_periods INTEGER,
          cpu_limit_mcores INTEGER,
          cpu_stall_bp INTEGER,
          cpu_stall_bp_max INTEGER,
          memory_stall_bp INTEGER,
          memory_stall_bp_max INTEGER,
          memory_full_stall_bp INTEGER,
          io_stall_bp INTEGER,
          io_stall_bp_max INTEGER,
          io_full_stall_bp INTEGER,
          working_set_kib INTEGER,
          working_set_kib_max INTEGER,
          memory_limit_kib INTEGER,
          oom_kills INTEGER NOT NULL,
          PRIMARY KEY (target_id, minute)
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 3,
    description: "dependency edges: one row per edge, upserted on every poll that sees it",
    up(db) {
      // One row per edge, not per poll: what is kept is who talked to whom, when first and last, and the
      // counts of the last poll that saw it. Inbound edges key on the local listen port with a NULL peer
      // port stored as -1 (a NULL in a primary key would make every inbound row distinct).
      db.exec(`
        CREATE TABLE edges (
          pod_uid TEXT NOT NULL,
          direction TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
          peer_ip TEXT NOT NULL,
          port INTEGER NOT NULL,
          connections INTEGER NOT NULL,
          recent_connections INTEGER NOT NULL,
          peak_connections INTEGER NOT NULL,
          observations INTEGER NOT NULL,
          first_seen_ms INTEGER NOT NULL,
          last_seen_ms INTEGER NOT NULL,
          PRIMARY KEY (pod_uid, direction, peer_ip, port)
        ) WITHOUT ROWID;
        CREATE INDEX edges_last_seen_ms ON edges (last_seen_ms);
      `);
    },
  },
  {
    version: 4,
    description: "incidents: one row per finding's life from raise to clear, replaced as it changes",
    up(db) {
      // Queries ask for incidents overlapping [since, now]: closed ones whose last sighting (their end) is at or
      // after `since`, plus every open one, however old. The first half is a range on last_seen_ms (alone or
      // within a namespace); the second a partial index that holds only the few open rows. The two range
      // indexes also carry what the newest-first order needs (start, end, id), so the thousands of rows a day
      // matches are sorted from the index and only the returned ones are read from the table. Culprits,
      // callers and evidence are JSON text: read whole with the incident, never filtered on. The REAL columns
      // take NULL because SQLite stores a NaN as NULL, and one odd value must not fail a whole batch.
      db.exec(`
        CREATE TABLE incidents (
          id TEXT PRIMARY KEY,
          node TEXT NOT NULL,
          rule TEXT NOT NULL,
          severity TEXT NOT NULL,
          policy TEXT,
          namespace TEXT,
          pod_name TEXT,
          pod_uid TEXT NOT NULL,
          container TEXT,
          workload TEXT,
          start_ms INTEGER NOT NULL,
          end_ms INTEGER,
          last_seen_ms INTEGER NOT NULL,
          peak_value REAL,
          peak_at_ms INTEGER NOT NULL,
          threshold REAL,
          culprits TEXT NOT NULL,
          callers TEXT NOT NULL,
          evidence TEXT NOT NULL,
          message TEXT NOT NULL
        );
        CREATE INDEX incidents_last_seen_ms ON incidents (last_seen_ms, start_ms, end_ms, id);
        CREATE INDEX incidents_namespace_last_seen_ms ON incidents (namespace, last_seen_ms, start_ms, end_ms, id);
        CREATE INDEX incidents_open ON incidents (start_ms) WHERE end_ms IS NULL;
      `);
    },
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export class SchemaTooNewError extends Error {
  constructor(
    readonly path: string,
    readonly found: number,
  ) {
    super(
      `history store ${path} has schema version ${found}, newer than this build supports (${SCHEMA_VERSION}): ` +
        `run a newer xander, or move the file away to start a fresh history`,
    );
    this.name = "SchemaTooNewError";
  }
}

export function schemaVersion(db: Database.Database): number {
  return db.pragma("user_version", { simple: true }) as number;
}

/**
 * Brings the database up to `toVersion`, one transaction per migration, so a failure leaves it at the last
 * version that completed. Returns the version it started from.
 */
export function migrate(db: Database.Database, toVersion: number = SCHEMA_VERSION): number {
  const from = schemaVersion(db);
  if (from > SCHEMA_VERSION) throw new SchemaTooNewError(db.name, from);
  for (const migration of MIGRATIONS) {
    if (migration.version <= from || migration.version > toVersion) continue;
    db.transaction(() => {
      migration.up(db);
      // user_version lives in the file header, which is written inside the same transaction.
      db.pragma(`user_version = ${migration.version}`);
    })();
  }
  return from;
}
