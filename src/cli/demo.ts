import type { Command } from "commander";
import { runDemo } from "../demo/demo.js";
import { createLogger } from "../util/log.js";
import { durationOption, outputOption } from "./options.js";
import { printScan } from "./scan.js";

interface DemoFlags {
  cgroupRoot: string;
  procRoot: string;
  duration: number;
  interval: number;
  window: number;
  db?: string;
  output: "table" | "json";
}

export function registerDemoCommand(program: Command): void {
  program
    .command("demo")
    .description("create a real noisy-neighbour and CPU-throttling scenario in throwaway cgroups, detect it, and clean up (needs root)")
    .option("--cgroup-root <dir>", "cgroup filesystem root", "/sys/fs/cgroup")
    .option("--proc-root <dir>", "proc filesystem root", "/proc")
    .option("--duration <duration>", "how long to run the scenario", durationOption, 20000)
    .option("--interval <duration>", "sampling interval", durationOption, 1000)
    .option("--window <duration>", "rolling window the rules look at", durationOption, 5000)
    .option("--db <file>", "also keep the history in this SQLite file")
    .option("-o, --output <format>", "table or json for the final findings", outputOption, "table")
    .action(async (flags: DemoFlags) => {
      const controller = new AbortController();
      const outcome = await runDemo({
        cgroupRoot: flags.cgroupRoot,
        procRoot: flags.procRoot,
        durationMs: flags.duration,
        intervalMs: flags.interval,
        windowMs: flags.window,
        ...(flags.db === undefined ? {} : { dbPath: flags.db }),
        logger: createLogger("demo"),
        signal: controller.signal,
        say: flags.output === "json" ? (line) => { console.error(line); } : (line) => { console.log(line); },
      });
      console.log("");
      printScan(outcome.result, flags.output);
      if (outcome.missed.length > 0) process.exitCode = 1;
    });
}
