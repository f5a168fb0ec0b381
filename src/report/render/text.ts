/** How the renderers write numbers and times for people: one place, so every output reads alike. */
import { bytes, cores, pct } from "../../analysis/format.js";
import { formatDuration } from "../../util/duration.js";
import type { AdviceEntry } from "../types.js";

/** A rule's value in its own unit: OOM kills are counts, everything else a share of time or periods. */
export function ruleValue(rule: string, value: number): string {
  return rule === "OOMKill" ? `${value} kill${value === 1 ? "" : "s"}` : pct(value);
}

/** "5m ago" from an RFC 3339 time; "-" when absent or unparsable. */
export function ago(iso: string | null | undefined, nowMs: number): string {
  const ms = iso ? Date.parse(iso) : Number.NaN;
  return Number.isNaN(ms) ? "-" : `${formatDuration(Math.max(0, nowMs - ms))} ago`;
}

export function duration(ms: number): string {
  return formatDuration(Math.max(0, ms));
}

export function amount(resource: "cpu" | "memory", value: number | null | undefined): string {
  if (value === undefined) return "?";
  if (value === null) return "none";
  return resource === "cpu" ? `${cores(value)} cores` : bytes(value);
}

/** `cpu limit 0.2 cores → 0.4 cores (raise)` */
export function adviceLine(a: AdviceEntry): string {
  const change = a.change === "keep" ? "keep" : `${amount(a.resource, a.current)} → ${amount(a.resource, a.recommended)} (${a.change})`;
  return `${a.resource} ${a.kind} ${change}`;
}

export function orDash(text: string | null | undefined): string {
  return text === undefined || text === null || text === "" ? "-" : text;
}
