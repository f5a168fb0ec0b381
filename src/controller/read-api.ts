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
 *
 * Summary, top and incidents are the same for every allowed reader, so each is computed at most once a second
 * per query and answered from that (recent-views.ts): an answer is at most 10 s old, and a newer one is computed
 * behind it. A reader is always authorized first.
 */
import { RULE_NAMES, type RuleName } from "../analysis/types.js";
import { GROUP } from "../api/schema/names.js";
import type { AccessAttributes } from "../kube/access-review.js";
import { BadRequest, guardedRoute, optionalParam, sinceParam, type AccessGuard } from "../server/api.js";
import type { Route } from "../server/http.js";
import type { ReadService } from "./read-service.js";
import { RecentViews } from "./recent-views.js";

export const READ_ACCESS: AccessAttributes = { verb: "list", group: GROUP, resource: "nodefindings" };

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** How long an answer is kept, and how old one may be answered while a newer one is computed. */
export const VIEW_FRESH_MS = 1000;
export const VIEW_STALE_MS = 10_000;

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
  const views = new RecentViews<unknown>({ freshMs: VIEW_FRESH_MS, staleMs: VIEW_STALE_MS });
  return [
    guardedRoute(/^\/api\/v1\/summary$/, guard, cluster, () => views.get("summary", () => service.summary())),
    guardedRoute(/^\/api\/v1\/top$/, guard, cluster, (_p, url) => {
      const options = present({ namespace: optionalParam(url, "namespace"), limit: limitParam(url) });
      return views.get(`top ${JSON.stringify(options)}`, () => service.top(options));
    }),
    guardedRoute(/^\/api\/v1\/incidents$/, guard, cluster, (_p, url) => {
      const query = {
        sinceAgoMs: sinceParam(url, DAY_MS),
        ...present({ namespace: optionalParam(url, "namespace"), rule: ruleParam(url), pod: podParam(url), node: optionalParam(url, "node"), limit: limitParam(url) }),
      };
      return views.get(`incidents ${JSON.stringify(query)}`, () => service.incidents(query));
    }),
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
