/**
 * Parsers for /proc/<pid>/net/tcp and /proc/<pid>/net/tcp6: the TCP sockets of one network namespace.
 *
 * The kernel prints them in net/ipv4/tcp_ipv4.c (get_tcp4_sock, get_openreq4, get_timewait4_sock) and
 * net/ipv6/tcp_ipv6.c (get_tcp6_sock, ...):
 *
 *   "%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08lX %08X %5u %8d %lu ..."
 *      sl  local      remote     st tx_queue rx_queue tr tm->when retrnsmt uid timeout inode
 *
 * Addresses are the raw `__be32` words printed with %08X, so on a little-endian host (x86_64, arm64)
 * 127.0.0.1 reads `0100007F`; IPv6 is the four `s6_addr32` words printed the same way. Ports are
 * converted to host order before printing, so they read big-endian (`1F90` = 8080). Big-endian hosts
 * (s390x, ppc64) would print addresses in network order; they are not supported here.
 *
 * Pure: text in, values out, never throws.
 */
import { err, ok, parseError, type ParseError, type Result } from "../util/result.js";

/** include/net/tcp_states.h. NEW_SYN_RECV and BOUND_INACTIVE never reach /proc (request sockets print as SYN_RECV). */
export const TCP_STATES = {
  0x01: "ESTABLISHED",
  0x02: "SYN_SENT",
  0x03: "SYN_RECV",
  0x04: "FIN_WAIT1",
  0x05: "FIN_WAIT2",
  0x06: "TIME_WAIT",
  0x07: "CLOSE",
  0x08: "CLOSE_WAIT",
  0x09: "LAST_ACK",
  0x0a: "LISTEN",
  0x0b: "CLOSING",
} as const;

export type TcpStateCode = keyof typeof TCP_STATES;
export type TcpState = (typeof TCP_STATES)[TcpStateCode];

export interface Socket {
  /** Dotted quad for IPv4 and for v4-mapped IPv6 (`::ffff:10.0.0.1` reads `10.0.0.1`); RFC 5952 text otherwise. */
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly state: TcpState;
  /** Socket inode; 0 for TIME_WAIT and request (SYN_RECV) sockets, which have no file. */
  readonly inode: number;
  /** Owner uid as seen from the reader's user namespace; 0 for TIME_WAIT sockets. */
  readonly uid: number;
}

/** What a lenient read found: the sockets, plus one problem per line that was skipped. */
export interface SocketScan {
  readonly sockets: Socket[];
  readonly skipped: ParseError[];
}

const LINE = /^\s*\d+:\s+([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})\s+([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})\s+([0-9A-Fa-f]{2})\s+[0-9A-Fa-f]{8}:[0-9A-Fa-f]{8}\s+[0-9A-Fa-f]{2}:[0-9A-Fa-f]+\s+[0-9A-Fa-f]+\s+(\d+)\s+-?\d+\s+(\d+)(?:\s|$)/;
const HEADER = /^\s*sl\s+local_address\s+rem(?:ote)?_address\s+st\b/;

/**
 * Strict: the sockets of one tcp or tcp6 table, or the first problem (a missing header, or a garbled
 * line with its 1-based line number). `file` only labels errors.
 */
export function parseProcNetTcp(text: string, file = "/proc/net/tcp"): Result<Socket[], ParseError> {
  const scan = scanProcNetTcp(text, file);
  if (!scan.ok) return scan;
  const first = scan.value.skipped[0];
  return first === undefined ? ok(scan.value.sockets) : err(first);
}

/**
 * Lenient: every socket that parses, and each garbled line flagged with its line number. Fails only
 * when the text is not a tcp table at all (empty, or no header), so one odd line never hides a
 * namespace's connections.
 */
export function scanProcNetTcp(text: string, file = "/proc/net/tcp"): Result<SocketScan, ParseError> {
  const lines = text.split("\n");
  const header = lines[0] ?? "";
  if (!HEADER.test(header)) {
    return err(parseError(file, header.trim() === "" ? "empty: no header line" : `not a tcp table: header is "${clip(header)}"`, 1));
  }
  const sockets: Socket[] = [];
  const skipped: ParseError[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (line.trim() === "") continue;
    const parsed = parseSocketLine(line);
    if (typeof parsed === "string") skipped.push(parseError(file, `${parsed}: "${clip(line)}"`, i + 1));
    else sockets.push(parsed);
  }
  return ok({ sockets, skipped });
}

/** One table row, or why it is not one. */
export function parseSocketLine(line: string): Socket | string {
  const m = LINE.exec(line);
  if (!m) return "garbled socket line";
  // Every group is mandatory in LINE, so all seven are present when it matched.
  const [local, localPort, remote, remotePort, st, uid, inode] = m.slice(1, 8) as [string, string, string, string, string, string, string];
  if (local.length !== remote.length) return "local and remote addresses of different families";
  const state = TCP_STATES[parseInt(st, 16) as TcpStateCode] as TcpState | undefined;
  if (state === undefined) return `unknown TCP state 0x${st}`;
  const uidNum = Number(uid);
  const inodeNum = Number(inode);
  if (!Number.isSafeInteger(uidNum) || !Number.isSafeInteger(inodeNum)) return "uid or inode out of range";
  return {
    localAddress: decodeAddressHex(local),
    localPort: parseInt(localPort, 16),
    remoteAddress: decodeAddressHex(remote),
    remotePort: parseInt(remotePort, 16),
    state,
    inode: inodeNum,
    uid: uidNum,
  };
}

/** 8 hex digits (one word) for IPv4, 32 (four words) for IPv6; each word is little-endian. */
export function decodeAddressHex(hex: string): string {
  const bytes = new Uint8Array(hex.length / 2);
  for (let word = 0; word < hex.length / 8; word++) {
    const n = parseInt(hex.slice(word * 8, word * 8 + 8), 16);
    for (let b = 0; b < 4; b++) bytes[word * 4 + b] = (n >>> (8 * b)) & 0xff;
  }
  return bytes.length === 4 ? dotted(bytes, 0) : formatIpv6(bytes);
}

/** RFC 5952 text for 16 bytes, with v4-mapped addresses (::ffff:0:0/96) reduced to the IPv4 dotted quad. */
export function formatIpv6(bytes: Uint8Array): string {
  if (isV4Mapped(bytes)) return dotted(bytes, 12);
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  const [start, len] = longestZeroRun(groups);
  // RFC 5952 4.2.2: a single zero group is not shortened to "::".
  if (len < 2) return groups.map(hex16).join(":");
  return `${groups.slice(0, start).map(hex16).join(":")}::${groups.slice(start + len).map(hex16).join(":")}`;
}

export function isLoopback(address: string): boolean {
  return address === "::1" || address.startsWith("127.");
}

/** 0.0.0.0 or ::, the address of a wildcard bind and of an unconnected socket's remote end. */
export function isUnspecified(address: string): boolean {
  return address === "0.0.0.0" || address === "::";
}

function isV4Mapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

function dotted(bytes: Uint8Array, from: number): string {
  return Array.from(bytes.subarray(from, from + 4)).join(".");
}

function hex16(n: number): string {
  return n.toString(16);
}

/** First longest run of zero groups: [start, length]; RFC 5952 4.2.3 picks the first on a tie. */
function longestZeroRun(groups: readonly number[]): [number, number] {
  let best: [number, number] = [0, 0];
  let start = -1;
  for (let i = 0; i <= groups.length; i++) {
    if (i < groups.length && groups[i] === 0) {
      if (start < 0) start = i;
      continue;
    }
    if (start >= 0 && i - start > best[1]) best = [start, i - start];
    start = -1;
  }
  return best;
}

function clip(line: string): string {
  const trimmed = line.trim();
  return trimmed.length > 80 ? `${trimmed.slice(0, 77)}...` : trimmed;
}
