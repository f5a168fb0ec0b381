// Smoke suite for the real control plane the integration globalSetup starts
// (etcd + kube-apiserver + kube-controller-manager built from Go modules).
// It proves the features other suites rely on, with a throwaway CRD of its own.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  Watch,
  setHeaderOptions,
  type KubernetesObject,
  type V1ConfigMap,
  type V1ObjectMeta,
} from "@kubernetes/client-node";
import {
  createNamespace,
  createNode,
  createPod,
  decodeJwt,
  deleteNamespace,
  deleteNode,
  installCrds,
  kubeconfigForToken,
  kubectl,
  loadKubeConfig,
  mintPodBoundToken,
  mintServiceAccountToken,
  model,
  poll,
  serverSideApply,
  setPodStatus,
  statusOf,
  waitForCrdDiscovery,
} from "../cluster/index.js";

const GROUP = "smoke.xander.io";
const VERSION = "v1";

interface Widget extends KubernetesObject {
  spec?: { size?: number; color?: string };
  status?: { phase?: string; observed?: number };
}

const widgetCrd = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.${GROUP}
spec:
  group: ${GROUP}
  scope: Namespaced
  names: { plural: widgets, singular: widget, kind: Widget, listKind: WidgetList }
  versions:
    - name: ${VERSION}
      served: true
      storage: true
      subresources: { status: {} }
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: { type: integer }
                color: { type: string }
            status:
              type: object
              properties:
                phase: { type: string }
                observed: { type: integer }
`;

const gadgetCrd = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.${GROUP}
spec:
  group: ${GROUP}
  scope: Cluster
  names: { plural: gadgets, singular: gadget, kind: Gadget }
  versions:
    - name: ${VERSION}
      served: true
      storage: true
      schema:
        openAPIV3Schema: { type: object, x-kubernetes-preserve-unknown-fields: true }
`;

const widget = (namespace: string, name: string, spec: Widget["spec"]): Widget => ({
  apiVersion: `${GROUP}/${VERSION}`,
  kind: "Widget",
  metadata: model<V1ObjectMeta>({ name, namespace }),
  spec,
});

// Budget for the tests that wait on asynchronous controllers (GC, admission
// policy enforcement); their polls give up earlier, with a message.
const SLOW = 90_000;

let ns: string;
const nodes: string[] = [];

beforeAll(async () => {
  const applied = await kubectl(["apply", "-f", "-"], { input: widgetCrd });
  expect(applied.stderr).toBe("");
  expect(applied.code).toBe(0);
  await waitForCrdDiscovery(GROUP, VERSION, "widgets");
  ns = await createNamespace();
}, SLOW);

afterAll(async () => {
  for (const n of nodes) await deleteNode(n);
  await deleteNamespace(ns);
}, SLOW);

test("kubectl version reports the stamped server version", async () => {
  const r = await kubectl(["version", "-o", "json"]);
  expect(r.code).toBe(0);
  const v = JSON.parse(r.stdout) as { serverVersion: { gitVersion: string; major: string; minor: string } };
  expect(v.serverVersion).toMatchObject({ gitVersion: "v1.34.3", major: "1", minor: "34" });
});

test("kubectl apply creates an object of the CRD", async () => {
  const r = await kubectl(["apply", "-n", ns, "-f", "-"], {
    input: JSON.stringify(widget(ns, "applied", { size: 3, color: "red" })),
  });
  expect(r.code).toBe(0);
  expect(r.stdout).toContain(`widget.${GROUP}/applied created`);
  const got = await kubectl(["get", `widgets.${GROUP}`, "applied", "-n", ns, "-o", "jsonpath={.spec.color}"]);
  expect(got.stdout).toBe("red");
});

test("installCrds applies a directory of CRDs and waits for discovery", async () => {
  const dir = mkdtempSync(join(tmpdir(), "xander-crds-"));
  try {
    writeFileSync(join(dir, "gadgets.yaml"), gadgetCrd);
    writeFileSync(join(dir, "README.txt"), "not yaml, ignored");
    await expect(installCrds(dir)).resolves.toEqual([`gadgets.${GROUP}`]);
    const r = await kubectl(["get", `gadgets.${GROUP}`, "-o", "name"]);
    expect(r.code).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a watch sees an object created after it started", async () => {
  const kc = loadKubeConfig();
  const seen: { type: string; name: string }[] = [];
  let resolveSeen: () => void = () => undefined;
  const gotIt = new Promise<void>((resolve) => (resolveSeen = resolve));
  const watch = new Watch(kc);
  const ctl = await watch.watch(
    `/apis/${GROUP}/${VERSION}/namespaces/${ns}/widgets`,
    { allowWatchBookmarks: false },
    (type: string, obj: Widget) => {
      seen.push({ type, name: obj.metadata?.name ?? "" });
      if (type === "ADDED" && obj.metadata?.name === "watched") resolveSeen();
    },
    () => undefined,
  );
  let timer: NodeJS.Timeout | undefined;
  try {
    await serverSideApply(widget(ns, "watched", { size: 1 }));
    await Promise.race([
      gotIt,
      new Promise((_, reject) => {
        timer = setTimeout(() => {
          reject(new Error(`no ADDED event; saw ${JSON.stringify(seen)}`));
        }, 20_000);
      }),
    ]);
    expect(seen).toContainEqual({ type: "ADDED", name: "watched" });
  } finally {
    clearTimeout(timer);
    ctl.abort();
  }
}, SLOW);

test("server-side apply records the named field manager", async () => {
  const applied = await serverSideApply(widget(ns, "managed", { size: 2, color: "blue" }), "smoke-manager");
  const managers = (applied.metadata?.managedFields ?? []).map((f) => ({ manager: f.manager, operation: f.operation }));
  expect(managers).toContainEqual({ manager: "smoke-manager", operation: "Apply" });

  // A second manager applying a field the first owns conflicts unless forced.
  const r = await kubectl(["apply", "--server-side", "--field-manager=other", "-n", ns, "-f", "-"], {
    input: JSON.stringify(widget(ns, "managed", { color: "green" })),
  });
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain("conflict");
});

test("status is written only through the status subresource", async () => {
  const api = loadKubeConfig().makeApiClient(CustomObjectsApi);
  await serverSideApply(widget(ns, "statusful", { size: 5 }));
  const target = { group: GROUP, version: VERSION, namespace: ns, plural: "widgets", name: "statusful" };

  const patched = (await api.patchNamespacedCustomObjectStatus(
    { ...target, body: { status: { phase: "Ready", observed: 5 } } },
    mergePatch(),
  )) as Widget;
  expect(patched.status).toEqual({ phase: "Ready", observed: 5 });
  expect(patched.spec?.size).toBe(5);

  // A main-resource write that also carries status changes spec but not status.
  const main = (await api.patchNamespacedCustomObject(
    { ...target, body: { spec: { size: 6 }, status: { phase: "Hacked", observed: 0 } } },
    mergePatch(),
  )) as Widget;
  expect(main.spec?.size).toBe(6);
  expect(main.status).toEqual({ phase: "Ready", observed: 5 });

  // And a status write does not change spec.
  const statusWithSpec = (await api.patchNamespacedCustomObjectStatus(
    { ...target, body: { spec: { size: 99 }, status: { phase: "Done" } } },
    mergePatch(),
  )) as Widget;
  expect(statusWithSpec.spec?.size).toBe(6);
  expect(statusWithSpec.status?.phase).toBe("Done");
});

test("RBAC denies a ServiceAccount token with no bindings", async () => {
  expect((await kubectl(["create", "serviceaccount", "nobody", "-n", ns])).code).toBe(0);
  const token = await mintServiceAccountToken(ns, "nobody");
  const kubeconfig = kubeconfigForToken(token);

  const client = loadKubeConfig(kubeconfig).makeApiClient(CoreV1Api);
  const err: unknown = await client.listNode().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(statusOf(err)).toBe(403);

  const r = await kubectl(["get", "nodes"], { kubeconfig });
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain(`system:serviceaccount:${ns}:nobody`);
  expect(r.stderr).toContain("forbidden");

  // The same request as the admin is allowed, so the 403 is RBAC and not the request.
  await expect(loadKubeConfig().makeApiClient(CoreV1Api).listNode()).resolves.toBeDefined();
});

test("a Pod-bound token carries the node the Pod is bound to", async () => {
  const nodeName = `smoke-node-${ns}`;
  nodes.push(nodeName);
  const node = await createNode(nodeName, { "xander.io/test": "smoke" });
  expect(node.spec?.taints ?? []).toEqual([]);
  const pod = await createPod({ namespace: ns, name: "bound", nodeName, labels: { app: "smoke" } });
  expect(pod.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
  expect(pod.spec?.nodeName).toBe(nodeName);

  const token = await mintPodBoundToken({ namespace: ns, serviceAccount: "default", podName: "bound" });
  const { payload } = decodeJwt(token);
  const claims = payload["kubernetes.io"] as { node?: { name: string }; pod?: { name: string; uid: string } };
  expect(claims.node?.name).toBe(nodeName);
  expect(claims.pod).toEqual({ name: "bound", uid: pod.metadata?.uid });

  // The apiserver turns the claim into the user extra that node-scoped authorization reads.
  const whoami = await kubectl(["auth", "whoami", "-o", "json"], { kubeconfig: kubeconfigForToken(token) });
  expect(whoami.code).toBe(0);
  const review = JSON.parse(whoami.stdout) as { status: { userInfo: { extra?: Record<string, string[]> } } };
  expect(review.status.userInfo.extra?.["authentication.kubernetes.io/node-name"]).toEqual([nodeName]);
});

test("pod status is written through the status subresource, as a kubelet would", async () => {
  const nodeName = `smoke-status-${ns}`;
  nodes.push(nodeName);
  await createNode(nodeName);
  await createPod({ namespace: ns, name: "running", nodeName, containers: [{ name: "app" }] });
  const id = "a".repeat(64);
  const pod = await setPodStatus(ns, "running", {
    phase: "Running",
    podIP: "10.244.0.7",
    containerStatuses: [{ name: "app", containerID: `containerd://${id}`, ready: true, restartCount: 2 }],
  });
  expect(pod.status?.phase).toBe("Running");
  expect(pod.status?.qosClass).toBe("BestEffort");
  expect(pod.status?.podIP).toBe("10.244.0.7");
  expect(pod.status?.containerStatuses?.[0]).toMatchObject({ containerID: `containerd://${id}`, ready: true, restartCount: 2 });
  const r = await kubectl(["get", "pod", "running", "-n", ns, "-o", "jsonpath={.status.containerStatuses[0].containerID}"]);
  expect(r.stdout).toBe(`containerd://${id}`);
});

test("deleting a Node garbage-collects objects it owns", async () => {
  const nodeName = `smoke-gc-${ns}`;
  nodes.push(nodeName);
  const node = await createNode(nodeName);
  const core = loadKubeConfig().makeApiClient(CoreV1Api);
  await core.createNamespacedConfigMap({
    namespace: ns,
    body: model<V1ConfigMap>({
      metadata: {
        name: "owned-by-node",
        ownerReferences: [{ apiVersion: "v1", kind: "Node", name: nodeName, uid: node.metadata?.uid ?? "" }],
      },
      data: { a: "b" },
    }),
  });
  await deleteNode(nodeName);
  await poll(
    "the garbage collector to delete the owned ConfigMap",
    async () => {
      try {
        await core.readNamespacedConfigMap({ namespace: ns, name: "owned-by-node" });
        return undefined;
      } catch (err) {
        if (statusOf(err) === 404) return true;
        throw err;
      }
    },
    { timeoutMs: 60_000 },
  );
}, SLOW);

test("a ValidatingAdmissionPolicy rejects a violating write once enforced", async () => {
  const policy = `
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: { name: smoke-widget-size }
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
      - apiGroups: ["${GROUP}"]
        apiVersions: ["${VERSION}"]
        operations: ["CREATE", "UPDATE"]
        resources: ["widgets"]
  validations:
    - expression: "!has(object.spec.size) || object.spec.size <= 10"
      message: "widget size must be at most 10"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: { name: smoke-widget-size }
spec:
  policyName: smoke-widget-size
  validationActions: [Deny]
  matchResources:
    namespaceSelector:
      matchLabels: { kubernetes.io/metadata.name: ${ns} }
`;
  const applied = await kubectl(["apply", "-f", "-"], { input: policy });
  expect(applied.code).toBe(0);

  let attempt = 0;
  const rejection = await poll(
    "the policy to be enforced",
    async () => {
      const r = await kubectl(["create", "-n", ns, "-f", "-"], {
        input: JSON.stringify(widget(ns, `too-big-${attempt++}`, { size: 100 })),
      });
      return r.code !== 0 ? r.stderr : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
  expect(rejection).toContain("smoke-widget-size");
  expect(rejection).toContain("widget size must be at most 10");

  const ok = await kubectl(["create", "-n", ns, "-f", "-"], { input: JSON.stringify(widget(ns, "small", { size: 4 })) });
  expect(ok.code).toBe(0);
  await kubectl(["delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", "smoke-widget-size"]);
}, SLOW);

function mergePatch(): ReturnType<typeof setHeaderOptions> {
  return setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
}
