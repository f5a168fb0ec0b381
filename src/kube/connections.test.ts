import { KubeConfig } from "@kubernetes/client-node";
import { reuseConnections } from "./connections.js";

function kubeConfig(token = "t"): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "c", server: "https://10.0.0.1:6443", skipTLSVerify: true }],
    users: [{ name: "u", token }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return kc;
}

type WithCreateAgent = { createAgent: (cluster: unknown, options: Record<string, unknown>) => { options: { keepAlive?: boolean } } };
const createAgent = (kc: KubeConfig, options: Record<string, unknown> = {}): { options: { keepAlive?: boolean } } => (kc as unknown as WithCreateAgent).createAgent(kc.getCurrentCluster(), options);

describe("reuseConnections", () => {
  test("one keep-alive agent per identity, handed out again", () => {
    const kc = kubeConfig();
    reuseConnections(kc);
    const first = createAgent(kc, { cert: Buffer.from("cert-a") });
    expect(first.options.keepAlive).toBe(true);
    expect(createAgent(kc, { cert: Buffer.from("cert-a") })).toBe(first);
    // A rotated client certificate is another identity: another agent.
    expect(createAgent(kc, { cert: Buffer.from("cert-b") })).not.toBe(first);
  });

  test("the agents of the HTTPS options and of fetch options are the same one", async () => {
    const kc = kubeConfig();
    reuseConnections(kc);
    const a = await kc.applyToFetchOptions({});
    const b = await kc.applyToFetchOptions({});
    expect(a.agent).toBeDefined();
    expect(a.agent).toBe(b.agent);
  });

  test("applied twice, it wraps once; without it, every call builds a new agent", () => {
    const plain = kubeConfig();
    expect(createAgent(plain)).not.toBe(createAgent(plain));
    const kc = kubeConfig();
    reuseConnections(kc);
    reuseConnections(kc);
    expect(createAgent(kc)).toBe(createAgent(kc));
  });

  test("the oldest identities are dropped beyond a handful", () => {
    const kc = kubeConfig();
    reuseConnections(kc);
    const first = createAgent(kc, { key: "k0" });
    for (let k = 1; k <= 4; k++) createAgent(kc, { key: `k${k}` });
    expect(createAgent(kc, { key: "k0" })).not.toBe(first);
  });
});
