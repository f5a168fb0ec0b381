/**
 * The incidents of the node history: one row per incident, replaced whenever the tracker reports a change, so
 * an open incident's row always holds its newest peak and last sighting. Shares the store's connection.
 *
 * An incident overlaps [since, now] when it is still open or was last seen at or after `since` (for a closed
 * one, its last sighting is its end). Queries are two index reads glued together: the range on last_seen_ms,
 * and the partial index of open incidents for those last seen before `since` (resumed after a long outage).
 * See overlapQuery for how the limit is applied before the rows are read.
 */
import type Database from "better-sqlite3";
import { compareIncidents, type Incident, type IncidentQuery } from "../analysis/incident.js";
import { INCIDENT_COLUMNS, type IncidentRow, incidentFromRow, incidentToRow } from "./incident-row.js";

/** The most incidents a query returns unless it names its own limit. */
export const DEFAULT_INCIDENT_LIMIT = 1000;

const COLUMNS = INCIDENT_COLUMNS.join(", ");
/** Filters a query may carry, each with its SQL; parameters are named after the query's fields. */
const FILTERS = {
  untilMs: "start_ms < @untilMs",
  namespace: "namespace = @namespace",
  rule: "rule = @rule",
  // Kubernetes names contain no "/", so the first one splits namespace from name; a pod without a namespace
  // is written "/name" (see incidentPodName).
  pod: "pod_name = @podName AND coalesce(namespace, '') = @podNamespace",
  node: "node = @node",
} as const satisfies Partial<Record<keyof IncidentQuery, string>>;

type Params = Record<string, string | number>;

export class IncidentTable {
  private readonly upsert: Database.Statement<IncidentRow>;
  private readonly openRows: Database.Statement<[], IncidentRow>;
  private readonly deleteClosedBefore: Database.Statement<[{ beforeMs: number }]>;
  /** One statement per combination of filters present, prepared on first use (at most 2^5 of them). */
  private readonly queries = new Map<string, Database.Statement<[Params], IncidentRow>>();
  private readonly upsertTx: (incidents: readonly Incident[]) => void;

  constructor(private readonly db: Database.Database) {
    const updates = INCIDENT_COLUMNS.filter((column) => column !== "id").map((column) => `${column} = excluded.${column}`);
    this.upsert = db.prepare(
      `INSERT INTO incidents (${COLUMNS}) VALUES (${INCIDENT_COLUMNS.map(() => "?").join(", ")})
       ON CONFLICT (id) DO UPDATE SET ${updates.join(", ")}`,
    );
    this.openRows = db.prepare<[], IncidentRow>(`SELECT ${COLUMNS} FROM incidents INDEXED BY incidents_open WHERE end_ms IS NULL`).raw();
    // last_seen_ms first, for its index: a closed incident's end is its last sighting, so both pass the cutoff together.
    this.deleteClosedBefore = db.prepare("DELETE FROM incidents WHERE last_seen_ms < @beforeMs AND end_ms < @beforeMs");
    this.upsertTx = db.transaction((incidents: readonly Incident[]) => {
      for (const incident of incidents) this.upsert.run(...incidentToRow(incident));
    });
  }

  upsertIncidents(incidents: readonly Incident[]): void {
    if (incidents.length > 0) this.upsertTx(incidents);
  }

  incidents(query: IncidentQuery): Incident[] {
    const limit = Math.max(0, Math.floor(query.limit ?? DEFAULT_INCIDENT_LIMIT));
    const { sql, params } = whereOf(query);
    if (sql === undefined || limit === 0) return [];
    return this.select(sql).all({ ...params, sinceMs: query.sinceMs, limit }).map(incidentFromRow).sort(compareIncidents);
  }

  openIncidents(): Incident[] {
    return this.openRows.all().map(incidentFromRow).sort(compareIncidents);
  }

  /** Deletes closed incidents that ended before `beforeMs`; open ones stay, however old. Returns how many went. */
  pruneIncidents(beforeMs: number): number {
    return this.deleteClosedBefore.run({ beforeMs }).changes;
  }

  private select(whereSql: string): Database.Statement<[Params], IncidentRow> {
    const cached = this.queries.get(whereSql);
    if (cached) return cached;
    const statement = this.db.prepare<[Params], IncidentRow>(overlapQuery(whereSql)).raw();
    this.queries.set(whereSql, statement);
    return statement;
  }
}

/**
 * The overlap query with extra `AND ...` clauses. It picks the rows first and reads them after: the inner
 * select sorts the matching rowids by what the range indexes carry, so only the `limit` returned rows are read
 * from the table, not every row of the day. The open branch names its index: the planner has no statistics,
 * and given `namespace = ?` it would rather walk a whole namespace than the handful of open rows. Rows come
 * back in rowid order; the caller sorts them with compareIncidents (whose string order is the locale's), so
 * the order here only has to pick the newest rows for the limit.
 */
export function overlapQuery(whereSql: string): string {
  return `SELECT ${COLUMNS} FROM incidents WHERE rowid IN (
    SELECT rowid FROM (
      SELECT rowid, start_ms, end_ms, id FROM incidents WHERE last_seen_ms >= @sinceMs${whereSql}
      UNION ALL
      SELECT rowid, start_ms, end_ms, id FROM incidents INDEXED BY incidents_open
        WHERE end_ms IS NULL AND last_seen_ms < @sinceMs${whereSql}
    ) ORDER BY start_ms DESC, end_ms IS NOT NULL, id LIMIT @limit
  )`;
}

/** The filter clauses and their parameters; no SQL at all when the query cannot match anything. */
function whereOf(query: IncidentQuery): { readonly sql: string | undefined; readonly params: Params } {
  const clauses: string[] = [];
  const params: Params = {};
  if (query.untilMs !== undefined) params.untilMs = query.untilMs;
  if (query.namespace !== undefined) params.namespace = query.namespace;
  if (query.rule !== undefined) params.rule = query.rule;
  if (query.node !== undefined) params.node = query.node;
  if (query.pod !== undefined) {
    const slash = query.pod.indexOf("/");
    if (slash < 0) return { sql: undefined, params };
    params.podNamespace = query.pod.slice(0, slash);
    params.podName = query.pod.slice(slash + 1);
  }
  for (const [field, clause] of Object.entries(FILTERS)) {
    if (query[field as keyof typeof FILTERS] !== undefined) clauses.push(` AND ${clause}`);
  }
  return { sql: clauses.join(""), params };
}

/** The newest sighting among `incidents`: the clock that prunes incidents when no ticks arrive. */
export function newestLastSeenMs(incidents: readonly Incident[]): number | undefined {
  return incidents.reduce<number | undefined>((newest, incident) => Math.max(newest ?? incident.lastSeenMs, incident.lastSeenMs), undefined);
}
