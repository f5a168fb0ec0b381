import type { Finding } from "../analysis/types.js";
import { AgentMetrics, findingLabels } from "./metrics.js";
import { starvedFinding } from "./testing.js";

const starved = starvedFinding;
const oom: Finding = { ...starved, rule: "OOMKill", severity: "critical", pod: { uid: "u3", namespace: "shop", name: "cart" }, container: "redis", value: 1, threshold: 1, culprit: undefined, message: "OOM-killed once" };
const nodePressure: Finding = { ...starved, rule: "NodePressure", pod: { uid: "node" }, container: undefined, value: 0.45, threshold: 0.4, culprit: undefined, message: "node tasks stalled on cpu 45% of the time" };

/** The sample lines of one metric, without its HELP and TYPE lines, sorted. */
async function series(metrics: AgentMetrics, name: string): Promise<string[]> {
  const text = await metrics.registry.getSingleMetricAsString(name);
  return text.split("\n").filter((line) => line !== "" && !line.startsWith("#")).sort();
}

describe("per-finding metrics", () => {
  test("an open starvation finding is one active, one value and one culprit series; raising it counts one incident", async () => {
    const metrics = new AgentMetrics();
    metrics.observeFindings([starved], [starved]);
    expect(await series(metrics, "xander_finding_active")).toEqual(['xander_finding_active{namespace="shop",pod="orders",container="api",rule="CPUStarvation",severity="warning"} 1']);
    expect(await series(metrics, "xander_finding_value")).toEqual(['xander_finding_value{namespace="shop",pod="orders",container="api",rule="CPUStarvation",severity="warning"} 0.62']);
    expect(await series(metrics, "xander_finding_culprit_info")).toEqual(['xander_finding_culprit_info{namespace="shop",pod="orders",container="api",rule="CPUStarvation",culprit_namespace="batch",culprit_pod="cruncher"} 1']);
    expect(await series(metrics, "xander_incidents_total")).toEqual(['xander_incidents_total{namespace="shop",rule="CPUStarvation",severity="warning"} 1']);
  });

  test("a finding that stays open is not a new incident; its value follows the finding", async () => {
    const metrics = new AgentMetrics();
    metrics.observeFindings([starved], [starved]);
    metrics.observeFindings([{ ...starved, value: 0.8 }], []);
    expect(await series(metrics, "xander_finding_value")).toEqual(['xander_finding_value{namespace="shop",pod="orders",container="api",rule="CPUStarvation",severity="warning"} 0.8']);
    expect(await series(metrics, "xander_incidents_total")).toEqual(['xander_incidents_total{namespace="shop",rule="CPUStarvation",severity="warning"} 1']);
  });

  test("a cleared finding's series disappear, while the incident counter keeps its count", async () => {
    const metrics = new AgentMetrics();
    metrics.observeFindings([starved, oom], [starved, oom]);
    metrics.observeFindings([oom], []);
    expect(await series(metrics, "xander_finding_active")).toEqual(['xander_finding_active{namespace="shop",pod="cart",container="redis",rule="OOMKill",severity="critical"} 1']);
    expect(await series(metrics, "xander_finding_value")).toEqual(['xander_finding_value{namespace="shop",pod="cart",container="redis",rule="OOMKill",severity="critical"} 1']);
    expect(await series(metrics, "xander_finding_culprit_info")).toEqual([]);
    expect(await series(metrics, "xander_agent_findings")).toEqual(['xander_agent_findings{rule="OOMKill",severity="critical"} 1']);
    metrics.observeFindings([], []);
    expect(await series(metrics, "xander_finding_active")).toEqual([]);
    expect(await series(metrics, "xander_incidents_total")).toEqual([
      'xander_incidents_total{namespace="shop",rule="CPUStarvation",severity="warning"} 1',
      'xander_incidents_total{namespace="shop",rule="OOMKill",severity="critical"} 1',
    ]);
  });

  test("a node-level finding has empty namespace, pod and container labels", async () => {
    expect(findingLabels(nodePressure)).toEqual({ namespace: "", pod: "", container: "", rule: "NodePressure", severity: "warning" });
    const metrics = new AgentMetrics();
    metrics.observeFindings([nodePressure], [nodePressure]);
    expect(await series(metrics, "xander_finding_active")).toEqual(['xander_finding_active{namespace="",pod="",container="",rule="NodePressure",severity="warning"} 1']);
    expect(await series(metrics, "xander_incidents_total")).toEqual(['xander_incidents_total{namespace="",rule="NodePressure",severity="warning"} 1']);
  });

  test("a pod whose name is not known yet is labelled by its UID, so two such pods never share a series", () => {
    expect(findingLabels({ ...starved, pod: { uid: "0b5c-uid" } })).toMatchObject({ namespace: "", pod: "0b5c-uid" });
  });

  test("per-finding series stop at maxFindings, most severe first, while xander_agent_findings counts every finding", async () => {
    const metrics = new AgentMetrics();
    const others = ["a", "b", "c"].map((name): Finding => ({ ...starved, pod: { uid: name, namespace: "shop", name }, culprit: undefined }));
    metrics.observeFindings([oom, ...others], [oom, ...others], 2);
    expect(await series(metrics, "xander_finding_active")).toEqual([
      'xander_finding_active{namespace="shop",pod="a",container="api",rule="CPUStarvation",severity="warning"} 1',
      'xander_finding_active{namespace="shop",pod="cart",container="redis",rule="OOMKill",severity="critical"} 1',
    ]);
    expect(await series(metrics, "xander_finding_value")).toHaveLength(2);
    expect(await series(metrics, "xander_agent_findings")).toEqual(['xander_agent_findings{rule="CPUStarvation",severity="warning"} 3', 'xander_agent_findings{rule="OOMKill",severity="critical"} 1']);
    // Incidents have no pod label, so every raise counts, inside the bound or not.
    expect(await series(metrics, "xander_incidents_total")).toContain('xander_incidents_total{namespace="shop",rule="CPUStarvation",severity="warning"} 3');
  });
});
