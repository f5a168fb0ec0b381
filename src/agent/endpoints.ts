import { createServer, type Server } from "node:http";
import type { Registry } from "prom-client";

export interface HealthSource {
  /** Undefined when healthy, else why not. */
  unhealthy(): string | undefined;
}

/** Parses `:9090`, `0.0.0.0:9090` or `127.0.0.1:0` into host and port. */
export function parseAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(":");
  const host = colon <= 0 ? "0.0.0.0" : address.slice(0, colon);
  const port = Number(address.slice(colon + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid listen address "${address}" (use host:port, e.g. :9090)`);
  return { host, port };
}

/** /healthz and /metrics for the agent. Resolves with the bound port once listening. */
export async function serveEndpoints(address: string, registry: Registry, health: HealthSource): Promise<{ server: Server; port: number }> {
  const { host, port } = parseAddress(address);
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (path === "/healthz" || path === "/readyz") {
      const problem = health.unhealthy();
      response.writeHead(problem ? 503 : 200, { "content-type": "text/plain" }).end(problem ?? "ok");
      return;
    }
    if (path === "/metrics") {
      registry
        .metrics()
        .then((text) => response.writeHead(200, { "content-type": registry.contentType }).end(text))
        .catch((error: unknown) => response.writeHead(500).end(String(error)));
      return;
    }
    response.writeHead(404, { "content-type": "text/plain" }).end("not found: try /healthz or /metrics");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => { resolve(); });
  });
  const bound = server.address();
  return { server, port: typeof bound === "object" && bound !== null ? bound.port : port };
}
