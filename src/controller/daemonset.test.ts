import { readFileSync } from "node:fs";
import { parse } from "yaml";
import type { StarvationPolicy } from "../api/types.generated.js";
import { agentConfig, agentConfigMap, AGENT_CONFIG_KEY } from "./agent-config.js";
import { agentDaemonSet, type AgentSettings } from "./daemonset.js";

const settings: AgentSettings = {
  namespace: "xander-system",
  image: "registry.example/xander:1.2.3",
  imagePullPolicy: "IfNotPresent",
  serviceAccountName: "xander-agent",
  priorityClassName: "system-node-critical",
  tolerations: [{ operator: "Exists" }],
  nodeSelector: { pool: "general" },
  resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } },
};

const examples = new URL("../../examples/", import.meta.url);
const policyFrom = (file: string) => parse(readFileSync(new URL(file, examples), "utf8")) as StarvationPolicy;

describe("agentDaemonSet", () => {
  const ds = agentDaemonSet(settings);
  const pod = ds.spec!.template.spec;
  const agent = pod.containers[0]!;

  test("is named xander-agent in the controller namespace, labelled managed-by=xander", () => {
    expect(ds.metadata).toMatchObject({ name: "xander-agent", namespace: "xander-system", labels: { "app.kubernetes.io/managed-by": "xander" } });
    expect(ds.spec!.selector.matchLabels).toEqual({ "app.kubernetes.io/name": "xander", "app.kubernetes.io/component": "agent" });
    expect(ds.spec!.template.metadata.labels).toMatchObject(ds.spec!.selector.matchLabels);
  });

  test("takes image, service account, priority class, tolerations, node selector and resources from the flags", () => {
    expect(agent.image).toBe("registry.example/xander:1.2.3");
    expect(pod.serviceAccountName).toBe("xander-agent");
    expect(pod.priorityClassName).toBe("system-node-critical");
    expect(pod.tolerations).toEqual([{ operator: "Exists" }]);
    expect(pod.nodeSelector).toEqual({ "kubernetes.io/os": "linux", pool: "general" });
    expect(agent.resources).toEqual(settings.resources);
  });

  test("runs the agent on the host's cgroupfs and /proc, read-only, with node-local state", () => {
    expect(agent.args).toEqual(["agent", "--cgroup-root", "/host/sys/fs/cgroup", "--proc-root", "/host/proc", "--db", "/var/lib/xander/xander.db", "--metrics-addr", ":9464", "--advertise-address", "$(POD_IP):9464", "--host-pid-for-netns", "1"]);
    expect(agent.volumeMounts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: "host-cgroup", mountPath: "/host/sys/fs/cgroup", readOnly: true }),
        expect.objectContaining({ name: "host-proc", mountPath: "/host/proc", readOnly: true }),
        expect.objectContaining({ name: "state", mountPath: "/var/lib/xander" }),
      ]),
    );
    expect(pod.volumes).toEqual([
      { name: "host-cgroup", hostPath: { path: "/sys/fs/cgroup", type: "Directory" } },
      { name: "host-proc", hostPath: { path: "/proc", type: "Directory" } },
      { name: "state", hostPath: { path: "/var/lib/xander", type: "DirectoryOrCreate" } },
    ]);
  });

  test("maps dependencies by default: hostPID and SYS_PTRACE added to an otherwise locked-down container, nothing else", () => {
    expect(settings.dependencyMapping).toBeUndefined();
    expect(pod.hostPID).toBe(true);
    expect(pod.hostNetwork).toBeUndefined();
    expect(agent.args?.slice(-2)).toEqual(["--host-pid-for-netns", "1"]);
    expect(agent.securityContext).toEqual({
      runAsUser: 0,
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"], add: ["SYS_PTRACE"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(agentDaemonSet({ ...settings, dependencyMapping: true })).toEqual(ds);
  });

  test("dependencyMapping: false drops hostPID and every capability, and turns mapping off in the agent", () => {
    const off = agentDaemonSet({ ...settings, dependencyMapping: false }).spec!.template.spec;
    const container = off.containers[0]!;
    expect(off.hostPID).toBe(false);
    expect(container.args).toEqual(["agent", "--cgroup-root", "/host/sys/fs/cgroup", "--proc-root", "/host/proc", "--db", "/var/lib/xander/xander.db", "--metrics-addr", ":9464", "--advertise-address", "$(POD_IP):9464", "--no-dependency-mapping"]);
    expect(container.securityContext).toEqual({
      runAsUser: 0,
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(JSON.stringify(off)).not.toMatch(/SYS_PTRACE|host-pid-for-netns/);
    // Only those three change: mounts, volumes and the rest of the pod are the same either way.
    const strip = (p: typeof off): unknown => ({ ...p, hostPID: undefined, containers: p.containers.map((c) => ({ ...c, args: undefined, securityContext: undefined })) });
    expect(strip(off)).toEqual(strip(pod));
  });

  test("gets NODE_NAME from the downward API", () => {
    expect(agent.env).toContainEqual({ name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } });
    expect(agent.env).toContainEqual({ name: "NODE_OPTIONS", value: "--max-semi-space-size=2" });
    expect(agent.env).toContainEqual({ name: "MALLOC_ARENA_MAX", value: "2" });
    expect(agent.env).toContainEqual({ name: "MALLOC_MMAP_THRESHOLD_", value: "131072" });
  });

  test("the pod template does not change when policies do (thresholds reach agents without restarts)", () => {
    // The DaemonSet is a function of the flags alone; render it, change every policy, render again.
    const before = JSON.stringify(agentDaemonSet(settings));
    agentConfigMap("xander-system", [policyFrom("strict-policy.yaml")]);
    expect(JSON.stringify(agentDaemonSet(settings))).toBe(before);
    expect(JSON.stringify(ds.spec!.template)).not.toMatch(/"threshold"|hash|checksum/i);
    expect(ds.spec!.template.metadata.annotations).toBeUndefined();
  });

  test("an empty priority class is left out rather than set to an empty string", () => {
    expect(agentDaemonSet({ ...settings, priorityClassName: "" }).spec!.template.spec).not.toHaveProperty("priorityClassName");
  });

  test("is deterministic", () => {
    expect(agentDaemonSet(settings)).toEqual(agentDaemonSet(settings));
  });
});

describe("agentConfigMap", () => {
  test("holds the valid policies, defaulted and sorted by name, and lists the rejected ones with the reason", () => {
    const bad = { ...policyFrom("default-policy.yaml"), metadata: { name: "bad", generation: 3 }, spec: { sampling: { interval: "100ms" } } } as StarvationPolicy;
    const cfg = agentConfig([policyFrom("strict-policy.yaml"), bad, policyFrom("default-policy.yaml")]);
    expect(cfg.policies.map((p) => p.name)).toEqual(["default", "strict"]);
    expect(cfg.policies[0]!.rules.CPUThrottling.threshold).toBe(0.25);
    expect(cfg.rejected).toEqual([{ name: "bad", generation: 3, reason: "spec.sampling.interval: interval must be at least 1s" }]);
    const cm = agentConfigMap("ns", [policyFrom("default-policy.yaml")]);
    expect(cm.metadata).toMatchObject({ name: "xander-agent-config", namespace: "ns" });
    expect(JSON.parse(cm.data![AGENT_CONFIG_KEY]!)).toEqual(agentConfig([policyFrom("default-policy.yaml")]));
  });
});
