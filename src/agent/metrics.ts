import { Counter, Gauge, Histogram, Registry } from "prom-client";

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
  readonly findings = new Gauge({ name: "xander_agent_findings", help: "Active findings on this node", labelNames: ["rule", "severity"], registers: [this.registry] });
  readonly statusWrites = new Counter({ name: "xander_agent_status_writes_total", help: "NodeFindings status write attempts, by outcome and why (first, change, heartbeat)", labelNames: ["outcome", "reason"], registers: [this.registry] });
  readonly writeErrors = new Counter({ name: "xander_agent_status_write_errors_total", help: "Failed NodeFindings status writes", registers: [this.registry] });
  readonly events = new Counter({ name: "xander_agent_events_total", help: "Kubernetes Events emitted for raised findings", registers: [this.registry] });
  readonly pods = new Gauge({ name: "xander_agent_pods", help: "Pods on this node being sampled", registers: [this.registry] });
  readonly dependencyEdges = new Gauge({ name: "xander_agent_dependency_edges", help: "Dependency edges tracked on this node", registers: [this.registry] });
  readonly dependencyPollSeconds = new Histogram({
    name: "xander_agent_dependency_poll_duration_seconds",
    help: "Wall time of one dependency poll: cgroup.procs, namespace links and TCP tables of every pod",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly storeErrors = new Counter({ name: "xander_agent_history_write_errors_total", help: "Ticks that could not be written to the local history", registers: [this.registry] });
}
