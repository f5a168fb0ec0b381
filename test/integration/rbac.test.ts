// Least privilege, proved on the real apiserver: the chart's ServiceAccounts, ClusterRoles, Roles and
// admission policy are applied on their own; the controller and an agent then run as real processes with
// Pod-bound tokens of those accounts and nothing else, and must do their whole job; everything else must
// be denied, both as `kubectl auth can-i` answers and as real requests with the same tokens.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NodeFindings, StarvationPolicy } from "../../src/api/types.generated.js";
import { KubeClient } from "../../src/kube/client.js";
import { applyNodeFindingsStatus } from "../../src/kube/xander.js";
import {
  createNamespace,
  createNode,
  createPod,
  deleteNamespace,
  deleteNode,
  installCrds,
  kubeconfigForToken,
  kubectl,
  mintPodBoundToken,
  mintServiceAccountToken,
  poll,
  repoRoot,
} from "../cluster/index.js";
import { controllerArgs, find, refusals, messageOf, rawRequest, renderChart, startInCluster, type Manifest } from "./support/chart.js";
import { freePort, startXander, type XanderProcess } from "./support/processes.js";

const suffix = randomBytes(3).toString("hex");
const release = `xr${suffix}`;
const fullname = `${release}-xander`;
const controllerSA = `${fullname}-controller`;
const agentSA = `${fullname}-agent`;
const nodeA = `rbac-a-${suffix}`;
const nodeB = `rbac-b-${suffix}`;
const policyName = `rbac-${suffix}`;
const OWN_NODE_MESSAGE = "agents may only write the NodeFindings of their own node";
const NF = "/apis/xander.io/v1alpha1/nodefindings";
const SP = "/apis/xander.io/v1alpha1/starvationpolicies";

let namespace = "";
let dir = "";
let rbac: Manifest[] = [];
let deployment: Manifest;
let controller: XanderProcess | undefined;
let agent: XanderProcess | undefined;
const tokens = { controller: "", agentA: "", agentB: "", agentUnbound: "" };

interface AgentDaemonSet {
  spec: { template: { spec: { serviceAccountName: string; hostPID?: boolean; containers: { args: string[]; securityContext: { capabilities?: unknown } }[] } } };
}

const RBAC_KINDS = new Set(["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"]);

async function getJson<T>(args: string[]): Promise<T | undefined> {
  const r = await kubectl(["get", ...args, "-o", "json"]);
  return r.code === 0 ? (JSON.parse(r.stdout) as T) : undefined;
}

/** Server-side apply of a NodeFindings' status with a token: the request the agent's reporter makes. */
function applyStatus(token: string, node: string, version: string): ReturnType<typeof rawRequest> {
  const body = { apiVersion: "xander.io/v1alpha1", kind: "NodeFindings", metadata: { name: node }, status: { agent: { version } } };
  return rawRequest(token, "PATCH", `${NF}/${node}/status?fieldManager=xander-rbac-test&force=true`, body, "application/apply-patch+yaml");
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "xander-rbac-"));
  await installCrds(join(repoRoot, "crds"));
  // kubectl auth can-i resolves "policyreports.wgpolicyk8s.io" through discovery: without the CRD it asks
  // about a resource of that literal name in the core group, which nobody may touch.
  await installCrds(join(repoRoot, "test/fixtures/policy-report"));
  namespace = await createNamespace(`xander-rbac-${suffix}`);
  const rendered = await renderChart(release, namespace, ["--set", "crds.install=false", "--set", "defaultPolicy.enabled=false"]);
  rbac = rendered.filter((m) => RBAC_KINDS.has(m.kind));
  deployment = find(rendered, "Deployment");
  const applied = await kubectl(["apply", "--server-side", "-f", "-"], { input: JSON.stringify({ apiVersion: "v1", kind: "List", items: rbac }) });
  expect(applied.stderr).toBe("");

  await createNode(nodeA);
  await createNode(nodeB);
  await createPod({ namespace, name: "controller-0", nodeName: nodeA, serviceAccountName: controllerSA });
  await createPod({ namespace, name: "agent-a", nodeName: nodeA, serviceAccountName: agentSA });
  await createPod({ namespace, name: "agent-b", nodeName: nodeB, serviceAccountName: agentSA });
  tokens.controller = await mintPodBoundToken({ namespace, serviceAccount: controllerSA, podName: "controller-0" });
  tokens.agentA = await mintPodBoundToken({ namespace, serviceAccount: agentSA, podName: "agent-a" });
  tokens.agentB = await mintPodBoundToken({ namespace, serviceAccount: agentSA, podName: "agent-b" });
  tokens.agentUnbound = await mintServiceAccountToken(namespace, agentSA);

  const metricsPort = await freePort();
  controller = startInCluster(controllerArgs(deployment, metricsPort), { token: tokens.controller, namespace, logFile: join(dir, "controller.log"), dir });
  await poll("the controller's /readyz", async () => ((await fetch(`http://127.0.0.1:${metricsPort}/readyz`).catch(() => undefined))?.status === 200 ? true : undefined), { timeoutMs: 60_000 });
  const policy = await kubectl(["apply", "-f", "-"], { input: JSON.stringify({ apiVersion: "xander.io/v1alpha1", kind: "StarvationPolicy", metadata: { name: policyName }, spec: {} }) });
  expect(policy.code).toBe(0);
}, 180_000);

afterAll(async () => {
  await agent?.stop();
  await controller?.stop();
  await kubectl(["delete", "starvationpolicy", policyName, "--ignore-not-found"]);
  if (rbac.length > 0) await kubectl(["delete", "--ignore-not-found", "-f", "-"], { input: JSON.stringify({ apiVersion: "v1", kind: "List", items: rbac }) });
  await deleteNode(nodeA);
  await deleteNode(nodeB);
  await kubectl(["delete", "nodefindings", nodeA, nodeB, "--ignore-not-found"]);
  if (namespace !== "") await deleteNamespace(namespace);
  await kubectl(["delete", "crd", "policyreports.wgpolicyk8s.io", "--ignore-not-found", "--wait=false"]);
  if (process.env.XANDER_KEEP_LOGS === undefined) rmSync(dir, { recursive: true, force: true });
}, 90_000);

describe("the chart's RBAC is enough", () => {
  test("the controller, holding only its ServiceAccount's token, creates every node's NodeFindings, the agent DaemonSet and policy status, and leads through its Lease", async () => {
    for (const node of [nodeA, nodeB]) {
      const nf = await poll(`NodeFindings ${node}`, () => getJson<NodeFindings>(["nodefindings", node]), { timeoutMs: 30_000 });
      expect(nf.spec.nodeName).toBe(node);
    }
    const ds = await poll("DaemonSet xander-agent", () => getJson<AgentDaemonSet>(["daemonset", "xander-agent", "-n", namespace]), { timeoutMs: 30_000 });
    expect(ds.spec.template.spec.serviceAccountName).toBe(agentSA);
    // The chart's defaults map dependencies: the controller's RBAC is enough to run the agents with hostPID
    // and SYS_PTRACE (RBAC does not look inside the pod spec; Pod Security admission would).
    expect(ds.spec.template.spec.hostPID).toBe(true);
    expect(ds.spec.template.spec.containers[0]?.securityContext.capabilities).toEqual({ drop: ["ALL"], add: ["SYS_PTRACE"] });
    expect((await kubectl(["get", "configmap", "xander-agent-config", "-n", namespace])).code).toBe(0);
    await poll("policy Ready", async () => {
      const p = await getJson<StarvationPolicy>(["starvationpolicy", policyName]);
      return p?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ? true : undefined;
    }, { timeoutMs: 30_000 });
    const lease = await getJson<{ spec: { holderIdentity: string } }>(["lease", `${fullname}-controller`, "-n", namespace]);
    expect(lease?.spec.holderIdentity).not.toBe("");
    expect(refusals(controller!.log())).toEqual([]);
  }, 90_000);

  test("with reporting.policyReports, the controller's token is enough to create a namespace's PolicyReport and to delete it when the finding clears", async () => {
    expect((await kubectl(["patch", "starvationpolicy", policyName, "--type=merge", "-p", '{"spec":{"reporting":{"policyReports":true}}}'])).code).toBe(0);
    await poll(`NodeFindings ${nodeB}`, () => getJson<NodeFindings>(["nodefindings", nodeB]), { timeoutMs: 30_000 });
    // Written as the admin (node B has no agent yet), under a field manager of its own.
    const admin = KubeClient.fromDefault();
    const write = async (findings: NonNullable<NodeFindings["status"]>["findings"]) => {
      const now = new Date().toISOString();
      await applyNodeFindingsStatus(admin, nodeB, { agent: { version: "rbac-test", lastSample: now }, findings }, "rbac-test");
    };
    const now = new Date().toISOString();
    await write([{ rule: "OOMKill", severity: "critical", policy: policyName, pod: { namespace, name: "victim", uid: "u-victim" }, value: 1, threshold: 1, firstSeen: now, lastSeen: now, message: "OOM-killed" }]);
    const polr = await poll(`PolicyReport ${namespace}/xander`, () => getJson<{ summary: { fail: number } }>(["policyreports.wgpolicyk8s.io", "xander", "-n", namespace]), { timeoutMs: 30_000 });
    expect(polr.summary.fail).toBe(1);
    await write([]);
    await poll("the PolicyReport deleted", async () => ((await kubectl(["get", "policyreports.wgpolicyk8s.io", "xander", "-n", namespace])).code !== 0 ? true : undefined), { timeoutMs: 30_000 });
    expect(refusals(controller!.log())).toEqual([]);
  }, 90_000);

  test("the agent, holding only a token bound to its pod, writes its node's NodeFindings status and is refused nothing", async () => {
    await poll(`NodeFindings ${nodeA}`, () => getJson<NodeFindings>(["nodefindings", nodeA]), { timeoutMs: 30_000 });
    const metricsPort = await freePort();
    const fixture = join(repoRoot, "test/fixtures/cgroup/v2-systemd-containerd");
    agent = startXander(
      ["agent", "--node", nodeA, "--cgroup-root", fixture, "--proc-root", "/proc", "--db", join(dir, "agent.db"), "--metrics-addr", `127.0.0.1:${metricsPort}`],
      join(dir, "agent.log"),
      { KUBECONFIG: kubeconfigForToken(tokens.agentA, `agent-a-${suffix}`) },
    );
    const nf = await poll("the agent's status write", async () => {
      const got = await getJson<NodeFindings>(["nodefindings", nodeA]);
      return got?.status?.agent?.lastSample !== undefined && got.status.conditions?.some((c) => c.type === "Reporting") ? got : undefined;
    }, { timeoutMs: 60_000 });
    expect(nf.status?.agent?.cgroupLayout).toBe("v2");
    // Long enough for every informer to list and watch once.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(refusals(agent.log())).toEqual([]);
  }, 90_000);
});

type Who = "controller" | "agent";

const identity = (who: Who): string[] => {
  const sa = who === "controller" ? controllerSA : agentSA;
  return [`--as=system:serviceaccount:${namespace}:${sa}`, "--as-group=system:serviceaccounts", `--as-group=system:serviceaccounts:${namespace}`, "--as-group=system:authenticated"];
};

/** [who, verb, resource (kubectl form), subresource, in the release namespace, allowed] */
type CanI = [Who, string, string, string, boolean, boolean];

const canI: CanI[] = [
  // the agent: exactly what src/agent does
  ["agent", "list", "pods", "", false, true],
  ["agent", "watch", "pods", "", false, true],
  ["agent", "list", "namespaces", "", false, true],
  ["agent", "watch", "namespaces", "", false, true],
  ["agent", "list", "starvationpolicies.xander.io", "", false, true],
  ["agent", "watch", "starvationpolicies.xander.io", "", false, true],
  ["agent", "patch", "nodefindings.xander.io", "status", false, true],
  ["agent", "create", "events.events.k8s.io", "", false, true],
  ["agent", "list", "services", "", false, true],
  ["agent", "watch", "endpointslices.discovery.k8s.io", "", false, true],
  // ... and nothing else
  ["agent", "create", "nodefindings.xander.io", "", false, false],
  ["agent", "delete", "nodefindings.xander.io", "", false, false],
  ["agent", "patch", "nodefindings.xander.io", "", false, false],
  ["agent", "update", "nodefindings.xander.io", "status", false, false],
  ["agent", "get", "nodefindings.xander.io", "", false, false],
  ["agent", "create", "starvationpolicies.xander.io", "", false, false],
  ["agent", "patch", "starvationpolicies.xander.io", "", false, false],
  ["agent", "delete", "starvationpolicies.xander.io", "", false, false],
  ["agent", "patch", "starvationpolicies.xander.io", "status", false, false],
  ["agent", "list", "secrets", "", false, false],
  ["agent", "get", "secrets", "", true, false],
  ["agent", "get", "configmaps", "", true, false],
  ["agent", "create", "serviceaccounts", "token", true, false],
  ["agent", "get", "pods", "", false, false],
  ["agent", "create", "pods", "", false, false],
  ["agent", "create", "events", "", false, false],
  ["agent", "list", "nodes", "", false, false],
  ["agent", "patch", "daemonsets.apps", "", true, false],
  ["agent", "get", "services", "", true, false],
  ["agent", "create", "endpointslices.discovery.k8s.io", "", true, false],
  // the controller: exactly what src/controller and src/kube do
  ["controller", "list", "nodes", "", false, true],
  ["controller", "watch", "nodes", "", false, true],
  ["controller", "list", "nodefindings.xander.io", "", false, true],
  ["controller", "watch", "nodefindings.xander.io", "", false, true],
  ["controller", "create", "nodefindings.xander.io", "", false, true],
  ["controller", "patch", "nodefindings.xander.io", "", false, true],
  ["controller", "delete", "nodefindings.xander.io", "", false, true],
  ["controller", "list", "starvationpolicies.xander.io", "", false, true],
  ["controller", "watch", "starvationpolicies.xander.io", "", false, true],
  ["controller", "patch", "starvationpolicies.xander.io", "status", false, true],
  ["controller", "list", "endpointslices.discovery.k8s.io", "", false, true],
  ["controller", "watch", "endpointslices.discovery.k8s.io", "", false, true],
  ["controller", "list", "daemonsets.apps", "", true, true],
  ["controller", "watch", "configmaps", "", true, true],
  ["controller", "patch", "daemonsets.apps/xander-agent", "", true, true],
  ["controller", "delete", "configmaps/xander-agent-config", "", true, true],
  ["controller", "create", "leases.coordination.k8s.io", "", true, true],
  ["controller", "update", "leases.coordination.k8s.io/CONTROLLER", "", true, true],
  ["controller", "get", "deployments.apps/CONTROLLER", "", true, true], // its own Deployment
  ["controller", "list", "pods", "", true, true], // the agent pods, whose IPs alone get a history request
  ["controller", "list", "policyreports.wgpolicyk8s.io", "", false, true], // with reporting.policyReports
  ["controller", "create", "policyreports.wgpolicyk8s.io", "", true, true],
  ["controller", "patch", "policyreports.wgpolicyk8s.io", "", true, true],
  ["controller", "delete", "policyreports.wgpolicyk8s.io", "", true, true],
  // ... and nothing else
  ["controller", "list", "secrets", "", false, false],
  ["controller", "get", "secrets", "", true, false],
  ["controller", "patch", "daemonsets.apps/other", "", true, false],
  ["controller", "delete", "configmaps/other", "", true, false],
  ["controller", "update", "leases.coordination.k8s.io/other", "", true, false],
  ["controller", "get", "deployments.apps/other", "", true, false],
  ["controller", "list", "deployments.apps", "", true, false],
  ["controller", "patch", "deployments.apps/CONTROLLER", "", true, false],
  ["controller", "list", "daemonsets.apps", "", false, false],
  ["controller", "patch", "nodefindings.xander.io", "status", false, false],
  ["controller", "create", "starvationpolicies.xander.io", "", false, false],
  ["controller", "delete", "starvationpolicies.xander.io", "", false, false],
  ["controller", "get", "namespaces", "", false, false],
  ["controller", "create", "namespaces", "", false, false],
  ["controller", "list", "pods", "", false, false],
  ["controller", "watch", "pods", "", true, false],
  ["controller", "list", "services", "", false, false],
  ["controller", "get", "endpointslices.discovery.k8s.io", "", true, false],
  ["controller", "patch", "nodes", "", false, false],
  ["controller", "create", "events.events.k8s.io", "", true, false],
  ["controller", "create", "clusterpolicyreports.wgpolicyk8s.io", "", false, false],
];

describe("kubectl auth can-i: each account holds exactly the verbs its code uses", () => {
  test.each(canI)("%s %s %s (subresource %j, namespaced %j): allowed=%j", async (who, verb, resource, subresource, namespaced, allowed) => {
    const target = resource.replace("CONTROLLER", `${fullname}-controller`);
    const args = ["auth", "can-i", verb, target, ...identity(who), ...(subresource === "" ? [] : [`--subresource=${subresource}`]), ...(namespaced ? ["-n", namespace] : [])];
    const r = await kubectl(args);
    expect(r.stdout.trim()).toBe(allowed ? "yes" : "no");
  });
});

/** [who, method, path, body] of real requests that must be refused by RBAC (403). */
type Denied = [string, "controller" | "agentA", string, string, unknown];

const denied = (): Denied[] => [
  ["the agent cannot create a NodeFindings", "agentA", "POST", NF, { apiVersion: "xander.io/v1alpha1", kind: "NodeFindings", metadata: { name: `forged-${suffix}` }, spec: { nodeName: `forged-${suffix}` } }],
  ["the agent cannot delete its NodeFindings", "agentA", "DELETE", `${NF}/${nodeA}`, undefined],
  ["the agent cannot write its NodeFindings' spec", "agentA", "PATCH", `${NF}/${nodeA}`, { metadata: { labels: { forged: "yes" } } }],
  ["the agent cannot create a StarvationPolicy", "agentA", "POST", SP, { apiVersion: "xander.io/v1alpha1", kind: "StarvationPolicy", metadata: { name: `forged-${suffix}` }, spec: {} }],
  ["the agent cannot edit a StarvationPolicy", "agentA", "PATCH", `${SP}/${policyName}`, { spec: { rules: { CPUThrottling: { enabled: false } } } }],
  ["the agent cannot delete a StarvationPolicy", "agentA", "DELETE", `${SP}/${policyName}`, undefined],
  ["the agent cannot write a StarvationPolicy's status", "agentA", "PATCH", `${SP}/${policyName}/status`, { status: { observedGeneration: 99 } }],
  ["the agent cannot list Secrets", "agentA", "GET", "/api/v1/secrets", undefined],
  ["the agent cannot read Secrets in its own namespace", "agentA", "GET", "/api/v1/namespaces/NS/secrets", undefined],
  ["the agent cannot mint tokens", "agentA", "POST", `/api/v1/namespaces/NS/serviceaccounts/${agentSA}/token`, { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { audiences: [] } }],
  ["the controller cannot list Secrets", "controller", "GET", "/api/v1/secrets", undefined],
  ["the controller cannot read Secrets in its own namespace", "controller", "GET", "/api/v1/namespaces/NS/secrets", undefined],
  ["the controller cannot write a NodeFindings' status", "controller", "PATCH", `${NF}/${nodeA}/status`, { status: { agent: { version: "forged" } } }],
  ["the controller cannot delete a StarvationPolicy", "controller", "DELETE", `${SP}/${policyName}`, undefined],
  ["the controller cannot edit a DaemonSet other than the agent's", "controller", "PATCH", "/apis/apps/v1/namespaces/NS/daemonsets/other", { metadata: { labels: { x: "y" } } }],
];

describe("real requests with the tokens are refused", () => {
  test.each(denied().map((d) => [d[0], d] as const))("%s", async (_name, [, who, method, path, body]) => {
    const token = who === "controller" ? tokens.controller : tokens.agentA;
    const res = await rawRequest(token, method, path.replace("NS", namespace), body, method === "PATCH" ? "application/merge-patch+json" : "application/json");
    expect(res.status).toBe(403);
    expect(messageOf(res)).toMatch(/forbidden/);
  });

  test("and the requests the agent does make are allowed", async () => {
    expect((await rawRequest(tokens.agentA, "GET", `/api/v1/pods?fieldSelector=spec.nodeName%3D${nodeA}`)).status).toBe(200);
    expect((await rawRequest(tokens.agentA, "GET", "/api/v1/namespaces")).status).toBe(200);
    expect((await rawRequest(tokens.agentA, "GET", SP)).status).toBe(200);
    const event = {
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: { name: `agent-a.${suffix}`, namespace },
      eventTime: new Date().toISOString().replace("Z", "000Z"),
      type: "Warning",
      reason: "CPUThrottling",
      action: "Detected",
      note: "rbac test",
      reportingController: "xander.io/agent",
      reportingInstance: `xander-agent-${nodeA}`,
      regarding: { apiVersion: "v1", kind: "Pod", namespace, name: "agent-a" },
    };
    const created = await rawRequest(tokens.agentA, "POST", `/apis/events.k8s.io/v1/namespaces/${namespace}/events`, event);
    expect(created.status).toBe(201);
  });
});

describe("agents write only their own node's NodeFindings (ValidatingAdmissionPolicy)", () => {
  test("agent A writing node B's status is denied once the policy is enforced, with the policy's message", async () => {
    await poll(`NodeFindings ${nodeB}`, () => getJson<NodeFindings>(["nodefindings", nodeB]), { timeoutMs: 30_000 });
    // Enforcement starts asynchronously after the policy and binding are created.
    const res = await poll("the own-node policy to deny a cross-node write", async () => {
      const r = await applyStatus(tokens.agentA, nodeB, "forged-by-a");
      return r.status === 200 ? undefined : r;
    }, { timeoutMs: 60_000, intervalMs: 500 });
    expect(res.status).toBe(403);
    expect(messageOf(res)).toContain(OWN_NODE_MESSAGE);
    expect(messageOf(res)).toContain(`${agentSA}-own-node`);
  }, 90_000);

  test("agent A writing its own node's status is allowed, and so is agent B writing B's", async () => {
    const own = await applyStatus(tokens.agentA, nodeA, "by-a");
    expect({ status: own.status, refusal: own.status === 200 ? "" : messageOf(own) }).toEqual({ status: 200, refusal: "" });
    const other = await applyStatus(tokens.agentB, nodeB, "by-b");
    expect({ status: other.status, refusal: other.status === 200 ? "" : messageOf(other) }).toEqual({ status: 200, refusal: "" });
    expect((await getJson<NodeFindings>(["nodefindings", nodeB]))?.status?.agent?.version).toBe("by-b");
  });

  test("an agent token with no node claim (not bound to a pod) can write no NodeFindings at all", async () => {
    const res = await applyStatus(tokens.agentUnbound, nodeA, "unbound");
    expect(res.status).toBe(403);
    expect(messageOf(res)).toContain(OWN_NODE_MESSAGE);
  });

  test("the policy applies to the agent's account only: the cluster admin still writes any node's status", async () => {
    const r = await kubectl(["patch", "nodefindings", nodeB, "--subresource=status", "--type=merge", "-p", '{"status":{"agent":{"version":"by-admin"}}}']);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });
});

describe("with agent.dependencyMapping.enabled=false", () => {
  // A second release in the same namespace, with the switch off: its agent account, ClusterRole and
  // own-node policy. Its agent runs on node B (node A's agent is still running).
  const offRelease = `xo${suffix}`;
  const offAgentSA = `${offRelease}-xander-agent`;
  let offRbac: Manifest[] = [];
  let offToken = "";
  /** Every agent this block starts, so afterAll stops each even when a test fails before its own stop. */
  const offAgents: XanderProcess[] = [];

  const startOffAgent = async (extra: readonly string[], name: string): Promise<XanderProcess> => {
    const metricsPort = await freePort();
    const proc = startXander(
      ["agent", "--node", nodeB, "--cgroup-root", join(repoRoot, "test/fixtures/cgroup/v2-systemd-containerd"), "--proc-root", "/proc", "--db", join(dir, `${name}.db`), "--metrics-addr", `127.0.0.1:${metricsPort}`, ...extra],
      join(dir, `${name}.log`),
      { KUBECONFIG: kubeconfigForToken(offToken, `${name}-${suffix}`) },
    );
    offAgents.push(proc);
    return proc;
  };

  beforeAll(async () => {
    const rendered = await renderChart(offRelease, namespace, ["--set", "crds.install=false", "--set", "defaultPolicy.enabled=false", "--set", "agent.dependencyMapping.enabled=false"]);
    offRbac = rendered.filter((m) => RBAC_KINDS.has(m.kind));
    // The controller's flags say so, and the controller then runs the agents with --no-dependency-mapping.
    const args = (find(rendered, "Deployment") as Manifest & { spec: { template: { spec: { containers: { args: string[] }[] } } } }).spec.template.spec.containers[0]!.args;
    expect(args).toContain("--no-agent-dependency-mapping");
    const applied = await kubectl(["apply", "--server-side", "-f", "-"], { input: JSON.stringify({ apiVersion: "v1", kind: "List", items: offRbac }) });
    expect(applied.stderr).toBe("");
    await createPod({ namespace, name: "agent-off", nodeName: nodeB, serviceAccountName: offAgentSA });
    offToken = await mintPodBoundToken({ namespace, serviceAccount: offAgentSA, podName: "agent-off" });
  }, 90_000);

  afterAll(async () => {
    for (const proc of offAgents) await proc.stop();
    if (offRbac.length > 0) await kubectl(["delete", "--ignore-not-found", "-f", "-"], { input: JSON.stringify({ apiVersion: "v1", kind: "List", items: offRbac }) });
  }, 60_000);

  const offIdentity = (): string[] => [`--as=system:serviceaccount:${namespace}:${offAgentSA}`, "--as-group=system:serviceaccounts", `--as-group=system:serviceaccounts:${namespace}`, "--as-group=system:authenticated"];

  test.each([
    ["list", "services", false],
    ["watch", "services", false],
    ["list", "endpointslices.discovery.k8s.io", false],
    ["watch", "endpointslices.discovery.k8s.io", false],
    ["list", "pods", true],
    ["watch", "namespaces", true],
    ["list", "starvationpolicies.xander.io", true],
  ] as const)("the agent's ClusterRole: %s %s allowed=%j", async (verb, resource, allowed) => {
    const r = await kubectl(["auth", "can-i", verb, resource, ...offIdentity()]);
    expect(r.stdout.trim()).toBe(allowed ? "yes" : "no");
  });

  test("without dependency mapping the controller's ClusterRole has no EndpointSlice reads (no graph to build)", async () => {
    const controllerIdentity = [`--as=system:serviceaccount:${namespace}:${offRelease}-xander-controller`, "--as-group=system:serviceaccounts", "--as-group=system:authenticated"];
    const bound = offRbac.some((m) => m.kind === "ClusterRoleBinding" && (m as Manifest & { subjects?: { name: string }[] }).subjects?.some((sub) => sub.name === `${offRelease}-xander-controller`));
    expect(bound).toBe(true);
    for (const verb of ["list", "watch"]) {
      expect((await kubectl(["auth", "can-i", verb, "endpointslices.discovery.k8s.io", ...controllerIdentity])).stdout.trim()).toBe("no");
    }
    expect((await kubectl(["auth", "can-i", "list", "starvationpolicies.xander.io", ...controllerIdentity])).stdout.trim()).toBe("yes");
  });

  test("the agent run with --no-dependency-mapping writes its node's status and is refused nothing without the Service and EndpointSlice reads", async () => {
    const proc = await startOffAgent(["--no-dependency-mapping"], "agent-off");
    const nf = await poll("the agent's status write", async () => {
      const got = await getJson<NodeFindings>(["nodefindings", nodeB]);
      return got?.status?.agent?.lastSample !== undefined && got.status.conditions?.some((c) => c.type === "Reporting") ? got : undefined;
    }, { timeoutMs: 60_000 });
    expect(nf.status?.dependencies ?? []).toEqual([]);
    // Long enough for the first dependency poll (a policy exists, so mapping would be on) and every informer.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(proc.log()).toContain("dependency mapping off");
    expect(refusals(proc.log())).toEqual([]);
    expect(await proc.stop()).toBe(0);
  }, 90_000);

  test("the same agent without --no-dependency-mapping is refused the Services and EndpointSlices it would watch", async () => {
    const proc = await startOffAgent([], "agent-off-mapping");
    const refused = await poll("the agent's refusals", () => {
      const got = refusals(proc.log());
      return Promise.resolve(got.some((r) => r.includes('"services"')) && got.some((r) => r.includes('"endpointslices"')) ? got : undefined);
    }, { timeoutMs: 60_000 });
    expect(refused.every((r) => /"(services|endpointslices)"/.test(r))).toBe(true);
    expect(await proc.stop()).toBe(0);
  }, 90_000);
});
