/**
 * Reading a collection: the part of the API client that an informer needs. The client implements it;
 * the informer depends only on this, so neither module imports the other's class.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import type { KubeObject } from "../api/meta.js";
import type { ResourceKind } from "./resources.js";

export interface ListOptions {
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** Page size; lists are read page by page so a large cluster is not one huge response. */
  readonly pageSize?: number;
  /** Applied to each item as its page arrives, so a large list is never held whole in full. */
  readonly transform?: (obj: KubeObject) => KubeObject;
}

export interface ListResult<T> {
  readonly items: T[];
  readonly resourceVersion: string;
}

export interface ListClient {
  readonly kubeConfig: KubeConfig;
  collectionPath(kind: ResourceKind, namespace?: string): Promise<string>;
  list<T extends KubeObject>(kind: ResourceKind, opts?: ListOptions): Promise<ListResult<T>>;
  /** Counts a request made outside the client's own calls (a watch, by its path); see KubeClient.onRequest. */
  noteRequest?(method: string, path: string): void;
}
