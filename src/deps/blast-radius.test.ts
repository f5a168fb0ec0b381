import { blastRadius, blastRadiusPhrase, type BlastRadius, type EdgeLike } from "./blast-radius.js";
import { buildPeerIndex } from "./resolve.js";
import { shop } from "./testing.js";

const index = buildPeerIndex(shop());

const inbound = (victim: string, callerIp: string, connections = 1, lastSeenMs = 1000): EdgeLike => ({
  fromPodUid: victim,
  direction: "inbound",
  peer: { ip: callerIp, port: null },
  connections,
  lastSeenMs,
});
const outbound = (from: string, ip: string, port: number, connections = 1, lastSeenMs = 1000): EdgeLike => ({
  fromPodUid: from,
  direction: "outbound",
  peer: { ip, port },
  connections,
  lastSeenMs,
});

describe("blastRadius", () => {
  it("names the distinct calling workloads, resolved to their owners, busiest first", () => {
    const radius = blastRadius(
      "uid-api-1",
      [
        inbound("uid-api-1", "10.244.1.10", 4), // web (pod 1)
        inbound("uid-api-1", "10.244.2.10", 2), // web (pod 2): same workload
        inbound("uid-api-1", "10.244.1.11", 3), // checkout
        inbound("uid-api-1", "10.244.2.12", 1), // worker → CronJob nightly
        outbound("uid-api-1", "10.96.0.20", 5432, 9), // the victim's own calls are not callers
      ],
      index,
    );
    expect(radius.victim).toEqual({ uid: "uid-api-1", namespace: "shop", name: "api-1" });
    expect(radius.callers.map((c) => [c.kind, c.name, c.connections])).toEqual([
      ["Deployment", "web", 6],
      ["Deployment", "checkout", 3],
      ["CronJob", "nightly", 1],
    ]);
  });

  it("counts a caller's outbound edges to a Service the victim backs, and to the victim's IP", () => {
    const radius = blastRadius(
      "uid-db-0",
      [
        outbound("uid-web-7d9f-abcde", "10.96.0.20", 5432, 2), // via Service db (endpoint not ready)
        outbound("uid-checkout-5c6b7d-xyz12", "10.244.3.30", 5433), // straight to the pod
        outbound("uid-debug", "10.96.0.10", 80), // Service api: not the victim's
        outbound("uid-monitor-1", "10.96.0.20", 5432),
      ],
      index,
    );
    expect(radius.callers.map((c) => `${c.namespace ?? ""}/${c.name}:${c.seenFrom.join("+")}`)).toEqual(["shop/web:caller", "shop/checkout:caller", "ops/monitor:caller"]);
  });

  it("merges what both ends saw of one caller without double counting", () => {
    const radius = blastRadius("uid-api-2", [inbound("uid-api-2", "10.244.1.10", 3, 5000), outbound("uid-web-7d9f-abcde", "10.96.0.10", 80, 2, 4000)], index);
    expect(radius.callers).toEqual([{ kind: "Deployment", namespace: "shop", name: "web", connections: 3, lastSeenMs: 5000, seenFrom: ["victim", "caller"] }]);
  });

  it("lists unknown callers by IP, and a caller pod the API no longer knows by UID", () => {
    const radius = blastRadius("uid-api-1", [inbound("uid-api-1", "172.16.0.9"), outbound("uid-gone", "10.244.1.20", 8080)], index);
    expect(radius.callers.map((c) => [c.kind, c.name])).toEqual([
      ["External", "172.16.0.9"],
      ["Pod", "uid-gone"],
    ]);
  });
});

describe("blastRadiusPhrase", () => {
  const radius = (names: string[], namespace = "shop"): BlastRadius => ({
    victim: { uid: "v", namespace: "shop" },
    callers: names.map((name) => ({ kind: "Deployment", namespace, name, connections: 1, lastSeenMs: 0, seenFrom: ["victim"] })),
  });

  it("reads as a sentence", () => {
    expect(blastRadiusPhrase(radius(["web", "checkout", "worker"]))).toBe("3 callers affected: web, checkout, worker");
    expect(blastRadiusPhrase(radius(["web"]))).toBe("1 caller affected: web");
    expect(blastRadiusPhrase(radius([]))).toBe("no callers seen");
  });

  it("qualifies callers from other namespaces and shortens long lists", () => {
    expect(blastRadiusPhrase(radius(["monitor"], "ops"))).toBe("1 caller affected: ops/monitor");
    expect(blastRadiusPhrase(radius(["a", "b", "c", "d", "e", "f", "g"]), { maxNames: 3 })).toBe("7 callers affected: a, b, c and 4 more");
  });
});
