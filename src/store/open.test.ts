import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { jest } from "@jest/globals";
import Database from "better-sqlite3";
import { openStore } from "./store.js";
import { StoreOpenError } from "./open.js";
import { HistoryUnavailableError } from "./recovering.js";
import { T0_MS, sampleOf, scratchDir, target, tickOf } from "./testing.js";
import type { StoreLogger } from "./types.js";

let scratch: ReturnType<typeof scratchDir>;
beforeEach(() => {
  scratch = scratchDir();
});
afterEach(() => {
  scratch.cleanup();
});

function recordingLogger(): StoreLogger & { readonly lines: { obj: object; msg: string }[] } {
  const lines: { obj: object; msg: string }[] = [];
  return {
    lines,
    warn(obj, msg) {
      lines.push({ obj, msg });
    },
  };
}

function corruptFiles(): string[] {
  return readdirSync(scratch.dir)
    .filter((name) => name.includes(".corrupt-"))
    .sort();
}

function expectWorkingStore(path: string): void {
  const web = target(1);
  const store = openStore(path);
  store.appendTick(tickOf(T0_MS, [sampleOf(web, T0_MS, { cpuCores: 0.5 })]), [web]);
  expect(store.latestWindow(T0_MS)).toEqual([expect.objectContaining({ key: web.key, cpuCores: 0.5 })]);
  store.close();
}

test("a file that is not a database is moved aside with its -wal and -shm, logged once naming both paths, and replaced", () => {
  const path = scratch.file("history.db");
  const garbage = Buffer.from("this is not a SQLite database, it is garbage ".repeat(200));
  writeFileSync(path, garbage);
  writeFileSync(`${path}-wal`, "stale wal");
  writeFileSync(`${path}-shm`, "stale shm");
  const logger = recordingLogger();

  const store = openStore(path, { logger });
  store.close();

  const moved = corruptFiles();
  expect(moved).toHaveLength(3);
  const [main, shm, wal] = moved.map((name) => scratch.file(name)) as [string, string, string];
  expect(main).toMatch(/history\.db\.corrupt-\d{4}-\d{2}-\d{2}T[\d-]+Z$/);
  expect(shm).toBe(`${main}-shm`);
  expect(wal).toBe(`${main}-wal`);
  expect(readFileSync(main)).toEqual(garbage);
  expect(logger.lines).toHaveLength(1);
  expect(logger.lines[0]?.msg).toContain(path);
  expect(logger.lines[0]?.msg).toContain(main);
  expect(logger.lines[0]?.obj).toMatchObject({ path, movedTo: main });
  expectWorkingStore(path);
});

test("a database damaged inside its pages is detected on open, moved aside and replaced", () => {
  const path = scratch.file("history.db");
  const web = target(1);
  const store = openStore(path);
  for (let i = 0; i < 3000; i++) store.appendTick(tickOf(T0_MS + i * 1000, [sampleOf(web, T0_MS + i * 1000, { cpuCores: 1 })]), [web]);
  store.close();
  // Keep the header page intact so SQLite opens the file, and overwrite the middle with noise.
  const size = statSync(path).size;
  const fd = openSync(path, "r+");
  const noise = Buffer.alloc(16 * 4096, 0xa5);
  writeSync(fd, noise, 0, noise.length, Math.floor(size / 2 / 4096) * 4096);
  closeSync(fd);
  const logger = recordingLogger();

  openStore(path, { logger }).close();

  expect(corruptFiles()).toHaveLength(1);
  expect(logger.lines).toHaveLength(1);
  expectWorkingStore(path);
});

/**
 * Damages the pages of a database another connection (the store's) holds open: everything is checkpointed
 * into the main file, all but the header page overwritten, and a header-only write from a second
 * connection makes the store's connection drop its page cache, so its next call reads the damage.
 */
function damageLive(path: string): void {
  const other = new Database(path);
  try {
    other.pragma("wal_checkpoint(TRUNCATE)");
    const size = statSync(path).size;
    const fd = openSync(path, "r+");
    const noise = Buffer.alloc(size - 4096, 0xab);
    writeSync(fd, noise, 0, noise.length, 4096);
    closeSync(fd);
    other.pragma("user_version = 7");
  } finally {
    other.close();
  }
}

test("a database damaged while the store runs is moved aside at the first failing call, which then succeeds on a fresh history", () => {
  const path = scratch.file("history.db");
  const web = target(1);
  const logger = recordingLogger();
  const store = openStore(path, { logger });
  const tick = (i: number) => tickOf(T0_MS + i * 1000, [sampleOf(web, T0_MS + i * 1000, { cpuCores: i })]);
  for (let i = 0; i < 50; i++) store.appendTick(tick(i), [web]);
  damageLive(path);

  store.appendTick(tick(50), [web]);
  store.appendTick(tick(51), [web]);

  const moved = corruptFiles().filter((name) => !name.endsWith("-wal") && !name.endsWith("-shm"));
  expect(moved).toHaveLength(1);
  expect(logger.lines).toHaveLength(1);
  expect(logger.lines[0]?.msg).toMatch(/became unreadable .*moved it aside to .*history\.db\.corrupt-.* and started a fresh history/);
  expect(logger.lines[0]?.obj).toMatchObject({ path, movedTo: scratch.file(moved[0] ?? "") });
  expect(store.latestWindow(T0_MS).map((s) => s.cpuCores)).toEqual([50, 51]);
  expect(store.stats().samplesStored).toBe(2);
  store.close();
  // The moved file is the damaged one: it no longer opens as a history.
  expect(() => {
    const db = new Database(scratch.file(moved[0] ?? ""), { readonly: true });
    try {
      db.prepare("SELECT count(*) FROM samples").get();
    } finally {
      db.close();
    }
  }).toThrow(/malformed|not a database/);
});

test("a second damage soon after a recovery is reported to the caller instead of moving yet another file aside", () => {
  const path = scratch.file("history.db");
  const web = target(1);
  const logger = recordingLogger();
  const store = openStore(path, { logger });
  const tick = (i: number) => tickOf(T0_MS + i * 1000, [sampleOf(web, T0_MS + i * 1000, { cpuCores: 1 })]);
  for (let i = 0; i < 50; i++) store.appendTick(tick(i), [web]);
  damageLive(path);
  store.appendTick(tick(50), [web]);
  for (let i = 51; i < 100; i++) store.appendTick(tick(i), [web]);
  damageLive(path);

  expect(() => {
    store.appendTick(tick(100), [web]);
  }).toThrow(/malformed/);
  expect(corruptFiles().filter((name) => !name.endsWith("-wal") && !name.endsWith("-shm"))).toHaveLength(1);
  expect(logger.lines).toHaveLength(1);
  store.close();
});

test("without a logger the warning goes to stderr", () => {
  const path = scratch.file("history.db");
  writeFileSync(path, Buffer.alloc(8192, 0x42));
  const stderr = jest.spyOn(console, "error").mockImplementation(() => undefined);
  try {
    openStore(path).close();
    expect(stderr).toHaveBeenCalledTimes(1);
    expect(String(stderr.mock.calls[0]?.[0])).toContain(`${path}.corrupt-`);
  } finally {
    stderr.mockRestore();
  }
});

test("an empty file is a valid empty database and is not moved aside", () => {
  const path = scratch.file("history.db");
  writeFileSync(path, "");
  const logger = recordingLogger();
  openStore(path, { logger }).close();
  expect(logger.lines).toEqual([]);
  expect(corruptFiles()).toEqual([]);
});

test("a path whose directory cannot be created is a clear error naming the path", () => {
  const blocker = scratch.file("not-a-dir");
  writeFileSync(blocker, "");
  const path = `${blocker}/history.db`;
  expect(() => openStore(path)).toThrow(StoreOpenError);
  expect(() => openStore(path)).toThrow(new RegExp(`cannot open the history store at ${path}: .*writable`));
});

test("a directory that cannot be written is a clear error naming the path, and nothing is moved", () => {
  // /proc refuses new files even to root, unlike a chmod-ed directory.
  const path = "/proc/xander-history.db";
  expect(() => openStore(path)).toThrow(StoreOpenError);
  expect(() => openStore(path)).toThrow(/cannot open the history store at \/proc\/xander-history\.db: .*\/proc exists and is writable/);
  expect(existsSync(path)).toBe(false);
});

test("with reopenEveryMs a file that cannot be opened is waited for: calls name the file until it opens, and it opens by itself", () => {
  const blocker = scratch.file("not-yet-a-dir");
  writeFileSync(blocker, "");
  const path = `${blocker}/history.db`;
  const logger = recordingLogger();
  const store = openStore(path, { logger, reopenEveryMs: 0 });
  const web = target(1);
  const tick = tickOf(T0_MS, [sampleOf(web, T0_MS, { cpuCores: 0.5 })]);
  expect(() => { store.appendTick(tick, [web]); }).toThrow(HistoryUnavailableError);
  expect(() => { store.appendTick(tick, [web]); }).toThrow(new RegExp(`history store ${path} is not open \\(cannot open the history store at ${path}`));
  expect(store.stats().samplesStored).toBe(0);
  expect(logger.lines[0]?.msg).toMatch(new RegExp(`cannot open the history store ${path} .*running without history, detection continues, trying again`));

  rmSync(blocker);
  mkdirSync(blocker);
  store.appendTick(tick, [web]);
  expect(store.latestWindow(T0_MS)).toEqual([expect.objectContaining({ key: web.key, cpuCores: 0.5 })]);
  expect(logger.lines.at(-1)?.msg).toMatch(/is open again/);
  store.close();
});

test("with reopenEveryMs the file is not tried again before the interval", () => {
  const blocker = scratch.file("blocked");
  writeFileSync(blocker, "");
  const path = `${blocker}/history.db`;
  const logger = recordingLogger();
  const store = openStore(path, { logger, reopenEveryMs: 60_000 });
  rmSync(blocker);
  mkdirSync(blocker);
  expect(() => store.openIncidents()).toThrow(/trying to open it every 60 s/);
  expect(logger.lines).toHaveLength(1);
  store.close();
});
