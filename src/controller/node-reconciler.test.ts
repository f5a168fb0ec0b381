import type { NodeFindings } from "../api/types.generated.js";
import { slimNode } from "./cache.js";
import { desiredNodeFindings, nodeFindingsUpToDate } from "./node-reconciler.js";

const node = { apiVersion: "v1", kind: "Node", metadata: { name: "worker-1", uid: "uid-1" } };

describe("desiredNodeFindings", () => {
  test("is named after the node, points spec.nodeName at it, and is owned by it without blocking its deletion", () => {
    const nf = desiredNodeFindings(node);
    expect(nf.metadata.name).toBe("worker-1");
    expect(nf.spec).toEqual({ nodeName: "worker-1" });
    expect(nf.metadata.ownerReferences).toEqual([{ apiVersion: "v1", kind: "Node", name: "worker-1", uid: "uid-1", controller: true, blockOwnerDeletion: false }]);
    expect(nf.metadata.labels).toEqual({ "app.kubernetes.io/managed-by": "xander" });
    expect(nf).not.toHaveProperty("status"); // the agent's
  });
});

describe("nodeFindingsUpToDate", () => {
  const live = (over: Partial<NodeFindings["metadata"]> = {}): NodeFindings => ({ ...desiredNodeFindings(node), metadata: { ...desiredNodeFindings(node).metadata, uid: "nf", ...over } });

  test("an object as applied, plus agent status, needs no write", () => {
    expect(nodeFindingsUpToDate({ ...live(), status: { summary: { critical: 1 } } }, node)).toBe(true);
  });

  test("a Node recreated under the same name (new uid) needs its owner reference updated", () => {
    expect(nodeFindingsUpToDate(live(), { ...node, metadata: { name: "worker-1", uid: "uid-2" } })).toBe(false);
  });

  test("a removed label or owner reference is put back", () => {
    expect(nodeFindingsUpToDate(live({ labels: {} }), node)).toBe(false);
    expect(nodeFindingsUpToDate(live({ ownerReferences: [] }), node)).toBe(false);
  });
});

describe("slimNode", () => {
  const full = {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name: "worker-1", uid: "uid-1", resourceVersion: "42", deletionTimestamp: "2026-01-01T00:00:00Z", labels: { "kubernetes.io/os": "linux" }, managedFields: [{ manager: "kubelet" }] },
    spec: { podCIDR: "10.244.1.0/24" },
    status: { images: [{ names: ["registry.k8s.io/pause:3.10"], sizeBytes: 320000 }], conditions: [{ type: "Ready", status: "True" }] },
  };

  test("keeps what the reconcilers read and the watch resumes on, and drops the kubelet's status", () => {
    expect(slimNode(full)).toEqual({ apiVersion: "v1", kind: "Node", metadata: { name: "worker-1", uid: "uid-1", resourceVersion: "42", deletionTimestamp: "2026-01-01T00:00:00Z" } });
  });

  test("a slimmed Node owns its NodeFindings as the full one does", () => {
    expect(desiredNodeFindings(slimNode(full))).toEqual(desiredNodeFindings(full));
    expect(nodeFindingsUpToDate({ ...desiredNodeFindings(full), metadata: { ...desiredNodeFindings(full).metadata, uid: "nf" } }, slimNode(full))).toBe(true);
  });
});
