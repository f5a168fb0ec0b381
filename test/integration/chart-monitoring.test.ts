// The chart's Prometheus and Grafana objects, rendered by the real helm: the agents' PodMonitor, the
// PrometheusRule and the dashboard ConfigMap, each only when enabled, and the values schema that guards
// their keys. What the alerts do is tested by promtool in prometheus-rules.test.ts.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AGENT_METRICS_PORT, AGENT_SELECTOR, agentDaemonSet } from "../../src/controller/daemonset.js";
import { CHART, find, helm, KUBE_VERSION, renderChart, type Manifest } from "./support/chart.js";

const NS = "xander-system";
const RELEASE = "xander";
const SCHEMA_ERROR = "values don't meet the specifications of the schema(s)";

interface PodMonitorSpec {
  selector: { matchLabels: Record<string, string> };
  namespaceSelector: unknown;
  podMetricsEndpoints: { port: string; interval: string; relabelings: Record<string, unknown>[] }[];
}
interface AlertRule {
  alert: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
/** Enough settings to render the agent DaemonSet as the controller does, and read its pod template. */
const AGENT_SETTINGS = { namespace: NS, image: "x", imagePullPolicy: "IfNotPresent", serviceAccountName: "xander-agent", tolerations: [], nodeSelector: {}, resources: {} } as const;

describe("the chart's monitoring objects, rendered", () => {
  test("none of them renders by default", async () => {
    const kinds = (await renderChart(RELEASE, NS)).map((m) => m.kind);
    expect(kinds.filter((k) => ["ServiceMonitor", "PodMonitor", "PrometheusRule", "ConfigMap"].includes(k))).toEqual([]);
  });

  test("the PodMonitor selects the agent pods the controller creates, by their metrics port, and keeps the findings' own pod labels", async () => {
    const m = await renderChart(RELEASE, NS, ["--set", "metrics.agentPodMonitor.enabled=true", "--set", "metrics.agentPodMonitor.labels.release=prom", "--set", "metrics.agentPodMonitor.interval=15s"]);
    const monitor = find(m, "PodMonitor", "xander-agent") as Manifest & { spec: PodMonitorSpec };
    expect(monitor.metadata.labels?.release).toBe("prom");
    // The agent pods as the controller renders them: their labels and the name of their metrics port.
    const agentPod = agentDaemonSet(AGENT_SETTINGS).spec?.template;
    expect(monitor.spec.selector.matchLabels).toEqual(AGENT_SELECTOR);
    expect(agentPod?.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
    expect(monitor.spec.namespaceSelector).toEqual({ matchNames: [NS] });
    const endpoint = monitor.spec.podMetricsEndpoints[0]!;
    expect(agentPod?.spec.containers[0]?.ports).toEqual([{ name: endpoint.port, containerPort: AGENT_METRICS_PORT, protocol: "TCP" }]);
    expect(endpoint.interval).toBe("15s");
    // The target's namespace, pod and container would collide with the finding's; the agent is named by node and agent_pod.
    expect(endpoint.relabelings).toEqual([
      { sourceLabels: ["__meta_kubernetes_pod_node_name"], targetLabel: "node" },
      { sourceLabels: ["__meta_kubernetes_pod_name"], targetLabel: "agent_pod" },
      { targetLabel: "job", replacement: "xander-agent" },
      { action: "labeldrop", regex: "namespace|pod|container" },
    ]);
  });

  test("the PrometheusRule takes extra alert labels, per-alert delays and switches, and points each alert at its runbook", async () => {
    const m = await renderChart(RELEASE, NS, [
      "--set", "metrics.prometheusRule.enabled=true",
      "--set", "metrics.prometheusRule.labels.release=prom",
      "--set", "metrics.prometheusRule.alertLabels.team=platform",
      "--set", "metrics.prometheusRule.alerts.sustainedThrottling.for=30m",
      "--set", "metrics.prometheusRule.alerts.agentDown.enabled=false",
      "--set", "metrics.agentPodMonitor.job=agents",
    ]);
    const rule = find(m, "PrometheusRule", "xander") as Manifest & { spec: { groups: { name: string; rules: AlertRule[] }[] } };
    expect(rule.metadata.labels?.release).toBe("prom");
    const alerts = rule.spec.groups.flatMap((g) => g.rules);
    expect(alerts.map((a) => a.alert)).toEqual(["XanderCPUStarvationWithCulprit", "XanderOOMKill", "XanderSustainedThrottling", "XanderAgentStale", "XanderAgentHistoryNotWritable"]);
    for (const alert of alerts) {
      expect(alert.labels.team).toBe("platform");
      expect(alert.annotations.runbook_url).toBe(`https://github.com/xander/xander/blob/main/README.md#${alert.alert.toLowerCase()}`);
    }
    const throttling = alerts.find((a) => a.alert === "XanderSustainedThrottling");
    expect(throttling?.for).toBe("30m");
    expect(throttling?.annotations.description).toContain("has been for at least 30m.");
    expect(alerts.find((a) => a.alert === "XanderOOMKill")?.labels.severity).toBe("critical");
    // The agents' job follows the PodMonitor's.
    const withDown = await renderChart(RELEASE, NS, ["--set", "metrics.prometheusRule.enabled=true", "--set", "metrics.agentPodMonitor.job=agents"]);
    const down = (find(withDown, "PrometheusRule") as Manifest & { spec: { groups: { rules: (AlertRule & { expr: string })[] }[] } }).spec.groups.flatMap((g) => g.rules).find((r) => r.alert === "XanderAgentDown");
    expect(down?.expr).toBe('up{job="agents"} == 0');
  });

  test("the dashboard ConfigMap carries the kube-prometheus-stack sidecar's label by default, and dashboards/xander.json as it is", async () => {
    const cm = find(await renderChart(RELEASE, NS, ["--set", "metrics.grafanaDashboard.enabled=true"]), "ConfigMap", "xander-dashboard") as Manifest & { data: Record<string, string> };
    expect(cm.metadata.namespace).toBe(NS);
    expect(cm.metadata.labels?.grafana_dashboard).toBe("1");
    expect(cm.data["xander.json"]).toBe(readFileSync(join(CHART, "dashboards", "xander.json"), "utf8").trimEnd());
  });

  test("the dashboard ConfigMap goes where Grafana's sidecar looks, with its label and folder annotation", async () => {
    const m = await renderChart(RELEASE, NS, ["--set", "metrics.grafanaDashboard.enabled=true", "--set", "metrics.grafanaDashboard.namespace=monitoring", "--set", "metrics.grafanaDashboard.label=dashboards", "--set", "metrics.grafanaDashboard.labelValue=xander", "--set", "metrics.grafanaDashboard.annotations.grafana_folder=Xander"]);
    const cm = find(m, "ConfigMap", "xander-dashboard");
    expect(cm.metadata.namespace).toBe("monitoring");
    expect(cm.metadata.labels?.dashboards).toBe("xander");
    expect(cm.metadata.labels?.grafana_dashboard).toBeUndefined();
    expect(cm.metadata.annotations).toEqual({ grafana_folder: "Xander" });
  });

  const bad: [string, string[], string][] = [
    ["a misspelt alert", ["--set", "metrics.prometheusRule.alerts.oomKil.for=1m"], "at '/metrics/prometheusRule/alerts': additional properties 'oomKil' not allowed"],
    ["an alert delay Prometheus cannot parse", ["--set", "metrics.prometheusRule.alerts.oomKill.for=1.5m"], "at '/metrics/prometheusRule/alerts/oomKill/for'"],
    ["a misspelt PrometheusRule switch", ["--set", "metrics.prometheusRule.enable=true"], "at '/metrics/prometheusRule': additional properties 'enable' not allowed"],
    ["a misspelt dashboard key", ["--set", "metrics.grafanaDashboard.labels.grafana_dashboard=1"], "at '/metrics/grafanaDashboard': additional properties 'labels' not allowed"],
    ["a misspelt PodMonitor key", ["--set", "metrics.agentPodMonitor.intervall=15s"], "at '/metrics/agentPodMonitor': additional properties 'intervall' not allowed"],
    ["an agent job that would break the PromQL string", ["--set", 'metrics.agentPodMonitor.job=a"b'], "at '/metrics/agentPodMonitor/job'"],
  ];

  test.each(bad)("bad values make helm fail with a schema error: %s", async (_name, args, where) => {
    const r = await helm(["template", RELEASE, CHART, "--namespace", NS, "--kube-version", KUBE_VERSION, ...args]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(SCHEMA_ERROR);
    expect(r.stderr).toContain(where);
  });
});
