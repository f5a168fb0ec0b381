import { existsSync } from "node:fs";
import { join } from "node:path";
import { cpus } from "node:os";
import { detectLayout } from "../cgroup/layout.js";
import { discoverPods, discoveryMount } from "../cgroup/discover.js";
import type { CgroupLayout, PodCgroup } from "../cgroup/types.js";
import { effectivePolicy, type EffectivePolicy } from "../api/policy.js";
import type { KubeObject } from "../api/meta.js";
import type { KubeClient } from "../kube/client.js";
import type { Informer } from "../kube/informer.js";
import { NAMESPACE, POD, STARVATION_POLICY_KIND } from "../kube/resources.js";
import { keptOpenReader, nodeReader } from "../engine/readers.js";
import { NodeEngine } from "../engine/node-engine.js";
import { openStore, type HistoryStore } from "../store/index.js";
import type { Target } from "../sampler/types.js";
import type { Finding } from "../analysis/types.js";
import type { Incident } from "../analysis/incident.js";
import { podLabel } from "../analysis/format.js";
import type { Logger } from "../util/log.js";
import { sleepUntil } from "../util/time.js";
import { AccessReviewer } from "../kube/access-review.js";
import { IncidentRecorder, DEFAULT_MAX_RECENT_INCIDENTS } from "../engine/incidents.js";
import { startHttpServer, type Readiness, type RunningServer } from "../server/http.js";
import { historyRoutes, type HistorySource } from "./history-api.js";
import { ownerOf, buildPeerIndex, type PodLike } from "../deps/resolve.js";
import { bindingOf, nodePolicy, policyFor, samplingFor } from "./bindings.js";
import { AgentDependencies, maxDependenciesOf } from "./dependencies.js";
import { FindingEvents } from "./events.js";
import { AgentMetrics } from "./metrics.js";
import { KubeletOomKills } from "./oom-kills.js";
import { detectDriver, nodePodFromApi, resolveTargets, type NodePod } from "./pods.js";
import { Publisher } from "./publisher.js";
import { NodeFindingsReporter, type ReportingTiming } from "./reporter.js";
import { buildStatus, materialFingerprint } from "./status.js";

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
  /** Where callers reach the history API (host:port), published in NodeFindings status; default: not published. */
  readonly advertiseAddress?: string;
  /** A PID in the host's network namespace, so hostNetwork pods are told apart (default 1: the node's init, with hostPID). */
  readonly hostPidForNetns?: number;
  /** False: no dependency mapping, whatever the policies say (`--no-dependency-mapping`). Default true. */
  readonly dependencyMapping?: boolean;
}

/** Used until a policy says otherwise, and when none exists. */
const DEFAULT_SAMPLING = { intervalMs: 1000, windowMs: 5000 };
const DEFAULT_REPORTING = { heartbeatMs: 60_000, minIntervalMs: 5000, maxFindings: 50, maxRecentIncidents: DEFAULT_MAX_RECENT_INCIDENTS };
/** Owner lookups for this node's own pods when no cluster-wide pod cache is kept (mapping off). */
const NO_PEERS = buildPeerIndex({ pods: [] });
/** The cgroup tree is walked again this often (in ticks) as the fallback for pods whose path is not the computed one. */
const REDISCOVER_EVERY_TICKS = 10;

interface NamespaceObject extends KubeObject {
  readonly metadata?: { name?: string; labels?: Record<string, string> };
}

/**
 * The DaemonSet agent: pods on this node (from the API) -> cgroups -> sampler -> history ->
 * analysis -> NodeFindings status, Events and /metrics. Sampling never waits for the API: when it
 * is unreachable, history and detection go on and status writes back off.
 */
export class Agent {
  readonly metrics = new AgentMetrics();
  private layout!: CgroupLayout;
  private store: HistoryStore | undefined;
  private reader: ReturnType<typeof keptOpenReader> | undefined;
  private engine!: NodeEngine;
  private pods!: Informer<KubeObject>;
  private policies!: Informer<KubeObject>;
  private namespaces!: Informer<KubeObject>;
  private reporter: NodeFindingsReporter;
  private readonly publisher: Publisher;
  private readonly raisedBacklog: Finding[] = [];
  private events: FindingEvents;
  private dependencies!: AgentDependencies;
  private incidents!: IncidentRecorder;
  private readonly clearedBacklog: Incident[] = [];
  private server: RunningServer | undefined;
  private effective: EffectivePolicy[] = [];
  private policiesDirty = true;
  private podsDirty = true;
  private discovered: PodCgroup[] = [];
  private targets: Target[] = [];
  /** This node's pods as of the last target refresh. */
  private targetPods: NodePod[] = [];
  private oomKills!: KubeletOomKills;
  private podCount = 0;
  private tickIndex = 0;
  private lastSampleMs: number | undefined;
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(private readonly options: AgentOptions) {
    this.reporter = new NodeFindingsReporter(options.client, options.nodeName, options.logger);
    this.publisher = new Publisher(options.logger);
    this.events = new FindingEvents(options.client, options.nodeName, options.logger);
  }

  get port(): number | undefined {
    return this.server?.port;
  }

  async start(): Promise<void> {
    const { logger, client, nodeName } = this.options;
    const layout = await detectLayout(this.options.cgroupRoot);
    if (!layout.ok) throw new Error(layout.error.message);
    this.layout = layout.value;
    this.store = openStore(this.options.dbPath, { logger });
    this.reader = keptOpenReader(this.layout);
    this.engine = new NodeEngine({
      windowMs: DEFAULT_SAMPLING.windowMs,
      nodeCores: cpus().length,
      readCounters: this.reader.read,
      retainCgroups: this.reader.retain,
      readNodePressure: nodeReader(this.options.procRoot),
      history: this.store,
      logger,
      bindingFor: () => undefined,
    });
    const restored = this.engine.restore();
    this.oomKills = new KubeletOomKills(Date.now());
    this.dependencies = new AgentDependencies({
      client,
      procRoot: this.options.procRoot,
      cgroupMount: discoveryMount(this.layout),
      hostPid: this.options.hostPidForNetns ?? 1,
      store: this.store,
      logger,
      metrics: this.metrics,
      enabled: this.options.dependencyMapping ?? true,
    });
    if (this.options.dependencyMapping === false) logger.info("dependency mapping off (--no-dependency-mapping): no /proc/<pid> reads, no Pod, Service or EndpointSlice watches");
    this.dependencies.restore(Date.now());
    this.incidents = new IncidentRecorder({
      node: nodeName,
      store: this.store,
      logger,
      workloadOf: (pod) => this.dependencies.workloadOf(pod.uid) ?? this.ownWorkloadOf(pod.uid),
      callersOf: (pod) => this.dependencies.callersOf(pod.uid),
    });
    const resumed = this.incidents.restore(Date.now());
    if (resumed > 0) logger.info({ resumed }, "resuming incidents left open by the previous run");
    logger.info({ node: nodeName, layout: this.layout.version, root: this.layout.root, restoredSamples: restored, db: this.options.dbPath }, "agent starting");

    this.pods = client.informer(POD, { fieldSelector: `spec.nodeName=${nodeName}`, log: logger });
    this.policies = client.informer(STARVATION_POLICY_KIND, { log: logger });
    this.namespaces = client.informer(NAMESPACE, { log: logger });
    // Handlers only mark state dirty; the tick loop does the work.
    this.pods.on(() => { this.podsDirty = true; });
    this.policies.on(() => { this.policiesDirty = true; });
    this.namespaces.on(() => { this.policiesDirty = true; });
    if (this.options.metricsAddress !== undefined) {
      const health = (): Readiness => {
        const problem = this.unhealthy();
        return problem === undefined ? { ready: true } : { ready: false, reason: problem };
      };
      this.server = await startHttpServer({
        addr: this.options.metricsAddress,
        registry: this.metrics.registry,
        readiness: health,
        liveness: health,
        log: logger,
        routes: historyRoutes(this.historySource(), new AccessReviewer(client)),
      });
    }
    // Informers sync in the background: sampling starts now even if the API is slow or down.
    void Promise.all([this.pods.start(), this.policies.start(), this.namespaces.start()]);
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    await this.publisher.idle();
    await Promise.all([this.pods.stop(), this.policies.stop(), this.namespaces.stop(), this.dependencies.stop()]);
    await this.server?.close();
    this.reader?.close();
    this.store?.close();
  }

  private unhealthy(): string | undefined {
    if (this.lastSampleMs === undefined) return "no sample taken yet";
    const intervalMs = samplingFor(this.effective, DEFAULT_SAMPLING).intervalMs;
    if (Date.now() - this.lastSampleMs > Math.max(10 * intervalMs, 30_000)) return `last sample ${new Date(this.lastSampleMs).toISOString()} is stale`;
    return undefined;
  }

  private async run(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      const startedMs = Date.now();
      try {
        await this.tick(startedMs);
      } catch (error) {
        // One bad tick must not end the agent; the next one starts from fresh reads.
        this.options.logger.error({ err: error }, "tick failed; continuing");
      }
      const intervalMs = samplingFor(this.effective, DEFAULT_SAMPLING).intervalMs;
      await sleepUntil(startedMs + intervalMs, this.stopping.signal);
    }
  }

  private async tick(nowMs: number): Promise<void> {
    if (this.policiesDirty) this.reloadPolicies();
    if (this.podsDirty || this.tickIndex % REDISCOVER_EVERY_TICKS === 0) await this.refreshTargets();
    this.tickIndex++;
    const timer = this.metrics.tickSeconds.startTimer();
    const intervalMs = samplingFor(this.effective, DEFAULT_SAMPLING).intervalMs;
    // OOM kills that ended a container are seen in the kubelet's record, since its cgroup is gone by the next read.
    const { tick, analysis, stored } = await this.engine.tick(this.targets, nowMs, (sampled) => this.oomKills.missed(this.targetPods, sampled.containers, nowMs, intervalMs));
    timer();
    this.lastSampleMs = nowMs;
    this.metrics.ticks.inc();
    this.metrics.samples.inc(tick.containers.length);
    if (!stored) this.metrics.storeErrors.inc();
    this.metrics.observeFindings(analysis.active, analysis.raised, this.reporting().maxFindings);

    await this.dependencies.maybePoll(nowMs, this.effective, () => this.nodePods(), this.targets);
    // The blast radius joins the message here, at the report edge: the rules know nothing of callers.
    const active = this.dependencies.withCallers(analysis.active);
    for (const finding of analysis.raised) this.options.logger.info({ rule: finding.rule, pod: podLabel(finding.pod), container: finding.container, value: finding.value, onsetMs: nowMs - finding.firstSeenMs }, `raised ${finding.rule}: ${finding.message}`);
    for (const finding of analysis.cleared) this.options.logger.info({ rule: finding.rule, pod: podLabel(finding.pod), container: finding.container }, `cleared ${finding.rule}`);
    const incidents = this.incidents.update(analysis, nowMs);
    // A finding raised again after a restart continues its open incident: its Event was sent by the earlier run.
    const resumed = new Set(incidents.resumed.map((incident) => `${incident.rule}|${incident.pod.uid}|${incident.container ?? ""}`));
    const fresh = analysis.raised.filter((f) => !resumed.has(`${f.rule}|${f.pod.uid}|${f.container ?? ""}`));
    // Raised findings and closed incidents queue up for Events; none is lost when a publish is superseded.
    this.raisedBacklog.push(...this.dependencies.withCallers(fresh));
    this.clearedBacklog.push(...incidents.closed);
    const reporting = this.reporting();
    const dependencies = this.dependencies.status(maxDependenciesOf(this.effective));
    const status = buildStatus({
      findings: active,
      dependencies,
      agent: {
        version: this.options.version,
        cgroupLayout: this.layout.version,
        lastSampleMs: nowMs,
        pods: this.podCount,
        samplesStored: this.store?.stats().samplesStored ?? 0,
        ...(this.options.advertiseAddress === undefined ? {} : { endpoint: this.options.advertiseAddress }),
      },
      maxFindings: reporting.maxFindings,
      recentIncidents: this.incidents.recent(nowMs, reporting.maxRecentIncidents),
    });
    const fingerprint = materialFingerprint(active, dependencies);
    this.publisher.submit(() => this.publish(status, fingerprint, nowMs, reporting));
  }

  private async publish(status: Parameters<NodeFindingsReporter["report"]>[0], fingerprint: string, nowMs: number, reporting: ReportingTiming): Promise<void> {
    const raised = this.raisedBacklog.splice(0);
    const cleared = this.clearedBacklog.splice(0);
    this.metrics.events.inc(await this.events.raised(raised, nowMs));
    this.metrics.events.inc(await this.events.cleared(cleared, nowMs));
    // The clock of the write is now, not the tick's: pacing is about what the API server sees.
    const report = await this.reporter.report(status, fingerprint, Math.max(nowMs, Date.now()), reporting);
    if (report.outcome === "skipped") return;
    this.metrics.statusWrites.inc({ outcome: report.outcome, reason: report.reason });
    if (report.outcome === "failed") this.metrics.writeErrors.inc();
  }

  private reporting(): typeof DEFAULT_REPORTING {
    const policy = nodePolicy(this.effective);
    if (!policy) return DEFAULT_REPORTING;
    const { heartbeatMs, minIntervalMs, maxFindings, maxRecentIncidents } = policy.reporting;
    return { heartbeatMs, minIntervalMs, maxFindings, maxRecentIncidents };
  }

  /** What the history API reads: pods by name (live, else as the history remembers them), series and incidents. */
  private historySource(): HistorySource {
    return {
      node: this.options.nodeName,
      podUid: (namespace, name) => {
        const live = this.nodePods().find((pod) => pod.namespace === namespace && pod.name === name);
        if (live) return live.uid;
        const remembered = (this.store?.targets() ?? []).filter((t) => t.namespace === namespace && t.podName === name).sort((a, b) => b.lastSeenMs - a.lastSeenMs);
        return remembered[0]?.podUid;
      },
      podSeries: (podUid, sinceMs) => {
        if (!this.store) throw new Error("no history store");
        return this.store.podSeries(podUid, sinceMs);
      },
      incidents: (query) => {
        const stored = this.store?.incidents(query) ?? [];
        // Open incidents in memory are fresher than their last write.
        const open = new Map(this.incidents.open().map((incident) => [incident.id, incident]));
        return stored.map((incident) => open.get(incident.id) ?? incident);
      },
    };
  }

  /** The top-level owner of a pod on this node from its own ownerReferences, for when mapping is off. */
  private ownWorkloadOf(podUid: string): string | undefined {
    const pod = this.pods.list().find((object) => object.metadata?.uid === podUid);
    const owner = pod ? ownerOf(pod as PodLike, NO_PEERS) : undefined;
    return owner ? `${owner.kind}/${owner.name}` : undefined;
  }

  /** Hot reload: thresholds, windows and selectors change without restarting anything. */
  private reloadPolicies(): void {
    this.policiesDirty = false;
    const effective: EffectivePolicy[] = [];
    for (const object of this.policies.list()) {
      const result = effectivePolicy(object);
      if (result.ok) effective.push(result.value);
      else this.options.logger.warn({ policy: object.metadata?.name, errors: result.error }, `ignoring invalid StarvationPolicy ${object.metadata?.name ?? ""}`);
    }
    this.effective = effective;
    const namespaceLabels = new Map(this.namespaces.list().map((ns) => [ns.metadata?.name ?? "", (ns as NamespaceObject).metadata?.labels ?? {}]));
    const podsByUid = new Map(this.nodePods().map((pod) => [pod.uid, pod]));
    const node = nodePolicy(effective);
    this.engine.analyzer.reconfigure({
      windowMs: samplingFor(effective, DEFAULT_SAMPLING).windowMs,
      bindingFor: (ref) => {
        const pod = podsByUid.get(ref.uid);
        const policy = pod ? policyFor(pod, namespaceLabels.get(pod.namespace), effective) : undefined;
        return policy ? bindingOf(policy) : undefined;
      },
      ...(node ? { nodeBinding: bindingOf(node) } : {}),
    });
    this.options.logger.info({ policies: effective.map((p) => `${p.name}@${p.generation}`) }, "policies loaded");
  }

  private nodePods(): NodePod[] {
    return this.pods.list().flatMap((object) => {
      const pod = nodePodFromApi(object);
      return pod ? [pod] : [];
    });
  }

  private async refreshTargets(): Promise<void> {
    const podsChanged = this.podsDirty;
    this.podsDirty = false;
    const mount = discoveryMount(this.layout);
    if (mount !== undefined && (this.tickIndex % REDISCOVER_EVERY_TICKS === 0 || podsChanged)) {
      try {
        this.discovered = await discoverPods(mount);
      } catch (error) {
        this.options.logger.warn({ err: error }, "cannot walk the cgroup tree; using computed paths only");
      }
    }
    const pods = this.nodePods();
    this.targetPods = pods;
    this.podCount = pods.length;
    this.metrics.pods.set(pods.length);
    const resolution = resolveTargets(pods, this.discovered, detectDriver(this.discovered), (relPath) => mount !== undefined && existsSync(join(mount, relPath)));
    if (resolution.unresolved.length > 0) this.options.logger.debug({ unresolved: resolution.unresolved }, "containers without a cgroup yet");
    this.targets = resolution.targets;
    // Pod labels may have changed what selects them.
    if (podsChanged) this.policiesDirty = true;
    if (this.policiesDirty) this.reloadPolicies();
  }
}
