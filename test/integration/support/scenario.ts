/**
 * The end of a scenario test: what it made is removed whether it passed or not, in the one order that works
 * — the pods' loads and cgroups first (a cgroup with a live process in it cannot be removed), then Xander's
 * processes, then the API objects, then the logs (kept with XANDER_KEEP_LOGS).
 */
import { rmSync } from "node:fs";
import type { CgroupSandbox } from "../../../src/demo/sandbox.js";
import { deleteNamespace, deleteNode, kubectl } from "../../cluster/index.js";
import type { XanderProcess } from "./processes.js";

export interface ScenarioParts {
  readonly sandbox?: CgroupSandbox | undefined;
  readonly processes: readonly (XanderProcess | undefined)[];
  readonly policies?: readonly string[];
  /** Deleted and waited for: the next test may reuse nothing in them. */
  readonly namespaces?: readonly string[];
  /** The controllers' own namespace: deleted without waiting, it holds only what they made. */
  readonly controllerNamespace?: string;
  readonly nodes?: readonly string[];
  /** The scenario's temporary folder of logs and histories. */
  readonly dir?: string;
}

/** Tears the scenario down; returns the cgroups that could not be removed, for the test to assert on. */
export async function tearDownScenario(parts: ScenarioParts): Promise<string[]> {
  const failures = (await parts.sandbox?.cleanup()) ?? [];
  for (const proc of parts.processes) await proc?.stop();
  for (const policy of parts.policies ?? []) await kubectl(["delete", "starvationpolicy", policy, "--ignore-not-found"]);
  for (const namespace of parts.namespaces ?? []) if (namespace !== "") await deleteNamespace(namespace);
  if (parts.controllerNamespace !== undefined) await kubectl(["delete", "namespace", parts.controllerNamespace, "--ignore-not-found", "--wait=false"]);
  for (const node of parts.nodes ?? []) await deleteNode(node);
  if (parts.dir !== undefined && parts.dir !== "" && process.env.XANDER_KEEP_LOGS === undefined) rmSync(parts.dir, { recursive: true, force: true });
  return failures;
}
