// promtool, built from Go modules by hack/build-promtool.sh into the same cache as the control plane.
// A missing promtool fails the tests that need it with the command that builds it: they never skip.
import { join } from "node:path";
import type { Registry } from "prom-client";
import { repoRoot } from "../../cluster/index.js";
import { run, type RunResult } from "./chart.js";

let promtoolPath: string | undefined;

/** The promtool of hack/build-promtool.sh; throws, naming the way out, when it has not been built. */
export async function promtoolBinary(): Promise<string> {
  if (promtoolPath !== undefined) return promtoolPath;
  const probe = await run("bash", [join(repoRoot, "hack", "build-promtool.sh"), "--print"]);
  const dir = /^PROMTOOL_BIN=(.+)$/m.exec(probe.stdout)?.[1];
  if (probe.code !== 0 || dir === undefined) {
    throw new Error(`promtool is not built (expected in ${dir ?? "the Xander cache"}): run hack/build-promtool.sh (npm run promtool:build), which .ci/run does before the tests`);
  }
  promtoolPath = join(dir, "promtool");
  return promtoolPath;
}

export async function promtool(args: readonly string[], input = ""): Promise<RunResult> {
  return run(await promtoolBinary(), args, {}, input);
}

/** Labels Prometheus adds to every series it scrapes from an agent through the chart's PodMonitor. */
export type TargetLabels = Readonly<Record<string, string>>;

const escapeLabel = (value: string): string => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

/**
 * The series of a registry as Prometheus stores them after a scrape, in promtool's series notation:
 * `name{label="value",...}`, with the target's labels added and empty labels left out (Prometheus
 * treats an empty label as absent). Histograms are left out; the rules read none.
 */
export async function scrapedSeries(registry: Registry, names: readonly string[], target: TargetLabels): Promise<string[]> {
  const out: string[] = [];
  for (const metric of await registry.getMetricsAsJSON()) {
    if (!names.includes(metric.name)) continue;
    for (const value of metric.values) {
      const labels = { ...Object.fromEntries(Object.entries(value.labels).map(([k, v]) => [k, String(v)])), ...target };
      const text = Object.entries(labels)
        .filter(([, v]) => v !== "")
        .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
        .join(",");
      out.push(`${metric.name}{${text}}`);
    }
  }
  return out;
}
