// `xander controller` as a real process against the real apiserver and kube-controller-manager:
// NodeFindings per Node, the agent DaemonSet and its repair, policy status, printer columns, metrics.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NodeFindings, StarvationPolicy } from "../../src/api/types.generated.js";
import { KubeClient } from "../../src/kube/client.js";
import { applyNodeFindingsStatus } from "../../src/kube/xander.js";
import { createNode, deleteNode, installCrds, kubectl, poll, repoRoot, scrapeMetrics } from "../cluster/index.js";
import { freePort, startXander, type XanderProcess } from "./support/processes.js";

const suffix = randomBytes(3).toString("hex");
const namespace = `xander-ctl-${suffix}`;
const image = `registry.example/xander:it-${suffix}`;
const policyName = `ctl-${suffix}`;
const nodes: string[] = [];
let dir: string;
let controller: XanderProcess;
let metricsPort: number;
let client: KubeClient;

interface DaemonSetJson {
  metadata: { uid: string; generation: number; labels: Record<string, string> };
  spec: {
    template: {
      spec: {
        hostPID?: boolean;
        serviceAccountName: string;
        containers: {
          image: string;
          args: string[];
          env: { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
          volumeMounts: { mountPath: string; readOnly?: boolean }[];
          securityContext?: Record<string, unknown>;
        }[];
        volumes: { name: string; hostPath?: { path: string; type: string } }[];
      };
    };
  };
}

async function getJson<T>(args: string[]): Promise<T | undefined> {
  const r = await kubectl(["get", ...args, "-o", "json"]);
  return r.code === 0 ? (JSON.parse(r.stdout) as T) : undefined;
}

const daemonSet = () => getJson<DaemonSetJson>(["daemonset", "xander-agent", "-n", namespace]);
const policy = () => getJson<StarvationPolicy>(["starvationpolicy", policyName]);

async function metrics(): Promise<string> {
  return scrapeMetrics(`http://127.0.0.1:${metricsPort}`);
}

/** A sample's value from a Prometheus page, matching the name and every given label in any order. */
function sample(page: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const line = page.split("\n").find((l) => {
    if (!l.startsWith(`${name}{`) && !l.startsWith(`${name} `)) return false;
    return Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`));
  });
  return line === undefined ? undefined : Number(line.split(" ").pop());
}

const AGENT_ARGS = ["agent", "--cgroup-root", "/host/sys/fs/cgroup", "--proc-root", "/host/proc", "--db", "/var/lib/xander/xander.db", "--metrics-addr", ":9464", "--advertise-address", "$(POD_IP):9464"];

let started = 0;

/** Starts `xander controller` in this test's namespace as `controller` (so afterAll stops it even if it never gets ready), and waits for its /readyz. */
async function startController(extra: readonly string[] = []): Promise<void> {
  metricsPort = await freePort();
  started += 1;
  controller = startXander(
    ["controller", "--namespace", namespace, "--metrics-addr", `127.0.0.1:${metricsPort}`, "--resync", "10s", "--lease-duration", "4s", "--agent-image", image, ...extra],
    join(dir, started === 1 ? "controller.log" : `controller-${started}.log`),
  );
  await poll("the controller's /readyz", async () => ((await fetch(`http://127.0.0.1:${metricsPort}/readyz`).catch(() => undefined))?.status === 200 ? true : undefined), {
    timeoutMs: 60_000,
    intervalMs: 250,
  });
}

function table(stdout: string): string[][] {
  return stdout
    .trim()
    .split("\n")
    .map((line) => line.trim().split(/\s{2,}/));
}

async function newNode(): Promise<string> {
  const name = `ctl-node-${suffix}-${nodes.length}`;
  nodes.push(name);
  await createNode(name);
  return name;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "xander-controller-"));
  await installCrds(join(repoRoot, "crds"));
  client = KubeClient.fromDefault();
  await startController();
  const applied = await kubectl(["apply", "-f", "-"], {
    input: JSON.stringify({ apiVersion: "xander.io/v1alpha1", kind: "StarvationPolicy", metadata: { name: policyName }, spec: { reporting: { heartbeat: "20s" } } }),
  });
  expect(applied.code).toBe(0);
}, 120_000);

afterAll(async () => {
  const code = await controller.stop();
  await kubectl(["delete", "starvationpolicy", policyName, "--ignore-not-found"]);
  for (const n of nodes) await deleteNode(n);
  await kubectl(["delete", "namespace", namespace, "--ignore-not-found", "--wait=false"]);
  if (process.env.XANDER_KEEP_LOGS === undefined) rmSync(dir, { recursive: true, force: true });
  expect(code).toBe(0); // SIGTERM: a clean shutdown
}, 60_000);

describe("xander controller", () => {
  test("creates the controller namespace when run outside the cluster", async () => {
    expect((await kubectl(["get", "namespace", namespace])).code).toBe(0);
  }, 60_000);

  test("adding a Node creates its NodeFindings, owned by the Node; removing the Node removes it", async () => {
    const name = await newNode();
    const uid = (await kubectl(["get", "node", name, "-o", "jsonpath={.metadata.uid}"])).stdout;
    const nf = await poll(`NodeFindings ${name}`, () => getJson<NodeFindings>(["nodefindings", name]), { timeoutMs: 20_000 });
    expect(nf.spec.nodeName).toBe(name);
    expect(nf.metadata.ownerReferences).toEqual([{ apiVersion: "v1", kind: "Node", name, uid, controller: true, blockOwnerDeletion: false }]);
    await deleteNode(name);
    await poll(`NodeFindings ${name} gone`, async () => ((await kubectl(["get", "nodefindings", name])).code !== 0 ? true : undefined), { timeoutMs: 30_000 });
  }, 60_000);

  test("a NodeFindings for a node that does not exist is deleted by the controller itself (no owner, so no GC)", async () => {
    const ghost = `ghost-${suffix}`;
    const created = await kubectl(["apply", "-f", "-"], { input: JSON.stringify({ apiVersion: "xander.io/v1alpha1", kind: "NodeFindings", metadata: { name: ghost }, spec: { nodeName: ghost } }) });
    expect(created.code).toBe(0);
    await poll(`orphan NodeFindings ${ghost} deleted`, async () => ((await kubectl(["get", "nodefindings", ghost])).code !== 0 ? true : undefined), { timeoutMs: 20_000 });
    // the controller's own delete (not the garbage collector's): it says so in its log
    const logged = `"node":"${ghost}","msg":"deleted NodeFindings ${ghost}: no Node of that name exists"`;
    await poll("the controller's log of the orphan", () => Promise.resolve(controller.log().includes(logged) ? true : undefined), { timeoutMs: 5000 });
  }, 60_000);

  test("creates the agent DaemonSet from its flags: host cgroupfs and /proc read-only, NODE_NAME from the downward API", async () => {
    const ds = await poll("DaemonSet xander-agent", daemonSet, { timeoutMs: 20_000 });
    expect(ds.metadata.labels["app.kubernetes.io/managed-by"]).toBe("xander");
    const pod = ds.spec.template.spec;
    const agent = pod.containers[0]!;
    expect(agent.image).toBe(image);
    expect(agent.args).toEqual([...AGENT_ARGS, "--host-pid-for-netns", "1"]);
    expect(agent.env.find((e) => e.name === "NODE_NAME")?.valueFrom?.fieldRef?.fieldPath).toBe("spec.nodeName");
    // Dependency mapping is on by default: hostPID and SYS_PTRACE, and no other capability.
    expect(pod.hostPID).toBe(true);
    expect(agent.securityContext).toEqual({
      runAsUser: 0,
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"], add: ["SYS_PTRACE"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(pod.serviceAccountName).toBe("xander-agent");
    expect(agent.volumeMounts).toEqual(expect.arrayContaining([expect.objectContaining({ mountPath: "/host/sys/fs/cgroup", readOnly: true }), expect.objectContaining({ mountPath: "/host/proc", readOnly: true })]));
    expect(pod.volumes).toContainEqual({ name: "state", hostPath: { path: "/var/lib/xander", type: "DirectoryOrCreate" } });
    const cm = await poll("ConfigMap xander-agent-config", () => getJson<{ data: Record<string, string> }>(["configmap", "xander-agent-config", "-n", namespace]), { timeoutMs: 20_000 });
    expect((JSON.parse(cm.data["policies.json"]!) as { policies: { name: string }[] }).policies.map((p) => p.name)).toContain(policyName);
  }, 60_000);

  test("a deleted DaemonSet is restored", async () => {
    const before = await poll("DaemonSet xander-agent", daemonSet, { timeoutMs: 20_000 });
    expect((await kubectl(["delete", "daemonset", "xander-agent", "-n", namespace, "--wait=true"])).code).toBe(0);
    const after = await poll("a new DaemonSet xander-agent", async () => {
      const ds = await daemonSet();
      return ds !== undefined && ds.metadata.uid !== before.metadata.uid ? ds : undefined;
    }, { timeoutMs: 20_000 });
    expect(after.spec.template.spec.containers[0]?.image).toBe(image);
  }, 60_000);

  test("an edited image is put back (server-side apply takes the field back)", async () => {
    await poll("DaemonSet xander-agent", daemonSet, { timeoutMs: 20_000 });
    expect((await kubectl(["set", "image", "daemonset/xander-agent", "agent=evil.example/miner:1", "-n", namespace])).code).toBe(0);
    await poll("the image repaired", async () => ((await daemonSet())?.spec.template.spec.containers[0]?.image === image ? true : undefined), { timeoutMs: 20_000 });
  }, 60_000);

  test("policy status: Ready at its generation; an edit bumps generation, observedGeneration follows, and agents are not restarted", async () => {
    const first = await poll("policy Ready at generation 1", async () => {
      const p = await policy();
      const ready = p?.status?.conditions?.find((c) => c.type === "Ready");
      return p?.status?.observedGeneration === p?.metadata.generation && ready?.status === "True" && ready.observedGeneration === p?.metadata.generation ? p : undefined;
    }, { timeoutMs: 30_000 });
    const readySince = first.status?.conditions?.find((c) => c.type === "Ready")?.lastTransitionTime;
    const dsGeneration = (await daemonSet())?.metadata.generation;

    expect((await kubectl(["patch", "starvationpolicy", policyName, "--type=merge", "-p", '{"spec":{"rules":{"CPUThrottling":{"threshold":0.5}}}}'])).code).toBe(0);
    const edited = await policy();
    expect(edited?.metadata.generation).toBe((first.metadata.generation ?? 0) + 1);
    const caughtUp = await poll("observedGeneration catches up", async () => {
      const p = await policy();
      const gen = p?.metadata.generation;
      return gen === edited?.metadata.generation && p?.status?.observedGeneration === gen && p?.status?.conditions?.every((c) => c.observedGeneration === gen) ? p : undefined;
    }, { timeoutMs: 30_000 });
    const ready = caughtUp.status?.conditions?.find((c) => c.type === "Ready");
    expect(ready?.status).toBe("True");
    expect(ready?.lastTransitionTime).toBe(readySince); // unchanged status keeps its transition time
    // the new threshold is in the agent config, and the pod template did not change (no rollout)
    await poll("threshold 0.5 in the agent config", async () => {
      const cm = await getJson<{ data: Record<string, string> }>(["configmap", "xander-agent-config", "-n", namespace]);
      const cfg = JSON.parse(cm?.data["policies.json"] ?? "{}") as { policies?: { name: string; rules: { CPUThrottling: { threshold: number } } }[] };
      return cfg.policies?.find((p) => p.name === policyName)?.rules.CPUThrottling.threshold === 0.5 ? true : undefined;
    }, { timeoutMs: 20_000 });
    expect((await daemonSet())?.metadata.generation).toBe(dsGeneration);
  }, 60_000);

  test("kubectl get sp shows the findings the agents report for the policy, and /metrics counts them", async () => {
    const node = await newNode();
    await poll(`NodeFindings ${node}`, () => getJson<NodeFindings>(["nodefindings", node]), { timeoutMs: 20_000 });
    const now = new Date().toISOString();
    await applyNodeFindingsStatus(client, node, {
      agent: { version: "test", cgroupLayout: "v2", lastSample: now, pods: 2, samplesStored: 5 },
      findings: [
        { rule: "OOMKill", severity: "critical", policy: policyName, pod: { namespace: "shop", name: "cart", uid: "u1" }, value: 1, threshold: 1, firstSeen: now, lastSeen: now, message: "OOM-killed once" },
        { rule: "CPUThrottling", severity: "warning", policy: "some-other-policy", pod: { namespace: "shop", name: "web", uid: "u2" }, value: 0.6, threshold: 0.25, firstSeen: now, lastSeen: now, message: "throttled" },
      ],
      summary: { critical: 1, warning: 1, topRisk: "OOMKill shop/cart" },
    });
    const p = await poll("policy status counts the critical finding", async () => {
      const got = await policy();
      return got?.status?.findings?.critical === 1 ? got : undefined;
    }, { timeoutMs: 20_000 });
    expect(p.status?.findings).toEqual({ critical: 1, warning: 0 }); // the other policy's warning is not ours
    expect(p.status?.topRisks?.[0]).toEqual({ node, rule: "OOMKill", severity: "critical", pod: "shop/cart", message: "OOM-killed once" });
    expect(p.status?.nodes?.reporting).toBeGreaterThanOrEqual(1);

    const rows = table((await kubectl(["get", "sp", policyName])).stdout);
    expect(rows[0]).toEqual(["NAME", "READY", "NODES", "CRITICAL", "WARNING", "AGE"]);
    expect(rows[1]?.[0]).toBe(policyName);
    expect(rows[1]?.[1]).toBe("True");
    expect(Number(rows[1]?.[2])).toBe(p.status?.nodes?.reporting);
    expect(rows[1]?.slice(3, 5)).toEqual(["1", "0"]);

    await poll("xander_findings counts the OOM kill", async () => ((sample(await metrics(), "xander_findings", { severity: "critical", rule: "OOMKill" }) ?? 0) >= 1 ? true : undefined), { timeoutMs: 20_000 });
    const page = await metrics();
    expect(sample(page, "xander_controller_leader")).toBe(1);
    expect(sample(page, "xander_controller_reconcile_total", { kind: "Node", result: "success" })).toBeGreaterThan(0);
    expect(sample(page, "xander_controller_reconcile_total", { kind: "StarvationPolicy", result: "success" })).toBeGreaterThan(0);
    expect(sample(page, "xander_controller_reconcile_total", { kind: "DaemonSet", result: "success" })).toBeGreaterThan(0);
    expect(page).toContain("xander_controller_reconcile_duration_seconds_bucket");
  }, 60_000);

  test("the Lease names this controller as leader, and /healthz answers", async () => {
    const holder = (await kubectl(["get", "lease", "xander-controller", "-n", namespace, "-o", "jsonpath={.spec.holderIdentity}"])).stdout;
    expect(holder).toMatch(new RegExp(`-${controller.child.pid}$`));
    expect((await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).status).toBe(200);
  }, 60_000);

  test("restarted with --no-agent-dependency-mapping, the controller takes hostPID and SYS_PTRACE out of the DaemonSet; without the flag, puts them back", async () => {
    const before = await poll("DaemonSet xander-agent with hostPID", async () => {
      const ds = await daemonSet();
      return ds?.spec.template.spec.hostPID === true ? ds : undefined;
    }, { timeoutMs: 20_000 });
    expect(await controller.stop()).toBe(0);
    await startController(["--no-agent-dependency-mapping"]);
    const off = await poll("the DaemonSet without hostPID", async () => {
      const ds = await daemonSet();
      return ds !== undefined && ds.spec.template.spec.hostPID !== true ? ds : undefined;
    }, { timeoutMs: 30_000 });
    expect(off.metadata.uid).toBe(before.metadata.uid); // updated in place, not recreated
    const agent = off.spec.template.spec.containers[0]!;
    expect(agent.args).toEqual([...AGENT_ARGS, "--no-dependency-mapping"]);
    // Server-side apply drops the capability this manager no longer applies: only the drop is left.
    expect(agent.securityContext).toEqual({
      runAsUser: 0,
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });

    expect(await controller.stop()).toBe(0);
    await startController();
    const on = await poll("the DaemonSet with hostPID again", async () => {
      const ds = await daemonSet();
      return ds?.spec.template.spec.hostPID === true ? ds : undefined;
    }, { timeoutMs: 30_000 });
    expect(on.spec.template.spec.containers[0]?.args).toEqual([...AGENT_ARGS, "--host-pid-for-netns", "1"]);
    expect(on.spec.template.spec.containers[0]?.securityContext?.capabilities).toEqual({ drop: ["ALL"], add: ["SYS_PTRACE"] });
  }, 120_000);
});
