/**
 * `xander summary|top|incidents|pod`: the read model over the cluster, with the user's own kubeconfig.
 * Tables by default, `-o json` for the same shapes the controller's `/api/v1/*` serves.
 */
import { InvalidArgumentError, type Command } from "commander";
import { RULE_NAMES, type RuleName } from "../analysis/types.js";
import { renderIncidentsTable as incidentsTable, renderPodTable as podTable, renderSummaryTable as summaryTable, renderTopTable as topTable } from "../report/render/table.js";
import { durationFlag, outputOption } from "./options.js";
import { CliError, cliReadService, kubeClient, namespaceOption, podArgument, withAgentFlags, type AgentFlags, type KubeFlags } from "./cluster.js";

interface ViewFlags extends KubeFlags, AgentFlags {
  output: "table" | "json";
  namespace?: string;
}

function ruleOption(text: string): RuleName {
  if (!(RULE_NAMES as readonly string[]).includes(text)) throw new InvalidArgumentError(`unknown rule "${text}" (one of ${RULE_NAMES.join(", ")})`);
  return text as RuleName;
}

function limitOption(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`"${text}" is not a positive whole number`);
  return n;
}

function print(output: "table" | "json", view: unknown, table: () => string): void {
  console.log(output === "json" ? JSON.stringify(view, null, 2) : table());
}

function skippedNote(skipped: readonly { node: string; reason: string }[]): void {
  for (const s of skipped) console.error(`warning: node ${s.node} not read: ${s.reason}`);
}

export function registerClusterViewCommands(program: Command): void {
  withAgentFlags(
    program
      .command("summary")
      .description("nodes reporting and stale, open findings by severity, rule and namespace, incidents in the last 24 h, the worst workloads")
      .option("-o, --output <format>", "table or json", outputOption, "table"),
  ).action(async (flags: ViewFlags) => {
    const view = await cliReadService(kubeClient(flags), flags).summary();
    print(flags.output, view, () => summaryTable(view));
  });

  withAgentFlags(
    program
      .command("top")
      .description("the open risks, worst first: workload, rule, value against threshold, since when, culprit and callers")
      .option("-n, --namespace <namespace>", "only this namespace", namespaceOption)
      .option("--limit <n>", "at most this many rows", limitOption, 20)
      .option("-o, --output <format>", "table or json", outputOption, "table"),
  ).action(async (flags: ViewFlags & { limit: number }) => {
    const view = await cliReadService(kubeClient(flags), flags).top({ limit: flags.limit, ...(flags.namespace === undefined ? {} : { namespace: flags.namespace }) });
    print(flags.output, view, () => topTable(view));
  });

  withAgentFlags(
    program
      .command("incidents")
      .description("incidents, open and closed, newest first, with duration, peak and culprit (beyond 24 h read from the agents' histories)")
      .addOption(durationFlag("--since <duration>", "how far back", "24h"))
      .option("-n, --namespace <namespace>", "only this namespace", namespaceOption)
      .option("--rule <rule>", "only this rule", ruleOption)
      .option("--pod <namespace/name>", "only this pod")
      .option("--node <name>", "only this node")
      .option("--limit <n>", "at most this many rows", limitOption, 100)
      .option("-o, --output <format>", "table or json", outputOption, "table"),
  ).action(async (flags: ViewFlags & { since: number; rule?: RuleName; pod?: string; node?: string; limit: number }) => {
    if (flags.pod !== undefined) podArgument(flags.pod);
    const view = await cliReadService(kubeClient(flags), flags).incidents({
      sinceAgoMs: flags.since,
      limit: flags.limit,
      ...(flags.namespace === undefined ? {} : { namespace: flags.namespace }),
      ...(flags.rule === undefined ? {} : { rule: flags.rule }),
      ...(flags.pod === undefined ? {} : { pod: flags.pod }),
      ...(flags.node === undefined ? {} : { node: flags.node }),
    });
    skippedNote(view.skipped);
    print(flags.output, view, () => incidentsTable(view));
  });

  withAgentFlags(
    program
      .command("pod")
      .argument("<namespace/name>", "the pod")
      .description("a pod's recent series (cores against limit, throttling, CPU, memory and IO stall, working set), its incidents, callers, and rightsizing advice")
      .addOption(durationFlag("--since <duration>", "how far back", "1h"))
      .option("-o, --output <format>", "table or json", outputOption, "table"),
  ).action(async (pod: string, flags: ViewFlags & { since: number }) => {
    const { namespace, name } = podArgument(pod);
    const view = await cliReadService(kubeClient(flags), flags).pod(namespace, name, flags.since);
    skippedNote(view.skipped);
    if (!view.found) throw new CliError(view.message);
    print(flags.output, view, () => podTable(view));
  });
}
