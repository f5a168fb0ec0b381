import fc from "fast-check";
import type { ReadOptions } from "../cgroup/read-options.js";
import type { RawCounters } from "../cgroup/types.js";
import type { NodePressureTotals } from "./derive.js";
import { Sampler } from "./sampler.js";
import type { Target } from "./types.js";

const targets: Target[] = ["a", "b"].map((c) => ({ key: `p/${c}`, podUid: "p", containerId: c, relPath: `kubepods/podp/${c}` }));

/** Cumulative counters of one cgroup, and of the node, which counts everything the cgroups count and more. */
interface World {
  tick: number;
  readonly cgroups: Map<string, { cpu: number; memory: number; io: number; oomKills: number }>;
  readonly node: { cpu: number; memory: number; io: number; oomKills: number };
  /** relPaths whose pressure files fail to read this tick. */
  failing: Set<string>;
}

function world(): World {
  return { tick: 0, cgroups: new Map(targets.map((t) => [t.relPath, { cpu: 0, memory: 0, io: 0, oomKills: 0 }])), node: { cpu: 0, memory: 0, io: 0, oomKills: 0 }, failing: new Set() };
}

/** A sampler over the world, honouring ReadOptions as CgroupReader does; counts the pressure and OOM files read. */
function samplerOver(w: World, nodeBoundsTargets: boolean): { sampler: Sampler; vouchedReads: () => number } {
  let vouchedReads = 0;
  // Like CgroupReader: a file skipped as vouched for takes the last read's value.
  const read = (relPath: string, options: ReadOptions, last?: RawCounters): { kind: "read"; counters: RawCounters; problems: string[] } => {
    const c = w.cgroups.get(relPath) ?? { cpu: 0, memory: 0, io: 0, oomKills: 0 };
    const counters: { -readonly [K in keyof RawCounters]: RawCounters[K] } = { monoMs: w.tick * 1000, wallMs: w.tick * 1000, cpuUsageUsec: w.tick * 1000 };
    const failing = w.failing.has(relPath);
    if (options.cpuPressure === false) counters.psiCpu = last?.psiCpu;
    else if (!failing) counters.psiCpu = { someTotalUsec: c.cpu, fullTotalUsec: 0 };
    if (options.memoryPressure === false) counters.psiMemory = last?.psiMemory;
    else if (!failing) counters.psiMemory = { someTotalUsec: c.memory, fullTotalUsec: Math.floor(c.memory / 2) };
    counters.psiIo = options.ioPressure === false ? last?.psiIo : { someTotalUsec: c.io, fullTotalUsec: 0 };
    counters.oomKills = options.oomKills === false ? last?.oomKills : c.oomKills;
    vouchedReads += ["cpuPressure", "memoryPressure", "ioPressure", "oomKills"].filter((k) => options[k as keyof ReadOptions] !== false).length;
    return { kind: "read", counters, problems: [] };
  };
  const node = (): Promise<NodePressureTotals> =>
    Promise.resolve({ monoMs: w.tick * 1000, wallMs: w.tick * 1000, cpu: { someTotalUsec: w.node.cpu }, memory: { someTotalUsec: w.node.memory }, io: { someTotalUsec: w.node.io }, oomKills: w.node.oomKills });
  return { sampler: new Sampler(read, node, { nodeBoundsTargets }), vouchedReads: () => vouchedReads };
}

type Kind = "cpu" | "memory" | "io" | "oomKills";
/**
 * One tick's events: stalls or kills in one container (which the node sees too), or on the node alone. A
 * container's stalls in one 1 s tick add up to less than the tick, as the kernel's can; derive clamps shares to 1.
 */
const step = fc.record({
  inContainer: fc.array(fc.record({ container: fc.constantFrom(...targets.map((t) => t.relPath)), kind: fc.constantFrom<Kind>("cpu", "memory", "io", "oomKills"), amount: fc.integer({ min: 1, max: 330_000 }) }), { maxLength: 3 }),
  onNodeOnly: fc.array(fc.record({ kind: fc.constantFrom<Kind>("cpu", "memory", "io", "oomKills"), amount: fc.integer({ min: 1, max: 500_000 }) }), { maxLength: 2 }),
  failing: fc.subarray(targets.map((t) => t.relPath)),
});

const STALL_FIELDS = ["cpuStallShare", "memoryStallShare", "memoryFullStallShare", "ioStallShare", "ioFullStallShare", "oomKills"] as const;
type Counts = { cpu: number; memory: number; io: number; oomKills: number };

/** What a container's sample should say over one 1 s tick, from its counters before and after. */
function truth(before: Counts, after: Counts): Record<(typeof STALL_FIELDS)[number], number> {
  return {
    cpuStallShare: (after.cpu - before.cpu) / 1e6,
    memoryStallShare: (after.memory - before.memory) / 1e6,
    memoryFullStallShare: (Math.floor(after.memory / 2) - Math.floor(before.memory / 2)) / 1e6,
    ioStallShare: (after.io - before.io) / 1e6,
    ioFullStallShare: 0,
    oomKills: after.oomKills - before.oomKills,
  };
}

describe("Sampler with node counters that vouch for the targets'", () => {
  it("gives the samples of reading every file, whatever stalls, kills and failed reads happen", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 2, maxLength: 30 }), async (steps) => {
        const w = world();
        const everyFile = samplerOver(w, false);
        const vouched = samplerOver(w, true);
        for (const s of steps) {
          const before = new Map([...w.cgroups].map(([relPath, counts]) => [relPath, { ...counts }]));
          w.tick++;
          for (const e of s.inContainer) {
            const c = w.cgroups.get(e.container);
            if (c) c[e.kind] += e.kind === "oomKills" ? 1 : e.amount;
            w.node[e.kind] += e.kind === "oomKills" ? 1 : e.amount;
          }
          for (const e of s.onNodeOnly) w.node[e.kind] += e.kind === "oomKills" ? 1 : e.amount;
          w.failing = new Set(s.failing);
          const expected = await everyFile.sampler.tick(targets, w.tick * 1000);
          const got = await vouched.sampler.tick(targets, w.tick * 1000);
          expect(got.containers.map((c) => c.key)).toEqual(expected.containers.map((c) => c.key));
          got.containers.forEach((sample, i) => {
            const target = targets.find((t) => t.key === sample.key);
            const exact = truth(before.get(target?.relPath ?? "") ?? w.node, w.cgroups.get(target?.relPath ?? "") ?? w.node);
            for (const field of STALL_FIELDS) {
              const read = expected.containers[i]?.[field];
              // Where reading every file knew the value, the same; where a failed read left it unknown, a file
              // the node vouched for may still know it, and then it is the true value.
              if (read !== undefined) expect(sample[field]).toBeCloseTo(read, 12);
              else if (sample[field] !== undefined) expect(sample[field]).toBeCloseTo(exact[field], 12);
            }
          });
        }
      }),
      { numRuns: 300 },
    );
  });

  it("reads a target's pressure and OOM files again only when the node's counter of that kind moved", async () => {
    const w = world();
    const { sampler, vouchedReads } = samplerOver(w, true);
    for (let t = 1; t <= 3; t++) {
      w.tick = t;
      await sampler.tick(targets, t * 1000);
    }
    // The first tick reads everything to prime; from the second on a still node vouches for all four kinds.
    const afterQuiet = vouchedReads();
    w.tick = 4;
    await sampler.tick(targets, 4000);
    expect(vouchedReads()).toBe(afterQuiet);
    w.tick = 5;
    w.node.memory += 10_000;
    const cgroup = w.cgroups.get(targets[0]?.relPath ?? "");
    if (cgroup) cgroup.memory += 10_000;
    const tick = await sampler.tick(targets, 5000);
    expect(vouchedReads()).toBe(afterQuiet + targets.length);
    expect(tick.containers.map((s) => s.memoryStallShare)).toEqual([0.01, 0]);
  });

  it("hands the reader options of one layout, whatever each read skips", async () => {
    const w = world();
    const layouts = new Set<string>();
    const sampler = new Sampler(
      (_relPath, options) => {
        layouts.add(Object.keys(options).join());
        return { kind: "read", counters: { monoMs: w.tick * 1000, wallMs: w.tick * 1000, psiCpu: { someTotalUsec: 0 }, psiMemory: { someTotalUsec: 0 }, psiIo: { someTotalUsec: 0 }, oomKills: 0, memoryLimitBytes: 1e9, memoryUsageBytes: 1e8, memoryInactiveFileBytes: 1e7, cpuLimitCores: null }, problems: [] };
      },
      () => Promise.resolve({ monoMs: w.tick * 1000, wallMs: w.tick * 1000, cpu: { someTotalUsec: w.tick }, memory: { someTotalUsec: 0 }, io: { someTotalUsec: 0 }, oomKills: 0 }),
      { nodeBoundsTargets: true },
    );
    for (w.tick = 1; w.tick <= 12; w.tick++) await sampler.tick(targets, w.tick * 1000);
    expect([...layouts]).toEqual(["limits,memoryStat,memoryStatFromUsageBytes,throttling,cpuPressure,memoryPressure,ioPressure,oomKills"]);
  });

  it("reads every file when the node's counters do not bound the targets' (a fixture tree)", async () => {
    const w = world();
    const { sampler, vouchedReads } = samplerOver(w, false);
    for (let t = 1; t <= 4; t++) {
      w.tick = t;
      await sampler.tick(targets, t * 1000);
    }
    expect(vouchedReads()).toBe(4 * targets.length * 4);
  });
});
