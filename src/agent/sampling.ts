/**
 * The agent's sampling loop: every sampling interval, one tick reads the cgroups, stores and analyses the
 * sample, and hands the result to the report. It never waits for the API (reports are written off this
 * path) nor for dependency mapping (which runs on its own loop).
 */
import type { AnalysisResult } from "../analysis/analyzer.js";
import type { EffectivePolicy } from "../api/policy.js";
import type { NodeEngine } from "../engine/node-engine.js";
import type { Logger } from "../util/log.js";
import { sleepUntil } from "../util/time.js";
import { bindingOf, nodePolicy, policyFor, samplingFor } from "./bindings.js";
import type { HistoryHealth } from "./history-health.js";
import type { AgentMetrics } from "./metrics.js";
import { reportingOf, type Reporting } from "./node-report.js";
import { KubeletOomKills } from "./oom-kills.js";
import type { NodePod } from "./pods.js";
import { TargetRefreshSchedule, vanishedTargets } from "./refresh-schedule.js";
import type { TargetResolver } from "./targets.js";
import type { NodeWatches } from "./watches.js";

/** Used until a policy says otherwise, and when none exists. */
export const DEFAULT_SAMPLING = { intervalMs: 1000, windowMs: 5000 };

export interface SamplingParts {
  readonly engine: NodeEngine;
  readonly watches: NodeWatches;
  readonly targets: TargetResolver;
  readonly metrics: AgentMetrics;
  readonly logger: Logger;
  /** Told whether each tick reached the history. */
  readonly history?: HistoryHealth;
  /** Called after every tick that took a sample. */
  readonly onTick: (analysis: AnalysisResult, nowMs: number, reporting: Reporting) => void;
}

export class SamplingLoop {
  private effective: EffectivePolicy[] = [];
  private podCount = 0;
  private readonly refreshes = new TargetRefreshSchedule();
  private lastSampleMs: number | undefined;
  /** This node's pods as of the last target refresh. */
  private nodePods: readonly NodePod[] = [];
  private readonly oomKills = new KubeletOomKills(Date.now());

  constructor(private readonly parts: SamplingParts) {}

  /** The policies in force, as of the last reload. */
  get policies(): readonly EffectivePolicy[] {
    return this.effective;
  }

  /** Pods on the node at the last target refresh. */
  get pods(): number {
    return this.podCount;
  }

  /** Why the agent is not healthy, or undefined: no sample yet, or the last one is stale. */
  unhealthy(nowMs: number): string | undefined {
    if (this.lastSampleMs === undefined) return "no sample taken yet";
    const intervalMs = samplingFor(this.effective, DEFAULT_SAMPLING).intervalMs;
    if (nowMs - this.lastSampleMs > Math.max(10 * intervalMs, 30_000)) return `last sample ${new Date(this.lastSampleMs).toISOString()} is stale`;
    return undefined;
  }

  /** Ticks until `signal` aborts; `afterFirst` runs once, when the first tick is done (failed or not) or the loop ends. */
  async run(signal: AbortSignal, afterFirst: () => void): Promise<void> {
    let first = true;
    while (!signal.aborted) {
      const startedMs = Date.now();
      try {
        await this.tick(startedMs);
      } catch (error) {
        // One bad tick must not end the agent; the next one starts from fresh reads.
        this.parts.logger.error({ err: error }, "tick failed; continuing");
      }
      if (first) {
        first = false;
        afterFirst();
      }
      const intervalMs = samplingFor(this.effective, DEFAULT_SAMPLING).intervalMs;
      await sleepUntil(startedMs + intervalMs, signal);
    }
    if (first) afterFirst(); // stopped before the first tick: nothing waits forever
  }

  private async tick(nowMs: number): Promise<void> {
    const { engine, watches, targets, metrics } = this.parts;
    if (watches.policiesDirty) this.reloadPolicies();
    if (this.refreshes.due(watches.podsDirty)) await this.refreshTargets();
    const timer = metrics.tickSeconds.startTimer();
    const intervalMs = samplingFor(this.effective, DEFAULT_SAMPLING).intervalMs;
    // OOM kills that ended a container are seen in the kubelet's record, since its cgroup is gone by the next read.
    const { tick, analysis, stored, historyError } = await engine.tick(targets.targets, nowMs, (sampled) => this.oomKills.missed(this.nodePods, sampled.containers, nowMs, intervalMs));
    timer();
    // The list this tick sampled: a refresh happens only before a tick.
    this.refreshes.ticked(vanishedTargets(tick.gone, targets.targets));
    this.lastSampleMs = nowMs;
    metrics.ticks.inc();
    metrics.samples.inc(tick.containers.length);
    if (!stored) metrics.storeErrors.inc();
    this.observeHistory(historyError, nowMs);
    const reporting = reportingOf(this.effective);
    metrics.observeFindings(analysis.active, analysis.raised, reporting.maxFindings);
    this.parts.onTick(analysis, nowMs, reporting);
  }

  private observeHistory(error: unknown, nowMs: number): void {
    const { history, metrics, logger } = this.parts;
    if (!history) return;
    if (history.observe(error, nowMs)) {
      const state = history.state;
      if (state?.writable) logger.info({ reason: state.reason }, "history writable again: HistoryWritable is True");
      else logger.warn({ reason: state?.reason }, `history not writable: HistoryWritable is False (${state?.reason ?? ""})`);
    }
    metrics.historyWritable.set(history.state?.writable === false ? 0 : 1);
  }

  private async refreshTargets(): Promise<void> {
    const { watches, targets, metrics } = this.parts;
    const podsChanged = watches.podsDirty;
    watches.podsDirty = false;
    const pods = watches.nodePods();
    this.nodePods = pods;
    this.podCount = pods.length;
    metrics.pods.set(pods.length);
    await targets.refresh(pods);
    this.refreshes.refreshed(targets.awaitingCgroup);
    // Pod labels may have changed what selects them.
    if (podsChanged) watches.policiesDirty = true;
    if (watches.policiesDirty) this.reloadPolicies();
  }

  /** Hot reload: thresholds, windows and selectors change without restarting anything. */
  private reloadPolicies(): void {
    const { watches, engine, logger } = this.parts;
    watches.policiesDirty = false;
    const effective = watches.effectivePolicies();
    this.effective = effective;
    const namespaceLabels = watches.namespaceLabels();
    const podsByUid = new Map(watches.nodePods().map((pod) => [pod.uid, pod]));
    const node = nodePolicy(effective);
    engine.analyzer.reconfigure({
      windowMs: samplingFor(effective, DEFAULT_SAMPLING).windowMs,
      bindingFor: (ref) => {
        const pod = podsByUid.get(ref.uid);
        const policy = pod ? policyFor(pod, namespaceLabels.get(pod.namespace), effective) : undefined;
        return policy ? bindingOf(policy) : undefined;
      },
      ...(node ? { nodeBinding: bindingOf(node) } : {}),
    });
    logger.info({ policies: effective.map((p) => `${p.name}@${p.generation}`) }, "policies loaded");
  }
}
