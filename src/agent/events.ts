import { createHash } from "node:crypto";
import { podLabel } from "../analysis/format.js";
import type { Finding } from "../analysis/types.js";
import type { KubeObject } from "../api/meta.js";
import { EVENT } from "../kube/resources.js";
import type { Logger } from "../util/log.js";

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
  return `${container}${finding.message}.${culprit}`.slice(0, 1024);
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
      if (await this.emit(finding, nowMs)) emitted++;
    }
    for (const [key, at] of this.emittedAt) if (nowMs - at >= REPEAT_AFTER_MS) this.emittedAt.delete(key);
    return emitted;
  }

  private async emit(finding: Finding, nowMs: number): Promise<boolean> {
    const namespace = finding.pod.namespace ?? "default";
    const name = `${finding.pod.name ?? finding.pod.uid}.${createHash("sha256").update(`${finding.rule}|${finding.pod.uid}|${finding.container ?? ""}|${nowMs}`).digest("hex").slice(0, 12)}`;
    const event = {
      ...EVENT,
      metadata: { name, namespace },
      // events.k8s.io wants MicroTime: RFC 3339 with microseconds.
      eventTime: new Date(nowMs).toISOString().replace("Z", "000Z"),
      type: "Warning",
      reason: finding.rule,
      action: "Detected",
      note: eventNote(finding),
      reportingController: "xander.io/agent",
      reportingInstance: `xander-agent-${this.nodeName}`.slice(0, 128),
      regarding: { apiVersion: "v1", kind: "Pod", namespace, name: finding.pod.name, uid: finding.pod.uid },
      ...(finding.culprit?.pod.name
        ? { related: { apiVersion: "v1", kind: "Pod", namespace: finding.culprit.pod.namespace, name: finding.culprit.pod.name, uid: finding.culprit.pod.uid } }
        : {}),
    };
    try {
      await this.api.create(event);
      return true;
    } catch (error) {
      this.logger.warn({ err: error, pod: podLabel(finding.pod), rule: finding.rule }, `cannot create Event for ${finding.rule} on pod ${podLabel(finding.pod)}`);
      return false;
    }
  }
}
