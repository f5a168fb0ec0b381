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
