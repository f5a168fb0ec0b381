import { MINUTE_MS } from "./codec.js";
import type { Retention } from "./types.js";

export const DEFAULT_RETENTION: Retention = { rawMs: 3_600_000, rollupMs: 86_400_000, incidentMs: 14 * 86_400_000 };
const MIN_RAW_RETENTION_MS = 2 * MINUTE_MS;

export function validRetention(retention: Retention): Retention {
  if (!(retention.rawMs >= MIN_RAW_RETENTION_MS)) {
    throw new RangeError(`raw retention ${retention.rawMs} ms is too short: keep at least 2 minutes, so a minute is still raw when it is rolled up`);
  }
  if (!(retention.rollupMs >= retention.rawMs)) {
    throw new RangeError(`rollup retention ${retention.rollupMs} ms is shorter than raw retention ${retention.rawMs} ms`);
  }
  // Incidents are records of their own, not summaries of samples, so any span works; only zero or less would
  // delete each incident the moment it closes.
  if (!(retention.incidentMs > 0)) {
    throw new RangeError(`incident retention ${retention.incidentMs} ms must be positive: closed incidents would be deleted as soon as they close`);
  }
  return retention;
}
