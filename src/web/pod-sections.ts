/** The pod page's tables: open findings, rightsizing advice, callers and callees, incidents. */
import { bytes, clock, cores, duration, h, podLink, ruleValue, severityBadge } from "./dom.js";
import type { AdviceEntry, ContainerView, IncidentJson, PodView, TopRow } from "./types.js";

function table(headers: readonly string[], rows: readonly HTMLElement[]): HTMLElement {
  return h("table", {}, h("thead", {}, h("tr", {}, ...headers.map((t) => h("th", {}, t)))), h("tbody", {}, ...rows));
}

function culpritName(c: { readonly namespace?: string | null; readonly name?: string | null } | null | undefined): string | undefined {
  return c?.name === undefined || c.name === null ? undefined : `${c.namespace ?? ""}/${c.name}`;
}

export function findingsSection(findings: readonly TopRow[]): HTMLElement {
  const rows = findings.map((f) => {
    const culprit = culpritName(f.culprit);
    return h(
      "tr",
      { "data-rule": f.rule },
      h("td", {}, severityBadge(f.severity)),
      h("td", {}, f.rule),
      h("td", {}, f.container ?? "–"),
      h("td", { class: "num" }, ruleValue(f.rule, f.value)),
      h("td", {}, culprit === undefined ? "–" : h("span", { class: "culprit" }, podLink(culprit))),
      h("td", {}, f.message),
    );
  });
  return h(
    "section",
    { class: "panel", id: "open-findings" },
    h("h2", {}, "Open findings"),
    rows.length === 0 ? h("p", { class: "muted" }, "None: nothing is wrong with this pod right now.") : table(["", "rule", "container", "value", "culprit", "message"], rows),
  );
}

function amount(entry: AdviceEntry, value: number | null | undefined): string {
  if (value === undefined) return "?";
  if (value === null) return "none";
  return entry.resource === "cpu" ? cores(value) : bytes(value);
}

export function adviceSection(containers: readonly ContainerView[]): HTMLElement {
  const rows = containers.flatMap((c) =>
    c.advice.map((a) =>
      h(
        "tr",
        { "data-change": a.change },
        h("td", {}, c.container),
        h("td", {}, `${a.resource} ${a.kind}`),
        h("td", { class: "num" }, amount(a, a.current)),
        h("td", { class: "num" }, h("b", {}, amount(a, a.recommended))),
        h("td", {}, a.change),
        h("td", {}, a.reason),
      ),
    ),
  );
  return h(
    "section",
    { class: "panel", id: "advice" },
    h("h2", {}, "Rightsizing advice"),
    rows.length === 0 ? h("p", { class: "muted" }, "No advice: not enough history yet, or nothing to change.") : table(["container", "resource", "now", "recommended", "change", "why"], rows),
  );
}

export function neighboursSection(pod: PodView): HTMLElement {
  const callees = pod.callees.map((c) => h("tr", {}, h("td", {}, c.kind === "Pod" ? podLink(c.callee) : c.callee), h("td", {}, c.kind), h("td", {}, c.ports.join(", ") || "–"), h("td", { class: "num" }, c.connections)));
  return h(
    "section",
    { class: "panel", id: "neighbours" },
    h("h2", {}, "Callers and callees"),
    h("p", {}, h("b", {}, "Called by: "), pod.callers.length === 0 ? h("span", { class: "muted" }, "no caller seen") : pod.callers.join(", ")),
    callees.length === 0 ? h("p", { class: "muted" }, "Calls nothing that was seen.") : table(["calls", "kind", "ports", "open connections"], callees),
  );
}

export function incidentsSection(incidents: readonly IncidentJson[]): HTMLElement {
  const rows = incidents.map((i) => {
    const culprit = culpritName(i.culprits[0]);
    return h(
      "tr",
      { "data-rule": i.rule },
      h("td", {}, severityBadge(i.severity)),
      h("td", {}, i.rule),
      h("td", {}, clock(i.start)),
      h("td", {}, i.end === undefined ? h("b", {}, "open") : duration(i.durationMs)),
      h("td", { class: "num" }, ruleValue(i.rule, i.peak)),
      h("td", {}, culprit === undefined ? "–" : h("span", { class: "culprit" }, podLink(culprit))),
      h("td", {}, i.message),
    );
  });
  return h(
    "section",
    { class: "panel", id: "pod-incidents" },
    h("h2", {}, "Incidents"),
    rows.length === 0 ? h("p", { class: "muted" }, "No incidents in this span.") : table(["", "rule", "start", "lasted", "peak", "culprit", "message"], rows),
  );
}

/** The neighbour named for the pod's CPU starvation: the open finding's culprit, else the latest incident's. */
export function starvationCulprit(pod: PodView): string | undefined {
  const open = pod.openFindings.find((f) => f.rule === "CPUStarvation" && f.culprit !== null);
  if (open !== undefined) return culpritName(open.culprit);
  const latest = pod.incidents.find((i) => i.rule === "CPUStarvation" && i.culprits.length > 0);
  return culpritName(latest?.culprits[0]);
}
