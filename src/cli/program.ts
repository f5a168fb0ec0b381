/**
 * The `xander` command tree, built once for both ways it is run: as `xander`, and as the kubectl plugin
 * `kubectl xander` (the `kubectl-xander` executable on PATH, krew's naming), where help shows the name the
 * user typed.
 */
import { Command } from "commander";
import { VERSION } from "../version.js";
import { registerAgentCommand } from "./agent.js";
import { registerClusterViewCommands } from "./views.js";
import { registerControllerCommand } from "./controller.js";
import { registerDashboardCommand } from "./dashboard.js";
import { registerDemoCommand } from "./demo.js";
import { registerDepsCommand } from "./deps.js";
import { registerQueryCommand } from "./query.js";
import { registerReportCommand } from "./report.js";
import { registerScanCommand } from "./scan.js";
import { CliError } from "./cluster.js";
import { ScanError } from "../engine/scan.js";

export function buildProgram(name: "xander" | "kubectl xander"): Command {
  const program = new Command()
    .name(name)
    .description("Finds starved Kubernetes pods, names the noisy neighbour, and maps hidden dependencies between pods.")
    .version(VERSION)
    .showHelpAfterError()
    .addHelpText(
      "after",
      `
Examples:
  ${name} summary                         # nodes reporting, open findings, incidents today, worst workloads
  ${name} top -n shop                     # the worst open risks in namespace shop, with culprit and callers
  ${name} incidents --since 24h --rule CPUStarvation
  ${name} pod shop/orders-7d9f-abcde      # a pod's series, incidents, callers and rightsizing advice
  ${name} report --since 7d -o md --output-file report.md
  ${name} deps shop/api                   # who calls shop/api, cluster-wide
  ${name} dashboard                       # the dashboard on http://127.0.0.1:7080/, with your kubeconfig
  xander demo                          # real noisy neighbour + throttling in throwaway cgroups (root)
  xander scan --duration 30s           # sample this node's pod cgroups for 30 s and print findings

Durations accept 500ms, 1s, 5m, 12h, 7d.`,
    );
  registerClusterViewCommands(program);
  registerReportCommand(program);
  registerDepsCommand(program);
  registerDashboardCommand(program);
  registerScanCommand(program);
  registerDemoCommand(program);
  registerQueryCommand(program);
  registerAgentCommand(program);
  registerControllerCommand(program);
  return program;
}

/** Runs the program; errors the user can act on print one line and exit 1, anything else is a bug worth a stack. */
export function run(program: Command, argv: readonly string[]): void {
  program.parseAsync([...argv]).catch((error: unknown) => {
    if (error instanceof ScanError || error instanceof CliError) console.error(`${program.name()}: ${error.message}`);
    else console.error(error);
    process.exitCode = 1;
  });
}
