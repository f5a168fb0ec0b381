import { InvalidArgumentError, Option, type Command } from "commander";
import { Agent } from "../agent/agent.js";
import { ScanError } from "../engine/scan.js";
import { KubeClient } from "../kube/client.js";
import type { MetricsAuthorization } from "../server/api.js";
import { createLogger } from "../util/log.js";
import { VERSION } from "../version.js";

interface AgentFlags {
  node?: string;
  cgroupRoot: string;
  procRoot: string;
  db: string;
  metricsAddr: string;
  advertiseAddress?: string;
  hostPidForNetns: number;
  dependencyMapping: boolean;
  metricsAuthorization: MetricsAuthorization;
}

function pidOption(text: string): number {
  const pid = Number(text);
  if (!Number.isSafeInteger(pid) || pid < 1) throw new InvalidArgumentError(`not a PID: "${text}"`);
  return pid;
}

export function registerAgentCommand(program: Command): void {
  program
    .command("agent")
    .description("run the node agent (the DaemonSet): sample this node's pods and write its NodeFindings status")
    .option("--node <name>", "this node's name (default: $NODE_NAME, from the downward API)")
    .option("--cgroup-root <dir>", "host cgroup filesystem, mounted read-only", "/sys/fs/cgroup")
    .option("--proc-root <dir>", "host /proc, mounted read-only", "/proc")
    .option("--db <file>", "node-local SQLite history", "/var/lib/xander/xander.db")
    .option("--metrics-addr <addr>", "listen address for /healthz, /metrics and the history API", ":9091")
    .addOption(
      new Option("--metrics-authorization <mode>", "who may read /metrics: rbac (get on the non-resource URL /metrics, as for the kubelet's) or none (anyone who reaches the port)")
        .choices(["rbac", "none"])
        .default("rbac"),
    )
    .option("--advertise-address <host:port>", "where the controller and the CLI reach this agent's history API; published in NodeFindings status")
    .option("--host-pid-for-netns <pid>", "a PID in the host's network namespace, to tell hostNetwork pods apart (1 with hostPID)", pidOption, 1)
    .option("--no-dependency-mapping", "map no dependencies, whatever the policies say (for an agent without hostPID and CAP_SYS_PTRACE)")
    .action(async (flags: AgentFlags) => {
      const nodeName = flags.node ?? process.env.NODE_NAME;
      if (!nodeName) throw new ScanError("no node name: pass --node or set NODE_NAME (the DaemonSet sets it from spec.nodeName)");
      const logger = createLogger("agent");
      const agent = await Agent.create({
        nodeName,
        cgroupRoot: flags.cgroupRoot,
        procRoot: flags.procRoot,
        dbPath: flags.db,
        client: KubeClient.fromDefault(),
        logger,
        version: VERSION,
        metricsAddress: flags.metricsAddr,
        metricsAuthorization: flags.metricsAuthorization,
        ...(flags.advertiseAddress === undefined ? {} : { advertiseAddress: flags.advertiseAddress }),
        hostPidForNetns: flags.hostPidForNetns,
        dependencyMapping: flags.dependencyMapping,
      });
      await agent.start();
      logger.info({ node: nodeName, metrics: flags.metricsAddr }, "agent running");
      await new Promise<void>((resolve) => {
        const shutdown = (signal: string): void => {
          logger.info({ signal }, "shutting down");
          agent.stop().then(resolve, (error: unknown) => {
            logger.error({ err: error }, "unclean shutdown");
            resolve();
          });
        };
        process.once("SIGTERM", () => { shutdown("SIGTERM"); });
        process.once("SIGINT", () => { shutdown("SIGINT"); });
      });
    });
}
