import { controllerConfig, ConfigError, resolveNamespace, type ControllerFlags } from "./config.js";

const flags: ControllerFlags = {
  metricsAddr: ":8080",
  leaderElect: true,
  leaseName: "xander-controller",
  leaseDuration: "15s",
  resync: "5m",
  agentImage: "img:1",
  agentImagePullPolicy: "IfNotPresent",
  agentServiceAccount: "xander-agent",
  agentTolerations: '[{"operator":"Exists"}]',
  agentNodeSelector: "{}",
  agentResources: '{"requests":{"cpu":"50m"}}',
};

describe("controllerConfig", () => {
  test("parses durations and JSON flags", () => {
    const cfg = controllerConfig({ ...flags, identity: "me", agentPriorityClass: "system-node-critical" }, undefined);
    expect(cfg).toMatchObject({ namespace: "xander-system", createNamespace: true, identity: "me", leaseDurationMs: 15_000, resyncMs: 300_000 });
    expect(cfg.agent).toMatchObject({ namespace: "xander-system", image: "img:1", priorityClassName: "system-node-critical", tolerations: [{ operator: "Exists" }], resources: { requests: { cpu: "50m" } } });
  });

  test("agent dependency mapping is on unless the flag turns it off", () => {
    expect(controllerConfig(flags, undefined).agent.dependencyMapping).toBe(true);
    expect(controllerConfig({ ...flags, agentDependencyMapping: true }, undefined).agent.dependencyMapping).toBe(true);
    expect(controllerConfig({ ...flags, agentDependencyMapping: false }, undefined).agent.dependencyMapping).toBe(false);
  });

  test("the identity defaults to hostname-pid", () => {
    expect(controllerConfig(flags, undefined).identity).toMatch(new RegExp(`-${process.pid}$`));
  });

  test.each([
    [{ agentTolerations: "[{" }, /--agent-tolerations: not valid JSON/],
    [{ agentTolerations: '{"operator":"Exists"}' }, /expected a JSON array/],
    [{ agentNodeSelector: '{"a":1}' }, /--agent-node-selector: expected a JSON object of strings/],
    [{ agentResources: '{"requests":{"cpu":1}}' }, /--agent-resources/],
    [{ leaseDuration: "500ms" }, /--lease-duration: must be at least 1000ms/],
    [{ resync: "soon" }, /--resync: invalid duration/],
    [{ agentImagePullPolicy: "Sometimes" }, /--agent-image-pull-policy/],
  ])("rejects bad flags with a message naming the flag: %j", (bad, message) => {
    expect(() => controllerConfig({ ...flags, ...bad }, undefined)).toThrow(ConfigError);
    expect(() => controllerConfig({ ...flags, ...bad }, undefined)).toThrow(message);
  });
});

describe("resolveNamespace", () => {
  test("the flag wins; in a cluster the pod's namespace; else xander-system, created when out of cluster", () => {
    expect(resolveNamespace("mine", undefined)).toEqual({ namespace: "mine", create: true });
    expect(resolveNamespace("mine", "pod-ns")).toEqual({ namespace: "mine", create: false });
    expect(resolveNamespace(undefined, "pod-ns")).toEqual({ namespace: "pod-ns", create: false });
    expect(resolveNamespace(undefined, undefined)).toEqual({ namespace: "xander-system", create: true });
  });
});
