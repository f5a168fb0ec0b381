/**
 * Bundles the compiled CLI (dist/cli/main.js, dist/cli/kubectl-xander.js) into dist/bin/, which is what
 * ships: the package's bin entries and the image's entrypoint.
 *
 * Why: @kubernetes/client-node loads every generated API and model of the whole Kubernetes API as some
 * 2,800 separate modules as soon as its KubeConfig is imported, about 66 MiB of RSS before a process does
 * anything. Bundled, the API classes Xander never calls are dropped and the rest is one module graph of a
 * few files; `xander agent` and `xander controller` start about 35–45 MiB smaller (BENCHMARKS.md, "Where the
 * memory goes"). Each command stays its own chunk, loaded only when run.
 *
 * better-sqlite3 stays outside: it loads a native addon from its own directory.
 */
import { build } from "esbuild";
import { chmodSync, rmSync } from "node:fs";

const OUT = "dist/bin";

rmSync(OUT, { recursive: true, force: true });
await build({
  entryPoints: { xander: "dist/cli/main.js", "kubectl-xander": "dist/cli/kubectl-xander.js" },
  outdir: OUT,
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  external: ["better-sqlite3"],
  // CommonJS dependencies call require() for Node's own modules; an ES module has no require of its own.
  banner: { js: 'import { createRequire as xanderCreateRequire } from "node:module"; const require = xanderCreateRequire(import.meta.url);' },
  sourcemap: "linked",
  logLevel: "warning",
});
for (const entry of ["xander", "kubectl-xander"]) chmodSync(`${OUT}/${entry}.js`, 0o755);
