import { validateNodeFindings } from "../api/validate.js";
import { compareRisk } from "../report/findings-view.js";
import { changeFindings, initialNodeState, nodeName, nodeStatus, probePodName } from "./fleet-status.js";

const NOW = Date.parse("2026-06-01T12:00:00Z");

function asNodeFindings(node: number, status: ReturnType<typeof nodeStatus>): unknown {
  const name = nodeName(node);
  return { apiVersion: "xander.io/v1alpha1", kind: "NodeFindings", metadata: { name }, spec: { nodeName: name }, status };
}

describe("the controller-scale fleet's statuses", () => {
  test("every node's status, first and after changes, is one the CRD accepts", () => {
    for (const node of [0, 1, 2, 3, 999]) {
      let state = initialNodeState(node, 1000, NOW);
      const first = validateNodeFindings(asNodeFindings(node, nodeStatus(state, NOW, NOW)));
      expect(first.ok ? [] : first.error).toEqual([]);
      for (let seq = 0; seq < 12; seq++) state = changeFindings(state, seq, NOW + seq * 1000);
      const changed = validateNodeFindings(asNodeFindings(node, nodeStatus(state, NOW + 20_000, NOW)));
      expect(changed.ok ? [] : changed.error).toEqual([]);
    }
  });

  test("a change opens one new finding that outranks every other, and closes the node's previous one", () => {
    const before = initialNodeState(7, 1000, NOW);
    const once = changeFindings(before, 0, NOW);
    const twice = changeFindings(once, 1, NOW + 1000);
    expect(twice.findings.map((f) => f.pod?.name)).toContain(probePodName(1));
    expect(twice.findings.map((f) => f.pod?.name)).not.toContain(probePodName(0));
    expect(twice.findings).toHaveLength(before.findings.length + 1);
    expect(twice.recentIncidents[0]?.pod?.name).toBe(probePodName(0));
    const ranked = twice.findings.map((finding) => ({ node: "n", finding })).sort(compareRisk);
    expect(ranked[0]?.finding.pod?.name).toBe(probePodName(1));
  });
});
