/**
 * Incidents, filtered by namespace, rule, node and time span. The filters are the page's query string (a
 * plain GET form), so a filtered view is a link that can be shared; each row links to its pod.
 */
import { getJson } from "./api.js";
import { clock, duration, h, main, podLink, query, replace, ruleValue, setLive, severityBadge } from "./dom.js";
import { stateBox } from "./states.js";
import { timeline } from "./timeline.js";
import type { IncidentJson, IncidentsView } from "./types.js";

const RULES = ["CPUThrottling", "CPUStarvation", "MemoryNearLimit", "MemoryPressure", "OOMKill", "IOPressure", "NodePressure"];
const SPANS: readonly [string, number][] = [
  ["1h", 3_600_000],
  ["6h", 6 * 3_600_000],
  ["24h", 86_400_000],
  ["7d", 7 * 86_400_000],
];

function select(name: string, options: readonly string[], selected: string | undefined, blank?: string): HTMLSelectElement {
  const el = h("select", { name });
  if (blank !== undefined) el.append(h("option", { value: "" }, blank));
  for (const o of options) el.append(h("option", { value: o, selected: o === selected }, o));
  return el;
}

function filters(current: Readonly<Record<string, string | undefined>>): HTMLFormElement {
  return h(
    "form",
    { class: "filters", method: "get", action: "/incidents" },
    h("label", {}, "namespace", h("input", { name: "namespace", value: current.namespace ?? "", placeholder: "all" })),
    h("label", {}, "rule", select("rule", RULES, current.rule, "all")),
    h("label", {}, "node", h("input", { name: "node", value: current.node ?? "", placeholder: "all" })),
    h("label", {}, "since", select("since", SPANS.map(([label]) => label), current.since)),
    h("button", { class: "primary", type: "submit" }, "Filter"),
  );
}

function culpritOf(i: IncidentJson): Node | string {
  const c = i.culprits[0];
  return c?.name === undefined ? "–" : h("span", { class: "culprit" }, podLink(`${c.namespace ?? ""}/${c.name}`));
}

function row(i: IncidentJson): HTMLElement {
  const pod = i.pod?.name === undefined ? "" : `${i.pod.namespace ?? ""}/${i.pod.name}`;
  return h(
    "tr",
    { "data-rule": i.rule, "data-pod": pod },
    h("td", {}, severityBadge(i.severity)),
    h("td", {}, i.rule),
    h("td", {}, pod === "" ? `(node ${i.node})` : podLink(pod), i.workload === undefined ? null : h("div", { class: "muted" }, i.workload)),
    h("td", {}, i.node),
    h("td", {}, clock(i.start)),
    h("td", {}, i.end === undefined ? h("b", {}, "open") : duration(i.durationMs)),
    h("td", { class: "num" }, ruleValue(i.rule, i.peak)),
    h("td", {}, culpritOf(i)),
    h("td", {}, i.message),
  );
}

function listSection(view: IncidentsView, spanMs: number): HTMLElement {
  return h(
    "section",
    { class: "panel", id: "incident-list" },
    h("h2", {}, `${view.incidents.length} of ${view.total} incidents, newest first`),
    timeline(view.incidents, spanMs, Math.min(1340, Math.max(600, main().clientWidth - 40))),
    h("table", {}, h("thead", {}, h("tr", {}, ...["", "rule", "pod", "node", "start", "lasted", "peak", "culprit", "message"].map((t) => h("th", {}, t)))), h("tbody", {}, ...view.incidents.map(row))),
  );
}

export async function renderIncidents(): Promise<void> {
  setLive(null);
  const current = { namespace: query("namespace"), rule: query("rule"), node: query("node"), since: query("since") ?? "24h" };
  const spanMs = SPANS.find(([label]) => label === current.since)?.[1] ?? 86_400_000;
  const params = new URLSearchParams({ since: current.since, limit: "1000" });
  for (const key of ["namespace", "rule", "node"] as const) {
    const value = current[key];
    if (value !== undefined) params.set(key, value);
  }
  replace(main(), h("h1", {}, "Incidents"), filters(current), h("p", { class: "muted" }, "Loading…"));
  const view = await getJson<IncidentsView>(`/api/v1/incidents?${params.toString()}`);
  const narrowed = current.namespace !== undefined || current.rule !== undefined || current.node !== undefined;
  const skipped = view.skipped.length === 0 ? null : stateBox("warn", "Some nodes' histories could not be read", ...view.skipped.map((s) => `${s.node}: ${s.reason}`));
  const body =
    view.incidents.length === 0
      ? stateBox("empty", "No incidents", narrowed ? `Nothing matches these filters in the last ${current.since}.` : `No pod was starved in the last ${current.since}.`)
      : listSection(view, spanMs);
  replace(main(), h("h1", {}, "Incidents"), filters(current), skipped, body);
}
