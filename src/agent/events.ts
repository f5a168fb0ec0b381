import { createHash } from "node:crypto";
import { podLabel } from "../analysis/format.js";
import type { Incident } from "../analysis/incident.js";
import type { Finding, PodRef } from "../analysis/types.js";
import { formatDuration } from "../util/duration.js";
import type { KubeObject } from "../api/meta.js";
import { isConflict, isTransient } from "../kube/errors.js";
import { EVENT } from "../kube/resources.js";
import type { Logger } from "../util/log.js";
import { EVENT_NOTE_MAX, EVENT_REPORTING_INSTANCE_MAX, NAME_MAX } from "../api/limits.js";

export interface EventCreator {
  create<T extends KubeObject>(obj: T, fieldManager?: string): Promise<T>;
}

/** One Event per finding incarnation, and never the same one twice within this long. */
const REPEAT_AFTER_MS = 10 * 60_000;
/** An Event created this long after its tick says it is late, and why. */
const LATE_AFTER_MS = 30_000;

/** A raised finding or an ended incident waiting for its Event, with the tick that produced it. */
export interface Queued<T> {
  readonly item: T;
  readonly atMs: number;
}

/** How many Events were created, and which could not be for now (the API server was unreachable). */
export interface EventOutcome<T> {
  readonly emitted: number;
  readonly retry: Queued<T>[];
}

type EmitResult = "emitted" | "retry" | "dropped";

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

  /**
   * Events for raised findings. One the API server could not take is handed back for a later try, with its
   * original time, so that findings raised during an outage get their Event once it ends (late, and saying so).
   */
  async raised(queued: readonly Queued<Finding>[], nowMs: number): Promise<EventOutcome<Finding>> {
    let emitted = 0;
    const retry: Queued<Finding>[] = [];
    for (const entry of queued.filter((q) => worthAnEvent(q.item))) {
      const finding = entry.item;
      const key = `${finding.rule}|${finding.pod.uid}|${finding.container ?? ""}`;
      const last = this.emittedAt.get(key);
      if (last !== undefined && entry.atMs - last < REPEAT_AFTER_MS) continue;
      const result = await this.emitFinding(finding, entry.atMs, nowMs);
      if (result === "retry") retry.push(entry);
      else this.emittedAt.set(key, entry.atMs);
      if (result === "emitted") emitted++;
    }
    for (const [key, at] of this.emittedAt) if (nowMs - at >= REPEAT_AFTER_MS) this.emittedAt.delete(key);
    return { emitted, retry };
  }

  /** A Normal `StarvationCleared` Event on the pod for each incident that ended; retried as `raised` is. */
  async cleared(queued: readonly Queued<Incident>[], nowMs: number): Promise<EventOutcome<Incident>> {
    let emitted = 0;
    const retry: Queued<Incident>[] = [];
    for (const entry of queued) {
      const incident = entry.item;
      if (incident.pod.uid === "node" || incident.pod.name === undefined || incident.severity === "info") continue;
      const culprit = incident.culprits[0]?.pod;
      const key = `${incident.id}|cleared`;
      const result = await this.emit({ pod: incident.pod, key, type: "Normal", reason: "StarvationCleared", action: "Cleared", note: clearedNote(incident), ...(culprit ? { culprit } : {}) }, entry.atMs, nowMs);
      if (result === "retry") retry.push(entry);
      if (result === "emitted") emitted++;
    }
    return { emitted, retry };
  }

  private emitFinding(finding: Finding, atMs: number, nowMs: number): Promise<EmitResult> {
    const key = `${finding.rule}|${finding.pod.uid}|${finding.container ?? ""}`;
    return this.emit({ pod: finding.pod, key, type: "Warning", reason: finding.rule, action: "Detected", note: eventNote(finding), ...(finding.culprit ? { culprit: finding.culprit.pod } : {}) }, atMs, nowMs);
  }

  private async emit(e: { pod: PodRef; key: string; type: "Warning" | "Normal"; reason: string; action: string; note: string; culprit?: PodRef }, atMs: number, nowMs: number): Promise<EmitResult> {
    const namespace = e.pod.namespace ?? "default";
    // Named after the tick, not the attempt: a retry of a create that did go through meets a 409, not a twin.
    const name = eventName(e.pod.name ?? e.pod.uid, createHash("sha256").update(`${e.key}|${atMs}`).digest("hex").slice(0, 12));
    const event = {
      ...EVENT,
      metadata: { name, namespace },
      // events.k8s.io wants MicroTime: RFC 3339 with microseconds. The time is the tick's, however late the Event.
      eventTime: new Date(atMs).toISOString().replace("Z", "000Z"),
      type: e.type,
      reason: e.reason,
      action: e.action,
      note: lateNote(e.note, atMs, nowMs),
      reportingController: "xander.io/agent",
      reportingInstance: `xander-agent-${this.nodeName}`.slice(0, EVENT_REPORTING_INSTANCE_MAX),
      regarding: { apiVersion: "v1", kind: "Pod", namespace, name: e.pod.name, uid: e.pod.uid },
      ...(e.culprit?.name ? { related: { apiVersion: "v1", kind: "Pod", namespace: e.culprit.namespace, name: e.culprit.name, uid: e.culprit.uid } } : {}),
    };
    try {
      await this.api.create(event);
      return "emitted";
    } catch (error) {
      if (isConflict(error)) return "emitted";
      const retry = isTransient(error);
      this.logger.warn({ err: error, pod: podLabel(e.pod), reason: e.reason, retry }, `cannot create Event ${e.reason} on pod ${podLabel(e.pod)}${retry ? "; will try again" : ""}`);
      return retry ? "retry" : "dropped";
    }
  }
}

/**
 * `<pod>.<hash>`, within an object name's 253 characters: a pod's name may use them all, and an Event whose
 * name is longer is refused. The cut leaves no `.` or `-` before the hash, which a DNS subdomain forbids.
 */
export function eventName(podName: string, hash: string): string {
  return `${podName.slice(0, NAME_MAX - hash.length - 1).replace(/[-.]+$/, "")}.${hash}`;
}

/** The note of an Event created well after its tick says so, within the note's limit. */
export function lateNote(note: string, atMs: number, nowMs: number): string {
  if (nowMs - atMs < LATE_AFTER_MS) return note;
  const suffix = ` (detected ${new Date(atMs).toISOString()}; reported ${formatDuration(nowMs - atMs)} late, the API server could not be reached)`;
  return `${note.slice(0, EVENT_NOTE_MAX - suffix.length)}${suffix}`;
}
