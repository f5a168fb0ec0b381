import type { Condition, NodeFindings, NodeFindingsStatus } from "../api/types.generated.js";
import type { KubeObject } from "../api/meta.js";
import { backoffMs } from "../kube/backoff.js";
import { isNotFound } from "../kube/errors.js";
import { AGENT_FIELD_MANAGER, NODE_FINDINGS_KIND } from "../kube/resources.js";
import type { Logger } from "../util/log.js";
import type { AgentCondition } from "./history-health.js";

/** The one call the reporter makes; KubeClient.applyStatus provides it. */
export interface StatusWriter {
  applyStatus<T extends KubeObject>(obj: T, opts: { fieldManager: string; force?: boolean }): Promise<T>;
}

export interface ReportingTiming {
  readonly heartbeatMs: number;
  readonly minIntervalMs: number;
}

export interface WriteState {
  readonly lastWriteMs?: number;
  readonly lastFingerprint?: string;
  /** After a failure, no attempt before this. */
  readonly retryAtMs?: number;
}

export type WriteReason = "first" | "change" | "heartbeat";

/**
 * When to write, and why: on a material change, or at the heartbeat, and never more often than
 * minInterval. A failed write waits for its backoff; sampling and history carry on meanwhile.
 */
export function writeReason(state: WriteState, fingerprint: string, nowMs: number, timing: ReportingTiming): WriteReason | undefined {
  if (state.retryAtMs !== undefined && nowMs < state.retryAtMs) return undefined;
  if (state.lastWriteMs === undefined) return "first";
  const sinceMs = nowMs - state.lastWriteMs;
  if (sinceMs < timing.minIntervalMs) return undefined;
  if (fingerprint !== state.lastFingerprint) return "change";
  return sinceMs >= timing.heartbeatMs ? "heartbeat" : undefined;
}

export type ReportOutcome = { readonly outcome: "skipped" } | { readonly outcome: "written" | "failed"; readonly reason: WriteReason };

/** Exporter: writes this node's NodeFindings status through /status, as field manager xander-agent. */
export class NodeFindingsReporter {
  private state: WriteState = {};
  private failures = 0;
  private generation: number | undefined;
  private reportingSinceMs: number | undefined;

  constructor(
    private readonly writer: StatusWriter,
    private readonly nodeName: string,
    private readonly logger: Logger,
  ) {}

  get lastWriteMs(): number | undefined {
    return this.state.lastWriteMs;
  }

  /** A write failed and its backoff has not run out: the API server is taken to be unreachable until then. */
  backingOff(nowMs: number): boolean {
    return this.state.retryAtMs !== undefined && nowMs < this.state.retryAtMs;
  }

  /** `conditions` join Reporting, which the reporter keeps itself; each gets the generation of the last write. */
  async report(status: Omit<NodeFindingsStatus, "conditions">, fingerprint: string, nowMs: number, timing: ReportingTiming, conditions: readonly AgentCondition[] = []): Promise<ReportOutcome> {
    const reason = writeReason(this.state, fingerprint, nowMs, timing);
    if (reason === undefined) return { outcome: "skipped" };
    this.reportingSinceMs ??= nowMs;
    const body: NodeFindings = {
      apiVersion: NODE_FINDINGS_KIND.apiVersion as NodeFindings["apiVersion"],
      kind: "NodeFindings",
      metadata: { name: this.nodeName },
      spec: { nodeName: this.nodeName },
      status: { ...status, conditions: [this.reportingCondition(), ...conditions.map((condition) => this.observed(condition))] },
    };
    try {
      const written = await this.writer.applyStatus(body, { fieldManager: AGENT_FIELD_MANAGER, force: true });
      this.generation = written.metadata.generation;
      this.state = { lastWriteMs: nowMs, lastFingerprint: fingerprint };
      if (this.failures > 0) this.logger.info({ nodeFindings: this.nodeName, after: this.failures }, "NodeFindings status writes succeed again");
      this.failures = 0;
      return { outcome: "written", reason };
    } catch (error) {
      this.failures++;
      // Capped at the heartbeat: once the API server is back, the status is true again within one heartbeat.
      const delayMs = backoffMs(this.failures, 1000, Math.min(60_000, timing.heartbeatMs), 0.2);
      this.state = { ...this.state, retryAtMs: nowMs + delayMs };
      const hint = isNotFound(error) ? " (the controller creates one NodeFindings per Node; is it running?)" : "";
      this.logger.warn({ err: error, nodeFindings: this.nodeName, retryInMs: delayMs }, `cannot write status of NodeFindings ${this.nodeName}${hint}; sampling continues`);
      return { outcome: "failed", reason };
    }
  }

  private observed(condition: AgentCondition): Condition {
    return this.generation === undefined ? condition : { ...condition, observedGeneration: this.generation };
  }

  private reportingCondition(): Condition {
    return {
      type: "Reporting",
      status: "True",
      ...(this.generation === undefined ? {} : { observedGeneration: this.generation }),
      lastTransitionTime: new Date(this.reportingSinceMs ?? Date.now()).toISOString(),
      reason: "AgentReporting",
      message: `xander-agent on ${this.nodeName} is sampling and reporting`,
    };
  }
}
