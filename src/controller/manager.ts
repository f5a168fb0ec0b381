/**
 * Wires the controller: watch caches, one work queue per reconciler, leader election, and the HTTP server.
 *
 * Every replica runs the watches, so a standby's caches are warm and it is ready (/readyz) the moment it
 * takes over; only the leader runs the reconcilers. Watch callbacks only enqueue keys. Losing the Lease
 * pauses the reconcilers (waiting for in-flight ones) and the replica stands by again.
 */
import type { Logger } from "pino";
import type { KubeObject } from "../api/meta.js";
import type { NodeFindings, StarvationPolicy } from "../api/types.generated.js";
import type { KubeClient } from "../kube/client.js";
import type { Informer, InformerEvent } from "../kube/informer.js";
import { kubeLeaseStore, LeaderElector, leaseTimings } from "../kube/leader.js";
import { CONFIG_MAP, CONTROLLER_FIELD_MANAGER, DAEMON_SET, ENDPOINT_SLICE, MANAGED_BY, MANAGED_BY_LABEL, NODE, POD } from "../kube/resources.js";
import { WorkQueue, type ReconcileResult } from "../kube/workqueue.js";
import { nodeFindingsInformer, policyInformer } from "../kube/xander.js";
import { prepareNodeFindings } from "../report/prepare.js";
import { metricsAccess } from "../server/api.js";
import { startHttpServer, type Readiness, type Route, type RunningServer } from "../server/http.js";
import { webRoutes } from "../server/web-assets.js";
import { AccessReviewer } from "../kube/access-review.js";
import { HistoryClient } from "../kube/history-client.js";
import { dashboardRoutes } from "./dashboard-api.js";
import { readRoutes } from "./read-api.js";
import { ReadService } from "./read-service.js";
import type { ConfigMap } from "./agent-config.js";
import { AGENT_KEY, AgentReconciler } from "./agent-reconciler.js";
import { slimNode, type Node } from "./cache.js";
import type { ControllerConfig } from "./config.js";
import { agentIdentity, type DaemonSet } from "./daemonset.js";
import { serviceBackends, slimEndpointSlice, type EndpointSliceRef, type ServiceBackends } from "../deps/dependency-graph.js";
import { FindingsView } from "../report/findings-view.js";
import { checkNodeFindings } from "../report/node-findings-check.js";
import { ControllerMetrics } from "./metrics.js";
import { NodeReconciler } from "./node-reconciler.js";
import { PolicyReconciler } from "./policy-reconciler.js";
import { POLICY_REPORTS_KEY, PolicyReportReconciler } from "./policy-report-reconciler.js";
import { effectivePolicy } from "../api/policy.js";

/** Policy status reacts to many events (every agent heartbeat); batch them into one reconcile per window. */
const POLICY_BATCH_MS = 1000;
const VIEW_REFRESH_MS = 15_000;

interface Queued {
  readonly queue: WorkQueue;
  readonly kind: string;
  readonly handler: (key: string) => Promise<ReconcileResult | undefined>;
}

export class ControllerManager {
  readonly metrics = new ControllerMetrics();
  private readonly nodes: Informer<Node>;
  private readonly nodeFindings: Informer<NodeFindings>;
  private readonly policies: Informer<StarvationPolicy>;
  private readonly daemonSets: Informer<DaemonSet>;
  private readonly configMaps: Informer<ConfigMap>;
  /** Only with dependency mapping on: Service backends, so calls through a Service name their pods. */
  private readonly endpointSlices: Informer<KubeObject & EndpointSliceRef> | undefined;
  private backends: ServiceBackends = new Map();
  private backendsStale = true;
  private readonly informers: Informer<KubeObject>[];
  private readonly view: FindingsView;
  private readonly queues: Queued[];
  private readonly nodeQueue: WorkQueue;
  private readonly policyQueue: WorkQueue;
  private readonly agentQueue: WorkQueue;
  private readonly reportQueue: WorkQueue;
  private readonly elector: LeaderElector | undefined;
  private readonly nodeUids = new Map<string, string | undefined>();
  /** NodeFindings name → the version whose unusable parts were last logged. */
  private readonly reportedVersions = new Map<string, string>();
  private server: RunningServer | undefined;
  private viewTimer: NodeJS.Timeout | undefined;
  private viewDebounce: NodeJS.Timeout | undefined;
  private leading = false;
  private leadership: Promise<void> = Promise.resolve();

  constructor(
    private readonly cfg: ControllerConfig,
    private readonly client: KubeClient,
    private readonly log: Logger,
  ) {
    const ns = cfg.namespace;
    client.onRequest((method, resource) => {
      this.metrics.apiRequests.inc({ method, resource });
    });
    const managed = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;
    this.nodes = client.informer<Node>(NODE, { log, transform: slimNode });
    this.nodeFindings = nodeFindingsInformer(client, log, (nf) => this.usableNodeFindings(nf));
    this.policies = policyInformer(client, log);
    this.daemonSets = client.informer<DaemonSet>(DAEMON_SET, { namespace: ns, labelSelector: managed, log });
    this.configMaps = client.informer<ConfigMap>(CONFIG_MAP, { namespace: ns, labelSelector: managed, log });
    this.informers = [this.nodes, this.nodeFindings, this.policies, this.daemonSets, this.configMaps] as Informer<KubeObject>[];
    // Not among the informers readiness and leading wait for: callers through Services are extra detail,
    // and a missing RBAC rule or a slow list of a big cluster's slices must not hold the reconcilers back.
    if (cfg.agent.dependencyMapping !== false) this.endpointSlices = client.informer<KubeObject & EndpointSliceRef>(ENDPOINT_SLICE, { log, transform: slimEndpointSlice });
    this.view = new FindingsView(
      () => this.nodeFindings.list(),
      () => this.clusterHeartbeatMs(),
      Date.now,
      () => this.serviceBackends(),
    );

    const onError = (kind: string) => (key: string, err: unknown, retries: number, delayMs: number) => {
      this.log.error({ err, kind, key, retries, retryInMs: Math.round(delayMs) }, `reconcile of ${kind} ${key} failed; retrying`);
    };
    const resyncMs = cfg.resyncMs;
    this.nodeQueue = new WorkQueue({
      name: "nodes",
      resyncMs,
      keys: () => new Set([...this.nodes.list(), ...this.nodeFindings.list()].map((o) => o.metadata?.name ?? "")),
      onError: onError(NodeReconciler.kind),
      concurrency: 2,
    });
    this.policyQueue = new WorkQueue({ name: "policies", resyncMs, keys: () => this.policyNames(), onError: onError(PolicyReconciler.kind) });
    this.agentQueue = new WorkQueue({ name: "agent", resyncMs, keys: () => [AGENT_KEY], onError: onError(AgentReconciler.kind) });
    this.reportQueue = new WorkQueue({ name: "policyreports", resyncMs, keys: () => [POLICY_REPORTS_KEY], onError: onError(PolicyReportReconciler.kind) });

    const nodeReconciler = new NodeReconciler({ client, nodes: this.nodes, nodeFindings: this.nodeFindings, log });
    const agentReconciler = new AgentReconciler({
      client,
      settings: cfg.agent,
      policies: this.policies,
      daemonSets: this.daemonSets,
      configMaps: this.configMaps,
      log,
      onStateChange: () => {
        this.enqueuePolicies(0);
      },
    });
    const reportReconciler = new PolicyReportReconciler({
      client,
      policies: this.policies,
      nodeFindings: this.nodeFindings,
      heartbeatMs: () => this.clusterHeartbeatMs(),
      resyncMs,
      log,
      onStateChange: () => {
        this.enqueuePolicies(0);
      },
    });
    const policyReconciler = new PolicyReconciler({
      client,
      namespace: ns,
      policies: this.policies,
      daemonSets: this.daemonSets,
      nodes: this.nodes,
      view: this.view,
      agentApplyError: () => agentReconciler.applyError,
      policyReports: () => reportReconciler.state,
      resyncMs,
      log,
    });
    this.queues = [
      { queue: this.nodeQueue, kind: NodeReconciler.kind, handler: (k) => nodeReconciler.reconcile(k) },
      { queue: this.policyQueue, kind: PolicyReconciler.kind, handler: (k) => policyReconciler.reconcile(k) },
      { queue: this.agentQueue, kind: AgentReconciler.kind, handler: () => agentReconciler.reconcile() },
      { queue: this.reportQueue, kind: PolicyReportReconciler.kind, handler: () => reportReconciler.reconcile() },
    ];
    this.wireEvents();
    this.metrics.watchQueues(() => this.queues.map(({ queue }) => [queue.name, queue.length] as const));
    if (cfg.leaderElect) {
      this.elector = new LeaderElector({
        store: kubeLeaseStore(client, ns, cfg.leaseName),
        identity: cfg.identity,
        leaseDurationMs: cfg.leaseDurationMs,
        ...leaseTimings(cfg.leaseDurationMs),
        log,
        onStartedLeading: () => {
          this.setLeading(true);
        },
        onStoppedLeading: () => {
          this.setLeading(false);
        },
        onNewLeader: (identity) => {
          if (identity !== cfg.identity) log.info({ leader: identity }, "another replica leads; standing by");
        },
      });
    }
  }

  /**
   * What the views can use of a NodeFindings, before it enters the cache; what they cannot is logged, naming
   * the object, once per version of it (a relist hands back the same versions).
   */
  private usableNodeFindings(nf: NodeFindings): NodeFindings {
    const { usable, problems } = checkNodeFindings(nf, Date.now());
    const name = nf.metadata.name ?? "";
    const version = `${nf.metadata.uid ?? ""}@${nf.metadata.resourceVersion ?? ""}`;
    if (problems.length > 0 && this.reportedVersions.get(name) !== version) {
      this.reportedVersions.set(name, version);
      this.log.warn({ nodeFindings: name, resourceVersion: nf.metadata.resourceVersion, problems }, `NodeFindings ${name}: left out what cannot be used: ${problems.join("; ")}`);
    }
    if (problems.length === 0) this.reportedVersions.delete(name);
    return usable;
  }

  private policyNames(): string[] {
    return this.policies.list().map((p) => p.metadata.name ?? "");
  }

  /** The shortest heartbeat among valid policies: the cluster-wide view's staleness yardstick. */
  private clusterHeartbeatMs(): number {
    let best = Infinity;
    for (const p of this.policies.list()) {
      const e = effectivePolicy(p);
      if (e.ok) best = Math.min(best, e.value.reporting.heartbeatMs);
    }
    return Number.isFinite(best) ? best : 60_000;
  }

  /** The read API and the dashboard, one read service and one guard behind both; the pages ask for a token. */
  private routes(guard: AccessReviewer): Route[] {
    const service = this.readService();
    return [...readRoutes(service, guard), ...dashboardRoutes(service, guard), ...webRoutes({ auth: "token" })];
  }

  /** The read API's sources: the watch caches, the agents for node histories, and the API for a pod's node. */
  private readService(): ReadService {
    return new ReadService({
      nodeFindings: () => Promise.resolve(this.nodeFindings.list()),
      backends: () => Promise.resolve(this.serviceBackends()),
      heartbeatMs: () => this.clusterHeartbeatMs(),
      policies: () => Promise.resolve(this.policies.list()),
      history: HistoryClient.forAgents(this.client, agentIdentity(this.cfg.namespace)),
      podNode: async (namespace, name) => (await this.client.get<KubeObject & { spec?: { nodeName?: string } }>({ ...POD, namespace, name }))?.spec?.nodeName,
    });
  }

  /** Rebuilt from the EndpointSlice cache at most once per change, not once per policy reconcile. */
  private serviceBackends(): ServiceBackends {
    if (this.endpointSlices !== undefined && this.backendsStale) {
      this.backends = serviceBackends(this.endpointSlices.list());
      this.backendsStale = false;
    }
    return this.backends;
  }

  private enqueuePolicies(delayMs: number = POLICY_BATCH_MS): void {
    for (const name of this.policyNames()) this.policyQueue.addAfter(name, delayMs);
  }

  private refreshViewSoon(): void {
    if (this.viewDebounce !== undefined) return;
    this.viewDebounce = setTimeout(() => {
      this.viewDebounce = undefined;
      this.metrics.setFindings(this.view.refresh());
    }, POLICY_BATCH_MS);
    this.viewDebounce.unref();
  }

  private onNode(event: InformerEvent, node: Node): void {
    const name = node.metadata?.name ?? "";
    const uid = node.metadata?.uid;
    // Nodes update every few seconds (kubelet heartbeats); a NodeFindings only cares about name, uid and deletion.
    const relevant = event !== "update" || this.nodeUids.get(name) !== uid || node.metadata?.deletionTimestamp !== undefined;
    if (event === "delete") this.nodeUids.delete(name);
    else this.nodeUids.set(name, uid);
    if (!relevant) return;
    this.nodeQueue.add(name);
    if (event !== "update") this.enqueuePolicies(); // desired node count
  }

  private wireEvents(): void {
    this.nodes.on((event, node) => {
      this.onNode(event, node);
    });
    this.nodeFindings.on((event, nf) => {
      // What the read views derive from this object is derived now, one object at a time, not at the first request.
      if (event !== "delete") prepareNodeFindings(nf);
      else this.reportedVersions.delete(nf.metadata.name ?? "");
      this.nodeQueue.add(nf.metadata.name ?? "");
      this.enqueuePolicies();
      this.reportQueue.addAfter(POLICY_REPORTS_KEY, POLICY_BATCH_MS);
      this.refreshViewSoon();
    });
    this.policies.on((_event, p) => {
      this.policyQueue.add(p.metadata.name ?? "");
      this.agentQueue.add(AGENT_KEY);
      this.reportQueue.add(POLICY_REPORTS_KEY);
      this.refreshViewSoon();
    });
    this.daemonSets.on(() => {
      this.agentQueue.add(AGENT_KEY);
      this.enqueuePolicies();
    });
    this.configMaps.on(() => {
      this.agentQueue.add(AGENT_KEY);
    });
    // Backends change who a top risk's callers are; policy status batches these like agent heartbeats.
    this.endpointSlices?.on(() => {
      this.backendsStale = true;
      this.enqueuePolicies();
      this.refreshViewSoon();
    });
  }

  readiness(): Readiness {
    const pending = this.informers.filter((i) => !i.hasSynced()).map((i) => i.kind);
    return pending.length === 0 ? { ready: true } : { ready: false, reason: `waiting for the watch caches of ${pending.join(", ")}` };
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Starts serving, watching and campaigning. Resolves once the HTTP server listens. */
  async start(): Promise<void> {
    const guard = new AccessReviewer(this.client);
    this.server = await startHttpServer({
      addr: this.cfg.metricsAddr,
      registry: this.metrics.registry,
      readiness: () => this.readiness(),
      log: this.log,
      routes: this.routes(guard),
      metricsAccess: metricsAccess(this.cfg.metricsAuthorization, guard),
    });
    if (this.cfg.createNamespace) await this.client.ensureNamespace(this.cfg.namespace, CONTROLLER_FIELD_MANAGER);
    for (const informer of this.informers) void informer.start();
    void this.endpointSlices?.start();
    this.viewTimer = setInterval(() => {
      this.metrics.setFindings(this.view.refresh());
    }, VIEW_REFRESH_MS);
    this.viewTimer.unref();
    if (this.elector === undefined) this.setLeading(true);
    else this.elector.start();
    this.log.info({ namespace: this.cfg.namespace, identity: this.cfg.identity, leaderElect: this.cfg.leaderElect }, "controller started");
  }

  get port(): number | undefined {
    return this.server?.port;
  }

  /** Leadership changes are serialized: starting waits for the caches, stopping for in-flight reconciles. */
  private setLeading(leading: boolean): void {
    this.leadership = this.leadership.then(() => (leading ? this.lead() : this.standBy())).catch((err: unknown) => {
      this.log.error({ err }, "leadership change failed");
    });
  }

  private async lead(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.waitForSync()));
    if (this.elector !== undefined && !this.elector.isLeader()) return; // lost it while waiting
    this.leading = true;
    this.metrics.leader.set(1);
    this.log.info({ identity: this.cfg.identity }, "leading: reconcilers running");
    for (const { queue, kind, handler } of this.queues) queue.start((key) => this.metrics.observe(kind, () => handler(key)));
    // Converge everything once: what changed while standing by produced no reconcile.
    for (const k of new Set([...this.nodes.list(), ...this.nodeFindings.list()].map((o) => o.metadata?.name ?? ""))) this.nodeQueue.add(k);
    for (const name of this.policyNames()) this.policyQueue.add(name);
    this.agentQueue.add(AGENT_KEY);
    this.reportQueue.add(POLICY_REPORTS_KEY);
  }

  private async standBy(): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    this.metrics.leader.set(0);
    await Promise.all(this.queues.map(({ queue }) => queue.pause()));
    this.log.info({ identity: this.cfg.identity }, "standing by: reconcilers paused");
  }

  /** Graceful shutdown: stop reconciling, release the Lease, stop watching, close the server. */
  async stop(): Promise<void> {
    this.log.info("shutting down");
    clearInterval(this.viewTimer);
    clearTimeout(this.viewDebounce);
    await Promise.all(this.queues.map(({ queue }) => queue.shutdown()));
    this.leading = false;
    this.metrics.leader.set(0);
    await this.elector?.stop();
    await this.leadership;
    await Promise.all([...this.informers, ...(this.endpointSlices ? [this.endpointSlices] : [])].map((i) => i.stop()));
    await this.server?.close();
    this.log.info("stopped");
  }
}
