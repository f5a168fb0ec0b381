import { writeFileSync } from "node:fs";
import { benchControllerScale } from "./controller-scale.js";
import { benchDashboard } from "./dashboard.js";
import { benchShortConnections } from "./deps.js";
import { benchIncidents } from "./incidents.js";
import { benchMetrics } from "./metrics.js";
import { benchPeerCache } from "./peer-cache.js";
import { benchProcess } from "./process.js";
import { benchReadModel } from "./read-model.js";
import { benchStatusSize } from "./status-size.js";
import { benchStore } from "./store.js";
import { benchTickFixture, benchTickRealCgroups } from "./tick.js";
import type { BenchResult } from "./types.js";

/**
 * `npm run bench`: measures tick cost, SQLite ingest, window and incident queries and history size, prints a
 * table, and writes bench-results.json. Each number carries its method; BENCHMARKS.md explains them.
 * Suites that take half an hour or a control plane run only when named (`npm run bench -- process`,
 * `npm run bench -- controller-scale`).
 */
async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const suites: [string, () => Promise<BenchResult[]>][] = [
    ["tick-fixture", benchTickFixture],
    ["tick-real", () => benchTickRealCgroups()],
    ["store", () => benchStore()],
    ["deps", () => benchShortConnections()],
    ["peer-cache", () => benchPeerCache()],
    ["status-size", () => benchStatusSize()],
    ["incidents", () => benchIncidents()],
    ["read-model", () => benchReadModel()],
    ["dashboard", () => benchDashboard()],
    ["metrics", () => benchMetrics()],
  ];
  const optIn: [string, () => Promise<BenchResult[]>][] = [
    ["process", () => benchProcess()],
    ["controller-scale", () => benchControllerScale()],
  ];
  const all: BenchResult[] = [];
  for (const [name, run] of [...suites, ...optIn.filter(([name]) => only.includes(name))]) {
    if (only.length > 0 && !only.includes(name)) continue;
    console.error(`running ${name} ...`);
    all.push(...(await run()));
  }
  for (const result of all) {
    const verdict = result.pass === undefined ? "" : result.pass ? "ok" : "MISSED";
    console.log(`${result.name.padEnd(62)} ${String(result.value).padStart(12)} ${result.unit.padEnd(14)} ${(result.target ?? "").padEnd(10)} ${verdict}`);
  }
  writeFileSync("bench-results.json", JSON.stringify(all, null, 2));
  if (all.some((result) => result.pass === false)) process.exitCode = 1;
}

await main();
