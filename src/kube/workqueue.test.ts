import { TokenBucket, WorkQueue } from "./workqueue.js";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function until(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(5);
  }
}

describe("WorkQueue", () => {
  let queues: WorkQueue[] = [];
  const make = (opts: Partial<ConstructorParameters<typeof WorkQueue>[0]> = {}) => {
    const q = new WorkQueue({ name: "test", ...opts });
    queues.push(q);
    return q;
  };
  afterEach(async () => {
    await Promise.all(queues.map((q) => q.shutdown()));
    queues = [];
  });

  test("a key added many times before a worker picks it up is processed once", async () => {
    const q = make();
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) q.add("a");
    q.add("b");
    q.add("a");
    expect(q.length).toBe(2);
    q.start((k) => {
      seen.push(k);
      return Promise.resolve(undefined);
    });
    await q.idle();
    expect(seen).toEqual(["a", "b"]);
  });

  test("the same key is never processed concurrently, and an add during processing runs it once more afterwards", async () => {
    const q = make({ concurrency: 4 });
    let running = 0;
    let maxRunning = 0;
    let calls = 0;
    q.start(async () => {
      calls++;
      running++;
      maxRunning = Math.max(maxRunning, running);
      await sleep(30);
      running--;
      return undefined;
    });
    q.add("a");
    await until(() => q.inFlight === 1);
    q.add("a"); // while in flight: marked dirty
    q.add("a"); // deduplicated with the dirty mark
    await until(() => calls === 2 && q.inFlight === 0);
    await sleep(50);
    expect(calls).toBe(2);
    expect(maxRunning).toBe(1);
  });

  test("different keys are processed in parallel up to the concurrency", async () => {
    const q = make({ concurrency: 3 });
    let running = 0;
    let maxRunning = 0;
    q.start(async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await sleep(30);
      running--;
      return undefined;
    });
    for (const k of ["a", "b", "c", "d", "e"]) q.add(k);
    await until(() => q.length === 0 && q.inFlight === 0);
    expect(maxRunning).toBe(3);
  });

  test("a failing key is retried with exponentially growing delays, and forgotten after a success", async () => {
    const q = make({ baseDelayMs: 20, maxDelayMs: 10_000 });
    const times: number[] = [];
    q.start(() => {
      times.push(Date.now());
      if (times.length <= 4) throw new Error("boom");
      return Promise.resolve(undefined);
    });
    q.add("a");
    await until(() => times.length === 5, 5000);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // 20, 40, 80, 160 ms (timers may fire a little late, never early)
    expect(gaps[0]).toBeGreaterThanOrEqual(18);
    expect(gaps[1]).toBeGreaterThanOrEqual(38);
    expect(gaps[2]).toBeGreaterThanOrEqual(78);
    expect(gaps[3]).toBeGreaterThanOrEqual(158);
    expect(gaps[3]!).toBeGreaterThan(gaps[0]! * 3);
    await until(() => q.inFlight === 0);
    expect(q.retries("a")).toBe(0);
  });

  test("retry delays are capped", () => {
    const q = make({ baseDelayMs: 100, maxDelayMs: 1000, retryBurst: 1000 });
    const delays = Array.from({ length: 12 }, () => q.addRateLimited("a"));
    expect(delays.slice(0, 4)).toEqual([100, 200, 400, 800]);
    expect(Math.max(...delays)).toBe(1000);
    expect(delays.at(-1)).toBe(1000);
    q.forget("a");
    expect(q.addRateLimited("a")).toBe(100);
  });

  test("onError sees the error, the retry count and the delay", async () => {
    const seen: [string, string, number, number][] = [];
    const q = make({ baseDelayMs: 10, onError: (k, e, n, d) => seen.push([k, (e as Error).message, n, d]) });
    let n = 0;
    q.start(() => {
      if (n++ < 2) throw new Error(`fail ${n}`);
      return Promise.resolve(undefined);
    });
    q.add("k");
    await until(() => n === 3);
    expect(seen).toEqual([
      ["k", "fail 1", 0, 10],
      ["k", "fail 2", 1, 20],
    ]);
  });

  test("retries across all keys are rate limited by a token bucket once the burst is spent", () => {
    let now = 0;
    const q = make({ baseDelayMs: 1, retryQps: 10, retryBurst: 2, now: () => now });
    expect(q.addRateLimited("a")).toBe(1);
    expect(q.addRateLimited("b")).toBe(1);
    // burst spent: the third retry waits for a token (100 ms at 10/s), the fourth for two
    expect(q.addRateLimited("c")).toBeCloseTo(100);
    expect(q.addRateLimited("d")).toBeCloseTo(200);
    now += 1000;
    expect(q.addRateLimited("e")).toBe(1);
  });

  test("requeueAfter brings a key back without an event", async () => {
    const q = make();
    const times: number[] = [];
    q.start(() => {
      times.push(Date.now());
      return Promise.resolve(times.length < 3 ? { requeueAfterMs: 30 } : undefined);
    });
    q.add("a");
    await until(() => times.length === 3);
    expect(times[2]! - times[0]!).toBeGreaterThanOrEqual(55);
  });

  test("addAfter keeps the earliest pending time for a key", async () => {
    const q = make();
    const seen: number[] = [];
    const t0 = Date.now();
    q.start(() => {
      seen.push(Date.now() - t0);
      return Promise.resolve(undefined);
    });
    q.addAfter("a", 400);
    q.addAfter("a", 20);
    q.addAfter("a", 300);
    await until(() => seen.length === 1);
    await sleep(450);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeLessThan(300);
  });

  test("the periodic resync re-enqueues every known key", async () => {
    const known = ["x", "y"];
    const q = make({ resyncMs: 40, keys: () => known });
    const counts = new Map<string, number>();
    q.start((k) => {
      counts.set(k, (counts.get(k) ?? 0) + 1);
      return Promise.resolve(undefined);
    });
    await until(() => (counts.get("x") ?? 0) >= 2 && (counts.get("y") ?? 0) >= 2);
  });

  test("shutdown waits for the in-flight reconcile and then refuses new keys", async () => {
    const q = make();
    let finished = false;
    q.start(async () => {
      await sleep(50);
      finished = true;
      return undefined;
    });
    q.add("a");
    await until(() => q.inFlight === 1);
    await q.shutdown();
    expect(finished).toBe(true);
    q.add("b");
    expect(q.length).toBe(0);
  });

  test("pause keeps queued keys for the next start (a standby replica becoming leader)", async () => {
    const q = make();
    const seen: string[] = [];
    const handler = (k: string) => {
      seen.push(k);
      return Promise.resolve(undefined);
    };
    q.start(handler);
    await q.pause();
    q.add("a");
    q.add("b");
    await sleep(20);
    expect(seen).toEqual([]);
    q.start(handler);
    await q.idle();
    expect(seen).toEqual(["a", "b"]);
  });
});

test("TokenBucket refills at its rate up to the burst", () => {
  let now = 0;
  const b = new TokenBucket(2, 1, () => now);
  expect(b.reserve()).toBe(0);
  expect(b.reserve()).toBeCloseTo(500);
  now = 10_000;
  expect(b.reserve()).toBe(0);
});
