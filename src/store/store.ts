/** Opening the node-local history: the one way in, for the agent, `xander scan` and the benchmarks. */
import { MEMORY_PATH, openDatabase } from "./open.js";
import { RecoveringHistoryStore } from "./recovering.js";
import { DEFAULT_RETENTION, validRetention } from "./retention.js";
import { SqliteHistoryStore } from "./sqlite-store.js";
import type { HistoryStore, StoreLogger, StoreOptions } from "./types.js";

export { DEFAULT_RETENTION } from "./retention.js";
export { AUTO_RAW_MAX_SPAN_MS } from "./sqlite-store.js";
const DEFAULT_BUSY_TIMEOUT_MS = 5000;

const defaultLogger: StoreLogger = {
  warn(_obj, msg) {
    console.error(msg);
  },
};

/**
 * Opens the history at `path` (`:memory:` for tests), creating, migrating or, when the file is corrupt,
 * replacing it. Throws on a bad retention, a directory that cannot be written, or a schema from a newer build;
 * with `reopenEveryMs`, only on a bad retention or a newer schema (the store then waits for its file).
 */
export function openStore(path: string, opts: StoreOptions = {}): HistoryStore {
  const retention = validRetention({ ...DEFAULT_RETENTION, ...opts.retention });
  const logger = opts.logger ?? defaultLogger;
  const open = (): SqliteHistoryStore => {
    const db = openDatabase(path, logger, opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
    try {
      return new SqliteHistoryStore(db, path, retention);
    } catch (error) {
      db.close();
      throw error;
    }
  };
  if (path === MEMORY_PATH) return open();
  return new RecoveringHistoryStore(open, logger, { path, retention, ...(opts.reopenEveryMs === undefined ? {} : { reopenEveryMs: opts.reopenEveryMs }) });
}
