import type { NodeFinding, NodeFindings } from "../api/types.generated.js";
import { summarize } from "./findings-view.js";
import { checkNodeFindings } from "./node-findings-check.js";
import { CLUSTER } from "./testdata/cluster.js";

const NOW = Date.parse("2026-03-01T12:00:00Z");
const iso = (offsetMs: number): string => new Date(NOW + offsetMs).toISOString();

const finding: NodeFinding = {
  rule: "CPUThrottling",
  severity: "critical",
  pod: { namespace: "shop", name: "orders", uid: "u1" },
  container: "api",
  value: 0.9,
  threshold: 0.25,
  firstSeen: iso(-60_000),
  lastSeen: iso(0),
  message: "throttled",
};

function nodeFindings(status: NodeFindings["status"]): NodeFindings {
  return { apiVersion: "xander.io/v1alpha1", kind: "NodeFindings", metadata: { name: "n1", resourceVersion: "7", creationTimestamp: iso(-3_600_000) }, spec: { nodeName: "n1" }, status };
}

describe("checkNodeFindings", () => {
  test("an agent's own statuses pass untouched, as the same object", () => {
    for (const nf of CLUSTER) {
      const check = checkNodeFindings(nf, Date.parse(nf.status?.agent?.lastSample ?? "") || NOW);
      expect([nf.metadata.name, check.problems]).toEqual([nf.metadata.name, []]);
      expect(check.usable).toBe(nf);
    }
  });

  test("hand-edited findings the schema allows are left out, each named: a repeat, no pod, time backwards, an infinite ratio", () => {
    const nf = nodeFindings({
      agent: { lastSample: iso(0) },
      findings: [
        finding,
        finding,
        { ...finding, rule: "CPUStarvation", pod: { uid: "only-a-uid" } },
        { ...finding, rule: "MemoryNearLimit", firstSeen: "9999-12-31T23:59:59Z", lastSeen: "0001-01-01T00:00:00Z" },
        { ...finding, rule: "IOPressure", value: 1e308, threshold: 1e-300 },
        { ...finding, rule: "NodePressure", pod: undefined, container: undefined },
        { ...finding, container: "side", value: -5, threshold: -1 },
      ],
    });
    const { usable, problems } = checkNodeFindings(nf, NOW);
    expect(problems).toEqual([
      "findings[1] repeats findings[0] (CPUThrottling on shop/orders, container api)",
      "findings[2] (CPUStarvation) names no pod by name, only uid only-a-uid",
      "findings[3] (MemoryNearLimit) was last seen (0001-01-01T00:00:00Z) before it was first seen (9999-12-31T23:59:59Z)",
      "findings[4] (IOPressure) has value 1e+308 over threshold 1e-300, not a finite ratio",
    ]);
    expect(usable.status?.findings?.map((f) => `${f.rule}/${f.container ?? ""}`)).toEqual(["CPUThrottling/api", "NodePressure/", "CPUThrottling/side"]);
    // The cached object is a copy: the one from the API server is not edited.
    expect(nf.status?.findings).toHaveLength(7);
    expect(summarize([usable], NOW, 60_000).bySeverity.critical).toBe(3);
  });

  test("a last sample in the year 9999 makes the node stale, judged by its age, rather than reporting for ever", () => {
    const nf = nodeFindings({ agent: { version: "v1", lastSample: "9999-12-31T23:59:59Z" }, findings: [finding] });
    const { usable, problems } = checkNodeFindings(nf, NOW);
    expect(problems).toEqual([
      "status.agent.lastSample 9999-12-31T23:59:59Z is in the future; the node counts as not reporting",
      "1 finding(s) but no status.agent.lastSample: not counted until the node's agent reports",
    ]);
    expect(usable.status?.agent).toEqual({ version: "v1" });
    expect(summarize([nf], NOW, 60_000).nodes.reporting).toBe(1);
    expect(summarize([usable], NOW, 60_000).nodes).toMatchObject({ reporting: 0, stale: 1, staleNodes: ["n1"] });
  });

  test("incidents that end before they start and dependencies without namespace/name ends are left out", () => {
    const nf = nodeFindings({
      agent: { lastSample: iso(0) },
      recentIncidents: [
        { rule: "CPUThrottling", severity: "warning", start: iso(0), end: iso(-3_600_000), peak: 1, threshold: 0.25 },
        { rule: "CPUThrottling", severity: "warning", start: iso(-3_600_000), end: iso(0), peak: 1, threshold: 0.25 },
      ],
      dependencies: [
        { from: "no-slash", to: "", kind: "Pod" },
        { from: "a/b/c", to: "10.0.0.1", kind: "External" },
        { from: "shop/web", to: "", kind: "External" },
        { from: "shop/web", to: "shop/orders", kind: "Service" },
        { from: "shop/web", to: "10.0.0.1", kind: "External" },
      ],
    });
    const { usable, problems } = checkNodeFindings(nf, NOW);
    expect(problems).toHaveLength(4);
    expect(problems[0]).toMatch(/^recentIncidents\[0\] \(CPUThrottling\) ends .* before it starts/);
    expect(problems.slice(1)).toEqual([
      'dependencies[0] from "no-slash" to Pod "" does not name namespace/name ends',
      'dependencies[1] from "a/b/c" to External "10.0.0.1" does not name namespace/name ends',
      'dependencies[2] from "shop/web" to External "" does not name namespace/name ends',
    ]);
    expect(usable.status?.recentIncidents).toHaveLength(1);
    expect(usable.status?.dependencies?.map((d) => d.to)).toEqual(["shop/orders", "10.0.0.1"]);
  });

  test("an object without status, or with an empty one, has nothing to leave out", () => {
    expect(checkNodeFindings(nodeFindings(undefined), NOW).problems).toEqual([]);
    expect(checkNodeFindings(nodeFindings({}), NOW).problems).toEqual([]);
  });
});
