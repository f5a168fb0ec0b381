/**
 * The one HTTP server every Xander process exposes: /healthz (the process is alive: for the agent, it is
 * still sampling), /readyz (it is ready to serve; for the controller: its watch caches are synced, whether it
 * leads or stands by), and /metrics (Prometheus text format). The read APIs plug in through `routes`; each
 * route says who may reach it (see server/api.ts). So does /metrics: its series name pods, namespaces and
 * culprits, so by default only a caller allowed `get` on the non-resource URL /metrics reads it, as for the
 * kubelet's own /metrics. The probes carry no cluster data and stay open to the kubelet.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { AccessDecision } from "../kube/access-review.js";

export interface Readiness {
  readonly ready: boolean;
  /** Why not, for the 503 body. */
  readonly reason?: string;
}

/** A route: a GET path pattern and its handler, which receives the pattern's captures (URI-decoded). */
export interface Route {
  readonly pattern: RegExp;
  readonly handle: (req: IncomingMessage, res: ServerResponse, params: readonly string[], url: URL) => Promise<void> | void;
}

export interface HttpServerOptions {
  /** `:8080`, `127.0.0.1:8080`, `[::1]:8080`, or `0` / `:0` for any free port. */
  readonly addr: string;
  readonly registry: Registry;
  readonly readiness: () => Readiness;
  /** Whether the process is alive; default: always. A 503 makes the kubelet restart it. */
  readonly liveness?: () => Readiness;
  readonly log?: Logger;
  readonly routes?: readonly Route[];
  /** Who may read /metrics, asked per request with its Authorization header; undefined: anyone who reaches the port. */
  readonly metricsAccess?: (authorization: string | undefined) => Promise<AccessDecision>;
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

/** /healthz, /livez, /readyz and /metrics; false when the path is none of them. */
async function builtin(opts: HttpServerOptions, path: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const probe = (r: Readiness, word: string, fallback: string): void => {
    send(res, r.ready ? 200 : 503, r.ready ? "ok\n" : `${word}: ${r.reason ?? fallback}\n`);
  };
  if (path === "/healthz" || path === "/livez") {
    probe(opts.liveness?.() ?? { ready: true }, "unhealthy", "unknown");
    return true;
  }
  if (path === "/readyz") {
    probe(opts.readiness(), "not ready", "starting");
    return true;
  }
  if (path === "/metrics") {
    const decision = await opts.metricsAccess?.(req.headers.authorization);
    if (decision !== undefined && !decision.allowed) {
      if (decision.status === 401) res.setHeader("www-authenticate", 'Bearer realm="xander"');
      send(res, decision.status, `${decision.reason}\n`);
      return true;
    }
    send(res, 200, await opts.registry.metrics(), opts.registry.contentType);
    return true;
  }
  return false;
}

async function handle(opts: HttpServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://localhost");
  const path = url.pathname;
  if (await builtin(opts, path, req, res)) return;
  for (const route of opts.routes ?? []) {
    const match = route.pattern.exec(path);
    if (match === null) continue;
    if (req.method !== "GET" && req.method !== "HEAD") {
      send(res, 405, "only GET is served\n");
      return;
    }
    let params: string[];
    try {
      params = match.slice(1).map((part) => decodeURIComponent(part));
    } catch {
      send(res, 400, "malformed path\n");
      return;
    }
    await route.handle(req, res, params, url);
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
  opts.log?.info({ addr: `${address.address}:${address.port}`, routes: (opts.routes ?? []).map((r) => r.pattern.source), metrics: opts.metricsAccess === undefined ? "open" : "rbac" }, "serving /healthz, /readyz, /metrics and the read API");
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
