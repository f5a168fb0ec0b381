import { existsSync } from "node:fs";
import type { Command } from "commander";
import { bytes, pct } from "../analysis/format.js";
import { ScanError } from "../engine/scan.js";
import type { ContainerSample } from "../sampler/types.js";
import { openStore } from "../store/index.js";
import type { Resolution } from "../store/index.js";
import { createLogger } from "../util/log.js";
import { durationOption, formatTable, outputOption } from "./options.js";

interface QueryFlags {
  db: string;
  pod: string;
  since: number;
  resolution: Resolution | "auto";
  output: "table" | "json";
}

export function registerQueryCommand(program: Command): void {
  program
    .command("query")
    .description("print a pod's stored series from a local history file")
    .requiredOption("--db <file>", "SQLite history file written by scan or the agent")
    .requiredOption("--pod <uid>", "pod UID")
    .option("--since <duration>", "how far back", durationOption, 600_000)
    .option("--resolution <res>", "raw, 1m or auto", "auto")
    .option("-o, --output <format>", "table or json", outputOption, "table")
    .action((flags: QueryFlags) => {
      if (!existsSync(flags.db)) throw new ScanError(`no history file at ${flags.db} (run xander scan first, or pass --db)`);
      if (!["raw", "1m", "auto"].includes(flags.resolution)) throw new ScanError(`unknown resolution "${flags.resolution}" (use raw, 1m or auto)`);
      const store = openStore(flags.db, { logger: createLogger("query") });
      try {
        const series = store.podSeries(flags.pod, Date.now() - flags.since, { resolution: flags.resolution });
        if (flags.output === "json") {
          console.log(JSON.stringify(series, null, 2));
          return;
        }
        const rows = series.containers.flatMap((container) =>
          (container.points as readonly ContainerSample[]).map((point) => sampleRow(container.target.containerName ?? container.target.containerId.slice(0, 12), point)),
        );
        if (rows.length === 0) {
          console.log(`No samples for pod ${flags.pod} in ${flags.db} over that span.`);
          return;
        }
        console.log(`pod ${flags.pod}, ${series.resolution} resolution`);
        console.log(formatTable(["TIME", "CONTAINER", "CPU", "THROTTLED", "CPU-PSI", "MEM-PSI", "IO-PSI", "WORKING-SET", "OF-LIMIT", "OOM"], rows));
      } finally {
        store.close();
      }
    });
}

function sampleRow(container: string, point: ContainerSample): string[] {
  const share = (value: number | undefined | null): string => (value === undefined || value === null ? "-" : pct(value));
  return [
    new Date(point.wallMs).toISOString(),
    container,
    point.cpuCores === undefined ? "-" : point.cpuCores.toFixed(2),
    share(point.throttleRatio),
    share(point.cpuStallShare),
    share(point.memoryStallShare),
    share(point.ioStallShare),
    point.workingSetBytes === undefined ? "-" : bytes(point.workingSetBytes),
    share(point.memoryLimitShare),
    String(point.oomKills),
  ];
}
