/**
 * One watch request that cannot hang forever. client-node's Watch sets no timeout at all (its 30 s signal is
 * overwritten before use), asks for no server-side timeout and no bookmarks, so a connection that stops
 * delivering without closing (a stalled proxy or NAT entry, a half-dead load balancer) leaves the cache
 * silently stale until the apiserver's own timeout, 30 to 60 minutes later, if that close ever arrives.
 *
 * As client-go's reflector does, this asks the apiserver to end each watch after `timeoutSeconds` (the watch
 * then resumes from the last resourceVersion, without a relist) and to send bookmarks. On top of that a
 * client-side watchdog ends the request when no byte has arrived for `timeoutSeconds` plus a grace: a healthy
 * watch is closed by the server before then, so only a stalled one trips it, and the informer restarts it.
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from "node:http";
import { request as httpsRequest } from "node:https";
import { Watch, type KubeConfig } from "@kubernetes/client-node";
import type { KubeObject } from "../api/meta.js";

export interface WatchTiming {
  /** The apiserver ends each watch after this long; client-go picks 5 to 10 minutes. */
  readonly timeoutSeconds: number;
  /** With no byte for timeoutSeconds plus this, the connection is taken for stalled. */
  readonly idleGraceMs: number;
}

/** Five minutes as client-go's minimum, plus up to as much again so that many watches do not end together. */
export function defaultWatchTiming(random: () => number = Math.random): WatchTiming {
  return { timeoutSeconds: 300 + Math.floor(random() * 300), idleGraceMs: 30_000 };
}

/** The watch ended because nothing arrived for too long; the informer restarts it from its resourceVersion. */
export class WatchStalledError extends Error {
  constructor(path: string, idleMs: number) {
    super(`watch of ${path} delivered nothing for ${Math.round(idleMs / 1000)} s; taking the connection for stalled and watching again`);
    this.name = "WatchStalledError";
  }
}

type WatchCallback = Parameters<Watch["watch"]>[2];
type DoneCallback = Parameters<Watch["watch"]>[3];

/** The error ListWatch reads: a 410 Gone must carry statusCode 410 so that it relists. */
class WatchStatusError extends Error {
  constructor(readonly statusCode: number, body: string) {
    super(`watch failed with HTTP ${statusCode}: ${body.slice(0, 200)}`);
  }
}

export class GuardedWatch extends Watch {
  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly timing: WatchTiming,
    /** Applied to each watched object before the cache sees it (not to ERROR or BOOKMARK). */
    private readonly transform?: (obj: KubeObject) => KubeObject,
    /** Called as each watch request is sent, so a client's request count includes its watches. */
    private readonly onRequest?: (path: string) => void,
  ) {
    super(kubeConfig);
  }

  override async watch(path: string, queryParams: Parameters<Watch["watch"]>[1], callback: WatchCallback, done: DoneCallback): Promise<AbortController> {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error("No currently active cluster");
    const url = new URL(cluster.server + path);
    url.searchParams.set("watch", "true");
    url.searchParams.set("allowWatchBookmarks", "true");
    url.searchParams.set("timeoutSeconds", String(this.timing.timeoutSeconds));
    for (const [key, value] of Object.entries(queryParams)) if (value !== undefined) url.searchParams.set(key, String(value));
    const options: RequestOptions = { method: "GET" };
    await this.kubeConfig.applyToHTTPSOptions(options);
    const controller = new AbortController();
    this.onRequest?.(path);
    new WatchRequest(url, options, this.timing.timeoutSeconds * 1000 + this.timing.idleGraceMs, (line) => {
      this.deliver(line, callback);
    }, done).start(controller.signal);
    return controller;
  }

  private deliver(line: string, callback: WatchCallback): void {
    let event: { type: string; object: unknown };
    try {
      event = JSON.parse(line) as { type: string; object: unknown };
    } catch {
      return; // as client-node: a line that is not JSON is not an event
    }
    const { type, object } = event;
    const transform = this.transform;
    // ERROR carries a Status and BOOKMARK only a resourceVersion: nothing to trim.
    const keep = transform === undefined || type === "ERROR" || type === "BOOKMARK" || typeof object !== "object" || object === null;
    callback(type, keep ? object : transform(object), event);
  }
}

/** The request, its line splitting and its watchdog; `done` is called once, unless the caller aborted. */
class WatchRequest {
  private finished = false;
  private timer: NodeJS.Timeout | undefined;
  private req: ClientRequest | undefined;
  private buffered = "";

  constructor(
    private readonly url: URL,
    private readonly options: RequestOptions,
    private readonly idleLimitMs: number,
    private readonly onLine: (line: string) => void,
    private readonly done: DoneCallback,
  ) {}

  start(signal: AbortSignal): void {
    const send = this.url.protocol === "https:" ? httpsRequest : httpRequest;
    this.req = send(this.url, this.options, (res) => {
      this.onResponse(res);
    });
    this.req.on("error", (err) => {
      this.finish(err);
    });
    signal.addEventListener("abort", () => {
      this.finished = true; // the caller stopped it: nothing to report
      this.teardown();
    }, { once: true });
    this.arm();
    this.req.end();
  }

  private onResponse(res: IncomingMessage): void {
    res.setEncoding("utf8");
    if (res.statusCode !== 200) {
      let body = "";
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => {
        this.finish(new WatchStatusError(res.statusCode ?? 0, body));
      });
      return;
    }
    res.on("data", (chunk: string) => {
      this.arm();
      this.buffered += chunk;
      const lines = this.buffered.split("\n");
      this.buffered = lines.pop() ?? "";
      for (const line of lines) if (line.trim() !== "" && !this.finished) this.onLine(line);
    });
    res.on("end", () => {
      this.finish(null);
    });
    res.on("error", (err) => {
      this.finish(err);
    });
    // Closed without an end: the connection was cut, not the watch completed.
    res.on("close", () => {
      this.finish(new Error(`watch of ${this.url.pathname} was cut off`));
    });
  }

  private arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.finish(new WatchStalledError(this.url.pathname, this.idleLimitMs));
    }, this.idleLimitMs);
  }

  private finish(err: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.teardown();
    this.done(err);
  }

  private teardown(): void {
    clearTimeout(this.timer);
    this.req?.destroy();
  }
}
