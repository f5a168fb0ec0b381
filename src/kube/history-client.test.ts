import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { NodeFindings } from "../api/types.generated.js";
import type { AgentIdentity, AgentPod } from "../report/agent-endpoint.js";
import { nodeA } from "../report/testdata/cluster.js";
import { HistoryClient } from "./history-client.js";

const AGENTS: AgentIdentity = { namespace: "xander-system", daemonSet: "xander-agent", podLabels: { "app.kubernetes.io/component": "agent" } };
const TOKEN = "Bearer secret";

let server: Server;
let port = 0;
const seen: (string | undefined)[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.headers.authorization);
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ incidents: [] }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen.length = 0;
});

const at = (endpoint: string): NodeFindings => ({ ...nodeA, status: { ...nodeA.status, agent: { ...nodeA.status?.agent, endpoint } } });
const agentPod = (ip: string): AgentPod => ({
  metadata: { namespace: "xander-system", ownerReferences: [{ apiVersion: "apps/v1", kind: "DaemonSet", name: "xander-agent", controller: true }] },
  spec: { nodeName: "node-a" },
  status: { phase: "Running", podIP: ip },
});

describe("HistoryClient", () => {
  it("sends the token to the node's agent pod", async () => {
    const client = new HistoryClient(() => Promise.resolve(TOKEN), () => Promise.resolve([agentPod("127.0.0.1")]), AGENTS);
    const read = await client.incidents(at(`127.0.0.1:${port}`), { sinceMs: 60_000 });
    expect(read).toEqual({ ok: true, node: "node-a", value: { incidents: [] } });
    expect(seen).toEqual([TOKEN]);
  });

  it("sends nothing to an endpoint no agent pod of the node has, and says why", async () => {
    const asked: string[] = [];
    const lister = (node?: string): Promise<AgentPod[]> => {
      asked.push(node ?? "(all)");
      return Promise.resolve([agentPod("10.0.0.5")]);
    };
    const client = new HistoryClient(() => Promise.resolve(TOKEN), lister, AGENTS);
    const read = await client.podHistory(at(`127.0.0.1:${port}`), "shop", "web", 60_000);
    expect(read).toEqual({ ok: false, node: "node-a", reason: `NodeFindings node-a: endpoint 127.0.0.1:${port} is not the address of node-a's agent pod (the agent pods of DaemonSet xander-system/xander-agent on node-a have 10.0.0.5); no request was sent to it` });
    expect(asked).toEqual(["node-a"]);
    expect(seen).toEqual([]);
  });

  it("sends nothing when the agent pods cannot be listed, and names the missing permission", async () => {
    const refused = (): Promise<never> => Promise.reject(new Error('cannot verify its agent\'s address: listing pods in namespace xander-system was refused (403); this needs "list pods" in xander-system'));
    const client = new HistoryClient(() => Promise.resolve(TOKEN), refused, AGENTS);
    const read = await client.incidents(at(`127.0.0.1:${port}`), { sinceMs: 60_000 });
    expect(read).toMatchObject({ ok: false, reason: expect.stringContaining('needs "list pods" in xander-system') as unknown });
    expect(seen).toEqual([]);
  });
});
