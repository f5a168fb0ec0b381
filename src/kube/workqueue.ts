/**
 * A controller work queue with client-go's semantics:
 *  - a key is queued at most once (dedupe), however many watch events name it;
 *  - a key is never processed by two workers at once: added while in flight, it is marked dirty and
 *    queued again when the worker finishes;
 *  - failed keys come back after a per-key exponential backoff (capped), and retries across all keys
 *    are also limited by a token bucket, so a broken apiserver is not hammered;
 *  - a periodic resync re-enqueues every known key, so a missed event or a drifted object converges.
 *
 * Watch callbacks only call add(); the reconcile runs in a worker.
 */
import { backoffMs } from "./backoff.js";

export interface ReconcileResult {
  /** Reconcile this key again after this long, even without an event (level-triggered re-check). */
  readonly requeueAfterMs?: number;
}

export type ReconcileHandler = (key: string) => Promise<ReconcileResult | undefined>;

export interface WorkQueueOptions {
  readonly name: string;
  /** Delay of the first retry; doubles per consecutive failure of the key. */
  readonly baseDelayMs?: number;
  /** Retry delays never exceed this. */
  readonly maxDelayMs?: number;
  /** Retries across all keys: sustained rate (per second) and burst. */
  readonly retryQps?: number;
  readonly retryBurst?: number;
  /** Workers; different keys are processed in parallel, one key never is. */
  readonly concurrency?: number;
  /** Re-enqueue every key from `keys()` this often; 0 disables. */
  readonly resyncMs?: number;
  readonly keys?: () => Iterable<string>;
  readonly onError?: (key: string, err: unknown, retries: number, delayMs: number) => void;
  readonly now?: () => number;
}

/** Sustained rate with a burst allowance; reserve() returns how long the caller must wait for its token. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly qps: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  reserve(): number {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.qps);
    this.last = t;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly waiting = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly failures = new Map<string, number>();
  private readonly bucket: TokenBucket;
  private readonly now: () => number;
  private wakeWorkers: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  private workers: Promise<void>[] = [];
  private resyncTimer: NodeJS.Timeout | undefined;
  private shuttingDown = false;
  private paused = true;

  constructor(private readonly opts: WorkQueueOptions) {
    this.now = opts.now ?? Date.now;
    this.bucket = new TokenBucket(opts.retryQps ?? 10, opts.retryBurst ?? 100, this.now);
  }

  get name(): string {
    return this.opts.name;
  }

  /** Keys queued and not yet picked up by a worker. */
  get length(): number {
    return this.queue.length;
  }

  get inFlight(): number {
    return this.processing.size;
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.cancelWaiting(key);
    this.dirty.add(key);
    if (this.processing.has(key)) return; // re-queued when its worker finishes
    this.queue.push(key);
    this.wakeWorkers.shift()?.();
  }

  /** Adds the key after a delay; an earlier pending time for the same key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = this.now() + delayMs;
    const pending = this.waiting.get(key);
    if (pending !== undefined && pending.at <= at) return;
    if (pending !== undefined) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.waiting.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.waiting.set(key, { at, timer });
  }

  /** Adds the key after its backoff (and the global retry budget); returns the delay chosen. */
  addRateLimited(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const delayMs = Math.max(backoffMs(n, this.opts.baseDelayMs ?? 200, this.opts.maxDelayMs ?? 60_000), this.bucket.reserve());
    this.addAfter(key, delayMs);
    return delayMs;
  }

  /** The key succeeded: its next failure starts from the base delay again. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Starts the workers (and the resync). Keys added before start() wait until then. */
  start(handler: ReconcileHandler): void {
    if (!this.paused || this.shuttingDown) return;
    this.paused = false;
    const n = this.opts.concurrency ?? 1;
    for (let i = 0; i < n; i++) this.workers.push(this.worker(handler));
    const resyncMs = this.opts.resyncMs ?? 0;
    if (resyncMs > 0 && this.opts.keys !== undefined) {
      const keys = this.opts.keys;
      this.resyncTimer = setInterval(() => {
        for (const k of keys()) this.add(k);
      }, resyncMs);
      this.resyncTimer.unref();
    }
  }

  /** Stops the workers after their current key; queued keys stay queued for a later start(). */
  async pause(): Promise<void> {
    if (this.paused) return;
    this.paused = true;
    clearInterval(this.resyncTimer);
    for (const w of this.wakeWorkers.splice(0)) w();
    await Promise.all(this.workers.splice(0));
  }

  /** Stops accepting keys, drops delayed ones, and waits for in-flight reconciles. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    for (const { timer } of this.waiting.values()) clearTimeout(timer);
    this.waiting.clear();
    await this.pause();
  }

  /** Resolves when nothing is queued or in flight (delayed keys do not count). For tests and shutdown. */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private cancelWaiting(key: string): void {
    const pending = this.waiting.get(key);
    if (pending === undefined) return;
    clearTimeout(pending.timer);
    this.waiting.delete(key);
  }

  private next(): Promise<string | undefined> {
    if (this.paused) return Promise.resolve(undefined);
    const key = this.queue.shift();
    if (key !== undefined) return Promise.resolve(key);
    return new Promise((resolve) => {
      this.wakeWorkers.push(() => {
        resolve(this.paused ? undefined : this.queue.shift());
      });
    });
  }

  private async worker(handler: ReconcileHandler): Promise<void> {
    for (;;) {
      const key = await this.next();
      if (this.paused && key === undefined) return;
      if (key === undefined) continue;
      await this.process(key, handler);
    }
  }

  private async process(key: string, handler: ReconcileHandler): Promise<void> {
    this.processing.add(key);
    this.dirty.delete(key);
    try {
      const result = await handler(key);
      this.forget(key);
      if (result?.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
    } catch (err) {
      const retries = this.retries(key);
      const delayMs = this.addRateLimited(key);
      this.opts.onError?.(key, err, retries, delayMs);
    } finally {
      this.processing.delete(key);
      if (this.dirty.has(key)) {
        this.queue.push(key);
        this.wakeWorkers.shift()?.();
      }
      if (this.queue.length === 0 && this.processing.size === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }
}
