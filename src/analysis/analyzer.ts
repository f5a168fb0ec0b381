import type { Tick } from "../sampler/types.js";
import { FindingLifecycle, type LifecycleEvent, type ResumedOnset, type Subject } from "./lifecycle.js";
import { RULES, defaultRuleConfigs } from "./rules/index.js";
import type { ContainerWindow, Finding, NodeContext, NodeWindow, Observation, PodRef, Rule, RuleConfig, RuleConfigs, RuleName } from "./types.js";
import { RollingWindows, summarizeContainer, type TargetNames } from "./window.js";
import { SEVERITY_RANK } from "./severity.js";

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
  /** The rules to evaluate, in order. Defaults to RULES; the bindings' configs must cover every one. */
  readonly rules?: readonly Rule<RuleName>[];
}

export interface AnalysisResult {
  readonly raised: readonly Finding[];
  readonly cleared: readonly Finding[];
  /** Every active finding, most severe first. */
  readonly active: readonly Finding[];
}

const NODE_POD: PodRef = { uid: "node" };
/** How many cached rule keys of containers without a window are tolerated before they are swept. */
const RULE_KEYS_SLACK = 64;

/** One tick's evaluation: its time, the lifecycle events so far, and which lifecycle keys were evaluated. */
interface Round {
  readonly nowMs: number;
  readonly events: LifecycleEvent[];
  readonly evaluated: Set<string>;
}

/**
 * The analysis engine: rolling windows in, findings out. It does no I/O, so `xander scan`, the
 * agent and the tests drive the same code with real or synthetic ticks.
 */
export class Analyzer {
  readonly windows: RollingWindows;
  private readonly lifecycle = new FindingLifecycle();
  private readonly names = new Map<string, TargetNames>();
  private readonly ruleKeys = new Map<string, readonly string[]>();
  private nearLimitThreshold: number | undefined;
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

  /** Findings a previous run had raised: raised again at their first evaluation that still holds (see FindingLifecycle.resume). */
  resume(onsets: readonly ResumedOnset[], untilMs: number): void {
    this.lifecycle.resume(onsets, untilMs);
  }

  /** Names for a target (namespace/pod/container), when the caller knows them. */
  name(key: string, names: TargetNames): void {
    this.names.set(key, names);
  }

  ingest(tick: Tick): AnalysisResult {
    const nowMs = tick.wallMs;
    // Forgotten first: a key can be gone and still have a sample in the same tick, when the kubelet
    // recorded an OOM kill of a container whose cgroup has just vanished.
    for (const key of tick.gone) {
      this.windows.forget(key);
      this.ruleKeys.delete(key);
    }
    this.windows.add(tick.containers, tick.node, nowMs);

    const round: Round = { nowMs, events: [], evaluated: new Set() };
    const node = this.windows.node();
    this.evaluateContainers(round, node);
    this.evaluateNode(round, node);

    // Subjects not evaluated this tick (cgroup gone, rule disabled, policy no longer selects the pod)
    // count as "condition absent", so their findings clear after clearAfter instead of sticking.
    const defaults = defaultRuleConfigs();
    for (const key of this.lifecycle.keys()) {
      if (round.evaluated.has(key)) continue;
      const subject = this.lifecycle.subject(key);
      if (!subject) continue;
      const event = this.lifecycle.update(key, subject, nowMs, undefined, this.configFor(subject) ?? defaults[subject.rule]);
      if (event) round.events.push(event);
    }

    const events = round.events;
    return {
      raised: events.filter((e) => e.type === "raised").map((e) => e.finding),
      cleared: events.filter((e) => e.type === "cleared").map((e) => e.finding),
      active: sortFindings(this.lifecycle.active()),
    };
  }

  active(): Finding[] {
    return sortFindings(this.lifecycle.active());
  }

  /**
   * The lowest MemoryNearLimit threshold that applied to any container in the last tick; undefined
   * when none had the rule enabled. The sampler reads memory.stat every tick from this share on.
   */
  get lowestMemoryNearLimitThreshold(): number | undefined {
    return this.nearLimitThreshold;
  }

  /**
   * Feeds one evaluation to the lifecycle. Most evaluations on a healthy node find nothing for a
   * subject without state, which the lifecycle would ignore; callers skip those (see `needsLifecycle`)
   * so they cost no subject and no bookkeeping.
   */
  private track(round: Round, key: string, subject: Subject, observation: Observation | undefined, config: RuleConfig): void {
    round.evaluated.add(key);
    const event = this.lifecycle.update(key, subject, round.nowMs, observation, config);
    if (event) round.events.push(event);
  }

  private needsLifecycle(key: string, observation: Observation | undefined): boolean {
    return observation !== undefined || this.lifecycle.has(key);
  }

  private evaluateContainers(round: Round, node: NodeWindow): void {
    const windows: ContainerWindow[] = [];
    for (const key of this.windows.keys()) {
      const samples = this.windows.samples(key);
      const first = samples[0];
      if (!first) continue;
      windows.push(summarizeContainer(key, samples, this.names.get(key) ?? { pod: { uid: first.podUid } }));
    }
    this.pruneRuleKeys();
    this.nearLimitThreshold = undefined;
    // One context per distinct rule set, not per container: rules only read it.
    let context: NodeContext | undefined;
    for (const window of windows) {
      const binding = this.bindingFor(window.pod);
      if (!binding) continue;
      if (context?.configs !== binding.configs) {
        context = { windows, node, nodeCores: this.options.nodeCores, configs: binding.configs };
        this.noteNearLimitThreshold(binding.configs.MemoryNearLimit);
      }
      this.evaluateWindow(round, window, binding, context);
    }
  }

  private evaluateWindow(round: Round, window: ContainerWindow, binding: PolicyBinding, context: NodeContext): void {
    const keys = this.ruleKeysFor(window.key);
    const rules = this.rules;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i];
      if (rule?.scope !== "container") continue;
      const config = binding.configs[rule.name];
      if (!config.enabled) continue;
      const observation = rule.evaluate(window, config, context);
      const key = keys[i] ?? `${rule.name}|${window.key}`;
      if (!this.needsLifecycle(key, observation)) continue;
      const subject: Subject = {
        rule: rule.name,
        pod: window.pod,
        container: window.containerName ?? window.containerId,
        windowMs: this.options.windowMs,
        ...(binding.policy === undefined ? {} : { policy: binding.policy }),
      };
      this.track(round, key, subject, observation, config);
    }
  }

  private evaluateNode(round: Round, nodeWindow: NodeWindow): void {
    const binding = this.options.nodeBinding ?? { configs: defaultRuleConfigs() };
    if (nodeWindow.samples.length === 0) return;
    for (const rule of this.rules) {
      if (rule.scope !== "node") continue;
      const config = binding.configs[rule.name];
      if (!config.enabled) continue;
      const observation = rule.evaluate(nodeWindow, config);
      const key = `${rule.name}|node`;
      if (!this.needsLifecycle(key, observation)) continue;
      const subject: Subject = {
        rule: rule.name,
        pod: NODE_POD,
        windowMs: this.options.windowMs,
        ...(binding.policy === undefined ? {} : { policy: binding.policy }),
      };
      this.track(round, key, subject, observation, config);
    }
  }

  private noteNearLimitThreshold(config: RuleConfig): void {
    if (config.enabled) this.nearLimitThreshold = Math.min(this.nearLimitThreshold ?? config.threshold, config.threshold);
  }

  /** Lifecycle keys (`<rule>|<container key>`) of one container, by rule index, built once rather than every tick. */
  private ruleKeysFor(key: string): readonly string[] {
    let keys = this.ruleKeys.get(key);
    if (keys === undefined) {
      keys = this.rules.map((rule) => `${rule.name}|${key}`);
      this.ruleKeys.set(key, keys);
    }
    return keys;
  }

  /** Drops the keys of containers whose windows emptied without a `gone` (e.g. no samples for a whole window). */
  private pruneRuleKeys(): void {
    if (this.ruleKeys.size <= this.windows.size + RULE_KEYS_SLACK) return;
    for (const key of this.ruleKeys.keys()) if (!this.windows.has(key)) this.ruleKeys.delete(key);
  }

  private get rules(): readonly Rule<RuleName>[] {
    return this.options.rules ?? RULES;
  }

  private bindingFor(pod: PodRef): PolicyBinding | undefined {
    return this.options.bindingFor ? this.options.bindingFor(pod) : { configs: defaultRuleConfigs() };
  }

  private configFor(subject: Subject): RuleConfig | undefined {
    if (subject.pod === NODE_POD || subject.pod.uid === NODE_POD.uid) return this.options.nodeBinding?.configs[subject.rule];
    return this.bindingFor(subject.pod)?.configs[subject.rule];
  }
}

/** Most severe first; then by how far past its threshold; then oldest first. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
      b.value / Math.max(b.threshold, 1e-9) - a.value / Math.max(a.threshold, 1e-9) ||
      a.firstSeenMs - b.firstSeenMs,
  );
}
