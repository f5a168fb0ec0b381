/**
 * Views that many readers ask for, each computed at most once per `freshMs` however many ask: the read API's
 * summary, top and incidents, and the dashboard's streams.
 *
 * A view computed less than `staleMs` ago is answered at once; if it is older than `freshMs`, a new one is
 * computed behind it for the next reader (stale-while-revalidate). Only a reader who finds no view, or one older
 * than `staleMs`, waits for the computation. Why: a view over 1,000 NodeFindings takes tens of milliseconds of
 * the controller's one thread, and readers poll; answering a kept one takes none, so how long a reader waits no
 * longer grows with the cluster. Readers who ask together share one computation, and a failed one is not kept.
 */
export interface RecentViewsOptions {
  /** A view younger than this is answered without computing. */
  readonly freshMs: number;
  /** A view younger than this is still answered at once, while a fresh one is computed; at least freshMs. */
  readonly staleMs: number;
  /** Views kept, one per key; the oldest key is dropped beyond it. Default 256. */
  readonly maxKeys?: number;
  readonly now?: () => number;
}

interface Entry<T> {
  kept?: { readonly view: T; readonly atMs: number };
  computing?: Promise<T>;
}

export class RecentViews<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly now: () => number;

  constructor(private readonly options: RecentViewsOptions) {
    this.now = options.now ?? Date.now;
  }

  get(key: string, compute: () => Promise<T>): Promise<T> {
    const entry = this.entry(key);
    const kept = entry.kept;
    const ageMs = kept === undefined ? Number.POSITIVE_INFINITY : this.now() - kept.atMs;
    if (kept !== undefined && ageMs < this.options.freshMs) return Promise.resolve(kept.view);
    if (kept !== undefined && ageMs < this.options.staleMs) {
      // The reader has its answer; a failure here only means the next one computes again.
      this.computeFor(entry, compute).catch(() => undefined);
      return Promise.resolve(kept.view);
    }
    return this.computeFor(entry, compute);
  }

  private entry(key: string): Entry<T> {
    const found = this.entries.get(key);
    if (found !== undefined) return found;
    const maxKeys = this.options.maxKeys ?? 256;
    if (this.entries.size >= maxKeys) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    const entry: Entry<T> = {};
    this.entries.set(key, entry);
    return entry;
  }

  private computeFor(entry: Entry<T>, compute: () => Promise<T>): Promise<T> {
    if (entry.computing !== undefined) return entry.computing;
    // Kept with the time it was started: the view holds what the sources held then.
    const startedMs = this.now();
    const computing = Promise.resolve()
      .then(compute)
      .then((view) => {
        entry.kept = { view, atMs: startedMs };
        return view;
      })
      .finally(() => {
        entry.computing = undefined;
      });
    entry.computing = computing;
    return computing;
  }
}
