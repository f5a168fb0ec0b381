/**
 * Every data call the pages make: JSON GETs and server-sent event streams, with the Kubernetes token as
 * `Authorization: Bearer` when the dashboard is served by the controller. The token lives in sessionStorage
 * (this tab only, gone when it closes) and never in a URL. EventSource cannot send headers, so streams are
 * read with fetch() and parsed here.
 */

const TOKEN_KEY = "xander.token";

/** `token`: served by the controller, which asks the cluster about every call; `local`: `xander dashboard`. */
export function authMode(): "token" | "local" {
  const meta = document.querySelector<HTMLMetaElement>('meta[name="xander-auth"]');
  return meta?.content === "local" ? "local" : "token";
}

export function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value: string | null): void {
  if (value === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, value.trim());
}

/** Why a call failed, in the terms the page explains it: no token, not allowed, unreachable, or the answer. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    /** The HTTP status; 0 when the Xander server could not be reached at all. */
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function headers(): Record<string, string> {
  const t = authMode() === "token" ? token() : null;
  return t === null || t === "" ? {} : { authorization: `Bearer ${t}` };
}

async function failure(response: Response): Promise<ApiError> {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as { message?: string };
    return new ApiError(response.status, body.message ?? text);
  } catch {
    return new ApiError(response.status, text.trim() || response.statusText);
  }
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, { headers: headers(), cache: "no-store", ...(signal ? { signal } : {}) });
  } catch (error) {
    if (signal?.aborted === true) throw error;
    throw new ApiError(0, `cannot reach the Xander server at ${location.host}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!response.ok) throw await failure(response);
  return (await response.json()) as T;
}

/** Splits a text/event-stream into (event, data) pairs; comment lines (pings) are dropped. */
export class EventParser {
  private buffer = "";

  constructor(private readonly onEvent: (event: string, data: string) => void) {}

  push(chunk: string): void {
    this.buffer += chunk.replace(/\r\n?/g, "\n");
    let end = this.buffer.indexOf("\n\n");
    while (end >= 0) {
      this.dispatch(this.buffer.slice(0, end));
      this.buffer = this.buffer.slice(end + 2);
      end = this.buffer.indexOf("\n\n");
    }
  }

  private dispatch(block: string): void {
    let event = "message";
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
    }
    if (data.length > 0) this.onEvent(event, data.join("\n"));
  }
}

export interface StreamHandlers {
  /** Each named event's JSON payload. */
  readonly events: Readonly<Record<string, (data: unknown) => void>>;
  /** The stream is up (true) or down and retrying (false). */
  readonly onLive?: (live: boolean) => void;
  /** A refusal (401/403) or a problem the server reported; 0 = the server could not be reached. */
  readonly onError: (error: ApiError) => void;
}

const RETRY_MS = 3000;

async function readStream(path: string, handlers: StreamHandlers, signal: AbortSignal): Promise<"retry" | "stop"> {
  const response = await fetch(path, { headers: { ...headers(), accept: "text/event-stream" }, cache: "no-store", signal });
  if (response.status === 401 || response.status === 403 || response.status === 400 || response.status === 404) {
    handlers.onError(await failure(response));
    return "stop";
  }
  if (!response.ok || response.body === null) {
    handlers.onError(await failure(response));
    return "retry";
  }
  handlers.onLive?.(true);
  const parser = new EventParser((event, data) => {
    const payload = JSON.parse(data) as unknown;
    if (event === "denied" || event === "problem") {
      const { status, message } = payload as { status: number; message: string };
      handlers.onError(new ApiError(status, message));
    } else handlers.events[event]?.(payload);
  });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return "retry";
    parser.push(value);
  }
}

/** Opens a stream and keeps it open (reconnecting after a drop) until the returned function is called. */
export function openStream(path: string, handlers: StreamHandlers): () => void {
  const controller = new AbortController();
  const stopped = (): boolean => controller.signal.aborted;
  const loop = async (): Promise<void> => {
    while (!stopped()) {
      let outcome: "retry" | "stop";
      try {
        outcome = await readStream(path, handlers, controller.signal);
      } catch (error) {
        if (stopped()) return;
        handlers.onError(new ApiError(0, `lost the connection to the Xander server at ${location.host} (${error instanceof Error ? error.message : String(error)}); retrying`));
        outcome = "retry";
      }
      handlers.onLive?.(false);
      if (outcome === "stop") return;
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  };
  void loop();
  return () => {
    controller.abort();
  };
}
