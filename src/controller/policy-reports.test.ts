import type { NodeFinding, NodeFindings, StarvationPolicy } from "../api/types.generated.js";
import { desiredPolicyReports, MAX_RESULTS_PER_REPORT, protoTimestamp, reportsEnabled, summaryOf, type DesiredReportsInput } from "./policy-reports.js";

const NOW = Date.parse("2025-06-01T12:00:00Z");
const HEARTBEAT = 60_000;
const ago = (ms: number) => new Date(NOW - ms).toISOString();

function policy(name: string, policyReports?: boolean, spec: StarvationPolicy["spec"] = {}): StarvationPolicy {
  return {
    apiVersion: "xander.io/v1alpha1",
    kind: "StarvationPolicy",
    metadata: { name, uid: `uid-${name}` },
    spec: { ...spec, ...(policyReports === undefined ? {} : { reporting: { ...spec.reporting, policyReports } }) },
  };
}

function finding(over: Partial<NodeFinding> = {}): NodeFinding {
  return {
    rule: "CPUThrottling",
    severity: "warning",
    policy: "reported",
    pod: { namespace: "shop", name: "web", uid: "u-web" },
    container: "app",
    value: 0.6000000000000001,
    threshold: 0.25,
    window: "10s",
    firstSeen: "2025-06-01T11:59:00.250Z",
    lastSeen: ago(1000),
    message: "throttled in 60% of CFS periods",
    ...over,
  };
}

function nf(node: string, findings: NodeFinding[], lastSampleAgoMs = 5000): NodeFindings {
  return {
    apiVersion: "xander.io/v1alpha1",
    kind: "NodeFindings",
    metadata: { name: node },
    spec: { nodeName: node },
    status: { agent: { lastSample: ago(lastSampleAgoMs) }, findings },
  };
}

const reported = policy("reported", true);
const silent = policy("silent");

function desired(nodeFindings: NodeFindings[], policies: StarvationPolicy[] = [reported, silent]) {
  const input: DesiredReportsInput = { nodeFindings, policies, nowMs: NOW, heartbeatMs: HEARTBEAT };
  return desiredPolicyReports(input);
}

describe("desiredPolicyReports", () => {
  test("one report per namespace with open findings, named xander, labelled and owned by the policy", () => {
    const reports = desired([nf("n1", [finding(), finding({ pod: { namespace: "db", name: "pg-0", uid: "u-pg" }, rule: "OOMKill", severity: "critical", value: 1, threshold: 1 })])]);
    expect([...reports.keys()].sort()).toEqual(["db", "shop"]);
    const shop = reports.get("shop")!;
    expect(shop.apiVersion).toBe("wgpolicyk8s.io/v1alpha2");
    expect(shop.kind).toBe("PolicyReport");
    expect(shop.metadata).toEqual({
      name: "xander",
      namespace: "shop",
      labels: { "app.kubernetes.io/managed-by": "xander" },
      ownerReferences: [{ apiVersion: "xander.io/v1alpha1", kind: "StarvationPolicy", name: "reported", uid: "uid-reported", blockOwnerDeletion: false }],
    });
    expect(shop.summary).toEqual({ pass: 0, fail: 0, warn: 1, error: 0, skip: 0 });
    expect(reports.get("db")?.summary).toEqual({ pass: 0, fail: 1, warn: 0, error: 0, skip: 0 });
  });

  test("a result names the pod, the rule and the policy, and carries the numbers as strings", () => {
    const culprit = { namespace: "batch", name: "miner", uid: "u-m", score: 0.8123456789 };
    const [result] = desired([nf("n1", [finding({ rule: "CPUStarvation", severity: "critical", culprit })])]).get("shop")!.results!;
    expect(result).toEqual({
      source: "xander",
      policy: "reported",
      rule: "CPUStarvation",
      category: "Resource starvation",
      result: "fail",
      severity: "high",
      resources: [{ apiVersion: "v1", kind: "Pod", namespace: "shop", name: "web", uid: "u-web" }],
      message: "throttled in 60% of CFS periods",
      properties: { node: "n1", container: "app", value: "0.6", threshold: "0.25", window: "10s", firstSeen: "2025-06-01T11:59:00.250Z", culprit: "batch/miner", culpritScore: "0.812346" },
      timestamp: { seconds: Date.parse("2025-06-01T11:59:00Z") / 1000, nanos: 250_000_000 },
    });
  });

  test("severity maps to result and report severity: critical fail/high, warning warn/medium, info warn/low", () => {
    const results = desired([nf("n1", (["info", "critical", "warning"] as const).map((severity, i) => finding({ severity, pod: { namespace: "shop", name: `p${i}`, uid: `u${i}` } })))]).get("shop")!.results!;
    expect(results.map((r) => [r.resources[0]?.name, r.result, r.severity])).toEqual([
      ["p1", "fail", "high"],
      ["p2", "warn", "medium"],
      ["p0", "warn", "low"],
    ]);
  });

  test("only findings of policies with policyReports: true are reported", () => {
    expect(desired([nf("n1", [finding({ policy: "silent" }), finding({ policy: "unknown" }), finding({ policy: undefined })])]).size).toBe(0);
    expect(desired([nf("n1", [finding()])], [silent]).size).toBe(0);
    expect(desired([nf("n1", [finding()])], [policy("reported", false)]).size).toBe(0);
  });

  test("an invalid policy reports nothing, even with the flag on", () => {
    const invalid = policy("reported", true, { sampling: { interval: "100ms" } });
    expect(reportsEnabled(invalid)).toBe(false);
    expect(desired([nf("n1", [finding()])], [invalid]).size).toBe(0);
  });

  test("node-level findings (no pod) belong to no namespace and are left out", () => {
    const nodePressure = finding({ rule: "NodePressure" });
    delete nodePressure.pod;
    expect(desired([nf("n1", [nodePressure])]).size).toBe(0);
  });

  test("findings of a node whose agent went quiet for 3 heartbeats are left out, as in policy status", () => {
    expect(desired([nf("n1", [finding()], 3 * HEARTBEAT + 1000)]).size).toBe(0);
    expect(desired([nf("n1", [finding()], 3 * HEARTBEAT - 1000)]).size).toBe(1);
  });

  test("findings from several nodes and policies share their namespace's report, owned by every reporting policy", () => {
    const other = policy("also", true);
    const reports = desired([nf("n1", [finding()]), nf("n2", [finding({ policy: "also", pod: { namespace: "shop", name: "api", uid: "u-api" } })])], [reported, other]);
    expect(reports.size).toBe(1);
    const shop = reports.get("shop")!;
    expect(shop.results?.map((r) => `${r.properties.node}:${r.resources[0]?.name}:${r.policy}`)).toEqual(["n2:api:also", "n1:web:reported"]);
    expect(shop.metadata.ownerReferences?.map((o) => o.name)).toEqual(["also", "reported"]);
  });

  test("the same findings in another order make the same report (no needless writes)", () => {
    const a = finding({ pod: { namespace: "shop", name: "a", uid: "ua" } });
    const b = finding({ pod: { namespace: "shop", name: "b", uid: "ub" }, rule: "MemoryNearLimit" });
    expect(desired([nf("n1", [a, b])])).toEqual(desired([nf("n1", [b, a])]));
  });

  test("a report holds at most MAX_RESULTS_PER_REPORT results, the most severe kept, and its summary counts what it holds", () => {
    const many = Array.from({ length: MAX_RESULTS_PER_REPORT + 10 }, (_, i) => finding({ pod: { namespace: "shop", name: `p${String(i).padStart(4, "0")}`, uid: `u${i}` } }));
    many.push(finding({ severity: "critical", pod: { namespace: "shop", name: "zz-last", uid: "uz" } }));
    const shop = desired([nf("n1", many)]).get("shop")!;
    expect(shop.results).toHaveLength(MAX_RESULTS_PER_REPORT);
    expect(shop.results?.[0]?.resources[0]?.name).toBe("zz-last");
    expect(shop.summary).toEqual(summaryOf(shop.results!));
    expect(shop.summary).toMatchObject({ fail: 1, warn: MAX_RESULTS_PER_REPORT - 1 });
  });
});

describe("protoTimestamp", () => {
  test("splits RFC 3339 into seconds and nanos; garbage is the epoch rather than a rejected report", () => {
    expect(protoTimestamp("1970-01-01T00:00:01.5Z")).toEqual({ seconds: 1, nanos: 500_000_000 });
    expect(protoTimestamp("not a time")).toEqual({ seconds: 0, nanos: 0 });
  });
});
