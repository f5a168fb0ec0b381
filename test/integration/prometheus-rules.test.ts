// The chart's alerts, checked and unit-tested by the real promtool (hack/build-promtool.sh): the rules
// are rendered by helm exactly as installed, and the input series are what an agent's AgentMetrics
// exposes for real findings, with the labels the chart's PodMonitor gives every scraped series.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { AgentMetrics } from "../../src/agent/metrics.js";
import type { Finding } from "../../src/analysis/types.js";
import { ControllerMetrics } from "../../src/controller/metrics.js";
import { CHART, find, renderChart, type Manifest } from "./support/chart.js";
import { promtool, scrapedSeries } from "./support/promtool.js";

const NS = "xander-system";
/** What the PodMonitor's relabelings leave on an agent's series (the target's namespace, pod and container are dropped). */
const TARGET = { job: "xander-agent", instance: "10.0.3.7:9464", endpoint: "metrics", node: "node-a", agent_pod: "xander-agent-7kq2p" };
const RUNBOOK = "https://github.com/xander/xander/blob/main/README.md";

const base: Finding = {
  rule: "CPUStarvation",
  severity: "warning",
  policy: "default",
  pod: { uid: "u1", namespace: "shop", name: "orders" },
  container: "api",
  value: 0.62,
  threshold: 0.3,
  windowMs: 5000,
  firstSeenMs: 0,
  lastSeenMs: 0,
  message: "",
};
const starved: Finding = { ...base, culprit: { pod: { uid: "u2", namespace: "batch", name: "cruncher" }, score: 0.9, evidence: "batch/cruncher used 1.9 cores" } };
const oomKilled: Finding = { ...base, rule: "OOMKill", severity: "critical", pod: { uid: "u3", namespace: "shop", name: "cart" }, container: "redis", value: 1, threshold: 1 };
const throttled: Finding = { ...base, rule: "CPUThrottling", pod: { uid: "u4", namespace: "web", name: "frontend" }, container: "nginx", value: 0.97, threshold: 0.25 };
const briefly: Finding = { ...throttled, pod: { uid: "u5", namespace: "web", name: "search" }, container: "solr", value: 0.4 };

const FINDING_METRICS = ["xander_finding_active", "xander_finding_value", "xander_finding_culprit_info", "xander_incidents_total"];

/** The series an agent exposes for these open findings, each given its own values (promtool's notation). */
async function agentSeries(findings: readonly Finding[], values: (series: string) => string): Promise<{ series: string; values: string }[]> {
  const metrics = new AgentMetrics();
  metrics.observeFindings(findings, findings);
  return (await scrapedSeries(metrics.registry, FINDING_METRICS, TARGET)).map((series) => ({ series, values: values(series) }));
}

/** XanderOOMKill for the container of `oomKilled`. */
const oomAlert = {
  exp_labels: { ...TARGET, severity: "critical", namespace: "shop", pod: "cart", container: "redis", rule: "OOMKill" },
  exp_annotations: {
    summary: "shop/cart was OOM-killed",
    description: "The kernel OOM-killed a task in container redis of shop/cart on node node-a at its memory limit. Raise the limit or find the leak; kubectl get nodefindings node-a -o yaml shows the limit and working set.",
    runbook_url: `${RUNBOOK}#xanderoomkill`,
  },
};

const up = (values: string): { series: string; values: string } => ({ series: `up{${Object.entries(TARGET).map(([k, v]) => `${k}="${v}"`).join(",")}}`, values });
const ALERTS = ["XanderCPUStarvationWithCulprit", "XanderOOMKill", "XanderSustainedThrottling", "XanderAgentDown", "XanderAgentStale", "XanderAgentHistoryNotWritable"];

let dir = "";
let rulesFile = "";

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "xander-promrules-"));
  const manifests = await renderChart("xander", NS, ["--set", "metrics.prometheusRule.enabled=true"]);
  const rule = find(manifests, "PrometheusRule") as Manifest & { spec: { groups: unknown[] } };
  rulesFile = join(dir, "rules.yaml");
  writeFileSync(rulesFile, stringify({ groups: rule.spec.groups }));
}, 60_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `promtool test rules` on one test group; a failure shows promtool's own account of it. */
async function promtoolTest(name: string, group: Record<string, unknown>): Promise<void> {
  const file = join(dir, `${name}.test.yaml`);
  writeFileSync(file, stringify({ rule_files: [rulesFile], evaluation_interval: "1m", tests: [{ interval: "1m", ...group }] }));
  const r = await promtool(["test", "rules", file]);
  expect({ code: r.code, output: r.stdout + r.stderr }).toEqual({ code: 0, output: expect.stringContaining("SUCCESS") as unknown });
}

describe("the chart's PrometheusRule", () => {
  test("promtool check rules passes on the rendered groups", async () => {
    const r = await promtool(["check", "rules", rulesFile]);
    expect({ code: r.code, output: r.stdout + r.stderr }).toEqual({ code: 0, output: expect.stringContaining(`SUCCESS: ${ALERTS.length} rules found`) as unknown });
  });

  test("a noisy neighbour fires XanderCPUStarvationWithCulprit naming the culprit, once the finding has been open for 5 minutes", async () => {
    await promtoolTest("starvation", {
      input_series: [...(await agentSeries([starved], (s) => (s.startsWith("xander_finding_value") ? "0.62x20" : "1x20"))), up("1x20")],
      alert_rule_test: [
        { eval_time: "3m", alertname: "XanderCPUStarvationWithCulprit", exp_alerts: [] },
        {
          eval_time: "10m",
          alertname: "XanderCPUStarvationWithCulprit",
          exp_alerts: [{
            exp_labels: { ...TARGET, severity: "warning", namespace: "shop", pod: "orders", container: "api", rule: "CPUStarvation", culprit_namespace: "batch", culprit_pod: "cruncher" },
            exp_annotations: {
              summary: "shop/orders is starved of CPU by batch/cruncher",
              description: "Container api of shop/orders on node node-a waits for CPU 62% of the time without being throttled by its own limit, while batch/cruncher takes the CPU. The evidence is in kubectl get nodefindings node-a -o yaml.",
              runbook_url: `${RUNBOOK}#xandercpustarvationwithculprit`,
            },
          }],
        },
        ...["XanderOOMKill", "XanderSustainedThrottling", "XanderAgentDown"].map((alertname) => ({ eval_time: "10m", alertname, exp_alerts: [] })),
      ],
    });
  });

  test("starvation without a named culprit (the CPU went to processes outside pods) fires no culprit alert", async () => {
    await promtoolTest("starvation-no-culprit", {
      input_series: [...(await agentSeries([base], () => "1x20")), up("1x20")],
      alert_rule_test: [{ eval_time: "15m", alertname: "XanderCPUStarvationWithCulprit", exp_alerts: [] }],
    });
  });

  test("an OOM kill fires XanderOOMKill at once, naming the container, and resolves when the finding clears", async () => {
    // The finding is open 5 minutes (the rule's clearAfter), then its series go stale, as a real scrape marks them.
    await promtoolTest("oom", {
      input_series: [...(await agentSeries([oomKilled], (s) => (s.startsWith("xander_incidents_total") ? "1x20" : "1x5 stale"))), up("1x20")],
      alert_rule_test: [
        {
          eval_time: "1m",
          alertname: "XanderOOMKill",
          exp_alerts: [oomAlert],
        },
        { eval_time: "12m", alertname: "XanderOOMKill", exp_alerts: [] },
      ],
    });
  });

  test("a second OOM kill while the finding is open is one alert, not a second one for the namespace", async () => {
    await promtoolTest("oom-again", {
      input_series: [...(await agentSeries([oomKilled], (s) => (s.startsWith("xander_incidents_total") ? "1x2 2x18" : "1x10 stale"))), up("1x20")],
      alert_rule_test: [{ eval_time: "5m", alertname: "XanderOOMKill", exp_alerts: [oomAlert] }],
    });
  });

  test("OOM kills with no finding series (past the node's maxFindings bound) fire XanderOOMKill for their namespace", async () => {
    const metrics = new AgentMetrics();
    metrics.observeFindings([oomKilled], [oomKilled], 0);
    const [incidents] = await scrapedSeries(metrics.registry, ["xander_incidents_total"], TARGET);
    expect(await scrapedSeries(metrics.registry, ["xander_finding_active"], TARGET)).toEqual([]);
    await promtoolTest("oom-unbound", {
      input_series: [{ series: incidents, values: "1x2 2x18" }, up("1x20")],
      alert_rule_test: [{
        eval_time: "4m",
        alertname: "XanderOOMKill",
        exp_alerts: [{
          exp_labels: { severity: "critical", namespace: "shop" },
          exp_annotations: {
            summary: "A container in namespace shop was OOM-killed",
            description: "Xander counted OOM kills in namespace shop in the last 10 minutes, on a node with more open findings than its per-finding series show (reporting.maxFindings); kubectl get nodefindings names the pods.",
            runbook_url: `${RUNBOOK}#xanderoomkill`,
          },
        }],
      }],
    });
  });

  test("20 minutes of throttling fires XanderSustainedThrottling; 5 minutes does not", async () => {
    const series = [
      ...(await agentSeries([throttled], (s) => (s.startsWith("xander_finding_value") ? "0.97x30" : "1x30"))),
      ...(await agentSeries([briefly], (s) => (s.startsWith("xander_finding_value") ? "0.4x5 stale" : "1x5 stale"))),
      up("1x30"),
    ];
    const firing = {
      exp_labels: { ...TARGET, severity: "warning", namespace: "web", pod: "frontend", container: "nginx", rule: "CPUThrottling" },
      exp_annotations: {
        summary: "web/frontend is throttled by its own CPU limit",
        description: "Container nginx of web/frontend on node node-a is throttled in 97% of its CFS periods, and has been for at least 15m. Its own CPU limit holds it back, not a neighbour: raise the limit, or remove it.",
        runbook_url: `${RUNBOOK}#xandersustainedthrottling`,
      },
    };
    await promtoolTest("throttling", {
      input_series: series,
      alert_rule_test: [
        { eval_time: "5m", alertname: "XanderSustainedThrottling", exp_alerts: [] },
        { eval_time: "10m", alertname: "XanderSustainedThrottling", exp_alerts: [] },
        { eval_time: "20m", alertname: "XanderSustainedThrottling", exp_alerts: [firing] },
      ],
    });
  });

  test("an agent that cannot be scraped fires XanderAgentDown; nodes the controller sees as stale fire XanderAgentStale", async () => {
    await promtoolTest("agents", {
      input_series: [
        up("1x2 0x18"),
        { series: 'xander_controller_nodes{job="xander-controller-metrics",instance="10.0.0.9:8080",namespace="xander-system",state="stale"}', values: "0x2 1x18" },
      ],
      alert_rule_test: [
        { eval_time: "5m", alertname: "XanderAgentDown", exp_alerts: [] },
        {
          eval_time: "8m",
          alertname: "XanderAgentDown",
          exp_alerts: [{
            exp_labels: { ...TARGET, severity: "warning" },
            exp_annotations: {
              summary: "The Xander agent on node node-a cannot be scraped",
              description: "Prometheus cannot scrape 10.0.3.7:9464 (xander-agent-7kq2p): starved pods on that node raise no alert. Check the pod with kubectl describe pod and its logs.",
              runbook_url: `${RUNBOOK}#xanderagentdown`,
            },
          }],
        },
        { eval_time: "8m", alertname: "XanderAgentStale", exp_alerts: [] },
        {
          eval_time: "13m",
          alertname: "XanderAgentStale",
          exp_alerts: [{
            exp_labels: { severity: "warning" },
            exp_annotations: {
              summary: "1 node(s) have an agent that stopped reporting",
              description: "The Xander controller sees 1 node(s) whose NodeFindings status has not been written for several heartbeats, so their findings are out of date. kubectl get nodefindings shows which nodes (the Reporting condition); kubectl -n xander-system get pods -l app.kubernetes.io/component=agent -o wide shows their agents.",
              runbook_url: `${RUNBOOK}#xanderagentstale`,
            },
          }],
        },
      ],
    });
  });

  test("an agent whose history cannot be written for 15 minutes fires XanderAgentHistoryNotWritable; a short blip does not", async () => {
    const metrics = new AgentMetrics();
    metrics.historyWritable.set(0);
    const [series] = await scrapedSeries(metrics.registry, ["xander_agent_history_writable"], TARGET);
    const blip = series?.replace(TARGET.node, "node-b").replace(TARGET.instance, "10.0.3.8:9464");
    await promtoolTest("history", {
      input_series: [
        { series, values: "1x2 0x25" },
        // Full for 10 minutes, then freed: the agent recovers by itself and nobody is paged.
        { series: blip, values: "1x2 0x10 1x13" },
      ],
      alert_rule_test: [
        { eval_time: "10m", alertname: "XanderAgentHistoryNotWritable", exp_alerts: [] },
        {
          eval_time: "20m",
          alertname: "XanderAgentHistoryNotWritable",
          exp_alerts: [{
            exp_labels: { ...TARGET, severity: "warning" },
            exp_annotations: {
              summary: "The Xander agent on node node-a cannot write its history",
              description: "The agent on node node-a (10.0.3.7:9464) has written no tick to its history file for at least 15m. It still detects from memory and reports to NodeFindings, but these minutes are missing from its incidents, pod series and reports. kubectl get nodefindings node-a -o yaml shows the HistoryWritable condition, naming the file and the error; a full disk (DiskFull) clears by itself once space returns.",
              runbook_url: `${RUNBOOK}#xanderagenthistorynotwritable`,
            },
          }],
        },
      ],
    });
  });

  test("a calm cluster (agents up and ticking, no findings, no stale node) fires no alert", async () => {
    const metrics = new AgentMetrics();
    metrics.observeFindings([], []);
    metrics.ticks.inc(60);
    const ticks = await scrapedSeries(metrics.registry, ["xander_agent_ticks_total"], TARGET);
    await promtoolTest("calm", {
      input_series: [
        up("1x60"),
        ...ticks.map((series) => ({ series, values: "60+60x60" })),
        { series: 'xander_controller_nodes{job="xander-controller-metrics",instance="10.0.0.9:8080",namespace="xander-system",state="stale"}', values: "0x60" },
        { series: 'xander_controller_nodes{job="xander-controller-metrics",instance="10.0.0.9:8080",namespace="xander-system",state="reporting"}', values: "3x60" },
      ],
      alert_rule_test: ["5m", "30m", "60m"].flatMap((eval_time) => ALERTS.map((alertname) => ({ eval_time, alertname, exp_alerts: [] }))),
    });
  });
});

describe("the agent's /metrics", () => {
  test("promtool check metrics finds no problem in an agent's exposition with findings open", async () => {
    const metrics = new AgentMetrics();
    const nodePressure: Finding = { ...base, rule: "NodePressure", pod: { uid: "node" }, container: undefined, value: 0.45 };
    metrics.observeFindings([oomKilled, starved, throttled, nodePressure], [oomKilled, starved, throttled, nodePressure]);
    metrics.ticks.inc(10);
    metrics.tickSeconds.observe(0.004);
    metrics.statusWrites.inc({ outcome: "written", reason: "first" });
    const text = await metrics.registry.metrics();
    expect(text).toContain('xander_finding_culprit_info{namespace="shop",pod="orders",container="api",rule="CPUStarvation",culprit_namespace="batch",culprit_pod="cruncher"} 1');
    const r = await promtool(["check", "metrics"], text);
    expect({ code: r.code, output: r.stdout + r.stderr }).toEqual({ code: 0, output: "" });
  });
});

describe("the Grafana dashboard", () => {
  interface Panel { title: string; targets?: { expr: string; refId: string }[] }
  const dashboard = JSON.parse(readFileSync(join(CHART, "dashboards", "xander.json"), "utf8")) as { panels: Panel[] };
  const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, refId: t.refId, expr: t.expr })));
  // What Grafana puts in place of its variables before a query reaches Prometheus.
  const expand = (expr: string): string => expr.replace(/\$__rate_interval/g, "2m").replace(/\$__range/g, "6h").replace(/\$(node|namespace)\b/g, ".*");

  test("every panel query is valid PromQL (checked by promtool as a recording rule)", async () => {
    expect(queries.length).toBeGreaterThan(10);
    const rules = queries.map((q, i) => ({ record: `xander:dashboard_query_${i}`, expr: expand(q.expr) }));
    const file = join(dir, "dashboard-rules.yaml");
    writeFileSync(file, stringify({ groups: [{ name: "dashboard", rules }] }));
    const r = await promtool(["check", "rules", file]);
    expect({ code: r.code, output: r.stdout + r.stderr }).toEqual({ code: 0, output: expect.stringContaining(`SUCCESS: ${rules.length} rules found`) as unknown });
  });

  test("every panel reads metrics that the agent or the controller export", async () => {
    const exported = new Set([
      ...(await new AgentMetrics().registry.getMetricsAsJSON()).map((m) => m.name),
      ...(await new ControllerMetrics().registry.getMetricsAsJSON()).map((m) => m.name),
    ]);
    const unknown = queries.flatMap((q) => [...q.expr.matchAll(/\bxander_[a-z_]+/g)].map((m) => m[0].replace(/_bucket$/, "")).filter((name) => !exported.has(name)).map((name) => `${q.panel}: ${name}`));
    expect(unknown).toEqual([]);
  });
});
