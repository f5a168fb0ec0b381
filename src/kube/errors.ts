import { ApiException } from "@kubernetes/client-node";

export interface StatusCause {
  readonly field?: string;
  readonly message?: string;
  readonly reason?: string;
}

/**
 * An API error as an Error: the HTTP status, the apiserver's reason (NotFound, Conflict, Invalid, ...)
 * and a message that names the object and what was being done to it. client-node throws ApiException
 * with the Status in `body`; kubernetes-fluent-client throws plain `{status, ...}` objects; both end up here.
 */
export class KubeError extends Error {
  override readonly name = "KubeError";
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly reason: string | undefined,
    readonly causes: readonly StatusCause[] = [],
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

interface StatusBody {
  message?: unknown;
  reason?: unknown;
  details?: { causes?: StatusCause[] };
}

function asStatusBody(body: unknown): StatusBody {
  if (typeof body === "string") {
    try {
      return JSON.parse(body) as StatusBody;
    } catch {
      return { message: body };
    }
  }
  return typeof body === "object" && body !== null ? body : {};
}

function statusOf(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  if (typeof err !== "object" || err === null) return undefined;
  const e = err as { status?: unknown; statusCode?: unknown; code?: unknown };
  for (const v of [e.status, e.statusCode, e.code]) if (typeof v === "number") return v;
  return undefined;
}

function detailOf(err: unknown, body: StatusBody, status: number | undefined): string {
  if (typeof body.message === "string" && body.message !== "") return body.message;
  if (err instanceof Error && !(err instanceof ApiException)) return err.message;
  return `HTTP ${status ?? "error"}`;
}

/** Wraps anything thrown by a client into a KubeError whose message starts with `action` (e.g. "apply DaemonSet ns/name"). */
export function kubeError(err: unknown, action: string): KubeError {
  if (err instanceof KubeError) return err;
  const status = statusOf(err);
  const body = asStatusBody(err instanceof ApiException ? err.body : (err as { body?: unknown } | null)?.body);
  const reason = typeof body.reason === "string" ? body.reason : undefined;
  const detail = detailOf(err, body, status);
  const hint = status === 401 || status === 403 ? " (check the service account's RBAC or the kubeconfig's credentials)" : "";
  return new KubeError(`cannot ${action}: ${detail}${hint}`, status, reason, body.details?.causes ?? [], { cause: err });
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeError ? err.status === 404 : statusOf(err) === 404;
}

export function isConflict(err: unknown): boolean {
  return err instanceof KubeError ? err.status === 409 : statusOf(err) === 409;
}

/** The apiserver no longer has the requested resourceVersion: relist. */
export function isGone(err: unknown): boolean {
  return err instanceof KubeError ? err.status === 410 : statusOf(err) === 410;
}

/** Worth trying again later: the apiserver was not reached, was overloaded, or failed on its side. */
export function isTransient(err: unknown): boolean {
  const status = err instanceof KubeError ? err.status : statusOf(err);
  return status === undefined || status === 429 || status >= 500;
}
