import type { Command } from "commander";
import type { KubeObject } from "../api/meta.js";
import type { NodeFindings } from "../api/types.generated.js";
import { dependencyGraph, serviceBackends, type CallEdge } from "../deps/dependency-graph.js";
import type { KubeClient } from "../kube/client.js";
import { clusterError, kubeClient, podArgument, withKubeFlags, type KubeFlags } from "./cluster.js";
import { ENDPOINT_SLICE, NODE_FINDINGS_KIND } from "../kube/resources.js";
import { formatDuration } from "../util/duration.js";
import { formatTable, outputOption } from "./options.js";

interface DepsFlags extends KubeFlags {
  output: "table" | "json";
}

export function registerDepsCommand(program: Command): void {
  withKubeFlags(
    program
      .command("deps")
      .argument("[pod]", "only the calls to and from this pod, as NAMESPACE/POD")
      .description("print who calls whom, from every node's NodeFindings (calls through a Service count against its backend pods)")
      .option("-o, --output <format>", "table or json", outputOption, "table"),
  ).action(async (pod: string | undefined, flags: DepsFlags) => {
    if (pod !== undefined) podArgument(pod);
    const client = kubeClient(flags);
    const edges = await clusterEdges(client, pod).catch((error: unknown) => {
      throw clusterError(client, error);
    });
    printEdges(edges, pod, flags.output, Date.now());
  });
}

async function clusterEdges(client: KubeClient, pod: string | undefined): Promise<CallEdge[]> {
  const nodeFindings = (await client.list<NodeFindings>(NODE_FINDINGS_KIND)).items;
  let slices: KubeObject[] = [];
  try {
    slices = (await client.list(ENDPOINT_SLICE)).items;
  } catch (error) {
    // Without EndpointSlices a call through a Service stops at the Service: still an answer.
    console.error(`xander: cannot list EndpointSlices (${error instanceof Error ? error.message : String(error)}); calls through Services are shown to the Service`);
  }
  const graph = dependencyGraph(nodeFindings, serviceBackends(slices));
  return pod === undefined ? [...graph.edges] : graph.edges.filter((e) => e.callee === pod || e.caller === pod || e.via.includes(pod));
}

export function printEdges(edges: readonly CallEdge[], pod: string | undefined, output: "table" | "json", nowMs: number): void {
  if (output === "json") {
    console.log(JSON.stringify({ ...(pod === undefined ? {} : { pod }), edges }, null, 2));
    return;
  }
  if (edges.length === 0) {
    console.log(pod === undefined ? "No dependencies reported (are agents running, with dependency mapping enabled?)." : `No calls to or from ${pod} seen.`);
    return;
  }
  // With a pod, its callers come first: they are who feels it when it starves.
  const ordered = pod === undefined ? edges : [...edges.filter((e) => e.callee === pod), ...edges.filter((e) => e.callee !== pod)];
  const rows = ordered.map((e) => [
    e.caller,
    e.callee,
    e.via.join(",") || "-",
    e.ports.join(",") || "-",
    String(e.connections),
    String(e.recentConnections),
    e.lastSeen === undefined ? "-" : `${formatDuration(Math.max(0, nowMs - Date.parse(e.lastSeen)))} ago`,
  ]);
  console.log(formatTable(["CALLER", "CALLEE", "VIA", "PORTS", "OPEN", "RECENT", "LAST SEEN"], rows));
}
