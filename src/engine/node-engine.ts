import { Analyzer, type AnalysisResult, type AnalyzerOptions } from "../analysis/analyzer.js";
import type { Logger } from "../util/log.js";
import { Sampler, type CounterReader, type NodePressureReader } from "../sampler/sampler.js";
import type { ContainerSample, NodeSample, Target, Tick } from "../sampler/types.js";
import type { TargetNames } from "../analysis/window.js";

/** What the engine needs from the history store; the SQLite store provides it. */
export interface History {
  appendTick(tick: Tick, targets: readonly Target[]): void;
  latestWindow(sinceMs: number): ContainerSample[];
  nodeSeries(sinceMs: number): NodeSample[];
}

export interface NodeEngineOptions extends AnalyzerOptions {
  readonly readCounters: CounterReader;
  /** Lets the reader release what it holds for cgroups no longer sampled (kept-open files). */
  readonly retainCgroups?: (relPaths: Iterable<string>) => void;
  readonly readNodePressure?: NodePressureReader;
  /** The node's counters bound the targets' (nodeCountersBoundCgroups), so unmoved ones vouch for them (SamplerOptions). */
  readonly nodeBoundsTargets?: boolean;
  readonly history?: History;
  readonly logger: Logger;
}

/** A sample from outside the cgroups (e.g. an OOM kill the kubelet recorded), with the names to report it under. */
export interface RecordedSample {
  readonly sample: ContainerSample;
  readonly names: TargetNames;
}

export interface EngineTick {
  readonly tick: Tick;
  readonly analysis: AnalysisResult;
  /** Whether this tick reached the history store; analysis goes on either way. */
  readonly stored: boolean;
  /** Why it did not, when there is a history store and the write failed. */
  readonly historyError?: unknown;
}

/**
 * The node pipeline shared by `xander scan`, `xander demo` and the agent:
 * targets -> sampler -> history -> rolling windows -> rules -> findings.
 * It does not know where targets come from (cgroup walk or the API) nor where findings go.
 */
export class NodeEngine {
  readonly analyzer: Analyzer;
  private readonly sampler: Sampler;
  private samplesTaken = 0;
  private lastHistoryError: string | undefined;

  constructor(private readonly options: NodeEngineOptions) {
    this.analyzer = new Analyzer(options);
    this.sampler = new Sampler(options.readCounters, options.readNodePressure, { nodeBoundsTargets: options.nodeBoundsTargets ?? false });
  }

  /** Refills the rolling windows from history, so a restart does not forget the last window. */
  restore(nowMs = Date.now()): number {
    const history = this.options.history;
    if (!history) return 0;
    const sinceMs = nowMs - this.analyzer.windows.lengthMs;
    try {
      const samples = history.latestWindow(sinceMs);
      this.analyzer.windows.seed(samples, history.nodeSeries(sinceMs), nowMs);
      return samples.length;
    } catch (error) {
      this.options.logger.warn({ err: error }, "could not restore rolling windows from history; starting with empty windows");
      return 0;
    }
  }

  /**
   * `recorded` adds samples the cgroups could not give, once this tick's reads are known (so it can
   * leave out what they already show); they are stored and analysed like the others.
   */
  async tick(targets: readonly Target[], wallMs = Date.now(), recorded?: (sampled: Tick) => readonly RecordedSample[]): Promise<EngineTick> {
    this.nameTargets(targets);
    const tick = this.withRecorded(await this.sampler.tick(targets, wallMs), recorded);
    this.options.retainCgroups?.(targets.map((target) => target.relPath));
    this.samplesTaken += tick.containers.length;
    for (const problem of tick.problems) this.options.logger.warn({ problem }, "cgroup read problem");
    const historyError = this.store(tick, targets);
    const analysis = this.analyzer.ingest(tick);
    // A policy may set MemoryNearLimit below the sampler's default share; from there on the working set is read fresh.
    this.sampler.readMemoryStatEveryTickFrom(this.analyzer.lowestMemoryNearLimitThreshold ?? Number.POSITIVE_INFINITY);
    const stored = this.options.history !== undefined && historyError === undefined;
    return { tick, analysis, stored, ...(historyError === undefined ? {} : { historyError }) };
  }

  private nameTargets(targets: readonly Target[]): void {
    for (const target of targets) {
      if (target.podName !== undefined) {
        this.analyzer.name(target.key, {
          pod: { uid: target.podUid, ...(target.namespace === undefined ? {} : { namespace: target.namespace }), name: target.podName },
          ...(target.containerName === undefined ? {} : { containerName: target.containerName }),
        });
      }
    }
  }

  private withRecorded(sampled: Tick, recorded: ((sampled: Tick) => readonly RecordedSample[]) | undefined): Tick {
    const extra = recorded?.(sampled) ?? [];
    for (const { sample, names } of extra) this.analyzer.name(sample.key, names);
    return extra.length === 0 ? sampled : { ...sampled, containers: [...sampled.containers, ...extra.map((r) => r.sample)] };
  }

  get samples(): number {
    return this.samplesTaken;
  }

  /** A failing history store must not stop detection: log once per distinct error and go on. Returns the error, if any. */
  private store(tick: Tick, targets: readonly Target[]): unknown {
    const history = this.options.history;
    if (!history) return undefined;
    try {
      history.appendTick(tick, targets);
      if (this.lastHistoryError !== undefined) this.options.logger.info("ticks are written to the history store again");
      this.lastHistoryError = undefined;
      return undefined;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (message !== this.lastHistoryError) this.options.logger.error({ err: error }, "could not write this tick to the history store; detection continues");
      this.lastHistoryError = message;
      return error;
    }
  }
}
