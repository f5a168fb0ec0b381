/**
 * The `xander` command tree, built once for both ways it is run: as `xander`, and as the kubectl plugin
 * `kubectl xander` (the `kubectl-xander` executable on PATH, krew's naming), where help shows the name the
 * user typed.
 */
import { Command } from "commander";
import { ScanError } from "../engine/scan-error.js";
import { VERSION } from "../version.js";
import { CliError } from "./errors.js";

type Register = (program: Command) => void;

/**
 * Each command's module, loaded only when that command runs. The cluster commands bring the Kubernetes client,
 * about 75 MB of resident memory on its own, which `scan` and `demo` never use. Help for the whole tree loads
 * them all. The names are written here so the choice needs no module; a test checks them against what each
 * module registers.
 */
export const COMMAND_MODULES: readonly { readonly names: readonly string[]; readonly load: () => Promise<Register> }[] = [
  { names: ["summary", "top", "incidents", "pod"], load: async () => (await import("./views.js")).registerClusterViewCommands },
  { names: ["report"], load: async () => (await import("./report.js")).registerReportCommand },
  { names: ["deps"], load: async () => (await import("./deps.js")).registerDepsCommand },
  { names: ["dashboard"], load: async () => (await import("./dashboard.js")).registerDashboardCommand },
  { names: ["scan"], load: async () => (await import("./scan.js")).registerScanCommand },
  { names: ["demo"], load: async () => (await import("./demo.js")).registerDemoCommand },
  { names: ["query"], load: async () => (await import("./query.js")).registerQueryCommand },
  { names: ["agent"], load: async () => (await import("./agent.js")).registerAgentCommand },
  { names: ["controller"], load: async () => (await import("./controller.js")).registerControllerCommand },
];

/** The command `argv` runs (`xander help scan` asks about scan), or undefined for the whole tree. */
export function requestedCommand(argv: readonly string[]): string | undefined {
  const words = argv.slice(2).filter((word) => !word.startsWith("-"));
  return words[0] === "help" ? words[1] : words[0];
}

/** The command tree with the modules `argv` needs: one command's, or every one's for help and mistakes. */
export async function buildProgram(name: "xander" | "kubectl xander", argv: readonly string[] = []): Promise<Command> {
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
  const requested = requestedCommand(argv);
  const only = COMMAND_MODULES.filter((module) => requested !== undefined && module.names.includes(requested));
  for (const module of only.length > 0 ? only : COMMAND_MODULES) (await module.load())(program);
  return program;
}

/** Runs the program; errors the user can act on print one line and exit 1, anything else is a bug worth a stack. */
export function run(name: "xander" | "kubectl xander", argv: readonly string[]): void {
  buildProgram(name, argv)
    .then((program) => program.parseAsync([...argv]))
    .catch((error: unknown) => {
      if (error instanceof ScanError || error instanceof CliError) console.error(`${name}: ${error.message}`);
      else console.error(error);
      process.exitCode = 1;
    });
}
