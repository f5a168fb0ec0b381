// What ships is the bundle in dist/bin/ (scripts/bundle.ts), not the modules tsc writes: the package's bin
// entries and the image's entrypoint run it, and so does every integration test. These checks catch a bundle
// that would run here but not where only it and better-sqlite3 are installed.
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { repoRoot } from "../cluster/index.js";
import { RUNTIME_ENV } from "../../src/util/runtime-env.js";
import { runCli } from "./support/processes.js";

const BIN = join(repoRoot, "dist/bin");
/** The one package the bundle leaves outside: it loads a native addon from its own directory. */
const EXTERNAL_PACKAGE = "better-sqlite3";

function bundleFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return bundleFiles(path);
    return entry.name.endsWith(".js") ? [path] : [];
  });
}

describe("the shipped bundle (dist/bin)", () => {
  const version = (JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string }).version;
  let alone: string;

  beforeAll(() => {
    // The bundle, package.json and better-sqlite3, and nothing else: no other package to fall back on.
    alone = mkdtempSync(join(tmpdir(), "xander-bundle-"));
    cpSync(BIN, join(alone, "dist/bin"), { recursive: true });
    cpSync(join(repoRoot, "package.json"), join(alone, "package.json"));
    mkdirSync(join(alone, "node_modules"));
    symlinkSync(join(repoRoot, "node_modules", EXTERNAL_PACKAGE), join(alone, "node_modules", EXTERNAL_PACKAGE));
  });

  afterAll(() => {
    rmSync(alone, { recursive: true, force: true });
  });

  test("`xander --version` and `kubectl-xander --version` print the package's version", async () => {
    const xander = await runCli(["--version"], {}, process.execPath, [join(alone, "dist/bin/xander.js")]);
    const plugin = await runCli(["--version"], {}, process.execPath, [join(alone, "dist/bin/kubectl-xander.js")]);
    expect({ code: xander.code, out: xander.stdout.trim(), err: xander.stderr }).toEqual({ code: 0, out: version, err: "" });
    expect({ code: plugin.code, out: plugin.stdout.trim(), err: plugin.stderr }).toEqual({ code: 0, out: version, err: "" });
  });

  test("every chunk of it loads with no package installed but better-sqlite3", async () => {
    // The entry points run the CLI when loaded; the tests above and below run them.
    const files = bundleFiles(join(alone, "dist/bin/chunks"));
    expect(files.length).toBeGreaterThan(10);
    const script = `for (const f of ${JSON.stringify(files)}) await import(f); console.log("loaded");`;
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], { cwd: alone, env: { PATH: process.env.PATH ?? "" } });
    expect(stdout.trim()).toBe("loaded");
  });

  test("`xander`, run as npm links it, starts Node with the runtime settings and keeps what the caller set", async () => {
    const bin = join(alone, "bin");
    mkdirSync(bin);
    symlinkSync(join(alone, "dist/bin/xander.js"), join(bin, "xander"));
    // Loaded by the Node that `xander` starts: it reports the environment that process got.
    const report = join(alone, "report-env.cjs");
    writeFileSync(report, `process.stderr.write(JSON.stringify({ arenas: process.env.MALLOC_ARENA_MAX, mmapThreshold: process.env.MALLOC_MMAP_THRESHOLD_, nodeOptions: process.env.NODE_OPTIONS }));`);
    const environment = async (env: NodeJS.ProcessEnv): Promise<unknown> => {
      // Unset unless the case sets them (spawn leaves out a variable whose value is undefined).
      const r = await runCli(["--version"], { MALLOC_ARENA_MAX: undefined, MALLOC_MMAP_THRESHOLD_: undefined, ...env }, join(bin, "xander"), []);
      expect({ code: r.code, out: r.stdout.trim() }).toEqual({ code: 0, out: version });
      return JSON.parse(r.stderr) as unknown;
    };

    expect(await environment({ NODE_OPTIONS: `--require ${report}` })).toEqual({
      arenas: RUNTIME_ENV.MALLOC_ARENA_MAX,
      mmapThreshold: RUNTIME_ENV.MALLOC_MMAP_THRESHOLD_,
      nodeOptions: `${RUNTIME_ENV.NODE_OPTIONS} --require ${report}`,
    });
    // The caller's own value wins: a variable it set stays, and its V8 flag comes after ours.
    expect(await environment({ NODE_OPTIONS: `--require ${report} --max-semi-space-size=16`, MALLOC_ARENA_MAX: "4" })).toEqual({
      arenas: "4",
      mmapThreshold: RUNTIME_ENV.MALLOC_MMAP_THRESHOLD_,
      nodeOptions: `${RUNTIME_ENV.NODE_OPTIONS} --require ${report} --max-semi-space-size=16`,
    });
  });

  test("the commands' help runs from the bundle alone", async () => {
    for (const command of ["agent", "controller", "scan", "summary", "report", "dashboard"]) {
      const r = await runCli([command, "--help"], {}, process.execPath, [join(alone, "dist/bin/xander.js")]);
      expect({ command, code: r.code, usage: r.stdout.startsWith("Usage: xander") }).toEqual({ command, code: 0, usage: true });
    }
  });
});
