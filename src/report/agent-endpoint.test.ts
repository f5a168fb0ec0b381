import type { NodeFindings } from "../api/types.generated.js";
import { agentLabelSelector, parseEndpoint, verifiedAgentEndpoint, type AgentIdentity, type AgentPod } from "./agent-endpoint.js";
import { nodeA } from "./testdata/cluster.js";

const AGENTS: AgentIdentity = { namespace: "xander-system", daemonSet: "xander-agent", podLabels: { "app.kubernetes.io/name": "xander", "app.kubernetes.io/component": "agent" } };

function at(endpoint: string | undefined): NodeFindings {
  return { ...nodeA, status: { ...nodeA.status, agent: { ...nodeA.status?.agent, ...(endpoint === undefined ? {} : { endpoint }) } } };
}

function agentPod(over: { node?: string; ip?: string; phase?: string; namespace?: string; owner?: { kind: string; name: string; controller?: boolean } } = {}): AgentPod {
  const owner = over.owner ?? { kind: "DaemonSet", name: "xander-agent", controller: true };
  return {
    metadata: { name: "xander-agent-x7k2p", namespace: over.namespace ?? "xander-system", ownerReferences: [{ apiVersion: "apps/v1", ...owner }] },
    spec: { nodeName: over.node ?? "node-a" },
    status: { phase: over.phase ?? "Running", podIP: over.ip ?? "10.0.0.5", podIPs: [{ ip: over.ip ?? "10.0.0.5" }, { ip: "fd00::5" }] },
  };
}

describe("verifiedAgentEndpoint", () => {
  it("accepts the IP and port of a running pod of the agent DaemonSet on the node, naming the pod", () => {
    const pod = { namespace: "xander-system", name: "xander-agent-x7k2p" };
    expect(verifiedAgentEndpoint(at("10.0.0.5:9464"), [agentPod()], AGENTS)).toEqual({ url: "http://10.0.0.5:9464", pod, port: 9464 });
    expect(verifiedAgentEndpoint(at("[fd00::5]:9464"), [agentPod()], AGENTS)).toEqual({ url: "http://[fd00::5]:9464", pod, port: 9464 });
  });

  it("refuses an address that is no agent pod's, naming the NodeFindings and the endpoint", () => {
    const result = verifiedAgentEndpoint(at("10.0.0.9:9464"), [agentPod()], AGENTS);
    expect(result).toEqual({
      reason: "NodeFindings node-a: endpoint 10.0.0.9:9464 is not the address of node-a's agent pod (the agent pods of DaemonSet xander-system/xander-agent on node-a have 10.0.0.5, fd00::5); no request was sent to it",
    });
  });

  it.each([
    ["on another node", agentPod({ node: "node-b" })],
    ["not running", agentPod({ phase: "Pending" })],
    ["in another namespace", agentPod({ namespace: "attacker" })],
    ["owned by another DaemonSet", agentPod({ owner: { kind: "DaemonSet", name: "xander-agent-copy", controller: true } })],
    ["owned by something of another kind", agentPod({ owner: { kind: "ReplicaSet", name: "xander-agent", controller: true } })],
    ["with a non-controller owner reference", agentPod({ owner: { kind: "DaemonSet", name: "xander-agent" } })],
  ])("refuses the IP of a pod %s", (_, pod) => {
    const result = verifiedAgentEndpoint(at("10.0.0.5:9464"), [pod], AGENTS);
    expect(result).toEqual({ reason: expect.stringMatching(/^NodeFindings node-a: endpoint 10\.0\.0\.5:9464 is not the address of node-a's agent pod \(no running pod of DaemonSet xander-system\/xander-agent is on node-a\)/) as unknown });
  });

  it.each(["attacker.example:9464", "10.0.0.5:9464/x@evil.example", "10.0.0.5", "10.0.0.5:0", "10.0.0.5:99999", "300.0.0.5:9464", "user@10.0.0.5:9464"])("refuses %s, which is not an IP and port", (endpoint) => {
    expect(verifiedAgentEndpoint(at(endpoint), [agentPod()], AGENTS)).toEqual({ reason: expect.stringContaining("is not an IP address and port; no request was sent to it") as unknown });
  });

  it("says so when the agent publishes no endpoint", () => {
    expect(verifiedAgentEndpoint(at(undefined), [agentPod()], AGENTS)).toEqual({ reason: expect.stringContaining("publishes no history endpoint") as unknown });
  });
});

describe("parseEndpoint and agentLabelSelector", () => {
  it("reads host and port", () => {
    expect(parseEndpoint("127.0.0.1:9464")).toEqual({ host: "127.0.0.1", port: 9464 });
    expect(parseEndpoint("[::1]:80")).toEqual({ host: "::1", port: 80 });
  });

  it("spells the selector as kubectl would", () => {
    expect(agentLabelSelector(AGENTS)).toBe("app.kubernetes.io/name=xander,app.kubernetes.io/component=agent");
  });
});
