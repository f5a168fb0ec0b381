import { closeSync, existsSync, openSync, readFileSync, readdirSync, statSync, writeFileSync, writeSync } from "node:fs";
import { jest } from "@jest/globals";
import { openStore } from "./store.js";
import { StoreOpenError } from "./open.js";
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
