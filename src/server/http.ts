/**
 * The small HTTP server every Xander process exposes: /healthz (the process is alive), /readyz (it is
 * ready to serve; for the controller: its watch caches are synced, whether it leads or stands by), and
 * /metrics (Prometheus text format). More routes (the read API) plug in through `routes`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Registry } from "prom-client";

export interface Readiness {
  readonly ready: boolean;
  /** Why not, for the 503 body. */
  readonly reason?: string;
}

export type Route = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

export interface HttpServerOptions {
  /** `:8080`, `127.0.0.1:8080`, `[::1]:8080`, or `0` / `:0` for any free port. */
  readonly addr: string;
  readonly registry: Registry;
  readonly readiness: () => Readiness;
  readonly log?: Logger;
  readonly routes?: Readonly<Record<string, Route>>;
}

export interface RunningServer {
  readonly port: number;
  readonly host: string;
  close(): Promise<void>;
}

/** Splits a listen address into host and port; an empty host means all interfaces. */
export function parseListenAddr(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr) ?? /^()()(\d+)$/.exec(addr);
  if (m === null) throw new Error(`invalid listen address "${addr}" (use :8080, 127.0.0.1:8080 or [::1]:8080)`);
  const port = Number(m[3]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port in listen address "${addr}"`);
  return { host: m[1] ?? m[2] ?? "", port };
}

function send(res: ServerResponse, status: number, body: string, type = "text/plain; charset=utf-8"): void {
  res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
  res.end(body);
}

async function handle(opts: HttpServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? "/", "http://localhost").pathname;
  if (path === "/healthz" || path === "/livez") {
    send(res, 200, "ok\n");
    return;
  }
  if (path === "/readyz") {
    const r = opts.readiness();
    send(res, r.ready ? 200 : 503, r.ready ? "ok\n" : `not ready: ${r.reason ?? "starting"}\n`);
    return;
  }
  if (path === "/metrics") {
    send(res, 200, await opts.registry.metrics(), opts.registry.contentType);
    return;
  }
  const route = opts.routes?.[path];
  if (route !== undefined) {
    await route(req, res);
    return;
  }
  send(res, 404, "not found\n");
}

export async function startHttpServer(opts: HttpServerOptions): Promise<RunningServer> {
  const { host, port } = parseListenAddr(opts.addr);
  const server: Server = createServer((req, res) => {
    handle(opts, req, res).catch((err: unknown) => {
      opts.log?.error({ err, url: req.url }, "HTTP handler failed");
      if (!res.headersSent) send(res, 500, "internal error\n");
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host === "" ? undefined : host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  opts.log?.info({ addr: `${address.address}:${address.port}` }, "serving /healthz, /readyz and /metrics");
  return {
    port: address.port,
    host: address.address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        // Keep-alive connections (Prometheus scrapers) would hold close() open until they time out.
        server.closeAllConnections();
      }),
  };
}
