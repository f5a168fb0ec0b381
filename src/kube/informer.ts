/**
 * A list+watch cache of one kind, on client-node's ListWatch, that does not give up.
 *
 * client-node 1.x ListWatch relists by itself after a 410 Gone (and re-watches when the server closes a
 * watch normally), but on any other error (apiserver restart, network, 5xx, RBAC) it calls its error
 * handlers and stops for good. This wrapper restarts it with exponential backoff; it resumes from the last
 * resourceVersion, and a stale one turns into a 410 and a relist. Each watch request is bounded (watch.ts): the
 * server ends it every few minutes, and one that goes silent without closing is ended here and restarted, so a
 * stalled connection cannot leave the cache stale.
 *
 * Handlers must be cheap and must not throw: the controller's only enqueue a key.
 */
import { ListWatch, V1ListMeta, type KubernetesListObject, type KubernetesObject } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { KubeObject } from "../api/meta.js";
import { backoffMs, sleep } from "./backoff.js";
import type { ListClient } from "./list.js";
import type { ResourceKind } from "./resources.js";
import { GuardedWatch, defaultWatchTiming, type WatchTiming } from "./watch.js";

export interface InformerOptions {
  readonly kind: ResourceKind;
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly log?: Logger;
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /**
   * Applied to every object before it is cached, listed or watched alike: keep only what the reader needs
   * (a cluster-wide cache of full Pods is most of an agent's memory). Must keep metadata.name, namespace
   * and resourceVersion, which the cache keys and resumes on.
   */
  readonly transform?: (obj: KubeObject) => KubeObject;
  /** How long each watch lasts and when a silent one counts as stalled (watch.ts); default 5 to 10 minutes. */
  readonly watchTiming?: WatchTiming;
}

export type InformerEvent = "add" | "update" | "delete";
export type InformerHandler<T> = (event: InformerEvent, obj: T) => void;

/** A watch that ran at least this long was healthy: the next failure starts the backoff from the bottom. */
const HEALTHY_RUN_MS = 30_000;

export class Informer<T extends KubeObject> {
  private lw: ListWatch<KubernetesObject> | undefined;
  private readonly handlers: InformerHandler<T>[] = [];
  private stopped = true;
  private synced = false;
  private loop: Promise<void> | undefined;
  private pendingError: unknown;
  private wake: (() => void) | undefined;
  private syncWaiters: (() => void)[] = [];
  private readonly abort = new AbortController();

  constructor(
    private readonly client: ListClient,
    private readonly opts: InformerOptions,
  ) {}

  get kind(): string {
    return this.opts.kind.kind;
  }

  on(handler: InformerHandler<T>): void {
    this.handlers.push(handler);
  }

  /** Starts listing and watching; resolves once the first list is in the cache (or on stop). */
  async start(): Promise<void> {
    if (!this.stopped) return this.waitForSync();
    this.stopped = false;
    this.loop = this.run();
    return this.waitForSync();
  }

  hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(): Promise<void> {
    if (this.synced || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  get(name: string, namespace?: string): T | undefined {
    return this.lw?.get(name, namespace) as T | undefined;
  }

  list(namespace?: string): T[] {
    return [...(this.lw?.list(namespace) ?? [])] as T[];
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    await this.lw?.stop();
    this.wake?.();
    this.releaseSyncWaiters();
    await this.loop;
  }

  private releaseSyncWaiters(): void {
    for (const w of this.syncWaiters.splice(0)) w();
  }

  private emit(event: InformerEvent, obj: KubernetesObject): void {
    for (const h of this.handlers) {
      try {
        h(event, obj as T);
      } catch (err) {
        this.opts.log?.error({ err, kind: this.kind }, "informer handler threw (handlers should only enqueue)");
      }
    }
  }

  private async listWatch(): Promise<ListWatch<KubernetesObject>> {
    if (this.lw !== undefined) return this.lw;
    const { kind, namespace, labelSelector, fieldSelector, transform } = this.opts;
    const path = await this.client.collectionPath(kind, namespace);
    const listFn = async (): Promise<KubernetesListObject<KubernetesObject>> => {
      const res = await this.client.list<KubeObject>(kind, {
        ...(namespace === undefined ? {} : { namespace }),
        ...(labelSelector === undefined ? {} : { labelSelector }),
        ...(fieldSelector === undefined ? {} : { fieldSelector }),
        ...(safeTransform === undefined ? {} : { transform: safeTransform }),
      });
      const metadata = new V1ListMeta();
      metadata.resourceVersion = res.resourceVersion;
      return { apiVersion: kind.apiVersion, kind: `${kind.kind}List`, metadata, items: res.items as KubernetesObject[] };
    };
    const safeTransform = transform === undefined ? undefined : this.guarded(transform);
    const watch = new GuardedWatch(this.client.kubeConfig, this.opts.watchTiming ?? defaultWatchTiming(), safeTransform, (watched) => this.client.noteRequest?.("WATCH", watched));
    const lw = new ListWatch<KubernetesObject>(path, watch, listFn, false, labelSelector, fieldSelector);
    lw.on("add", (o) => {
      this.emit("add", o);
    });
    lw.on("update", (o) => {
      this.emit("update", o);
    });
    lw.on("delete", (o) => {
      this.emit("delete", o);
    });
    lw.on("error", (err?: unknown) => {
      if (this.stopped) return;
      this.pendingError = err ?? new Error("watch ended with an error");
      this.wake?.();
    });
    this.lw = lw;
    return lw;
  }

  /**
   * A transform that throws keeps the object whole: client-node's Watch drops an event whose callback
   * throws, and the cache would silently miss it until the next relist.
   */
  private guarded(transform: (obj: KubeObject) => KubeObject): (obj: KubeObject) => KubeObject {
    return (obj) => {
      try {
        return transform(obj);
      } catch (err) {
        const name = [obj.metadata?.namespace, obj.metadata?.name].filter(Boolean).join("/");
        this.opts.log?.warn({ err, kind: this.kind, name }, `cannot trim ${this.kind} ${name} for the cache; keeping it whole`);
        return obj;
      }
    };
  }

  private waitForError(): Promise<void> {
    if (this.pendingError !== undefined || this.stopped) return Promise.resolve();
    return new Promise((resolve) => (this.wake = resolve));
  }

  private async run(): Promise<void> {
    let attempt = 0;
    const min = this.opts.minBackoffMs ?? 500;
    const max = this.opts.maxBackoffMs ?? 30_000;
    while (!this.stopped) {
      this.pendingError = undefined;
      const startedAt = Date.now();
      try {
        await (await this.listWatch()).start();
      } catch (err) {
        this.pendingError = err;
      }
      // A watch that connected while stop() ran was not there to abort, and would keep the process alive.
      if (this.isStopped()) {
        await this.lw?.stop();
        break;
      }
      if (this.pendingError === undefined) {
        this.markSynced();
        await this.waitForError();
      }
      if (this.isStopped()) break;
      if (Date.now() - startedAt > HEALTHY_RUN_MS) attempt = 0;
      const delayMs = backoffMs(attempt++, min, max, 0.2);
      this.opts.log?.warn({ err: this.pendingError, kind: this.kind, delayMs }, `watch of ${this.kind} failed; restarting`);
      await sleep(delayMs, this.abort.signal);
    }
  }

  /** A method, not the field: the field is changed by stop() while run() awaits. */
  private isStopped(): boolean {
    return this.stopped;
  }

  private markSynced(): void {
    if (this.synced) return;
    this.synced = true;
    this.releaseSyncWaiters();
  }
}
