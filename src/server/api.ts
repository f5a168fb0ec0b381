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
      for (const attributes of access(params)) {
        const decision = await guard.review(req.headers.authorization, attributes);
        if (!decision.allowed) {
          if (decision.status === 401) res.setHeader("www-authenticate", 'Bearer realm="xander"');
          sendError(res, decision.status, decision.reason);
          return;
        }
      }
      try {
        const result = await handle(params, url, req);
        if (result instanceof RawBody) {
          res.writeHead(200, { "content-type": result.contentType, "cache-control": "no-store" });
          res.end(result.body);
        } else sendJson(res, 200, result);
      } catch (error) {
        if (!(error instanceof BadRequest)) throw error;
        sendError(res, error.status, error.message);
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
