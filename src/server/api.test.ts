import { Registry } from "prom-client";
import type { AccessAttributes, AccessDecision } from "../kube/access-review.js";
import { BadRequest, RawBody, guardedRoute, sinceParam, type AccessGuard } from "./api.js";
import { startHttpServer, type RunningServer } from "./http.js";

/** Allows "Bearer ok" everything but pods; "Bearer pods" also pods; anything else is unauthenticated. */
const guard: AccessGuard = {
  review(authorization: string | undefined, attributes: AccessAttributes): Promise<AccessDecision> {
    if (authorization !== "Bearer ok" && authorization !== "Bearer pods") return Promise.resolve({ allowed: false, status: 401, reason: "who are you" });
    const pods = "resource" in attributes && attributes.resource === "pods";
    if (pods && authorization !== "Bearer pods") return Promise.resolve({ allowed: false, status: 403, reason: "no pods for you" });
    return Promise.resolve({ allowed: true, user: { username: "u", groups: [] } });
  },
};

let server: RunningServer;
let live = true;

beforeAll(async () => {
  server = await startHttpServer({
    addr: "127.0.0.1:0",
    registry: new Registry(),
    readiness: () => ({ ready: true }),
    liveness: () => (live ? { ready: true } : { ready: false, reason: "last sample is stale" }),
    routes: [
      guardedRoute(/^\/api\/v1\/things\/([^/]+)$/, guard, () => [{ verb: "list", group: "x", resource: "things" }], ([name], url) => ({ name, since: sinceParam(url, 1000) })),
      guardedRoute(/^\/api\/v1\/pods\/([^/]+)\/([^/]+)$/, guard, ([ns = "", name = ""]) => [{ verb: "get", group: "", resource: "pods", namespace: ns, name }], ([ns, name]) => {
        if (name === "missing") throw new BadRequest(`pod ${ns ?? ""}/${name} not found`, 404);
        return { ns, name };
      }),
      guardedRoute(/^\/api\/v1\/raw$/, guard, () => [], () => new RawBody("text/markdown", "# hi\n")),
    ],
  });
});

afterAll(async () => {
  await server.close();
});

async function get(path: string, token?: string, method = "GET"): Promise<{ status: number; text: string }> {
  const r = await fetch(`http://127.0.0.1:${server.port}${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: r.status, text: await r.text() };
}

describe("read API routes", () => {
  it("says who may not: 401 without a known token, 403 for a rule the caller lacks", async () => {
    expect((await get("/api/v1/things/a")).status).toBe(401);
    const forbidden = await get("/api/v1/pods/shop/api", "ok");
    expect(forbidden.status).toBe(403);
    expect(JSON.parse(forbidden.text)).toEqual({ code: 403, reason: "Forbidden", message: "no pods for you" });
    expect((await get("/api/v1/pods/shop/api", "pods")).status).toBe(200);
  });

  it("decodes path parameters and parses query durations, with 400 for a bad one", async () => {
    expect(JSON.parse((await get("/api/v1/things/a%20b?since=2m", "ok")).text)).toEqual({ name: "a b", since: 120_000 });
    const bad = await get("/api/v1/things/a?since=banana", "ok");
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/since=banana is not a duration/);
    expect((await get("/api/v1/things/%E0%A4%A", "ok")).status).toBe(400);
  });

  it("turns a handler's not-found into 404, serves raw bodies as they are, and refuses writes", async () => {
    expect((await get("/api/v1/pods/shop/missing", "pods")).status).toBe(404);
    expect(await get("/api/v1/raw", "ok")).toEqual({ status: 200, text: "# hi\n" });
    expect((await get("/api/v1/things/a", "ok", "POST")).status).toBe(405);
    expect((await get("/api/v1/nothing", "ok")).status).toBe(404);
  });

  it("reports liveness on /healthz, so a stuck process is restarted", async () => {
    expect((await get("/healthz")).status).toBe(200);
    live = false;
    const stuck = await get("/healthz");
    expect(stuck).toEqual({ status: 503, text: "unhealthy: last sample is stale\n" });
    live = true;
  });
});
