import { incidentKey } from "./incident.js";
import type { Finding, Observation, RuleConfig, RuleName, PodRef, Culprit } from "./types.js";

/** Who and what an observation is about; enough to build a finding from it. */
export interface Subject {
  readonly rule: RuleName;
  readonly pod: PodRef;
  readonly container?: string;
  readonly policy?: string;
  readonly windowMs: number;
}

export type LifecycleEvent =
  | { readonly type: "raised"; readonly finding: Finding }
  | { readonly type: "cleared"; readonly finding: Finding };

interface State {
  subject: Subject;
  /** When the condition started holding without a break; undefined while it does not hold. */
  pendingSinceMs?: number;
  lastTrueMs: number;
  finding?: Finding;
}

/** A finding a previous run had raised (its incident is still open): who, and since when. */
export interface ResumedOnset {
  readonly rule: RuleName;
  readonly podUid: string;
  readonly container?: string;
  readonly onsetMs: number;
}

/**
 * Raises a finding once its condition has held for `for`, and clears it once the condition has
 * been absent for `clearAfter`. The gap between the two is the hysteresis that stops flapping.
 * This is the only place the lifecycle lives; rules only say whether their condition holds now.
 */
export class FindingLifecycle {
  private readonly states = new Map<string, State>();
  /** Onsets carried over from a previous run, by incident key; each is used (or dropped) once. */
  private resumed = new Map<string, number>();
  private resumedUntilMs = Number.NEGATIVE_INFINITY;

  /**
   * Findings a previous run had raised. A restart is a gap of a few ticks, not a new onset: a subject whose
   * condition is seen to hold again before `untilMs` (the grace in which its open incident waits) is raised at
   * once, keeping its first onset, instead of waiting out `for` again and showing a new firstSeen. Seen not
   * to hold first, it starts over as any subject does.
   */
  resume(onsets: readonly ResumedOnset[], untilMs: number): void {
    this.resumed = new Map(onsets.map((o) => [incidentKey(o.rule, o.podUid, o.container), o.onsetMs]));
    this.resumedUntilMs = untilMs;
  }

  /**
   * Feeds one evaluation. `observation` undefined means the condition does not hold now (or the
   * subject was not evaluated, e.g. its cgroup is gone): that counts towards clearing.
   */
  update(key: string, subject: Subject, nowMs: number, observation: Observation | undefined, config: RuleConfig): LifecycleEvent | undefined {
    const state = this.states.get(key);
    const resumedOnsetMs = this.takeResumed(subject, nowMs);
    if (observation) return this.hold(key, state, subject, nowMs, observation, config, resumedOnsetMs);
    if (!state) return undefined;
    state.pendingSinceMs = undefined;
    if (!state.finding) {
      this.states.delete(key);
      return undefined;
    }
    if (nowMs - state.lastTrueMs < config.clearAfterMs) return undefined;
    this.states.delete(key);
    return { type: "cleared", finding: state.finding };
  }

  /** Whether `key` has state: a raised finding, or a condition waiting out `for`. */
  has(key: string): boolean {
    return this.states.has(key);
  }

  /** Keys with state, so the caller can feed "absent" to subjects it no longer evaluates. */
  keys(): string[] {
    return [...this.states.keys()];
  }

  subject(key: string): Subject | undefined {
    return this.states.get(key)?.subject;
  }

  active(): Finding[] {
    return [...this.states.values()].flatMap((state) => (state.finding ? [state.finding] : []));
  }

  /** The resumed onset of this subject, on its first evaluation since the resume; undefined after that. */
  private takeResumed(subject: Subject, nowMs: number): number | undefined {
    if (this.resumed.size === 0) return undefined;
    const key = incidentKey(subject.rule, subject.pod.uid, subject.container);
    const onsetMs = this.resumed.get(key);
    this.resumed.delete(key);
    return onsetMs !== undefined && nowMs <= this.resumedUntilMs ? onsetMs : undefined;
  }

  private hold(key: string, existing: State | undefined, subject: Subject, nowMs: number, observation: Observation, config: RuleConfig, resumedOnsetMs: number | undefined): LifecycleEvent | undefined {
    const state: State = existing ?? { subject, lastTrueMs: nowMs };
    if (!existing) this.states.set(key, state);
    state.subject = subject;
    state.pendingSinceMs ??= existing ? nowMs : Math.min(resumedOnsetMs ?? nowMs, nowMs);
    state.lastTrueMs = nowMs;
    if (state.finding) {
      state.finding = findingFrom(subject, observation, config, state.finding.firstSeenMs, nowMs);
      return undefined;
    }
    if (nowMs - state.pendingSinceMs < config.forMs) return undefined;
    // firstSeen is the onset, not the moment `for` elapsed: that is when the pod started to suffer.
    state.finding = findingFrom(subject, observation, config, state.pendingSinceMs, nowMs);
    return { type: "raised", finding: state.finding };
  }
}

function findingFrom(subject: Subject, observation: Observation, config: RuleConfig, firstSeenMs: number, lastSeenMs: number): Finding {
  const culprit: Culprit | undefined = observation.culprit;
  return {
    rule: subject.rule,
    severity: config.severity,
    ...(subject.policy === undefined ? {} : { policy: subject.policy }),
    pod: subject.pod,
    ...(subject.container === undefined ? {} : { container: subject.container }),
    value: observation.value,
    threshold: config.threshold,
    windowMs: subject.windowMs,
    firstSeenMs,
    lastSeenMs,
    ...(culprit ? { culprit } : {}),
    ...(observation.evidence ? { evidence: observation.evidence } : {}),
    message: observation.message,
  };
}
