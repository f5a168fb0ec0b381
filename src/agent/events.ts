import { createHash } from "node:crypto";
import { podLabel } from "../analysis/format.js";
import type { Incident } from "../analysis/incident.js";
import type { Finding, PodRef } from "../analysis/types.js";
import { formatDuration } from "../util/duration.js";
import type { KubeObject } from "../api/meta.js";
import { EVENT } from "../kube/resources.js";
import type { Logger } from "../util/log.js";
import { EVENT_NOTE_MAX, EVENT_REPORTING_INSTANCE_MAX } from "../api/limits.js";

export interface EventCreator {
  create<T extends KubeObject>(obj: T, fieldManager?: string): Promise<T>;
}

/** One Event per finding incarnation, and never the same one twice within this long. */
const REPEAT_AFTER_MS = 10 * 60_000;

/** Which raised findings become Events on the starved Pod: what a person should look at. */
export function worthAnEvent(finding: Finding): boolean {
  return finding.pod.uid !== "node" && finding.pod.name !== undefined && finding.severity !== "info";
}

/** The Event's note: the finding's message, plus the culprit for CPUStarvation. */
export function eventNote(finding: Finding): string {
  const culprit = finding.culprit ? ` Culprit: ${podLabel(finding.culprit.pod)} (score ${finding.culprit.score}).` : "";
  const container = finding.container ? `container ${finding.container}: ` : "";
  return `${container}${finding.message}.${culprit}`.slice(0, EVENT_NOTE_MAX);
}

/** The note of a StarvationCleared Event: how long it lasted, its peak, and who was to blame. */
export function clearedNote(incident: Incident): string {
  const durationMs = Math.max(0, (incident.endMs ?? incident.lastSeenMs) - incident.startMs);
  const container = incident.container ? `container ${incident.container}: ` : "";
  const culprit = incident.culprits[0] ? ` Culprit: ${podLabel(incident.culprits[0].pod)} (${Math.round(incident.culprits[0].share * 100)}% of the time).` : "";
  return `${container}${incident.rule} cleared after ${formatDuration(durationMs)}; peak ${peakText(incident)} at ${new Date(incident.peakAtMs).toISOString()} (threshold ${peakText({ ...incident, peakValue: incident.threshold })}).${culprit}`.slice(0, EVENT_NOTE_MAX);
}

function peakText(incident: Pick<Incident, "rule" | "peakValue">): string {
  return incident.rule === "OOMKill" ? `${incident.peakValue} kill(s)` : `${Math.round(incident.peakValue * 100)}%`;
}

/**
 * Emits a Kubernetes Event (events.k8s.io/v1) on the starved Pod when a finding is raised,
 * deduplicated per rule, pod and container so a finding that holds for hours is one Event, not one per tick.
 */
export class FindingEvents {
  private readonly emittedAt = new Map<string, number>();

  constructor(
    private readonly api: EventCreator,
    private readonly nodeName: string,
    private readonly logger: Logger,
  ) {}

  async raised(findings: readonly Finding[], nowMs: number): Promise<number> {
    let emitted = 0;
    for (const finding of findings.filter(worthAnEvent)) {
      const key = `${finding.rule}|${finding.pod.uid}|${finding.container ?? ""}`;
      const last = this.emittedAt.get(key);
      if (last !== undefined && nowMs - last < REPEAT_AFTER_MS) continue;
      this.emittedAt.set(key, nowMs);
      if (await this.emitFinding(finding, nowMs)) emitted++;
    }
    for (const [key, at] of this.emittedAt) if (nowMs - at >= REPEAT_AFTER_MS) this.emittedAt.delete(key);
    return emitted;
  }

  /** A Normal `StarvationCleared` Event on the pod for each incident that ended. */
  async cleared(incidents: readonly Incident[], nowMs: number): Promise<number> {
    let emitted = 0;
    for (const incident of incidents) {
      if (incident.pod.uid === "node" || incident.pod.name === undefined || incident.severity === "info") continue;
      const culprit = incident.culprits[0]?.pod;
      const key = `${incident.id}|cleared`;
      if (await this.emit({ pod: incident.pod, key, type: "Normal", reason: "StarvationCleared", action: "Cleared", note: clearedNote(incident), ...(culprit ? { culprit } : {}) }, nowMs)) emitted++;
    }
    return emitted;
  }

  private emitFinding(finding: Finding, nowMs: number): Promise<boolean> {
    const key = `${finding.rule}|${finding.pod.uid}|${finding.container ?? ""}`;
    return this.emit({ pod: finding.pod, key, type: "Warning", reason: finding.rule, action: "Detected", note: eventNote(finding), ...(finding.culprit ? { culprit: finding.culprit.pod } : {}) }, nowMs);
  }

  private async emit(e: { pod: PodRef; key: string; type: "Warning" | "Normal"; reason: string; action: string; note: string; culprit?: PodRef }, nowMs: number): Promise<boolean> {
    const namespace = e.pod.namespace ?? "default";
    const name = `${e.pod.name ?? e.pod.uid}.${createHash("sha256").update(`${e.key}|${nowMs}`).digest("hex").slice(0, 12)}`;
    const event = {
      ...EVENT,
      metadata: { name, namespace },
      // events.k8s.io wants MicroTime: RFC 3339 with microseconds.
      eventTime: new Date(nowMs).toISOString().replace("Z", "000Z"),
      type: e.type,
      reason: e.reason,
      action: e.action,
      note: e.note,
      reportingController: "xander.io/agent",
      reportingInstance: `xander-agent-${this.nodeName}`.slice(0, EVENT_REPORTING_INSTANCE_MAX),
      regarding: { apiVersion: "v1", kind: "Pod", namespace, name: e.pod.name, uid: e.pod.uid },
      ...(e.culprit?.name ? { related: { apiVersion: "v1", kind: "Pod", namespace: e.culprit.namespace, name: e.culprit.name, uid: e.culprit.uid } } : {}),
    };
    try {
      await this.api.create(event);
      return true;
    } catch (error) {
      this.logger.warn({ err: error, pod: podLabel(e.pod), reason: e.reason }, `cannot create Event ${e.reason} on pod ${podLabel(e.pod)}`);
      return false;
    }
  }
}
