import type { Command } from "commander";
import { podLabel } from "../analysis/format.js";
import { findingToJson } from "../analysis/report.js";
import type { Finding } from "../analysis/types.js";
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
    .action(async (flags: ScanFlags) => {
      const logger = createLogger("scan");
      const controller = new AbortController();
      const stop = (): void => { controller.abort(); };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      const live = flags.duration === undefined && flags.output === "table";
      const result = await runScan({
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
      printScan(result, flags.output);
    });
}

export function printScan(result: ScanResult, output: "table" | "json"): void {
  if (output === "json") {
    console.log(JSON.stringify({ findings: result.findings.map(findingToJson), pods: result.pods, samples: result.samples, layout: result.layout }, null, 2));
    return;
  }
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
