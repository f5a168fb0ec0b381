/**
 * What polling /proc/<pid>/net/tcp misses: short connections that open and close between two polls.
 *
 * Method. A TCP server on loopback in this process's own network namespace; clients open connections
 * of fixed durations (10 ms, 100 ms, 1 s, 5 s) at seeded-random start times spread over a window, and
 * close them from the client side (client FIN first, so the client end goes to TIME_WAIT and the
 * server end closes at once, as for most short RPC and HTTP/1.0 calls). One poller reads
 * /proc/self/net/tcp every `tickMs` on absolute deadlines and records which connection (by the
 * client's ephemeral port, within the connection's own lifetime) each read saw, and in which state.
 * An agent polling every I with phase p sees exactly the reads whose index ≡ p (mod I / tickMs), so
 * every phase of a 1 s and a 10 s agent is evaluated on the same real reads and averaged.
 * Three views of the same connection: the server end (inbound, open states), the client end with
 * open states only, and the client end with TIME_WAIT counted as a recent connection (the product's
 * rule, src/deps/connections.ts).
 */
import net from "node:net";
import { performance } from "node:perf_hooks";
import { readFile } from "node:fs/promises";
import { OPEN_STATES, RECENT_STATES } from "../deps/connections.js";
import { parseProcNetTcp } from "../procfs/net.js";
import type { BenchResult } from "./types.js";

export interface ShortConnectionOptions {
  readonly durationsMs?: readonly number[];
  /** Connections per duration, same order as durationsMs. */
  readonly counts?: readonly number[];
  /** Start times are spread uniformly over this window. */
  readonly spreadMs?: number;
  /** The base poll period; every evaluated interval must be a multiple of it. */
  readonly tickMs?: number;
  readonly intervalsMs?: readonly number[];
  readonly seed?: number;
}

/** What one read saw of one connection. */
const SERVER_OPEN = 1;
const CLIENT_OPEN = 2;
const CLIENT_TIME_WAIT = 4;

export interface Conn {
  readonly durationMs: number;
  readonly startMs: number;
  clientPort?: number;
  closedMs?: number;
}

export interface Poll {
  readonly atMs: number;
  /** Client port → SERVER_OPEN | CLIENT_OPEN | CLIENT_TIME_WAIT bits. */
  readonly seen: ReadonlyMap<number, number>;
}

type View = "server" | "clientOpen" | "client";

/** TCP_TIMEWAIT_LEN, plus slack for the poll that straddles it. */
const TIME_WAIT_MS = 61_000;
/** Reads that land this close to a connection's open or close are still credited to it. */
const EDGE_SLACK_MS = 50;

/** Whether the agent of `view` saw `conn` in any of its reads, with attribution limited to the connection's lifetime. */
export function seenBy(view: View, conn: Conn, polls: readonly Poll[]): boolean {
  const port = conn.clientPort;
  if (port === undefined) return false;
  return polls.some((p) => p.atMs >= conn.startMs - EDGE_SLACK_MS && sawIn(view, conn.closedMs ?? Infinity, p.atMs, p.seen.get(port) ?? 0));
}

function sawIn(view: View, closedMs: number, atMs: number, bits: number): boolean {
  const openBit = view === "server" ? SERVER_OPEN : CLIENT_OPEN;
  if (atMs <= closedMs + EDGE_SLACK_MS && (bits & openBit) !== 0) return true;
  const inTimeWait = atMs >= closedMs - EDGE_SLACK_MS && atMs <= closedMs + TIME_WAIT_MS;
  return view === "client" && inTimeWait && (bits & CLIENT_TIME_WAIT) !== 0;
}

/** Share (0..1) of `conns` an agent polling every `intervalMs` misses, averaged over every phase of the base ticks. */
export function unseenShare(view: View, conns: readonly Conn[], polls: readonly Poll[], tickMs: number, intervalMs: number): number {
  const stride = Math.round(intervalMs / tickMs);
  if (conns.length === 0 || stride < 1) return 0;
  let missed = 0;
  for (let phase = 0; phase < stride; phase++) {
    const agentPolls = polls.filter((_, k) => k % stride === phase);
    for (const c of conns) if (!seenBy(view, c, agentPolls)) missed++;
  }
  return missed / (conns.length * stride);
}

export async function benchShortConnections(options: ShortConnectionOptions = {}): Promise<BenchResult[]> {
  const durationsMs = options.durationsMs ?? [10, 100, 1000, 5000];
  const counts = options.counts ?? [200, 200, 60, 30];
  const spreadMs = options.spreadMs ?? 35_000;
  const tickMs = options.tickMs ?? 250;
  const intervalsMs = options.intervalsMs ?? [1000, 10_000];
  // The trace runs one full interval past the last close, so every phase of every agent gets its first
  // read after each close (a TIME_WAIT is only seen after the close) inside the trace.
  const traceMs = spreadMs + Math.max(...durationsMs) + Math.max(...intervalsMs) + tickMs;
  const { conns, polls } = await runTrace(durationsMs, counts, spreadMs, traceMs, tickMs, options.seed ?? 42);

  const results: BenchResult[] = [];
  const method = (view: string): string =>
    `${conns.length} loopback connections (${durationsMs.map((d, i) => `${counts[i] ?? 0}×${d} ms`).join(", ")}) started at seeded-random times over ${spreadMs / 1000} s and closed by the client; ` +
    `/proc/self/net/tcp read every ${tickMs} ms; an agent polling every I sees every (I/${tickMs} ms)-th read, averaged over all phases; view: ${view}`;
  const VIEWS: [View, string, string][] = [
    ["server", "unseen-by-server", "server end, open states (inbound edge)"],
    ["clientOpen", "unseen-by-client-open-only", "client end, open states only"],
    ["client", "unseen-by-client", "client end, open states and TIME_WAIT (outbound edge, the product's rule)"],
  ];
  for (const intervalMs of intervalsMs) {
    for (const [view, label, description] of VIEWS) {
      for (const d of durationsMs) {
        const share = unseenShare(view, conns.filter((c) => c.durationMs === d), polls, tickMs, intervalMs);
        results.push({
          name: `deps.poll-${intervalMs / 1000}s.conn-${d}ms.${label}`,
          value: round(share * 100),
          unit: "%",
          ...(view === "client" ? { target: "≤ 1", pass: share * 100 <= 1 } : {}),
          method: method(description),
        });
      }
      const shorter = conns.filter((c) => c.durationMs < intervalMs);
      results.push({
        name: `deps.poll-${intervalMs / 1000}s.shorter-than-interval.${label}`,
        value: round(unseenShare(view, shorter, polls, tickMs, intervalMs) * 100),
        unit: "%",
        method: method(`${description}; connections shorter than the interval only`),
      });
    }
  }
  return results;
}

/** Opens and closes the connections on schedule while the poller records every read. */
async function runTrace(
  durationsMs: readonly number[],
  counts: readonly number[],
  spreadMs: number,
  traceMs: number,
  tickMs: number,
  seed: number,
): Promise<{ conns: Conn[]; polls: Poll[] }> {
  const accepted = new Set<net.Socket>();
  const server = net.createServer((s) => {
    accepted.add(s);
    s.on("error", () => undefined);
    s.on("close", () => accepted.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("bench server has no TCP address");
  const serverPort = address.port;

  const random = lcg(seed);
  const conns: Conn[] = durationsMs.flatMap((durationMs, i) => Array.from({ length: counts[i] ?? 0 }, () => ({ durationMs, startMs: random() * spreadMs })));
  const t0 = performance.now();
  const polls: Poll[] = [];
  const timers = conns.map((c) =>
    setTimeout(() => {
      openFor(c, serverPort, t0);
    }, c.startMs),
  );
  try {
    for (let k = 0; k * tickMs <= traceMs; k++) {
      const wait = t0 + k * tickMs - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      polls.push({ atMs: performance.now() - t0, seen: await readSeen(serverPort) });
    }
  } finally {
    for (const t of timers) clearTimeout(t);
    for (const s of accepted) s.destroy();
    await new Promise((r) => server.close(r));
  }
  return { conns, polls };
}

function openFor(c: Conn, serverPort: number, t0: number): void {
  const socket = net.connect(serverPort, "127.0.0.1", () => {
    c.clientPort = socket.localPort;
    setTimeout(() => {
      c.closedMs = performance.now() - t0;
      socket.end();
    }, c.durationMs);
  });
  socket.on("error", () => undefined);
}

async function readSeen(serverPort: number): Promise<Map<number, number>> {
  const seen = new Map<number, number>();
  const mark = (port: number, bit: number): void => {
    seen.set(port, (seen.get(port) ?? 0) | bit);
  };
  const parsed = parseProcNetTcp(await readFile("/proc/self/net/tcp", "latin1"), "/proc/self/net/tcp");
  if (!parsed.ok) throw new Error(`cannot parse /proc/self/net/tcp line ${parsed.error.line ?? "?"}: ${parsed.error.message}`);
  for (const s of parsed.value) {
    const open = OPEN_STATES.has(s.state);
    if (s.localPort === serverPort && open) mark(s.remotePort, SERVER_OPEN);
    if (s.remotePort === serverPort && open) mark(s.localPort, CLIENT_OPEN);
    if (s.remotePort === serverPort && RECENT_STATES.has(s.state)) mark(s.localPort, CLIENT_TIME_WAIT);
  }
  return seen;
}

/** A small seeded generator, so runs schedule the same connections. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
