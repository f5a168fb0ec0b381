import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { startHttpServer, type RunningServer } from "./http.js";
import { CONTENT_SECURITY_POLICY, webRoutes } from "./web-assets.js";

let dir: string;
let built: RunningServer;
let empty: RunningServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "xander-web-"));
  writeFileSync(join(dir, "index.html"), '<meta name="xander-auth" content="{{AUTH}}"><script type="module" src="/assets/app.js"></script>');
  writeFileSync(join(dir, "app.js"), "console.log(1);\n");
  writeFileSync(join(dir, "notes.txt"), "not an asset");
  mkdirSync(join(dir, "nested"));
  const common = { addr: "127.0.0.1:0", registry: new Registry(), readiness: () => ({ ready: true }) };
  built = await startHttpServer({ ...common, routes: webRoutes({ auth: "local", dir }) });
  empty = await startHttpServer({ ...common, routes: webRoutes({ auth: "token", dir: join(dir, "missing") }) });
});

afterAll(async () => {
  await built.close();
  await empty.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = (server: RunningServer, path: string, headers: Record<string, string> = {}): Promise<Response> => fetch(`http://127.0.0.1:${server.port}${path}`, { headers });

describe("dashboard assets", () => {
  it("serves the page shell on every page path, without a token, saying how the page authenticates", async () => {
    for (const path of ["/", "/incidents", "/dependencies", "/pods/shop/api-0"]) {
      const r = await get(built, path);
      expect([path, r.status]).toEqual([path, 200]);
      expect(r.headers.get("content-type")).toMatch(/^text\/html/);
      expect(await r.text()).toContain('content="local"');
    }
  });

  it("forbids the page to load or send anything anywhere but its own server", async () => {
    const r = await get(built, "/assets/app.js");
    expect(r.headers.get("content-security-policy")).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toMatch(/default-src 'none'/);
    expect(CONTENT_SECURITY_POLICY).toMatch(/connect-src 'self'/);
    expect(r.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("answers a known asset's ETag with 304, and serves only assets of known types, never paths out of its folder", async () => {
    const first = await get(built, "/assets/app.js");
    expect(first.headers.get("content-type")).toMatch(/^text\/javascript/);
    const again = await get(built, "/assets/app.js", { "if-none-match": first.headers.get("etag") ?? "" });
    expect(again.status).toBe(304);
    expect((await get(built, "/assets/notes.txt")).status).toBe(404);
    expect((await get(built, "/assets/index.html")).status).toBe(404);
    expect((await get(built, "/assets/..%2F..%2Fetc%2Fpasswd")).status).toBe(404);
  });

  it("says how to build the assets when they are missing", async () => {
    const r = await get(empty, "/");
    expect(r.status).toBe(503);
    expect(await r.text()).toMatch(/npm run build/);
  });
});
