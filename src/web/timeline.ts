/** Incidents of a span on one SVG timeline: a row per pod, a bar per incident, coloured by severity. */
import { duration, s } from "./dom.js";
import type { IncidentJson } from "./types.js";

const ROW_PX = 20;
const LABEL_PX = 220;
const AXIS_PX = 22;
const MAX_ROWS = 24;
const COLOURS: Readonly<Record<string, string>> = { critical: "#c62828", warning: "#e08a00", info: "#2f6fb3" };

function podKey(i: IncidentJson): string {
  return i.pod?.name === undefined ? `(node ${i.node})` : `${i.pod.namespace ?? ""}/${i.pod.name}`;
}

function hourTicks(fromMs: number, toMs: number, x: (ms: number) => number, height: number): SVGElement[] {
  const stepMs = toMs - fromMs > 12 * 3_600_000 ? 3 * 3_600_000 : 3_600_000;
  const ticks: SVGElement[] = [];
  for (let t = Math.ceil(fromMs / stepMs) * stepMs; t <= toMs; t += stepMs) {
    const label = new Date(t).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    ticks.push(s("line", { x1: x(t), x2: x(t), y1: 0, y2: height, stroke: "#e3e7ec" }), s("text", { x: x(t), y: height + 14, "font-size": 11, fill: "#5d6b7e", "text-anchor": "middle" }, label));
  }
  return ticks;
}

export function timeline(incidents: readonly IncidentJson[], spanMs: number, widthPx: number): SVGSVGElement {
  const toMs = Date.now();
  const fromMs = toMs - spanMs;
  const byPod = new Map<string, IncidentJson[]>();
  for (const i of incidents) byPod.set(podKey(i), [...(byPod.get(podKey(i)) ?? []), i]);
  // The pods with the latest incidents first.
  const rows = [...byPod].sort((a, b) => Math.max(...b[1].map((i) => Date.parse(i.start))) - Math.max(...a[1].map((i) => Date.parse(i.start)))).slice(0, MAX_ROWS);
  const plotPx = Math.max(200, widthPx - LABEL_PX - 10);
  const x = (ms: number): number => LABEL_PX + ((Math.min(Math.max(ms, fromMs), toMs) - fromMs) / spanMs) * plotPx;
  const height = rows.length * ROW_PX;
  const svg = s("svg", { class: "timeline", width: widthPx, height: height + AXIS_PX, viewBox: `0 0 ${widthPx} ${height + AXIS_PX}`, role: "img", "aria-label": "incidents timeline" });
  svg.append(...hourTicks(fromMs, toMs, x, height));
  rows.forEach(([pod, list], row) => {
    const y = row * ROW_PX;
    svg.append(s("text", { x: LABEL_PX - 8, y: y + 14, "font-size": 12, "text-anchor": "end", fill: "#1c2430" }, pod.length > 34 ? `…${pod.slice(-33)}` : pod));
    for (const i of list) {
      const startMs = Date.parse(i.start);
      const endMs = i.end === undefined ? toMs : Date.parse(i.end);
      const left = x(startMs);
      const bar = s("rect", { class: "bar", x: left, y: y + 3, width: Math.max(3, x(endMs) - left), height: ROW_PX - 6, rx: 2, fill: COLOURS[i.severity] ?? "#777", "data-rule": i.rule });
      bar.append(s("title", {}, `${i.rule} on ${pod}: ${duration(i.durationMs)}${i.end === undefined ? " (open)" : ""}. ${i.message}`));
      const href = i.pod?.name === undefined ? undefined : `/pods/${encodeURIComponent(i.pod.namespace ?? "")}/${encodeURIComponent(i.pod.name)}`;
      svg.append(href === undefined ? bar : s("a", { href }, bar));
    }
  });
  return svg;
}
