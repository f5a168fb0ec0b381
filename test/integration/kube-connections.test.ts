/**
 * Requests to the real apiserver share warm connections: client-node alone opens a new TLS connection for
 * every request (a new agent each time); KubeClient keeps one keep-alive agent per identity.
 */
import tls from "node:tls";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { KubeClient } from "../../src/kube/client.js";
import { NAMESPACE } from "../../src/kube/resources.js";
import { kubeconfigPath, loadKubeConfig } from "../cluster/index.js";

const REQUESTS = 20;

/** How many TLS connections `work` opens, counted where https opens them (`tls.connect`). */
async function connectionsOpenedBy(work: () => Promise<unknown>): Promise<number> {
  let opened = 0;
  const connect = tls.connect;
  tls.connect = ((...args: Parameters<typeof tls.connect>) => {
    opened++;
    return connect(...args);
  }) as typeof tls.connect;
  try {
    await work();
  } finally {
    tls.connect = connect;
  }
  return opened;
}

async function sequentialGets(client: KubeClient): Promise<void> {
  for (let k = 0; k < REQUESTS; k++) expect(await client.get({ ...NAMESPACE, name: "default" })).toBeDefined();
}

describe("connections to the apiserver", () => {
  test(`${REQUESTS} requests one after another share one connection`, async () => {
    const client = new KubeClient(loadKubeConfig());
    // Discovery and the first request open what they need; from then on the requests reuse it.
    await client.get({ ...NAMESPACE, name: "default" });
    expect(await connectionsOpenedBy(() => sequentialGets(client))).toBe(0);
  });

  test("without it, client-node opens a connection per request (what the reuse saves)", async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath());
    const api = kc.makeApiClient(CoreV1Api);
    await api.readNamespace({ name: "default" });
    const opened = await connectionsOpenedBy(async () => {
      for (let k = 0; k < REQUESTS; k++) await api.readNamespace({ name: "default" });
    });
    expect(opened).toBeGreaterThanOrEqual(REQUESTS);
  });

  test("concurrent requests open a few connections, not one each, and later ones reuse them", async () => {
    const client = new KubeClient(loadKubeConfig());
    const burst = await connectionsOpenedBy(() => Promise.all(Array.from({ length: REQUESTS }, () => client.get({ ...NAMESPACE, name: "default" }))));
    expect(burst).toBeLessThanOrEqual(REQUESTS);
    expect(await connectionsOpenedBy(() => sequentialGets(client))).toBe(0);
  });
});
