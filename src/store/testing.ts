import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ContainerSample, NodeSample, Target, Tick } from "../sampler/types.js";

/** Builders for store tests and the store benchmark. Times are fake wall clocks; nothing here reads the host. */
export const T0_MS = Date.UTC(2025, 0, 1);

export function target(podIndex: number, containerIndex = 0): Target {
  const podUid = `pod-${podIndex}`;
  const containerId = `c${containerIndex}-${podIndex}`;
  return {
    key: `${podUid}/${containerId}`,
    podUid,
    containerId,
    relPath: `kubepods.slice/pod${podUid}/${containerId}`,
    namespace: "default",
    podName: `web-${podIndex}`,
    containerName: `app-${containerIndex}`,
  };
}

export function sampleOf(t: Target, wallMs: number, values: Partial<ContainerSample> = {}): ContainerSample {
  return { key: t.key, podUid: t.podUid, containerId: t.containerId, wallMs, intervalMs: 1000, oomKills: 0, ...values };
}

export function tickOf(wallMs: number, containers: readonly ContainerSample[], node?: Partial<NodeSample>, gone: readonly string[] = []): Tick {
  return {
    wallMs,
    containers,
    ...(node ? { node: { wallMs, intervalMs: 1000, ...node } } : {}),
    gone,
    problems: [],
  };
}

/** A scratch directory that `cleanup` removes. */
export function scratchDir(prefix = "xander-store-"): { readonly dir: string; readonly file: (name: string) => string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    file: (name) => join(dir, name),
    cleanup: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
