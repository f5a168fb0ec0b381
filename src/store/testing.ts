import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ContainerSample, NodeSample, Target, Tick } from "../sampler/types.js";
import { openStore } from "./store.js";
import type { HistoryStore, Retention } from "./types.js";

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

/** The test runner's hooks, passed in: this module is compiled with the product, where no test globals exist. */
export interface TestHooks {
  readonly beforeEach: (fn: () => void) => void;
  readonly afterEach: (fn: () => void) => void;
}

/**
 * For a test file: a scratch directory made before each test and removed after it, and `store`, which opens a
 * history there that is closed after the test.
 */
export function scratchStores(hooks: TestHooks): { readonly store: (name?: string, retention?: Partial<Retention>) => HistoryStore; readonly file: (name: string) => string } {
  let scratch: ReturnType<typeof scratchDir> | undefined;
  let open: HistoryStore[] = [];
  const dir = (): ReturnType<typeof scratchDir> => {
    if (scratch === undefined) throw new Error("scratchStores: use store() and file() inside a test");
    return scratch;
  };
  hooks.beforeEach(() => {
    scratch = scratchDir();
    open = [];
  });
  hooks.afterEach(() => {
    for (const s of open) s.close();
    scratch?.cleanup();
  });
  return {
    store: (name = "history.db", retention) => {
      const s = openStore(dir().file(name), retention ? { retention } : {});
      open.push(s);
      return s;
    },
    file: (name) => dir().file(name),
  };
}
