/**
 * Which cgroups the agent samples: this node's pods from the API, mapped to container cgroups by computed
 * path, with a walk of the cgroup tree as the fallback. All file checks are asynchronous, so a slow
 * filesystem holds up only the tick that asked.
 */
import { access } from "node:fs/promises";
import { join } from "node:path";
import { discoverPods, discoveryMount } from "../cgroup/discover.js";
import type { CgroupLayout, PodCgroup } from "../cgroup/types.js";
import type { Target } from "../sampler/types.js";
import type { Logger } from "../util/log.js";
import { computedPaths, detectDriver, resolveTargets, type NodePod, type UnsampledPod } from "./pods.js";

export class TargetResolver {
  private readonly mount: string | undefined;
  private discovered: PodCgroup[] = [];
  private current: Target[] = [];
  private awaiting = 0;
  /** What was last said about each pod not sampled, so each is logged once per change, not once per refresh. */
  private said = new Map<string, string>();

  constructor(
    layout: CgroupLayout,
    private readonly logger: Logger,
  ) {
    this.mount = discoveryMount(layout);
  }

  /** The targets of the last refresh. */
  get targets(): Target[] {
    return this.current;
  }

  /** Running containers the last refresh found no cgroup for (Resolution.awaitingCgroup). */
  get awaitingCgroup(): number {
    return this.awaiting;
  }

  /** Walks the cgroup tree and resolves `pods` to targets again. */
  async refresh(pods: readonly NodePod[]): Promise<Target[]> {
    const mount = this.mount;
    if (mount !== undefined) {
      try {
        this.discovered = await discoverPods(mount);
      } catch (error) {
        this.logger.warn({ err: error }, "cannot walk the cgroup tree; using computed paths only");
      }
    }
    const driver = detectDriver(this.discovered);
    const present = mount === undefined ? new Set<string>() : await existing(mount, computedPaths(pods, driver));
    const resolution = resolveTargets(pods, this.discovered, driver, (relPath) => present.has(relPath));
    this.tellUnsampled(resolution.unsampled);
    this.awaiting = resolution.awaitingCgroup;
    this.current = resolution.targets;
    return this.current;
  }

  /** Names each pod that is newly not sampled, or for a new reason; an unknown runtime is a warning, a pod still starting is not. */
  private tellUnsampled(unsampled: readonly UnsampledPod[]): void {
    const now = new Map<string, string>();
    for (const { pod, reasons, unknownRuntime } of unsampled) {
      const why = reasons.join("; ");
      now.set(pod, why);
      if (this.said.get(pod) === why) continue;
      const message = `pod ${pod} not sampled: ${why}`;
      if (unknownRuntime) this.logger.warn({ pod, reasons }, message);
      else this.logger.debug({ pod, reasons }, message);
    }
    this.said = now;
  }
}

/** The relative paths under `mount` that exist. */
async function existing(mount: string, relPaths: readonly string[]): Promise<Set<string>> {
  const found = await Promise.all(
    relPaths.map(async (relPath) => {
      try {
        await access(join(mount, relPath));
        return relPath;
      } catch {
        return undefined;
      }
    }),
  );
  return new Set(found.filter((relPath) => relPath !== undefined));
}
