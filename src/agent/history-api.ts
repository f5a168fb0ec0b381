/**
 * The agent's read endpoint over its node's history: a pod's series and the node's incidents. Series live
 * only here, in the node's SQLite, so the controller's read API and the CLI fetch them from the agent of the
 * pod's node.
 *
 * Who may read: a caller whose token the cluster accepts (TokenReview) and whom it allows (SubjectAccessReview)
 *  - `get nodefindings/history` on this node's NodeFindings, for anything here (the controller's role has it;
 *    so does the chart's `xander-viewer`), and
 *  - for a pod's series, also `get pods` on that pod: a pod's usage is for those who may see the pod.
 */
import type { Incident, IncidentQuery } from "../analysis/incident.js";
import { RULE_NAMES, type RuleName } from "../analysis/types.js";
import type { IncidentList, PodHistory } from "../api/history.js";
import { incidentToJson } from "../report/convert.js";
import { GROUP } from "../api/schema/names.js";
import type { AccessAttributes } from "../kube/access-review.js";
import { BadRequest, guardedRoute, optionalParam, sinceParam, type AccessGuard } from "../server/api.js";
import type { Route } from "../server/http.js";
import { podHistoryOf } from "../engine/history-json.js";
import type { PodSeries } from "../store/index.js";

export interface HistorySource {
  readonly node: string;
  /** The uid of a pod on this node, live or remembered by the history; undefined if it was never here. */
  podUid(namespace: string, name: string): string | undefined;
  podSeries(podUid: string, sinceMs: number): PodSeries;
  incidents(query: IncidentQuery): Incident[];
}

const DEFAULT_SERIES_SINCE_MS = 3_600_000;
const DEFAULT_INCIDENTS_SINCE_MS = 24 * 3_600_000;
/** The most incidents one answer holds; a span with more answers its newest and says it is truncated. */
export const MAX_INCIDENTS = 5000;

export function historyAccess(node: string): AccessAttributes {
  return { verb: "get", group: GROUP, resource: "nodefindings", subresource: "history", name: node };
}

export function historyRoutes(source: HistorySource, guard: AccessGuard, now: () => number = Date.now, maxIncidents = MAX_INCIDENTS): Route[] {
  const nodeRule = historyAccess(source.node);
  return [
    guardedRoute(
      /^\/api\/v1\/history\/pods\/([^/]+)\/([^/]+)$/,
      guard,
      ([namespace = "", name = ""]) => [nodeRule, { verb: "get", group: "", resource: "pods", namespace, name }],
      ([namespace = "", name = ""], url) => podHistory(source, namespace, name, sinceParam(url, DEFAULT_SERIES_SINCE_MS), now()),
    ),
    guardedRoute(/^\/api\/v1\/history\/incidents$/, guard, () => [nodeRule], (_params, url) => incidentList(source, url, now(), maxIncidents)),
  ];
}

function podHistory(source: HistorySource, namespace: string, name: string, sinceMs: number, nowMs: number): PodHistory {
  const uid = source.podUid(namespace, name);
  if (uid === undefined) throw new BadRequest(`pod ${namespace}/${name} has no history on node ${source.node}`, 404);
  const series = source.podSeries(uid, nowMs - sinceMs);
  return podHistoryOf(source.node, { namespace, name, uid }, series, nowMs - sinceMs);
}

function incidentList(source: HistorySource, url: URL, nowMs: number, maxIncidents: number): IncidentList {
  const sinceMs = sinceParam(url, DEFAULT_INCIDENTS_SINCE_MS);
  const rule = optionalParam(url, "rule");
  if (rule !== undefined && !(RULE_NAMES as readonly string[]).includes(rule)) throw new BadRequest(`rule=${rule} is not one of ${RULE_NAMES.join(", ")}`);
  const namespace = optionalParam(url, "namespace");
  const pod = optionalParam(url, "pod");
  if (pod !== undefined && !/^[^/]+\/[^/]+$/.test(pod)) throw new BadRequest(`pod=${pod} is not namespace/name`);
  const query: IncidentQuery = {
    sinceMs: nowMs - sinceMs,
    // One more than the cap tells whether the span held more.
    limit: maxIncidents + 1,
    ...(rule === undefined ? {} : { rule: rule as RuleName }),
    ...(namespace === undefined ? {} : { namespace }),
    ...(pod === undefined ? {} : { pod }),
  };
  const found = source.incidents(query);
  return {
    node: source.node,
    since: new Date(nowMs - sinceMs).toISOString(),
    incidents: found.slice(0, maxIncidents).map((incident) => incidentToJson(incident, nowMs)),
    limit: maxIncidents,
    truncated: found.length > maxIncidents,
  };
}
