/**
 * `xander report`: what happened over a span, per starved workload, and what to change. From the cluster
 * (NodeFindings plus the agents' histories, with the user's own credentials), or offline from a `scan`
 * history file with `--db`. `--watch` writes a fresh report whenever the set of open findings changes.
 */
import { existsSync, renameSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { InvalidArgumentError, type Command } from "commander";
import type { Incident } from "../analysis/incident.js";
import type { PodHistory } from "../api/history.js";
import type { NodeFindings } from "../api/types.generated.js";
import { adviseCulpritEntries, adviseEntries } from "../controller/advice-adapter.js";
import { podHistoryOf } from "../engine/history-json.js";
import { NODE_FINDINGS_KIND } from "../kube/resources.js";
import { reportAdviceCsv, reportIncidentsCsv } from "../report/render/csv.js";
import { renderReportHtml } from "../report/render/html.js";
import { renderJson } from "../report/render/json.js";
import { renderReportMarkdown } from "../report/render/markdown.js";
import { report as reportView } from "../report/report.js";
import type { ReportView } from "../report/types.js";
import { openStore } from "../store/index.js";
import { createLogger } from "../util/log.js";
import { sleepUntil } from "../util/time.js";
import { durationFlag } from "./options.js";
import { CliError, cliReadService, clusterError, kubeClient, namespaceOption, withAgentFlags, type AgentFlags, type KubeFlags } from "./cluster.js";

type ReportFormat = "md" | "json" | "csv" | "incidents-csv" | "html";

interface ReportFlags extends KubeFlags, AgentFlags {
  since: number;
  namespace?: string;
  output: ReportFormat;
  outputFile?: string;
  watch?: boolean;
  watchInterval: number;
  db?: string;
}

function formatOption(text: string): ReportFormat {
  if (text === "md" || text === "markdown") return "md";
  if (text === "json" || text === "csv" || text === "incidents-csv" || text === "html") return text;
  throw new InvalidArgumentError(`unknown format "${text}" (use md, json, csv, incidents-csv or html)`);
}

export function render(view: ReportView, format: ReportFormat): string {
  switch (format) {
    case "json":
      return renderJson(view);
    case "csv":
      return reportAdviceCsv(view);
    case "incidents-csv":
      return reportIncidentsCsv(view);
    case "html":
      return renderReportHtml(view);
    case "md":
      return renderReportMarkdown(view);
  }
}

/** Written whole or not at all: a reader of the file never sees half a report. */
function emit(text: string, outputFile: string | undefined): void {
  if (outputFile === undefined) {
    process.stdout.write(text);
    return;
  }
  const partial = `${outputFile}.partial`;
  writeFileSync(partial, text);
  renameSync(partial, outputFile);
}

export function registerReportCommand(program: Command): void {
  withAgentFlags(
    program
      .command("report")
      .description("per starved workload: incidents, starved time, worst peak, culprits, callers, evidence, and rightsizing advice")
      .addOption(durationFlag("--since <duration>", "the span to report on", "7d"))
      .option("-n, --namespace <namespace>", "only workloads in this namespace", namespaceOption)
      .option("-o, --output <format>", "md, json, csv (advice per container), incidents-csv (one row per incident) or html", formatOption, "md")
      .option("--output-file <file>", "write the report here instead of to stdout")
      .option("--watch", "keep running, and write a fresh report whenever the set of open findings changes")
      .addOption(durationFlag("--watch-interval <duration>", "how often --watch looks at the findings", "10s"))
      .option("--db <file>", "report offline from a `xander scan` history file, with no cluster"),
  ).action(async (flags: ReportFlags) => {
    if (flags.db !== undefined) {
      if (flags.watch === true) throw new CliError("--watch reads the cluster; it cannot be used with --db");
      emit(render(offlineReport(flags.db, flags.since, flags.namespace), flags.output), flags.outputFile);
      return;
    }
    const client = kubeClient(flags);
    const make = async (): Promise<string> => render(await cliReadService(client, flags).report({ spanMs: flags.since, ...(flags.namespace === undefined ? {} : { namespace: flags.namespace }) }), flags.output);
    if (flags.watch !== true) {
      emit(await make(), flags.outputFile);
      return;
    }
    await watch(flags, async () => {
      try {
        return openFindingsKey((await client.list<NodeFindings>(NODE_FINDINGS_KIND)).items);
      } catch (error) {
        throw clusterError(client, error);
      }
    }, make);
  });
}

/** Which findings are open, cluster-wide: a change here is what makes a new report worth writing. */
export function openFindingsKey(nodeFindings: readonly NodeFindings[]): string {
  return nodeFindings
    .flatMap((nf) => (nf.status?.findings ?? []).map((f) => `${nf.metadata.name ?? ""}|${f.rule}|${f.pod?.uid ?? ""}|${f.container ?? ""}`))
    .sort()
    .join("\n");
}

async function watch(flags: ReportFlags, key: () => Promise<string>, make: () => Promise<string>): Promise<void> {
  const stop = new AbortController();
  process.once("SIGINT", () => { stop.abort(); });
  process.once("SIGTERM", () => { stop.abort(); });
  let last: string | undefined;
  while (!stop.signal.aborted) {
    const startedMs = Date.now();
    const now = await key().catch((error: unknown) => {
      // A cluster that goes away for a while is waited out, not the end of the watch.
      console.error(`xander: ${error instanceof Error ? error.message : String(error)}; trying again`);
      return last;
    });
    if (now !== undefined && now !== last) {
      emit(await make(), flags.outputFile);
      if (flags.outputFile !== undefined) console.error(`${new Date().toISOString()} wrote ${flags.outputFile}`);
      last = now;
    }
    await sleepUntil(startedMs + flags.watchInterval, stop.signal);
  }
}

/** The same report from a `scan` history: incidents and series from the file, no cluster. */
export function offlineReport(db: string, spanMs: number, namespace: string | undefined, nowMs = Date.now()): ReportView {
  if (!existsSync(db)) throw new CliError(`no history file at ${db} (run xander scan --db ${db} first)`);
  const store = openStore(db, { logger: createLogger("report") });
  try {
    const named = (incident: Incident): Incident => ({
      ...incident,
      pod: { ...incident.pod, namespace: incident.pod.namespace ?? "-", name: incident.pod.name ?? `pod-${incident.pod.uid.slice(0, 8)}` },
    });
    const incidents = store
      .incidents({ sinceMs: nowMs - spanMs, limit: 100_000, ...(namespace === undefined ? {} : { namespace }) })
      .map(named);
    const histories = new Map<string, PodHistory[]>();
    const pods = incidents.flatMap((incident) => [incident.pod, ...incident.culprits.map((c) => c.pod)]);
    for (const pod of pods) {
      const namespace = pod.namespace ?? "-";
      const name = pod.name ?? `pod-${pod.uid.slice(0, 8)}`;
      if (histories.has(`${namespace}/${name}`)) continue;
      histories.set(`${namespace}/${name}`, [podHistoryOf(hostname(), { namespace, name, uid: pod.uid }, store.podSeries(pod.uid, nowMs - spanMs), nowMs - spanMs)]);
    }
    return reportView({ nodeFindings: [], nowMs, heartbeatMs: 60_000, spanMs, incidents, histories, advise: adviseEntries, adviseCulprit: adviseCulpritEntries });
  } finally {
    store.close();
  }
}
