import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import type { IncidentList } from "../api/history.js";
import { unreadOrPartial } from "../controller/read-service.js";
import type { AccessGuard } from "../server/api.js";
import { startHttpServer, type RunningServer } from "../server/http.js";
import { DAY_MS, HOUR_MS, incidentOf } from "../store/incident-testing.js";
import { openStore } from "../store/store.js";
import type { HistoryStore } from "../store/types.js";
import { historyRoutes, type HistorySource } from "./history-api.js";

// The agent's incidents endpoint over a real SQLite history, on loopback: a span with more incidents than
// one answer holds is answered newest first and says so, and the read service names that node as partial.
const NOW_MS = Date.UTC(2026, 11, 3, 12);
const ALLOW_ALL: AccessGuard = { review: () => Promise.resolve({ allowed: true, user: { username: "test", groups: [] } }) };

let dir: string;
let store: HistoryStore;
const servers: RunningServer[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "xander-history-api-"));
  store = openStore(join(dir, "history.db"));
  // Seven closed incidents, one an hour, the newest an hour ago.
  store.upsertIncidents(
    Array.from({ length: 7 }, (_, i) => incidentOf({ id: `i${i}`, startMs: NOW_MS - (i + 1) * HOUR_MS, endMs: NOW_MS - (i + 1) * HOUR_MS + 60_000, lastSeenMs: NOW_MS - (i + 1) * HOUR_MS + 60_000, peakAtMs: NOW_MS - (i + 1) * HOUR_MS })),
  );
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function incidentsServed(maxIncidents: number): Promise<IncidentList> {
  const source: HistorySource = { node: "node-a", podUid: () => undefined, podSeries: (uid, sinceMs) => store.podSeries(uid, sinceMs), incidents: (query) => store.incidents(query) };
  const server = await startHttpServer({ addr: "127.0.0.1:0", registry: new Registry(), readiness: () => ({ ready: true }), routes: historyRoutes(source, ALLOW_ALL, () => NOW_MS, maxIncidents) });
  servers.push(server);
  const response = await fetch(`http://127.0.0.1:${server.port}/api/v1/history/incidents?since=${DAY_MS / HOUR_MS}h`, { headers: { authorization: "Bearer t" } });
  expect(response.status).toBe(200);
  return (await response.json()) as IncidentList;
}

test("a span with more incidents than one answer holds is answered newest first, truncated, and the node named as partial", async () => {
  const list = await incidentsServed(5);
  expect(list.incidents.map((i) => i.id)).toEqual(["i0", "i1", "i2", "i3", "i4"]);
  expect(list).toMatchObject({ node: "node-a", limit: 5, truncated: true });
  expect(unreadOrPartial({ ok: true, node: "node-a", value: list })).toEqual([
    { node: "node-a", reason: `its agent answered only its newest 5 incidents since ${list.since}; older ones are not counted` },
  ]);
});

test("a span that fits is answered whole and the node is not named", async () => {
  for (const max of [7, 50]) {
    const list = await incidentsServed(max);
    expect(list.incidents).toHaveLength(7);
    expect(list.truncated).toBe(false);
    expect(unreadOrPartial({ ok: true, node: "node-a", value: list })).toEqual([]);
  }
});

test("an agent that could not be read is named with its reason", () => {
  expect(unreadOrPartial({ ok: false, node: "node-b", reason: "connection refused" })).toEqual([{ node: "node-b", reason: "connection refused" }]);
});
