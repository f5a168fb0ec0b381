/**
 * NodeFindings + StarvationPolicies → one PolicyReport per namespace (see policy-reports.ts for the
 * mapping). Runs on a single key, batched like policy status: every agent write may change a report.
 *
 * The PolicyReport CRD is not ours and may be missing. Discovery is asked before anything is written; a
 * missing CRD is asked again every recheck (a minute at most), and a 404 from a write asks again at once
 * (the CRD was removed, or the namespace is gone). Without the CRD nothing is written and the state says
 * so, for the PolicyReports condition in policy status.
 *
 * The reports that exist are listed by label at the first reconcile (reports of an earlier run whose
 * findings cleared meanwhile are deleted too) and again every resync, so a report deleted or edited by
 * someone else is put back; in between, what was last applied stands in for the list.
 */
import type { Logger } from "pino";
import type { NodeFindings, StarvationPolicy } from "../api/types.generated.js";
import type { KubeClient } from "../kube/client.js";
import { isNotFound } from "../kube/errors.js";
import { CONTROLLER_FIELD_MANAGER, MANAGED_BY, MANAGED_BY_LABEL, POLICY_REPORT_KIND } from "../kube/resources.js";
import type { ReconcileResult } from "../kube/workqueue.js";
import type { Cache } from "./cache.js";
import { desiredPolicyReports, POLICY_REPORT_NAME, reportsEnabled, type PolicyReport, type PolicyReportsState } from "./policy-reports.js";
import { isSubset, jsonEqual } from "./status.js";

export const POLICY_REPORTS_KEY = "policyreports";

/** How often a missing CRD is looked for again (or every resync, if that is sooner). */
const CRD_RECHECK_MS = 60_000;

export interface PolicyReportReconcilerDeps {
  readonly client: KubeClient;
  readonly policies: Cache<StarvationPolicy>;
  readonly nodeFindings: Cache<NodeFindings>;
  /** The staleness yardstick for findings, as in the cluster-wide view. */
  readonly heartbeatMs: () => number;
  readonly resyncMs: number;
  readonly log: Logger;
  /** Called when the state policy status reports changes. */
  readonly onStateChange: () => void;
  readonly now?: () => number;
}

export class PolicyReportReconciler {
  static readonly kind = "PolicyReport";
  private crdCheckedAtMs: number | undefined;
  private crdServed = false;
  /** The reports that exist, by namespace; undefined: list them before trusting it. */
  private live: Map<string, PolicyReport> | undefined;
  private listedAtMs = 0;
  /** Namespaces a write found gone (their findings outlive them until the agent clears them); until the next list. */
  private readonly goneNamespaces = new Set<string>();
  private current: PolicyReportsState = { phase: "Pending" };

  constructor(private readonly deps: PolicyReportReconcilerDeps) {}

  get state(): PolicyReportsState {
    return this.current;
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  private get recheckMs(): number {
    return Math.min(CRD_RECHECK_MS, this.deps.resyncMs);
  }

  async reconcile(): Promise<ReconcileResult | undefined> {
    const policies = this.deps.policies.list();
    const wanted = policies.some(reportsEnabled);
    // Nothing asked for and nothing of ours left: no discovery, no API calls at all.
    if (!wanted && this.live?.size === 0) return undefined;
    try {
      if (!(await this.crdInstalled())) {
        // No CRD, no reports of ours: with none wanted either, the next policy event is soon enough.
        this.live = wanted ? undefined : new Map();
        this.setState({ phase: "CRDNotInstalled" });
        return wanted ? { requeueAfterMs: this.recheckMs } : undefined;
      }
      await this.converge(policies, wanted);
    } catch (err) {
      this.setState({ phase: "Failed", message: err instanceof Error ? err.message : String(err) });
      throw err;
    }
    this.setState({ phase: "Reporting" });
    // Findings of a node whose agent went quiet drop out with time alone.
    return { requeueAfterMs: Math.min(this.deps.resyncMs, this.deps.heartbeatMs()) };
  }

  private setState(next: PolicyReportsState): void {
    if (jsonEqual(next, this.current)) return;
    const was = this.current.phase;
    this.current = next;
    if (next.phase === "CRDNotInstalled") this.deps.log.warn(`the PolicyReport CRD (${POLICY_REPORT_KIND.apiVersion}) is not installed; writing no PolicyReports`);
    else if (next.phase === "Reporting" && was === "CRDNotInstalled") this.deps.log.info("the PolicyReport CRD is installed; writing PolicyReports");
    this.deps.onStateChange();
  }

  /** A served CRD is trusted until a write says otherwise; a missing one is asked about again every recheck. */
  private async crdInstalled(): Promise<boolean> {
    const now = this.now();
    if (this.crdCheckedAtMs !== undefined && (this.crdServed || now - this.crdCheckedAtMs < this.recheckMs)) return this.crdServed;
    this.crdServed = await this.deps.client.serves(POLICY_REPORT_KIND);
    this.crdCheckedAtMs = now;
    return this.crdServed;
  }

  private async converge(policies: readonly StarvationPolicy[], wanted: boolean): Promise<void> {
    const live = await this.liveReports();
    const desired = wanted
      ? desiredPolicyReports({ nodeFindings: this.deps.nodeFindings.list(), policies, nowMs: this.now(), heartbeatMs: this.deps.heartbeatMs() })
      : new Map<string, PolicyReport>();
    for (const [ns, report] of desired) await this.apply(ns, report, live);
    for (const [ns, report] of [...live]) if (!desired.has(ns)) await this.remove(ns, report, live);
  }

  private async liveReports(): Promise<Map<string, PolicyReport>> {
    const now = this.now();
    if (this.live !== undefined && now - this.listedAtMs < this.deps.resyncMs) return this.live;
    const { items } = await this.deps.client.list<PolicyReport>(POLICY_REPORT_KIND, { labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}` });
    this.live = new Map(items.filter((r) => r.metadata.name === POLICY_REPORT_NAME).map((r) => [r.metadata.namespace, r]));
    this.listedAtMs = now;
    this.goneNamespaces.clear();
    return this.live;
  }

  private async apply(ns: string, report: PolicyReport, live: Map<string, PolicyReport>): Promise<void> {
    const was = live.get(ns);
    if (isSubset(report, was) || this.goneNamespaces.has(ns)) return;
    try {
      live.set(ns, await this.deps.client.apply(report, { fieldManager: CONTROLLER_FIELD_MANAGER, force: true }));
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await this.notFound(ns, err);
      return;
    }
    const s = report.summary;
    if (was === undefined) this.deps.log.info({ namespace: ns, fail: s?.fail, warn: s?.warn }, "created PolicyReport");
    else this.deps.log.debug({ namespace: ns, fail: s?.fail, warn: s?.warn }, "updated PolicyReport");
  }

  /** A 404 on a write: the CRD went away (look again next time), or the namespace did (nothing to report in). */
  private async notFound(ns: string, err: unknown): Promise<void> {
    if (!(await this.deps.client.serves(POLICY_REPORT_KIND))) {
      this.crdServed = false;
      this.crdCheckedAtMs = undefined;
      throw err;
    }
    this.goneNamespaces.add(ns);
    this.deps.log.debug({ namespace: ns }, "namespace gone; no PolicyReport for its findings");
  }

  /** Deletes this incarnation only (uid precondition), when the namespace's last finding cleared. */
  private async remove(ns: string, report: PolicyReport, live: Map<string, PolicyReport>): Promise<void> {
    const uid = report.metadata.uid;
    const deleted = await this.deps.client.delete({ ...POLICY_REPORT_KIND, name: report.metadata.name, namespace: ns }, uid === undefined ? {} : { uid });
    live.delete(ns);
    if (deleted) this.deps.log.info({ namespace: ns }, "deleted PolicyReport: no open findings left");
  }
}
