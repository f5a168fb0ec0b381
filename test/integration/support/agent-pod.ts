/**
 * The agent's Pod object for an agent the tests run as a host process. Readers send a token only to an
 * endpoint that is the IP of a running pod of the agent DaemonSet on that node (src/report/agent-endpoint.ts),
 * so a test agent needs one: the DaemonSet controller creates the pod, the test binds it to the node as the
 * scheduler would and writes its status as the kubelet would (Running, with the IP the agent listens on).
 */
import { AGENT_NAME, AGENT_SELECTOR } from "../../../src/controller/daemonset.js";
import { agentLabelSelector } from "../../../src/report/agent-endpoint.js";
import { ensureServiceAccount, kubectl, PAUSE_IMAGE, poll, setPodStatus } from "../../cluster/index.js";

interface PodJson {
  metadata: { name: string; ownerReferences?: { kind: string; name: string }[] };
  spec: { nodeName?: string; affinity?: { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: { matchFields?: { values?: string[] }[] }[] } } } };
}

export interface AgentPodOptions {
  /** Xander's namespace: the controller's --namespace, the CLI's --xander-namespace. */
  readonly namespace: string;
  readonly nodeName: string;
  /** The address the agent advertises; 127.0.0.1 for an agent on this host. */
  readonly podIP: string;
  /**
   * Create the agent DaemonSet when no controller will (no StarvationPolicy exists). Otherwise wait for the
   * controller's own: a DaemonSet created here would be changed by the controller's apply, and the rollout
   * would replace the pod.
   */
  readonly createDaemonSet?: boolean;
}

/** The minimal agent DaemonSet: the controller's name and selector, a pause container. */
function daemonSet(namespace: string): string {
  const labels = { ...AGENT_SELECTOR };
  return JSON.stringify({
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: AGENT_NAME, namespace },
    spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: "agent", image: PAUSE_IMAGE }] } } },
  });
}

function targetsNode(pod: PodJson, nodeName: string): boolean {
  if (pod.spec.nodeName !== undefined) return pod.spec.nodeName === nodeName;
  const terms = pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  return terms.some((t) => (t.matchFields ?? []).some((f) => (f.values ?? []).includes(nodeName)));
}

/** Runs the node's agent pod at `podIP` and returns its name. */
export async function runAgentPod(o: AgentPodOptions): Promise<string> {
  if (o.createDaemonSet === true) {
    await kubectl(["create", "namespace", o.namespace]);
    const created = await kubectl(["apply", "-f", "-"], { input: daemonSet(o.namespace) });
    if (created.code !== 0) throw new Error(`cannot create the agent DaemonSet: ${created.stderr}`);
  }
  // The controller outside a cluster creates no ServiceAccount for the agent, and a pod of an account that
  // does not exist is refused at admission: create it, as the chart would.
  const ds = await poll(
    "the agent DaemonSet",
    async () => {
      const got = await kubectl(["get", "daemonset", AGENT_NAME, "-n", o.namespace, "-o", "json"]);
      return got.code === 0 ? (JSON.parse(got.stdout) as { spec: { template: { spec: { serviceAccountName?: string } } } }) : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  await ensureServiceAccount(o.namespace, ds.spec.template.spec.serviceAccountName ?? "default");
  const pod = await poll(
    `the agent DaemonSet's pod for ${o.nodeName}`,
    async () => {
      const listed = await kubectl(["get", "pods", "-n", o.namespace, "-l", agentLabelSelector({ namespace: o.namespace, daemonSet: AGENT_NAME, podLabels: AGENT_SELECTOR }), "-o", "json"]);
      if (listed.code !== 0) return undefined;
      return (JSON.parse(listed.stdout) as { items: PodJson[] }).items.find((p) => targetsNode(p, o.nodeName) && (p.metadata.ownerReferences ?? []).some((r) => r.kind === "DaemonSet" && r.name === AGENT_NAME));
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  const name = pod.metadata.name;
  if (pod.spec.nodeName === undefined) {
    const binding = { apiVersion: "v1", kind: "Binding", metadata: { name, namespace: o.namespace }, target: { apiVersion: "v1", kind: "Node", name: o.nodeName } };
    const bound = await kubectl(["create", "-f", "-"], { input: JSON.stringify(binding) });
    if (bound.code !== 0) throw new Error(`cannot bind ${o.namespace}/${name} to ${o.nodeName}: ${bound.stderr}`);
  }
  await setPodStatus(o.namespace, name, { phase: "Running", podIP: o.podIP, hostIP: o.podIP, containerStatuses: [{ name: "agent", ready: true, restartCount: 0 }] });
  return name;
}
