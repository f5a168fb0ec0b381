/**
 * How a reader reaches a node's agent once its endpoint is verified (report/agent-endpoint.ts).
 *
 * - `direct`: to the agent pod's IP. The controller, and a CLI on a node or in a pod, are on the pod network.
 * - `port-forward`: through the apiserver, as `kubectl port-forward` does, to the agent pod's port. From a
 *   laptop pod IPs do not route. It needs `create pods/portforward` in Xander's namespace (the chart's
 *   xander-viewer Role there), with the reader's own credentials; the agent still checks the token it is sent.
 * - `auto`: direct when a TCP connection to the pod IP opens within a second, else port-forward; decided once
 *   per endpoint.
 *
 * Each port-forwarded request opens its own stream and closes it with the answer: a CLI leaves nothing open.
 */
import { request, type IncomingHttpHeaders } from "node:http";
import { connect } from "node:net";
import { Duplex, PassThrough, Writable } from "node:stream";
import { PortForward, type KubeConfig } from "@kubernetes/client-node";
import type { AgentEndpoint } from "../report/agent-endpoint.js";

export const AGENT_ACCESS_MODES = ["auto", "direct", "port-forward"] as const;
export type AgentAccessMode = (typeof AGENT_ACCESS_MODES)[number];

export interface AgentResponse {
  readonly status: number;
  /** The parsed JSON body, or undefined when there was none. */
  readonly body: unknown;
}

/** One GET to an agent; throws, with the cause in words, when no answer came. */
export interface AgentAccess {
  get(endpoint: AgentEndpoint, path: string, headers: Readonly<Record<string, string>>, timeoutMs: number): Promise<AgentResponse>;
}

const PROBE_TIMEOUT_MS = 1000;

export function agentAccess(mode: AgentAccessMode, kc: KubeConfig): AgentAccess {
  switch (mode) {
    case "direct":
      return directAccess;
    case "port-forward":
      return portForwardAccess(kc);
    case "auto":
      return autoAccess(directAccess, portForwardAccess(kc), canConnect);
  }
}

export const directAccess: AgentAccess = {
  async get(endpoint, path, headers, timeoutMs) {
    const response = await fetch(`${endpoint.url}${path}`, { headers, signal: AbortSignal.timeout(timeoutMs) }).catch((error: unknown) => {
      // fetch says only "fetch failed"; why (refused, unreachable, timed out) is its cause.
      throw new Error(messageOf((error as { cause?: unknown }).cause ?? error), { cause: error });
    });
    return { status: response.status, body: await response.json().catch(() => undefined) };
  },
};

/** Direct where the pod IP answers, else through the apiserver; `probe` decides once per endpoint. */
export function autoAccess(direct: AgentAccess, forwarded: AgentAccess, probe: (endpoint: AgentEndpoint) => Promise<boolean>): AgentAccess {
  const chosen = new Map<string, Promise<AgentAccess>>();
  return {
    async get(endpoint, path, headers, timeoutMs) {
      let access = chosen.get(endpoint.url);
      if (access === undefined) {
        access = probe(endpoint).then((reachable) => (reachable ? direct : forwarded));
        chosen.set(endpoint.url, access);
      }
      return (await access).get(endpoint, path, headers, timeoutMs);
    },
  };
}

/** Whether a TCP connection to the endpoint opens within PROBE_TIMEOUT_MS. */
export function canConnect(endpoint: AgentEndpoint): Promise<boolean> {
  const { hostname, port } = new URL(endpoint.url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname.replace(/^\[|\]$/g, ""), port: Number(port), timeout: PROBE_TIMEOUT_MS });
    const done = (reachable: boolean): void => {
      socket.destroy();
      resolve(reachable);
    };
    socket.once("connect", () => {
      done(true);
    });
    socket.once("timeout", () => {
      done(false);
    });
    socket.once("error", () => {
      done(false);
    });
  });
}

export function portForwardAccess(kc: KubeConfig): AgentAccess {
  return {
    async get(endpoint, path, headers, timeoutMs) {
      const { namespace, name } = endpoint.pod;
      const toPod = new PassThrough();
      const fromPod = new PassThrough();
      const errors = new TextSink();
      // Without retries the library resolves to the open WebSocket.
      const opened = new PortForward(kc, true).portForward(namespace, name, [endpoint.port], fromPod, errors, toPod) as Promise<unknown> as Promise<ForwardSocket>;
      const ws = await withTimeout(opened, timeoutMs, `port-forward to pod ${namespace}/${name}`).catch((error: unknown) => {
        // One that opens after the deadline would keep the process alive: close it then.
        opened.then((late) => {
          late.close();
        }, () => undefined);
        throw new Error(portForwardRefusal(error, namespace, name), { cause: error });
      });
      // The library never ends the output stream: a closed port-forward must end the response it carried.
      ws.once("close", () => {
        fromPod.end();
      });
      try {
        return await getOver(Duplex.from({ readable: fromPod, writable: toPod }), new URL(endpoint.url).host, path, headers, timeoutMs);
      } catch (error) {
        const said = errors.text.trim();
        throw new Error(`through a port-forward to pod ${namespace}/${name}: ${said === "" ? messageOf(error) : said}`, { cause: error });
      } finally {
        ws.close();
      }
    },
  };
}

/** What the apiserver said when it would not open the port-forward, with the permission it needs. */
function portForwardRefusal(error: unknown, namespace: string, name: string): string {
  const message = messageOf(error);
  const status = /Unexpected server response: (\d+)/.exec(message)?.[1];
  if (status === "401" || status === "403") {
    return `port-forward to pod ${namespace}/${name} was refused (${status}): this needs "create pods/portforward" in ${namespace} (the chart's xander-viewer Role there)`;
  }
  return `cannot port-forward to pod ${namespace}/${name}: ${message}`;
}

/** One HTTP GET over an already open stream; the agent closes it after answering. */
function getOver(stream: Duplex, host: string, path: string, headers: Readonly<Record<string, string>>, timeoutMs: number): Promise<AgentResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ createConnection: () => stream, host, path, headers: { ...headers, host, connection: "close" } });
    // A stream is no socket: it has no setTimeout, so the deadline is a plain timer.
    const timer = setTimeout(() => req.destroy(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
    req.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.once("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.once("error", reject);
      res.once("end", () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: jsonBody(res.headers, Buffer.concat(chunks).toString("utf8")) });
      });
    });
    req.end();
  });
}

/** The WebSocket a port-forward runs over, as far as it is used here. */
interface ForwardSocket {
  once(event: "close", listener: () => void): unknown;
  close(): void;
}

/**
 * An error's message, read by shape: fetch's errors come from another realm under test runners, and the
 * port-forward rejects with the WebSocket's ErrorEvent, which is no Error but carries a message.
 */
function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | undefined)?.message;
  return typeof message === "string" ? message : String(error);
}

function jsonBody(headers: IncomingHttpHeaders, text: string): unknown {
  if (!/json/.test(headers["content-type"] ?? "")) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${what} did not open in ${timeoutMs} ms`));
    }, timeoutMs);
  });
  return Promise.race([promise, deadline]).finally(() => {
    clearTimeout(timer);
  });
}

/** Collects what the port-forward's error stream says (the kubelet's reason a connection in the pod failed). */
class TextSink extends Writable {
  text = "";

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    if (this.text.length < 1000) this.text += chunk.toString("utf8");
    callback();
  }
}
