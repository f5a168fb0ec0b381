/**
 * Who may read what Xander serves over HTTP, decided by the cluster itself, as the kubelet and
 * kube-rbac-proxy do: the caller's bearer token goes to a TokenReview (who is this?), then the user and the
 * request's attributes go to a SubjectAccessReview (may they?). Nothing is decided locally, so RBAC, and
 * whatever authorizer the cluster runs, stays the single place where access is granted or revoked.
 *
 * Answers are cached briefly per token and per (user, attributes), so a dashboard polling every few seconds
 * costs the apiserver two reviews per caller per TTL, not two per request. An answer in the last part of its
 * life is still served, and asked again in the background, so a caller who keeps polling never waits for a
 * review after its first request; no answer is ever served older than the TTL, so a revoked permission still
 * takes effect within it.
 */
import { createHash } from "node:crypto";
import type { KubeObject } from "../api/meta.js";

export interface ReviewClient {
  create<T extends KubeObject>(obj: T): Promise<T>;
}

/** A request on a Kubernetes resource (like RBAC's rules), or on a non-resource path such as /metrics. */
export type AccessAttributes =
  | {
      readonly verb: string;
      readonly group: string;
      readonly resource: string;
      readonly subresource?: string;
      readonly namespace?: string;
      readonly name?: string;
    }
  | { readonly verb: string; readonly path: string };

export interface ReviewedUser {
  readonly username: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

export type AccessDecision =
  | { readonly allowed: true; readonly user: ReviewedUser }
  | { readonly allowed: false; readonly status: 401 | 403; readonly reason: string };

interface TokenReview extends KubeObject {
  spec: { token: string; audiences?: string[] };
  status?: { authenticated?: boolean; user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> }; error?: string };
}

interface SubjectAccessReview extends KubeObject {
  spec: Record<string, unknown>;
  status?: { allowed?: boolean; denied?: boolean; reason?: string; evaluationError?: string };
}

interface Cached<T> {
  readonly value: T;
  readonly untilMs: number;
}

const DEFAULT_TTL_MS = 10_000;
/** An answer with less than this share of its TTL left is asked again in the background. */
const REFRESH_AHEAD_SHARE = 0.3;
const MAX_CACHED = 1024;

export class AccessReviewer {
  private readonly tokens = new Map<string, Cached<ReviewedUser | undefined>>();
  private readonly decisions = new Map<string, Cached<{ allowed: boolean; reason: string }>>();
  /** Keys whose background review is in flight, so a busy caller starts one, not one per request. */
  private readonly refreshing = new Set<string>();

  constructor(
    private readonly client: ReviewClient,
    private readonly ttlMs = DEFAULT_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Authenticates the `Authorization` header's bearer token, then authorizes the user for `attributes`. */
  async review(authorization: string | undefined, attributes: AccessAttributes): Promise<AccessDecision> {
    const token = bearerToken(authorization);
    if (token === undefined) return { allowed: false, status: 401, reason: "no bearer token: send a Kubernetes token as Authorization: Bearer <token>" };
    const user = await this.authenticate(token);
    if (user === undefined) return { allowed: false, status: 401, reason: "the token was not accepted by the cluster (TokenReview)" };
    const verdict = await this.authorize(user, attributes);
    if (!verdict.allowed) return { allowed: false, status: 403, reason: `${user.username} may not ${describeAttributes(attributes)}${verdict.reason ? `: ${verdict.reason}` : ""}` };
    return { allowed: true, user };
  }

  async authenticate(token: string): Promise<ReviewedUser | undefined> {
    const key = createHash("sha256").update(token).digest("hex");
    const cached = this.fresh(this.tokens, key);
    if (cached) {
      this.refreshAhead(cached, `token:${key}`, () => this.reviewToken(token, key));
      return cached.value;
    }
    return this.reviewToken(token, key);
  }

  private async reviewToken(token: string, key: string): Promise<ReviewedUser | undefined> {
    const review = await this.client.create<TokenReview>({ apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", metadata: {}, spec: { token } });
    const status = review.status;
    const user =
      status?.authenticated === true && status.user?.username !== undefined
        ? {
            username: status.user.username,
            ...(status.user.uid === undefined ? {} : { uid: status.user.uid }),
            groups: status.user.groups ?? [],
            ...(status.user.extra === undefined ? {} : { extra: status.user.extra }),
          }
        : undefined;
    this.remember(this.tokens, key, user);
    return user;
  }

  async authorize(user: ReviewedUser, attributes: AccessAttributes): Promise<{ allowed: boolean; reason: string }> {
    const key = JSON.stringify([user.username, user.uid ?? "", [...user.groups].sort(), attributes]);
    const cached = this.fresh(this.decisions, key);
    if (cached) {
      this.refreshAhead(cached, `decision:${key}`, () => this.reviewAccess(user, attributes, key));
      return cached.value;
    }
    return this.reviewAccess(user, attributes, key);
  }

  private async reviewAccess(user: ReviewedUser, attributes: AccessAttributes, key: string): Promise<{ allowed: boolean; reason: string }> {
    const review = await this.client.create<SubjectAccessReview>({
      apiVersion: "authorization.k8s.io/v1",
      kind: "SubjectAccessReview",
      metadata: {},
      spec: {
        user: user.username,
        ...(user.uid === undefined ? {} : { uid: user.uid }),
        groups: user.groups,
        ...(user.extra === undefined ? {} : { extra: user.extra }),
        ...("path" in attributes ? { nonResourceAttributes: { path: attributes.path, verb: attributes.verb } } : { resourceAttributes: attributes }),
      },
    });
    const verdict = { allowed: review.status?.allowed === true && review.status.denied !== true, reason: review.status?.reason ?? "" };
    this.remember(this.decisions, key, verdict);
    return verdict;
  }

  /** Near the end of its life, asks again in the background; a failed review leaves the answer to expire. */
  private refreshAhead(cached: Cached<unknown>, key: string, review: () => Promise<unknown>): void {
    if (cached.untilMs - this.now() > this.ttlMs * REFRESH_AHEAD_SHARE || this.refreshing.has(key)) return;
    this.refreshing.add(key);
    review()
      .catch(() => undefined)
      .finally(() => this.refreshing.delete(key));
  }

  private fresh<T>(cache: Map<string, Cached<T>>, key: string): Cached<T> | undefined {
    const entry = cache.get(key);
    if (entry === undefined) return undefined;
    if (entry.untilMs > this.now()) return entry;
    cache.delete(key);
    return undefined;
  }

  private remember<T>(cache: Map<string, Cached<T>>, key: string, value: T): void {
    // A burst of distinct callers must not grow the cache without bound; the oldest entry goes first.
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
    cache.set(key, { value, untilMs: this.now() + this.ttlMs });
  }
}

export function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  return match?.[1];
}

export function describeAttributes(attributes: AccessAttributes): string {
  if ("path" in attributes) return `${attributes.verb} ${attributes.path}`;
  const resource = `${attributes.resource}${attributes.subresource ? `/${attributes.subresource}` : ""}${attributes.group ? `.${attributes.group}` : ""}`;
  const where = attributes.namespace ? ` in namespace ${attributes.namespace}` : "";
  return `${attributes.verb} ${resource}${attributes.name ? ` ${attributes.name}` : ""}${where}`;
}
