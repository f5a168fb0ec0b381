import { buildPeerIndex, cronJobOfJobName, ownerOf, resolvePeer } from "./resolve.js";
import { pod, shop } from "./testing.js";

const index = buildPeerIndex(shop());

describe("resolvePeer", () => {
  it("maps a ClusterIP and service port to the Service and its target port", () => {
    expect(resolvePeer("10.96.0.10", 80, index)).toEqual({ kind: "Service", namespace: "shop", name: "api", port: 80, targetPort: 8080 });
  });

  it("resolves a named target port through the endpoints' published port", () => {
    expect(resolvePeer("10.96.0.20", 5432, index)).toEqual({ kind: "Service", namespace: "shop", name: "db", port: 5432, targetPort: 5433 });
  });

  it("still names the Service when its ClusterIP is dialled on a port it does not expose (UDP-only, or none)", () => {
    expect(resolvePeer("10.96.0.20", 53, index)).toEqual({ kind: "Service", namespace: "shop", name: "db", port: 53 });
  });

  it("maps a pod IP to the Pod and its top-level owner", () => {
    expect(resolvePeer("10.244.1.10", 8080, index)).toEqual({
      kind: "Pod",
      namespace: "shop",
      name: "web-7d9f-abcde",
      uid: "uid-web-7d9f-abcde",
      owner: { kind: "Deployment", namespace: "shop", name: "web" },
    });
  });

  it("lets a running pod, not a finished one that kept the same IP, claim the address", () => {
    expect(resolvePeer("10.244.3.31", null, index)).toMatchObject({ kind: "Pod", name: "debug" });
  });

  it("gives an IP that two running pods claim to neither, and names them", () => {
    const view = shop();
    const twin = pod("shop", "twin", "10.244.1.10");
    const shared = buildPeerIndex({ ...view, pods: [...view.pods, twin] });
    expect(resolvePeer("10.244.1.10", 8080, shared)).toEqual({ kind: "External", ip: "10.244.1.10" });
    expect(shared.ambiguousIps).toEqual(new Map([["10.244.1.10", ["shop/twin", "shop/web-7d9f-abcde"]]]));
    expect(index.ambiguousIps.size).toBe(0);
  });

  it("never maps the node IP of hostNetwork pods to one of them", () => {
    expect(resolvePeer("192.168.0.5", 9100, index)).toEqual({ kind: "External", ip: "192.168.0.5" });
  });

  it("an inbound peer (no port) on a ClusterIP address is not a Service, and unknown IPs are External", () => {
    expect(resolvePeer("10.96.0.10", null, index)).toEqual({ kind: "External", ip: "10.96.0.10" });
    expect(resolvePeer("8.8.8.8", 443, index)).toEqual({ kind: "External", ip: "8.8.8.8" });
  });

  it("a headless Service has no address of its own", () => {
    expect(index.services.has("None|5432")).toBe(false);
  });
});

describe("ownerOf", () => {
  const ownerName = (name: string) => {
    const p = shop().pods.find((x) => x.metadata.name === name);
    if (!p) throw new Error(name);
    return ownerOf(p, index);
  };

  it("follows Pod → ReplicaSet → Deployment, and Job → CronJob, through the controllers the index knows", () => {
    expect(ownerName("web-7d9f-fghij")).toEqual({ kind: "Deployment", namespace: "shop", name: "web" });
    expect(ownerName("worker-28901-q1w2e")).toEqual({ kind: "CronJob", namespace: "shop", name: "nightly" });
    expect(ownerName("db-0")).toEqual({ kind: "StatefulSet", namespace: "shop", name: "db" });
  });

  it("recognises a Deployment's ReplicaSet by the pod-template-hash suffix when the ReplicaSet is not in view", () => {
    expect(ownerName("checkout-5c6b7d-xyz12")).toEqual({ kind: "Deployment", namespace: "shop", name: "checkout" });
  });

  it("recognises a CronJob's Job by the scheduled-time suffix when the Job is not in view, and not a dated Job", () => {
    // 29012345 Unix minutes is in 2025: the name the CronJob controller gives a run of "report".
    expect(ownerOf(pod("b", "report-29012345-x1", "1.2.3.5", { kind: "Job", name: "report-29012345" }), index)).toEqual({ kind: "CronJob", namespace: "b", name: "report" });
    expect(ownerOf(pod("b", "backup-20250101-x", "1.2.3.6", { kind: "Job", name: "backup-20250101" }), index)).toEqual({ kind: "Job", namespace: "b", name: "backup-20250101" });
    expect(cronJobOfJobName("nightly-etl-28000000")).toBe("nightly-etl");
    expect(cronJobOfJobName("migrate-7")).toBeUndefined();
    expect(cronJobOfJobName("x-1234567890")).toBeUndefined();
    expect(cronJobOfJobName("-29012345")).toBeUndefined();
  });

  it("leaves a bare ReplicaSet alone and gives no owner to a bare pod", () => {
    expect(ownerOf(pod("x", "p", "1.2.3.4", { kind: "ReplicaSet", name: "handmade" }), index)).toEqual({ kind: "ReplicaSet", namespace: "x", name: "handmade" });
    expect(ownerName("debug")).toBeUndefined();
  });

  it("stops on an owner cycle", () => {
    const loop = buildPeerIndex({
      pods: [],
      controllers: [
        { kind: "A", metadata: { namespace: "n", name: "a", ownerReferences: [{ kind: "B", name: "b", controller: true }] } },
        { kind: "B", metadata: { namespace: "n", name: "b", ownerReferences: [{ kind: "A", name: "a", controller: true }] } },
      ],
    });
    expect(ownerOf(pod("n", "p", undefined, { kind: "A", name: "a" }), loop)?.kind).toMatch(/^[AB]$/);
  });
});

describe("service backends", () => {
  it("come from EndpointSlice target refs (by uid, else by name) and from Endpoints, not-ready addresses included", () => {
    expect(index.backends.get("shop/api")).toEqual(new Set(["uid-api-1", "uid-api-2"]));
    expect(index.backends.get("shop/db")).toEqual(new Set(["uid-db-0"]));
  });
});
