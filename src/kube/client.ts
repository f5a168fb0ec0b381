/**
 * The one adapter over the Kubernetes API that the controller and the agent share.
 *
 * Why client-node's KubernetesObjectApi and not kubernetes-fluent-client (which is not a dependency): the fluent client's Apply always
 * uses field manager `pepr` with strict field validation, its PatchStatus is a JSON merge patch, its watch
 * caches objects before callbacks run and swallows callback errors, and it throws plain `{status}` objects.
 * Server-side apply needs our own field managers (`xander-controller`, `xander-agent`) so the two never
 * overwrite each other's fields, so writes go through KubernetesObjectApi with `application/apply-patch+yaml`.
 *
 * Everything this module returns is plain JSON (timestamps as strings), whether it came from a list, a
 * get or a watch event; every error is a KubeError that names the object.
 */
import { existsSync, readFileSync } from "node:fs";
import {
  HttpMethod,
  KubeConfig,
  KubernetesObjectApi,
  Observable,
  PatchStrategy,
  type ResponseContext,
  V1DeleteOptions,
  V1ObjectMeta,
  V1Preconditions,
  type KubernetesObject,
} from "@kubernetes/client-node";
import type { KubeObject } from "../api/meta.js";
import { reuseConnections } from "./connections.js";
import { requestResource } from "./request-resource.js";
import { isConflict, isNotFound, kubeError } from "./errors.js";
import { Informer, type InformerOptions } from "./informer.js";
import type { ListClient, ListOptions, ListResult } from "./list.js";
import { NAMESPACE, type ResourceKind } from "./resources.js";

export interface ObjectRef extends ResourceKind {
  readonly name: string;
  readonly namespace?: string;
}

export interface ApplyOptions {
  readonly fieldManager: string;
  /** Take over fields another manager owns. Controllers force: they are the authority for what they apply. */
  readonly force?: boolean;
}

export interface DeleteOptions {
  /** Only delete this incarnation of the object (a precondition), not one recreated with the same name. */
  readonly uid?: string;
  readonly propagationPolicy?: "Background" | "Foreground" | "Orphan";
}

function deleteBody(uid: string | undefined): V1DeleteOptions | undefined {
  if (uid === undefined) return undefined;
  const preconditions = new V1Preconditions();
  preconditions.uid = uid;
  const body = new V1DeleteOptions();
  body.preconditions = preconditions;
  return body;
}

/**
 * The response type that processResponse leaves as parsed. client-node's own "any" does not: it still turns a
 * list into a KubernetesObject whose metadata, an ObjectMeta, has no `continue`.
 */
const PLAIN_JSON = "xander:plain-json";

/** A page of a list as the apiserver sends it: `continue`, where client-node's model class says `_continue`. */
interface PlainListPage extends KubernetesObject {
  readonly metadata?: { readonly resourceVersion?: string; readonly continue?: string };
  readonly items: KubernetesObject[];
}

/** Every non-watch request; lists are paged (LIST_PAGE_SIZE per page), so one page never takes this long. */
export const REQUEST_TIMEOUT_MS = 60_000;
/**
 * A page's response arrives as Buffers of 16 KiB (a TLS record each), malloc'd outside V8's heap and freed only
 * when V8 collects their wrappers. A page of 500 Pods (3.3 MB, some 200 Buffers) took long enough to arrive and
 * be parsed that its wrappers outlived two scavenges and reached the old generation: in a cluster of 5,000 Pods,
 * 43 MB of them stayed until a full collection, and the main malloc arena kept 20 MiB of that for good. Pages
 * of 100 mostly die young (BENCHMARKS.md, "In a cluster of 5,000 Pods").
 */
const LIST_PAGE_SIZE = 100;

const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** JSON round trip: client-node model instances (Date fields, class prototypes) become plain JSON. */
export function plain(obj: unknown): unknown {
  return JSON.parse(JSON.stringify(obj));
}

export function describe(ref: { kind?: string; metadata?: { name?: string; namespace?: string } } | ObjectRef): string {
  const name = "metadata" in ref ? ref.metadata?.name : (ref as ObjectRef).name;
  const ns = "metadata" in ref ? ref.metadata?.namespace : (ref as ObjectRef).namespace;
  return `${ref.kind ?? "object"} ${ns === undefined || ns === "" ? "" : `${ns}/`}${name ?? "<unnamed>"}`;
}

/** KubernetesObjectApi plus what it lacks: collection paths for watches, and subresource apply. */
class ObjectApi extends KubernetesObjectApi {
  async collectionPath(kind: ResourceKind, namespace?: string): Promise<string> {
    const resource = await this.resource(kind.apiVersion, kind.kind);
    if (resource === undefined) {
      throw new Error(`the API server does not serve ${kind.kind} in ${kind.apiVersion} (are the CRDs installed? kubectl apply -f crds/)`);
    }
    const parts = [this.apiVersionPath(kind.apiVersion)];
    if (resource.namespaced && namespace !== undefined) parts.push("namespaces", encodeURIComponent(namespace));
    parts.push(resource.name);
    return parts.join("/");
  }

  /** Asks discovery again, past the cache: whether `kind` is served now (a CRD installed or removed since). */
  async servesNow(kind: ResourceKind): Promise<boolean> {
    Reflect.deleteProperty(this.apiVersionResourceCache, kind.apiVersion);
    try {
      return (await this.resource(kind.apiVersion, kind.kind)) !== undefined;
    } catch (err) {
      if (isNotFound(err)) return false; // the whole group/version is not served
      throw err;
    }
  }

  /**
   * One page of a list, parsed once into plain JSON. KubernetesObjectApi.list deserializes every item into
   * client-node's model classes, which the client then had to turn back into plain JSON: listing a cluster's
   * 4,890 Pods that way cost 1.4–1.6 s of CPU, and 0.8–0.9 s parsed once (BENCHMARKS.md).
   */
  async listPlainPage(kind: ResourceKind, opts: ListOptions, token: string | undefined): Promise<PlainListPage> {
    const metadata = new V1ObjectMeta();
    if (opts.namespace !== undefined) metadata.namespace = opts.namespace;
    const path = await this.specUriPath({ apiVersion: kind.apiVersion, kind: kind.kind, metadata }, "list");
    const ctx = this.configuration.baseServer.makeRequestContext(path, HttpMethod.GET);
    ctx.setHeaderParam("Accept", "application/json, */*;q=0.8");
    if (opts.fieldSelector !== undefined) ctx.setQueryParam("fieldSelector", opts.fieldSelector);
    if (opts.labelSelector !== undefined) ctx.setQueryParam("labelSelector", opts.labelSelector);
    ctx.setQueryParam("limit", String(opts.pageSize ?? LIST_PAGE_SIZE));
    if (token !== undefined) ctx.setQueryParam("continue", token);
    return this.requestPromise<PlainListPage>(ctx, PLAIN_JSON);
  }

  /** A PLAIN_JSON response is returned as parsed; everything else as client-node deserializes it. */
  protected override async processResponse<T extends KubernetesObject>(response: ResponseContext, type?: string): Promise<T> {
    const ok = response.httpStatusCode >= 200 && response.httpStatusCode <= 299;
    if (type !== PLAIN_JSON || !ok) return super.processResponse<T>(response, type);
    return JSON.parse(await response.body.text()) as T;
  }

  async applySubresource<T extends KubernetesObject>(obj: T, subresource: string, fieldManager: string, force: boolean): Promise<T> {
    const path = `${await this.specUriPath(structuredClone(obj), "patch")}/${subresource}`;
    const ctx = this.configuration.baseServer.makeRequestContext(path, HttpMethod.PATCH);
    ctx.setHeaderParam("Accept", "application/json, */*;q=0.8");
    ctx.setHeaderParam("Content-Type", PatchStrategy.ServerSideApply);
    ctx.setQueryParam("fieldManager", fieldManager);
    if (force) ctx.setQueryParam("force", "true");
    ctx.setBody(JSON.stringify(obj));
    return this.requestPromise<T>(ctx);
  }

  static of(kc: KubeConfig, onRequest: (method: string, path: string) => void): ObjectApi {
    const api = kc.makeApiClient(ObjectApi);
    api.setDefaultNamespace(kc);
    // client-node sets no timeout: a request on a connection the apiserver never answers (restart, network
    // partition) would hang its reconcile, or the leader's Lease renewal, forever.
    api.configuration.middleware.push({
      pre: (ctx) => {
        onRequest(ctx.getHttpMethod(), new URL(ctx.getUrl()).pathname);
        ctx.setSignal(AbortSignal.timeout(REQUEST_TIMEOUT_MS));
        return new Observable(Promise.resolve(ctx));
      },
      post: (rsp) => new Observable(Promise.resolve(rsp)),
    });
    return api;
  }
}

export class KubeClient implements ListClient {
  private readonly api: ObjectApi;
  private readonly requestListeners: ((method: string, resource: string) => void)[] = [];

  constructor(readonly kubeConfig: KubeConfig) {
    reuseConnections(kubeConfig);
    this.api = ObjectApi.of(kubeConfig, (method, path) => {
      this.noteRequest(method, path);
    });
  }

  /**
   * Calls `listener` with the HTTP method and the resource (requestResource) of every request this client
   * sends to the API (discovery, lists, reviews and writes alike), and with WATCH for every watch its
   * informers start: what this process costs the apiserver, as client-go's rest_client_requests_total counts it.
   */
  onRequest(listener: (method: string, resource: string) => void): void {
    this.requestListeners.push(listener);
  }

  noteRequest(method: string, path: string): void {
    const resource = requestResource(path);
    for (const listener of this.requestListeners) listener(method, resource);
  }

  /** From $KUBECONFIG, ~/.kube/config, or the in-cluster service account, in that order. */
  static fromDefault(): KubeClient {
    const kc = new KubeConfig();
    kc.loadFromDefault();
    if (kc.getCurrentCluster() === null) {
      throw new Error("no Kubernetes cluster configured (set KUBECONFIG, or run in a pod with a service account)");
    }
    return new KubeClient(kc);
  }

  /** Whether we run in a pod with a mounted service account (the namespace file exists). */
  static inCluster(): boolean {
    return existsSync(`${SERVICE_ACCOUNT_DIR}/namespace`) && process.env.KUBERNETES_SERVICE_HOST !== undefined;
  }

  /** The pod's own namespace when in a cluster, else undefined. */
  static podNamespace(): string | undefined {
    try {
      return readFileSync(`${SERVICE_ACCOUNT_DIR}/namespace`, "utf8").trim() || undefined;
    } catch {
      return undefined;
    }
  }

  async get<T extends KubeObject>(ref: ObjectRef): Promise<T | undefined> {
    const header = { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }) } };
    try {
      return plain(await this.api.read(header)) as T;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw kubeError(err, `get ${describe(ref)}`);
    }
  }

  async list<T extends KubeObject>(kind: ResourceKind, opts: ListOptions = {}): Promise<ListResult<T>> {
    const items: T[] = [];
    let resourceVersion: string | undefined;
    let token: string | undefined;
    do {
      const page = await this.listPage(kind, opts, token);
      const keep = opts.transform ?? ((obj: KubeObject): KubeObject => obj);
      // List items carry no apiVersion and kind of their own.
      for (const item of page.items) items.push(keep({ apiVersion: kind.apiVersion, kind: kind.kind, ...item } as KubeObject) as T);
      // The first page's resourceVersion is the snapshot the whole paginated list is consistent with.
      resourceVersion ??= page.metadata?.resourceVersion ?? "";
      token = page.metadata?.continue;
    } while (token !== undefined && token !== "");
    return { items, resourceVersion };
  }

  private async listPage(kind: ResourceKind, opts: ListOptions, token: string | undefined): Promise<PlainListPage> {
    try {
      return await this.api.listPlainPage(kind, opts, token);
    } catch (err) {
      throw kubeError(err, `list ${kind.kind}${opts.namespace === undefined ? "" : ` in ${opts.namespace}`}`);
    }
  }

  async create<T extends KubeObject>(obj: T, fieldManager?: string): Promise<T> {
    try {
      return plain(await this.api.create(structuredClone(obj) as KubernetesObject, undefined, undefined, fieldManager)) as T;
    } catch (err) {
      throw kubeError(err, `create ${describe(obj)}`);
    }
  }

  /** A full update; with metadata.resourceVersion set it fails with 409 if the object changed meanwhile. */
  async replace<T extends KubeObject>(obj: T, fieldManager?: string): Promise<T> {
    try {
      return plain(await this.api.replace(structuredClone(obj) as KubernetesObject, undefined, undefined, fieldManager)) as T;
    } catch (err) {
      throw kubeError(err, `update ${describe(obj)}`);
    }
  }

  /** Server-side apply: the object holds exactly the fields this manager wants to own. Creates if missing. */
  async apply<T extends KubeObject>(obj: T, opts: ApplyOptions): Promise<T> {
    try {
      const applied = await this.api.patch(structuredClone(obj) as KubernetesObject, undefined, undefined, opts.fieldManager, opts.force ?? true, PatchStrategy.ServerSideApply);
      return plain(applied) as T;
    } catch (err) {
      throw kubeError(err, `apply ${describe(obj)} as ${opts.fieldManager}`);
    }
  }

  /**
   * Server-side apply of the status subresource. `obj` carries apiVersion, kind, metadata.name (and
   * namespace) and the status fields this manager owns; spec is ignored by the apiserver on /status.
   */
  async applyStatus<T extends KubeObject>(obj: T, opts: ApplyOptions): Promise<T> {
    try {
      return plain(await this.api.applySubresource(structuredClone(obj) as KubernetesObject, "status", opts.fieldManager, opts.force ?? true)) as T;
    } catch (err) {
      throw kubeError(err, `apply status of ${describe(obj)} as ${opts.fieldManager}`);
    }
  }

  /** Deletes; false if it was already gone (or, with a uid precondition, replaced by a newer incarnation). */
  async delete(ref: ObjectRef, opts: DeleteOptions = {}): Promise<boolean> {
    const spec = { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }) } };
    const body = deleteBody(opts.uid);
    try {
      await this.api.delete(spec, undefined, undefined, undefined, undefined, opts.propagationPolicy, body);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      const e = kubeError(err, `delete ${describe(ref)}`);
      if (e.status === 409 && opts.uid !== undefined) return false; // precondition failed: a new incarnation
      throw e;
    }
  }

  /** Creates the namespace unless it exists. */
  async ensureNamespace(name: string, fieldManager: string): Promise<void> {
    if ((await this.get({ ...NAMESPACE, name })) !== undefined) return;
    try {
      await this.create({ ...NAMESPACE, metadata: { name } }, fieldManager);
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
  }

  /** `/api/v1/nodes`, `/apis/xander.io/v1alpha1/nodefindings`, ... (discovered, so CRDs must be installed). */
  collectionPath(kind: ResourceKind, namespace?: string): Promise<string> {
    return this.api.collectionPath(kind, namespace);
  }

  /** Whether the apiserver serves `kind`, from a fresh discovery request (e.g. an optional CRD). */
  async serves(kind: ResourceKind): Promise<boolean> {
    try {
      return await this.api.servesNow(kind);
    } catch (err) {
      throw kubeError(err, `discover ${kind.kind} in ${kind.apiVersion}`);
    }
  }

  /** A list+watch cache of one kind that restarts itself after errors. Call start(). */
  informer<T extends KubeObject>(kind: ResourceKind, opts: Omit<InformerOptions, "kind"> = {}): Informer<T> {
    return new Informer<T>(this, { ...opts, kind });
  }
}
