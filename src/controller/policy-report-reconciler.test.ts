import type { KubeObject } from "../api/meta.js";
import type { NodeFinding, NodeFindings, StarvationPolicy } from "../api/types.generated.js";
import type { KubeClient } from "../kube/client.js";
import { KubeError } from "../kube/errors.js";
import { silentLogger } from "../util/log.js";
import type { Cache } from "./cache.js";
import { PolicyReportReconciler } from "./policy-report-reconciler.js";
import type { PolicyReport } from "./policy-reports.js";

const NOW = Date.parse("2025-06-01T12:00:00Z");
const RESYNC = 30_000;

class ListCache<T extends KubeObject> implements Cache<T> {
  constructor(public items: T[] = []) {}
  get(name: string): T | undefined {
    return this.items.find((o) => o.metadata?.name === name);
  }
  list(): T[] {
    return this.items;
  }
}

/** The PolicyReport API as the reconciler sees it: discovery, a labelled list, apply, delete. */
class FakeReportsApi {
  readonly calls: string[] = [];
  crd = true;
  /** Namespaces that do not exist: an apply there is a 404. */
  readonly missingNamespaces = new Set<string>();
  readonly reports = new Map<string, PolicyReport>();
  private uid = 0;
  serves(): Promise<boolean> {
    this.calls.push("discover");
    return Promise.resolve(this.crd);
  }
  list(): Promise<{ items: PolicyReport[]; resourceVersion: string }> {
    this.calls.push("list");
    return this.crd ? Promise.resolve({ items: [...this.reports.values()], resourceVersion: "1" }) : Promise.reject(new KubeError("not found", 404, "NotFound"));
  }
  apply<T extends KubeObject>(obj: T): Promise<T> {
    const r = obj as unknown as PolicyReport;
    this.calls.push(`apply ${r.metadata.namespace}`);
    if (!this.crd || this.missingNamespaces.has(r.metadata.namespace)) return Promise.reject(new KubeError("not found", 404, "NotFound"));
    const stored = { ...r, metadata: { ...r.metadata, uid: this.reports.get(r.metadata.namespace)?.metadata.uid ?? `u${++this.uid}` } };
    this.reports.set(r.metadata.namespace, stored);
    return Promise.resolve(stored as unknown as T);
  }
  delete(ref: { namespace?: string }, opts: { uid?: string } = {}): Promise<boolean> {
    this.calls.push(`delete ${ref.namespace ?? ""} uid=${opts.uid ?? ""}`);
    return Promise.resolve(this.reports.delete(ref.namespace ?? ""));
  }
}

const policy = (name: string, policyReports: boolean): StarvationPolicy => ({
  apiVersion: "xander.io/v1alpha1",
  kind: "StarvationPolicy",
  metadata: { name, uid: `uid-${name}` },
  spec: { reporting: { policyReports } },
});

function finding(namespace: string, over: Partial<NodeFinding> = {}): NodeFinding {
  return { rule: "OOMKill", severity: "critical", policy: "on", pod: { namespace, name: "p", uid: `u-${namespace}` }, value: 1, threshold: 1, firstSeen: "2025-06-01T11:00:00Z", lastSeen: "2025-06-01T11:59:59Z", message: "OOM-killed", ...over };
}

const nodeFindings = (findings: NodeFinding[]): NodeFindings => ({
  apiVersion: "xander.io/v1alpha1",
  kind: "NodeFindings",
  metadata: { name: "n1" },
  spec: { nodeName: "n1" },
  status: { agent: { lastSample: "2025-06-01T11:59:58Z" }, findings },
});

function setup(policies: StarvationPolicy[] = [policy("on", true)]) {
  const api = new FakeReportsApi();
  const nfs = new ListCache<NodeFindings>([nodeFindings([finding("shop"), finding("db")])]);
  let now = NOW;
  let stateChanges = 0;
  const reconciler = new PolicyReportReconciler({
    client: api as unknown as KubeClient,
    policies: new ListCache(policies),
    nodeFindings: nfs,
    heartbeatMs: () => 60_000,
    resyncMs: RESYNC,
    log: silentLogger(),
    onStateChange: () => {
      stateChanges++;
    },
    now: () => now,
  });
  return { api, nfs, reconciler, advance: (ms: number) => (now += ms), stateChanges: () => stateChanges };
}

describe("PolicyReportReconciler", () => {
  test("without the CRD nothing is listed or written, the state says so, and discovery waits for the recheck", async () => {
    const { api, reconciler, advance, stateChanges } = setup();
    api.crd = false;
    expect(await reconciler.reconcile()).toEqual({ requeueAfterMs: RESYNC });
    expect(reconciler.state).toEqual({ phase: "CRDNotInstalled" });
    expect(stateChanges()).toBe(1);
    await reconciler.reconcile(); // an event soon after: no new discovery request
    expect(api.calls).toEqual(["discover"]);
    api.crd = true;
    advance(RESYNC);
    await reconciler.reconcile();
    expect(reconciler.state).toEqual({ phase: "Reporting" });
    expect(api.calls).toEqual(["discover", "discover", "list", "apply shop", "apply db"]);
  });

  test("a report is written once; the same findings again write nothing, until the resync lists again", async () => {
    const { api, reconciler, advance } = setup();
    await reconciler.reconcile();
    await reconciler.reconcile();
    expect(api.calls).toEqual(["discover", "list", "apply shop", "apply db"]);
    advance(RESYNC);
    await reconciler.reconcile();
    expect(api.calls.slice(4)).toEqual(["list"]);
  });

  test("a namespace whose last finding cleared loses its report, by uid", async () => {
    const { api, nfs, reconciler } = setup();
    await reconciler.reconcile();
    const uid = api.reports.get("db")?.metadata.uid;
    nfs.items = [nodeFindings([finding("shop")])];
    await reconciler.reconcile();
    expect(api.calls.slice(-1)).toEqual([`delete db uid=${uid}`]);
    expect([...api.reports.keys()]).toEqual(["shop"]);
  });

  test("a 404 for a namespace that is gone skips it until the next list; a 404 because the CRD is gone fails, and the next reconcile says why", async () => {
    const { api, nfs, reconciler, advance } = setup();
    api.missingNamespaces.add("db");
    await reconciler.reconcile();
    await reconciler.reconcile();
    expect(reconciler.state).toEqual({ phase: "Reporting" });
    expect(api.calls).toEqual(["discover", "list", "apply shop", "apply db", "discover"]); // db not tried again
    advance(RESYNC);
    await reconciler.reconcile();
    expect(api.calls.slice(5)).toEqual(["list", "apply db", "discover"]);

    api.crd = false;
    nfs.items = [nodeFindings([finding("shop", { message: "OOM-killed twice" })])];
    await expect(reconciler.reconcile()).rejects.toThrow("not found");
    expect(reconciler.state).toMatchObject({ phase: "Failed" });
    expect(await reconciler.reconcile()).toEqual({ requeueAfterMs: RESYNC });
    expect(reconciler.state).toEqual({ phase: "CRDNotInstalled" });
  });

  test("reports of an earlier run are deleted at the first reconcile, even when no policy asks any more", async () => {
    const { api, reconciler } = setup([policy("on", false)]);
    api.reports.set("old", { apiVersion: "wgpolicyk8s.io/v1alpha2", kind: "PolicyReport", metadata: { name: "xander", namespace: "old", uid: "u-old" } });
    await reconciler.reconcile();
    expect(api.calls).toEqual(["discover", "list", "delete old uid=u-old"]);
    await reconciler.reconcile(); // nothing asked for, nothing left: no API calls at all
    expect(api.calls).toHaveLength(3);
  });
});
