import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * A TCP proxy to the apiserver that can make the connections it carries go silent: `stall()` stops forwarding
 * bytes on every connection open at that moment, in both directions, without closing either side. Both ends
 * keep their sockets (and TCP keepalives are still answered by this host), as with a stalled NAT entry or a
 * half-dead load balancer. Connections opened after the stall are forwarded normally.
 */
export class StallingProxy {
  private server: Server | undefined;
  private readonly open = new Set<{ client: Socket; upstream: Socket; stalled: boolean }>();

  constructor(private readonly target: { host: string; port: number }) {}

  /** Listens on a free loopback port; returns it. */
  async start(): Promise<number> {
    const server = createServer((client) => {
      this.carry(client);
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("the stalling proxy has no port");
    return address.port;
  }

  /** Connections currently carried, stalled or not. */
  get connections(): number {
    return this.open.size;
  }

  /** Stops forwarding on every connection open now; returns how many were stalled. */
  stall(): number {
    for (const c of this.open) c.stalled = true;
    return this.open.size;
  }

  async stop(): Promise<void> {
    for (const c of this.open) {
      c.client.destroy();
      c.upstream.destroy();
    }
    this.open.clear();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => { server.close(() => { resolve(); }); });
  }

  private carry(client: Socket): void {
    const upstream = connect(this.target.port, this.target.host);
    const conn = { client, upstream, stalled: false };
    this.open.add(conn);
    // Bytes that arrive on a stalled connection are read and dropped, so neither side sees a full window or a close.
    client.on("data", (chunk) => { if (!conn.stalled) upstream.write(chunk); });
    upstream.on("data", (chunk) => { if (!conn.stalled) client.write(chunk); });
    const end = (): void => {
      if (conn.stalled) return; // a stalled connection delivers no close either
      this.open.delete(conn);
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end);
    upstream.on("close", end);
    client.on("error", end);
    upstream.on("error", end);
  }
}
