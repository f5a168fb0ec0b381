import { isIP } from "node:net";
import fc from "fast-check";
import { fuzzInput, fuzzRuns, isCount } from "../../test/fuzz.js";
import { decodeAddressHex, parseProcNetTcp, scanProcNetTcp, TCP_STATES, type Socket, type TcpStateCode } from "./net.js";

// The kernel's own header lines; tcp (v4) pads every line to 149 characters (seq_setwidth(TMPSZ - 1)).
const TCP_HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode".padEnd(149);
const TCP6_HEADER =
  "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode";

// Lines as this kernel (6.18, x86_64) prints them: a listener, an established pair, a TIME_WAIT.
const TCP_CAPTURE = [
  TCP_HEADER,
  "   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 21840 1 0000000000000000 100 0 0 10 0".padEnd(149),
  "   1: 0100007F:1F90 0100007F:A2C4 01 00000000:00000000 00:00000000 00000000  1000        0 22911 1 0000000000000000 20 4 30 10 -1".padEnd(149),
  "   2: 0100007F:A2C4 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 22910 1 0000000000000000 20 4 30 10 -1".padEnd(149),
  "   3: 0200F40A:B5D2 0A60000A:0050 06 00000000:00000000 03:000016F1 00000000     0        0 0 3 0000000000000000".padEnd(149),
  "",
].join("\n");

const TCP6_CAPTURE = [
  TCP6_HEADER,
  "   0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 30120 1 0000000000000000 100 0 0 10 0",
  "   1: 0000000000000000FFFF00000200F40A:0050 0000000000000000FFFF00000300F40A:D431 01 00000000:00000000 02:000000F5 00000000    33        0 30577 1 0000000000000000 20 4 28 10 -1",
  "   2: 000080FE00000000FF0200A8FE0D00B4:D6F2 B80D0120000000000000000001000000:01BB 02 00000001:00000000 01:00000030 00000002   101        0 31001 1 0000000000000000 400 0 0 10 -1",
  "",
].join("\n");

describe("parseProcNetTcp on kernel captures", () => {
  it("decodes little-endian IPv4 words, big-endian ports, states, uid and inode", () => {
    const parsed = parseProcNetTcp(TCP_CAPTURE, "/proc/1/net/tcp");
    expect(parsed).toEqual({
      ok: true,
      value: [
        { localAddress: "0.0.0.0", localPort: 8080, remoteAddress: "0.0.0.0", remotePort: 0, state: "LISTEN", inode: 21840, uid: 0 },
        { localAddress: "127.0.0.1", localPort: 8080, remoteAddress: "127.0.0.1", remotePort: 41668, state: "ESTABLISHED", inode: 22911, uid: 1000 },
        { localAddress: "127.0.0.1", localPort: 41668, remoteAddress: "127.0.0.1", remotePort: 8080, state: "ESTABLISHED", inode: 22910, uid: 1000 },
        { localAddress: "10.244.0.2", localPort: 46546, remoteAddress: "10.0.96.10", remotePort: 80, state: "TIME_WAIT", inode: 0, uid: 0 },
      ],
    });
  });

  it("normalises v4-mapped IPv6 to the IPv4 form and compresses other IPv6 addresses per RFC 5952", () => {
    const parsed = parseProcNetTcp(TCP6_CAPTURE, "/proc/1/net/tcp6");
    if (!parsed.ok) throw new Error(parsed.error.message);
    expect(parsed.value.map((s) => [s.localAddress, s.localPort, s.remoteAddress, s.remotePort, s.state])).toEqual([
      ["::", 80, "::", 0, "LISTEN"],
      ["10.244.0.2", 80, "10.244.0.3", 54321, "ESTABLISHED"],
      ["fe80::a800:2ff:b400:dfe", 55026, "2001:db8::1", 443, "SYN_SENT"],
    ]);
  });

  it("decodes the documented examples", () => {
    expect(decodeAddressHex("0100007F")).toBe("127.0.0.1");
    expect(decodeAddressHex("00000000000000000000000001000000")).toBe("::1");
    expect(decodeAddressHex("0000000000000000FFFF00000100000A")).toBe("10.0.0.1");
    // ::ffff:0:0/96 only: a v4-compatible (::a00:1) or NAT64 address stays IPv6.
    expect(decodeAddressHex("0000000000000000000000000100000A")).toBe("::a00:1");
    expect(decodeAddressHex("9BFF640000000000000000000100000A")).toBe("64:ff9b::a00:1");
  });

  it("names every state from 01 ESTABLISHED to 0B CLOSING", () => {
    expect(Object.entries(TCP_STATES)).toEqual([
      ["1", "ESTABLISHED"],
      ["2", "SYN_SENT"],
      ["3", "SYN_RECV"],
      ["4", "FIN_WAIT1"],
      ["5", "FIN_WAIT2"],
      ["6", "TIME_WAIT"],
      ["7", "CLOSE"],
      ["8", "CLOSE_WAIT"],
      ["9", "LAST_ACK"],
      ["10", "LISTEN"],
      ["11", "CLOSING"],
    ]);
  });

  it("accepts a table with no sockets", () => {
    expect(parseProcNetTcp(`${TCP6_HEADER}\n`)).toEqual({ ok: true, value: [] });
  });
});

describe("garbled input", () => {
  it("fails on text that is not a tcp table, naming the file and line 1", () => {
    expect(parseProcNetTcp("", "/proc/7/net/tcp")).toEqual({
      ok: false,
      error: { kind: "parse", file: "/proc/7/net/tcp", message: "empty: no header line", line: 1 },
    });
    const wrong = parseProcNetTcp("Inter-|   Receive\n face |bytes", "/proc/7/net/dev");
    expect(wrong.ok).toBe(false);
    if (!wrong.ok) expect(wrong.error.message).toMatch(/not a tcp table/);
  });

  it("flags each garbled line by its number and keeps the good ones in a lenient scan", () => {
    const lines = TCP_CAPTURE.split("\n");
    lines.splice(2, 0, "   9: 0100007F:1F9 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1");
    lines.splice(4, 0, "   9: 0100007F:1F90 00000000:0000 0F 00000000:00000000 00:00000000 00000000     0        0 1");
    const text = lines.join("\n");
    const scan = scanProcNetTcp(text, "/proc/7/net/tcp");
    if (!scan.ok) throw new Error(scan.error.message);
    expect(scan.value.sockets).toHaveLength(4);
    expect(scan.value.skipped.map((p) => [p.line, p.file])).toEqual([
      [3, "/proc/7/net/tcp"],
      [5, "/proc/7/net/tcp"],
    ]);
    expect(scan.value.skipped[1]?.message).toMatch(/unknown TCP state 0x0F/);
    const strict = parseProcNetTcp(text, "/proc/7/net/tcp");
    expect(strict.ok).toBe(false);
    if (!strict.ok) expect(strict.error.line).toBe(3);
  });

  it("rejects a line mixing an IPv4 and an IPv6 address", () => {
    const line = "   0: 0100007F:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0";
    const scan = scanProcNetTcp(`${TCP6_HEADER}\n${line}\n`);
    expect(scan.ok && scan.value.skipped[0]?.message).toMatch(/different families/);
  });
});

// ---- property tests: render sockets exactly as the kernel does, parse them back ----

const STATE_CODES = Object.keys(TCP_STATES).map((k) => Number(k) as TcpStateCode);

function hex(n: number, width: number): string {
  return n.toString(16).toUpperCase().padStart(width, "0");
}

/** A 32-bit word as %08X prints it on a little-endian host: the first byte in memory is the low byte. */
function leWord(bytes: readonly number[], from: number): string {
  const b = (i: number): number => bytes[from + i] ?? 0;
  return hex((b(0) | (b(1) << 8) | (b(2) << 16) | (b(3) << 24)) >>> 0, 8);
}

function addressHex(bytes: readonly number[]): string {
  let out = "";
  for (let w = 0; w < bytes.length; w += 4) out += leWord(bytes, w);
  return out;
}

/** Independent oracle: WHATWG URL serialisation is RFC 5952 text; v4-mapped reduces to the dotted quad. */
function expectedText(bytes: readonly number[]): string {
  if (bytes.length === 4) return bytes.join(".");
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) return bytes.slice(12).join(".");
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(hex(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0), 4));
  return new URL(`http://[${groups.join(":")}]/`).hostname.slice(1, -1);
}

interface Rendered {
  local: number[];
  localPort: number;
  remote: number[];
  remotePort: number;
  code: TcpStateCode;
  uid: number;
  inode: number;
  sl: number;
  kind: "full" | "openreq" | "timewait";
}

/** The three kernel printers: a full socket, a request socket (SYN_RECV) and a TIME_WAIT socket. */
function renderLine(r: Rendered): string {
  const addr = `${addressHex(r.local)}:${hex(r.localPort, 4)} ${addressHex(r.remote)}:${hex(r.remotePort, 4)} ${hex(r.code, 2)}`;
  const sl = `${String(r.sl).padStart(4)}:`;
  if (r.kind === "timewait") return `${sl} ${addr} 00000000:00000000 03:000005DC 00000000 ${"0".padStart(5)} ${"0".padStart(8)} 0 3 0000000000000000`;
  if (r.kind === "openreq") return `${sl} ${addr} 00000000:00000000 01:00000064 00000000 ${String(r.uid).padStart(5)} ${"0".padStart(8)} 0 0 0000000000000000`;
  return `${sl} ${addr} 00000001:00000000 02:000000C8 00000000 ${String(r.uid).padStart(5)} ${"0".padStart(8)} ${r.inode} 1 00000000a1b2c3d4 20 4 30 10 -1`;
}

function expectedSocket(r: Rendered): Socket {
  const noFile = r.kind !== "full";
  return {
    localAddress: expectedText(r.local),
    localPort: r.localPort,
    remoteAddress: expectedText(r.remote),
    remotePort: r.remotePort,
    state: TCP_STATES[r.code],
    inode: noFile ? 0 : r.inode,
    uid: r.kind === "timewait" ? 0 : r.uid,
  };
}

const byte = fc.integer({ min: 0, max: 255 });
const ipv4 = fc.array(byte, { minLength: 4, maxLength: 4 });
// Bias towards the shapes that matter: zero runs (compression) and v4-mapped addresses.
const ipv6 = fc.oneof(
  fc.array(byte, { minLength: 16, maxLength: 16 }),
  fc.array(fc.constantFrom(0, 0, 0, 1, 0xff), { minLength: 16, maxLength: 16 }),
  ipv4.map((v4) => [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4]),
);
const port = fc.integer({ min: 0, max: 65535 });

function socketArb(address: fc.Arbitrary<number[]>): fc.Arbitrary<Rendered> {
  return fc
    .record({
      local: address,
      localPort: port,
      remote: address,
      remotePort: port,
      code: fc.constantFrom(...STATE_CODES),
      uid: fc.integer({ min: 0, max: 2 ** 32 - 2 }),
      inode: fc.integer({ min: 1, max: 2 ** 40 }),
      sl: fc.nat({ max: 99999 }),
      openreq: fc.boolean(),
    })
    .map(({ openreq, ...r }) => ({
      ...r,
      kind: r.code === 0x06 ? ("timewait" as const) : r.code === 0x03 && openreq ? ("openreq" as const) : ("full" as const),
    }));
}

describe("property: kernel-rendered tables parse back", () => {
  it("round-trips tcp (IPv4) tables in every state, lines padded as the kernel pads them", () => {
    fc.assert(
      fc.property(fc.array(socketArb(ipv4), { maxLength: 30 }), (rows) => {
        const text = [TCP_HEADER, ...rows.map((r) => renderLine(r).padEnd(149)), ""].join("\n");
        expect(parseProcNetTcp(text)).toEqual({ ok: true, value: rows.map(expectedSocket) });
      }),
      { numRuns: 300 },
    );
  });

  it("round-trips tcp6 tables in every state, v4-mapped addresses as IPv4", () => {
    fc.assert(
      fc.property(fc.array(socketArb(ipv6), { maxLength: 30 }), (rows) => {
        const text = [TCP6_HEADER, ...rows.map(renderLine), ""].join("\n");
        expect(parseProcNetTcp(text, "/proc/1/net/tcp6")).toEqual({ ok: true, value: rows.map(expectedSocket) });
      }),
      { numRuns: 300 },
    );
  });

  it("parses one socket of each state in both encodings", () => {
    for (const code of STATE_CODES) {
      fc.assert(
        fc.property(socketArb(fc.oneof(ipv4, ipv6)), (r) => {
          const row = { ...r, code, kind: code === 0x06 ? ("timewait" as const) : r.kind === "timewait" ? ("full" as const) : r.kind };
          if (row.local.length !== row.remote.length) row.remote = row.local;
          const parsed = parseProcNetTcp(`${TCP6_HEADER}\n${renderLine(row)}\n`);
          expect(parsed).toEqual({ ok: true, value: [expectedSocket(row)] });
        }),
        { numRuns: 40 },
      );
    }
  });

  it("never throws on garbage, and every skipped line carries a line number inside the text", () => {
    const junkLine = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: fc.constantFrom(...Array.from("0123456789ABCDEF: -\t")), maxLength: 200 }),
      socketArb(ipv4).map((r) => {
        const line = renderLine(r);
        const cut = line.length >> 1;
        return line.slice(0, cut) + line.slice(cut + 1);
      }),
    );
    fc.assert(
      fc.property(fc.boolean(), fc.array(junkLine, { maxLength: 20 }), (withHeader, junk) => {
        const lines = withHeader ? [TCP_HEADER, ...junk] : junk;
        const text = lines.join("\n");
        const scan = scanProcNetTcp(text);
        const strict = parseProcNetTcp(text);
        if (!scan.ok) {
          expect(strict.ok).toBe(false);
          return;
        }
        for (const problem of scan.value.skipped) {
          expect(problem.line).toBeGreaterThan(1);
          expect(problem.line).toBeLessThanOrEqual(lines.length);
        }
        expect(strict.ok).toBe(scan.value.skipped.length === 0);
      }),
      { numRuns: 500 },
    );
  });

  it("fuzzed: never throws, and every socket it returns has real addresses, ports, a known state and whole uid and inode", () => {
    const states = new Set<string>(Object.values(TCP_STATES));
    const table = fc
      .tuple(fc.boolean(), fc.array(socketArb(fc.oneof(ipv4, ipv6)), { maxLength: 6 }))
      .map(([v4, rows]) => [v4 ? TCP_HEADER : TCP6_HEADER, ...rows.map(renderLine), ""].join("\n"));
    const typed = (s: Socket): boolean =>
      isIP(s.localAddress) !== 0 &&
      isIP(s.remoteAddress) !== 0 &&
      [s.localPort, s.remotePort].every((p) => isCount(p) && p <= 65535) &&
      states.has(s.state) &&
      Number.isSafeInteger(s.uid) &&
      s.uid >= 0 &&
      Number.isSafeInteger(s.inode) &&
      s.inode >= 0;
    fc.assert(
      fc.property(fuzzInput(table), (text) => {
        const scan = scanProcNetTcp(text);
        const strict = parseProcNetTcp(text);
        if (!scan.ok) return !strict.ok;
        const lines = text.split("\n").length;
        return scan.value.sockets.every(typed) && scan.value.skipped.every((p) => p.line !== undefined && p.line > 1 && p.line <= lines) && strict.ok === (scan.value.skipped.length === 0);
      }),
      { numRuns: fuzzRuns() },
    );
  });
});
