import type { KubeObject } from "../api/meta.js";
import type { NodeFindings, StarvationPolicy } from "../api/types.generated.js";
import type { KubeClient } from "../kube/client.js";
import { silentLogger } from "../util/log.js";
import { agentConfigMap, type ConfigMap } from "./agent-config.js";
import { AgentReconciler } from "./agent-reconciler.js";
import type { Cache, Node } from "./cache.js";
import { agentDaemonSet, type AgentSettings, type DaemonSet } from "./daemonset.js";
import { FindingsView } from "./findings-view.js";
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

  test("with --owner-deployment, the controller's Deployment owns both objects; read once", async () => {
    const { client, r } = setup([policy("p")], [], [], { ...settings, ownerDeployment: "xander-controller" });
    client.objects.set("Deployment xs/xander-controller", { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "xander-controller", namespace: "xs", uid: "dep-uid" } });
    await r.reconcile();
    await r.reconcile();
    expect(client.calls.filter((c) => c.startsWith("get"))).toEqual(["get Deployment xs/xander-controller"]);
    const owner = { apiVersion: "apps/v1", kind: "Deployment", name: "xander-controller", uid: "dep-uid" };
    expect(client.applied.map((o) => [o.kind, o.metadata?.ownerReferences])).toEqual([
      ["ConfigMap", [owner]],
      ["DaemonSet", [owner]],
      ["ConfigMap", [owner]],
      ["DaemonSet", [owner]],
    ]);
  });

  test("an unreadable owner Deployment leaves the agents unowned but running, and is tried again", async () => {
    const { client, r } = setup([policy("p")], [], [], { ...settings, ownerDeployment: "xander-controller" });
    client.objects.set("Deployment xs/xander-controller", new Error("cannot get Deployment xs/xander-controller: forbidden"));
    await r.reconcile();
    expect(r.applyError).toBeUndefined();
    expect(client.applied.map((o) => [o.kind, o.metadata?.ownerReferences])).toEqual([
      ["ConfigMap", undefined],
      ["DaemonSet", undefined],
    ]);
    client.objects.set("Deployment xs/xander-controller", { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "xander-controller", namespace: "xs", uid: "dep-uid" } });
    await r.reconcile();
    expect(client.applied.at(-1)?.metadata?.ownerReferences).toEqual([{ apiVersion: "apps/v1", kind: "Deployment", name: "xander-controller", uid: "dep-uid" }]);
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
