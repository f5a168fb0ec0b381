import { statfsSync } from "node:fs";
import { CgroupReader, isCgroupFs } from "../cgroup/read.js";
import type { CgroupLayout } from "../cgroup/types.js";
import { readNodePressureSync } from "../procfs/pressure.js";
import { readNodeCpuBusyUsec } from "../procfs/stat.js";
import { readNodeOomKills } from "../procfs/vmstat.js";
import type { CounterReader, NodePressureReader } from "../sampler/sampler.js";

/**
 * The cgroup reader a long-running sampler should use: files stay open between ticks (kernfs
 * regenerates them on each read from offset 0), which costs a fraction of open/read/close.
 * `retain` releases the descriptors of cgroups no longer sampled.
 */
export function keptOpenReader(layout: CgroupLayout): { read: CounterReader; retain: (relPaths: Iterable<string>) => void; close: () => void } {
  const reader = new CgroupReader(layout);
  return {
    read: (relPath, options, last) => reader.read(relPath, options, last),
    retain: (relPaths) => { reader.retain(relPaths); },
    close: () => { reader.close(); },
  };
}

/**
 * Node-wide PSI plus the node's busy CPU time, so attribution can see load from outside pods, and its OOM
 * kills, which say whether any cgroup's count can have moved.
 */
export function nodeReader(procRoot: string): NodePressureReader {
  return () => {
    const pressure = readNodePressureSync(procRoot);
    const busy = readNodeCpuBusyUsec(procRoot);
    const oomKills = readNodeOomKills(procRoot);
    return Promise.resolve({ ...pressure, ...(busy.ok ? { cpuBusyUsec: busy.value } : {}), ...(oomKills.ok ? { oomKills: oomKills.value } : {}) });
  };
}

const PROC_SUPER_MAGIC = 0x9fa0;

function isProcFs(dir: string): boolean {
  try {
    return statfsSync(dir).type === PROC_SUPER_MAGIC;
  } catch {
    return false;
  }
}

/**
 * Whether the node-wide counters under `procRoot` bound every cgroup of `layout`: both are the running
 * kernel's (procfs and cgroupfs), so a node-wide PSI total or OOM-kill count that stood still means no cgroup's
 * moved either. A fixture tree has no such bond: its files change on their own.
 */
export function nodeCountersBoundCgroups(layout: CgroupLayout, procRoot: string): boolean {
  if (!isProcFs(procRoot)) return false;
  const mounts = [layout.unified, ...Object.values(layout.v1)].filter((mount): mount is string => mount !== undefined);
  return mounts.length > 0 && mounts.every(isCgroupFs);
}
