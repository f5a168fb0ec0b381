/**
 * What the dashboard reads beyond the read API (controller/read-api.ts), guarded the same way:
 *
 *   GET /api/v1/dependencies?namespace=&limit=    the call graph by workload, starved ones marked
 *   GET /api/v1/policies?namespace=               StarvationPolicy names, and which select the namespace
 *   GET /api/v1/events?top=10&namespace=          server-sent events: summary, top, policies
 *   GET /api/v1/events/pods/{ns}/{name}?since=2m  server-sent events: the pod's view over the last `since`
 *
 * The streams push a view when it changed (computed once per interval however many pages are open), and
 * every `intervalMs` they re-ask the cluster whether the caller may still read (the guard caches answers
 * briefly), so a revoked token ends the stream. A view that cannot be computed (the API unreachable) is
 * pushed as a `problem` event and the stream goes on trying.
 */
import { GROUP } from "../api/schema/names.js";
import type { AccessAttributes } from "../kube/access-review.js";
import { BadRequest, EventStream, guardedRoute, optionalParam, sinceParam, type AccessGuard, type EventSink } from "../server/api.js";
import type { Route } from "../server/http.js";
import { READ_ACCESS } from "./read-api.js";
import type { ReadService } from "./read-service.js";
import { RecentViews } from "./recent-views.js";

export const POLICY_ACCESS: AccessAttributes = { verb: "list", group: GROUP, resource: "starvationpolicies" };

export const DEFAULT_STREAM_INTERVAL_MS = 5000;
const DEFAULT_POD_STREAM_SINCE_MS = 120_000;
const DEFAULT_STREAM_TOP = 10;

export interface DashboardApiOptions {
  /** How often the streams recompute their views. */
  readonly intervalMs?: number;
}

type Produce = () => Promise<readonly (readonly [string, unknown])[]>;

function countParam(url: URL, name: string, fallback: number, max: number): number {
  const text = optionalParam(url, name);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new BadRequest(`${name}=${text} is not a whole number from 1 to ${max}`);
  return n;
}

/** The view without its timestamp: what decides whether anything changed. */
function fingerprint(data: unknown): string {
  return JSON.stringify(data, (key, value: unknown) => (key === "generatedAt" ? undefined : value));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

async function pushChanged(sink: EventSink, produce: Produce, last: Map<string, string>): Promise<void> {
  let sent = false;
  try {
    for (const [event, data] of await produce()) {
      const print = fingerprint(data);
      if (last.get(event) === print) continue;
      last.set(event, print);
      sink.send(event, data);
      sent = true;
    }
    if (last.has("problem")) {
      last.delete("problem");
      sink.send("recovered", {});
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (last.get("problem") !== message) sink.send("problem", { status: error instanceof BadRequest ? error.status : 503, message });
    last.set("problem", message);
    // The next good answer must go out even if it equals the last one sent before the problem.
    for (const key of [...last.keys()]) if (key !== "problem") last.delete(key);
    sent = true;
  }
  if (!sent) sink.ping();
}

/** A stream that recomputes every `intervalMs` and sends what changed. */
function pollingStream(intervalMs: number, produce: Produce): EventStream {
  return new EventStream(async (sink, signal, stillAllowed) => {
    const last = new Map<string, string>();
    while (!signal.aborted) {
      const decision = await stillAllowed();
      if (!decision.allowed) {
        sink.send("denied", { status: decision.status, message: decision.reason });
        return;
      }
      await pushChanged(sink, produce, last);
      await sleep(intervalMs, signal);
    }
  });
}

export function dashboardRoutes(service: ReadService, guard: AccessGuard, options: DashboardApiOptions = {}): Route[] {
  const intervalMs = options.intervalMs ?? DEFAULT_STREAM_INTERVAL_MS;
  // One computation per key and half interval, whatever the number of open dashboards.
  const shared = new RecentViews<readonly (readonly [string, unknown])[]>({ freshMs: intervalMs / 2, staleMs: intervalMs / 2 });
  const pod = ([namespace = "", name = ""]: readonly string[]): AccessAttributes[] => [READ_ACCESS, { verb: "get", group: "", resource: "pods", namespace, name }];
  return [
    guardedRoute(
      /^\/api\/v1\/dependencies$/,
      guard,
      () => [READ_ACCESS],
      (_p, url) => {
        const namespace = optionalParam(url, "namespace");
        return service.dependencies({ limit: countParam(url, "limit", 300, 5000), ...(namespace === undefined ? {} : { namespace }) });
      },
    ),
    guardedRoute(/^\/api\/v1\/policies$/, guard, () => [POLICY_ACCESS], (_p, url) => service.policies(optionalParam(url, "namespace"))),
    guardedRoute(
      /^\/api\/v1\/events$/,
      guard,
      () => [READ_ACCESS, POLICY_ACCESS],
      (_p, url) => {
        const limit = countParam(url, "top", DEFAULT_STREAM_TOP, 1000);
        const namespace = optionalParam(url, "namespace");
        return pollingStream(intervalMs, () =>
          shared.get(`overview|${limit}|${namespace ?? ""}`, async () => {
            const [summary, top, policies] = await Promise.all([service.summary(), service.top({ limit, ...(namespace === undefined ? {} : { namespace }) }), service.policies(namespace)]);
            return [
              ["policies", policies],
              ["summary", summary],
              ["top", top],
            ];
          }),
        );
      },
    ),
    guardedRoute(/^\/api\/v1\/events\/pods\/([^/]+)\/([^/]+)$/, guard, pod, ([namespace = "", name = ""], url) => {
      const sinceMs = sinceParam(url, DEFAULT_POD_STREAM_SINCE_MS);
      return pollingStream(intervalMs, () => shared.get(`pod|${namespace}/${name}|${sinceMs}`, async () => [["pod", await service.pod(namespace, name, sinceMs)]]));
    }),
  ];
}
