/**
 * The controller's read API on the real apiserver: who may read is decided by the cluster (TokenReview and
 * SubjectAccessReview), with the chart's own `xander-viewer` ClusterRole. A stranger's token is refused, and
 * so is no token at all; the shapes the README documents come back to a viewer. Node histories are fetched only
 * from an endpoint that is the node's agent pod: one pointed anywhere else gets no request and no token.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:net";
import type { NodeFindings } from "../../src/api/types.generated.js";
import {
  createNamespace,
  createNode,
  deleteNamespace,
  deleteNode,
  ensureServiceAccount,
  installCrds,
  kubeconfigForToken,
  kubectl,
  mintServiceAccountToken,
  poll,
  repoRoot,
} from "../cluster/index.js";
import { find, renderChart } from "./support/chart.js";
import { runAgentPod } from "./support/agent-pod.js";
import { freePort, runCli, startXander, type XanderProcess } from "./support/processes.js";

const suffix = randomBytes(3).toString("hex");
const nodeName = `read-api-${suffix}`;
const rogueNode = `read-api-rogue-${suffix}`;
const xanderNamespace = `xander-${suffix}`;
const release = `ra${suffix}`;
let namespace = "";
let dir = "";
let controller: XanderProcess | undefined;
let base = "";
let viewerToken = "";
let strangerToken = "";
let podViewerToken = "";

async function get(path: string, token?: string): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(`${base}${path}`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, headers: response.headers };
}

function iso(agoMs: number): string {
  return new Date(Date.now() - agoMs).toISOString();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "xander-read-api-"));
  await installCrds(join(repoRoot, "crds"));
  namespace = await createNamespace(`read-api-${suffix}`);
  await createNode(nodeName);
  // The chart's own viewer role, as `helm install` renders it.
  const viewerRole = find(await renderChart(release, namespace), "ClusterRole", `${release}-xander-viewer`);
  writeFileSync(join(dir, "viewer-role.json"), JSON.stringify(viewerRole));
  expect((await kubectl(["apply", "-f", join(dir, "viewer-role.json")])).code).toBe(0);
  for (const sa of ["viewer", "stranger", "pod-viewer"]) await ensureServiceAccount(namespace, sa);
  expect((await kubectl(["create", "clusterrolebinding", `${release}-viewer`, `--clusterrole=${release}-xander-viewer`, `--serviceaccount=${namespace}:viewer`])).code).toBe(0);
  expect((await kubectl(["create", "clusterrolebinding", `${release}-pod-viewer`, `--clusterrole=${release}-xander-viewer`, `--serviceaccount=${namespace}:pod-viewer`])).code).toBe(0);
  expect((await kubectl(["create", "rolebinding", "view", "-n", namespace, "--clusterrole=view", `--serviceaccount=${namespace}:pod-viewer`])).code).toBe(0);
  viewerToken = await mintServiceAccountToken(namespace, "viewer");
  strangerToken = await mintServiceAccountToken(namespace, "stranger");
  podViewerToken = await mintServiceAccountToken(namespace, "pod-viewer");

  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  controller = startXander(["controller", "--namespace", xanderNamespace, "--metrics-addr", `127.0.0.1:${port}`, "--no-leader-elect"], join(dir, "controller.log"));
  await poll("the controller's NodeFindings for the node", async () => ((await kubectl(["get", "nf", nodeName])).code === 0 ? true : undefined), { timeoutMs: 30_000 });
  // What an agent would have written: one open finding with a culprit, and one closed incident.
  const status: NodeFindings["status"] = {
    agent: { version: "test", cgroupLayout: "v2", lastSample: iso(1000), pods: 2, samplesStored: 10 },
    findings: [
      {
        rule: "CPUStarvation",
        severity: "warning",
        pod: { namespace, name: "victim", uid: "victim-uid" },
        container: "main",
        value: 0.6,
        threshold: 0.3,
        window: "5s",
        firstSeen: iso(60_000),
        lastSeen: iso(1000),
        culprit: { namespace, name: "noisy", uid: "noisy-uid", score: 0.8 },
        message: "stalled 60%",
      },
    ],
    recentIncidents: [
      { rule: "CPUThrottling", severity: "warning", pod: { namespace, name: "limited", uid: "limited-uid" }, container: "main", start: iso(3_600_000), end: iso(3_000_000), peak: 0.97, threshold: 0.25, message: "throttled in 97% of periods" },
    ],
  };
  writeFileSync(join(dir, "status.json"), JSON.stringify({ status }));
  const patched = await kubectl(["patch", "nodefindings", nodeName, "--subresource=status", "--type=merge", "--patch-file", join(dir, "status.json")]);
  expect(patched.stderr).toBe("");
  await poll("the controller's read API", async () => ((await get("/api/v1/summary", viewerToken)).status === 200 ? true : undefined), { timeoutMs: 30_000 });
}, 120_000);

afterAll(async () => {
  await controller?.stop();
  await kubectl(["delete", "clusterrolebinding", `${release}-viewer`, `${release}-pod-viewer`, "--ignore-not-found"]);
  await kubectl(["delete", "clusterrole", `${release}-xander-viewer`, "--ignore-not-found"]);
  await kubectl(["delete", "namespace", xanderNamespace, "--ignore-not-found", "--wait=false"]);
  if (namespace) await deleteNamespace(namespace);
  await deleteNode(nodeName);
  await deleteNode(rogueNode);
  if (process.env.XANDER_KEEP_LOGS === undefined) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe("controller read API: TokenReview and SubjectAccessReview on the real apiserver", () => {
  it("refuses a request without a token with 401 and says how to authenticate", async () => {
    const r = await get("/api/v1/summary");
    expect(r.status).toBe(401);
    expect(r.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(r.body).toMatchObject({ code: 401, reason: "Unauthorized" });
  });

  it("refuses a token the cluster does not accept with 401", async () => {
    expect((await get("/api/v1/top", "not-a-real-token")).status).toBe(401);
  });

  it("refuses a stranger with 403 on every view, naming what they lack", async () => {
    for (const path of ["/api/v1/summary", "/api/v1/top", "/api/v1/incidents", "/api/v1/report", `/api/v1/pods/${namespace}/victim`]) {
      const r = await get(path, strangerToken);
      expect([path, r.status]).toEqual([path, 403]);
      expect(String(r.body.message)).toMatch(/may not list nodefindings\.xander\.io/);
    }
  });

  it("serves the documented shapes to a holder of the chart's xander-viewer role", async () => {
    const summary = await get("/api/v1/summary", viewerToken);
    expect(summary.status).toBe(200);
    expect(Object.keys(summary.body)).toEqual(expect.arrayContaining(["nodes", "findings"]));
    expect((summary.body.nodes as { total: number }).total).toBeGreaterThanOrEqual(1);
    expect((summary.body.findings as { total: number }).total).toBeGreaterThanOrEqual(1);

    const top = await get(`/api/v1/top?namespace=${namespace}`, viewerToken);
    expect(top.status).toBe(200);
    const risks = top.body.risks as { pod: string; rule: string; culprit: { name: string } | null }[];
    expect(risks.map((r) => [r.pod, r.rule, r.culprit?.name])).toEqual([[`${namespace}/victim`, "CPUStarvation", "noisy"]]);

    const incidents = await get(`/api/v1/incidents?namespace=${namespace}`, viewerToken);
    expect(incidents.status).toBe(200);
    const list = incidents.body.incidents as { rule: string; pod: { name: string }; end?: string }[];
    expect(list.map((i) => [i.rule, i.pod.name, i.end === undefined ? "open" : "closed"]).sort()).toEqual([
      ["CPUStarvation", "victim", "open"],
      ["CPUThrottling", "limited", "closed"],
    ]);

    const report = await get(`/api/v1/report?namespace=${namespace}&since=1d`, viewerToken);
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({ skipped: expect.arrayContaining([expect.objectContaining({ node: nodeName })]) as unknown });
  });

  it("a pod's view also needs get on the pod: the viewer role alone is refused, with view in the namespace it is not", async () => {
    const refused = await get(`/api/v1/pods/${namespace}/victim`, viewerToken);
    expect(refused.status).toBe(403);
    expect(String(refused.body.message)).toMatch(/may not get pods victim in namespace/);
    const allowed = await get(`/api/v1/pods/${namespace}/victim`, podViewerToken);
    expect(allowed.status).toBe(200);
    expect(allowed.body).toMatchObject({ found: true, name: "victim" });
  });

  it("answers bad input with 400 and a message, not a stack", async () => {
    const banana = await get("/api/v1/incidents?since=banana", viewerToken);
    expect(banana.status).toBe(400);
    expect(String(banana.body.message)).toMatch(/since=banana is not a duration/);
    expect((await get("/api/v1/incidents?rule=Nope", viewerToken)).status).toBe(400);
    const unknown = await get(`/api/v1/pods/${namespace}/nobody`, podViewerToken);
    expect(unknown.status).toBe(404);
  });
});

describe("the controller's /metrics: only for callers allowed get /metrics", () => {
  const scrape = async (token?: string): Promise<{ status: number; body: string; headers: Headers }> => {
    const response = await fetch(`${base}/metrics`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
    return { status: response.status, body: await response.text(), headers: response.headers };
  };

  it("refuses no token with 401, and a stranger and a viewer (whose role grants no /metrics) with 403", async () => {
    const anonymous = await scrape();
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const stranger = await scrape(strangerToken);
    expect([stranger.status, stranger.body]).toEqual([403, expect.stringContaining(`system:serviceaccount:${namespace}:stranger may not get /metrics`)]);
    expect((await scrape(viewerToken)).status).toBe(403);
  });

  it("serves the chart's scraper account, through the token Secret its ServiceMonitor and PodMonitor present", async () => {
    // The chart's metrics RBAC as `helm install` renders it with the monitors on, in this test's namespace.
    const chart = await renderChart(release, namespace, ["--set", "metrics.serviceMonitor.enabled=true"]);
    const scraper = `${release}-xander-metrics-scraper`;
    const objects = [find(chart, "ClusterRole", `${release}-xander-metrics-reader`), find(chart, "ServiceAccount", scraper), find(chart, "Secret", scraper), find(chart, "ClusterRoleBinding", scraper)];
    writeFileSync(join(dir, "metrics-rbac.json"), JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));
    try {
      expect((await kubectl(["apply", "-f", join(dir, "metrics-rbac.json")])).stderr).toBe("");
      expect(find(chart, "ServiceMonitor").spec).toMatchObject({ endpoints: [{ authorization: { type: "Bearer", credentials: { name: scraper, key: "token" } } }] });
      // The token controller fills the Secret, as in any cluster.
      const token = await poll(`the token in Secret ${scraper}`, async () => {
        const r = await kubectl(["get", "secret", scraper, "-n", namespace, "-o", "jsonpath={.data.token}"]);
        return r.code === 0 && r.stdout !== "" ? Buffer.from(r.stdout, "base64").toString("utf8") : undefined;
      }, { timeoutMs: 30_000 });
      const page = await scrape(token);
      expect(page.status).toBe(200);
      expect(page.body).toContain("xander_controller_");
    } finally {
      await kubectl(["delete", "clusterrolebinding", scraper, "--ignore-not-found"]);
      await kubectl(["delete", "clusterrole", `${release}-xander-metrics-reader`, "--ignore-not-found"]);
    }
  });
});

describe("node histories: a token goes only to the node's agent pod", () => {
  let listener: Server;
  let listenerPort = 0;
  let connections = 0;
  const podPath = () => `/api/v1/pods/${namespace}/hijacked`;

  beforeAll(async () => {
    // Whoever may write NodeFindings status points the endpoint at a listener of their own.
    listener = createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    listenerPort = (listener.address() as { port: number }).port;
    await createNode(rogueNode);
    // The node's real agent pod runs elsewhere.
    await runAgentPod({ namespace: xanderNamespace, nodeName: rogueNode, podIP: "10.245.77.7", createDaemonSet: true });
    await poll("the rogue node's NodeFindings", async () => ((await kubectl(["get", "nf", rogueNode])).code === 0 ? true : undefined), { timeoutMs: 30_000 });
    const status: NodeFindings["status"] = {
      agent: { version: "test", cgroupLayout: "v2", lastSample: iso(1000), pods: 1, samplesStored: 10, endpoint: `127.0.0.1:${listenerPort}` },
      findings: [{ rule: "CPUStarvation", severity: "warning", pod: { namespace, name: "hijacked", uid: "hijacked-uid" }, value: 0.6, threshold: 0.3, firstSeen: iso(60_000), lastSeen: iso(1000), message: "stalled 60%" }],
    };
    writeFileSync(join(dir, "rogue.json"), JSON.stringify({ status }));
    expect((await kubectl(["patch", "nodefindings", rogueNode, "--subresource=status", "--type=merge", "--patch-file", join(dir, "rogue.json")])).stderr).toBe("");
    await poll("the rogue endpoint in the controller's cache", async () => ((await get(podPath(), podViewerToken)).body.found === true ? true : undefined), { timeoutMs: 30_000 });
  }, 120_000);

  afterAll(async () => {
    await new Promise((resolve) => listener.close(resolve));
  });

  const refusal = () => new RegExp(`NodeFindings ${rogueNode}: endpoint 127\\.0\\.0\\.1:${listenerPort} is not the address of ${rogueNode}'s agent pod \\(the agent pods of DaemonSet ${xanderNamespace}/xander-agent on ${rogueNode} have 10\\.245\\.77\\.7\\); no request was sent to it`);

  it("the controller's read API reports the node unreadable, naming the endpoint, and sends it nothing", async () => {
    const pod = await get(podPath(), podViewerToken);
    expect(pod.status).toBe(200);
    const skipped = (pod.body.skipped as { node: string; reason: string }[]).find((s) => s.node === rogueNode);
    expect(skipped?.reason).toMatch(refusal());
    const report = await get(`/api/v1/report?namespace=${namespace}&since=1d`, viewerToken);
    expect((report.body.skipped as { node: string; reason: string }[]).find((s) => s.node === rogueNode)?.reason).toMatch(refusal());
    expect(connections).toBe(0);
  });

  it("`xander pod` reports it the same way, and sends the user's credential nowhere", async () => {
    const result = await runCli(["pod", `${namespace}/hijacked`, "--xander-namespace", xanderNamespace]);
    expect(result.stderr).toMatch(new RegExp(`warning: node ${rogueNode} not read: ${refusal().source}`));
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(connections).toBe(0);
  });

  it("a user who may not list the agent pods is told which permission is missing; the chart's Role grants it", async () => {
    const kubeconfig = kubeconfigForToken(podViewerToken, `pod-viewer-${suffix}`);
    const denied = await runCli(["pod", `${namespace}/hijacked`, "--xander-namespace", xanderNamespace, "--kubeconfig", kubeconfig]);
    expect(denied.stderr).toMatch(new RegExp(`node ${rogueNode} not read: cannot verify its agent's address: listing pods in namespace ${xanderNamespace} was refused \\(403\\); this needs "list pods" in ${xanderNamespace}`));

    // The chart's namespaced viewer Role, bound in Xander's namespace, is what it lacked.
    const role = find(await renderChart(release, xanderNamespace), "Role", `${release}-xander-viewer`);
    writeFileSync(join(dir, "viewer-namespace-role.json"), JSON.stringify(role));
    expect((await kubectl(["apply", "-f", join(dir, "viewer-namespace-role.json")])).code).toBe(0);
    expect((await kubectl(["create", "rolebinding", "viewer", "-n", xanderNamespace, `--role=${release}-xander-viewer`, `--serviceaccount=${namespace}:pod-viewer`])).code).toBe(0);
    const allowed = await poll(
      "the Role to take effect",
      async () => {
        const r = await runCli(["pod", `${namespace}/hijacked`, "--xander-namespace", xanderNamespace, "--kubeconfig", kubeconfig]);
        return refusal().test(r.stderr) ? r : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 500 },
    );
    expect(allowed.stderr).not.toMatch(/was refused/);
    expect(connections).toBe(0);
  });
});
