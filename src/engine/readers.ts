import { CgroupReader } from "../cgroup/read.js";
import type { CgroupLayout } from "../cgroup/types.js";
import { readNodePressureSync } from "../procfs/pressure.js";
import { readNodeCpuBusyUsec } from "../procfs/stat.js";
import type { CounterReader, NodePressureReader } from "../sampler/sampler.js";

/**
 * The cgroup reader a long-running sampler should use: files stay open between ticks (kernfs
 * regenerates them on each read from offset 0), which costs a fraction of open/read/close.
 * `retain` releases the descriptors of cgroups no longer sampled.
 */
export function keptOpenReader(layout: CgroupLayout): { read: CounterReader; retain: (relPaths: Iterable<string>) => void; close: () => void } {
  const reader = new CgroupReader(layout);
  return {
    read: (relPath, options) => Promise.resolve(reader.read(relPath, options)),
    retain: (relPaths) => { reader.retain(relPaths); },
    close: () => { reader.close(); },
  };
}

/** Node-wide PSI plus the node's busy CPU time, so attribution can see load from outside pods. */
export function nodeReader(procRoot: string): NodePressureReader {
  return () => {
    const pressure = readNodePressureSync(procRoot);
    const busy = readNodeCpuBusyUsec(procRoot);
    return Promise.resolve(busy.ok ? { ...pressure, cpuBusyUsec: busy.value } : pressure);
  };
}
