/**
 * One namespace's TCP sockets → its connections, each inbound or outbound.
 *
 * Rule (DESIGN.md "Connections"): a connection is inbound when its local port is a LISTEN port in the
 * same namespace, listening on that port on the wildcard address or on the connection's own local
 * address; everything else is outbound. Pure.
 */
import { isLoopback, isUnspecified, type Socket, type TcpState } from "../procfs/net.js";

export type Direction = "inbound" | "outbound";

/**
 * Open connections: from the SYN to the last FIN, both ends. CLOSE (unconnected or just closed) and
 * LISTEN carry no peer.
 */
export const OPEN_STATES: ReadonlySet<TcpState> = new Set<TcpState>([
  "ESTABLISHED",
  "SYN_SENT",
  "SYN_RECV",
  "FIN_WAIT1",
  "FIN_WAIT2",
  "CLOSE_WAIT",
  "LAST_ACK",
  "CLOSING",
]);

/**
 * TIME_WAIT is kept as a *recent* connection: the side that closed first holds it for 60 s
 * (TCP_TIMEWAIT_LEN), so a poll still sees a call that opened and closed between two polls. Counted
 * apart from open connections so it never inflates concurrency.
 */
export const RECENT_STATES: ReadonlySet<TcpState> = new Set<TcpState>(["TIME_WAIT"]);

export interface Connection {
  readonly direction: Direction;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly state: TcpState;
  /** True for TIME_WAIT: closed, but within the last minute. */
  readonly recent: boolean;
}

/** The connections among one namespace's sockets (tcp and tcp6 together), classified by direction. */
export function classifyConnections(sockets: readonly Socket[]): Connection[] {
  const listening = listenPorts(sockets);
  const own = ownAddresses(sockets);
  const out: Connection[] = [];
  for (const s of sockets) {
    const recent = RECENT_STATES.has(s.state);
    if (!recent && !OPEN_STATES.has(s.state)) continue;
    if (isUnspecified(s.remoteAddress) || s.remotePort === 0) continue;
    if (talksToItself(s, own)) continue;
    const direction: Direction = isListenedOn(listening, s.localAddress, s.localPort) ? "inbound" : "outbound";
    out.push({
      direction,
      localAddress: s.localAddress,
      localPort: s.localPort,
      remoteAddress: s.remoteAddress,
      remotePort: s.remotePort,
      state: s.state,
      recent,
    });
  }
  return out;
}

/** Port → local addresses listening on it (0.0.0.0 and :: for wildcard binds). */
export function listenPorts(sockets: readonly Socket[]): Map<number, Set<string>> {
  const ports = new Map<number, Set<string>>();
  for (const s of sockets) {
    if (s.state !== "LISTEN") continue;
    let addresses = ports.get(s.localPort);
    if (!addresses) ports.set(s.localPort, (addresses = new Set()));
    addresses.add(s.localAddress);
  }
  return ports;
}

function isListenedOn(listening: ReadonlyMap<number, ReadonlySet<string>>, localAddress: string, localPort: number): boolean {
  const addresses = listening.get(localPort);
  if (!addresses) return false;
  if (addresses.has(localAddress)) return true;
  // A dual-stack [::] listener also accepts IPv4, whose sockets the parser already reduced from
  // ::ffff:a.b.c.d to a.b.c.d; a 0.0.0.0 listener accepts IPv4 only.
  return addresses.has("::") || (addresses.has("0.0.0.0") && isIpv4(localAddress));
}

/**
 * A pod talking to itself: loopback at both ends, or a peer that is one of the namespace's own
 * addresses. The second catches a sidecar proxy's redirected leg (iptables REDIRECT: local
 * 127.0.0.1:15001, remote the pod's own IP) and a pod dialling its own IP.
 */
function talksToItself(s: Socket, own: ReadonlySet<string>): boolean {
  return (isLoopback(s.localAddress) && isLoopback(s.remoteAddress)) || own.has(s.remoteAddress);
}

/** Addresses the namespace's sockets are bound to: its interfaces' addresses, as far as sockets show them. */
function ownAddresses(sockets: readonly Socket[]): Set<string> {
  const own = new Set<string>();
  for (const s of sockets) if (!isUnspecified(s.localAddress)) own.add(s.localAddress);
  return own;
}

export function isIpv4(address: string): boolean {
  return !address.includes(":");
}
