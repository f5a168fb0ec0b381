/**
 * `edges`: the dependency tracker's edges (src/deps), one row per (pod, direction, peer IP, port), upserted
 * after each dependency poll. This file is the only place that knows the row: an outbound edge stores the
 * peer's port, an inbound one its local listen port, in the same `port` column.
 */
import type Database from "better-sqlite3";
import type { Edge } from "../deps/edges.js";

type EdgeRow = [string, string, string, number, number, number, number, number, number, number];

export class EdgeTable {
  private readonly upsert: Database.Statement;
  private readonly deleteBefore: Database.Statement;
  private readonly since: Database.Statement<[number], EdgeRow>;
  private readonly upsertTx: (edges: readonly Edge[]) => void;

  /** Edges last seen `keepMs` before the newest edge of a batch are dropped with it. */
  constructor(db: Database.Database, keepMs: number) {
    this.upsert = db.prepare(
      `INSERT INTO edges (pod_uid, direction, peer_ip, port, connections, recent_connections, peak_connections, observations,
         first_seen_ms, last_seen_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (pod_uid, direction, peer_ip, port) DO UPDATE SET
         connections = excluded.connections, recent_connections = excluded.recent_connections,
         peak_connections = max(peak_connections, excluded.peak_connections),
         observations = max(observations, excluded.observations),
         first_seen_ms = min(first_seen_ms, excluded.first_seen_ms),
         last_seen_ms = max(last_seen_ms, excluded.last_seen_ms)`,
    );
    this.deleteBefore = db.prepare("DELETE FROM edges WHERE last_seen_ms < ?");
    this.since = db
      .prepare<[number], EdgeRow>(
        `SELECT pod_uid, direction, peer_ip, port, connections, recent_connections, peak_connections, observations,
           first_seen_ms, last_seen_ms FROM edges WHERE last_seen_ms >= ? ORDER BY last_seen_ms DESC, pod_uid, direction, peer_ip, port`,
      )
      .raw();
    this.upsertTx = db.transaction((edges: readonly Edge[]) => {
      this.write(edges, keepMs);
    });
  }

  append(edges: readonly Edge[]): void {
    if (edges.length > 0) this.upsertTx(edges);
  }

  edges(sinceMs: number): Edge[] {
    return this.since.all(sinceMs).map(edgeFromRow);
  }

  private write(edges: readonly Edge[], keepMs: number): void {
    let newestMs = -Infinity;
    for (const e of edges) {
      this.upsert.run(
        e.fromPodUid,
        e.direction,
        e.peer.ip,
        e.direction === "inbound" ? e.localPort : e.peer.port,
        e.connections,
        e.recentConnections,
        e.peakConnections,
        e.observations,
        Math.round(e.firstSeenMs),
        Math.round(e.lastSeenMs),
      );
      newestMs = Math.max(newestMs, e.lastSeenMs);
    }
    this.deleteBefore.run(Math.round(newestMs - keepMs));
  }
}

function edgeFromRow(row: EdgeRow): Edge {
  const [fromPodUid, direction, ip, port, connections, recentConnections, peakConnections, observations, firstSeenMs, lastSeenMs] = row;
  const counts = { connections, recentConnections, peakConnections, observations, firstSeenMs, lastSeenMs };
  return direction === "outbound"
    ? { fromPodUid, direction, peer: { ip, port }, localPort: null, ...counts }
    : { fromPodUid, direction: "inbound", peer: { ip, port: null }, localPort: port, ...counts };
}
