import type { PodRef } from "./rule.js";

/** 0.834 -> "83%" */
export function pct(share: number): string {
  return `${Math.round(share * 100)}%`;
}

/** 0.2 -> "0.2", 1.857 -> "1.86" */
export function cores(value: number): string {
  return String(Math.round(value * 100) / 100);
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"] as const;

export function bytes(value: number): string {
  let scaled = value;
  let unit = 0;
  while (scaled >= 1024 && unit < UNITS.length - 1) {
    scaled /= 1024;
    unit++;
  }
  return `${unit === 0 ? scaled : scaled.toFixed(scaled < 10 ? 1 : 0)} ${UNITS[unit] ?? "B"}`;
}

/** "orders/api" when the pod's name is known, else "pod 1f2e…" from its UID. */
export function podLabel(pod: PodRef): string {
  if (pod.uid === "node") return "node";
  if (pod.name) return pod.namespace ? `${pod.namespace}/${pod.name}` : pod.name;
  return `pod ${pod.uid.slice(0, 8)}`;
}
