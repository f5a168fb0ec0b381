import Database from "better-sqlite3";
import fc from "fast-check";
import { compareIncidents, type Incident } from "../analysis/incident.js";
import { RULE_NAMES, SEVERITIES } from "../analysis/types.js";
import { incidentFromRow, incidentToRow, type IncidentRow } from "./incident-row.js";
import { overlapQuery } from "./incidents.js";
import { DAY_MS, HOUR_MS, incidentOf, normalised, openIncidentOf, without } from "./incident-testing.js";
import { SCHEMA_VERSION, migrate, schemaVersion } from "./migrations.js";
import { openStore } from "./store.js";
import { T0_MS, sampleOf, scratchDir, target, tickOf } from "./testing.js";
import type { HistoryStore, Retention } from "./types.js";

let scratch: ReturnType<typeof scratchDir>;
let open: HistoryStore[] = [];

function store(name = "history.db", retention?: Partial<Retention>): HistoryStore {
  const s = openStore(scratch.file(name), retention ? { retention } : {});
  open.push(s);
  return s;
}

beforeEach(() => {
  scratch = scratchDir("xander-incidents-");
  open = [];
});

afterEach(() => {
  for (const s of open) s.close();
  scratch.cleanup();
});

/** Everything, however old: the query that reads back all a test wrote. */
const ALL = { sinceMs: Number.MIN_SAFE_INTEGER, limit: 1_000_000 } as const;

/** "Now" for the time-window tests, two weeks after T0 so nothing needs negative times. */
const NOW_MS = T0_MS + 14 * DAY_MS;

describe("writing and reading incidents", () => {
  test("a closed incident comes back with every field it was written with, after reopening the file", () => {
    const closed = incidentOf();
    store("h.db").upsertIncidents([closed]);
    open.pop()?.close();
    expect(store("h.db").incidents(ALL)).toEqual([closed]);
  });

  test("an open incident comes back without an end, and without the optional fields it never had", () => {
    const bare = without(openIncidentOf({ pod: { uid: "uid-1" }, culprits: [], callers: [], evidence: {} }), "policy", "container", "workload");
    const s = store();
    s.upsertIncidents([bare]);
    const [read] = s.incidents(ALL);
    expect(read).toEqual(bare);
    expect(read && "endMs" in read).toBe(false);
    expect(s.openIncidents()).toEqual([bare]);
  });

  test("upserting the same id replaces the row: the peak rises, then the end is set", () => {
    const s = store();
    const opened = openIncidentOf({ lastSeenMs: T0_MS + 10_000, peakValue: 0.4, peakAtMs: T0_MS + 5000 });
    s.upsertIncidents([opened]);
    const peaked = { ...opened, lastSeenMs: T0_MS + 60_000, peakValue: 0.9, peakAtMs: T0_MS + 50_000, message: "CPU pressure 90%" };
    s.upsertIncidents([peaked]);
    expect(s.incidents(ALL)).toEqual([peaked]);
    const ended = { ...peaked, endMs: T0_MS + 60_000 };
    s.upsertIncidents([ended]);
    expect(s.incidents(ALL)).toEqual([ended]);
    expect(s.openIncidents()).toEqual([]);
  });

  test("openIncidents returns only incidents without an end, newest first", () => {
    const s = store();
    s.upsertIncidents([
      openIncidentOf({ id: "old-open", startMs: T0_MS - DAY_MS }),
      incidentOf({ id: "closed" }),
      openIncidentOf({ id: "new-open", startMs: T0_MS + HOUR_MS }),
    ]);
    expect(s.openIncidents().map((i) => i.id)).toEqual(["new-open", "old-open"]);
  });
});

describe("querying incidents", () => {
  /** A fixed set: two namespaces, three rules, two nodes, open and closed, spread over the last few days. */
  function seeded(): HistoryStore {
    const s = store();
    s.upsertIncidents([
      incidentOf({ id: "a", startMs: NOW_MS - 3 * HOUR_MS, endMs: NOW_MS - 2 * HOUR_MS, lastSeenMs: NOW_MS - 2 * HOUR_MS }),
      incidentOf({ id: "b", rule: "CPUThrottling", pod: { uid: "u2", namespace: "shop", name: "cart-1" }, startMs: NOW_MS - 5 * HOUR_MS, endMs: NOW_MS - 4 * HOUR_MS, lastSeenMs: NOW_MS - 4 * HOUR_MS }),
      incidentOf({ id: "c", rule: "OOMKill", pod: { uid: "u3", namespace: "batch", name: "etl-1" }, startMs: NOW_MS - 6 * HOUR_MS, endMs: NOW_MS - 6 * HOUR_MS, lastSeenMs: NOW_MS - 6 * HOUR_MS }),
      openIncidentOf({ id: "d", node: "node-b", startMs: NOW_MS - 3 * HOUR_MS, lastSeenMs: NOW_MS - 1000 }),
      incidentOf({ id: "e", startMs: NOW_MS - 2 * DAY_MS - HOUR_MS, endMs: NOW_MS - 2 * DAY_MS, lastSeenMs: NOW_MS - 2 * DAY_MS }),
    ]);
    return s;
  }
  const ids = (incidents: readonly Incident[]): string[] => incidents.map((i) => i.id);
  const since = NOW_MS - DAY_MS;

  test("newest start first, an open incident before a closed one that started at the same time", () => {
    expect(ids(seeded().incidents({ sinceMs: since }))).toEqual(["d", "a", "b", "c"]);
  });

  test("each filter narrows: namespace, rule, pod as namespace/name, node, untilMs and limit", () => {
    const s = seeded();
    expect(ids(s.incidents({ sinceMs: since, namespace: "batch" }))).toEqual(["c"]);
    expect(ids(s.incidents({ sinceMs: since, rule: "CPUThrottling" }))).toEqual(["b"]);
    expect(ids(s.incidents({ sinceMs: since, pod: "shop/cart-1" }))).toEqual(["b"]);
    expect(ids(s.incidents({ sinceMs: since, pod: "shop/web-1" }))).toEqual(["d", "a"]);
    expect(ids(s.incidents({ sinceMs: since, node: "node-b" }))).toEqual(["d"]);
    expect(ids(s.incidents({ sinceMs: since, untilMs: NOW_MS - 4 * HOUR_MS }))).toEqual(["b", "c"]);
    expect(ids(s.incidents({ sinceMs: since, limit: 2 }))).toEqual(["d", "a"]);
    expect(ids(s.incidents({ sinceMs: since, namespace: "shop", rule: "CPUStarvation", node: "node-a" }))).toEqual(["a"]);
  });

  test("filters combine with AND, a pod without a slash matches nothing, and a limit of 0 returns nothing", () => {
    const s = seeded();
    expect(s.incidents({ sinceMs: since, namespace: "batch", rule: "CPUThrottling" })).toEqual([]);
    expect(s.incidents({ sinceMs: since, pod: "cart-1" })).toEqual([]);
    expect(s.incidents({ sinceMs: since, limit: 0 })).toEqual([]);
  });

  test("a pod without a namespace is found as /name, as incidentPodName writes it", () => {
    const s = store();
    s.upsertIncidents([incidentOf({ pod: { uid: "u", name: "static-1" } })]);
    expect(s.incidents({ ...ALL, pod: "/static-1" })).toHaveLength(1);
  });

  test("an incident that started 3 days ago and is still open overlaps the last day; one that ended 2 days ago does not", () => {
    const s = store();
    s.upsertIncidents([
      openIncidentOf({ id: "long-open", startMs: NOW_MS - 3 * DAY_MS, lastSeenMs: NOW_MS - 3 * DAY_MS + 60_000 }),
      incidentOf({ id: "ended", startMs: NOW_MS - 3 * DAY_MS, endMs: NOW_MS - 2 * DAY_MS, lastSeenMs: NOW_MS - 2 * DAY_MS }),
      incidentOf({ id: "straddles", startMs: NOW_MS - 2 * DAY_MS, endMs: NOW_MS - 20 * HOUR_MS, lastSeenMs: NOW_MS - 20 * HOUR_MS }),
    ]);
    expect(ids(s.incidents({ sinceMs: NOW_MS - DAY_MS }))).toEqual(["straddles", "long-open"]);
    // Filters apply to the open ones too.
    expect(ids(s.incidents({ sinceMs: NOW_MS - DAY_MS, namespace: "elsewhere" }))).toEqual([]);
  });

  test("an incident last seen exactly at sinceMs overlaps; one that started at untilMs does not", () => {
    const s = store();
    s.upsertIncidents([incidentOf({ startMs: NOW_MS - HOUR_MS, endMs: NOW_MS, lastSeenMs: NOW_MS })]);
    expect(s.incidents({ sinceMs: NOW_MS })).toHaveLength(1);
    expect(s.incidents({ sinceMs: NOW_MS + 1 })).toHaveLength(0);
    expect(s.incidents({ sinceMs: 0, untilMs: NOW_MS - HOUR_MS })).toHaveLength(0);
  });
});

describe("incident retention", () => {
  const oneDay = { incidentMs: DAY_MS };

  test("closed incidents that ended before the retention are pruned on the tick path; open ones are kept however old", () => {
    const s = store("h.db", oneDay);
    s.appendTick(tickOf(NOW_MS - 2 * DAY_MS - HOUR_MS, [sampleOf(target(1), NOW_MS - 2 * DAY_MS - HOUR_MS)]), [target(1)]);
    s.upsertIncidents([
      incidentOf({ id: "old", startMs: NOW_MS - 3 * DAY_MS, endMs: NOW_MS - 2 * DAY_MS, lastSeenMs: NOW_MS - 2 * DAY_MS }),
      incidentOf({ id: "recent", startMs: NOW_MS - 13 * HOUR_MS, endMs: NOW_MS - 12 * HOUR_MS, lastSeenMs: NOW_MS - 12 * HOUR_MS }),
      openIncidentOf({ id: "ancient-open", startMs: NOW_MS - 10 * DAY_MS, lastSeenMs: NOW_MS - 9 * DAY_MS }),
    ]);
    expect(s.incidents(ALL)).toHaveLength(3);
    s.appendTick(tickOf(NOW_MS, [sampleOf(target(1), NOW_MS)]), [target(1)]);
    expect(s.incidents(ALL).map((i) => i.id).sort()).toEqual(["ancient-open", "recent"]);
  });

  test("without ticks, upserting prunes against the newest incident's last sighting", () => {
    const s = store("h.db", oneDay);
    s.upsertIncidents([incidentOf({ id: "old", startMs: NOW_MS - 3 * DAY_MS, endMs: NOW_MS - 2 * DAY_MS, lastSeenMs: NOW_MS - 2 * DAY_MS })]);
    expect(s.incidents(ALL)).toHaveLength(1);
    s.upsertIncidents([openIncidentOf({ id: "new", startMs: NOW_MS - HOUR_MS, lastSeenMs: NOW_MS })]);
    expect(s.incidents(ALL).map((i) => i.id)).toEqual(["new"]);
  });

  test("the default keeps closed incidents 14 days", () => {
    expect(store().retention.incidentMs).toBe(14 * DAY_MS);
  });

  test("an incident retention of zero or less is rejected with the reason", () => {
    expect(() => openStore(":memory:", { retention: { incidentMs: 0 } })).toThrow(/incident retention 0 ms must be positive/);
    expect(() => openStore(":memory:", { retention: { incidentMs: -DAY_MS } })).toThrow(RangeError);
    // Independent of the sample retentions: shorter than raw is fine.
    expect(() => {
      openStore(":memory:", { retention: { incidentMs: 60_000 } }).close();
    }).not.toThrow();
  });
});

describe("query plans", () => {
  /** SQLite's plan for a statement, one line per step. */
  function plan(db: Database.Database, sql: string): string[] {
    const params = { sinceMs: 0, limit: 1000, namespace: "shop", rule: "OOMKill", node: "node-a" };
    const names = new Set(sql.match(/@\w+/g)?.map((name) => name.slice(1)));
    const used = Object.fromEntries(Object.entries(params).filter(([name]) => names.has(name)));
    return db.prepare<[object], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`).all(used).map((row) => row.detail);
  }

  test.each([
    ["the time range alone", "", "COVERING INDEX incidents_last_seen_ms"],
    ["a namespace", " AND namespace = @namespace", "COVERING INDEX incidents_namespace_last_seen_ms"],
    ["a rule and a node", " AND rule = @rule AND node = @node", "INDEX incidents_last_seen_ms"],
  ])("the overlap query with %s reads indexes, never the whole table", (_what, whereSql, rangeIndex) => {
    store("h.db").upsertIncidents([incidentOf()]);
    const db = new Database(scratch.file("h.db"), { readonly: true });
    const steps = plan(db, overlapQuery(whereSql));
    db.close();
    expect(steps.filter((step) => /^SCAN incidents\b/.test(step) && !/INDEX/.test(step))).toEqual([]);
    expect(steps).toContain("SCAN incidents USING INDEX incidents_open");
    expect(steps.some((step) => step.startsWith(`SEARCH incidents USING ${rangeIndex} (`))).toBe(true);
    // Only the rows returned are read from the table, by rowid.
    expect(steps).toContain("SEARCH incidents USING INTEGER PRIMARY KEY (rowid=?)");
  });
});

describe("schema upgrade", () => {
  test("a version 3 database gains the incidents table and keeps its samples", () => {
    const path = scratch.file("v3.db");
    const db = new Database(path);
    db.pragma("journal_mode = WAL");
    migrate(db, 3);
    expect(schemaVersion(db)).toBe(3);
    const web = target(1);
    db.prepare(
      `INSERT INTO targets (id, key, pod_uid, container_id, rel_path, namespace, pod_name, container_name, first_seen_ms, last_seen_ms)
       VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(web.key, web.podUid, web.containerId, web.relPath, web.namespace, web.podName, web.containerName, T0_MS, T0_MS + 9000);
    for (let i = 0; i < 10; i++) {
      db.prepare("INSERT INTO ticks (id, wall_ms, interval_ms) VALUES (?, ?, 1000)").run(i + 1, T0_MS + i * 1000);
      db.prepare("INSERT INTO samples (id, cpu_mcores, oom_kills) VALUES (?, 250, 0)").run((i + 1) * 2 ** 20 + 1);
    }
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'incidents'").all()).toEqual([]);
    db.close();

    const s = store("v3.db");
    expect(s.latestWindow(T0_MS).map((x) => [x.key, x.cpuCores])).toEqual(Array.from({ length: 10 }, () => [web.key, 0.25]));
    s.upsertIncidents([incidentOf()]);
    expect(s.incidents(ALL)).toEqual([incidentOf()]);
    s.close();
    const check = new Database(path, { readonly: true });
    expect(schemaVersion(check)).toBe(SCHEMA_VERSION);
    check.close();
  });
});

describe("garbled rows", () => {
  function garble(path: string, column: string, text: string): void {
    const db = new Database(path);
    db.prepare(`UPDATE incidents SET ${column} = ?`).run(text);
    db.close();
  }

  test("a culprits cell that is not JSON reads as no culprits, and the other rows are unaffected", () => {
    const s = store("h.db");
    s.upsertIncidents([incidentOf({ id: "bad" }), incidentOf({ id: "good", startMs: T0_MS - 1 })]);
    const db = new Database(scratch.file("h.db"));
    db.prepare("UPDATE incidents SET culprits = '[{\"pod\":' WHERE id = 'bad'").run();
    db.close();
    const [bad, good] = s.incidents(ALL);
    expect(bad).toEqual({ ...incidentOf({ id: "bad" }), culprits: [] });
    expect(good).toEqual(incidentOf({ id: "good", startMs: T0_MS - 1 }));
  });

  test.each([
    ["callers", "{}", { callers: [] }],
    ["callers", '["Deployment/a", 7, null]', { callers: ["Deployment/a"] }],
    ["evidence", "[1, 2]", { evidence: {} }],
    ["evidence", "not json", { evidence: {} }],
    ["evidence", '{"a": 1, "b": {"nested": true}, "c": "x"}', { evidence: { a: 1, c: "x" } }],
    ["culprits", '[{"pod": null, "score": 1, "share": 1}, 3]', { culprits: [] }],
  ])("a %s cell holding %s reads as what can be salvaged", (column, text, expected) => {
    const s = store("h.db");
    s.upsertIncidents([incidentOf()]);
    garble(scratch.file("h.db"), column, text);
    expect(s.incidents(ALL)).toEqual([{ ...incidentOf(), ...expected }]);
  });

  test("a NaN peak, which SQLite stores as NULL, reads back as NaN instead of failing the write", () => {
    const s = store();
    s.upsertIncidents([incidentOf({ peakValue: NaN })]);
    expect(s.incidents(ALL)[0]?.peakValue).toBeNaN();
  });
});

const name = fc.stringMatching(/^[a-z0-9-]{1,12}$/);
const ms = fc.integer({ min: 0, max: 2 ** 45 });
const real = fc.double({ noNaN: true, noDefaultInfinity: true });
const podRef = fc.record({ uid: fc.string(), namespace: name, name }, { requiredKeys: ["uid"] });

/** Any incident the type allows, with finite numbers (JSON has no NaN) and evidence keys JSON keeps as written. */
const arbitraryIncident: fc.Arbitrary<Incident> = fc.record(
  {
    id: fc.string({ minLength: 1 }),
    node: fc.string(),
    rule: fc.constantFrom(...RULE_NAMES),
    severity: fc.constantFrom(...SEVERITIES),
    policy: fc.string(),
    pod: podRef,
    container: fc.string(),
    workload: fc.string(),
    startMs: ms,
    endMs: ms,
    lastSeenMs: ms,
    peakValue: real,
    peakAtMs: ms,
    threshold: real,
    culprits: fc.array(fc.record({ pod: podRef, score: real, share: real }), { maxLength: 5 }),
    callers: fc.array(fc.string(), { maxLength: 10 }),
    evidence: fc.dictionary(fc.string(), fc.oneof(fc.string(), real)),
    message: fc.string(),
  },
  { requiredKeys: ["id", "node", "rule", "severity", "pod", "startMs", "lastSeenMs", "peakValue", "peakAtMs", "threshold", "culprits", "callers", "evidence", "message"] },
);

describe("properties", () => {
  test("any list of incidents written to a file reads back exactly, newest first", () => {
    let run = 0;
    fc.assert(
      fc.property(fc.uniqueArray(arbitraryIncident, { selector: (i) => i.id, maxLength: 30 }), (incidents) => {
        // Retention far beyond the generated times: this property is about the round trip, not pruning.
        const s = store(`p${run++}.db`, { incidentMs: Number.MAX_SAFE_INTEGER });
        s.upsertIncidents(incidents);
        expect(normalised(s.incidents(ALL))).toEqual(normalised([...incidents].sort(compareIncidents)));
        expect(normalised(s.openIncidents())).toEqual(normalised(incidents.filter((i) => i.endMs === undefined).sort(compareIncidents)));
        open.pop()?.close();
      }),
      { numRuns: 40 },
    );
  });

  test("a query returns what a plain filter of every incident returns: overlap, namespace and the newest up to the limit", () => {
    // Incidents as the tracker writes them: last seen at or after the start, and at the end once closed.
    const valid = fc.record({ id: fc.stringMatching(/^[a-z0-9]{1,8}$/), startMs: fc.integer({ min: 0, max: 1000 }), lengthMs: fc.integer({ min: 0, max: 300 }), open: fc.boolean(), namespace: fc.constantFrom("a", "b") });
    let run = 0;
    fc.assert(
      fc.property(fc.uniqueArray(valid, { selector: (i) => i.id, maxLength: 40 }), fc.integer({ min: 0, max: 1200 }), fc.integer({ min: 1, max: 15 }), fc.option(fc.constantFrom("a", "b"), { nil: undefined }), (specs, sinceMs, limit, namespace) => {
        const incidents = specs.map(({ id, startMs, lengthMs, open: isOpen, namespace: ns }): Incident => {
          const closed = incidentOf({ id, startMs, lastSeenMs: startMs + lengthMs, endMs: startMs + lengthMs, pod: { uid: id, namespace: ns, name: id } });
          return isOpen ? without(closed, "endMs") : closed;
        });
        const s = store(`q${run++}.db`, { incidentMs: Number.MAX_SAFE_INTEGER });
        s.upsertIncidents(incidents);
        const newestFirst = (a: Incident, b: Incident): number => b.startMs - a.startMs || Number(a.endMs !== undefined) - Number(b.endMs !== undefined) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
        const expected = incidents
          .filter((i) => (i.endMs === undefined || i.lastSeenMs >= sinceMs) && (namespace === undefined || i.pod.namespace === namespace))
          .sort(newestFirst)
          .slice(0, limit);
        const got = s.incidents({ sinceMs, limit, ...(namespace === undefined ? {} : { namespace }) });
        expect(got.map((i) => i.id).sort()).toEqual(expected.map((i) => i.id).sort());
        open.pop()?.close();
      }),
      { numRuns: 60 },
    );
  });

  test("the row codec round-trips any incident, and any text in a JSON cell reads without throwing", () => {
    fc.assert(
      fc.property(arbitraryIncident, fc.string(), fc.string(), fc.string(), (incident, culprits, callers, evidence) => {
        expect(normalised(incidentFromRow(incidentToRow(incident)))).toEqual(normalised(incident));
        const row: IncidentRow = [...incidentToRow(incident)];
        row[16] = culprits;
        row[17] = callers;
        row[18] = evidence;
        const read = incidentFromRow(row);
        expect(Array.isArray(read.culprits) && Array.isArray(read.callers) && typeof read.evidence === "object").toBe(true);
      }),
    );
  });
});
