/** The controller's Prometheus metrics, on their own registry (no global state shared with the agent). */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { RULE_NAMES, SEVERITIES } from "../analysis/types.js";
import type { FindingsSummary } from "../report/findings-view.js";

export class ControllerMetrics {
  readonly registry = new Registry();

  readonly reconciles = new Counter({
    name: "xander_controller_reconcile_total",
    help: "Reconciles by kind and result (success, error).",
    labelNames: ["kind", "result"] as const,
    registers: [this.registry],
  });

  readonly reconcileErrors = new Counter({
    name: "xander_controller_reconcile_errors_total",
    help: "Reconciles that failed and were retried with backoff, by kind.",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });

  readonly reconcileDuration = new Histogram({
    name: "xander_controller_reconcile_duration_seconds",
    help: "Time spent in one reconcile, by kind.",
    labelNames: ["kind"] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly findings = new Gauge({
    name: "xander_findings",
    help: "Open findings on reporting nodes, cluster-wide, by severity and rule.",
    labelNames: ["severity", "rule"] as const,
    registers: [this.registry],
  });

  readonly nodes = new Gauge({
    name: "xander_controller_nodes",
    help: "Nodes with a NodeFindings object, by whether their agent reports (reporting, stale).",
    labelNames: ["state"] as const,
    registers: [this.registry],
  });

  readonly dependencyEdges = new Gauge({
    name: "xander_dependency_edges",
    help: "Caller to callee pairs in the cluster dependency graph, from the reporting nodes' NodeFindings.",
    registers: [this.registry],
  });

  readonly apiRequests = new Counter({
    name: "xander_controller_api_requests_total",
    help: "Requests this replica sent to the Kubernetes API, by HTTP method and resource; WATCH counts each watch request started.",
    labelNames: ["method", "resource"] as const,
    registers: [this.registry],
  });

  readonly leader = new Gauge({
    name: "xander_controller_leader",
    help: "1 while this replica holds the leader Lease and runs the reconcilers, else 0.",
    registers: [this.registry],
  });

  /** Sampled at scrape time from the queues registered with watchQueues(). */
  private queueDepths: () => Iterable<readonly [string, number]> = () => [];

  readonly queueDepth: Gauge<"queue"> = new Gauge({
    name: "xander_controller_workqueue_depth",
    help: "Keys waiting in a work queue.",
    labelNames: ["queue"] as const,
    registers: [this.registry],
    collect: () => {
      for (const [queue, depth] of this.queueDepths()) this.queueDepth.set({ queue }, depth);
    },
  });

  watchQueues(depths: () => Iterable<readonly [string, number]>): void {
    this.queueDepths = depths;
  }

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "xander_controller_" });
    this.leader.set(0);
  }

  /** Runs one reconcile, counting and timing it. */
  async observe<T>(kind: string, fn: () => Promise<T>): Promise<T> {
    const end = this.reconcileDuration.startTimer({ kind });
    try {
      const result = await fn();
      this.reconciles.inc({ kind, result: "success" });
      return result;
    } catch (err) {
      this.reconciles.inc({ kind, result: "error" });
      this.reconcileErrors.inc({ kind });
      throw err;
    } finally {
      end();
    }
  }

  setFindings(summary: FindingsSummary): void {
    for (const rule of RULE_NAMES) {
      for (const severity of SEVERITIES) this.findings.set({ rule, severity }, summary.byRule[rule][severity]);
    }
    this.nodes.set({ state: "reporting" }, summary.nodes.reporting);
    this.nodes.set({ state: "stale" }, summary.nodes.stale);
    this.dependencyEdges.set(summary.dependencyEdges);
  }
}
