/**
 * What of a NodeFindings the views can use. Its agent writes it, but the CRD schema cannot rule out every
 * shape Xander does not expect, and a person with kubectl can write any shape the schema allows: the same
 * finding twice, a pod rule about no pod, times that run backwards, a ratio past any float, a last sample in
 * the year 9999. Each is left out, and said so, rather than skewing every count, rank and staleness after it.
 * Pure.
 */
import { RULE_NAMES } from "../analysis/types.js";
import { defined } from "../util/object.js";
import type { Dependency, NodeFinding, NodeFindings, NodeFindingsStatus, RecentIncident } from "../api/types.generated.js";

/** A last sample further ahead than this is not clock skew: the node counts as never having reported. */
export const FUTURE_TOLERANCE_MS = 60 * 60_000;

export interface NodeFindingsCheck {
  /** The object itself when nothing was wrong, else a copy without what could not be used. */
  readonly usable: NodeFindings;
  /** One line per thing left out, naming it by its place in status. */
  readonly problems: readonly string[];
}

/** Rules about the node itself; every other rule is about a pod. */
const NODE_RULES: ReadonlySet<string> = new Set<string>(RULE_NAMES.filter((rule) => rule === "NodePressure"));

function podText(f: { readonly pod?: { readonly namespace?: string; readonly name?: string; readonly uid?: string } }): string {
  const pod = f.pod;
  if (pod === undefined) return "no pod";
  return pod.name === undefined ? `pod uid ${pod.uid ?? ""}` : `${pod.namespace ?? ""}/${pod.name}`;
}

/** Why a finding cannot be used, or undefined. */
function findingProblem(f: NodeFinding): string | undefined {
  if (!NODE_RULES.has(f.rule) && f.pod?.name === undefined) return f.pod === undefined ? "names no pod" : `names no pod by name, only uid ${f.pod.uid}`;
  if (Date.parse(f.lastSeen) < Date.parse(f.firstSeen)) return `was last seen (${f.lastSeen}) before it was first seen (${f.firstSeen})`;
  const ratio = f.threshold > 0 ? f.value / f.threshold : f.value;
  if (!Number.isFinite(ratio)) return `has value ${f.value} over threshold ${f.threshold}, not a finite ratio`;
  return undefined;
}

function usableFindings(findings: readonly NodeFinding[], problems: string[]): NodeFinding[] {
  const seen = new Map<string, number>();
  return findings.filter((f, i) => {
    const why = findingProblem(f);
    if (why !== undefined) {
      problems.push(`findings[${i}] (${f.rule}) ${why}`);
      return false;
    }
    const key = `${f.rule}|${f.pod?.uid ?? ""}|${f.container ?? ""}`;
    const first = seen.get(key);
    if (first !== undefined) {
      problems.push(`findings[${i}] repeats findings[${first}] (${f.rule} on ${podText(f)}${f.container === undefined ? "" : `, container ${f.container}`})`);
      return false;
    }
    seen.set(key, i);
    return true;
  });
}

function usableIncidents(incidents: readonly RecentIncident[], problems: string[]): RecentIncident[] {
  return incidents.filter((incident, i) => {
    if (!(Date.parse(incident.end) < Date.parse(incident.start))) return true;
    problems.push(`recentIncidents[${i}] (${incident.rule}) ends (${incident.end}) before it starts (${incident.start})`);
    return false;
  });
}

const isQualified = (name: string): boolean => /^[^/]+\/[^/]+$/.test(name);

function usableDependencies(dependencies: readonly Dependency[], problems: string[]): Dependency[] {
  return dependencies.filter((dep, i) => {
    if (isQualified(dep.from) && (dep.kind === "External" ? dep.to !== "" : isQualified(dep.to))) return true;
    problems.push(`dependencies[${i}] from ${JSON.stringify(dep.from)} to ${dep.kind} ${JSON.stringify(dep.to)} does not name namespace/name ends`);
    return false;
  });
}

function usableAgent(status: NodeFindingsStatus, nowMs: number, problems: string[]): NodeFindingsStatus["agent"] {
  const agent = status.agent;
  const lastSampleMs = Date.parse(agent?.lastSample ?? "");
  if (agent?.lastSample === undefined || !(lastSampleMs - nowMs > FUTURE_TOLERANCE_MS)) return agent;
  problems.push(`status.agent.lastSample ${agent.lastSample} is in the future; the node counts as not reporting`);
  const rest: NonNullable<NodeFindingsStatus["agent"]> = { ...agent };
  delete rest.lastSample;
  return rest;
}

/** The parts of `nf` the views can use, and what was left out. */
export function checkNodeFindings(nf: NodeFindings, nowMs: number): NodeFindingsCheck {
  const status = nf.status;
  if (status === undefined) return { usable: nf, problems: [] };
  const problems: string[] = [];
  const agent = usableAgent(status, nowMs, problems);
  const findings = usableFindings(status.findings ?? [], problems);
  const recentIncidents = usableIncidents(status.recentIncidents ?? [], problems);
  const dependencies = usableDependencies(status.dependencies ?? [], problems);
  if (agent?.lastSample === undefined && findings.length > 0) {
    problems.push(`${findings.length} finding(s) but no status.agent.lastSample: not counted until the node's agent reports`);
  }
  if (problems.length === 0) return { usable: nf, problems };
  // Lists the status had are replaced; lists it did not have stay absent.
  const usable: NodeFindingsStatus = { ...status, ...defined({ agent, findings: status.findings && findings, recentIncidents: status.recentIncidents && recentIncidents, dependencies: status.dependencies && dependencies }) };
  return { usable: { ...nf, status: usable }, problems };
}
