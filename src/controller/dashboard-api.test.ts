import { Registry } from "prom-client";
import type { NodeFindings } from "../api/types.generated.js";
import type { AccessDecision } from "../kube/access-review.js";
import { HistoryClient } from "../kube/history-client.js";
import { agentIdentity } from "./daemonset.js";
import { CLUSTER, HEARTBEAT_MS, NOW, nodeA } from "../report/testdata/cluster.js";
import { Unavailable, type AccessGuard } from "../server/api.js";
import { startHttpServer, type RunningServer } from "../server/http.js";
import { dashboardRoutes } from "./dashboard-api.js";
import { ReadService } from "./read-service.js";

let nodeFindings: readonly NodeFindings[] = CLUSTER;
let unreachable = false;
let allowed = true;
let server: RunningServer;

const guard: AccessGuard = {
  review: (authorization): Promise<AccessDecision> =>
    Promise.resolve(authorization === "Bearer ok" && allowed ? { allowed: true, user: { username: "u", groups: [] } } : { allowed: false, status: 403, reason: "u may not list nodefindings.xander.io" }),
};

beforeAll(async () => {
  const service = new ReadService({
    nodeFindings: () => (unreachable ? Promise.reject(new Unavailable("cannot reach https://10.0.0.1:6443")) : Promise.resolve(nodeFindings)),
    heartbeatMs: () => HEARTBEAT_MS,
    history: new HistoryClient(() => Promise.resolve(undefined), () => Promise.resolve([]), agentIdentity("xander-system")),
    policies: () => Promise.resolve([]),
    now: () => NOW,
  });
  server = await startHttpServer({ addr: "127.0.0.1:0", registry: new Registry(), readiness: () => ({ ready: true }), routes: dashboardRoutes(service, guard, { intervalMs: 40 }) });
});

afterAll(async () => {
  await server.close();
});

afterEach(() => {
  nodeFindings = CLUSTER;
  unreachable = false;
  allowed = true;
});

/** Reads events until `until` says stop (or the stream ends); returns them in order. */
async function events(path: string, until: (seen: { event: string; data: unknown }[]) => boolean, onEvent: (seen: { event: string; data: unknown }[]) => void = () => undefined): Promise<{ event: string; data: unknown }[]> {
  const controller = new AbortController();
  const response = await fetch(`http://127.0.0.1:${server.port}${path}`, { headers: { authorization: "Bearer ok" }, signal: controller.signal });
  expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const seen: { event: string; data: unknown }[] = [];
  let buffer = "";
  while (!until(seen)) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    const blocks = buffer.split("\n\n");
    buffer = blocks.pop() ?? "";
    for (const block of blocks.filter((b) => b.startsWith("event: "))) {
      const [eventLine = "", dataLine = ""] = block.split("\n");
      seen.push({ event: eventLine.slice(7), data: JSON.parse(dataLine.slice(6)) as unknown });
      onEvent(seen);
    }
  }
  controller.abort();
  return seen;
}

describe("dashboard streams", () => {
  it("sends policies, summary and top at once, then only what changed", async () => {
    const seen = await events(
      "/api/v1/events",
      (s) => s.filter((e) => e.event === "summary").length >= 2,
      (s) => {
        // Once the first views are out, one node goes away: the summary changes, the policies do not.
        if (s.length === 3) nodeFindings = [nodeA];
      },
    );
    expect(seen.slice(0, 3).map((e) => e.event)).toEqual(["policies", "summary", "top"]);
    expect(seen.filter((e) => e.event === "policies")).toHaveLength(1);
    expect((seen.filter((e) => e.event === "summary")[1]?.data as { nodes: { total: number } }).nodes.total).toBe(1);
  });

  it("says when the views cannot be computed, and when they can again", async () => {
    unreachable = true;
    // A query of its own: the same one as the test before could be answered from the views it shared moments ago.
    const seen = await events(
      "/api/v1/events?top=7",
      (s) => s.some((e) => e.event === "summary"),
      (s) => {
        if (s.length === 1) unreachable = false;
      },
    );
    expect(seen[0]).toEqual({ event: "problem", data: { status: 503, message: "cannot reach https://10.0.0.1:6443" } });
    expect(seen.map((e) => e.event)).toContain("recovered");
  });

  it("ends a stream whose caller is no longer allowed", async () => {
    const seen = await events(
      "/api/v1/events/pods/shop/checkout-7d9f-abcde",
      () => false,
      (s) => {
        if (s.length === 1) allowed = false;
      },
    );
    expect(seen[0]?.event).toBe("pod");
    expect(seen.at(-1)).toEqual({ event: "denied", data: { status: 403, message: "u may not list nodefindings.xander.io" } });
  });

  it("refuses to open a stream without a token", async () => {
    const r = await fetch(`http://127.0.0.1:${server.port}/api/v1/events`);
    expect(r.status).toBe(403);
  });
});
