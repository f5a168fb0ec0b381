/** Sleeps until a wall-clock time, waking early when `signal` aborts. */
export function sleepUntil(wallMs: number, signal?: AbortSignal): Promise<void> {
  const delayMs = wallMs - Date.now();
  if (delayMs <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, delayMs);
    signal?.addEventListener("abort", done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}

const DAY_MS = 86_400_000;
/** 10000-01-01T00:00:00Z: from here on toISOString writes a six-digit, signed year. */
const YEAR_10000_MS = 253_402_300_800_000;

let cachedDay = Number.NaN;
let cachedDayPrefix = "";

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function pad3(n: number): string {
  return n < 10 ? `00${n}` : n < 100 ? `0${n}` : String(n);
}

/**
 * `new Date(ms).toISOString()`, ten times faster for the times history holds: answers carry four timestamps
 * per incident, thousands of incidents at a time, and most of them share a day. The day's prefix comes from
 * toISOString itself; anything it would write differently (before 1970, from year 10000, not a whole
 * millisecond, not a time at all) goes to it unchanged.
 */
export function isoTime(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms >= YEAR_10000_MS) return new Date(ms).toISOString();
  const day = Math.floor(ms / DAY_MS);
  if (day !== cachedDay) {
    cachedDayPrefix = new Date(day * DAY_MS).toISOString().slice(0, "YYYY-MM-DDT".length);
    cachedDay = day;
  }
  let rest = ms - day * DAY_MS;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  return `${cachedDayPrefix}${pad2(hours)}:${pad2(minutes)}:${pad2(seconds)}.${pad3(rest - seconds * 1000)}Z`;
}
