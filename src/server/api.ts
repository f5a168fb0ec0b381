/**
 * What every read-API route shares: JSON replies, errors as `{"code", "reason", "message"}`, query parsing,
 * and the guard that asks the cluster (TokenReview + SubjectAccessReview) whether the caller may see the
 * data. A route states its access rule next to its path, so "who may reach this?" has one answer, in code.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AccessAttributes, AccessDecision } from "../kube/access-review.js";
import { parseDuration } from "../util/duration.js";
import type { Route } from "./http.js";

export interface AccessGuard {
  review(authorization: string | undefined, attributes: AccessAttributes): Promise<AccessDecision>;
}

/** Who may read /metrics: `rbac`, a caller allowed `get` on the non-resource URL /metrics; `none`, anyone who reaches the port. */
export type MetricsAuthorization = "rbac" | "none";

export const METRICS_AUTHORIZATIONS: readonly MetricsAuthorization[] = ["rbac", "none"];

/** The rule a scraper must pass, as for the kubelet's /metrics (the chart's `xander-metrics-reader` ClusterRole grants it). */
export const METRICS_ACCESS: AccessAttributes = { verb: "get", path: "/metrics" };

/** The check startHttpServer runs on each /metrics request; undefined when nothing is checked. */
export function metricsAccess(mode: MetricsAuthorization, guard: AccessGuard): ((authorization: string | undefined) => Promise<AccessDecision>) | undefined {
  return mode === "none" ? undefined : (authorization) => guard.review(authorization, METRICS_ACCESS);
}

/** A request the caller got wrong: the message says what and how to fix it. */
export class BadRequest extends Error {
  override readonly name = "BadRequest";
  constructor(
    message: string,
    readonly status: 400 | 404 = 400,
  ) {
    super(message);
  }
}

/** What the route reads from is out of reach (the cluster's API, for the local dashboard): 503 with the reason. */
export class Unavailable extends Error {
  override readonly name = "Unavailable";
}

/**
 * A handler result that keeps the response open as `text/event-stream` (server-sent events). `run` writes
 * events until `signal` aborts (the client went away) and may call `stillAllowed` to re-ask the guard,
 * so a revoked token stops a long-lived stream within the guard's cache time.
 */
export class EventStream {
  constructor(readonly run: (stream: EventSink, signal: AbortSignal, stillAllowed: () => Promise<AccessDecision>) => Promise<void>) {}
}

export interface EventSink {
  send(event: string, data: unknown): void;
  /** A comment line: keeps proxies from closing an idle stream. */
  ping(): void;
}

/** A handler result sent as it is, for the formats that are not JSON (a report as markdown or HTML). */
export class RawBody {
  constructor(
    readonly contentType: string,
    readonly body: string,
  ) {}
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(`${JSON.stringify(body)}\n`);
}

const REASONS: Readonly<Record<number, string>> = { 400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 502: "BadGateway", 503: "ServiceUnavailable" };

/** Writes one server-sent event; `data` is JSON on one line, so no event ever needs splitting. */
function writeEvent(res: ServerResponse, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

async function runStream(req: IncomingMessage, res: ServerResponse, stream: EventStream, stillAllowed: () => Promise<AccessDecision>): Promise<void> {
  // x-accel-buffering: nginx-style proxies would otherwise hold events back until a buffer fills.
  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no" });
  res.flushHeaders();
  const closed = new AbortController();
  res.on("close", () => {
    closed.abort();
  });
  const sink: EventSink = {
    send: (event, data) => {
      if (!closed.signal.aborted) writeEvent(res, event, data);
    },
    ping: () => {
      if (!closed.signal.aborted) res.write(": ping\n\n");
    },
  };
  try {
    if (req.method !== "HEAD") await stream.run(sink, closed.signal, stillAllowed);
  } finally {
    res.end();
  }
}

/** Asks the guard about every rule; the first refusal wins. */
async function decide(guard: AccessGuard, authorization: string | undefined, rules: readonly AccessAttributes[]): Promise<AccessDecision | undefined> {
  let last: AccessDecision | undefined;
  for (const attributes of rules) {
    last = await guard.review(authorization, attributes);
    if (!last.allowed) return last;
  }
  return last;
}

export function sendError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { code: status, reason: REASONS[status] ?? "InternalError", message });
}

/**
 * A GET route whose handler runs only after every access rule in `access(params)` is allowed for the
 * caller's token. 401 without a valid token, 403 when any rule is denied; the reason names the rule.
 */
export function guardedRoute(
  pattern: RegExp,
  guard: AccessGuard,
  access: (params: readonly string[]) => readonly AccessAttributes[],
  handle: (params: readonly string[], url: URL, req: IncomingMessage) => unknown,
): Route {
  return {
    pattern,
    handle: async (req, res, params, url) => {
      const rules = access(params);
      const decision = await decide(guard, req.headers.authorization, rules);
      if (decision !== undefined && !decision.allowed) {
        if (decision.status === 401) res.setHeader("www-authenticate", 'Bearer realm="xander"');
        sendError(res, decision.status, decision.reason);
        return;
      }
      try {
        const result = await handle(params, url, req);
        if (result instanceof EventStream) {
          const stillAllowed = async (): Promise<AccessDecision> => (await decide(guard, req.headers.authorization, rules)) ?? { allowed: true, user: { username: "", groups: [] } };
          await runStream(req, res, result, stillAllowed);
        } else if (result instanceof RawBody) {
          res.writeHead(200, { "content-type": result.contentType, "cache-control": "no-store" });
          res.end(result.body);
        } else sendJson(res, 200, result);
      } catch (error) {
        if (res.headersSent) throw error;
        if (error instanceof Unavailable) sendError(res, 503, error.message);
        else if (error instanceof BadRequest) sendError(res, error.status, error.message);
        else throw error;
      }
    },
  };
}

/** `?since=7d` as milliseconds before now; absent means `fallbackMs`. */
export function sinceParam(url: URL, fallbackMs: number): number {
  const text = url.searchParams.get("since");
  if (text === null || text === "") return fallbackMs;
  const parsed = parseDuration(text);
  if (!parsed.ok || parsed.value <= 0) throw new BadRequest(`since=${text} is not a duration (use e.g. 30m, 24h, 7d)`);
  return parsed.value;
}

export function optionalParam(url: URL, name: string): string | undefined {
  const value = url.searchParams.get(name);
  return value === null || value === "" ? undefined : value;
}
