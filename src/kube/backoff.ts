/**
 * Exponential backoff: base * 2^attempt, capped, with up to `jitter` extra so that many clients
 * retrying after the same outage do not arrive at the apiserver together.
 */
export function backoffMs(attempt: number, baseMs: number, capMs: number, jitter = 0): number {
  const exp = Math.min(capMs, baseMs * 2 ** Math.max(0, Math.min(attempt, 30)));
  return Math.min(capMs, exp * (1 + jitter * Math.random()));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
