import fc from "fast-check";
import type { Socket, TcpState } from "../procfs/net.js";
import { classifyConnections, OPEN_STATES, RECENT_STATES } from "./connections.js";

function sock(local: string, remote: string, state: TcpState = "ESTABLISHED"): Socket {
  const [la = "", lp = "0"] = local.split(/:(?=\d+$)/);
  const [ra = "", rp = "0"] = remote.split(/:(?=\d+$)/);
  return { localAddress: la, localPort: Number(lp), remoteAddress: ra, remotePort: Number(rp), state, inode: 1, uid: 0 };
}

const summary = (sockets: Socket[]) => classifyConnections(sockets).map((c) => `${c.direction} ${c.remoteAddress}:${c.remotePort}${c.recent ? " recent" : ""}`);

describe("classifyConnections", () => {
  it("a connection on a wildcard LISTEN port is inbound; one from an ephemeral port is outbound", () => {
    expect(
      summary([
        sock("0.0.0.0:8080", "0.0.0.0:0", "LISTEN"),
        sock("10.244.0.2:8080", "10.244.1.5:40000"),
        sock("10.244.0.2:43210", "10.96.0.10:80"),
      ]),
    ).toEqual(["inbound 10.244.1.5:40000", "outbound 10.96.0.10:80"]);
  });

  it("a listener on one address does not make the same port on another address inbound", () => {
    expect(
      summary([
        sock("127.0.0.1:9090", "0.0.0.0:0", "LISTEN"),
        sock("10.244.0.2:9090", "10.244.3.3:443"),
        sock("10.244.0.2:9091", "0.0.0.0:0", "LISTEN"),
        sock("10.244.0.2:9091", "10.244.3.4:50000"),
      ]),
    ).toEqual(["outbound 10.244.3.3:443", "inbound 10.244.3.4:50000"]);
  });

  it("a dual-stack [::] listener makes IPv4 (v4-mapped) connections inbound; 0.0.0.0 does not cover IPv6", () => {
    expect(
      summary([
        sock(":::80", ":::0", "LISTEN"),
        sock("10.244.0.2:80", "10.244.1.1:51000"),
        sock("0.0.0.0:81", "0.0.0.0:0", "LISTEN"),
        sock("fd00::2:81", "fd00::9:52000"),
      ]),
    ).toEqual(["inbound 10.244.1.1:51000", "outbound fd00::9:52000"]);
  });

  it("ignores listeners, unconnected sockets and a pod talking to itself", () => {
    expect(
      summary([
        sock("0.0.0.0:8080", "0.0.0.0:0", "LISTEN"),
        sock("127.0.0.1:8080", "127.0.0.1:40001"),
        sock("127.0.0.1:40001", "127.0.0.1:8080"),
        sock("10.244.0.2:8080", "10.244.0.2:40002"),
        sock("10.244.0.2:40003", "0.0.0.0:0", "CLOSE"),
        sock("::1:5000", "::1:5001"),
      ]),
    ).toEqual([]);
  });

  it("a sidecar's redirected leg (from the pod's own IP to a loopback listener) is the pod talking to itself", () => {
    expect(
      summary([
        sock("127.0.0.1:15001", "0.0.0.0:0", "LISTEN"),
        sock("10.244.0.2:43000", "10.96.0.10:80"), // the app's socket keeps the original destination
        sock("127.0.0.1:15001", "10.244.0.2:43000"), // the proxy's accepted end
        sock("10.244.0.2:44000", "10.244.5.5:8080"), // the proxy's upstream
      ]),
    ).toEqual(["outbound 10.96.0.10:80", "outbound 10.244.5.5:8080"]);
  });

  it("a loopback socket to a non-loopback peer is not talking to itself", () => {
    expect(summary([sock("127.0.0.1:40000", "10.244.9.9:53")])).toEqual(["outbound 10.244.9.9:53"]);
  });

  it("counts every open state as live and TIME_WAIT as recent; CLOSE and LISTEN are never connections", () => {
    const states: TcpState[] = ["ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING"];
    const got = states.map((state) => classifyConnections([sock("10.244.0.2:40000", "10.244.1.1:80", state)])[0]);
    expect(got.map((c) => (c ? (c.recent ? "recent" : "open") : "-"))).toEqual(["open", "open", "open", "open", "open", "recent", "-", "open", "open", "-", "open"]);
  });
});

describe("property: classification", () => {
  const addr = fc.constantFrom("10.244.0.2", "10.244.1.3", "0.0.0.0", "127.0.0.1", "::", "fd00::1");
  const port = fc.constantFrom(0, 80, 8080, 40000, 40001);
  const state = fc.constantFrom<TcpState>("ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING");
  const socket = fc.record({ localAddress: addr, localPort: port, remoteAddress: addr, remotePort: port, state, inode: fc.nat(), uid: fc.nat() });

  it("inbound exactly when the local port is listened on there; never a LISTEN or CLOSE socket", () => {
    fc.assert(
      fc.property(fc.array(socket, { maxLength: 25 }), (sockets) => {
        const listeners = sockets.filter((s) => s.state === "LISTEN");
        for (const c of classifyConnections(sockets)) {
          expect(OPEN_STATES.has(c.state) || RECENT_STATES.has(c.state)).toBe(true);
          const covered = listeners.some(
            (l) => l.localPort === c.localPort && (l.localAddress === c.localAddress || l.localAddress === "::" || (l.localAddress === "0.0.0.0" && !c.localAddress.includes(":"))),
          );
          expect(c.direction).toBe(covered ? "inbound" : "outbound");
          expect(sockets.some((s) => s.localAddress === c.remoteAddress && s.localAddress !== "0.0.0.0" && s.localAddress !== "::")).toBe(false);
        }
      }),
    );
  });
});
