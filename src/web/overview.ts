/**
 * Overview: which agents report, what is open by severity, rule and namespace, the top risks with culprit
 * and callers, and the last 24 hours of incidents on a timeline. Live from `/api/v1/events`.
 */
import { getJson, openStream, type ApiError } from "./api.js";
import { ago, h, main, podLink, query, replace, ruleValue, setLive, severityBadge } from "./dom.js";
import { failureBox, showFailure, stateBox } from "./states.js";
import { timeline } from "./timeline.js";
import type { IncidentsView, PoliciesView, SummaryView, TopRow, TopView } from "./types.js";

const DAY_MS = 86_400_000;

interface Latest {
  summary?: SummaryView;
  top?: TopView;
  policies?: PoliciesView;
  incidents?: IncidentsView;
  problem?: ApiError;
}

const MAX_BARS = 12;

/** Counts as bars, in the given order (`sorted`: most first), at most MAX_BARS of them. */
function bars(counts: Readonly<Record<string, number>>, cls: (key: string) => string = () => "", sorted = false): HTMLElement {
  const entries = Object.entries(counts).filter(([, n]) => n > 0);
  if (entries.length === 0) return h("p", { class: "muted" }, "none");
  if (sorted) entries.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const max = Math.max(...entries.map(([, n]) => n));
  const shown = entries.slice(0, MAX_BARS).map(([key, n]) => h("div", {}, h("span", {}, key === "" ? "(node)" : key), h("i", { class: cls(key), style: `width:${(n / max) * 100}%` }), h("span", { class: "num" }, n)));
  return h("div", { class: "bars" }, ...shown, entries.length > MAX_BARS ? h("p", { class: "muted" }, `and ${entries.length - MAX_BARS} more`) : null);
}

/** Why there may be nothing to show: no policy (for the namespace), no NodeFindings, stale or silent agents. */
function states(latest: Latest): HTMLElement[] {
  const out: HTMLElement[] = [];
  if (latest.problem !== undefined) out.push(failureBox(latest.problem));
  const { policies, summary } = latest;
  if (policies?.known === true && policies.names.length === 0) {
    out.push(stateBox("empty", "No StarvationPolicy", "Xander watches no pod until a StarvationPolicy selects it. Apply one (see examples/ in the repository) or install the chart's default policy (helm upgrade … --set defaultPolicy.enabled=true)."));
  } else if (policies?.namespace !== undefined && policies.namespace.selectedBy.length === 0) {
    out.push(stateBox("empty", `No StarvationPolicy selects namespace ${policies.namespace.name}`, `The policies (${policies.names.join(", ")}) leave it out by their namespaceSelector or excludeNamespaces, so no agent reports on its pods.`));
  }
  if (summary === undefined) return out;
  if (summary.nodes.total === 0) {
    out.push(stateBox("empty", "No NodeFindings", "The controller creates one NodeFindings per Node. None exists: is the Xander controller running (kubectl get deploy -A -l app.kubernetes.io/name=xander)?"));
  } else if (summary.nodes.stale > 0) {
    out.push(stateBox("warn", `${summary.nodes.stale} of ${summary.nodes.total} agents are stale`, `No report for three heartbeats from: ${summary.nodes.staleNodes.join(", ")}. Their findings are left out; check the xander-agent pods on those nodes.`));
  }
  if (summary.nodes.pending > 0) out.push(stateBox("info", `${summary.nodes.pending} agents have not reported yet`, summary.nodes.pendingNodes.join(", ")));
  return out;
}

function nodesPanel(summary: SummaryView): HTMLElement {
  const n = summary.nodes;
  return h(
    "section",
    { class: "panel", id: "nodes" },
    h("h2", {}, "Nodes"),
    h("div", { class: "kv" }, h("div", {}, h("span", {}, "reporting"), h("b", { class: "big" }, `${n.reporting}/${n.total}`)), h("div", {}, h("span", {}, "stale"), h("b", { class: "big" }, n.stale)), h("div", {}, h("span", {}, "incidents 24 h"), h("b", { class: "big" }, summary.incidents24h.total))),
    n.stale > 0 ? h("p", {}, "Stale: ", n.staleNodes.join(", ")) : null,
  );
}

function findingsPanels(summary: SummaryView): HTMLElement[] {
  const f = summary.findings;
  return [
    h("section", { class: "panel", id: "by-severity" }, h("h2", {}, `Open findings: ${f.total}`), bars(f.bySeverity, (k) => k)),
    h("section", { class: "panel", id: "by-rule" }, h("h2", {}, "By rule"), bars(f.byRule)),
    h("section", { class: "panel", id: "by-namespace" }, h("h2", {}, "By namespace"), bars(f.byNamespace, () => "", true)),
  ];
}

function culpritCell(row: TopRow): Node | string {
  const c = row.culprit;
  // No neighbour is blamed when the pod's own limit or processes outside pods explain the stall: the message says which.
  if (c === null) return row.rule === "CPUStarvation" ? h("span", { class: "muted" }, row.message.replace(/^.*?;\s*/, "")) : "–";
  const name = c.name === null ? "(unknown pod)" : `${c.namespace ?? ""}/${c.name}`;
  return h("span", { class: "culprit" }, podLink(name), ` (score ${c.score.toFixed(2)})`);
}

function topPanel(top: TopView): HTMLElement {
  const rows = top.risks.map((r) =>
    h(
      "tr",
      { "data-pod": r.pod, "data-rule": r.rule, title: r.message },
      h("td", {}, severityBadge(r.severity)),
      h("td", {}, r.rule),
      h("td", {}, podLink(r.pod), r.container === null ? null : h("div", { class: "muted" }, r.container)),
      h("td", {}, r.workload),
      h("td", { class: "num" }, ruleValue(r.rule, r.value), h("div", { class: "muted" }, `≥ ${ruleValue(r.rule, r.threshold)}`)),
      h("td", {}, culpritCell(r)),
      h("td", {}, r.callers.length === 0 ? "–" : r.callers.join(", ")),
      h("td", {}, ago(r.since)),
    ),
  );
  return h(
    "section",
    { class: "panel", id: "top-risks" },
    h("h2", {}, `Top risks (${top.risks.length} of ${top.total})`),
    rows.length === 0
      ? h("p", { class: "muted" }, "No open findings on reporting nodes.")
      : h("table", {}, h("thead", {}, h("tr", {}, ...["", "rule", "pod", "workload", "value", "culprit", "callers", "since"].map((t) => h("th", {}, t)))), h("tbody", {}, ...rows)),
  );
}

function incidentsPanel(incidents: IncidentsView | undefined): HTMLElement {
  const panel = h("section", { class: "panel", id: "incidents-24h" }, h("h2", {}, "Incidents, last 24 hours"));
  if (incidents === undefined) panel.append(h("p", { class: "muted" }, "Loading…"));
  else if (incidents.incidents.length === 0) panel.append(h("p", { class: "muted" }, "No incidents in the last 24 hours."));
  else panel.append(timeline(incidents.incidents, DAY_MS, Math.min(1340, Math.max(600, main().clientWidth - 40))), h("p", {}, h("a", { href: "/incidents" }, `All ${incidents.total} incidents →`)));
  return panel;
}

function render(latest: Latest, namespace: string | undefined): void {
  const title = h("h1", {}, namespace === undefined ? "Overview" : `Overview: namespace ${namespace}`);
  const body: HTMLElement[] = [...states(latest)];
  if (latest.summary !== undefined) body.push(h("div", { class: "grid" }, nodesPanel(latest.summary), ...findingsPanels(latest.summary)));
  if (latest.top !== undefined) body.push(topPanel(latest.top));
  if (latest.summary !== undefined) body.push(incidentsPanel(latest.incidents));
  replace(main(), title, ...body);
}

export function renderOverview(): void {
  const namespace = query("namespace");
  const ns = namespace === undefined ? "" : `namespace=${encodeURIComponent(namespace)}`;
  const latest: Latest = {};
  let incidentsKey = "";
  const refreshIncidents = (summary: SummaryView): void => {
    const key = `${summary.incidents24h.total}/${summary.incidents24h.open}`;
    if (key === incidentsKey) return;
    incidentsKey = key;
    getJson<IncidentsView>(`/api/v1/incidents?since=24h&limit=500${ns === "" ? "" : `&${ns}`}`)
      .then((incidents) => {
        latest.incidents = incidents;
        render(latest, namespace);
      })
      .catch(showFailure);
  };
  openStream(`/api/v1/events?top=10${ns === "" ? "" : `&${ns}`}`, {
    events: {
      policies: (data) => {
        latest.policies = data as PoliciesView;
        render(latest, namespace);
      },
      summary: (data) => {
        latest.summary = data as SummaryView;
        delete latest.problem;
        render(latest, namespace);
        refreshIncidents(latest.summary);
      },
      top: (data) => {
        latest.top = data as TopView;
        render(latest, namespace);
      },
      recovered: () => {
        delete latest.problem;
        render(latest, namespace);
      },
    },
    onLive: setLive,
    onError: (error) => {
      if (error.status === 401 || error.status === 403) {
        showFailure(error);
        return;
      }
      latest.problem = error;
      render(latest, namespace);
    },
  });
}
