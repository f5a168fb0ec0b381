import { existsSync } from "node:fs";
import { detectLayout } from "../../../src/cgroup/layout.js";
import type { CgroupLayout } from "../../../src/cgroup/types.js";

/**
 * Integration tests on real cgroups need root and a writable cgroup hierarchy with PSI. Where they
 * are missing the test fails with the reason; it never passes by skipping.
 */
export async function requireRealCgroups(root = "/sys/fs/cgroup"): Promise<CgroupLayout> {
  if (process.getuid?.() !== 0) throw new Error("this test needs root: it creates cgroups and moves processes into them");
  const layout = await detectLayout(root);
  if (!layout.ok) throw new Error(`this test needs a cgroup hierarchy: ${layout.error.message}`);
  if (!layout.value.psi) throw new Error(`this test needs PSI in the unified cgroup hierarchy (boot with psi=1); none under ${root}`);
  if (!existsSync("/proc/pressure/cpu")) throw new Error("this test needs /proc/pressure (boot with psi=1)");
  return layout.value;
}
