/** `xander controller`: flags in, the controller manager wired and run until SIGTERM/SIGINT. */
import { Command, Option } from "commander";
import {
  ConfigError,
  controllerConfig,
  DEFAULT_AGENT_IMAGE,
  DEFAULT_AGENT_RESOURCES,
  DEFAULT_AGENT_TOLERATIONS,
  DEFAULT_AGENT_UPDATE_STRATEGY,
  DEFAULT_NAMESPACE,
  type ControllerFlags,
} from "../controller/config.js";
import { ControllerManager } from "../controller/manager.js";
import { KubeClient } from "../kube/client.js";
import { createLogger } from "../util/log.js";

export function registerControllerCommand(program: Command): void {
  program
    .command("controller")
    .description("Run the control plane: NodeFindings per Node, the agent DaemonSet, StarvationPolicy status (Lease leader election).")
    .option("--namespace <ns>", `namespace for the agent, its config and the Lease (default: the pod's own, else ${DEFAULT_NAMESPACE})`)
    .option("--metrics-addr <addr>", "listen address of /healthz, /readyz and /metrics", ":8080")
    .addOption(
      new Option("--metrics-authorization <mode>", "who may read /metrics, here and on the agents: rbac (get on the non-resource URL /metrics) or none (anyone who reaches the port)")
        .choices(["rbac", "none"])
        .default("rbac"),
    )
    .option("--no-leader-elect", "run the reconcilers without a Lease (only ever one replica!)")
    .option("--lease-name <name>", "name of the coordination.k8s.io Lease", "xander-controller")
    .option("--lease-duration <duration>", "how long a Lease holds without renewal; renew deadline is 2/3, retry 2/15 of it", "15s")
    .option("--resync <duration>", "re-check every object this often, even without events", "5m")
    .option("--identity <id>", "this replica's name in the Lease (default: hostname-pid)")
    .option("--agent-image <image>", "the agent image", DEFAULT_AGENT_IMAGE)
    .addOption(new Option("--agent-image-pull-policy <policy>", "the agent's imagePullPolicy").choices(["Always", "IfNotPresent", "Never"]).default("IfNotPresent"))
    .option("--agent-service-account <name>", "the agent pods' service account", "xander-agent")
    .option("--agent-priority-class <name>", "the agent pods' priorityClassName (e.g. system-node-critical)")
    .option("--agent-tolerations <json>", "the agent pods' tolerations, a JSON array", DEFAULT_AGENT_TOLERATIONS)
    .option("--agent-node-selector <json>", "extra nodeSelector for the agent pods, a JSON object", "{}")
    .option("--agent-resources <json>", "the agent container's resources, JSON", DEFAULT_AGENT_RESOURCES)
    .option("--agent-update-strategy <json>", "the agent DaemonSet's updateStrategy, JSON", DEFAULT_AGENT_UPDATE_STRATEGY)
    .option("--agent-dependency-mapping", "run the agents with hostPID and CAP_SYS_PTRACE, which mapping dependencies from pods' network namespaces needs", true)
    .option("--no-agent-dependency-mapping", "run the agents without hostPID or any capability, and with --no-dependency-mapping")
    .option("--owner-deployment <name>", "the controller's own Deployment (in --namespace): it owns the agent DaemonSet and ConfigMap, so deleting it removes them")
    .option("--log-level <level>", "pino log level", process.env.XANDER_LOG_LEVEL ?? "info")
    .addHelpText(
      "after",
      `
Examples:
  xander controller                                   # in a pod, with the service account's RBAC
  KUBECONFIG=~/.kube/config xander controller --namespace xander-system --metrics-addr 127.0.0.1:8080
  xander controller --agent-image registry.example/xander:0.1.0 --agent-priority-class system-node-critical
  xander controller --no-agent-dependency-mapping     # agents without hostPID and SYS_PTRACE, no dependency map`,
    )
    .action(async (flags: ControllerFlags & { logLevel: string }) => {
      await runController(flags);
    });
}

async function runController(flags: ControllerFlags & { logLevel: string }): Promise<void> {
  const log = createLogger("controller", flags.logLevel);
  let manager: ControllerManager;
  try {
    const cfg = controllerConfig(flags, KubeClient.inCluster() ? KubeClient.podNamespace() : undefined);
    manager = new ControllerManager(cfg, KubeClient.fromDefault(), log);
    await manager.start();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`xander controller: ${err.message}`);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        log.warn({ signal }, "second signal: exiting now");
        process.exit(1);
      }
      stopping = true;
      log.info({ signal }, "signal received");
      manager.stop().then(resolve, (err: unknown) => {
        log.error({ err }, "shutdown failed");
        process.exitCode = 1;
        resolve();
      });
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
}
