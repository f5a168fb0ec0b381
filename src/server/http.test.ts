import { Counter, Registry } from "prom-client";
import { parseListenAddr, startHttpServer } from "./http.js";

describe("parseListenAddr", () => {
  test.each([
    [":8080", { host: "", port: 8080 }],
    ["127.0.0.1:9000", { host: "127.0.0.1", port: 9000 }],
    ["[::1]:80", { host: "::1", port: 80 }],
    ["0", { host: "", port: 0 }],
  ])("%s", (addr, want) => {
    expect(parseListenAddr(addr)).toEqual(want);
  });

  test("rejects nonsense with the address in the message", () => {
    expect(() => parseListenAddr("localhost")).toThrow(/invalid listen address "localhost"/);
    expect(() => parseListenAddr(":99999")).toThrow(/invalid port/);
  });
});

describe("startHttpServer", () => {
  test("serves /healthz, /readyz by readiness, /metrics from the registry, and 404 otherwise", async () => {
    const registry = new Registry();
    new Counter({ name: "xander_test_total", help: "t", registers: [registry] }).inc(3);
    let ready = false;
    const server = await startHttpServer({ addr: "127.0.0.1:0", registry, readiness: () => (ready ? { ready } : { ready, reason: "caches" }) });
    try {
      const get = (p: string) => fetch(`http://127.0.0.1:${server.port}${p}`);
      expect((await get("/healthz")).status).toBe(200);
      const notReady = await get("/readyz");
      expect(notReady.status).toBe(503);
      expect(await notReady.text()).toContain("caches");
      ready = true;
      expect((await get("/readyz")).status).toBe(200);
      expect(await (await get("/metrics")).text()).toContain("xander_test_total 3");
      expect((await get("/nope")).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  test("asks metricsAccess for /metrics with the caller's Authorization header, and answers a refusal with its status and reason", async () => {
    const registry = new Registry();
    new Counter({ name: "xander_test_total", help: "t", registers: [registry] }).inc();
    const asked: (string | undefined)[] = [];
    const server = await startHttpServer({
      addr: "127.0.0.1:0",
      registry,
      readiness: () => ({ ready: true }),
      metricsAccess: (authorization) => {
        asked.push(authorization);
        if (authorization === undefined) return Promise.resolve({ allowed: false, status: 401, reason: "no bearer token" });
        if (authorization === "Bearer scraper") return Promise.resolve({ allowed: true, user: { username: "scraper", groups: [] } });
        return Promise.resolve({ allowed: false, status: 403, reason: "stranger may not get /metrics" });
      },
    });
    try {
      const get = (p: string, token?: string) => fetch(`http://127.0.0.1:${server.port}${p}`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
      const anonymous = await get("/metrics");
      expect([anonymous.status, anonymous.headers.get("www-authenticate"), await anonymous.text()]).toEqual([401, 'Bearer realm="xander"', "no bearer token\n"]);
      const stranger = await get("/metrics", "stranger");
      expect([stranger.status, await stranger.text()]).toEqual([403, "stranger may not get /metrics\n"]);
      expect(await (await get("/metrics", "scraper")).text()).toContain("xander_test_total 1");
      // The probes carry no cluster data: the kubelet reaches them without a token.
      expect((await get("/healthz")).status).toBe(200);
      expect((await get("/readyz")).status).toBe(200);
      expect(asked).toEqual([undefined, "Bearer stranger", "Bearer scraper"]);
    } finally {
      await server.close();
    }
  });
});
