// Fault 6 of the reliability tests: a watch connection that stops delivering without an error. A TCP proxy
// between the informer and the real apiserver stalls every connection it carries; an informer must notice on
// its own and see an object created after the stall, within its watch timeout plus the grace.
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import type { KubeObject } from "../../src/api/meta.js";
import { KubeClient } from "../../src/kube/client.js";
import type { Informer } from "../../src/kube/informer.js";
import { CONFIG_MAP } from "../../src/kube/resources.js";
import { createNamespace, deleteNamespace, kubectl, loadKubeConfig, poll, repoRoot } from "../cluster/index.js";
import { StallingProxy } from "./support/stalling-proxy.js";

const suffix = randomBytes(3).toString("hex");
/** Short in the test so that it runs in seconds; the product's default is 5 to 10 minutes plus 30 s. */
const timing = { timeoutSeconds: 6, idleGraceMs: 3_000 };
const boundMs = timing.timeoutSeconds * 1000 + timing.idleGraceMs;

let proxy: StallingProxy | undefined;
let namespace = "";
const informers: Informer<KubeObject>[] = [];
const figures: Record<string, number> = {};

/** The test cluster's kubeconfig with its server moved to the proxy (same certificate: only the port differs). */
function throughProxy(port: number): KubeConfig {
  const direct = loadKubeConfig();
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: direct.clusters.map((c) => ({ ...c, server: `https://127.0.0.1:${port}` })),
    users: direct.users,
    contexts: direct.contexts,
    currentContext: direct.currentContext,
  });
  return kc;
}

beforeAll(async () => {
  const server = new URL(loadKubeConfig().getCurrentCluster()?.server ?? "");
  proxy = new StallingProxy({ host: server.hostname, port: Number(server.port) });
  const port = await proxy.start();
  namespace = await createNamespace(`stall-${suffix}`);
  // Each informer has its own client, so neither reuses a connection of the other's.
  const guarded = new KubeClient(throughProxy(port)).informer<KubeObject>(CONFIG_MAP, { namespace, watchTiming: timing, minBackoffMs: 200 });
  // What an unbounded watch does (client-node's own): the server's timeout is an hour and nothing watches the line.
  const unguarded = new KubeClient(throughProxy(port)).informer<KubeObject>(CONFIG_MAP, { namespace, watchTiming: { timeoutSeconds: 3600, idleGraceMs: 0 }, minBackoffMs: 200 });
  informers.push(guarded, unguarded);
  await Promise.all(informers.map((i) => i.start()));
});

afterAll(async () => {
  await Promise.all(informers.map((i) => i.stop()));
  await proxy?.stop();
  if (namespace) await deleteNamespace(namespace);
  writeFileSync(join(repoRoot, ".cluster", "watch-stall.json"), JSON.stringify(figures, null, 2));
});

describe("silent watch death", () => {
  it("an informer whose watch stalls without an error notices by itself and sees an object created after the stall", async () => {
    const [guarded, unguarded] = informers as [Informer<KubeObject>, Informer<KubeObject>];
    // Both watches are established (the first list went through the proxy) before the stall.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const stalledAt = Date.now();
    expect(proxy!.stall()).toBeGreaterThanOrEqual(2);
    const created = await kubectl(["create", "configmap", "after-stall", "-n", namespace, "--from-literal=k=v"]);
    expect(created.stderr).toBe("");

    await poll("the guarded informer to see the ConfigMap created after the stall", () => Promise.resolve(guarded.get("after-stall", namespace) ? true : undefined), {
      timeoutMs: boundMs + 10_000,
      intervalMs: 100,
    });
    const recoveredMs = Date.now() - stalledAt;
    figures["stalled watch → object seen (ms)"] = recoveredMs;
    figures["bound: timeoutSeconds + grace (ms)"] = boundMs;
    // Within the bound, plus the restart's backoff and the apiserver's round trip.
    expect(recoveredMs).toBeLessThan(boundMs + 5_000);
    // The proxy really stalled: a watch without the watchdog still has not seen it.
    expect(unguarded.get("after-stall", namespace)).toBeUndefined();
    expect(guarded.hasSynced()).toBe(true);
  });
});
