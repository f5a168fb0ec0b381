import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import type { KubeObject } from "../api/meta.js";
import { KubeClient } from "./client.js";
import type { InformerEvent } from "./informer.js";
import { NODE } from "./resources.js";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(10);
  }
}

const node = (name: string, rv: string) => ({ apiVersion: "v1", kind: "Node", metadata: { name, uid: `uid-${name}`, resourceVersion: rv } });

/**
 * Just enough of an apiserver for one list+watch of Nodes. `watchPlan` decides, per watch request in
 * order, whether it fails (HTTP status) or streams events and stays open.
 */
class FakeApiserver {
  private server: Server | undefined;
  readonly watches: string[] = [];
  readonly watchQueries: Record<string, string>[] = [];
  readonly lists: string[] = [];
  private open: ServerResponse[] = [];
  items = [node("a", "10")];
  listRv = "10";

  constructor(private readonly watchPlan: ((res: ServerResponse) => void)[]) {}

  async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res);
    });
    await new Promise<void>((resolve) => this.server!.listen(port, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://x");
    res.setHeader("content-type", "application/json");
    if (url.pathname === "/api/v1") {
      res.end(JSON.stringify({ kind: "APIResourceList", groupVersion: "v1", resources: [{ name: "nodes", kind: "Node", namespaced: false, singularName: "node", verbs: ["list", "watch"] }] }));
    } else if (url.pathname === "/api/v1/nodes" && url.searchParams.get("watch") === "true") {
      this.watches.push(url.searchParams.get("resourceVersion") ?? "");
      this.watchQueries.push(Object.fromEntries(url.searchParams));
      const plan = this.watchPlan[this.watches.length - 1];
      if (plan === undefined) {
        res.statusCode = 500;
        res.end(JSON.stringify({ kind: "Status", message: "no plan" }));
        return;
      }
      this.open.push(res);
      plan(res);
    } else if (url.pathname === "/api/v1/nodes") {
      this.lists.push(url.searchParams.get("limit") ?? "");
      res.end(JSON.stringify({ kind: "NodeList", apiVersion: "v1", metadata: { resourceVersion: this.listRv }, items: this.items }));
    } else {
      res.statusCode = 404;
      res.end(JSON.stringify({ kind: "Status", code: 404 }));
    }
  }

  async stop(): Promise<void> {
    for (const res of this.open) res.destroy();
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

function clientFor(server: string): KubeClient {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "fake", server, skipTLSVerify: true }],
    users: [{ name: "fake" }],
    contexts: [{ name: "fake", cluster: "fake", user: "fake" }],
    currentContext: "fake",
  });
  return new KubeClient(kc);
}

const fail = (status: number) => (res: ServerResponse) => {
  res.statusCode = status;
  res.end(JSON.stringify({ kind: "Status", code: status, message: "boom" }));
};
const stream = (...events: object[]) => (res: ServerResponse) => {
  res.writeHead(200, { "content-type": "application/json" });
  res.flushHeaders(); // the apiserver answers a watch at once, events or not
  for (const e of events) res.write(`${JSON.stringify(e)}\n`);
};

describe("Informer", () => {
  let api: FakeApiserver | undefined;
  const informers: { stop(): Promise<void> }[] = [];
  const track = <T extends { stop(): Promise<void> }>(i: T): T => {
    informers.push(i);
    return i;
  };
  afterEach(async () => {
    await Promise.all(informers.splice(0).map((i) => i.stop()));
    await api?.stop();
    api = undefined;
  });

  test("lists into the cache, resolves start() once synced, and delivers plain objects", async () => {
    api = new FakeApiserver([stream()]);
    const informer = track(clientFor(await api.start()).informer<KubeObject>(NODE, { minBackoffMs: 20 }));
    const events: [InformerEvent, string][] = [];
    informer.on((e, o) => events.push([e, o.metadata?.name ?? ""]));
    expect(informer.hasSynced()).toBe(false);
    await informer.start();
    expect(informer.hasSynced()).toBe(true);
    expect(informer.get("a")).toMatchObject({ apiVersion: "v1", kind: "Node", metadata: { name: "a", uid: "uid-a" } });
    expect(events).toEqual([["add", "a"]]);
    await informer.stop();
  });

  test("the client counts every request it sends, discovery, lists and watches alike, as the server sees them", async () => {
    api = new FakeApiserver([fail(500), stream()]);
    const client = clientFor(await api.start());
    const methods: string[] = [];
    const resources = new Set<string>();
    client.onRequest((method, resource) => {
      methods.push(method);
      resources.add(resource);
    });
    const informer = track(client.informer<KubeObject>(NODE, { minBackoffMs: 20, maxBackoffMs: 50 }));
    await informer.start();
    const server = api;
    await until(() => server.watches.length === 2);
    expect(methods.filter((m) => m === "WATCH")).toHaveLength(2);
    // Discovery of /api/v1 and the one list page are GETs.
    expect(methods.filter((m) => m === "GET")).toHaveLength(server.lists.length + 1);
    expect([...resources].sort()).toEqual(["discovery", "nodes"]);
    await informer.stop();
  });

  test("a watch that fails with a 500 (client-node's ListWatch gives up on it) is restarted from the last resourceVersion", async () => {
    api = new FakeApiserver([fail(500), stream({ type: "ADDED", object: node("b", "11") })]);
    const informer = track(clientFor(await api.start()).informer<KubeObject>(NODE, { minBackoffMs: 20, maxBackoffMs: 50 }));
    const events: string[] = [];
    informer.on((e, o) => events.push(`${e} ${o.metadata?.name ?? ""}`));
    await informer.start();
    await until(() => events.includes("add b"));
    expect(api.watches).toEqual(["10", "10"]); // resumed, no relist
    expect(api.lists).toHaveLength(1);
    expect(informer.list().map((o) => o.metadata?.name).sort()).toEqual(["a", "b"]);
    await informer.stop();
  });

  test("a 410 Gone relists, and objects missing from the new list are delivered as deletes", async () => {
    api = new FakeApiserver([
      (res) => {
        stream({ type: "ERROR", object: { kind: "Status", code: 410, reason: "Expired" } })(res);
        res.end();
      },
      stream(),
    ]);
    const url = await api.start();
    const informer = track(clientFor(url).informer<KubeObject>(NODE, { minBackoffMs: 20 }));
    const events: string[] = [];
    informer.on((e, o) => events.push(`${e} ${o.metadata?.name ?? ""}`));
    const server = api;
    server.items = [node("a", "10")];
    await informer.start();
    server.items = [node("c", "20")];
    server.listRv = "20";
    // The relist's events are delivered before the new watch request reaches the server.
    await until(() => events.includes("delete a") && server.watches.length >= 2);
    expect(events).toEqual(["add a", "delete a", "add c"]);
    expect(server.lists).toHaveLength(2);
    expect(server.watches).toEqual(["10", "20"]);
    await informer.stop();
  });

  test("a watch that goes silent without closing is ended by its watchdog and resumed from the last resourceVersion", async () => {
    // The first watch answers and then delivers nothing, not even its close: a stalled connection.
    api = new FakeApiserver([stream(), stream({ type: "ADDED", object: node("b", "11") })]);
    const timing = { timeoutSeconds: 1, idleGraceMs: 200 };
    const informer = track(clientFor(await api.start()).informer<KubeObject>(NODE, { minBackoffMs: 20, watchTiming: timing }));
    await informer.start();
    const started = Date.now();
    await until(() => informer.get("b") !== undefined, 5000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(api.watches).toEqual(["10", "10"]);
    expect(api.lists).toHaveLength(1);
  });

  test("asks the apiserver for bookmarks and a bounded watch", async () => {
    api = new FakeApiserver([stream()]);
    const server = api;
    const informer = track(clientFor(await server.start()).informer<KubeObject>(NODE, { watchTiming: { timeoutSeconds: 321, idleGraceMs: 1000 } }));
    await informer.start();
    await until(() => server.watchQueries.length > 0);
    expect(server.watchQueries[0]).toMatchObject({ allowWatchBookmarks: "true", timeoutSeconds: "321", resourceVersion: "10" });
  });

  test("keeps retrying while the apiserver is unreachable, and syncs once it answers", async () => {
    const down = new FakeApiserver([]);
    const url = await down.start();
    await down.stop(); // nothing listens on the port now: connection refused
    const informer = track(clientFor(url).informer<KubeObject>(NODE, { minBackoffMs: 20, maxBackoffMs: 40 }));
    let synced = false;
    const started = informer.start().then(() => {
      synced = true;
    });
    await sleep(150);
    expect(synced).toBe(false);
    api = new FakeApiserver([stream()]);
    await api.start(Number(new URL(url).port));
    await started;
    expect(informer.hasSynced()).toBe(true);
    expect(informer.get("a")?.metadata?.uid).toBe("uid-a");
  });

  test("a transform trims what is cached, listed and watched alike; the watch resumes and deletes as usual", async () => {
    const fat = (name: string, rv: string) => ({ ...node(name, rv), metadata: { ...node(name, rv).metadata, annotations: { big: "x".repeat(1000) } }, status: { capacity: { cpu: "8" } } });
    api = new FakeApiserver([
      (res) => {
        stream({ type: "ADDED", object: fat("b", "11") })(res);
        res.end(); // the server closes the watch: ListWatch watches again from the last resourceVersion
      },
      stream({ type: "DELETED", object: fat("a", "12") }),
    ]);
    api.items = [fat("a", "10")];
    const trim = (o: KubeObject): KubeObject => ({ apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata?.name, resourceVersion: o.metadata?.resourceVersion } });
    const informer = track(clientFor(await api.start()).informer<KubeObject>(NODE, { minBackoffMs: 20, transform: trim }));
    const delivered: string[] = [];
    informer.on((e, o) => delivered.push(`${e} ${JSON.stringify(o)}`));
    await informer.start();
    await until(() => informer.get("a") === undefined && informer.get("b") !== undefined);
    const trimmed = (name: string, rv: string) => JSON.stringify({ apiVersion: "v1", kind: "Node", metadata: { name, resourceVersion: rv } });
    expect(informer.list()).toEqual([JSON.parse(trimmed("b", "11"))]);
    expect(delivered).toEqual([`add ${trimmed("a", "10")}`, `add ${trimmed("b", "11")}`, `delete ${trimmed("a", "12")}`]);
    expect(api.watches).toEqual(["10", "11"]);
    expect(api.lists).toHaveLength(1);
    await informer.stop();
  });

  test("a transform that throws keeps the object whole rather than losing the event", async () => {
    api = new FakeApiserver([stream({ type: "ADDED", object: node("b", "11") })]);
    const picky = (o: KubeObject): KubeObject => {
      if (o.metadata?.name === "b") throw new Error("cannot trim b");
      return { ...o, metadata: { name: o.metadata?.name, resourceVersion: o.metadata?.resourceVersion } };
    };
    const informer = track(clientFor(await api.start()).informer<KubeObject>(NODE, { minBackoffMs: 20, transform: picky }));
    await informer.start();
    await until(() => informer.get("b") !== undefined);
    expect(informer.get("b")?.metadata?.uid).toBe("uid-b"); // whole
    expect(informer.get("a")?.metadata?.uid).toBeUndefined(); // trimmed
    await informer.stop();
  });

  test("stop() releases a start() that is still waiting for the first list", async () => {
    const down = new FakeApiserver([]);
    const url = await down.start();
    await down.stop();
    const informer = clientFor(url).informer<KubeObject>(NODE, { minBackoffMs: 20 });
    const started = informer.start();
    await sleep(50);
    await informer.stop();
    await started;
    expect(informer.hasSynced()).toBe(false);
  });
});
