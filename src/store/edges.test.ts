import type { Edge, EdgeCounts } from "../deps/edges.js";
import { openStore } from "./store.js";
import { T0_MS, scratchStores } from "./testing.js";

const { store, file } = scratchStores({ beforeEach, afterEach });

describe("dependency edges", () => {
  type Counts = EdgeCounts & Pick<Edge, "peakConnections" | "observations" | "firstSeenMs" | "lastSeenMs">;
  function edge(direction: "inbound" | "outbound", ip: string, port: number, lastSeenMs: number, counts: Partial<Counts> = {}): Edge {
    const key =
      direction === "outbound"
        ? { fromPodUid: "pod-1", direction, peer: { ip, port }, localPort: null }
        : { fromPodUid: "pod-1", direction, peer: { ip, port: null }, localPort: port };
    return {
      ...key,
      connections: 1,
      recentConnections: 0,
      peakConnections: 1,
      observations: 1,
      firstSeenMs: lastSeenMs,
      lastSeenMs,
      ...counts,
    };
  }

  test("edges come back in the tracker's shape, inbound with its listen port and outbound with the peer's, newest first", () => {
    const s = store();
    const out = edge("outbound", "10.96.0.10", 80, T0_MS, { recentConnections: 4 });
    const inb = edge("inbound", "10.244.1.10", 8080, T0_MS + 10_000, { connections: 3, peakConnections: 5 });
    s.appendEdges([out, inb]);
    expect(s.edges(T0_MS)).toEqual([inb, out]);
    expect(s.edges(T0_MS + 1)).toEqual([inb]);
  });

  test("a later poll updates an edge in place: latest counts, earliest firstSeen, largest peak", () => {
    const s = store();
    s.appendEdges([edge("outbound", "10.96.0.10", 80, T0_MS, { connections: 7, peakConnections: 7 })]);
    s.appendEdges([edge("outbound", "10.96.0.10", 80, T0_MS + 10_000, { connections: 2, peakConnections: 2, observations: 2 })]);
    expect(s.edges(0)).toEqual([edge("outbound", "10.96.0.10", 80, T0_MS + 10_000, { connections: 2, peakConnections: 7, observations: 2, firstSeenMs: T0_MS })]);
  });

  test("an inbound and an outbound edge on the same address and port are two edges", () => {
    const s = store();
    s.appendEdges([edge("inbound", "10.0.0.1", 80, T0_MS), edge("outbound", "10.0.0.1", 80, T0_MS)]);
    expect(s.edges(0).map((e) => e.direction).sort()).toEqual(["inbound", "outbound"]);
  });

  test("edges survive closing and reopening the file, and go after the rollup retention", () => {
    const first = openStore(file("edges.db"));
    first.appendEdges([edge("outbound", "10.0.0.1", 80, T0_MS)]);
    first.close();
    const s = store("edges.db", { rawMs: 120_000, rollupMs: 600_000 });
    expect(s.edges(0)).toHaveLength(1);
    s.appendEdges([edge("outbound", "10.0.0.2", 80, T0_MS + 600_001)]);
    expect(s.edges(0).map((e) => e.peer.ip)).toEqual(["10.0.0.2"]);
  });

  test("a batch is one transaction: a failing row leaves none of the batch behind", () => {
    const s = store();
    const bad = { ...edge("outbound", "10.0.0.9", 80, T0_MS), direction: "sideways" } as unknown as Edge;
    expect(() => { s.appendEdges([edge("outbound", "10.0.0.1", 80, T0_MS), bad]); }).toThrow(/CHECK constraint/);
    expect(s.edges(0)).toEqual([]);
  });
});
