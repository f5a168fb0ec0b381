import { seenBy, unseenShare, type Conn, type Poll } from "./deps.js";

const SERVER_OPEN = 1;
const CLIENT_OPEN = 2;
const CLIENT_TIME_WAIT = 4;

/** Reads every 250 ms for 20 s; the connection on port 40000 is open in [startMs, closedMs], then in TIME_WAIT on the client. */
function trace(conn: Conn): Poll[] {
  const polls: Poll[] = [];
  for (let atMs = 0; atMs <= 20_000; atMs += 250) {
    const open = atMs >= conn.startMs && atMs <= (conn.closedMs ?? Infinity);
    const bits = open ? SERVER_OPEN | CLIENT_OPEN : atMs > (conn.closedMs ?? Infinity) ? CLIENT_TIME_WAIT : 0;
    polls.push({ atMs, seen: new Map(bits ? [[40_000, bits]] : []) });
  }
  return polls;
}

describe("polling-miss accounting", () => {
  const short: Conn = { durationMs: 300, startMs: 1_100, closedMs: 1_400, clientPort: 40_000 };

  it("a 300 ms connection is missed by the phases of a 1 s agent that read while it was closed", () => {
    // Reads at 1250 (phase 1) fall inside [1100, 1400]; phases 0, 2 and 3 miss it.
    expect(unseenShare("server", [short], trace(short), 250, 1000)).toBe(0.75);
    expect(unseenShare("clientOpen", [short], trace(short), 250, 1000)).toBe(0.75);
  });

  it("the client end's TIME_WAIT makes every phase see it", () => {
    expect(unseenShare("client", [short], trace(short), 250, 1000)).toBe(0);
    expect(unseenShare("client", [short], trace(short), 250, 10_000)).toBe(0);
  });

  it("a connection that never connected is never seen, and nothing is credited before it opened", () => {
    expect(seenBy("server", { durationMs: 10, startMs: 0 }, trace(short))).toBe(false);
    const later: Conn = { durationMs: 10, startMs: 15_000, closedMs: 15_010, clientPort: 40_000 };
    expect(seenBy("server", later, trace(short))).toBe(false);
  });
});
