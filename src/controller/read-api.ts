/**
 * The controller's read API: the read model as JSON, for dashboards and tools.
 *
 *   GET /api/v1/summary
 *   GET /api/v1/top?namespace=&limit=
 *   GET /api/v1/incidents?since=24h&namespace=&rule=&pod=ns/name&node=&limit=
 *   GET /api/v1/pods/{namespace}/{name}?since=1h
 *   GET /api/v1/report?since=7d&namespace=
 *
 * Who may read: every request carries a Kubernetes bearer token; the cluster says who it is (TokenReview)
 * and whether they may `list nodefindings.xander.io` (SubjectAccessReview) — what these views are made of.
 * A pod's series also need `get pods` on that pod. No token: 401; not allowed: 403. The chart's
 * `xander-viewer` ClusterRole grants exactly this, and aggregates into `view`.
 */
import { RULE_NAMES, type RuleName } from "../analysis/types.js";
import { GROUP } from "../api/schema/names.js";
import type { AccessAttributes } from "../kube/access-review.js";
import { BadRequest, guardedRoute, optionalParam, sinceParam, type AccessGuard } from "../server/api.js";
import type { Route } from "../server/http.js";
import type { ReadService } from "./read-service.js";

export const READ_ACCESS: AccessAttributes = { verb: "list", group: GROUP, resource: "nodefindings" };

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

function limitParam(url: URL): number | undefined {
  const text = optionalParam(url, "limit");
  if (text === undefined) return undefined;
  const limit = Number(text);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new BadRequest(`limit=${text} is not a whole number from 1 to 10000`);
  return limit;
}

function ruleParam(url: URL): RuleName | undefined {
  const rule = optionalParam(url, "rule");
  if (rule !== undefined && !(RULE_NAMES as readonly string[]).includes(rule)) throw new BadRequest(`rule=${rule} is not one of ${RULE_NAMES.join(", ")}`);
  return rule as RuleName | undefined;
}

function podParam(url: URL): string | undefined {
  const pod = optionalParam(url, "pod");
  if (pod !== undefined && !/^[^/\s]+\/[^/\s]+$/.test(pod)) throw new BadRequest(`pod=${pod} is not namespace/name`);
  return pod;
}

/** Drops absent parameters, so optional fields stay absent rather than undefined. */
function present<T extends object>(fields: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}

export function readRoutes(service: ReadService, guard: AccessGuard): Route[] {
  const cluster = (): readonly AccessAttributes[] => [READ_ACCESS];
  return [
    guardedRoute(/^\/api\/v1\/summary$/, guard, cluster, () => service.summary()),
    guardedRoute(/^\/api\/v1\/top$/, guard, cluster, (_p, url) => service.top(present({ namespace: optionalParam(url, "namespace"), limit: limitParam(url) }))),
    guardedRoute(/^\/api\/v1\/incidents$/, guard, cluster, (_p, url) =>
      service.incidents({
        sinceAgoMs: sinceParam(url, DAY_MS),
        ...present({ namespace: optionalParam(url, "namespace"), rule: ruleParam(url), pod: podParam(url), node: optionalParam(url, "node"), limit: limitParam(url) }),
      }),
    ),
    guardedRoute(
      /^\/api\/v1\/pods\/([^/]+)\/([^/]+)$/,
      guard,
      ([namespace = "", name = ""]) => [READ_ACCESS, { verb: "get", group: "", resource: "pods", namespace, name }],
      async ([namespace = "", name = ""], url) => {
        const result = await service.pod(namespace, name, sinceParam(url, HOUR_MS));
        if (!result.found) throw new BadRequest(result.message, 404);
        return result;
      },
    ),
    guardedRoute(/^\/api\/v1\/report$/, guard, cluster, (_p, url) =>
      service.report({ spanMs: sinceParam(url, 7 * DAY_MS), ...present({ namespace: optionalParam(url, "namespace") }) }),
    ),
  ];
}
