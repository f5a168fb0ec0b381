import { RecentViews } from "./recent-views.js";

function clock(startMs = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = startMs;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

/** A computation that counts its calls and answers with the call number, when released. */
function counted(): { compute: () => Promise<number>; calls: () => number; release: () => void } {
  let calls = 0;
  let waiting: (() => void)[] = [];
  return {
    compute: () => {
      calls++;
      const n = calls;
      return new Promise((resolve) => {
        waiting.push(() => {
          resolve(n);
        });
      });
    },
    calls: () => calls,
    release: () => {
      const now = waiting;
      waiting = [];
      for (const r of now) r();
    },
  };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Asks for `key` with nothing kept and lets the computation finish: the view's first answer. */
async function firstAnswer(views: RecentViews<number>, key: string, source: ReturnType<typeof counted>): Promise<number> {
  const answer = views.get(key, source.compute);
  await settle();
  source.release();
  return answer;
}

describe("RecentViews", () => {
  test("readers who ask together share one computation", async () => {
    const c = clock();
    const views = new RecentViews<number>({ freshMs: 1000, staleMs: 5000, now: c.now });
    const source = counted();
    const a = views.get("summary", source.compute);
    const b = views.get("summary", source.compute);
    await settle();
    source.release();
    expect(await Promise.all([a, b])).toEqual([1, 1]);
    expect(source.calls()).toBe(1);
  });

  test("a fresh view is answered without computing; a stale one at once, with a new one computed behind it", async () => {
    const c = clock();
    const views = new RecentViews<number>({ freshMs: 1000, staleMs: 5000, now: c.now });
    const source = counted();
    expect(await firstAnswer(views, "summary", source)).toBe(1);

    c.advance(999);
    expect(await views.get("summary", source.compute)).toBe(1);
    expect(source.calls()).toBe(1);

    c.advance(1);
    expect(await views.get("summary", source.compute)).toBe(1); // stale, answered at once
    await settle();
    expect(source.calls()).toBe(2);
    source.release();
    await settle();
    expect(await views.get("summary", source.compute)).toBe(2);
  });

  test("a view older than staleMs makes the reader wait for a new one", async () => {
    const c = clock();
    const views = new RecentViews<number>({ freshMs: 1000, staleMs: 5000, now: c.now });
    const source = counted();
    expect(await firstAnswer(views, "top", source)).toBe(1);
    c.advance(5000);
    let answered: number | undefined;
    const second = views.get("top", source.compute).then((v) => (answered = v));
    await settle();
    expect(answered).toBeUndefined();
    source.release();
    await second;
    expect(answered).toBe(2);
  });

  test("keys are separate, and a failed computation is not kept", async () => {
    const c = clock();
    const views = new RecentViews<string>({ freshMs: 1000, staleMs: 1000, now: c.now });
    await expect(views.get("a", () => Promise.reject(new Error("API unreachable")))).rejects.toThrow("API unreachable");
    expect(await views.get("a", () => Promise.resolve("a1"))).toBe("a1");
    expect(await views.get("b", () => Promise.resolve("b1"))).toBe("b1");
    expect(await views.get("a", () => Promise.resolve("a2"))).toBe("a1");
  });

  test("a computation that throws before returning a promise is a rejection, not a throw", async () => {
    const views = new RecentViews<string>({ freshMs: 1000, staleMs: 1000 });
    await expect(
      views.get("a", () => {
        throw new Error("bad query");
      }),
    ).rejects.toThrow("bad query");
  });

  test("beyond maxKeys the oldest key is dropped and computed again when asked", async () => {
    const views = new RecentViews<number>({ freshMs: 60_000, staleMs: 60_000, maxKeys: 2 });
    let calls = 0;
    const compute = (): Promise<number> => Promise.resolve(++calls);
    await views.get("a", compute);
    await views.get("b", compute);
    await views.get("c", compute);
    expect(await views.get("b", compute)).toBe(2);
    expect(await views.get("a", compute)).toBe(4);
  });
});
