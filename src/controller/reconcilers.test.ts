import type { KubeObject } from "../api/meta.js";
import type { NodeFindings, StarvationPolicy } from "../api/types.generated.js";
import type { KubeClient } from "../kube/client.js";
import { silentLogger } from "../util/log.js";
import { agentConfigMap, type ConfigMap } from "./agent-config.js";
import { AgentReconciler } from "./agent-reconciler.js";
import type { Cache, Node } from "./cache.js";
import { agentDaemonSet, type AgentSettings, type DaemonSet } from "./daemonset.js";
import { FindingsView } from "../report/findings-view.js";
import { desiredNodeFindings, NodeReconciler } from "./node-reconciler.js";
import { PolicyReconciler } from "./policy-reconciler.js";

class MapCache<T extends KubeObject> implements Cache<T> {
  readonly items = new Map<string, T>();
  constructor(...objs: T[]) {
    for (const o of objs) this.put(o);
  }
  put(o: T): void {
    this.items.set(`${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`, o);
  }
  get(name: string, namespace?: string): T | undefined {
    return this.items.get(`${namespace ?? ""}/${name}`);
  }
  list(): T[] {
    return [...this.items.values()];
  }
}

/** Records writes; answers applies with the object and a new resourceVersion. */
class FakeClient {
  readonly calls: string[] = [];
  readonly applied: KubeObject[] = [];
  readonly statuses: KubeObject[] = [];
  private rv = 100;
  apply<T extends KubeObject>(obj: T): Promise<T> {
    this.calls.push(`apply ${obj.kind ?? ""} ${obj.metadata?.name ?? ""}`);
    this.applied.push(obj);
    return Promise.resolve({ ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } });
  }
  applyStatus<T extends KubeObject>(obj: T): Promise<T> {
    this.calls.push(`status ${obj.kind ?? ""} ${obj.metadata?.name ?? ""}`);
    this.statuses.push(obj);
    return Promise.resolve(obj);
  }
  /** Objects `get` answers, by "Kind namespace/name"; a value that is an Error is thrown. */
  readonly objects = new Map<string, KubeObject | Error>();
  get(ref: { kind: string; name: string; namespace?: string }): Promise<KubeObject | undefined> {
    const key = `${ref.kind} ${ref.namespace ?? ""}/${ref.name}`;
    this.calls.push(`get ${key}`);
    const found = this.objects.get(key);
    return found instanceof Error ? Promise.reject(found) : Promise.resolve(found);
  }
  delete(ref: { kind: string; name: string }, opts: { uid?: string } = {}): Promise<boolean> {
    this.calls.push(`delete ${ref.kind} ${ref.name}${opts.uid === undefined ? "" : ` uid=${opts.uid}`}`);
    return Promise.resolve(true);
  }
}

const log = silentLogger();
const node = (name: string, uid = `uid-${name}`): Node => ({ apiVersion: "v1", kind: "Node", metadata: { name, uid } });
const nf = (name: string, over: Partial<NodeFindings["metadata"]> = {}): NodeFindings => ({ ...desiredNodeFindings(node(name)), metadata: { ...desiredNodeFindings(node(name)).metadata, uid: `nf-${name}`, ...over } });
const policy = (name: string, spec: StarvationPolicy["spec"] = {}): StarvationPolicy => ({ apiVersion: "xander.io/v1alpha1", kind: "StarvationPolicy", metadata: { name, generation: 1 }, spec });

describe("NodeReconciler", () => {
  const setup = (nodes: Node[], nfs: NodeFindings[]) => {
    const client = new FakeClient();
    const r = new NodeReconciler({ client: client as unknown as KubeClient, nodes: new MapCache(...nodes), nodeFindings: new MapCache(...nfs), log });
    return { client, r };
  };

  test("a Node without NodeFindings gets one", async () => {
    const { client, r } = setup([node("a")], []);
    await r.reconcile("a");
    expect(client.calls).toEqual(["apply NodeFindings a"]);
    expect(client.applied[0]).toEqual(desiredNodeFindings(node("a")));
  });

  test("an up-to-date NodeFindings is left alone (agent heartbeats cost no writes)", async () => {
    const { client, r } = setup([node("a")], [{ ...nf("a"), status: { summary: { critical: 2 } } }]);
    await r.reconcile("a");
    expect(client.calls).toEqual([]);
  });

  test("a NodeFindings whose Node is gone is deleted, with a uid precondition", async () => {
    const { client, r } = setup([], [nf("gone")]);
    await r.reconcile("gone");
    expect(client.calls).toEqual(["delete NodeFindings gone uid=nf-gone"]);
  });

  test("a Node being deleted has its NodeFindings deleted, not recreated", async () => {
    const { client, r } = setup([{ ...node("a"), metadata: { name: "a", uid: "uid-a", deletionTimestamp: "2025-01-01T00:00:00Z" } }], [nf("a")]);
    await r.reconcile("a");
    expect(client.calls).toEqual(["delete NodeFindings a uid=nf-a"]);
  });

  test("a NodeFindings pointing at another node (spec.nodeName is immutable) is replaced", async () => {
    const { client, r } = setup([node("a")], [{ ...nf("a"), spec: { nodeName: "b" } }]);
    expect(await r.reconcile("a")).toEqual({ requeueAfterMs: 0 });
    expect(client.calls).toEqual(["delete NodeFindings a uid=nf-a"]);
  });

  test("nothing to do for a name that is neither a Node nor a NodeFindings", async () => {
    const { client, r } = setup([], []);
    await r.reconcile("nobody");
    expect(client.calls).toEqual([]);
  });
});

const settings: AgentSettings = {
  namespace: "xs",
  image: "img:1",
  imagePullPolicy: "IfNotPresent",
  serviceAccountName: "xander-agent",
  tolerations: [],
  nodeSelector: {},
  resources: {},
};

describe("AgentReconciler", () => {
  const setup = (policies: StarvationPolicy[], ds: DaemonSet[] = [], cms: ConfigMap[] = [], agentSettings: AgentSettings = settings) => {
    const client = new FakeClient();
    let changes = 0;
    const r = new AgentReconciler({
      client: client as unknown as KubeClient,
      settings: agentSettings,
      policies: new MapCache(...policies),
      daemonSets: new MapCache(...ds),
      configMaps: new MapCache(...cms),
      log,
      onStateChange: () => {
        changes++;
      },
    });
    return { client, r, changes: () => changes };
  };

  test("with a policy, applies the config and the DaemonSet", async () => {
    const { client, r } = setup([policy("p")]);
    await r.reconcile();
    expect(client.calls).toEqual(["apply ConfigMap xander-agent-config", "apply DaemonSet xander-agent"]);
  });

  test("when both are as desired (server defaults added), applies nothing", async () => {
    const ds = agentDaemonSet(settings);
    const live: DaemonSet = { ...ds, metadata: { ...ds.metadata, uid: "u", resourceVersion: "7" }, status: { desiredNumberScheduled: 3 } };
    const { client, r } = setup([policy("p")], [live], [agentConfigMap("xs", [policy("p")])]);
    await r.reconcile();
    expect(client.calls).toEqual([]);
  });

  test("a drifted image is re-applied", async () => {
    const ds = agentDaemonSet(settings);
    const drifted = structuredClone(ds);
    drifted.spec!.template.spec.containers[0]!.image = "evil:1";
    const { client, r } = setup([policy("p")], [drifted], [agentConfigMap("xs", [policy("p")])]);
    await r.reconcile();
    expect(client.calls).toEqual(["apply DaemonSet xander-agent"]);
  });

  test("without any policy, deletes the DaemonSet and config it manages, and nothing else", async () => {
    const ours = agentDaemonSet(settings);
    const { client, r } = setup([], [ours], [{ ...agentConfigMap("xs", []), metadata: { name: "xander-agent-config", namespace: "xs", labels: {} } }]);
    await r.reconcile();
    expect(client.calls).toEqual(["delete DaemonSet xander-agent"]);
  });

  const deployment = (uid: string, deleting = false): KubeObject => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "xander-controller", namespace: "xs", uid, ...(deleting ? { deletionTimestamp: "2025-01-01T00:00:00Z" } : {}) },
  });
  const ownerRef = (uid: string) => [{ apiVersion: "apps/v1", kind: "Deployment", name: "xander-controller", uid }];
  const owners = (client: FakeClient) => client.applied.map((o) => `${o.kind ?? ""} ${o.metadata?.ownerReferences?.[0]?.uid ?? "-"}`);
  const owned = () => setup([policy("p")], [], [], { ...settings, ownerDeployment: "xander-controller" });

  test("with --owner-deployment, the controller's Deployment owns both objects", async () => {
    const { client, r } = owned();
    client.objects.set("Deployment xs/xander-controller", deployment("dep-1"));
    await r.reconcile();
    expect(client.applied.map((o) => [o.kind, o.metadata?.ownerReferences])).toEqual([
      ["ConfigMap", ownerRef("dep-1")],
      ["DaemonSet", ownerRef("dep-1")],
    ]);
  });

  test("a Deployment created again (new UID) becomes the owner at the next reconcile, so the GC keeps the agents", async () => {
    const { client, r } = owned();
    client.objects.set("Deployment xs/xander-controller", deployment("dep-1"));
    await r.reconcile();
    client.objects.set("Deployment xs/xander-controller", deployment("dep-2"));
    await r.reconcile();
    expect(owners(client)).toEqual(["ConfigMap dep-1", "DaemonSet dep-1", "ConfigMap dep-2", "DaemonSet dep-2"]);
  });

  test("once the Deployment is being deleted or gone, the agents are not put back (uninstall)", async () => {
    const { client, r } = owned();
    client.objects.set("Deployment xs/xander-controller", deployment("dep-1"));
    await r.reconcile();
    client.objects.set("Deployment xs/xander-controller", deployment("dep-1", true));
    await r.reconcile();
    client.objects.delete("Deployment xs/xander-controller");
    await r.reconcile();
    expect(owners(client)).toEqual(["ConfigMap dep-1", "DaemonSet dep-1"]);
    expect(r.applyError).toBeUndefined();
  });

  test("an unreadable owner leaves the agents unowned but running; a read error after that keeps the last owner", async () => {
    const { client, r } = owned();
    client.objects.set("Deployment xs/xander-controller", new Error("cannot get Deployment xs/xander-controller: forbidden"));
    await r.reconcile();
    expect(r.applyError).toBeUndefined();
    client.objects.set("Deployment xs/xander-controller", deployment("dep-1"));
    await r.reconcile();
    client.objects.set("Deployment xs/xander-controller", new Error("cannot get Deployment xs/xander-controller: connection refused"));
    await r.reconcile();
    expect(owners(client)).toEqual(["ConfigMap -", "DaemonSet -", "ConfigMap dep-1", "DaemonSet dep-1", "ConfigMap dep-1", "DaemonSet dep-1"]);
  });

  test("an apply failure is reported to policy status, and cleared by the next success", async () => {
    const { client, r, changes } = setup([policy("p")]);
    client.apply = () => Promise.reject(new Error("cannot apply DaemonSet xs/xander-agent: forbidden"));
    await expect(r.reconcile()).rejects.toThrow(/forbidden/);
    expect(r.applyError).toMatch(/forbidden/);
    expect(changes()).toBe(1);
    client.apply = FakeClient.prototype.apply.bind(client);
    await r.reconcile();
    expect(r.applyError).toBeUndefined();
    expect(changes()).toBe(2);
  });
});

describe("PolicyReconciler", () => {
  const setup = (p: StarvationPolicy, ds: DaemonSet[] = [agentDaemonSet(settings)], applyError?: string) => {
    const client = new FakeClient();
    const policies = new MapCache(p);
    const r = new PolicyReconciler({
      client: client as unknown as KubeClient,
      namespace: "xs",
      policies,
      daemonSets: new MapCache(...ds),
      nodes: new MapCache(node("a"), node("b")),
      view: new FindingsView(() => [], () => 60_000),
      agentApplyError: () => applyError,
      resyncMs: 300_000,
      log,
    });
    return { client, r, policies };
  };

  test("writes status through /status and asks to look again within a heartbeat", async () => {
    const { client, r } = setup(policy("p", { reporting: { heartbeat: "20s" } }));
    expect(await r.reconcile("p")).toEqual({ requeueAfterMs: 20_000 });
    expect(client.calls).toEqual(["status StarvationPolicy p"]);
    const status = (client.statuses[0] as StarvationPolicy).status!;
    expect(status.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
    expect(status.nodes).toEqual({ desired: 2, reporting: 0, stale: 0 });
  });

  test("does not write a status equal to the stored one", async () => {
    const { client, r, policies } = setup(policy("p"));
    await r.reconcile("p");
    policies.put({ ...policy("p"), status: (client.statuses[0] as StarvationPolicy).status! });
    await r.reconcile("p");
    expect(client.calls).toHaveLength(1);
  });

  test("the DaemonSet's desiredNumberScheduled is the desired node count when known", async () => {
    const ds = { ...agentDaemonSet(settings), status: { desiredNumberScheduled: 1 } };
    const { client, r } = setup(policy("p"), [ds]);
    await r.reconcile("p");
    expect((client.statuses[0] as StarvationPolicy).status?.nodes?.desired).toBe(1);
  });

  test("a deleted policy needs nothing", async () => {
    const { client, r } = setup(policy("p"));
    expect(await r.reconcile("other")).toBeUndefined();
    expect(client.calls).toEqual([]);
  });
});
