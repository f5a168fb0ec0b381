/**
 * Node-wide PSI from /proc/pressure/{cpu,memory,io}; same format as the cgroup `*.pressure` files.
 */
import path from "node:path";
import { performance } from "node:perf_hooks";
import { readWholeFileSync } from "../cgroup/fs.js";
import { parsePressureTotals } from "../cgroup/parse/psi.js";
import type { PsiTotals } from "../cgroup/types.js";

export interface NodePressure {
  readonly monoMs: number;
  readonly wallMs: number;
  /** Absent when the kernel has no PSI (CONFIG_PSI off, or booted with psi=0) or the file was unreadable. */
  readonly cpu?: PsiTotals;
  readonly memory?: PsiTotals;
  readonly io?: PsiTotals;
  /** Each names the file; empty when all three were read. */
  readonly problems: readonly string[];
}

const RESOURCES = ["cpu", "memory", "io"] as const;

/** Reads /proc/pressure/*. Never rejects. */
export function readNodePressure(procRoot = "/proc"): Promise<NodePressure> {
  return Promise.resolve(readNodePressureSync(procRoot));
}

export function readNodePressureSync(procRoot = "/proc"): NodePressure {
  const monoMs = performance.now();
  const wallMs = Date.now();
  const problems: string[] = [];
  const out: { -readonly [K in (typeof RESOURCES)[number]]?: PsiTotals } = {};
  for (const resource of RESOURCES) {
    const file = path.join(procRoot, "pressure", resource);
    const text = readOrProblem(file, problems);
    if (text === undefined) continue;
    const parsed = parsePressureTotals(text, file);
    if (parsed.ok) out[resource] = parsed.value;
    else problems.push(`cannot parse ${file}${parsed.error.line === undefined ? "" : ` line ${parsed.error.line}`}: ${parsed.error.message}`);
  }
  return { monoMs, wallMs, ...out, problems };
}

function readOrProblem(file: string, problems: string[]): string | undefined {
  try {
    return readWholeFileSync(file);
  } catch (e) {
    const code = typeof e === "object" && e !== null && "code" in e && typeof e.code === "string" ? e.code : "EIO";
    // psi=0 on the kernel command line makes the files exist but fail with EOPNOTSUPP.
    if (code === "ENOENT" || code === "EOPNOTSUPP") problems.push(`cannot read ${file}: PSI is not available (kernel without CONFIG_PSI, or booted with psi=0)`);
    else if (code === "EACCES" || code === "EPERM") problems.push(`cannot read ${file}: permission denied (run as root or mount the host /proc read-only)`);
    else problems.push(`cannot read ${file}: ${code}`);
    return undefined;
  }
}
