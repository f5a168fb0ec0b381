#!/usr/bin/env node
import { Command } from "commander";
import { ScanError } from "../engine/scan.js";
import { VERSION } from "../version.js";
import { registerAgentCommand } from "./agent.js";
import { registerControllerCommand } from "./controller.js";
import { registerDemoCommand } from "./demo.js";
import { registerDepsCommand } from "./deps.js";
import { registerQueryCommand } from "./query.js";
import { registerScanCommand } from "./scan.js";

const program = new Command()
  .name("xander")
  .description("Finds starved Kubernetes pods, names the noisy neighbour, and maps hidden dependencies between pods.")
  .version(VERSION)
  .showHelpAfterError()
  .addHelpText(
    "after",
    `
Examples:
  xander demo                          # real noisy neighbour + throttling in throwaway cgroups (root)
  xander scan --duration 30s           # sample this node's pod cgroups for 30 s and print findings
  xander scan -o json --duration 10s   # the same, as JSON
  xander query --db xander.db --pod <uid> --since 10m
  xander scan --deps --duration 30s    # also map this node's pod-to-pod connections (by IP)
  xander deps shop/api                 # who calls shop/api, cluster-wide, from NodeFindings

Durations accept 500ms, 1s, 5m, 12h.`,
  );

registerScanCommand(program);
registerDemoCommand(program);
registerQueryCommand(program);
registerAgentCommand(program);
registerDepsCommand(program);
registerControllerCommand(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  // Errors the user can act on carry their own message; anything else is a bug worth a stack.
  if (error instanceof ScanError) console.error(`xander: ${error.message}`);
  else console.error(error);
  process.exitCode = 1;
});
