/**
 * Hostile cluster data: the real `xander agent` and `xander controller` (from dist/) against pods and
 * NodeFindings that the real apiserver accepts but nobody would write on purpose. On the agent's node: a pod
 * with 10,000 labels, names at the apiserver's maximum length in a namespace at its maximum, unicode wherever
 * the API allows it (annotations, env values, image strings, owner names, container state messages),
 * containers without IDs, pods without container statuses or with IDs no runtime would give, pods sharing one
 * IP, and pods whose cgroups do not exist. For the controller: NodeFindings hand-edited (by another field
 * manager) into shapes the CRD schema allows and Xander does not expect, and one for a node that does not exist.
 *
 * Both processes must stay up and healthy, the agent must still raise its real findings on real cgroups
 * (with their Events), the controller must still serve its views and policy status, and each log must name
 * every object it could not use.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NodeFindings, StarvationPolicy } from "../../src/api/types.generated.js";
import { CgroupSandbox, randomContainerId, type SandboxPod } from "../../src/demo/sandbox.js";
import {
  createNamespace,
  createNode,
  createPod,
  ensureServiceAccount,
  installCrds,
  kubectl,
  mintServiceAccountToken,
  poll,
  repoRoot,
  setPodStatus,
} from "../cluster/index.js";
import { find, renderChart } from "./support/chart.js";
import { requireRealCgroups } from "./support/host.js";
import { nodeFindings } from "./support/node-findings.js";
import { freePorts, startXander, type XanderProcess } from "./support/processes.js";
import { addApiPod, applyPolicy, eventsIn } from "./support/sandbox-pods.js";
import { tearDownScenario } from "./support/scenario.js";

const suffix = randomBytes(3).toString("hex");
const nodeName = `hostile-${suffix}`;
const policyName = `hostile-${suffix}`;
const controllerNamespace = `xander-hostile-${suffix}`;
const release = `hd${suffix}`;
const namespace = `hostile-${suffix}`;
/** A namespace name at its maximum, 63 characters (a DNS label). */
const longNamespace = `hostile-long-${suffix}-`.padEnd(62, "n") + "x";
/** A pod name at its maximum, 253 characters (a DNS subdomain). */
const longPodName = `throttled-${suffix}.`.padEnd(252, "a") + "z";
/** A pod name at the length of a DNS label, 63 characters, which becomes its hostname whole. */
const labelPodName = `label-${suffix}-`.padEnd(62, "b") + "z";
const LABELS = 10_000;
const UNICODE = "ünïcødé ✓ 🐳 中文 עברית ﷽";
const HEARTBEAT_S = 5;
/** Other nodes whose NodeFindings are edited by hand; "gone" has a NodeFindings but no Node. */
const editedNodes = ["odd", "future", "silent"].map((n) => `hostile-${n}-${suffix}`);
const goneNode = `hostile-gone-${suffix}`;

let sandbox: CgroupSandbox | undefined;
let dir = "";
let agent: XanderProcess | undefined;
let controller: XanderProcess | undefined;
let agentBase = "";
let controllerBase = "";
let viewerToken = "";
const real = new Map<string, SandboxPod>();
/** Pods on the node the agent cannot sample: "namespace/name". */
const unsampled: string[] = [];

async function createRaw(object: Record<string, unknown>): Promise<void> {
  const file = join(dir, `object-${randomBytes(4).toString("hex")}.json`);
  writeFileSync(file, JSON.stringify(object));
  const created = await kubectl(["create", "-f", file]);
  if (created.code !== 0) throw new Error(`cannot create ${JSON.stringify(object).slice(0, 200)}: ${created.stderr}`);
}

/** Writes a NodeFindings status as a person with kubectl would: a merge patch, under kubectl's own field manager. */
async function editStatus(name: string, status: string): Promise<void> {
  const file = join(dir, `status-${name}.json`);
  writeFileSync(file, `{"status":${status}}`);
  const patched = await kubectl(["patch", "nodefindings", name, "--subresource=status", "--type=merge", "--patch-file", file]);
  if (patched.code !== 0) throw new Error(`cannot edit the status of NodeFindings ${name}: ${patched.stderr}`);
}

const throttledIn = (nf: NodeFindings | undefined, ns: string, pod: string): boolean =>
  (nf?.status?.findings ?? []).some((f) => f.rule === "CPUThrottling" && f.pod?.namespace === ns && f.pod.name === pod);

async function healthy(base: string): Promise<boolean> {
  return (await fetch(`${base}/healthz`).catch(() => undefined))?.status === 200;
}

/** The messages of a process's log lines (it logs at debug). */
function messages(proc: XanderProcess): string[] {
  return proc
    .log()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => (JSON.parse(line) as { msg: string }).msg);
}

async function get(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${controllerBase}${path}`, { headers: { authorization: `Bearer ${viewerToken}` } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** API-only pods on the node: no cgroups, each in a state the kubelet passes through or a runtime could report. */
async function createUnsampledPods(): Promise<void> {
  const waiting = { waiting: { reason: "ContainerCreating", message: `pulling ${UNICODE}` } };
  await createPod({ namespace, name: "no-ids", nodeName, containers: [{ name: "main" }, { name: "side" }] });
  await setPodStatus(namespace, "no-ids", { phase: "Pending", containerStatuses: ["main", "side"].map((name) => ({ name, ready: false, restartCount: 0, state: waiting })) });
  await createPod({ namespace, name: "no-statuses", nodeName });
  await setPodStatus(namespace, "no-statuses", { phase: "Running", podIP: "10.249.0.60" });
  await createPod({ namespace, name: "fresh", nodeName });
  await createPod({ namespace, name: "ghost", nodeName });
  await setPodStatus(namespace, "ghost", { phase: "Running", qosClass: "BestEffort", podIP: "10.249.0.61", containerStatuses: [{ name: "main", containerID: `containerd://${randomContainerId()}`, ready: true, restartCount: 0 }] });
  await createPod({ namespace, name: "odd-ids", nodeName, containers: [{ name: "main" }, { name: "side" }, { name: "third" }] });
  await setPodStatus(namespace, "odd-ids", {
    phase: "Running",
    podIP: "10.249.0.62",
    containerStatuses: [
      { name: "main", containerID: "rkt://0123456789abcdef", ready: true, restartCount: 0 },
      { name: "side", containerID: "containerd://", ready: true, restartCount: 0 },
      { name: "third", containerID: `containerd://${UNICODE}`, ready: true, restartCount: 0 },
    ],
  });
  // Two hostNetwork pods share the node's IP, as every hostNetwork pod on a node does.
  for (const name of ["host-a", "host-b"]) {
    await createPod({ namespace, name, nodeName, hostNetwork: true });
    await setPodStatus(namespace, name, { phase: "Running", podIP: "10.249.1.1", hostIP: "10.249.1.1", containerStatuses: [{ name: "main", containerID: `containerd://${randomContainerId()}`, ready: true, restartCount: 0 }] });
  }
  unsampled.push(...["no-ids", "no-statuses", "fresh", "ghost", "odd-ids", "host-a", "host-b"].map((name) => `${namespace}/${name}`));
}

/** Pods with real cgroups: two throttled (one named at the maximum), the rest idle, two of them sharing one IP. */
async function createRealPods(layout: CgroupSandbox): Promise<void> {
  const throttledSpec = { cpuRequestCores: 1, cpuLimitCores: 0.2 };
  real.set("throttled", await addApiPod(layout, { namespace, nodeName, name: "throttled", qosClass: "Burstable", podIP: "10.249.0.10" }, throttledSpec));
  real.set(longPodName, await addApiPod(layout, { namespace: longNamespace, nodeName, name: longPodName, qosClass: "Burstable", podIP: "10.249.0.11" }, throttledSpec));
  real.set(labelPodName, await addApiPod(layout, { namespace: longNamespace, nodeName, name: labelPodName, qosClass: "BestEffort", podIP: "10.249.0.12" }));
  const labels = Object.fromEntries(Array.from({ length: LABELS }, (_, i) => [`hostile.example.com/k${String(i).padStart(5, "0")}`, `v${i}`]));
  real.set("many-labels", await addApiPod(layout, { namespace, nodeName, name: "many-labels", qosClass: "BestEffort", podIP: "10.249.0.13", labels }));
  real.set(
    "unicode",
    await addApiPod(layout, {
      namespace,
      nodeName,
      name: "unicode",
      qosClass: "BestEffort",
      podIP: "10.249.0.14",
      annotations: { "hostile.example.com/note": UNICODE },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: `ünïcødé-🐳-${"ø".repeat(400)}`, uid: randomUUID(), controller: true }],
      container: { image: `registry.example/ünïcødé/🐳:✓`, env: [{ name: "GREETING", value: UNICODE }] },
    }),
  );
  for (const name of ["dup-ip-a", "dup-ip-b"]) real.set(name, await addApiPod(layout, { namespace, nodeName, name, qosClass: "BestEffort", podIP: "10.249.0.50" }));
}

const INT64_MAX = "9223372036854775807";

/** Statuses the CRD schema accepts and no agent writes: each the object of one hand edit. */
function editedStatuses(nowMs: number): Record<string, string> {
  const at = (offsetMs: number): string => new Date(nowMs + offsetMs).toISOString();
  const finding = { rule: "CPUThrottling", severity: "critical", pod: { namespace: "nowhere", name: "no-such-pod", uid: randomUUID() }, container: "main", value: 0.9, threshold: 0.25, firstSeen: at(-60_000), lastSeen: at(0), message: "a pod that does not exist" };
  const odd = {
    agent: { version: UNICODE, cgroupLayout: "v9/mystery", lastSample: at(0), pods: "INT64_MAX", samplesStored: "INT64_MAX" },
    findings: [
      finding,
      finding, // the same finding twice
      { rule: "CPUStarvation", severity: "critical", value: 1e308, threshold: 1e-300, firstSeen: at(-1000), lastSeen: at(0), message: "no pod, and a ratio past any float" },
      { rule: "MemoryNearLimit", severity: "warning", pod: { uid: "only-a-uid" }, value: 0.95, threshold: 0.9, firstSeen: "9999-12-31T23:59:59Z", lastSeen: "0001-01-01T00:00:00Z", message: "last seen before it was first seen" },
      { rule: "OOMKill", severity: "info", pod: { namespace, name: "no-ids", uid: randomUUID() }, value: -5, threshold: -1, firstSeen: at(-1000), lastSeen: at(0), message: "ü".repeat(1024), evidence: Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`k${i}`, UNICODE])) },
      { rule: "IOPressure", severity: "warning", pod: { namespace, name: "throttled", uid: randomUUID() }, value: 0.5, threshold: 0.1, firstSeen: at(-1000), lastSeen: at(0), message: "a culprit with no name", culprit: { uid: "x", score: 1 } },
    ],
    dependencies: [
      { from: "no-slash", to: "", kind: "Pod" },
      { from: "a/b/c", to: "not-an-ip", kind: "External", port: 0, connections: "INT64_MAX" },
      { from: "no-slash", to: "", kind: "Pod" },
    ],
    recentIncidents: [{ rule: "CPUThrottling", severity: "warning", start: at(0), end: at(-3_600_000), peak: 1e308, threshold: 0, pod: { uid: "y" } }],
    summary: { critical: "INT64_MAX", warning: 0, topRisk: "🐳".repeat(64) },
    conditions: [{ type: "Reporting", status: "Unknown", reason: "HandEdited", message: UNICODE, lastTransitionTime: at(0) }],
  };
  const future = { agent: { lastSample: "9999-12-31T23:59:59Z" }, findings: [{ ...finding, pod: { ...finding.pod, name: "from-the-future" } }] };
  const silent = { findings: [{ ...finding, pod: { ...finding.pod, name: "never-reported" } }] };
  const json = (s: unknown): string => JSON.stringify(s).replaceAll('"INT64_MAX"', INT64_MAX);
  return { [editedNodes[0]!]: json(odd), [editedNodes[1]!]: json(future), [editedNodes[2]!]: json(silent), [goneNode]: json(silent) };
}

beforeAll(async () => {
  const layout = await requireRealCgroups();
  dir = mkdtempSync(join(tmpdir(), "xander-hostile-"));
  await installCrds(join(repoRoot, "crds"));
  await createNode(nodeName);
  for (const node of editedNodes) await createNode(node);
  await createNamespace(namespace);
  await createNamespace(longNamespace);
  await applyPolicy(policyName, namespace, {
    selector: { namespaceSelector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: [namespace, longNamespace] }] } },
    sampling: { interval: "1s", window: "5s" },
    rules: { CPUThrottling: { for: "2s", clearAfter: "30s" }, MemoryNearLimit: { enabled: false } },
    reporting: { heartbeat: `${HEARTBEAT_S}s`, minInterval: "1s" },
  });
  // The chart's own viewer role, as `helm install` renders it, for the read API.
  const viewerRole = find(await renderChart(release, namespace), "ClusterRole", `${release}-xander-viewer`);
  writeFileSync(join(dir, "viewer-role.json"), JSON.stringify(viewerRole));
  expect((await kubectl(["apply", "-f", join(dir, "viewer-role.json")])).stderr).toBe("");
  await ensureServiceAccount(namespace, "viewer");
  expect((await kubectl(["create", "clusterrolebinding", `${release}-viewer`, `--clusterrole=${release}-xander-viewer`, `--serviceaccount=${namespace}:viewer`])).code).toBe(0);
  viewerToken = await mintServiceAccountToken(namespace, "viewer");

  sandbox = new CgroupSandbox(layout);
  await createRealPods(sandbox);
  await createUnsampledPods();
  sandbox.burn(real.get("throttled")!, 1);
  sandbox.burn(real.get(longPodName)!, 1);

  const [controllerPort, agentPort] = await freePorts(2);
  controllerBase = `http://127.0.0.1:${controllerPort!}`;
  agentBase = `http://127.0.0.1:${agentPort!}`;
  controller = startXander(["controller", "--namespace", controllerNamespace, "--metrics-addr", `127.0.0.1:${controllerPort!}`, "--no-leader-elect"], join(dir, "controller.log"));
  agent = startXander(["agent", "--node", nodeName, "--db", join(dir, "agent.db"), "--metrics-addr", `127.0.0.1:${agentPort!}`, "--host-pid-for-netns", String(process.pid)], join(dir, "agent.log"));
}, 120_000);

afterAll(async () => {
  await kubectl(["delete", "clusterrolebinding", `${release}-viewer`, "--ignore-not-found"]);
  await kubectl(["delete", "clusterrole", `${release}-xander-viewer`, "--ignore-not-found"]);
  await kubectl(["delete", "nodefindings", goneNode, "--ignore-not-found", "--wait=false"]);
  const failures = await tearDownScenario({ sandbox, processes: [agent, controller], policies: [policyName], namespaces: [namespace, longNamespace], controllerNamespace, nodes: [nodeName, ...editedNodes], dir });
  expect(failures).toEqual([]);
}, 120_000);

describe("hostile cluster data", () => {
  it("the agent raises its real findings and Events beside pods it cannot sample, and names each of those", async () => {
    const nf = await poll("CPUThrottling on both throttled pods in NodeFindings", async () => {
      const current = await nodeFindings(nodeName);
      return throttledIn(current, namespace, "throttled") && throttledIn(current, longNamespace, longPodName) ? current : undefined;
    }, { timeoutMs: 60_000, intervalMs: 500 });
    // Every unfinished pod on the node counts, sampled or not.
    expect(nf.status?.agent?.pods).toBe(real.size + unsampled.length);
    for (const [ns, pod] of [[namespace, "throttled"], [longNamespace, longPodName]] as const) {
      await poll(`the CPUThrottling Event on ${ns}/${pod.slice(0, 40)}…`, async () => ((await eventsIn(ns)).some((e) => e.reason === "CPUThrottling" && e.regarding.name === pod) ? true : undefined), { timeoutMs: 30_000 });
    }
    // Dependency mapping would give every connection to the shared IP to whichever pod came last.
    const shared = `${namespace}/dup-ip-a, ${namespace}/dup-ip-b all claim IP 10.249.0.50`;
    await poll("the agent to name the pods sharing one IP", () => Promise.resolve(messages(agent!).some((m) => m.includes(shared)) ? true : undefined), { timeoutMs: 30_000 });
    const said = messages(agent!);
    for (const pod of unsampled) expect([pod, said.some((m) => m.includes(pod) && /not sampled/.test(m))]).toEqual([pod, true]);
    expect(said.filter((m) => /tick failed|cannot create Event/.test(m))).toEqual([]);
    expect(agent!.child.exitCode).toBeNull();
    expect(await healthy(agentBase)).toBe(true);
  }, 90_000);

  it("the agent takes its own NodeFindings back from a hand edit by another field manager within a heartbeat", async () => {
    await editStatus(nodeName, JSON.stringify({ findings: [], summary: { critical: 0, warning: 0, topRisk: "edited by hand" } }));
    const editedAt = Date.now();
    await poll("the agent's findings back in its NodeFindings", async () => {
      const nf = await nodeFindings(nodeName);
      return throttledIn(nf, namespace, "throttled") && nf?.status?.summary?.topRisk !== "edited by hand" ? true : undefined;
    }, { timeoutMs: (HEARTBEAT_S + 10) * 1000, intervalMs: 250 });
    expect(Date.now() - editedAt).toBeLessThan((HEARTBEAT_S + 5) * 1000);
  }, 30_000);

  it("the controller names each hand-edited NodeFindings it cannot use, serves its views and keeps policy status", async () => {
    for (const node of editedNodes) await poll(`NodeFindings ${node}`, async () => ((await nodeFindings(node)) ? true : undefined), { timeoutMs: 30_000 });
    await createRaw({ apiVersion: "xander.io/v1alpha1", kind: "NodeFindings", metadata: { name: goneNode }, spec: { nodeName: goneNode } });
    for (const [name, status] of Object.entries(editedStatuses(Date.now()))) await editStatus(name, status).catch((error: unknown) => {
      // The controller may have deleted the one without a Node already.
      if (name !== goneNode) throw error;
    });

    await poll("the controller to name every NodeFindings it cannot use", () => {
      const said = messages(controller!);
      const named = [...editedNodes, goneNode].filter((name) => said.some((m) => m.includes(`NodeFindings ${name}`)));
      return Promise.resolve(named.length === editedNodes.length + 1 ? true : undefined);
    }, { timeoutMs: 30_000 });
    await poll(`NodeFindings ${goneNode} deleted`, async () => ((await nodeFindings(goneNode)) === undefined ? true : undefined), { timeoutMs: 30_000 });
    const said = messages(controller!);
    expect(said.find((m) => m.includes(`NodeFindings ${editedNodes[0]!}`))).toMatch(/repeats|names no pod|before it was first seen|not a finite/);
    expect(said.find((m) => m.includes(`NodeFindings ${editedNodes[1]!}`))).toMatch(/in the future/);

    // The read API answers, counting the agent's real findings and leaving out what it could not use.
    const summary = await poll("the read API's summary with the agent's findings", async () => {
      const r = await get("/api/v1/summary");
      return r.status === 200 && ((r.body.findings as { total?: number } | undefined)?.total ?? 0) >= 2 ? r : undefined;
    }, { timeoutMs: 30_000 });
    // Other test files share this control plane: their nodes may be in the count too.
    expect((summary.body.nodes as { total: number }).total).toBeGreaterThanOrEqual(1 + editedNodes.length);
    for (const path of ["/api/v1/top", "/api/v1/incidents", "/api/v1/report?since=1h", `/api/v1/top?namespace=${longNamespace}`]) {
      const r = await get(path);
      expect([path, r.status]).toEqual([path, 200]);
    }
    const top = await get(`/api/v1/top?namespace=${longNamespace}`);
    expect((top.body.risks as { pod: string }[]).map((r) => r.pod)).toContain(`${longNamespace}/${longPodName}`);

    // Policy status still converges, with the real findings counted.
    const policy = await poll("the policy's status", async () => {
      const r = await kubectl(["get", "starvationpolicy", policyName, "-o", "json"]);
      const p = JSON.parse(r.stdout) as StarvationPolicy;
      return p.status?.observedGeneration === p.metadata.generation && (p.status?.findings?.warning ?? 0) >= 2 ? p : undefined;
    }, { timeoutMs: 30_000 });
    expect(policy.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");

    expect(messages(controller!).filter((m) => /failed; retrying|threw/.test(m))).toEqual([]);
    expect(controller!.child.exitCode).toBeNull();
    expect(agent!.child.exitCode).toBeNull();
    expect(await healthy(controllerBase)).toBe(true);
    expect(await healthy(agentBase)).toBe(true);
  }, 90_000);
});
