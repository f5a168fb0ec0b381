import fc from "fast-check";
import type { Socket, TcpState } from "../procfs/net.js";
import { EdgeTracker, edgesFromPlan, edgesFromSockets, planNamespaces, type ObservedEdge } from "./edges.js";

function sock(la: string, lp: number, ra: string, rp: number, state: TcpState = "ESTABLISHED"): Socket {
  return { localAddress: la, localPort: lp, remoteAddress: ra, remotePort: rp, state, inode: 1, uid: 0 };
}

const SERVER: Socket[] = [
  sock("0.0.0.0", 8080, "0.0.0.0", 0, "LISTEN"),
  sock("10.244.0.2", 8080, "10.244.0.3", 40000),
  sock("10.244.0.2", 8080, "10.244.0.3", 40001),
  sock("10.244.0.2", 8080, "10.244.0.3", 40002, "TIME_WAIT"),
  sock("10.244.0.2", 8080, "10.244.0.4", 50000),
  sock("10.244.0.2", 41000, "10.96.0.10", 5432),
  sock("10.244.0.2", 41001, "10.96.0.10", 5432),
  sock("10.244.0.2", 41002, "10.96.0.11", 6379, "SYN_SENT"),
];

describe("edgesFromSockets", () => {
  it("groups inbound by listen port and caller IP, outbound by peer IP and service port", () => {
    expect(edgesFromSockets("pod-a", SERVER)).toEqual([
      { fromPodUid: "pod-a", direction: "inbound", peer: { ip: "10.244.0.3", port: null }, localPort: 8080, connections: 2, recentConnections: 1 },
      { fromPodUid: "pod-a", direction: "inbound", peer: { ip: "10.244.0.4", port: null }, localPort: 8080, connections: 1, recentConnections: 0 },
      { fromPodUid: "pod-a", direction: "outbound", peer: { ip: "10.96.0.10", port: 5432 }, localPort: null, connections: 2, recentConnections: 0 },
      { fromPodUid: "pod-a", direction: "outbound", peer: { ip: "10.96.0.11", port: 6379 }, localPort: null, connections: 1, recentConnections: 0 },
    ]);
  });

  it("a caller seen only in TIME_WAIT is still an edge, with no open connection", () => {
    const edges = edgesFromSockets("pod-a", [sock("10.244.0.5", 40000, "10.244.0.9", 80, "TIME_WAIT")]);
    expect(edges).toEqual([expect.objectContaining({ direction: "outbound", connections: 0, recentConnections: 1 })]);
  });
});

describe("planNamespaces", () => {
  it("reads each namespace once, lists hostNetwork pods without reading the host's namespace", () => {
    const plan = planNamespaces(
      [
        { podUid: "c", netns: 900 },
        { podUid: "a", netns: 900 },
        { podUid: "b", netns: 901 },
        { podUid: "h2", netns: 1 },
        { podUid: "h1", netns: 1 },
        { podUid: "b", netns: 901 },
      ],
      1,
    );
    expect(plan).toEqual({
      read: [
        { netns: 900, podUid: "a", sharedWith: ["c"] },
        { netns: 901, podUid: "b", sharedWith: [] },
      ],
      hostNetwork: ["h1", "h2"],
    });
  });

  it("attributes host sockets to nobody, even when the caller passes them in", () => {
    const plan = planNamespaces([{ podUid: "h", netns: 1 }, { podUid: "p", netns: 2 }], 1);
    const edges = edgesFromPlan(plan, new Map([[1, SERVER], [2, SERVER.slice(0, 2)]]));
    expect(new Set(edges.map((e) => e.fromPodUid))).toEqual(new Set(["p"]));
  });

  it("leaves out inbound connections from the node's own addresses (the kubelet's probes), not outbound ones to them", () => {
    const plan = planNamespaces([{ podUid: "p", netns: 2 }], 1);
    const probed = [...SERVER, sock("10.244.0.2", 8080, "10.244.0.1", 52000, "TIME_WAIT"), sock("10.244.0.2", 42000, "10.244.0.1", 10250)];
    const edges = edgesFromPlan(plan, new Map([[2, probed]]), new Set(["10.244.0.1", "192.0.2.2"]));
    expect(edges.filter((e) => e.peer.ip === "10.244.0.1")).toEqual([expect.objectContaining({ direction: "outbound", peer: { ip: "10.244.0.1", port: 10250 } })]);
    expect(edges.filter((e) => e.direction === "inbound").map((e) => e.peer.ip)).toEqual(["10.244.0.3", "10.244.0.4"]);
  });
});

describe("EdgeTracker", () => {
  const edge = (connections: number, ip = "10.96.0.10"): ObservedEdge => ({
    fromPodUid: "pod-a",
    direction: "outbound",
    peer: { ip, port: 80 },
    localPort: null,
    connections,
    recentConnections: 0,
  });

  it("keeps firstSeen, moves lastSeen, counts observations and tracks the latest and peak connections", () => {
    const t = new EdgeTracker({ ttlMs: 60_000 });
    t.observe(1_000, [edge(3)]);
    t.observe(11_000, [edge(5)]);
    t.observe(21_000, [edge(2)]);
    expect(t.edges()).toEqual([expect.objectContaining({ firstSeenMs: 1_000, lastSeenMs: 21_000, connections: 2, peakConnections: 5, observations: 3 })]);
  });

  it("an edge missing from the latest poll shows 0 connections until it expires after the TTL", () => {
    const t = new EdgeTracker({ ttlMs: 30_000 });
    t.observe(0, [edge(1), edge(1, "10.96.0.11")]);
    t.observe(10_000, [edge(1)]);
    expect(t.edges().map((e) => [e.peer.ip, e.connections, e.lastSeenMs])).toEqual([
      ["10.96.0.10", 1, 10_000],
      ["10.96.0.11", 0, 0],
    ]);
    t.observe(30_000, [edge(1)]);
    expect(t.size).toBe(2);
    t.observe(30_001, [edge(1)]);
    expect(t.edges().map((e) => e.peer.ip)).toEqual(["10.96.0.10"]);
  });

  it("a pod whose namespace could not be read this poll keeps its last counts", () => {
    const t = new EdgeTracker({ ttlMs: 60_000 });
    t.observe(0, [edge(4)]);
    t.observe(10_000, [], new Set(["another-pod"]));
    expect(t.edges()[0]?.connections).toBe(4);
    t.observe(20_000, [], new Set(["pod-a"]));
    expect(t.edges()[0]?.connections).toBe(0);
  });

  it("adds up one edge reported twice in a poll", () => {
    const t = new EdgeTracker({ ttlMs: 60_000 });
    t.observe(0, [edge(2), edge(3)]);
    expect(t.edges()[0]).toMatchObject({ connections: 5, peakConnections: 5, observations: 1 });
  });

  it("forgets a pod that left, and bounds the number of edges by dropping the least recently seen", () => {
    const t = new EdgeTracker({ ttlMs: 60_000, maxEdges: 2 });
    t.observe(0, [edge(1, "10.0.0.1")]);
    t.observe(1, [edge(1, "10.0.0.2")]);
    t.observe(2, [edge(1, "10.0.0.3")]);
    expect(t.edges().map((e) => e.peer.ip)).toEqual(["10.0.0.3", "10.0.0.2"]);
    t.forgetPod("pod-a");
    expect(t.size).toBe(0);
  });

  it("restores remembered edges within the TTL without overwriting what it already tracks", () => {
    const before = new EdgeTracker({ ttlMs: 60_000 });
    before.observe(1_000, [edge(3), edge(1, "10.0.0.9")]);
    before.observe(50_000, [edge(2)]);
    const after = new EdgeTracker({ ttlMs: 60_000 });
    after.observe(70_000, [edge(7)]);
    after.restore(70_000, before.edges());
    // 10.0.0.9 was last seen at 1 s: 69 s ago, past the TTL. The tracked edge keeps its own counts.
    expect(after.edges().map((e) => [e.peer.ip, e.connections, e.firstSeenMs])).toEqual([["10.96.0.10", 7, 70_000]]);
    const restarted = new EdgeTracker({ ttlMs: 60_000 });
    restarted.restore(55_000, before.edges());
    expect(restarted.edges()).toEqual(before.edges());
    restarted.observe(60_000, [], new Set(["pod-a"]));
    expect(restarted.edges()[0]).toMatchObject({ connections: 0, firstSeenMs: 1_000, lastSeenMs: 50_000, observations: 2 });
  });

  it("refuses a TTL that would expire everything at once", () => {
    expect(() => new EdgeTracker({ ttlMs: 0 })).toThrow(RangeError);
  });

  it("property: over any sequence of polls, firstSeen ≤ lastSeen, observations count the polls that saw an edge, nothing outlives its TTL", () => {
    const poll = fc.array(fc.record({ ip: fc.constantFrom("10.0.0.1", "10.0.0.2", "10.0.0.3"), n: fc.integer({ min: 0, max: 9 }) }), { maxLength: 4 });
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 20_000 }), poll), { maxLength: 30 }), (polls) => {
        const ttlMs = 25_000;
        const t = new EdgeTracker({ ttlMs });
        const seenIn = new Map<string, number[]>();
        let now = 0;
        for (const [stepMs, observed] of polls) {
          now += stepMs;
          t.observe(now, observed.map((o) => edge(o.n, o.ip)));
          for (const ip of new Set(observed.map((o) => o.ip))) seenIn.set(ip, [...(seenIn.get(ip) ?? []), now]);
        }
        for (const e of t.edges()) {
          const times = seenIn.get(e.peer.ip) ?? [];
          expect(e.firstSeenMs).toBeLessThanOrEqual(e.lastSeenMs);
          expect(e.lastSeenMs).toBe(times[times.length - 1]);
          expect(now - e.lastSeenMs).toBeLessThanOrEqual(ttlMs);
          expect(e.observations).toBeLessThanOrEqual(times.length);
          expect(e.peakConnections).toBeGreaterThanOrEqual(e.connections);
        }
      }),
    );
  });
});
