/**
 * The agent's writes to the API, off the sampling path: Events for raised findings and closed incidents, then
 * the NodeFindings status (paced by the reporter), each counted in /metrics. Only the newest status is worth
 * writing, so a report submitted while another is being written replaces the one waiting; the Events of both
 * are kept, and those the API server could not take wait (bounded) for the next publish.
 */
import type { Incident } from "../analysis/incident.js";
import type { Finding } from "../analysis/types.js";
import type { KubeClient } from "../kube/client.js";
import type { Logger } from "../util/log.js";
import { FindingEvents, type Queued } from "./events.js";
import type { AgentCondition } from "./history-health.js";
import type { AgentMetrics } from "./metrics.js";
import { Publisher } from "./publisher.js";
import { NodeFindingsReporter, type ReportingTiming } from "./reporter.js";

export type NodeStatus = Parameters<NodeFindingsReporter["report"]>[0];

/** One tick's report: the status to write, what makes it materially new, and what deserves an Event. */
export interface NodeReport {
  readonly status: NodeStatus;
  /** Conditions besides Reporting (HistoryWritable). */
  readonly conditions?: readonly AgentCondition[];
  readonly fingerprint: string;
  readonly raised: readonly Finding[];
  readonly cleared: readonly Incident[];
}

/** Events waiting for the API server, per kind; an hour's outage with a finding raised every 15 s fits. */
export const MAX_PENDING_EVENTS = 256;

export class ReportWriter {
  private readonly reporter: NodeFindingsReporter;
  private readonly events: FindingEvents;
  private readonly publisher: Publisher;
  private raisedBacklog: Queued<Finding>[] = [];
  private clearedBacklog: Queued<Incident>[] = [];

  constructor(
    client: KubeClient,
    nodeName: string,
    private readonly logger: Logger,
    private readonly metrics: AgentMetrics,
  ) {
    this.reporter = new NodeFindingsReporter(client, nodeName, logger);
    this.events = new FindingEvents(client, nodeName, logger);
    this.publisher = new Publisher(logger);
  }

  /** Queues the report and returns at once. */
  submit(report: NodeReport, nowMs: number, timing: ReportingTiming): void {
    // Raised findings and closed incidents queue up for Events; none is lost when a publish is superseded.
    this.raisedBacklog.push(...report.raised.map((item) => ({ item, atMs: nowMs })));
    this.clearedBacklog.push(...report.cleared.map((item) => ({ item, atMs: nowMs })));
    this.publisher.submit(() => this.publish(report, nowMs, timing));
  }

  /** Resolves when nothing is being written or waiting. */
  idle(): Promise<void> {
    return this.publisher.idle();
  }

  private async publish(report: NodeReport, nowMs: number, timing: ReportingTiming): Promise<void> {
    // While status writes back off, Events wait too: one attempt per backoff, not one failure logged per tick.
    if (!this.reporter.backingOff(Date.now())) await this.publishEvents();
    // The clock of the write is now, not the tick's: pacing is about what the API server sees.
    const written = await this.reporter.report(report.status, report.fingerprint, Math.max(nowMs, Date.now()), timing, report.conditions);
    if (written.outcome === "skipped") return;
    this.metrics.statusWrites.inc({ outcome: written.outcome, reason: written.reason });
    if (written.outcome === "failed") this.metrics.writeErrors.inc();
  }

  private async publishEvents(): Promise<void> {
    const raised = await this.events.raised(this.raisedBacklog.splice(0), Date.now());
    const cleared = await this.events.cleared(this.clearedBacklog.splice(0), Date.now());
    this.metrics.events.inc(raised.emitted + cleared.emitted);
    // What the API server could not take goes back before anything newer, for the next publish.
    this.raisedBacklog = this.bounded([...raised.retry, ...this.raisedBacklog], "raised findings");
    this.clearedBacklog = this.bounded([...cleared.retry, ...this.clearedBacklog], "ended incidents");
  }

  /** Keeps the newest MAX_PENDING_EVENTS, so a long outage on a busy node cannot grow memory without end. */
  private bounded<T>(queue: Queued<T>[], what: string): Queued<T>[] {
    if (queue.length <= MAX_PENDING_EVENTS) return queue;
    const dropped = queue.length - MAX_PENDING_EVENTS;
    this.metrics.eventsDropped.inc(dropped);
    this.logger.warn({ dropped, kept: MAX_PENDING_EVENTS }, `dropped the Events of ${dropped} ${what}: too many waited for the API server`);
    return queue.slice(dropped);
  }
}
