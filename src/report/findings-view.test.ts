import type { Dependency, NodeFinding, NodeFindings } from "../api/types.generated.js";
import { FindingsView, summarize } from "./findings-view.js";

const NOW = Date.parse("2025-06-01T12:00:00Z");
const HEARTBEAT = 60_000;
const ago = (ms: number) => new Date(NOW - ms).toISOString();

function finding(over: Partial<NodeFinding> = {}): NodeFinding {
  return {
    rule: "CPUStarvation",
    severity: "warning",
    policy: "default",
    pod: { namespace: "shop", name: "web", uid: "u-web" },
    value: 0.5,
    threshold: 0.3,
    firstSeen: ago(60_000),
    lastSeen: ago(1000),
    message: "stalled on CPU",
    ...over,
  };
}

function nf(node: string, lastSampleAgoMs: number | undefined, findings: NodeFinding[] = []): NodeFindings {
  return {
    apiVersion: "xander.io/v1alpha1",
    kind: "NodeFindings",
    metadata: { name: node },
    spec: { nodeName: node },
    status: {
      ...(lastSampleAgoMs === undefined ? {} : { agent: { lastSample: ago(lastSampleAgoMs) } }),
      findings,
    },
  };
}

describe("summarize", () => {
  test("an empty cluster has no nodes, no findings and no risks", () => {
    const s = summarize([], NOW, HEARTBEAT);
    expect(s.nodes).toEqual({ total: 0, reporting: 0, stale: 0, pending: 0, staleNodes: [] });
    expect(s.bySeverity).toEqual({ critical: 0, warning: 0, info: 0 });
    expect(s.topRisks).toEqual([]);
  });

  test("counts findings per severity and per rule across nodes", () => {
    const s = summarize(
      [
        nf("a", 1000, [finding(), finding({ rule: "OOMKill", severity: "critical", value: 2, threshold: 1 })]),
        nf("b", 1000, [finding({ rule: "CPUThrottling" }), finding({ rule: "IOPressure", severity: "info" })]),
      ],
      NOW,
      HEARTBEAT,
    );
    expect(s.bySeverity).toEqual({ critical: 1, warning: 2, info: 1 });
    expect(s.byRule.OOMKill).toEqual({ critical: 1, warning: 0, info: 0 });
    expect(s.byRule.CPUStarvation.warning).toBe(1);
    expect(s.byRule.CPUThrottling.warning).toBe(1);
    expect(s.byRule.IOPressure.info).toBe(1);
    expect(s.byRule.NodePressure).toEqual({ critical: 0, warning: 0, info: 0 });
  });

  test("a node is stale once its last report is older than three heartbeats, and one that never reported is stale", () => {
    const s = summarize([nf("fresh", 3 * HEARTBEAT), nf("old", 3 * HEARTBEAT + 1), nf("never", undefined)], NOW, HEARTBEAT);
    expect(s.nodes).toEqual({ total: 3, reporting: 1, stale: 2, pending: 0, staleNodes: ["never", "old"] });
  });

  test("a node that joined less than three heartbeats ago and has not reported yet is pending, not stale", () => {
    const joined = (ageMs: number) => ({ ...nf(`joined-${ageMs}`, undefined), metadata: { name: `joined-${ageMs}`, creationTimestamp: ago(ageMs) } });
    const s = summarize([joined(HEARTBEAT), joined(4 * HEARTBEAT)], NOW, HEARTBEAT);
    expect(s.nodes).toEqual({ total: 2, reporting: 0, stale: 1, pending: 1, staleNodes: [`joined-${4 * HEARTBEAT}`] });
  });

  test("staleness is judged by the heartbeat passed in (each policy has its own)", () => {
    const nodes = [nf("a", 100_000)];
    expect(summarize(nodes, NOW, 60_000).nodes.stale).toBe(0);
    expect(summarize(nodes, NOW, 30_000).nodes.stale).toBe(1);
  });

  test("findings of a stale node are not counted and never become a top risk", () => {
    const s = summarize([nf("dead", 10 * HEARTBEAT, [finding({ severity: "critical", rule: "OOMKill" })]), nf("ok", 0, [finding()])], NOW, HEARTBEAT);
    expect(s.bySeverity.critical).toBe(0);
    expect(s.topRisks.map((r) => r.node)).toEqual(["ok"]);
  });

  test("top risks are worst first: severity, then how far past the threshold, then the most recent", () => {
    const s = summarize(
      [
        nf("a", 0, [
          finding({ pod: { namespace: "x", name: "mild", uid: "1" }, value: 0.31, threshold: 0.3 }),
          finding({ pod: { namespace: "x", name: "info", uid: "2" }, severity: "info", value: 9, threshold: 0.1 }),
        ]),
        nf("b", 0, [
          finding({ pod: { namespace: "y", name: "oom", uid: "3" }, rule: "OOMKill", severity: "critical", value: 1, threshold: 1 }),
          finding({ pod: { namespace: "y", name: "bad", uid: "4" }, value: 0.9, threshold: 0.3 }),
          finding({ pod: { namespace: "y", name: "older", uid: "5" }, value: 0.31, threshold: 0.3, lastSeen: ago(50_000) }),
        ]),
      ],
      NOW,
      HEARTBEAT,
      { topN: 10 },
    );
    expect(s.topRisks.map((r) => r.pod)).toEqual(["y/oom", "y/bad", "x/mild", "y/older", "x/info"]);
    expect(s.topRisks[0]).toEqual({ node: "b", rule: "OOMKill", severity: "critical", pod: "y/oom", message: "stalled on CPU" });
  });

  test("top risks are bounded", () => {
    const many = Array.from({ length: 30 }, (_, i) => finding({ pod: { namespace: "n", name: `p${i}`, uid: String(i) } }));
    expect(summarize([nf("a", 0, many)], NOW, HEARTBEAT).topRisks).toHaveLength(5);
    expect(summarize([nf("a", 0, many)], NOW, HEARTBEAT, { topN: 10 }).topRisks).toHaveLength(10);
  });

  test("a policy filter keeps only that policy's findings, but counts every node", () => {
    const s = summarize([nf("a", 0, [finding({ policy: "strict", severity: "critical" }), finding({ policy: "default" })]), nf("b", undefined)], NOW, HEARTBEAT, {
      policy: "strict",
    });
    expect(s.bySeverity).toEqual({ critical: 1, warning: 0, info: 0 });
    expect(s.nodes.total).toBe(2);
    expect(s.nodes.stale).toBe(1);
  });

  test("a top risk names its callers across nodes, calls through a Service included; stale nodes' edges do not count", () => {
    const withDeps = (node: NodeFindings, dependencies: Dependency[]): NodeFindings => ({ ...node, status: { ...node.status, dependencies } });
    const nodes = [
      // The starved pod's own agent saw web's open connection arrive.
      withDeps(nf("b", 0, [finding({ pod: { namespace: "shop", name: "api-1", uid: "u-api" } })]), [
        { from: "shop/api-1", to: "shop/web-1", kind: "Pod", toWorkload: "Deployment/web", direction: "inbound", port: 8080, connections: 2 },
      ]),
      // Short calls through the Service, seen only by the caller's agent on another node.
      withDeps(nf("a", 0), [{ from: "batch/report-x", to: "shop/api", kind: "Service", fromWorkload: "CronJob/report", direction: "outbound", port: 80, connections: 0, recentConnections: 7 }]),
      withDeps(nf("gone", 10 * HEARTBEAT), [{ from: "old/ghost", to: "shop/api-1", kind: "Pod", direction: "outbound", port: 8080, connections: 9 }]),
    ];
    const backends = new Map([["shop/api", ["shop/api-1"]]]);
    const s = summarize(nodes, NOW, HEARTBEAT, { backends });
    expect(s.topRisks[0]).toMatchObject({ pod: "shop/api-1", callers: ["shop/web", "batch/report"] });
    expect(s.dependencyEdges).toBe(2);
    // Without the EndpointSlices the Service is the callee, and only the direct caller is known.
    expect(summarize(nodes, NOW, HEARTBEAT).topRisks[0]?.callers).toEqual(["shop/web"]);
  });

  test("a node-level finding (no pod) shows an empty pod in top risks", () => {
    const s = summarize([nf("a", 0, [{ ...finding({ rule: "NodePressure" }), pod: undefined }])], NOW, HEARTBEAT);
    expect(s.topRisks[0]?.pod).toBe("");
  });
});

describe("FindingsView", () => {
  test("keeps the last cluster-wide summary and recomputes it on refresh", () => {
    let items: NodeFindings[] = [];
    let now = NOW;
    const view = new FindingsView(() => items, () => HEARTBEAT, () => now);
    expect(view.summary.nodes.total).toBe(0);
    items = [nf("a", 0, [finding()])];
    expect(view.summary.nodes.total).toBe(0);
    expect(view.refresh().bySeverity.warning).toBe(1);
    now += 10 * HEARTBEAT; // time alone makes the node stale
    expect(view.refresh().nodes.stale).toBe(1);
    expect(view.forPolicy("default", 100 * HEARTBEAT).bySeverity.warning).toBe(1);
  });
});
