/**
 * Which cgroup hierarchies a host has. The decision is a pure function of a few facts about the
 * cgroup root (`decideLayout`); `probeLayout` gathers those facts from the filesystem.
 */
import { constants } from "node:fs";
import { access, readdir, readlink } from "node:fs/promises";
import path from "node:path";
import type { CgroupLayout } from "./types.js";
import { errnoCode } from "./fs.js";
import { err, ok, type Result } from "../util/result.js";

export interface LayoutError {
  readonly kind: "layout";
  /** The path that could not be used. */
  readonly path: string;
  readonly message: string;
}

/** What exists under the cgroup root; everything `decideLayout` needs. */
export interface LayoutFacts {
  readonly root: string;
  /** errno code when the root itself could not be listed (ENOENT, EACCES, ENOTDIR, ...). */
  readonly rootError?: string;
  /** `<root>/cgroup.controllers` exists: the root itself is a cgroup2 mount (pure v2). */
  readonly rootIsCgroup2: boolean;
  /**
   * Each hierarchy directory under the root that holds `cgroup.procs`, by entry name, mapped to the
   * entry name it resolves to: itself, or a symlink's target (`cpu` → `cpu,cpuacct`).
   */
  readonly hierarchies: ReadonlyMap<string, string>;
  /** Entry names of hierarchies that are cgroup2 (hold `cgroup.controllers`), e.g. `unified`. */
  readonly cgroup2: ReadonlySet<string>;
  /** PSI files (`cpu.pressure`) exist in the unified hierarchy, at its root or in a child. */
  readonly psi: boolean;
}

const V1_CONTROLLERS = ["cpu", "cpuacct", "memory", "blkio"] as const;
type V1Controller = (typeof V1_CONTROLLERS)[number];

/** Where the cgroup2 tree sits on hybrid hosts (systemd's "unified" mode). */
export const HYBRID_UNIFIED_DIR = "unified";

const WAY_OUT = "run as root or mount the host cgroupfs read-only";

export function decideLayout(facts: LayoutFacts): Result<CgroupLayout, LayoutError> {
  const { root } = facts;
  if (facts.rootError !== undefined) return err(rootError(root, facts.rootError));
  if (facts.rootIsCgroup2) return ok({ version: "v2", root, v1: {}, unified: root, psi: facts.psi });

  const v1: { -readonly [K in V1Controller]?: string } = {};
  for (const controller of V1_CONTROLLERS) {
    const dir = v1Mount(facts, controller);
    if (dir !== undefined) v1[controller] = path.join(root, dir);
  }
  const hasV1 = Object.keys(v1).length > 0;
  const unified = facts.cgroup2.has(HYBRID_UNIFIED_DIR) ? path.join(root, HYBRID_UNIFIED_DIR) : undefined;
  if (hasV1 && unified !== undefined) return ok({ version: "hybrid", root, v1, unified, psi: facts.psi });
  if (hasV1) return ok({ version: "v1", root, v1, psi: false });
  return err({
    kind: "layout",
    path: root,
    message: `no cgroup hierarchy found under ${root}: neither cgroup.controllers (v2) nor cpu, cpuacct, memory or blkio controller directories (v1) (${WAY_OUT} at ${root})`,
  });
}

/**
 * The directory a v1 controller is mounted at: its own entry (possibly a symlink to a co-mount like
 * `cpu,cpuacct`), or else a co-mounted entry whose comma-separated name lists it.
 */
function v1Mount(facts: LayoutFacts, controller: V1Controller): string | undefined {
  const own = facts.hierarchies.get(controller);
  if (own !== undefined && !facts.cgroup2.has(controller)) return own;
  for (const [name, target] of facts.hierarchies) {
    if (name.includes(",") && name.split(",").includes(controller) && !facts.cgroup2.has(name)) return target;
  }
  return undefined;
}

function rootError(root: string, code: string): LayoutError {
  const why: Record<string, string> = {
    ENOENT: "no such directory",
    ENOTDIR: "not a directory",
    EACCES: "permission denied",
    EPERM: "operation not permitted",
  };
  return { kind: "layout", path: root, message: `cannot read ${root}: ${why[code] ?? code} (${WAY_OUT} at ${root})` };
}

export async function detectLayout(root = "/sys/fs/cgroup"): Promise<Result<CgroupLayout, LayoutError>> {
  return decideLayout(await probeLayout(root));
}

/** Gathers `LayoutFacts` with a handful of readdir/access calls. Never rejects. */
export async function probeLayout(root: string): Promise<LayoutFacts> {
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (e) {
    return { root, rootError: errnoCode(e), rootIsCgroup2: false, hierarchies: new Map(), cgroup2: new Set(), psi: false };
  }
  const rootIsCgroup2 = await exists(path.join(root, "cgroup.controllers"));
  const hierarchies = new Map<string, string>();
  const cgroup2 = new Set<string>();
  if (!rootIsCgroup2) {
    const found = await Promise.all(entries.filter((e) => e.isDirectory() || e.isSymbolicLink()).map((e) => probeHierarchy(root, e.name)));
    for (const h of found) {
      if (h === undefined) continue;
      hierarchies.set(h.name, h.target);
      if (h.cgroup2) cgroup2.add(h.name);
    }
  }
  const unifiedDir = rootIsCgroup2 ? root : cgroup2.has(HYBRID_UNIFIED_DIR) ? path.join(root, HYBRID_UNIFIED_DIR) : undefined;
  const psi = unifiedDir !== undefined && (await hasPsi(unifiedDir));
  return { root, rootIsCgroup2, hierarchies, cgroup2, psi };
}

interface ProbedHierarchy {
  readonly name: string;
  readonly target: string;
  readonly cgroup2: boolean;
}

async function probeHierarchy(root: string, name: string): Promise<ProbedHierarchy | undefined> {
  const dir = path.join(root, name);
  if (!(await exists(path.join(dir, "cgroup.procs")))) return undefined;
  const target = await symlinkTarget(root, name);
  return { name, target, cgroup2: await exists(path.join(dir, "cgroup.controllers")) };
}

/**
 * A symlinked controller (`cpu` → `cpu,cpuacct`) resolves to its sibling's entry name. An absolute
 * target names the host's path, which differs when the host cgroupfs is mounted elsewhere
 * (e.g. /host/sys/fs/cgroup in the agent's pod), so only its last component is kept.
 */
async function symlinkTarget(root: string, name: string): Promise<string> {
  try {
    const link = await readlink(path.join(root, name));
    return path.isAbsolute(link) ? path.basename(link) : path.relative(root, path.resolve(root, link));
  } catch {
    return name;
  }
}

/**
 * The root cgroup of a cgroup2 mount carries PSI files only on newer kernels, so a child with
 * `cpu.pressure` counts as well.
 */
async function hasPsi(unifiedDir: string): Promise<boolean> {
  if (await exists(path.join(unifiedDir, "cpu.pressure"))) return true;
  try {
    const children = await readdir(unifiedDir, { withFileTypes: true });
    const dirs = children.filter((c) => c.isDirectory()).slice(0, 8);
    const found = await Promise.all(dirs.map((d) => exists(path.join(unifiedDir, d.name, "cpu.pressure"))));
    return found.includes(true);
  } catch {
    return false;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}
