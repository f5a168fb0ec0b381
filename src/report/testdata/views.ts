/** The fixture cluster's views, as the renderers' tests read them. */
import { incidents } from "../incidents.js";
import { pod } from "../pod.js";
import { report } from "../report.js";
import { summary } from "../summary.js";
import { top } from "../top.js";
import type { AdviceEntry, ReportView } from "../types.js";
import { checkoutHistory, CLUSTER, cruncherHistory, HEARTBEAT_MS, NOW } from "./cluster.js";

const base = { nodeFindings: CLUSTER, nowMs: NOW, heartbeatMs: HEARTBEAT_MS };
const memoryAdvice: AdviceEntry = {
  resource: "memory",
  kind: "limit",
  current: 512 * 2 ** 20,
  recommended: 384 * 2 ** 20,
  change: "lower",
  reason: "peak working set 300 MiB plus 25% headroom",
  basis: { peakWorkingSetBytes: 300 * 2 ** 20, headroom: 0.25 },
};

export const summaryView = summary(base);
export const topView = top(base);
export const incidentsView = incidents(base, { sinceMs: NOW - 7 * 86_400_000 });
export const podView = pod({ ...base, pod: "shop/checkout-7d9f-abcde", histories: [checkoutHistory], advise: () => [memoryAdvice] });
export const reportView: ReportView = report({
  ...base,
  histories: new Map([
    ["shop/checkout-7d9f-abcde", [checkoutHistory]],
    ["batch/cruncher-0", [cruncherHistory]],
  ]),
  advise: () => [memoryAdvice],
  adviseCulprit: (c) => [{ resource: "cpu", kind: "limit", current: c.cpuLimitCores, recommended: 2, change: "lower", reason: "cap it below what it took while checkout starved", basis: { p95Cores: c.p95Cores ?? 0 } }],
  skipped: [{ node: "node-b", reason: "agent at 10.0.0.2:9443 did not answer within 5s" }],
});
export const emptyReport = report({ nodeFindings: [], nowMs: NOW, heartbeatMs: HEARTBEAT_MS });
