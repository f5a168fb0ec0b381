import { cpus } from "node:os";
import { detectLayout } from "../cgroup/layout.js";
import { podLabel } from "../analysis/format.js";
import type { Finding, PodRef } from "../analysis/types.js";
import { runScan, ScanError, type ScanResult } from "../engine/scan.js";
import type { Logger } from "../util/log.js";
import { CgroupSandbox, type SandboxPod } from "./sandbox.js";

export interface DemoOptions {
  readonly cgroupRoot: string;
  readonly procRoot: string;
  readonly durationMs: number;
  readonly intervalMs: number;
  readonly windowMs: number;
  readonly dbPath?: string;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
  readonly say: (line: string) => void;
}

export interface DemoOutcome {
  readonly result: ScanResult;
  readonly pods: Readonly<Record<"noisy" | "victim" | "throttled" | "calm", PodRef>>;
  /** What the demo expected and did not see; empty when everything was detected. */
  readonly missed: readonly string[];
}

const NAMESPACE = "xander-demo";

/**
 * Builds a real noisy-neighbour and throttling scenario in throwaway kubelet-style cgroups, runs
 * the scan on it, explains the findings, and removes every cgroup and process it made.
 */
export async function runDemo(options: DemoOptions): Promise<DemoOutcome> {
  if (process.getuid?.() !== 0) throw new ScanError("xander demo needs root: it creates cgroups and moves processes into them (run it with sudo)");
  const layoutResult = await detectLayout(options.cgroupRoot);
  if (!layoutResult.ok) throw new ScanError(layoutResult.error.message);
  const sandbox = new CgroupSandbox(layoutResult.value);
  const cleanup = async (): Promise<void> => {
    const failures = await sandbox.cleanup();
    if (failures.length > 0) options.logger.error({ failures }, "some demo cgroups could not be removed");
  };
  const onSignal = (): void => {
    void cleanup().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const nodeCores = cpus().length;
    // Requests become cpu.shares, as the kubelet sets them: the noisy pod asks for every core and
    // runs one busy thread per core; the victim asks for 0.1 core; the throttled pod asks for a full
    // core but is limited to 0.2, so it hits its own quota whatever the neighbours do.
    const noisy = sandbox.addPod({ name: "noisy", qosClass: "burstable", cpuRequestCores: nodeCores });
    const victim = sandbox.addPod({ name: "victim", qosClass: "burstable", cpuRequestCores: 0.1 });
    const throttled = sandbox.addPod({ name: "throttled", qosClass: "burstable", cpuRequestCores: 1, cpuLimitCores: 0.2 });
    const calm = sandbox.addPod({ name: "calm", qosClass: "besteffort" });
    sandbox.burn(noisy, nodeCores);
    sandbox.burn(victim, 1);
    sandbox.burn(throttled, 1);
    sandbox.start(calm, ["sleep", "3600"]);

    const pods = { noisy: ref(noisy), victim: ref(victim), throttled: ref(throttled), calm: ref(calm) };
    options.say(`Started 4 pods in ${NAMESPACE} on ${nodeCores} cores (${layoutResult.value.version} cgroups):`);
    options.say(`  noisy      ${nodeCores} busy threads, requests ${nodeCores} cores`);
    options.say("  victim     1 busy thread, requests 0.1 core");
    options.say("  throttled  1 busy thread, limited to 0.2 core");
    options.say("  calm       sleeping");
    options.say(`Scanning every ${options.intervalMs} ms for ${Math.round(options.durationMs / 1000)} s ...`);

    const result = await runScan({
      cgroupRoot: options.cgroupRoot,
      procRoot: options.procRoot,
      intervalMs: options.intervalMs,
      windowMs: options.windowMs,
      durationMs: options.durationMs,
      logger: options.logger,
      podNames: new Map(Object.values(pods).map((pod) => [pod.uid, pod])),
      ...(options.dbPath === undefined ? {} : { dbPath: options.dbPath }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      onTick: (analysis) => {
        for (const finding of analysis.raised) options.say(`  + ${finding.rule} on ${podLabel(finding.pod)}: ${finding.message}`);
        for (const finding of analysis.cleared) options.say(`  - ${finding.rule} cleared on ${podLabel(finding.pod)}`);
      },
    });
    const missed = explain(result.findings, pods, options.say);
    return { result, pods, missed };
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    await cleanup();
    options.say("Removed the demo pods' cgroups and processes.");
  }
}

function ref(pod: SandboxPod): PodRef {
  return { uid: pod.uid, namespace: NAMESPACE, name: pod.name };
}

function explain(findings: readonly Finding[], pods: DemoOutcome["pods"], say: (line: string) => void): string[] {
  const missed: string[] = [];
  const on = (pod: PodRef, rule: string): Finding | undefined => findings.find((f) => f.pod.uid === pod.uid && f.rule === rule);
  say("");
  say("What Xander found:");
  const throttling = on(pods.throttled, "CPUThrottling");
  if (throttling) say(`  ${podLabel(pods.throttled)} is throttled by its own CPU limit: ${throttling.message}.`);
  else missed.push(`CPUThrottling on ${podLabel(pods.throttled)}`);
  if (on(pods.throttled, "CPUStarvation")) missed.push(`no CPUStarvation on ${podLabel(pods.throttled)} (it is self-throttled)`);

  const starvation = on(pods.victim, "CPUStarvation");
  if (starvation?.culprit) {
    say(`  ${podLabel(pods.victim)} is starved of CPU by a noisy neighbour: ${starvation.message}.`);
    say(`    culprit ${podLabel(starvation.culprit.pod)} (score ${starvation.culprit.score}): ${starvation.culprit.evidence}`);
  }
  if (starvation?.culprit?.pod.uid !== pods.noisy.uid) missed.push(`CPUStarvation on ${podLabel(pods.victim)} naming ${podLabel(pods.noisy)}`);

  const calmFindings = findings.filter((f) => f.pod.uid === pods.calm.uid);
  if (calmFindings.length === 0) say(`  ${podLabel(pods.calm)} has no findings.`);
  else missed.push(`no findings on ${podLabel(pods.calm)} (got ${calmFindings.map((f) => f.rule).join(", ")})`);
  for (const miss of missed) say(`  MISSED: ${miss}`);
  const outside = Math.max(0, ...findings.map((f) => Number(f.evidence?.outsidePodsCores ?? 0)));
  if (missed.length > 0 && outside >= 0.5) {
    say(`  This node was busy outside pods (${outside.toFixed(2)} cores for other processes), so the demo pods starved each other less than they were starved by it. Run the demo on an idle node.`);
  }
  return missed;
}
