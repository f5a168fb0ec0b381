/**
 * The dashboard's pages and assets (dist/web/, built by `npm run build`), served by Xander itself: a page
 * loads nothing from anywhere else, and the Content-Security-Policy says so to the browser. Pages and
 * assets carry no cluster data, so they are served without a token; every data call the page makes goes
 * to the guarded `/api/v1/*` routes.
 *
 *   GET /  /incidents  /dependencies  /pods/{namespace}/{name}    the page shell (one HTML file)
 *   GET /assets/{file}                                            scripts, styles, uPlot
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { packageDir } from "../util/package-dir.js";
import type { Route } from "./http.js";

/** `token`: the page asks for a Kubernetes token (the controller); `local`: the server holds the credentials (`xander dashboard`). */
export type DashboardAuth = "token" | "local";

export interface WebAssetsOptions {
  readonly auth: DashboardAuth;
  /** Where the built assets are; default: dist/web beside this module's dist/server. */
  readonly dir?: string;
}

interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

const TYPES: Readonly<Record<string, string>> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".html": "text/html; charset=utf-8",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".map": "application/json; charset=utf-8",
};

/** Same-origin only: scripts, styles, data calls. uPlot sets element styles, hence 'unsafe-inline' for style. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

/** The built dashboard: dist/web/ of Xander's package, wherever the running module sits below it. */
export function defaultWebDir(): string {
  return fileURLToPath(new URL("dist/web/", packageDir() ?? new URL("../../", import.meta.url)));
}

function asset(body: Buffer, type: string): Asset {
  return { body, type, etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"` };
}

/** Every servable file of the folder, read once: they are small, and a page load then never touches the disk. */
function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (!existsSync(dir)) return assets;
  for (const file of readdirSync(dir)) {
    const type = TYPES[extname(file)];
    if (type !== undefined && /^[\w.-]+$/.test(file)) assets.set(file, asset(readFileSync(join(dir, file)), type));
  }
  return assets;
}

function sendAsset(res: ServerResponse, found: Asset, ifNoneMatch: string | undefined): void {
  if (ifNoneMatch === found.etag) {
    res.writeHead(304, { etag: found.etag, ...SECURITY_HEADERS });
    res.end();
    return;
  }
  // no-cache: revalidate with the ETag, so an upgraded controller's assets are picked up at once.
  res.writeHead(200, { "content-type": found.type, "cache-control": "no-cache", etag: found.etag, ...SECURITY_HEADERS });
  res.end(found.body);
}

function notBuilt(res: ServerResponse, dir: string): void {
  res.writeHead(503, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
  res.end(`the dashboard's assets are not in ${dir}: run npm run build\n`);
}

export function webRoutes(options: WebAssetsOptions): Route[] {
  const dir = options.dir ?? defaultWebDir();
  const assets = loadAssets(dir);
  const shell = assets.get("index.html");
  const page = shell === undefined ? undefined : asset(Buffer.from(shell.body.toString("utf8").replace("{{AUTH}}", options.auth)), shell.type);
  assets.delete("index.html");
  return [
    {
      pattern: /^\/(?:|incidents|dependencies|pods\/[^/]+\/[^/]+)$/,
      handle: (req, res) => {
        if (page === undefined) notBuilt(res, dir);
        else sendAsset(res, page, req.headers["if-none-match"]);
      },
    },
    {
      pattern: /^\/assets\/([\w.-]+)$/,
      handle: (req, res, [file = ""]) => {
        const found = assets.get(file);
        if (found !== undefined) sendAsset(res, found, req.headers["if-none-match"]);
        else if (page === undefined) notBuilt(res, dir);
        else {
          res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
          res.end("not found\n");
        }
      },
    },
  ];
}
