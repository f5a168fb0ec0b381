/**
 * Numbers as people read them in every renderer: cores, MiB, percentages, durations such as 2m13s and
 * times such as "5m ago". Pure.
 */
import { bytes, cores, pct } from "../../analysis/format.js";
import type { AdviceEntry } from "../types.js";
import { formatDuration } from "../../util/duration.js";

export const NONE = "-";

export function coresText(value: number | null | undefined): string {
  return value === null || value === undefined ? NONE : `${cores(value)} cores`;
}

/** null = no limit. */
export function limitCoresText(value: number | null | undefined): string {
  return value === undefined ? NONE : value === null ? "unlimited" : coresText(value);
}

export function bytesText(value: number | null | undefined): string {
  return value === null || value === undefined ? NONE : bytes(value);
}

export function limitBytesText(value: number | null | undefined): string {
  return value === undefined ? NONE : value === null ? "unlimited" : bytes(value);
}

export function shareText(value: number | null | undefined): string {
  return value === null || value === undefined ? NONE : pct(value);
}

export function durationText(ms: number): string {
  return formatDuration(Math.max(0, ms));
}

/** "5m ago" from an RFC 3339 time, relative to the view's own time so output does not drift. */
export function agoText(time: string | null | undefined, nowMs: number): string {
  if (time === null || time === undefined) return NONE;
  const ms = Date.parse(time);
  if (Number.isNaN(ms)) return time;
  const delta = nowMs - ms;
  if (delta < 1000) return "now";
  return `${durationText(Math.round(delta / 1000) * 1000)} ago`;
}

/** A rule's value in its unit: OOMKill counts kills, every other rule a share. */
export function ruleValueText(rule: string, value: number): string {
  return rule === "OOMKill" ? `${value} kill${value === 1 ? "" : "s"}` : pct(value);
}

/** "62% ≥ 30%" */
export function versusText(rule: string, value: number, threshold: number): string {
  return `${ruleValueText(rule, value)} ≥ ${ruleValueText(rule, threshold)}`;
}

/** An advice amount in the resource's unit. */
export function amountText(resource: "cpu" | "memory", value: number | null | undefined): string {
  if (value === undefined) return "unknown";
  if (value === null) return "none";
  return resource === "cpu" ? coresText(value) : bytes(value);
}

/** "raise cpu request 0.2 cores → 0.5 cores: reason (p95Cores 0.45, samples 1440)" */
export function adviceText(a: AdviceEntry): string {
  const basis = Object.entries(a.basis).map(([key, value]) => `${key} ${typeof value === "number" ? String(Math.round(value * 1000) / 1000) : value}`);
  const change = a.change === "keep" ? `keep ${a.resource} ${a.kind} at ${amountText(a.resource, a.current)}` : `${a.change} ${a.resource} ${a.kind} ${amountText(a.resource, a.current)} → ${amountText(a.resource, a.recommended)}`;
  return `${change}: ${a.reason}${basis.length === 0 ? "" : ` (${basis.join(", ")})`}`;
}
