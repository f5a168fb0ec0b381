/**
 * What a rule is: its defaults, its threshold range, and a pure evaluation of one window. This module
 * knows no rule by name, so every rule file can import it; the set of rules is rules/index.ts.
 */
import type { ContainerSample, NodeSample } from "../sampler/types.js";

export const SEVERITIES = ["critical", "warning", "info"] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface RuleConfig {
  readonly enabled: boolean;
  readonly threshold: number;
  /** The condition must hold this long before a finding is raised (0 = at once). */
  readonly forMs: number;
  /** A raised finding clears after its condition has been absent this long. */
  readonly clearAfterMs: number;
  readonly severity: Severity;
}

export interface PodRef {
  readonly uid: string;
  readonly namespace?: string;
  readonly name?: string;
}

/** A container's recent samples, oldest first, with the aggregates most rules need. */
export interface ContainerWindow {
  readonly key: string;
  readonly pod: PodRef;
  readonly containerId: string;
  readonly containerName?: string;
  readonly samples: readonly ContainerSample[];
  readonly spanMs: number;
  readonly cpuCores: number;
  readonly periods: number;
  readonly throttledPeriods: number;
  readonly cpuLimitCores: number | null;
  readonly cpuStallShare?: number;
  readonly memoryStallShare?: number;
  readonly memoryFullStallShare?: number;
  readonly ioStallShare?: number;
  readonly ioFullStallShare?: number;
  readonly workingSetBytes?: number;
  readonly memoryLimitBytes: number | null;
  readonly memoryLimitShare: number | null;
  readonly oomKills: number;
}

export interface NodeWindow {
  readonly samples: readonly NodeSample[];
  readonly spanMs: number;
  readonly cpuStallShare?: number;
  readonly memoryStallShare?: number;
  readonly memoryFullStallShare?: number;
  readonly ioStallShare?: number;
  readonly ioFullStallShare?: number;
}

/** What a rule saw in one evaluation, before the lifecycle decides whether it is a finding. */
export interface Observation {
  readonly value: number;
  readonly message: string;
  readonly evidence?: Readonly<Record<string, string | number>>;
  readonly culprit?: Culprit;
}

export interface Culprit {
  readonly pod: PodRef;
  /** 0..1: how strongly the evidence points at this neighbour. */
  readonly score: number;
  readonly evidence: string;
}

/** Defaults as a policy writes them (durations as text). */
export interface RuleDefaults {
  readonly threshold: number;
  readonly for: string;
  readonly clearAfter: string;
  readonly severity: Severity;
}

/** The values a policy may set as a rule's threshold, and what they measure: the CRD's bounds and description. */
export interface ThresholdRange {
  readonly min: number;
  readonly max: number;
  readonly unit: string;
  /** A count (OOM kills), so the CRD admits whole numbers only. */
  readonly wholeNumber?: boolean;
}

/** What a container rule may look at besides its own window: the rest of the node. */
export interface NodeContext {
  readonly windows: readonly ContainerWindow[];
  /** The node's own window: node-wide PSI and CPU, which shows load from outside pods. */
  readonly node?: NodeWindow;
  readonly nodeCores: number;
  /** Every rule's settings for this pod, by rule name. */
  readonly configs: Readonly<Record<string, RuleConfig | undefined>>;
}

export interface ContainerRule<N extends string = string> {
  readonly name: N;
  readonly scope: "container";
  readonly defaults: RuleDefaults;
  readonly thresholdRange: ThresholdRange;
  evaluate(window: ContainerWindow, config: RuleConfig, context: NodeContext): Observation | undefined;
}

export interface NodeRule<N extends string = string> {
  readonly name: N;
  readonly scope: "node";
  readonly defaults: RuleDefaults;
  readonly thresholdRange: ThresholdRange;
  evaluate(window: NodeWindow, config: RuleConfig): Observation | undefined;
}

export type Rule<N extends string = string> = ContainerRule<N> | NodeRule<N>;
