import { readsMemoryStat, type ReadOptions } from "../cgroup/read-options.js";
import { defaultRuleConfigs } from "../analysis/rules/index.js";
import type { RuleConfigs } from "../analysis/types.js";
import type { Target } from "../sampler/types.js";
import { silentLogger } from "../util/log.js";
import { NodeEngine } from "./node-engine.js";

const MiB = 1024 * 1024;
const target: Target = { key: "p/c", podUid: "p", containerId: "c", relPath: "kubepods/podp/c" };

/** An engine over one container at 35% of a 1 GiB limit whose inactive_file shrinks every tick. */
function engineWith(configs: RuleConfigs): { engine: NodeEngine; reads: ReadOptions[] } {
  const reads: ReadOptions[] = [];
  let t = 0;
  const usageBytes = 360 * MiB;
  const engine = new NodeEngine({
    windowMs: 5000,
    nodeCores: 2,
    bindingFor: () => ({ configs }),
    logger: silentLogger(),
    readCounters: (_relPath, options) => {
      reads.push(options);
      t++;
      const inactive = readsMemoryStat(options, usageBytes) ? { memoryInactiveFileBytes: Math.max(0, 120 - 10 * t) * MiB } : {};
      return { kind: "read", counters: { monoMs: t * 1000, wallMs: t * 1000, memoryUsageBytes: usageBytes, memoryLimitBytes: 1024 * MiB, ...inactive }, problems: [] };
    },
  });
  return { engine, reads };
}

describe("NodeEngine", () => {
  it("a MemoryNearLimit threshold below half the limit gets a fresh working set every tick from that share", async () => {
    const defaults = defaultRuleConfigs();
    const { engine, reads } = engineWith({ ...defaults, MemoryNearLimit: { ...defaults.MemoryNearLimit, threshold: 0.3, forMs: 0 } });
    const raisedAt: number[] = [];
    for (let s = 1; s <= 12; s++) {
      const { analysis } = await engine.tick([target], s * 1000);
      if (analysis.raised.some((f) => f.rule === "MemoryNearLimit")) raisedAt.push(s);
    }
    // Usage at 35% of the limit: memory.stat is read every tick once the first sample was analysed.
    expect(reads.slice(2).every((options) => readsMemoryStat(options, 360 * MiB))).toBe(true);
    // The working set (usage − inactive_file) reaches 30% of the limit at tick 7: raised then, not when a stale value expires.
    expect(raisedAt).toEqual([7]);
  });

  it("with the default threshold a container at 35% of its limit reads memory.stat only every fifth tick", async () => {
    const { engine, reads } = engineWith(defaultRuleConfigs());
    for (let s = 1; s <= 12; s++) await engine.tick([target], s * 1000);
    expect(reads.filter((options) => readsMemoryStat(options, 360 * MiB)).length).toBeLessThanOrEqual(5);
  });
});
