/**
 * Dependencies: who calls whom, by workload, drawn as layered SVG (callers left of what they call).
 * Starved workloads are red, the workloads that call them orange; a namespace filter narrows the graph
 * to the calls that touch it.
 */
import { getJson } from "./api.js";
import { h, main, query, replace, s, setLive } from "./dom.js";
import { stateBox } from "./states.js";
import type { DependenciesView, WorkloadEdgeView, WorkloadNodeView } from "./types.js";

const BOX_W = 200;
const BOX_H = 34;
const COL_GAP = 90;
const ROW_GAP = 14;
const PAD = 20;

/** Longest-path layers from the nodes nobody calls (Kahn's order). */
function layers(nodes: readonly WorkloadNodeView[], edges: readonly WorkloadEdgeView[]): Map<string, number> {
  const incoming = new Map(nodes.map((n) => [n.id, 0]));
  for (const e of edges) incoming.set(e.to, (incoming.get(e.to) ?? 0) + 1);
  const layer = new Map<string, number>();
  const queue = nodes.filter((n) => incoming.get(n.id) === 0).map((n) => n.id);
  for (const id of queue) layer.set(id, 0);
  while (queue.length > 0) {
    const id = queue.shift() ?? "";
    for (const e of edges.filter((x) => x.from === id)) {
      layer.set(e.to, Math.max(layer.get(e.to) ?? 0, (layer.get(id) ?? 0) + 1));
      const left = (incoming.get(e.to) ?? 1) - 1;
      incoming.set(e.to, left);
      if (left === 0) queue.push(e.to);
    }
  }
  placeCycles(nodes, edges, layer);
  return layer;
}

/** Nodes only on cycles never reach zero callers: one column past their placed callers. */
function placeCycles(nodes: readonly WorkloadNodeView[], edges: readonly WorkloadEdgeView[], layer: Map<string, number>): void {
  for (const n of nodes) {
    if (layer.has(n.id)) continue;
    const callers = edges.filter((e) => e.to === n.id).map((e) => layer.get(e.from) ?? 0);
    layer.set(n.id, Math.max(0, ...callers) + 1);
  }
}

function label(n: WorkloadNodeView): string {
  const text = n.kind === "External" ? n.name : `${n.namespace}/${n.name.replace(/^[A-Za-z]+\//, "")}`;
  return text.length > 27 ? `${text.slice(0, 26)}…` : text;
}

function nodeClass(n: WorkloadNodeView): string {
  return ["node", n.starved !== null ? "starved" : n.callsStarved ? "caller" : "", n.kind === "External" ? "external" : ""].filter(Boolean).join(" ");
}

interface Layout {
  readonly pos: Map<string, { x: number; y: number }>;
  readonly width: number;
  readonly height: number;
}

/** Columns by layer; starved workloads at the top of their column. */
function layout(view: DependenciesView): Layout {
  const layer = layers(view.nodes, view.edges);
  const columns = new Map<number, WorkloadNodeView[]>();
  for (const n of view.nodes) {
    const col = layer.get(n.id) ?? 0;
    columns.set(col, [...(columns.get(col) ?? []), n]);
  }
  const pos = new Map<string, { x: number; y: number }>();
  for (const [col, list] of columns) {
    list.sort((a, b) => Number(b.starved !== null) - Number(a.starved !== null) || a.id.localeCompare(b.id));
    list.forEach((n, row) => pos.set(n.id, { x: PAD + col * (BOX_W + COL_GAP), y: PAD + row * (BOX_H + ROW_GAP) }));
  }
  const width = PAD * 2 + Math.max(1, columns.size) * (BOX_W + COL_GAP) - COL_GAP;
  const height = PAD * 2 + Math.max(1, ...[...columns.values()].map((l) => l.length)) * (BOX_H + ROW_GAP);
  return { pos, width, height };
}

function edgePath(e: WorkloadEdgeView, a: { x: number; y: number }, b: { x: number; y: number }, hot: boolean, maxConnections: number): SVGElement {
  const [x1, y1, x2, y2] = [a.x + BOX_W, a.y + BOX_H / 2, b.x, b.y + BOX_H / 2];
  // A call back to an earlier column loops below the boxes instead of crossing them.
  const d = x2 > x1 ? `M${x1},${y1} C${x1 + COL_GAP / 2},${y1} ${x2 - COL_GAP / 2},${y2} ${x2},${y2}` : `M${x1},${y1} C${x1 + 60},${y1 + 70} ${x2 - 60},${y2 + 70} ${x2},${y2}`;
  const path = s("path", { class: `edge${hot ? " hot" : ""}`, d, "stroke-width": 1 + 3 * Math.sqrt((e.connections + e.recentConnections) / maxConnections), "marker-end": "url(#arrow)" });
  path.append(s("title", {}, `${e.from} → ${e.to}: ${e.connections} open, ${e.recentConnections} recent connections`));
  return path;
}

function nodeBox(n: WorkloadNodeView, p: { x: number; y: number }): SVGElement {
  const subtitle = n.starved !== null ? `starved: ${n.rules.join(", ")}` : n.kind === "Workload" ? (n.name.split("/")[0] ?? "") : n.kind;
  const g = s("g", { class: nodeClass(n), "data-id": n.id, transform: `translate(${p.x},${p.y})` });
  g.append(s("rect", { width: BOX_W, height: BOX_H, rx: 5 }), s("text", { x: 8, y: 14, "font-size": 12 }, label(n)), s("text", { x: 8, y: 28, "font-size": 10.5, fill: "#5d6b7e" }, subtitle));
  const details = [n.id, n.pods.length > 0 ? `pods: ${n.pods.join(", ")}` : "", n.starved !== null ? `starved (${n.starved}): ${n.rules.join(", ")}` : "", n.callsStarved ? "calls a starved workload" : ""];
  g.append(s("title", {}, details.filter(Boolean).join("\n")));
  const firstPod = n.pods[0];
  return firstPod === undefined ? g : s("a", { href: `/pods/${firstPod.split("/").map(encodeURIComponent).join("/")}` }, g);
}

function draw(view: DependenciesView): SVGSVGElement {
  const { pos, width, height } = layout(view);
  const svg = s("svg", { class: "graph", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "dependency graph" });
  svg.append(s("defs", {}, s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerUnits: "userSpaceOnUse", markerWidth: 9, markerHeight: 9, orient: "auto-start-reverse" }, s("path", { d: "M0,0 L10,5 L0,10 z", fill: "#9aa7b8" }))));
  const starved = new Set(view.nodes.filter((n) => n.starved !== null).map((n) => n.id));
  const maxConnections = Math.max(1, ...view.edges.map((e) => e.connections + e.recentConnections));
  for (const e of view.edges) {
    const a = pos.get(e.from);
    const b = pos.get(e.to);
    if (a !== undefined && b !== undefined) svg.append(edgePath(e, a, b, starved.has(e.to), maxConnections));
  }
  for (const n of view.nodes) {
    const p = pos.get(n.id);
    if (p !== undefined) svg.append(nodeBox(n, p));
  }
  return svg;
}

export async function renderDependencies(): Promise<void> {
  setLive(null);
  const namespace = query("namespace");
  const form = h(
    "form",
    { class: "filters", method: "get", action: "/dependencies" },
    h("label", {}, "namespace", h("input", { name: "namespace", value: namespace ?? "", placeholder: "all" })),
    h("button", { class: "primary", type: "submit" }, "Filter"),
  );
  replace(main(), h("h1", {}, "Dependencies"), form, h("p", { class: "muted" }, "Loading…"));
  const view = await getJson<DependenciesView>(`/api/v1/dependencies?limit=150${namespace === undefined ? "" : `&namespace=${encodeURIComponent(namespace)}`}`);
  const legend = h("div", { class: "legend" }, h("span", {}, h("b", { style: "border-color:#c62828;background:#fdecea" }), "starved"), h("span", {}, h("b", { style: "border-color:#e08a00;background:#fff4e0" }), "calls a starved workload"), h("span", {}, h("b", { style: "border-color:#9aa7b8" }), "workload"));
  const body =
    view.edges.length === 0
      ? stateBox("empty", "No calls seen", namespace === undefined ? "No agent reported a connection between pods. Dependency mapping needs agents with hostPID and CAP_SYS_PTRACE (the chart's default) and a policy with sampling.dependencies enabled." : `No call to or from namespace ${namespace} was seen.`)
      : h("section", { class: "panel", id: "graph" }, legend, h("div", { style: "overflow:auto" }, draw(view)), view.omittedEdges > 0 ? h("p", { class: "muted" }, `${view.omittedEdges} quieter calls left out.`) : null);
  replace(main(), h("h1", {}, "Dependencies"), form, body);
}
