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
import { chmodSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { RUNTIME_ENV } from "../src/util/runtime-env.js";

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
withRuntimeEnv(`${OUT}/xander.js`);
for (const entry of ["xander", "kubectl-xander"]) chmodSync(`${OUT}/${entry}.js`, 0o755);

/**
 * Makes `xander` start Node with RUNTIME_ENV, as the agent's pods do: `xander scan` holds 71 MiB with it and
 * 102 MiB without (BENCHMARKS.md). A hashbang cannot set the environment or pass Node a flag portably
 * (`env -S` is not in busybox), so the file's first two lines are a shell script: sh runs line 2, which sets
 * each variable the caller has not set, puts the V8 flag before the caller's NODE_OPTIONS (where a flag of
 * theirs overrides it) and execs Node on this same file. Node skips the hashbang, and to JavaScript line 2 is a
 * string and a comment. `node dist/bin/xander.js` still runs, with Node's defaults.
 */
function withRuntimeEnv(file: string): void {
  const code = readFileSync(file, "utf8");
  const hashbang = "#!/usr/bin/env node\n";
  if (!code.startsWith(hashbang)) throw new Error(`${file} does not start with ${JSON.stringify(hashbang)}`);
  const assignments = Object.entries(RUNTIME_ENV).map(([name, value]) =>
    name === "NODE_OPTIONS" ? `NODE_OPTIONS="${value}\${NODE_OPTIONS:+ $NODE_OPTIONS}"` : `${name}="\${${name}-${value}}"`,
  );
  writeFileSync(file, `#!/bin/sh\n':' //; export ${assignments.join(" ")}; exec node "$0" "$@"\n${code.slice(hashbang.length)}`);
  // One more line at the top: the source map's lines move down by one (";" is an empty line of mappings).
  const mapFile = `${file}.map`;
  const map = JSON.parse(readFileSync(mapFile, "utf8")) as { mappings: string };
  map.mappings = `;${map.mappings}`;
  writeFileSync(mapFile, JSON.stringify(map));
}
