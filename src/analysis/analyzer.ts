import type { Tick } from "../sampler/types.js";
import { FindingLifecycle, type LifecycleEvent, type Subject } from "./lifecycle.js";
import { RULES, defaultRuleConfigs } from "./rules/index.js";
import type { ContainerWindow, Finding, NodeContext, Observation, PodRef, RuleConfig, RuleConfigs, Severity } from "./types.js";
import { RollingWindows, summarizeContainer, type TargetNames } from "./window.js";

/** The rules that apply to a pod, and the policy they came from. */
export interface PolicyBinding {
  readonly policy?: string;
  readonly configs: RuleConfigs;
}

export interface AnalyzerOptions {
  readonly windowMs: number;
  readonly nodeCores: number;
  /** Which policy governs a pod; undefined means no policy selects it and it is not analysed. Defaults to built-in rules for every pod. */
  readonly bindingFor?: (pod: PodRef) => PolicyBinding | undefined;
  /** Rules for node-scoped checks (NodePressure). Defaults to built-in rules. */
  readonly nodeBinding?: PolicyBinding;
}

export interface AnalysisResult {
  readonly raised: readonly Finding[];
  readonly cleared: readonly Finding[];
  /** Every active finding, most severe first. */
  readonly active: readonly Finding[];
}

const NODE_POD: PodRef = { uid: "node" };

/**
 * The analysis engine: rolling windows in, findings out. It does no I/O, so `xander scan`, the
 * agent and the tests drive the same code with real or synthetic ticks.
 */
export class Analyzer {
  readonly windows: RollingWindows;
  private readonly lifecycle = new FindingLifecycle();
  private readonly names = new Map<string, TargetNames>();
  private options: AnalyzerOptions;

  constructor(options: AnalyzerOptions) {
    this.options = options;
    this.windows = new RollingWindows(options.windowMs);
  }

  /** Hot reload: new thresholds and windows apply from the next tick, history is kept. */
  reconfigure(options: Partial<AnalyzerOptions>): void {
    this.options = { ...this.options, ...options };
    this.windows.setWindowMs(this.options.windowMs);
  }

  /** Names for a target (namespace/pod/container), when the caller knows them. */
  name(key: string, names: TargetNames): void {
    this.names.set(key, names);
  }

  ingest(tick: Tick): AnalysisResult {
    const nowMs = tick.wallMs;
    this.windows.add(tick.containers, tick.node, nowMs);
    for (const key of tick.gone) this.windows.forget(key);

    const events: LifecycleEvent[] = [];
    const evaluated = new Set<string>();
    const track = (key: string, subject: Subject, observation: Observation | undefined, config: RuleConfig): void => {
      evaluated.add(key);
      const event = this.lifecycle.update(key, subject, nowMs, observation, config);
      if (event) events.push(event);
    };

    this.evaluateContainers(track);
    this.evaluateNode(track);

    // Subjects not evaluated this tick (cgroup gone, rule disabled, policy no longer selects the pod)
    // count as "condition absent", so their findings clear after clearAfter instead of sticking.
    const defaults = defaultRuleConfigs();
    for (const key of this.lifecycle.keys()) {
      if (evaluated.has(key)) continue;
      const subject = this.lifecycle.subject(key);
      if (!subject) continue;
      const event = this.lifecycle.update(key, subject, nowMs, undefined, this.configFor(subject) ?? defaults[subject.rule]);
      if (event) events.push(event);
    }

    return {
      raised: events.filter((e) => e.type === "raised").map((e) => e.finding),
      cleared: events.filter((e) => e.type === "cleared").map((e) => e.finding),
      active: sortFindings(this.lifecycle.active()),
    };
  }

  active(): Finding[] {
    return sortFindings(this.lifecycle.active());
  }

  private evaluateContainers(track: (key: string, subject: Subject, observation: Observation | undefined, config: RuleConfig) => void): void {
    const windows: ContainerWindow[] = [];
    for (const key of this.windows.keys()) {
      const samples = this.windows.samples(key);
      const first = samples[0];
      if (!first) continue;
      windows.push(summarizeContainer(key, samples, this.names.get(key) ?? { pod: { uid: first.podUid } }));
    }
    const node = this.windows.node();
    for (const window of windows) {
      const binding = this.bindingFor(window.pod);
      if (!binding) continue;
      const context: NodeContext = { windows, node, nodeCores: this.options.nodeCores, configs: binding.configs };
      for (const rule of RULES) {
        if (rule.scope !== "container") continue;
        const config = binding.configs[rule.name];
        if (!config.enabled) continue;
        const subject: Subject = {
          rule: rule.name,
          pod: window.pod,
          container: window.containerName ?? window.containerId,
          windowMs: this.options.windowMs,
          ...(binding.policy === undefined ? {} : { policy: binding.policy }),
        };
        track(`${rule.name}|${window.key}`, subject, rule.evaluate(window, config, context), config);
      }
    }
  }

  private evaluateNode(track: (key: string, subject: Subject, observation: Observation | undefined, config: RuleConfig) => void): void {
    const binding = this.options.nodeBinding ?? { configs: defaultRuleConfigs() };
    const nodeWindow = this.windows.node();
    if (nodeWindow.samples.length === 0) return;
    for (const rule of RULES) {
      if (rule.scope !== "node") continue;
      const config = binding.configs[rule.name];
      if (!config.enabled) continue;
      const subject: Subject = {
        rule: rule.name,
        pod: NODE_POD,
        windowMs: this.options.windowMs,
        ...(binding.policy === undefined ? {} : { policy: binding.policy }),
      };
      track(`${rule.name}|node`, subject, rule.evaluate(nodeWindow, config), config);
    }
  }

  private bindingFor(pod: PodRef): PolicyBinding | undefined {
    return this.options.bindingFor ? this.options.bindingFor(pod) : { configs: defaultRuleConfigs() };
  }

  private configFor(subject: Subject): RuleConfig | undefined {
    if (subject.pod === NODE_POD || subject.pod.uid === NODE_POD.uid) return this.options.nodeBinding?.configs[subject.rule];
    return this.bindingFor(subject.pod)?.configs[subject.rule];
  }
}

const SEVERITY_RANK: Readonly<Record<Severity, number>> = { critical: 0, warning: 1, info: 2 };

/** Most severe first; then by how far past its threshold; then oldest first. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
      b.value / Math.max(b.threshold, 1e-9) - a.value / Math.max(a.threshold, 1e-9) ||
      a.firstSeenMs - b.firstSeenMs,
  );
}
