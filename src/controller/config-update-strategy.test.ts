import { ConfigError, controllerConfig, DEFAULT_AGENT_UPDATE_STRATEGY, parseUpdateStrategy, type ControllerFlags } from "./config.js";
import { agentDaemonSet } from "./daemonset.js";

const flags: ControllerFlags = {
  metricsAddr: ":8080",
  leaderElect: true,
  leaseName: "xander-controller",
  leaseDuration: "15s",
  resync: "5m",
  agentImage: "img:1",
  agentImagePullPolicy: "IfNotPresent",
  agentServiceAccount: "xander-agent",
  agentTolerations: "[]",
  agentNodeSelector: "{}",
  agentResources: "{}",
};

describe("--agent-update-strategy", () => {
  test("without the flag the agent DaemonSet rolls 10% of nodes at a time", () => {
    const ds = agentDaemonSet(controllerConfig(flags, undefined).agent);
    expect(ds.spec?.updateStrategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: "10%" } });
    expect(JSON.parse(DEFAULT_AGENT_UPDATE_STRATEGY)).toEqual(ds.spec?.updateStrategy);
  });

  test.each([
    ['{"type":"OnDelete"}', { type: "OnDelete" }],
    ['{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":2,"maxSurge":"25%"}}', { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 2, maxSurge: "25%" } }],
    ['{"type":"RollingUpdate"}', { type: "RollingUpdate" }],
  ])("the strategy given reaches the DaemonSet as it was given: %s", (text, expected) => {
    expect(parseUpdateStrategy(text)).toEqual(expected);
    expect(agentDaemonSet(controllerConfig({ ...flags, agentUpdateStrategy: text }, undefined).agent).spec?.updateStrategy).toEqual(expected);
  });

  test.each([
    "{",
    "[]",
    '{"type":"Recreate"}',
    '{"type":"OnDelete","rollingUpdate":{"maxUnavailable":1}}',
    '{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"ten"}}',
    '{"type":"RollingUpdate","rollingUpdate":{"partition":1}}',
    '{"type":"RollingUpdate","surge":1}',
  ])("a malformed strategy is a ConfigError naming the flag: %s", (text) => {
    expect(() => parseUpdateStrategy(text)).toThrow(ConfigError);
    expect(() => parseUpdateStrategy(text)).toThrow(/--agent-update-strategy/);
  });
});
