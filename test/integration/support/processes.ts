import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, readFileSync } from "node:fs";
import { join } from "node:path";
import { kubeconfigPath, repoRoot } from "../../cluster/index.js";

export { freePort, freePorts } from "../../../src/util/ports.js";

/** A Xander process (controller or agent) started from the built CLI, with its log in a file. */
export interface XanderProcess {
  readonly child: ChildProcess;
  readonly logFile: string;
  readonly exited: Promise<number | null>;
  log(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startXander(args: readonly string[], logFile: string, env: NodeJS.ProcessEnv = {}): XanderProcess {
  const child = spawn(process.execPath, [join(repoRoot, "dist/bin/xander.js"), ...args], {
    env: { ...process.env, XANDER_LOG_LEVEL: "debug", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return trackProcess(child, logFile);
}

/** Runs the built CLI once (as `xander`, or as the plugin through kubectl) and returns its exit code and output. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}, command = process.execPath, prefix = [join(repoRoot, "dist/bin/xander.js")]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, [...prefix, ...args], { env: { ...process.env, KUBECONFIG: kubeconfigPath(), ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.once("exit", (code) => {
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Sends a started process's output to `logFile` and gives it a `stop` that signals it, waits, and
 * escalates to SIGKILL after 10 s. The child must have piped stdout and stderr.
 */
export function trackProcess(child: ChildProcess, logFile: string): XanderProcess {
  const out = createWriteStream(logFile);
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => { resolve(code); }));
  return {
    child,
    logFile,
    exited,
    log: () => readFileSync(logFile, "utf8"),
    stop: async (signal: NodeJS.Signals = "SIGTERM") => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Reads one counter or gauge value from a Prometheus text page. */
export function metricValue(page: string, name: string, labels = ""): number {
  const line = page.split("\n").find((l) => l.startsWith(`${name}${labels} `) || (labels === "" && l.startsWith(`${name} `)));
  return line === undefined ? 0 : Number(line.split(" ").pop());
}

/** Sums every series of one metric on a Prometheus text page, whatever its labels. */
export function metricSum(page: string, name: string): number {
  return page
    .split("\n")
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((sum, l) => sum + Number(l.split(" ").pop()), 0);
}
