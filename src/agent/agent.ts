/**
 * The DaemonSet agent: pods on this node (from the API) -> cgroups -> sampler -> history -> analysis ->
 * NodeFindings status, Events and /metrics. Two loops run side by side, each at its own interval: sampling
 * (sampling.ts) and dependency mapping (dependencies.ts), so a slow /proc walk never delays a sample.
 * Sampling never waits for the API either: when it is unreachable, history and detection go on and status
 * writes back off (report-writer.ts). This file only builds the pieces and starts and stops them.
 */
import { cpus } from "node:os";
import { discoveryMount } from "../cgroup/discover.js";
import { detectLayout } from "../cgroup/layout.js";
import type { CgroupLayout } from "../cgroup/types.js";
import { DEFAULT_RESUME_GRACE_MS } from "../analysis/incident-tracker.js";
import { IncidentRecorder } from "../engine/incidents.js";
import { NodeEngine } from "../engine/node-engine.js";
import { keptOpenReader, nodeCountersBoundCgroups, nodeReader } from "../engine/readers.js";
import { AccessReviewer } from "../kube/access-review.js";
import type { KubeClient } from "../kube/client.js";
import { metricsAccess, type MetricsAuthorization } from "../server/api.js";
import { startHttpServer, type Readiness, type RunningServer } from "../server/http.js";
import { openStore, type HistoryStore } from "../store/index.js";
import type { Logger } from "../util/log.js";
import { AgentDependencies } from "./dependencies.js";
import { historyRoutes, type HistorySource } from "./history-api.js";
import { HistoryHealth } from "./history-health.js";
import { AgentMetrics } from "./metrics.js";
import { nodeReport } from "./node-report.js";
import { ReportWriter } from "./report-writer.js";
import { DEFAULT_SAMPLING, SamplingLoop } from "./sampling.js";
import { TargetResolver } from "./targets.js";
import { NodeWatches } from "./watches.js";

export interface AgentOptions {
  readonly nodeName: string;
  readonly cgroupRoot: string;
  readonly procRoot: string;
  readonly dbPath: string;
  readonly client: KubeClient;
  readonly logger: Logger;
  readonly version: string;
  /** Listen address for /healthz, /metrics and the history API; undefined serves nothing. */
  readonly metricsAddress?: string;
  /** Who may read /metrics; default `rbac`. */
  readonly metricsAuthorization?: MetricsAuthorization;
  /** Where callers reach the history API (host:port), published in NodeFindings status; default: not published. */
  readonly advertiseAddress?: string;
  /** A PID in the host's network namespace, so hostNetwork pods are told apart (default 1: the node's init, with hostPID). */
  readonly hostPidForNetns?: number;
  /** False: no dependency mapping, whatever the policies say (`--no-dependency-mapping`). Default true. */
  readonly dependencyMapping?: boolean;
}

/** While the history file cannot be opened (a full disk at start), it is tried again this often. */
export const HISTORY_REOPEN_EVERY_MS = 10_000;

export class Agent {
  readonly metrics = new AgentMetrics();
  private readonly store: HistoryStore;
  private readonly reader: ReturnType<typeof keptOpenReader>;
  private readonly engine: NodeEngine;
  private readonly watches: NodeWatches;
  private readonly dependencies: AgentDependencies;
  private readonly incidents: IncidentRecorder;
  private readonly writer: ReportWriter;
  private readonly targets: TargetResolver;
  private readonly sampling: SamplingLoop;
  private readonly stopping = new AbortController();
  private server: RunningServer | undefined;
  private loops: Promise<unknown> | undefined;

  /** Detects the cgroup layout, then builds an agent on it; nothing runs until start(). */
  static async create(options: AgentOptions): Promise<Agent> {
    const layout = await detectLayout(options.cgroupRoot);
    if (!layout.ok) throw new Error(layout.error.message);
    return new Agent(options, layout.value);
  }

  private constructor(
    private readonly options: AgentOptions,
    private readonly layout: CgroupLayout,
  ) {
    const { logger, client, nodeName } = options;
    // A history that cannot be opened must not stop the agent: detection runs from memory meanwhile.
    this.store = openStore(options.dbPath, { logger, reopenEveryMs: HISTORY_REOPEN_EVERY_MS });
    const history = new HistoryHealth(options.dbPath);
    this.reader = keptOpenReader(layout);
    this.engine = new NodeEngine({
      windowMs: DEFAULT_SAMPLING.windowMs,
      nodeCores: cpus().length,
      readCounters: this.reader.read,
      retainCgroups: this.reader.retain,
      readNodePressure: nodeReader(options.procRoot),
      nodeBoundsTargets: nodeCountersBoundCgroups(layout, options.procRoot),
      history: this.store,
      logger,
      bindingFor: () => undefined,
    });
    this.watches = new NodeWatches(client, nodeName, logger);
    this.dependencies = new AgentDependencies({
      client,
      procRoot: options.procRoot,
      cgroupMount: discoveryMount(layout),
      hostPid: options.hostPidForNetns ?? 1,
      store: this.store,
      logger,
      metrics: this.metrics,
      enabled: options.dependencyMapping ?? true,
    });
    this.incidents = new IncidentRecorder({
      node: nodeName,
      store: this.store,
      logger,
      workloadOf: (pod) => this.dependencies.workloadOf(pod.uid) ?? this.watches.ownWorkloadOf(pod.uid),
      callersOf: (pod) => this.dependencies.callersOf(pod.uid),
    });
    this.writer = new ReportWriter(client, nodeName, logger, this.metrics);
    this.targets = new TargetResolver(layout, logger);
    const reportSources = { dependencies: this.dependencies, incidents: this.incidents, logger };
    this.sampling = new SamplingLoop({
      engine: this.engine,
      watches: this.watches,
      targets: this.targets,
      metrics: this.metrics,
      logger,
      history,
      onTick: (analysis, nowMs, reporting) => {
        const agent = {
          version: options.version,
          cgroupLayout: layout.version,
          lastSampleMs: nowMs,
          pods: this.sampling.pods,
          samplesStored: this.store.stats().samplesStored,
          ...(options.advertiseAddress === undefined ? {} : { endpoint: options.advertiseAddress }),
        };
        const report = nodeReport(reportSources, analysis, nowMs, agent, reporting, this.sampling.policies);
        const conditions = history.conditions();
        // A flip of HistoryWritable is material: it is written at once, not at the next heartbeat.
        const fingerprint = `${report.fingerprint}|${conditions.map((c) => `${c.type}=${c.status}`).join(",")}`;
        this.writer.submit({ ...report, conditions, fingerprint }, nowMs, reporting);
      },
    });
  }

  get port(): number | undefined {
    return this.server?.port;
  }

  async start(): Promise<void> {
    const { logger, nodeName, dbPath } = this.options;
    const restored = this.engine.restore();
    if (this.options.dependencyMapping === false) logger.info("dependency mapping off (--no-dependency-mapping): no /proc/<pid> reads, no Pod, Service or EndpointSlice watches");
    this.dependencies.restore(Date.now());
    const nowMs = Date.now();
    const resumed = this.incidents.restore(nowMs);
    if (resumed > 0) logger.info({ resumed }, "resuming incidents left open by the previous run");
    // What was raised before a restart is raised again as soon as it still holds, under its first onset.
    const onsets = this.incidents.open().map((incident) => ({ rule: incident.rule, podUid: incident.pod.uid, onsetMs: incident.startMs, ...(incident.container === undefined ? {} : { container: incident.container }) }));
    this.engine.analyzer.resume(onsets, nowMs + DEFAULT_RESUME_GRACE_MS);
    logger.info({ node: nodeName, layout: this.layout.version, root: this.layout.root, restoredSamples: restored, db: dbPath }, "agent starting");
    if (this.options.metricsAddress !== undefined) {
      const health = (): Readiness => {
        const problem = this.sampling.unhealthy(Date.now());
        return problem === undefined ? { ready: true } : { ready: false, reason: problem };
      };
      // One guard, so its cached reviews serve the history API and /metrics alike.
      const guard = new AccessReviewer(this.options.client);
      this.server = await startHttpServer({
        addr: this.options.metricsAddress,
        registry: this.metrics.registry,
        readiness: health,
        liveness: health,
        log: logger,
        routes: historyRoutes(this.historySource(), guard),
        metricsAccess: metricsAccess(this.options.metricsAuthorization ?? "rbac", guard),
      });
    }
    this.watches.start();
    const signal = this.stopping.signal;
    // Mapping starts once the first tick has resolved this node's targets: its first poll then reads them.
    let firstTickDone: () => void = () => undefined;
    const firstTick = new Promise<void>((resolve) => { firstTickDone = resolve; });
    this.loops = Promise.all([
      this.sampling.run(signal, firstTickDone),
      firstTick.then(() =>
        this.dependencies.run(signal, {
          policies: () => this.sampling.policies,
          pods: () => this.watches.nodePods(),
          targets: () => this.targets.targets,
        }),
      ),
    ]);
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loops;
    await this.writer.idle();
    await Promise.all([this.watches.stop(), this.dependencies.stop()]);
    await this.server?.close();
    this.reader.close();
    this.store.close();
  }

  /** What the history API reads: pods by name (live, else as the history remembers them), series and incidents. */
  private historySource(): HistorySource {
    return {
      node: this.options.nodeName,
      podUid: (namespace, name) => {
        const live = this.watches.nodePods().find((pod) => pod.namespace === namespace && pod.name === name);
        if (live) return live.uid;
        const remembered = this.store.targets().filter((t) => t.namespace === namespace && t.podName === name).sort((a, b) => b.lastSeenMs - a.lastSeenMs);
        return remembered[0]?.podUid;
      },
      podSeries: (podUid, sinceMs) => this.store.podSeries(podUid, sinceMs),
      incidents: (query) => {
        const stored = this.store.incidents(query);
        // Open incidents in memory are fresher than their last write.
        const open = new Map(this.incidents.open().map((incident) => [incident.id, incident]));
        return stored.map((incident) => open.get(incident.id) ?? incident);
      },
    };
  }
}
