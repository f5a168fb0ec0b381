import type { KubeObject } from "../api/meta.js";

/** What reconcilers read: a watch cache (Informer implements it). Reconcilers never GET what they watch. */
export interface Cache<T extends KubeObject> {
  get(name: string, namespace?: string): T | undefined;
  list(namespace?: string): T[];
}

export type Node = KubeObject;
