/**
 * A synthetic node for the store benchmarks: containers (three per pod) with their own CPU, stall and memory
 * profiles, producing realistic, varying ticks at 1 s, and replacing one container now and then so the
 * targets table sees restarts as on a real node.
 */
import type { ContainerSample, Target, Tick } from "../sampler/types.js";
import { random } from "./random.js";

export const INTERVAL_MS = 1000;
const MIB = 1024 * 1024;
/** One container is replaced this often, so the targets table sees restarts as on a real node. */
const CHURN_EVERY_TICKS = 600;

interface Profile {
  target: Target;
  readonly cpuBaseCores: number;
  readonly cpuLimitCores: number | null;
  readonly memoryLimitBytes: number | null;
  readonly wsFloorBytes: number;
  readonly busy: boolean;
  readonly phase: number;
  workingSetBytes: number;
}

function makeTarget(podIndex: number, containerIndex: number, generation: number): Target {
  const podUid = `5f1c0000-0000-4000-8000-${String(podIndex).padStart(12, "0")}`;
  const containerId = `${generation.toString(16).padStart(8, "0")}${String(podIndex * 8 + containerIndex).padStart(56, "0")}`;
  return {
    key: `${podUid}/${containerId}`,
    podUid,
    containerId,
    relPath: `kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${podUid}.slice/cri-containerd-${containerId}.scope`,
    namespace: `team-${podIndex % 12}`,
    podName: `svc-${podIndex}-7c9d8f6b5-x2k4q`,
    containerName: containerIndex === 0 ? "app" : `sidecar-${containerIndex}`,
  };
}

function makeProfile(target: Target, rand: () => number): Profile {
  const wsFloorBytes = Math.round((32 + rand() * 1500) * MIB);
  const memoryLimitBytes = rand() < 0.25 ? null : Math.round(wsFloorBytes * (1.5 + rand() * 2));
  return {
    target,
    cpuBaseCores: 0.005 + rand() * rand() * 2,
    cpuLimitCores: rand() < 0.33 ? null : 0.25 + Math.floor(rand() * 16) * 0.25,
    memoryLimitBytes,
    wsFloorBytes,
    busy: rand() < 0.2,
    phase: rand() * Math.PI * 2,
    workingSetBytes: wsFloorBytes,
  };
}

function cpuFields(p: Profile, wallMs: number, rand: () => number): Partial<ContainerSample> {
  const diurnal = 1 + 0.3 * Math.sin((2 * Math.PI * wallMs) / 3_600_000 + p.phase);
  const demand = p.cpuBaseCores * diurnal * (0.7 + 0.6 * rand());
  const cpuCores = p.cpuLimitCores === null ? demand : Math.min(demand, p.cpuLimitCores);
  // cgroup v2 counts CFS periods only while a quota is set.
  const periods = p.cpuLimitCores === null ? 0 : 10;
  const throttledPeriods = p.cpuLimitCores !== null && demand > 0.9 * p.cpuLimitCores ? Math.floor(rand() * 10) : 0;
  return {
    cpuCores,
    periods,
    throttledPeriods,
    throttleRatio: periods > 0 ? throttledPeriods / periods : 0,
    cpuLimitCores: p.cpuLimitCores,
  };
}

function stallFields(p: Profile, rand: () => number): Partial<ContainerSample> {
  const cpuStallShare = p.busy ? rand() * 0.2 : rand() < 0.3 ? rand() * 0.02 : 0;
  const memoryStallShare = rand() < 0.05 ? rand() * 0.1 : 0;
  return {
    cpuStallShare,
    memoryStallShare,
    memoryFullStallShare: memoryStallShare / 2,
    ioStallShare: rand() < 0.2 ? rand() * 0.05 : 0,
    ioFullStallShare: rand() < 0.05 ? rand() * 0.02 : 0,
  };
}

function memoryFields(p: Profile, rand: () => number): Partial<ContainerSample> {
  const ceilingBytes = p.memoryLimitBytes ?? p.wsFloorBytes * 2;
  p.workingSetBytes = Math.min(ceilingBytes, Math.max(p.wsFloorBytes / 2, p.workingSetBytes + Math.round((rand() - 0.5) * MIB)));
  return {
    workingSetBytes: p.workingSetBytes,
    memoryLimitBytes: p.memoryLimitBytes,
    memoryLimitShare: p.memoryLimitBytes === null ? null : p.workingSetBytes / p.memoryLimitBytes,
  };
}

/** A node of `containers` containers (three per pod) producing realistic, varying ticks at 1 s. */
export class SyntheticNode {
  private readonly rand = random(0x5eed);
  private readonly profiles: Profile[] = [];
  private tickCount = 0;

  constructor(containers: number) {
    for (let i = 0; i < containers; i++) this.profiles.push(makeProfile(makeTarget(Math.floor(i / 3), i % 3, 0), this.rand));
  }

  targets(): Target[] {
    return this.profiles.map((p) => p.target);
  }

  tick(wallMs: number): Tick {
    const gone = this.churn();
    const containers = this.profiles.map((p) => this.sample(p, wallMs));
    const rand = this.rand;
    const node = { wallMs, intervalMs: INTERVAL_MS, cpuStallShare: rand() * 0.1, memoryStallShare: rand() < 0.1 ? rand() * 0.05 : 0, ioStallShare: rand() * 0.03 };
    return { wallMs, containers, node, gone, problems: [] };
  }

  private sample(p: Profile, wallMs: number): ContainerSample {
    const { key, podUid, containerId } = p.target;
    // Intervals come from each container's own reads, a millisecond or so apart.
    const intervalMs = INTERVAL_MS + Math.floor(this.rand() * 3) - 1;
    const oomKills = this.rand() < 1e-6 ? 1 : 0;
    return { key, podUid, containerId, wallMs, intervalMs, oomKills, ...cpuFields(p, wallMs, this.rand), ...stallFields(p, this.rand), ...memoryFields(p, this.rand) };
  }

  private churn(): string[] {
    this.tickCount++;
    if (this.tickCount % CHURN_EVERY_TICKS !== 0) return [];
    const generation = this.tickCount / CHURN_EVERY_TICKS;
    const index = generation % this.profiles.length;
    const profile = this.profiles[index];
    if (!profile) return [];
    const old = profile.target;
    profile.target = makeTarget(Math.floor(index / 3), index % 3, generation);
    return [old.key];
  }
}
