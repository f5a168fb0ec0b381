/**
 * KubeClient.list on the real apiserver: page by page, each item plain JSON as the apiserver sent it (parsed once,
 * not through client-node's model classes), with its apiVersion and kind, and the transform applied per item.
 */
import { randomBytes } from "node:crypto";
import type { KubeObject } from "../../src/api/meta.js";
import { KubeClient } from "../../src/kube/client.js";
import { NAMESPACE } from "../../src/kube/resources.js";
import { loadKubeConfig } from "../cluster/index.js";

const CONFIG_MAP = { apiVersion: "v1", kind: "ConfigMap" } as const;
const FIELD_MANAGER = "xander-test";
const COUNT = 7;

const client = new KubeClient(loadKubeConfig());
const namespace = `list-${randomBytes(3).toString("hex")}`;
const paths: string[] = [];

beforeAll(async () => {
  client.onRequest((method, resource) => {
    if (method === "GET" && resource.includes("configmaps")) paths.push(resource);
  });
  await client.ensureNamespace(namespace, FIELD_MANAGER);
  for (let i = 0; i < COUNT; i++) {
    await client.create({ ...CONFIG_MAP, metadata: { name: `cm-${i}`, namespace, labels: { parity: i % 2 === 0 ? "even" : "odd" } }, data: { i: String(i) } } as KubeObject, FIELD_MANAGER);
  }
});

afterAll(async () => {
  await client.delete({ ...NAMESPACE, name: namespace });
});

// The label selector leaves out the kube-root-ca.crt ConfigMap that the controller manager adds to every namespace.
test("a list read in pages returns every item once, as plain JSON with its kind", async () => {
  paths.length = 0;
  const { items, resourceVersion } = await client.list<KubeObject & { data?: Record<string, string> }>(CONFIG_MAP, { namespace, pageSize: 3, labelSelector: "parity" });
  expect(paths).toHaveLength(3);
  expect(resourceVersion).toMatch(/^\d+$/);
  expect(items.map((item) => item.metadata?.name).sort()).toEqual(Array.from({ length: COUNT }, (_, i) => `cm-${i}`));
  for (const item of items) {
    expect(Object.getPrototypeOf(item)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(item.metadata)).toBe(Object.prototype);
    expect(item).toMatchObject({ apiVersion: "v1", kind: "ConfigMap", metadata: { namespace } });
    expect(typeof item.metadata?.creationTimestamp).toBe("string");
    expect(item.data?.i).toBe(item.metadata?.name?.slice(3));
  }
});

test("the transform sees every item as it arrives, and a label selector narrows the list", async () => {
  const seen: string[] = [];
  const { items } = await client.list(CONFIG_MAP, {
    namespace,
    pageSize: 2,
    labelSelector: "parity=even",
    transform: (obj) => {
      seen.push(obj.metadata?.name ?? "");
      return { apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name: obj.metadata?.name } };
    },
  });
  expect([...seen].sort()).toEqual(["cm-0", "cm-2", "cm-4", "cm-6"]);
  expect(items).toEqual(seen.map((name) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name } })));
});
