import { cpus, hostname } from "node:os";
import { detectLayout } from "../cgroup/layout.js";
import { discoverPods, discoveryMount } from "../cgroup/discover.js";
import type { CgroupLayout } from "../cgroup/types.js";
import type { AnalysisResult } from "../analysis/analyzer.js";
import type { Finding, PodRef } from "../analysis/types.js";
import { openStore, type HistoryStore } from "../store/index.js";
import type { Target } from "../sampler/types.js";
import type { Logger } from "../util/log.js";
import { sleepUntil } from "../util/time.js";
import { keptOpenReader, nodeCountersBoundCgroups, nodeReader } from "./readers.js";
import { NodeEngine } from "./node-engine.js";
import { targetsFromCgroups } from "./targets.js";
import { IncidentRecorder } from "./incidents.js";
import { ScanError } from "./scan-error.js";

export interface ScanOptions {
  readonly cgroupRoot: string;
  readonly procRoot: string;
  readonly intervalMs: number;
  readonly windowMs: number;
  /** Stop after this long; undefined runs until `signal` aborts. */
  readonly durationMs?: number;
  /** SQLite history; undefined keeps no history. */
  readonly dbPath?: string;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
  /** Names for pods the caller knows (the demo does); scan alone knows pods by UID. */
  readonly podNames?: ReadonlyMap<string, PodRef>;
  /** Called after every tick, e.g. to print changes as they happen. */
  readonly onTick?: (result: AnalysisResult, targets: readonly Target[]) => void;
}

export interface ScanResult {
  readonly layout: CgroupLayout;
  /** Findings active at the end, plus every OOMKill seen during the run. */
  readonly findings: readonly Finding[];
  readonly pods: number;
  readonly samples: number;
}

export { ScanError };

/** How often the cgroup tree is walked again for new or removed pods, in ticks. */
const REDISCOVER_EVERY_TICKS = 5;

/** Runs the node pipeline on this host's cgroups: `xander scan` and `xander demo`. */
export async function runScan(options: ScanOptions): Promise<ScanResult> {
  const layoutResult = await detectLayout(options.cgroupRoot);
  if (!layoutResult.ok) throw new ScanError(layoutResult.error.message);
  const layout = layoutResult.value;
  const podMount = discoveryMount(layout);
  if (podMount === undefined) throw new ScanError(`no cpu, memory or unified cgroup hierarchy under ${options.cgroupRoot} to find pods in`);
  const store = historyFor(options);
  const reader = keptOpenReader(layout);
  const engine = engineFor(layout, options, store, reader);
  engine.restore();
  const incidents = incidentRecorder(store, options.logger);

  const oomKills: Finding[] = [];
  const discovery = new Discovery(podMount, options);
  let last: AnalysisResult | undefined;
  const deadline = options.durationMs === undefined ? Infinity : Date.now() + options.durationMs;
  try {
    for (let tickIndex = 0; Date.now() < deadline && !options.signal?.aborted; tickIndex++) {
      const startedMs = Date.now();
      const targets = await discovery.targets(tickIndex);
      const { analysis } = await engine.tick(targets, startedMs);
      last = analysis;
      incidents?.update(analysis, startedMs);
      oomKills.push(...analysis.raised.filter((finding) => finding.rule === "OOMKill"));
      options.onTick?.(analysis, targets);
      await sleepUntil(Math.min(startedMs + options.intervalMs, deadline), options.signal);
    }
  } finally {
    reader.close();
    store?.close();
  }
  return { layout, findings: withEndedOomKills(last?.active ?? [], oomKills), pods: discovery.pods, samples: engine.samples };
}

function historyFor(options: ScanOptions): HistoryStore | undefined {
  return options.dbPath ? openStore(options.dbPath, { logger: options.logger }) : undefined;
}

/** With a history, scan keeps incidents as the agent does, so `xander report --db` can read them offline. */
function incidentRecorder(store: HistoryStore | undefined, logger: Logger): IncidentRecorder | undefined {
  if (!store) return undefined;
  const recorder = new IncidentRecorder({ node: hostname(), store, logger });
  recorder.restore(Date.now());
  return recorder;
}

function engineFor(layout: CgroupLayout, options: ScanOptions, store: HistoryStore | undefined, reader: ReturnType<typeof keptOpenReader>): NodeEngine {
  return new NodeEngine({
    windowMs: options.windowMs,
    nodeCores: cpus().length,
    readCounters: reader.read,
    retainCgroups: reader.retain,
    readNodePressure: nodeReader(options.procRoot),
    nodeBoundsTargets: nodeCountersBoundCgroups(layout, options.procRoot),
    ...(store ? { history: store } : {}),
    logger: options.logger,
  });
}

/** An OOM kill is an event: one seen during the run is reported even after its finding cleared. */
function withEndedOomKills(active: readonly Finding[], oomKills: readonly Finding[]): Finding[] {
  const id = (f: Finding): string => `${f.pod.uid}/${f.container ?? ""}/${f.firstSeenMs}`;
  const stillActive = new Set(active.filter((f) => f.rule === "OOMKill").map(id));
  return [...active, ...oomKills.filter((f) => !stillActive.has(id(f)))];
}

/** Targets from walking the cgroup tree, walked again every few ticks for pods that come and go. */
class Discovery {
  pods = 0;
  private current: Target[] = [];

  constructor(
    private readonly mount: string,
    private readonly options: ScanOptions,
  ) {}

  async targets(tickIndex: number): Promise<Target[]> {
    if (tickIndex % REDISCOVER_EVERY_TICKS !== 0) return this.current;
    const found = await discoverPods(this.mount);
    this.pods = found.length;
    this.current = withNames(targetsFromCgroups(found), this.options.podNames);
    if (tickIndex === 0 && found.length === 0) {
      this.options.logger.info({ root: this.options.cgroupRoot }, "no kubelet pod cgroups found (is this a Kubernetes node, and is --cgroup-root right?)");
    }
    return this.current;
  }
}

function withNames(targets: Target[], names: ReadonlyMap<string, PodRef> | undefined): Target[] {
  if (!names) return targets;
  return targets.map((target) => {
    const pod = names.get(target.podUid);
    if (pod?.name === undefined) return target;
    return { ...target, podName: pod.name, ...(pod.namespace === undefined ? {} : { namespace: pod.namespace }) };
  });
}
