import { existsSync, statSync } from "node:fs";
import Database from "better-sqlite3";
import type { ContainerSample } from "../sampler/types.js";
import { MAX_TARGET_ID } from "./codec.js";
import { openStore } from "./store.js";
import { T0_MS, sampleOf, scratchStores, target, tickOf } from "./testing.js";
import type { HistoryStore, RollupSample } from "./types.js";

const { store, file } = scratchStores({ beforeEach, afterEach });

const web = target(1, 0);
const sidecar = target(1, 1);
const other = target(2, 0);

describe("appending and reading back", () => {
  test("latestWindow returns every container sample appended since the given time, oldest first", () => {
    const s = store();
    for (let i = 0; i < 5; i++) {
      const wallMs = T0_MS + i * 1000;
      s.appendTick(tickOf(wallMs, [sampleOf(web, wallMs, { cpuCores: i }), sampleOf(other, wallMs, { cpuCores: 10 + i })]), [web, other]);
    }
    const window = s.latestWindow(T0_MS + 3000);
    expect(window.map((x) => [x.key, x.wallMs, x.cpuCores])).toEqual([
      [web.key, T0_MS + 3000, 3],
      [other.key, T0_MS + 3000, 13],
      [web.key, T0_MS + 4000, 4],
      [other.key, T0_MS + 4000, 14],
    ]);
  });

  test("latestWindow over many ticks returns each sample once, in append order, without ticks the clock stepped back to", () => {
    const s = store();
    // 23 ticks, then the clock steps back 30 s for 3 ticks, then on: the refill reads ticks a few at a time.
    const walls = [...Array.from({ length: 23 }, (_, i) => T0_MS + i * 1000), ...[0, 1, 2].map((i) => T0_MS - 30_000 + i * 1000), T0_MS + 23_000, T0_MS + 24_000];
    const written: [string, number, number][] = [];
    walls.forEach((wallMs, i) => {
      const samples = [sampleOf(web, wallMs, { cpuCores: i })];
      // A container that appears on the eighth tick gets a target id above the others'.
      if (i >= 7) samples.push(sampleOf(other, wallMs, { cpuCores: 100 + i }));
      s.appendTick(tickOf(wallMs, samples), i >= 7 ? [web, other] : [web]);
      if (wallMs >= T0_MS + 2000) written.push(...samples.map((x): [string, number, number] => [x.key, x.wallMs, x.cpuCores ?? NaN]));
    });
    expect(s.latestWindow(T0_MS + 2000).map((x) => [x.key, x.wallMs, x.cpuCores])).toEqual(written);
  });

  test("latestWindow is empty when nothing is that recent", () => {
    const s = store();
    s.appendTick(tickOf(T0_MS, [sampleOf(web, T0_MS)]), [web]);
    expect(s.latestWindow(T0_MS + 1)).toEqual([]);
  });

  test("a sample comes back with the values it was written with, absent signals still undefined", () => {
    const s = store();
    const written = sampleOf(web, T0_MS, {
      cpuCores: 0.25,
      periods: 10,
      throttledPeriods: 4,
      throttleRatio: 0.4,
      cpuLimitCores: null,
      cpuStallShare: 0.5,
      workingSetBytes: 256 * 1024 * 1024,
      memoryLimitBytes: 512 * 1024 * 1024,
      memoryLimitShare: 0.5,
      oomKills: 1,
    });
    s.appendTick(tickOf(T0_MS, [written]), [web]);
    const [read] = s.latestWindow(T0_MS);
    expect(read).toEqual(written);
    expect(read?.memoryStallShare).toBeUndefined();
    expect(read?.cpuLimitCores).toBeNull();
  });

  test("podSeries returns only that pod's containers, each with its target names", () => {
    const s = store();
    for (let i = 0; i < 3; i++) {
      const wallMs = T0_MS + i * 1000;
      s.appendTick(tickOf(wallMs, [sampleOf(web, wallMs), sampleOf(sidecar, wallMs), sampleOf(other, wallMs)]), [web, sidecar, other]);
    }
    const series = s.podSeries(web.podUid, T0_MS + 1000, { resolution: "raw" });
    expect(series.resolution).toBe("raw");
    expect(series.containers.map((c) => [c.target.podName, c.target.containerName, c.points.map((p) => p.wallMs)])).toEqual([
      ["web-1", "app-0", [T0_MS + 1000, T0_MS + 2000]],
      ["web-1", "app-1", [T0_MS + 1000, T0_MS + 2000]],
    ]);
  });

  test("nodeSeries returns node samples since the given time", () => {
    const s = store();
    for (let i = 0; i < 3; i++) s.appendTick(tickOf(T0_MS + i * 1000, [], { cpuStallShare: i / 10, ioStallShare: 0 }), []);
    expect(s.nodeSeries(T0_MS + 1000)).toEqual([
      { wallMs: T0_MS + 1000, intervalMs: 1000, cpuStallShare: 0.1, ioStallShare: 0 },
      { wallMs: T0_MS + 2000, intervalMs: 1000, cpuStallShare: 0.2, ioStallShare: 0 },
    ]);
  });

  test("a sample for a target the caller did not list is still stored under the identity it carries", () => {
    const s = store();
    s.appendTick(tickOf(T0_MS, [sampleOf(web, T0_MS, { cpuCores: 1 })]), []);
    expect(s.targets().map((t) => [t.key, t.podUid, t.containerId])).toEqual([[web.key, web.podUid, web.containerId]]);
    expect(s.latestWindow(T0_MS)[0]?.cpuCores).toBe(1);
  });

  test("a sample's own wall clock and interval survive when they differ from the tick's", () => {
    const s = store();
    s.appendTick(tickOf(T0_MS, [sampleOf(web, T0_MS, { intervalMs: 1000 }), sampleOf(other, T0_MS - 7, { intervalMs: 2500 })]), [web, other]);
    expect(s.latestWindow(0).map((x) => [x.wallMs, x.intervalMs])).toEqual([
      [T0_MS, 1000],
      [T0_MS - 7, 2500],
    ]);
  });
});

describe("failed writes", () => {
  test("a tick that fails to write leaves nothing of itself behind, and the next tick is stored normally", () => {
    const s = store();
    s.appendTick(tickOf(T0_MS, [sampleOf(other, T0_MS)]), [other]);
    const broken = { ...target(9), podUid: null } as unknown as typeof web; // violates pod_uid NOT NULL
    expect(() => {
      s.appendTick(tickOf(T0_MS + 1000, [sampleOf(web, T0_MS + 1000)]), [web, broken]);
    }).toThrow(/NOT NULL/);
    expect(s.targets().map((t) => t.key)).toEqual([other.key]);
    expect(s.latestWindow(0).map((x) => x.key)).toEqual([other.key]);
    s.appendTick(tickOf(T0_MS + 2000, [sampleOf(web, T0_MS + 2000, { cpuCores: 3 })]), [web]);
    expect(s.latestWindow(T0_MS + 2000)).toEqual([expect.objectContaining({ key: web.key, cpuCores: 3 })]);
    expect(s.stats().samplesStored).toBe(2);
  });
});

describe("targets", () => {
  test("a vanished target keeps its history and is recorded with the time it went and when it was last seen", () => {
    const s = store();
    s.appendTick(tickOf(T0_MS, [sampleOf(web, T0_MS), sampleOf(other, T0_MS)]), [web, other]);
    s.appendTick(tickOf(T0_MS + 1000, [sampleOf(web, T0_MS + 1000)], undefined, [other.key]), [web]);
    const byKey = new Map(s.targets().map((t) => [t.key, t]));
    expect(byKey.get(other.key)).toMatchObject({ firstSeenMs: T0_MS, lastSeenMs: T0_MS, goneAtMs: T0_MS + 1000, podName: "web-2" });
    expect(byKey.get(web.key)?.goneAtMs).toBeUndefined();
    expect(s.latestWindow(0).filter((x) => x.key === other.key)).toHaveLength(1);
  });

  test("a target that comes back after vanishing is live again", () => {
    const s = store();
    s.appendTick(tickOf(T0_MS, [sampleOf(web, T0_MS)], undefined, []), [web]);
    s.appendTick(tickOf(T0_MS + 1000, [], undefined, [web.key]), []);
    s.appendTick(tickOf(T0_MS + 2000, [sampleOf(web, T0_MS + 2000)]), [web]);
    expect(s.targets()[0]).toMatchObject({ key: web.key, lastSeenMs: T0_MS + 2000 });
    expect(s.targets()[0]?.goneAtMs).toBeUndefined();
  });

  test("renamed target metadata replaces the old names", () => {
    const s = store();
    s.appendTick(tickOf(T0_MS, []), [web]);
    s.appendTick(tickOf(T0_MS + 1000, []), [{ ...web, podName: "renamed" }]);
    expect(s.targets()[0]?.podName).toBe("renamed");
  });

  test("targets, their last-seen and gone times survive closing and reopening the file", () => {
    const first = openStore(file("h.db"));
    first.appendTick(tickOf(T0_MS, [sampleOf(web, T0_MS), sampleOf(other, T0_MS)]), [web, other]);
    first.appendTick(tickOf(T0_MS + 5000, [sampleOf(web, T0_MS + 5000)], undefined, [other.key]), [web]);
    first.close();
    const reopened = store("h.db");
    expect(reopened.targets()).toEqual([
      { ...web, firstSeenMs: T0_MS, lastSeenMs: T0_MS + 5000 },
      { ...other, firstSeenMs: T0_MS, lastSeenMs: T0_MS, goneAtMs: T0_MS + 5000 },
    ]);
  });

  test("once the target id space is used up, ids of forgotten targets are reused", () => {
    const path = file("full.db");
    openStore(path).close();
    const db = new Database(path);
    db.prepare(
      `INSERT INTO targets (id, key, pod_uid, container_id, rel_path, first_seen_ms, last_seen_ms) VALUES (?, 'old/x', 'old', 'x', '', ?, ?)`,
    ).run(MAX_TARGET_ID, T0_MS, T0_MS);
    db.close();
    const s = store("full.db");
    s.appendTick(tickOf(T0_MS, [sampleOf(web, T0_MS, { cpuCores: 2 })]), [web]);
    expect(s.latestWindow(T0_MS)).toEqual([expect.objectContaining({ key: web.key, cpuCores: 2 })]);
    expect(s.targets().map((t) => t.key)).toEqual([web.key, "old/x"]);
  });
});

/** Interval-weighted mean, as the rollup defines it. */
function weighted(samples: readonly ContainerSample[], pick: (x: ContainerSample) => number | undefined): number {
  const present = samples.filter((x) => pick(x) !== undefined);
  const totalMs = present.reduce((sum, x) => sum + x.intervalMs, 0);
  return present.reduce((sum, x) => sum + (pick(x) ?? 0) * x.intervalMs, 0) / totalMs;
}

function expectWithin(actual: number | undefined, expected: number, tolerance: number): void {
  expect(actual).toBeDefined();
  expect(Math.abs((actual ?? NaN) - expected)).toBeLessThanOrEqual(tolerance * (1 + 1e-9));
}

describe("1-minute rollups", () => {
  const minuteStart = T0_MS; // T0 is minute-aligned

  function appendMinute(s: HistoryStore, startMs: number, seed: number): void {
    for (let i = 0; i < 60; i++) {
      const wallMs = startMs + i * 1000;
      const v = (seed * 31 + i * 17) % 97;
      const intervalMs = i === 30 ? 2000 : 1000;
      s.appendTick(
        tickOf(wallMs, [
          sampleOf(web, wallMs, {
            intervalMs,
            cpuCores: v / 50,
            periods: 10,
            throttledPeriods: v % 11,
            cpuLimitCores: 2,
            cpuStallShare: v / 97,
            memoryStallShare: (v % 5) / 10,
            memoryFullStallShare: (v % 3) / 10,
            ioStallShare: (v % 7) / 10,
            ioFullStallShare: 0,
            workingSetBytes: (100 + v) * 1024 * 1024,
            memoryLimitBytes: 1024 * 1024 * 1024,
            oomKills: i === 59 ? 1 : 0,
          }),
        ]),
        [web],
      );
    }
  }

  test("a closed minute is rolled up to the interval-weighted means, maxima and sums of its raw samples", () => {
    const s = store();
    appendMinute(s, minuteStart, 1);
    const raw = s.latestWindow(minuteStart);
    s.appendTick(tickOf(minuteStart + 60_000, [sampleOf(web, minuteStart + 60_000)]), [web]);
    const series = s.podSeries(web.podUid, minuteStart, { resolution: "1m" });
    expect(series.resolution).toBe("1m");
    const [point] = series.containers[0]?.points as RollupSample[];
    const mean = (pick: (x: ContainerSample) => number | undefined): number => weighted(raw, pick);
    const max = (pick: (x: ContainerSample) => number | undefined): number => Math.max(...raw.map((x) => pick(x) ?? -Infinity));
    expect(point).toMatchObject({ key: web.key, wallMs: minuteStart + 60_000, sampleCount: 60, intervalMs: 61_000, oomKills: 1 });
    // The mean is rounded once more to the stored resolution: half a millicore, half a basis point, half a KiB.
    expectWithin(point?.cpuCores, mean((x) => x.cpuCores), 0.0005);
    expect(point?.cpuCoresMax).toBe(max((x) => x.cpuCores));
    expectWithin(point?.cpuStallShare, mean((x) => x.cpuStallShare), 0.00005);
    expect(point?.cpuStallShareMax).toBe(max((x) => x.cpuStallShare));
    expectWithin(point?.memoryStallShare, mean((x) => x.memoryStallShare), 0.00005);
    expectWithin(point?.memoryFullStallShare, mean((x) => x.memoryFullStallShare), 0.00005);
    expectWithin(point?.ioStallShare, mean((x) => x.ioStallShare), 0.00005);
    expect(point?.ioFullStallShare).toBe(0);
    expectWithin(point?.workingSetBytes, mean((x) => x.workingSetBytes), 512);
    expect(point?.workingSetBytesMax).toBe(max((x) => x.workingSetBytes));
    expect(point?.periods).toBe(600);
    expect(point?.throttledPeriods).toBe(raw.reduce((sum, x) => sum + (x.throttledPeriods ?? 0), 0));
    expect(point?.throttleRatio).toBeCloseTo((point?.throttledPeriods ?? 0) / 600, 10);
    expect(point?.cpuLimitCores).toBe(2);
    expect(point?.memoryLimitBytes).toBe(1024 * 1024 * 1024);
  });

  test("the minute still open is stored as no rollup, but is read as one, aggregated so far and stamped at its newest tick", () => {
    const s = store();
    appendMinute(s, minuteStart, 2);
    expect(s.stats().rollupRows).toBe(0);
    const raw = s.latestWindow(minuteStart);
    const [open, ...rest] = s.podSeries(web.podUid, minuteStart, { resolution: "1m" }).containers[0]?.points as RollupSample[];
    expect(rest).toEqual([]);
    expect(open).toMatchObject({ wallMs: minuteStart + 59_000, sampleCount: 60, periods: 600, oomKills: 1 });
    expectWithin(open?.cpuCores, weighted(raw, (x) => x.cpuCores), 0.0005);

    // Once a later tick closes it, the stored rollup says the same, stamped at the minute's end.
    s.appendTick(tickOf(minuteStart + 60_000, [sampleOf(web, minuteStart + 60_000)]), [web]);
    const [closed, next] = s.podSeries(web.podUid, minuteStart, { resolution: "1m" }).containers[0]?.points as RollupSample[];
    expect({ ...closed, wallMs: open?.wallMs }).toEqual(open);
    expect(closed?.wallMs).toBe(minuteStart + 60_000);
    expect(next).toMatchObject({ wallMs: minuteStart + 60_000, sampleCount: 1 });
  });

  test("a minute revisited after the clock stepped back is rolled up again from all its raw samples", () => {
    const s = store();
    appendMinute(s, minuteStart, 3);
    s.appendTick(tickOf(minuteStart + 60_000, [sampleOf(web, minuteStart + 60_000)]), [web]);
    s.appendTick(tickOf(minuteStart + 59_500, [sampleOf(web, minuteStart + 59_500)]), [web]);
    s.appendTick(tickOf(minuteStart + 61_000, [sampleOf(web, minuteStart + 61_000)]), [web]);
    const points = s.podSeries(web.podUid, minuteStart, { resolution: "1m" }).containers[0]?.points as RollupSample[];
    // The second minute's stored rollup (of one sample, before the step) is stale; it is read open, with both.
    expect(points.map((p) => [p.wallMs, p.sampleCount])).toEqual([
      [minuteStart + 60_000, 61],
      [minuteStart + 61_000, 2],
    ]);
    expect(s.stats().rollupRows).toBe(2);
  });

  test("a minute with no samples of a signal leaves that signal absent in its rollup", () => {
    const s = store();
    s.appendTick(tickOf(minuteStart, [sampleOf(web, minuteStart, { cpuCores: 1 })]), [web]);
    s.appendTick(tickOf(minuteStart + 60_000, []), [web]);
    const [point] = s.podSeries(web.podUid, minuteStart, { resolution: "1m" }).containers[0]?.points ?? [];
    expect(point).toEqual({
      key: web.key,
      podUid: web.podUid,
      containerId: web.containerId,
      wallMs: minuteStart + 60_000,
      intervalMs: 1000,
      oomKills: 0,
      sampleCount: 1,
      cpuCores: 1,
      cpuCoresMax: 1,
    });
    expect(point?.cpuLimitCores).toBeUndefined();
    expect(point?.memoryLimitShare).toBeUndefined();
  });

  test("podSeries auto serves raw samples for a short recent span and rollups for a long one", () => {
    const s = store();
    for (let m = 0; m < 20; m++) s.appendTick(tickOf(minuteStart + m * 60_000, [sampleOf(web, minuteStart + m * 60_000)]), [web]);
    const lastMs = minuteStart + 19 * 60_000;
    expect(s.podSeries(web.podUid, lastMs - 5 * 60_000).resolution).toBe("raw");
    const long = s.podSeries(web.podUid, lastMs - 19 * 60_000);
    expect(long.resolution).toBe("1m");
    // 19 closed minutes, and the one still open.
    expect(long.containers[0]?.points).toHaveLength(20);
  });
});

describe("retention", () => {
  const retention = { rawMs: 5 * 60_000, rollupMs: 20 * 60_000 };

  function appendMinutes(s: HistoryStore, minutes: number, everyMs = 10_000): number {
    let wallMs = T0_MS;
    for (; wallMs < T0_MS + minutes * 60_000; wallMs += everyMs) {
      s.appendTick(tickOf(wallMs, [sampleOf(web, wallMs, { cpuCores: 1 }), sampleOf(other, wallMs)], { cpuStallShare: 0 }), [web, other]);
    }
    return wallMs - everyMs;
  }

  test("raw samples older than the raw retention are deleted and newer ones kept", () => {
    const s = store("h.db", retention);
    const lastMs = appendMinutes(s, 30);
    const raw = s.latestWindow(0);
    const oldestMs = Math.min(...raw.map((x) => x.wallMs));
    // Pruning runs once a minute, so up to a minute more than the retention may remain.
    expect(oldestMs).toBeGreaterThanOrEqual(lastMs - retention.rawMs - 60_000);
    expect(oldestMs).toBeLessThanOrEqual(lastMs - retention.rawMs);
    expect(raw.filter((x) => x.wallMs > lastMs - retention.rawMs)).toHaveLength(2 * 30);
  });

  test("rollups outlive raw samples and are deleted after the rollup retention", () => {
    const s = store("h.db", retention);
    const lastMs = appendMinutes(s, 30);
    const points = s.podSeries(web.podUid, 0, { resolution: "1m" }).containers[0]?.points ?? [];
    expect(points.length).toBeGreaterThanOrEqual(20);
    expect(points.length).toBeLessThanOrEqual(21);
    expect(points.every((p) => p.wallMs > lastMs - retention.rollupMs - 60_000)).toBe(true);
    expect(points.every((p) => p.cpuCores === 1)).toBe(true);
  });

  test("node samples are kept as long as rollups", () => {
    const s = store("h.db", retention);
    const lastMs = appendMinutes(s, 30);
    const oldestMs = Math.min(...s.nodeSeries(0).map((x) => x.wallMs));
    expect(oldestMs).toBeGreaterThanOrEqual(lastMs - retention.rollupMs - 60_000);
    expect(oldestMs).toBeLessThanOrEqual(lastMs - retention.rollupMs);
  });

  test("pruning runs at most once a minute", () => {
    const s = store("h.db", retention);
    let wallMs = T0_MS;
    for (; wallMs <= T0_MS + 10 * 60_000; wallMs += 1000) s.appendTick(tickOf(wallMs, [sampleOf(web, wallMs)]), [web]);
    const afterPrune = s.stats().rawRows;
    for (let i = 0; i < 30; i++, wallMs += 1000) s.appendTick(tickOf(wallMs, [sampleOf(web, wallMs)]), [web]);
    // Within the minute nothing is deleted, although 30 more seconds fell out of the retention.
    expect(s.stats().rawRows).toBe(afterPrune + 30);
  });

  test("a target not seen for longer than the rollup retention is forgotten", () => {
    const s = store("h.db", retention);
    s.appendTick(tickOf(T0_MS, [sampleOf(other, T0_MS)], undefined), [other]);
    s.appendTick(tickOf(T0_MS + 1000, [], undefined, [other.key]), []);
    for (let m = 1; m <= 23; m++) s.appendTick(tickOf(T0_MS + m * 60_000, [sampleOf(web, T0_MS + m * 60_000)]), [web]);
    expect(s.targets().map((t) => t.key)).toEqual([web.key]);
  });

  test("a raw retention shorter than two minutes, or rollups kept shorter than raw, is rejected", () => {
    expect(() => openStore(":memory:", { retention: { rawMs: 60_000 } })).toThrow(/at least 2 minutes/);
    expect(() => openStore(":memory:", { retention: { rawMs: 3_600_000, rollupMs: 60_000 } })).toThrow(/shorter than raw/);
  });
});

describe("stats and closing", () => {
  test("samplesStored counts every sample ever appended, across reopening and after pruning", () => {
    const path = file("h.db");
    const first = openStore(path, { retention: { rawMs: 120_000, rollupMs: 120_000 } });
    for (let i = 0; i < 300; i++) first.appendTick(tickOf(T0_MS + i * 1000, [sampleOf(web, T0_MS + i * 1000)]), [web]);
    first.close();
    const reopened = store("h.db");
    reopened.appendTick(tickOf(T0_MS + 300_000, [sampleOf(web, T0_MS + 300_000), sampleOf(other, T0_MS + 300_000)]), [web, other]);
    const stats = reopened.stats();
    expect(stats.samplesStored).toBe(302);
    expect(stats.rawRows).toBeLessThan(302);
    expect(stats.rollupRows).toBeGreaterThan(0);
    expect(stats.fileBytes).toBeGreaterThan(0);
  });

  test("close checkpoints the write-ahead log into the database file", () => {
    const path = file("h.db");
    const s = openStore(path);
    for (let i = 0; i < 100; i++) s.appendTick(tickOf(T0_MS + i * 1000, [sampleOf(web, T0_MS + i * 1000)]), [web]);
    expect(existsSync(`${path}-wal`) && statSync(`${path}-wal`).size > 0).toBe(true);
    s.close();
    expect(!existsSync(`${path}-wal`) || statSync(`${path}-wal`).size === 0).toBe(true);
    const db = new Database(path, { readonly: true });
    expect(db.prepare("SELECT count(*) AS n FROM samples").get()).toEqual({ n: 100 });
    db.close();
  });

  test("the database file is in WAL mode, so readers do not block the writer", () => {
    const path = file("h.db");
    store("h.db");
    const db = new Database(path, { readonly: true });
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    db.close();
  });
});
