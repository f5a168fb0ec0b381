/** Building DOM and SVG without a framework, and the number formats every page shares. */

type Child = Node | string | number | null | undefined | false;
type Attrs = Readonly<Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>>;

function apply(el: Element, attrs: Attrs): void {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === "function") el.addEventListener(key.replace(/^on/, ""), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
}

function append(el: Element, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "number" ? String(child) : child);
  }
}

/** An HTML element; text children are text nodes, never parsed as HTML. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

export function s<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

export function replace(target: Element, ...children: Child[]): void {
  target.replaceChildren();
  append(target, children);
}

export function main(): HTMLElement {
  const el = document.getElementById("main");
  if (el === null) throw new Error("the page has no <main id=main>");
  return el;
}

/** The header's live indicator: streaming (true), reconnecting (false), or not streaming on this page (null). */
export function setLive(live: boolean | null): void {
  const el = document.getElementById("live");
  if (el === null) return;
  el.className = live === null ? "live" : live ? "live on" : "live off";
  el.textContent = live === null ? "" : live ? "live" : "reconnecting…";
}

export function pct(share: number | null | undefined): string {
  return share === null || share === undefined ? "–" : `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`;
}

export function cores(value: number | null | undefined): string {
  if (value === null || value === undefined) return "–";
  return value < 1 ? `${Math.round(value * 1000)}m` : `${value.toFixed(2)} cores`;
}

export function bytes(value: number | null | undefined): string {
  if (value === null || value === undefined) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = value;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 && i > 0 ? 1 : 0)} ${units[i] ?? "B"}`;
}

export function duration(ms: number): string {
  const sec = Math.round(ms / 1000);
  if (sec < 60) return `${sec}s`;
  const min = Math.round(sec / 60);
  if (min < 60) return `${min}m`;
  const hours = Math.floor(min / 60);
  return hours < 48 ? `${hours}h${min % 60 > 0 ? ` ${min % 60}m` : ""}` : `${Math.round(hours / 24)}d`;
}

export function ago(iso: string): string {
  const ms = Date.now() - Date.parse(iso);
  return Number.isNaN(ms) ? iso : `${duration(Math.max(0, ms))} ago`;
}

export function clock(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/** A rule's measured value as people read it: a share for most rules, a count for OOM kills. */
export function ruleValue(rule: string, value: number): string {
  const kills = Math.round(value);
  return rule === "OOMKill" ? `${kills} kill${kills === 1 ? "" : "s"}` : pct(value);
}

export function severityBadge(severity: string): HTMLElement {
  return h("span", { class: `sev ${severity}` }, severity);
}

export function podLink(pod: string): HTMLElement | string {
  const [namespace, name] = pod.split("/");
  if (namespace === undefined || name === undefined || namespace === "") return pod || "(node)";
  return h("a", { href: `/pods/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}` }, pod);
}

export function query(name: string): string | undefined {
  const value = new URLSearchParams(location.search).get(name);
  return value === null || value === "" ? undefined : value;
}
