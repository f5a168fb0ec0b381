import type { AgentPod } from "../report/agent-endpoint.js";
import { AGENT_PODS_TTL_MS, AgentPodCache } from "./agent-pods.js";

const podOn = (node: string): AgentPod => ({ metadata: { name: `xander-agent-${node}`, namespace: "xander-system" }, spec: { nodeName: node }, status: { phase: "Running", podIP: "10.0.0.5" } });
const PODS = ["node-a", "node-b", "node-c"].map(podOn);

function setup(fail = false): { cache: AgentPodCache; asked: string[]; clock: { ms: number } } {
  const asked: string[] = [];
  const clock = { ms: 0 };
  const list = (node?: string): Promise<AgentPod[]> => {
    asked.push(node ?? "(all)");
    if (fail) return Promise.reject(new Error("refused (403)"));
    return Promise.resolve(PODS.filter((pod) => node === undefined || pod.spec?.nodeName === node));
  };
  return { cache: new AgentPodCache(list, () => clock.ms), asked, clock };
}

describe("AgentPodCache", () => {
  it("lists once for many nodes, and answers each node from that list while it is fresh", async () => {
    const { cache, asked, clock } = setup();
    cache.prefetch(["node-a", "node-b", "node-c", "node-d"]);
    expect(await cache.on("node-b")).toEqual([podOn("node-b")]);
    expect(await cache.on("node-d")).toEqual([]);
    clock.ms += AGENT_PODS_TTL_MS;
    expect(await cache.on("node-a")).toEqual([podOn("node-a")]);
    expect(asked).toEqual(["(all)"]);

    clock.ms += 1;
    await cache.on("node-a");
    expect(asked).toEqual(["(all)", "node-a"]);
  });

  it("lists one node by itself, and a prefetch of one node is that", async () => {
    const { cache, asked } = setup();
    cache.prefetch(["node-c"]);
    await cache.on("node-c");
    await cache.on("node-c");
    expect(asked).toEqual(["node-c"]);
  });

  it("looks a node up again for an address it did not vouch for, at most once a second", async () => {
    const { cache, asked, clock } = setup();
    await cache.on("node-a");
    await cache.again("node-a");
    expect(asked).toEqual(["node-a"]);
    clock.ms += 1001;
    await cache.again("node-a");
    expect(asked).toEqual(["node-a", "node-a"]);
  });

  it("keeps no failed list: the next read asks again, and hears why", async () => {
    const { cache, asked } = setup(true);
    await expect(cache.on("node-a")).rejects.toThrow("refused (403)");
    await expect(cache.on("node-a")).rejects.toThrow("refused (403)");
    expect(asked).toEqual(["node-a", "node-a"]);
  });
});
