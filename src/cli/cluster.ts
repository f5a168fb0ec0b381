/**
 * What the cluster-reading commands share: kubectl's connection flags, the read service over the user's
 * own credentials, and errors a person can act on instead of stack traces.
 */
import { KubeConfig } from "@kubernetes/client-node";
import { InvalidArgumentError, Option, type Command } from "commander";
import type { KubeObject } from "../api/meta.js";
import type { NodeFindings } from "../api/types.generated.js";
import { DEFAULT_NAMESPACE } from "../controller/config.js";
import { agentIdentity } from "../controller/daemonset.js";
import { ReadService } from "../controller/read-service.js";
import { serviceBackends } from "../deps/dependency-graph.js";
import { AGENT_ACCESS_MODES, type AgentAccessMode } from "../kube/agent-access.js";
import { KubeClient } from "../kube/client.js";
import { KubeError } from "../kube/errors.js";
import { HistoryClient } from "../kube/history-client.js";
import { ENDPOINT_SLICE, NODE_FINDINGS_KIND, POD } from "../kube/resources.js";
import { CliError } from "./errors.js";

export { CliError };

export interface KubeFlags {
  kubeconfig?: string;
  context?: string;
}

/**
 * The namespace Xander runs in: its agent pods there are the only endpoints that get the user's credential.
 * How to reach them: see kube/agent-access.ts.
 */
export interface AgentFlags {
  xanderNamespace: string;
  agentAccess: AgentAccessMode;
}

/** `--kubeconfig` and `--context`, as kubectl spells them. */
export function withKubeFlags(command: Command): Command {
  return command.option("--kubeconfig <file>", "path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)").option("--context <name>", "the kubeconfig context to use");
}

/** The kube flags, `--xander-namespace` and `--agent-access`, for the commands that read the agents' histories. */
export function withAgentFlags(command: Command): Command {
  return withKubeFlags(command)
    .addOption(
      new Option("--xander-namespace <namespace>", "the namespace Xander is installed in; only its agent pods there are sent your credentials")
        .env("XANDER_NAMESPACE")
        .argParser(namespaceOption)
        .default(DEFAULT_NAMESPACE),
    )
    .addOption(
      new Option("--agent-access <mode>", "how to reach the agents: direct (to pod IPs), port-forward (through the apiserver; needs create pods/portforward there), or auto (direct where pod IPs answer)")
        .env("XANDER_AGENT_ACCESS")
        .choices(AGENT_ACCESS_MODES)
        .default("auto"),
    );
}

export function namespaceOption(text: string): string {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(text) || text.length > 63) throw new InvalidArgumentError(`"${text}" is not a namespace name`);
  return text;
}

export function podArgument(text: string): { namespace: string; name: string } {
  const match = /^([^/\s]+)\/([^/\s]+)$/.exec(text);
  if (match?.[1] === undefined || match[2] === undefined) throw new CliError(`"${text}" is not NAMESPACE/POD`);
  return { namespace: match[1], name: match[2] };
}

export function kubeClient(flags: KubeFlags): KubeClient {
  const kc = new KubeConfig();
  try {
    if (flags.kubeconfig !== undefined) kc.loadFromFile(flags.kubeconfig);
    else kc.loadFromDefault();
  } catch (error) {
    throw new CliError(`cannot read the kubeconfig${flags.kubeconfig ? ` ${flags.kubeconfig}` : ""}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (flags.context !== undefined) {
    if (kc.getContextObject(flags.context) === null) throw new CliError(`no context "${flags.context}" in the kubeconfig (kubectl config get-contexts lists them)`);
    kc.setCurrentContext(flags.context);
  }
  if (kc.getCurrentCluster() === null) throw new CliError("no Kubernetes cluster configured: set KUBECONFIG, pass --kubeconfig, or choose a --context");
  return new KubeClient(kc);
}

/** The read service as the CLI runs it: NodeFindings listed once, agents read with the user's own token. */
export function cliReadService(client: KubeClient, flags: AgentFlags, heartbeatMs = 60_000): ReadService {
  let listed: Promise<NodeFindings[]> | undefined;
  return new ReadService({
    nodeFindings: () => (listed ??= listNodeFindings(client)),
    backends: async () => {
      // Without EndpointSlices a call through a Service stops at the Service: still an answer.
      const slices = await client.list<KubeObject>(ENDPOINT_SLICE).catch(() => ({ items: [] }));
      return serviceBackends(slices.items);
    },
    heartbeatMs: () => heartbeatMs,
    history: HistoryClient.forAgents(client, agentIdentity(flags.xanderNamespace), flags.agentAccess),
    podNode: async (namespace, name) => {
      const pod = await client.get<KubeObject & { spec?: { nodeName?: string } }>({ ...POD, namespace, name }).catch(() => undefined);
      return pod?.spec?.nodeName;
    },
  });
}

async function listNodeFindings(client: KubeClient): Promise<NodeFindings[]> {
  try {
    return (await client.list<NodeFindings>(NODE_FINDINGS_KIND)).items;
  } catch (error) {
    throw clusterError(client, error);
  }
}

/** Why the cluster could not be read, in words: unreachable, not allowed, or Xander not installed. */
export function clusterError(client: KubeClient, error: unknown): CliError {
  const server = client.kubeConfig.getCurrentCluster()?.server ?? "the cluster";
  if (error instanceof KubeError && (error.status === 401 || error.status === 403)) {
    return new CliError(`${server} refused to list NodeFindings (${error.status}): ask for the xander-viewer role, or check your credentials`);
  }
  const message = error instanceof Error ? (error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message) : String(error);
  if (/does not serve NodeFindings/.test(message)) return new CliError(`${server} has no NodeFindings API: is Xander installed? (helm install xander charts/xander)`);
  return new CliError(`cannot reach ${server}: ${message} (check --context, --kubeconfig or KUBECONFIG)`);
}
