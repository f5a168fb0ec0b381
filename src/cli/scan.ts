import type { Command } from "commander";
import { podLabel } from "../analysis/format.js";
import { findingToJson } from "../analysis/report.js";
import type { Finding } from "../analysis/types.js";
import { runDependencyScan, type DependencyScanResult } from "../engine/dependencies.js";
import { runScan, type ScanResult } from "../engine/scan.js";
import { formatDuration } from "../util/duration.js";
import { createLogger } from "../util/log.js";
import { durationOption, formatTable, outputOption } from "./options.js";

interface ScanFlags {
  cgroupRoot: string;
  procRoot: string;
  interval: number;
  window: number;
  duration?: number;
  db: string;
  history: boolean;
  output: "table" | "json";
  deps: boolean;
  depsInterval: number;
}

export function registerScanCommand(program: Command): void {
  program
    .command("scan")
    .description("sample every pod cgroup on this host, keep local history, and print starvation findings")
    .option("--cgroup-root <dir>", "cgroup filesystem root", "/sys/fs/cgroup")
    .option("--proc-root <dir>", "proc filesystem root (for node-wide PSI)", "/proc")
    .option("--interval <duration>", "sampling interval", durationOption, 1000)
    .option("--window <duration>", "rolling window the rules look at", durationOption, 5000)
    .option("--duration <duration>", "stop after this long (default: run until interrupted, printing changes)", durationOption)
    .option("--db <file>", "SQLite history file", "./xander.db")
    .option("--no-history", "keep no history file")
    .option("-o, --output <format>", "table or json", outputOption, "table")
    .option("--deps", "also map pod-to-pod TCP connections (peers by IP: there is no API to name them)", false)
    .option("--deps-interval <duration>", "time between two reads of the pods' connection tables", durationOption, 10_000)
    .action(async (flags: ScanFlags) => {
      const logger = createLogger("scan");
      const controller = new AbortController();
      const stop = (): void => { controller.abort(); };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      const live = flags.duration === undefined && flags.output === "table";
      // Either failing stops the other, so an error is never left waiting for the duration.
      const abortOnError = <T>(promise: Promise<T>): Promise<T> =>
        promise.catch((error: unknown) => {
          controller.abort();
          throw error;
        });
      const dependencies = flags.deps
        ? runDependencyScan({
            cgroupRoot: flags.cgroupRoot,
            procRoot: flags.procRoot,
            intervalMs: flags.depsInterval,
            ...(flags.duration === undefined ? {} : { durationMs: flags.duration }),
            signal: controller.signal,
            logger,
          })
        : undefined;
      const scan = runScan({
        cgroupRoot: flags.cgroupRoot,
        procRoot: flags.procRoot,
        intervalMs: flags.interval,
        windowMs: flags.window,
        ...(flags.duration === undefined ? {} : { durationMs: flags.duration }),
        ...(flags.history ? { dbPath: flags.db } : {}),
        logger,
        signal: controller.signal,
        onTick: live
          ? (analysis) => {
              for (const finding of analysis.raised) console.log(`${new Date().toISOString()} RAISED  ${finding.rule} ${podLabel(finding.pod)}: ${finding.message}`);
              for (const finding of analysis.cleared) console.log(`${new Date().toISOString()} CLEARED ${finding.rule} ${podLabel(finding.pod)}`);
            }
          : undefined,
      });
      const [result, deps] = await Promise.all([abortOnError(scan), dependencies === undefined ? undefined : abortOnError(dependencies)]);
      printScan(result, flags.output, deps);
    });
}

export function printScan(result: ScanResult, output: "table" | "json", dependencies?: DependencyScanResult): void {
  if (output === "json") {
    const deps = dependencies === undefined ? {} : { dependencies: dependencies.edges, hostNetworkPods: dependencies.hostNetwork };
    console.log(JSON.stringify({ findings: result.findings.map(findingToJson), pods: result.pods, samples: result.samples, layout: result.layout, ...deps }, null, 2));
    return;
  }
  printFindings(result);
  if (dependencies !== undefined) printDependencies(dependencies, Date.now());
}

function printFindings(result: ScanResult): void {
  if (result.pods === 0) {
    console.log(`No kubelet pod cgroups found under ${result.layout.root}. Is this a Kubernetes node, and is --cgroup-root right?`);
    return;
  }
  console.log(`${result.pods} pods, ${result.samples} samples, ${result.layout.version} cgroups at ${result.layout.root}`);
  if (result.findings.length === 0) {
    console.log("No findings: no pod is starved.");
    return;
  }
  console.log(formatTable(["SEVERITY", "RULE", "POD", "CONTAINER", "VALUE", "FOR", "CULPRIT", "MESSAGE"], result.findings.map(findingRow)));
}

function findingRow(finding: Finding): string[] {
  return [
    finding.severity,
    finding.rule,
    podLabel(finding.pod),
    (finding.container ?? "").slice(0, 16),
    String(Math.round(finding.value * 100) / 100),
    formatDuration(finding.lastSeenMs - finding.firstSeenMs),
    finding.culprit ? `${podLabel(finding.culprit.pod)} (${finding.culprit.score})` : "",
    finding.message,
  ];
}

/** The node's edges after the findings: pods by UID and peers by IP, as the kernel shows them. */
export function printDependencies(deps: DependencyScanResult, nowMs: number): void {
  console.log("");
  if (deps.edges.length === 0) {
    console.log(`No pod-to-pod connections seen in ${deps.polls} ${deps.polls === 1 ? "read" : "reads"} of the pods' TCP tables.`);
    return;
  }
  const rows = deps.edges.map((e) => [
    e.fromPodUid,
    e.direction,
    e.direction === "outbound" ? `${e.peer.ip}:${e.peer.port}` : e.peer.ip,
    e.direction === "outbound" ? "-" : String(e.localPort),
    String(e.connections),
    String(e.recentConnections),
    `${formatDuration(Math.max(0, nowMs - e.lastSeenMs))} ago`,
  ]);
  console.log(formatTable(["POD", "DIRECTION", "PEER", "LISTEN PORT", "OPEN", "RECENT", "LAST SEEN"], rows));
  if (deps.hostNetwork.length > 0) console.log(`hostNetwork pods (the node's sockets, not theirs): ${deps.hostNetwork.join(", ")}`);
}
