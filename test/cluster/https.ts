// A minimal HTTPS/HTTP GET for readiness probes (no client library, no proxy).
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

export interface ProbeOptions {
  token?: string;
  /** PEM CA bundle; when absent the server certificate is not verified. */
  ca?: string;
  timeoutMs?: number;
}

export interface ProbeResult {
  status: number;
  body: string;
}

export function get(url: string, opts: ProbeOptions = {}): Promise<ProbeResult> {
  const u = new URL(url);
  const headers: Record<string, string> = { accept: "application/json, */*" };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const options = {
    method: "GET",
    headers,
    timeout: opts.timeoutMs ?? 5_000,
    ...(u.protocol === "https:" ? { ca: opts.ca, rejectUnauthorized: opts.ca !== undefined } : {}),
  };
  const send = u.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(u, options, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`timeout after ${options.timeout} ms: ${url}`)));
    req.on("error", reject);
    req.end();
  });
}

/** GET that reports a connection error as status 0 instead of throwing (for polling). */
export async function probe(url: string, opts: ProbeOptions = {}): Promise<ProbeResult> {
  try {
    return await get(url, opts);
  } catch (err) {
    return { status: 0, body: (err as Error).message };
  }
}
