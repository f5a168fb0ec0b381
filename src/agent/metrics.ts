import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Finding } from "../analysis/types.js";

/** Per-finding series beyond this are left out when no policy says otherwise (the policy default of `reporting.maxFindings`). */
export const DEFAULT_MAX_FINDING_SERIES = 50;

const FINDING_LABELS = ["namespace", "pod", "container", "rule", "severity"] as const;
type FindingLabels = Record<(typeof FINDING_LABELS)[number], string>;

/**
 * Who a finding is about, as Prometheus labels. Node-scoped findings (NodePressure) are about no pod,
 * so their pod labels are empty, which Prometheus stores as absent. A pod whose name is not known yet
 * is labelled by its UID rather than not at all, so two such pods never share a series.
 */
export function findingLabels(finding: Finding): FindingLabels {
  const onNode = finding.pod.uid === "node";
  return {
    namespace: onNode ? "" : (finding.pod.namespace ?? ""),
    pod: onNode ? "" : (finding.pod.name ?? finding.pod.uid),
    container: onNode ? "" : (finding.container ?? ""),
    rule: finding.rule,
    severity: finding.severity,
  };
}

/** The agent's Prometheus metrics, on their own registry so tests and several agents never share one. */
export class AgentMetrics {
  readonly registry = new Registry();
  readonly samples = new Counter({ name: "xander_agent_samples_total", help: "Container samples taken", registers: [this.registry] });
  readonly ticks = new Counter({ name: "xander_agent_ticks_total", help: "Sampling ticks completed", registers: [this.registry] });
  readonly tickSeconds = new Histogram({
    name: "xander_agent_tick_duration_seconds",
    help: "Wall time of one tick: read cgroups, store, analyse",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly findings = new Gauge({ name: "xander_agent_findings", help: "Active findings on this node, all of them (the per-finding series are bounded)", labelNames: ["rule", "severity"], registers: [this.registry] });
  readonly findingActive = new Gauge({
    name: "xander_finding_active",
    help: "1 for each open finding on this node, at most the policy's reporting.maxFindings, most severe first; NodePressure has empty pod labels",
    labelNames: FINDING_LABELS,
    registers: [this.registry],
  });
  readonly findingValue = new Gauge({
    name: "xander_finding_value",
    help: "Current value of each open finding: a share 0..1 (throttled periods, stall, memory of limit), or OOM kills in the window for OOMKill",
    labelNames: FINDING_LABELS,
    registers: [this.registry],
  });
  readonly findingCulprit = new Gauge({
    name: "xander_finding_culprit_info",
    help: "1 for each open finding that names a culprit (CPUStarvation): the neighbour taking the CPU; join on namespace, pod, container, rule",
    labelNames: ["namespace", "pod", "container", "rule", "culprit_namespace", "culprit_pod"] as const,
    registers: [this.registry],
  });
  readonly incidents = new Counter({
    name: "xander_incidents_total",
    help: "Findings raised on this node (an incident opens), by namespace, rule and severity",
    labelNames: ["namespace", "rule", "severity"] as const,
    registers: [this.registry],
  });
  readonly statusWrites = new Counter({ name: "xander_agent_status_writes_total", help: "NodeFindings status write attempts, by outcome and why (first, change, heartbeat)", labelNames: ["outcome", "reason"], registers: [this.registry] });
  readonly writeErrors = new Counter({ name: "xander_agent_status_write_errors_total", help: "Failed NodeFindings status writes", registers: [this.registry] });
  readonly events = new Counter({ name: "xander_agent_events_total", help: "Kubernetes Events emitted for raised findings", registers: [this.registry] });
  readonly eventsDropped = new Counter({ name: "xander_agent_events_dropped_total", help: "Events given up after too many waited for an unreachable API server", registers: [this.registry] });
  readonly pods = new Gauge({ name: "xander_agent_pods", help: "Pods on this node being sampled", registers: [this.registry] });
  readonly dependencyEdges = new Gauge({ name: "xander_agent_dependency_edges", help: "Dependency edges tracked on this node", registers: [this.registry] });
  readonly dependencyPollSeconds = new Histogram({
    name: "xander_agent_dependency_poll_duration_seconds",
    help: "Wall time of one dependency poll: cgroup.procs, namespace links and TCP tables of every pod",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly storeErrors = new Counter({ name: "xander_agent_history_write_errors_total", help: "Ticks that could not be written to the local history", registers: [this.registry] });
  readonly historyWritable = new Gauge({
    name: "xander_agent_history_writable",
    help: "1 while ticks are written to the local history, 0 while they cannot be (full disk, I/O error, file not open); detection goes on either way",
    registers: [this.registry],
  });

  /**
   * One tick's findings to the gauges and the incident counter. The gauges are rebuilt from scratch,
   * so a cleared finding's series vanish at the next scrape instead of lingering at their last value.
   * `active` comes most severe first; the per-finding series keep the first `maxFindings`, the same
   * bound as NodeFindings status, so a node in trouble cannot blow up Prometheus' series count.
   * `xander_agent_findings` still counts every finding.
   */
  observeFindings(active: readonly Finding[], raised: readonly Finding[], maxFindings: number = DEFAULT_MAX_FINDING_SERIES): void {
    this.findings.reset();
    this.findingActive.reset();
    this.findingValue.reset();
    this.findingCulprit.reset();
    for (const finding of active) this.findings.inc({ rule: finding.rule, severity: finding.severity });
    for (const finding of active.slice(0, maxFindings)) {
      const labels = findingLabels(finding);
      this.findingActive.set(labels, 1);
      this.findingValue.set(labels, finding.value);
      if (finding.culprit === undefined) continue;
      const culprit = finding.culprit.pod;
      this.findingCulprit.set(
        { namespace: labels.namespace, pod: labels.pod, container: labels.container, rule: labels.rule, culprit_namespace: culprit.namespace ?? "", culprit_pod: culprit.name ?? culprit.uid },
        1,
      );
    }
    // Counted whether or not the finding made the bound: the counter's labels hold no pod.
    for (const finding of raised) this.incidents.inc({ namespace: findingLabels(finding).namespace, rule: finding.rule, severity: finding.severity });
  }
}
