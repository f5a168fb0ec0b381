import { closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, statSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { migrate } from "./migrations.js";
import type { StoreLogger } from "./types.js";

export const MEMORY_PATH = ":memory:";
const SIDE_FILES = ["", "-wal", "-shm"] as const;
/** Every SQLite 3 database file starts with these 16 bytes (sqlite.org/fileformat.html, "The Database Header"). */
const SQLITE_MAGIC = Buffer.from("SQLite format 3\0", "latin1");

/** Damage found by our own checks (header, `PRAGMA quick_check`) rather than raised by SQLite. */
export class CorruptDatabaseError extends Error {
  constructor(path: string, problems: readonly string[]) {
    super(`${path}: ${problems.slice(0, 3).join("; ")}`);
    this.name = "CorruptDatabaseError";
  }
}

/** The file cannot be opened or written for a reason that moving it aside would not fix. */
export class StoreOpenError extends Error {
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super(
      `cannot open the history store at ${path}: ${messageOf(cause)} ` +
        `(make sure ${dirname(path)} exists and is writable by the agent, or choose another path)`,
      { cause },
    );
    this.name = "StoreOpenError";
  }
}

/**
 * Errors are read by shape, not `instanceof`: the addon raises errors of the class (and realm) of the first copy
 * of better-sqlite3 loaded in the process, which is not the one a test runner's fresh module registry sees.
 */
function field(error: unknown, name: "code" | "message" | "name"): string | undefined {
  if (typeof error !== "object" || error === null || !(name in error)) return undefined;
  const value = (error as Record<string, unknown>)[name];
  return typeof value === "string" ? value : undefined;
}

export function messageOf(error: unknown): string {
  return field(error, "message") ?? String(error);
}

/** The SQLite result code of an error raised by better-sqlite3, e.g. `SQLITE_CORRUPT`. */
export function sqliteCode(error: unknown): string | undefined {
  const code = field(error, "code");
  return code?.startsWith("SQLITE_") ? code : undefined;
}

/**
 * The disk (or the filesystem's quota) is full: SQLite's SQLITE_FULL, or ENOSPC/EDQUOT from the file system,
 * looked for in the error and its causes.
 */
export function isDiskFull(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e !== undefined && depth < 5; e = causeOf(e), depth++) {
    const code = field(e, "code") ?? "";
    if (code.startsWith("SQLITE_FULL") || code === "ENOSPC" || code === "EDQUOT") return true;
    if (/database or disk is full|no space left on device/i.test(messageOf(e))) return true;
  }
  return false;
}

function causeOf(error: unknown): unknown {
  return typeof error === "object" && error !== null && "cause" in error ? error.cause : undefined;
}

/** Damage to the file's contents, as opposed to a missing directory, a permission or a lock. */
export function isCorruption(error: unknown): boolean {
  if (error instanceof CorruptDatabaseError) return true;
  const code = sqliteCode(error) ?? "";
  return code === "SQLITE_NOTADB" || code.startsWith("SQLITE_CORRUPT");
}

/**
 * Opens (creating if needed) and migrates the database at `path`. A corrupt file, or one that is not a
 * database, is moved aside with its -wal and -shm files and a fresh database is created in its place: a node's
 * history is worth less than an agent that starts. Anything else (a directory that cannot be written, a schema
 * from a newer build) is thrown, naming the path.
 */
export function openDatabase(path: string, logger: StoreLogger, busyTimeoutMs: number): Database.Database {
  if (path !== MEMORY_PATH) ensureDirectory(path);
  try {
    return openAndMigrate(path, busyTimeoutMs);
  } catch (error) {
    if (!isCorruption(error)) throw wrapOpenError(path, error);
    const movedTo = moveAside(path, new Date());
    logger.warn(
      { path, movedTo, error: messageOf(error) },
      `history store ${path} is unreadable (${messageOf(error)}); moved it aside to ${movedTo} and started a fresh history`,
    );
  }
  // A second failure is not retried: with the old file gone it is the disk or the directory, not the data.
  return openAndMigrate(path, busyTimeoutMs);
}

function ensureDirectory(path: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (error) {
    throw new StoreOpenError(path, error);
  }
}

/** Errors that mean "this place cannot hold a database" get the path and the way out; others pass unchanged. */
function wrapOpenError(path: string, error: unknown): unknown {
  const code = sqliteCode(error) ?? "";
  const unwritable = code.startsWith("SQLITE_CANTOPEN") || code.startsWith("SQLITE_READONLY") || code.startsWith("SQLITE_PERM");
  const noDirectory = /directory does not exist/.test(messageOf(error));
  return unwritable || noDirectory ? new StoreOpenError(path, error) : error;
}

function openAndMigrate(path: string, busyTimeoutMs: number): Database.Database {
  if (path !== MEMORY_PATH) checkHeader(path);
  const db = new Database(path, { timeout: busyTimeoutMs });
  try {
    configure(db, busyTimeoutMs);
    quickCheck(db, path);
    migrate(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * Refuses a non-empty file without the SQLite header before SQLite opens it: SQLite would fail too, but only
 * after discarding the -wal and -shm files beside it, which we want to keep for whoever looks into it.
 * An empty file is fine: in WAL mode the data can still be entirely in the -wal.
 */
function checkHeader(path: string): void {
  if (!existsSync(path) || statSync(path).size === 0) return;
  const head = Buffer.alloc(SQLITE_MAGIC.length);
  const fd = openSync(path, "r");
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (!head.equals(SQLITE_MAGIC)) throw new CorruptDatabaseError(path, ["file is not a database (no SQLite header)"]);
}

function configure(db: Database.Database, busyTimeoutMs: number): void {
  db.pragma(`busy_timeout = ${Math.max(0, Math.round(busyTimeoutMs))}`);
  // WAL lets readers (the API server) run while the agent writes; NORMAL only syncs at checkpoints, so a power
  // loss can drop the last ticks but never corrupts the file, a good trade for monitoring history.
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
}

function quickCheck(db: Database.Database, path: string): void {
  const problems = db.pragma("quick_check", { simple: false }) as { quick_check: string }[];
  const messages = problems.map((row) => row.quick_check);
  if (messages.length !== 1 || messages[0] !== "ok") throw new CorruptDatabaseError(path, messages.map((m) => `quick_check: ${m}`));
}

/** Renames the file and its -wal/-shm to `<path>.corrupt-<timestamp>[-wal|-shm]` and returns the new main path. */
export function moveAside(path: string, at: Date): string {
  const movedTo = `${path}.corrupt-${at.toISOString().replace(/[:.]/g, "-")}`;
  for (const suffix of SIDE_FILES) {
    if (existsSync(path + suffix)) renameSync(path + suffix, movedTo + suffix);
  }
  return movedTo;
}
