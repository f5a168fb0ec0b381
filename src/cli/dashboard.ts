/**
 * `xander dashboard`: the controller's dashboard served on this machine, with its data read from the
 * cluster with the user's own kubeconfig — no token to paste, and nothing opened to the cluster network.
 *
 * The server binds loopback by default and answers only requests addressed to it by a loopback name (or
 * the address it was told to bind), so a web page elsewhere cannot reach it through DNS rebinding and read
 * the cluster with the user's credentials.
 */
import type { IncomingMessage } from "node:http";
import { InvalidArgumentError, Option, type Command } from "commander";
import { Registry } from "prom-client";
import type { KubeObject } from "../api/meta.js";
import { effectivePolicy } from "../api/policy.js";
import type { NodeFindings, StarvationPolicy } from "../api/types.generated.js";
import { dashboardRoutes } from "../controller/dashboard-api.js";
import { serviceBackends } from "../deps/dependency-graph.js";
import { agentIdentity } from "../controller/daemonset.js";
import { readRoutes } from "../controller/read-api.js";
import { ReadService } from "../controller/read-service.js";
import type { KubeClient } from "../kube/client.js";
import { HistoryClient } from "../kube/history-client.js";
import { ENDPOINT_SLICE, NAMESPACE, NODE_FINDINGS_KIND, POD, STARVATION_POLICY_KIND } from "../kube/resources.js";
import { keepUnchanged } from "../report/prepare.js";
import { Unavailable, sendError, type AccessGuard } from "../server/api.js";
import { startHttpServer, type Route } from "../server/http.js";
import { webRoutes } from "../server/web-assets.js";
import { parseDuration } from "../util/duration.js";
import { clusterError, kubeClient, withAgentFlags, type AgentFlags, type KubeFlags } from "./cluster.js";

interface DashboardFlags extends KubeFlags, AgentFlags {
  port: number;
  address: string;
  refresh: number;
}

const DEFAULT_HEARTBEAT_MS = 60_000;

function portOption(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError(`"${text}" is not a port (0-65535)`);
  return port;
}

function durationOption(text: string): number {
  const parsed = parseDuration(text);
  if (!parsed.ok || parsed.value < 500) throw new InvalidArgumentError(`"${text}" is not a duration of at least 500ms`);
  return parsed.value;
}

/** Shares one in-flight read and reuses a good answer for `ttlMs`; a failure is not kept. */
function cached<T>(ttlMs: number, read: () => Promise<T>): () => Promise<T> {
  let entry: { promise: Promise<T>; atMs: number } | undefined;
  return () => {
    if (entry !== undefined && Date.now() - entry.atMs < ttlMs) return entry.promise;
    const promise = read();
    entry = { promise, atMs: Date.now() };
    promise.catch(() => {
      if (entry?.promise === promise) entry = undefined;
    });
    return promise;
  };
}

/** The views over the user's own credentials, re-read at most every `cacheMs`; an unreachable API is a 503 that says why. */
export function dashboardReadService(client: KubeClient, agents: AgentFlags, cacheMs: number): ReadService {
  const unavailable = (error: unknown): never => {
    throw new Unavailable(clusterError(client, error).message);
  };
  const policies = cached(cacheMs, async () => (await client.list<StarvationPolicy>(STARVATION_POLICY_KIND).catch(unavailable)).items);
  let heartbeatMs = DEFAULT_HEARTBEAT_MS;
  let known: readonly NodeFindings[] = [];
  return new ReadService({
    nodeFindings: cached(cacheMs, async () => {
      // The shortest heartbeat among the policies is the staleness yardstick, as in the controller.
      const valid = (await policies().catch(() => [])).flatMap((p) => {
        const e = effectivePolicy(p);
        return e.ok ? [e.value.reporting.heartbeatMs] : [];
      });
      heartbeatMs = valid.length > 0 ? Math.min(...valid) : DEFAULT_HEARTBEAT_MS;
      known = keepUnchanged(known, (await client.list<NodeFindings>(NODE_FINDINGS_KIND).catch(unavailable)).items);
      return known;
    }),
    // Without EndpointSlices a call through a Service stops at the Service: still an answer.
    backends: cached(cacheMs, async () => serviceBackends((await client.list<KubeObject>(ENDPOINT_SLICE).catch(() => ({ items: [] }))).items)),
    heartbeatMs: () => heartbeatMs,
    policies,
    namespaceLabels: async (namespace) => (await client.get<KubeObject & { metadata: { labels?: Record<string, string> } }>({ ...NAMESPACE, name: namespace }))?.metadata.labels,
    history: HistoryClient.forAgents(client, agentIdentity(agents.xanderNamespace), agents.agentAccess),
    podNode: async (namespace, name) => (await client.get<KubeObject & { spec?: { nodeName?: string } }>({ ...POD, namespace, name }).catch(() => undefined))?.spec?.nodeName,
  });
}

/** The local server is the user's own process: it decides nothing, the cluster does with the user's credentials. */
const LOCAL_GUARD: AccessGuard = {
  review: () => Promise.resolve({ allowed: true, user: { username: "kubeconfig", groups: [] } }),
};

/** Requests must name this server by a loopback name or the bound address: no DNS rebinding. */
export function hostAllowed(req: Pick<IncomingMessage, "headers">, address: string, port: number): boolean {
  const host = (req.headers.host ?? "").toLowerCase();
  const names = new Set(["127.0.0.1", "localhost", "[::1]", address.includes(":") ? `[${address}]` : address]);
  return [...names].some((name) => host === `${name}:${port}` || (port === 80 && host === name));
}

function guardHost(routes: readonly Route[], address: string, port: () => number): Route[] {
  return routes.map((route) => ({
    pattern: route.pattern,
    handle: (req, res, params, url) => {
      if (hostAllowed(req, address, port())) return route.handle(req, res, params, url);
      sendError(res, 403, `this dashboard answers only requests to ${address}:${port()} or localhost (Host: ${req.headers.host ?? "none"})`);
      return undefined;
    },
  }));
}

function isLoopback(address: string): boolean {
  return address === "localhost" || address === "::1" || address.startsWith("127.");
}

async function runDashboard(flags: DashboardFlags): Promise<void> {
  const client = kubeClient(flags);
  const service = dashboardReadService(client, flags, Math.min(flags.refresh, 2000));
  let port = flags.port;
  const routes = guardHost([...readRoutes(service, LOCAL_GUARD), ...dashboardRoutes(service, LOCAL_GUARD, { intervalMs: flags.refresh }), ...webRoutes({ auth: "local" })], flags.address, () => port);
  const addr = flags.address.includes(":") ? `[${flags.address}]:${flags.port}` : `${flags.address}:${flags.port}`;
  const server = await startHttpServer({ addr, registry: new Registry(), readiness: () => ({ ready: true }), routes });
  port = server.port;
  const host = flags.address.includes(":") ? `[${flags.address}]` : flags.address;
  const cluster = client.kubeConfig.getCurrentCluster()?.server ?? "the cluster";
  if (!isLoopback(flags.address)) console.error(`xander dashboard: ${flags.address} is not a loopback address: anyone who can reach it reads ${cluster} with your credentials`);
  console.log(`Xander dashboard for ${cluster} (context ${client.kubeConfig.getCurrentContext()}): http://${host}:${port}/`);
  console.log("Reading the cluster with your kubeconfig. Ctrl-C stops it.");
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      void server.close().then(resolve);
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}

export function registerDashboardCommand(program: Command): void {
  withAgentFlags(
    program
      .command("dashboard")
      .description("serve the dashboard on this machine (127.0.0.1:7080), reading the cluster with your kubeconfig")
      .option("--port <port>", "port to listen on (0: any free port)", portOption, 7080)
      .option("--address <ip>", "address to listen on; keep it loopback: the pages read the cluster with your credentials", "127.0.0.1")
      .addOption(new Option("--refresh <duration>", "how often live views are recomputed").argParser(durationOption).default(5000, "5s")),
  )
    .addHelpText(
      "after",
      `
Examples:
  xander dashboard                           # http://127.0.0.1:7080/
  xander dashboard --context prod --port 0   # any free port, another context`,
    )
    .action(async (flags: DashboardFlags) => {
      await runDashboard(flags);
    });
}
