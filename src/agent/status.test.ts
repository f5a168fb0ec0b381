import type { Dependency, NodeFinding, RecentIncident } from "../api/types.generated.js";
import { STATUS_BUDGET_BYTES, withinBudget } from "./status.js";

const finding = (i: number, severity: "critical" | "warning"): NodeFinding => ({
  rule: "CPUThrottling",
  severity,
  pod: { uid: `u${i}`, namespace: "ns", name: `p${i}` },
  value: 0.9,
  threshold: 0.25,
  firstSeen: "2026-12-01T00:00:00Z",
  lastSeen: "2026-12-01T00:00:00Z",
  message: "m".repeat(1024),
});
const dependency = (i: number): Dependency => ({ from: `ns/${"p".repeat(250)}${i}`, to: `ns/${"q".repeat(250)}${i}`, kind: "Pod" });
const incident = (i: number): RecentIncident => ({ rule: "OOMKill", severity: "critical", start: `2026-12-01T00:00:${String(i % 60).padStart(2, "0")}Z`, end: "2026-12-01T01:00:00Z", peak: 1, threshold: 1, message: "m".repeat(512) });

function status(findings: number, dependencies: number, incidents: number) {
  return {
    findings: Array.from({ length: findings }, (_, i) => finding(i, i < findings / 2 ? "critical" : "warning")),
    dependencies: Array.from({ length: dependencies }, (_, i) => dependency(i)),
    recentIncidents: Array.from({ length: incidents }, (_, i) => incident(i)),
    summary: { critical: findings / 2, warning: findings / 2 },
  };
}

describe("status byte budget", () => {
  it("leaves a status within the budget as it is", () => {
    const small = status(10, 10, 10);
    expect(withinBudget(small)).toBe(small);
  });

  it("trims the oldest incidents first, then dependencies, then the least severe findings, until it fits", () => {
    const big = status(200, 200, 100);
    // Room for about half of the incidents.
    const budget = Buffer.byteLength(JSON.stringify(big)) - Buffer.byteLength(JSON.stringify(big.recentIncidents)) / 2;
    const fitted = withinBudget(big, budget);
    expect(Buffer.byteLength(JSON.stringify(big))).toBeGreaterThan(budget);
    expect(Buffer.byteLength(JSON.stringify(fitted))).toBeLessThanOrEqual(budget);
    expect(fitted.recentIncidents.length).toBeLessThan(100);
    expect(fitted.recentIncidents.length).toBeGreaterThan(0);
    // Newest incidents and the most severe findings are what is kept.
    expect(fitted.recentIncidents[0]).toEqual(big.recentIncidents[0]);
    expect(fitted.findings.slice(0, 100).every((f) => f.severity === "critical")).toBe(true);
    expect(fitted.summary).toEqual(big.summary);
  });

  it("trims findings last: a tight budget drops every incident and edge before any finding", () => {
    const full = status(40, 40, 40);
    const findingsOnly = Buffer.byteLength(JSON.stringify({ ...full, dependencies: [], recentIncidents: [] }));
    const fitted = withinBudget(full, findingsOnly + 100);
    expect(fitted.recentIncidents).toEqual([]);
    expect(fitted.dependencies).toEqual([]);
    expect(fitted.findings.length).toBeGreaterThan(0);
    expect(fitted.findings).toHaveLength(40);
  });

  it("holds the worst status the agent could build within the default budget, a third of etcd's limit", () => {
    expect(STATUS_BUDGET_BYTES).toBeLessThanOrEqual((1.5 * 1024 * 1024) / 3);
  });
});
