/**
 * The dashboard in a real browser (headless Chromium), over a real agent on real cgroups and the real
 * apiserver: a pod throttled by its own limit and a pod starved by a noisy neighbour. The test reads what a
 * person sees — the top risks, the culprit's name, a chart that grows while it is watched, the states that
 * say why there is nothing — from `xander dashboard` (the user's kubeconfig) and from the controller's own
 * pages, which ask for a token. Screenshots of each page go to .cluster/screenshots/.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { chromium, type Browser, type Page } from "playwright-core";
import type { CgroupLayout } from "../../src/cgroup/types.js";
import { CgroupSandbox, randomContainerId, type SandboxPod, type SandboxPodSpec } from "../../src/demo/sandbox.js";
import type { NodeFindings } from "../../src/api/types.generated.js";
import {
  createNamespace,
  createNode,
  createPod,
  deleteNamespace,
  deleteNode,
  ensureServiceAccount,
  installCrds,
  kubectl,
  mintServiceAccountToken,
  poll,
  repoRoot,
  setPodStatus,
} from "../cluster/index.js";
import { find, renderChart } from "./support/chart.js";
import { runAgentPod } from "./support/agent-pod.js";
import { requireRealCgroups } from "./support/host.js";
import { freePort, startXander, type XanderProcess } from "./support/processes.js";

const CHROMIUM = "/usr/bin/chromium-headless-shell";
const SCREENSHOTS = join(repoRoot, ".cluster", "screenshots");
const suffix = randomBytes(3).toString("hex");
const nodeName = `dash-node-${suffix}`;
const policyName = `dash-${suffix}`;
const release = `dash${suffix}`;
const controllerNamespace = `xander-dash-${suffix}`;

let layout: CgroupLayout;
let sandbox: CgroupSandbox | undefined;
let namespace = "";
let emptyNamespace = "";
let dir = "";
let controller: XanderProcess | undefined;
let agent: XanderProcess | undefined;
let dashboard: XanderProcess | undefined;
let browser: Browser | undefined;
let dashboardUrl = "";
let controllerUrl = "";
const pods = new Map<string, SandboxPod>();
/** Every URL the pages asked for: none may leave the server that served them. */
const requested: string[] = [];
const pageErrors: string[] = [];

// Strong on purpose: the test machines are shared, and the noisy pod must out-use whatever else runs there
// for it to be blamed, and the throttled pod must reach its quota however busy the CPUs are.
const plans: { name: string; spec: Omit<SandboxPodSpec, "name" | "qosClass" | "uid" | "containerId"> }[] = [
  { name: "noisy", spec: { cpuRequestCores: 4 } },
  { name: "victim", spec: { cpuRequestCores: 0.1 } },
  { name: "throttled", spec: { cpuRequestCores: 1, cpuLimitCores: 0.05 } },
];

async function nodeFindings(): Promise<NodeFindings | undefined> {
  const result = await kubectl(["get", "nodefindings", nodeName, "-o", "json"]);
  return result.code === 0 ? (JSON.parse(result.stdout) as NodeFindings) : undefined;
}

async function waitForFinding(pod: string, rule: string): Promise<void> {
  await poll(`${rule} on ${pod}`, async () => ((await nodeFindings())?.status?.findings ?? []).some((f) => f.rule === rule && f.pod?.name === pod && f.pod.namespace === namespace) || undefined, {
    timeoutMs: 90_000,
    intervalMs: 500,
  });
}

async function waitForHttp(url: string): Promise<void> {
  await poll(`${url} to answer`, async () => ((await fetch(url).catch(() => undefined))?.ok === true ? true : undefined), { timeoutMs: 30_000, intervalMs: 250 });
}

async function open(url: string): Promise<Page> {
  const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on("request", (r) => requested.push(r.url()));
  page.on("pageerror", (e) => pageErrors.push(`${url}: ${e.message}`));
  await page.goto(url);
  return page;
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

function startDashboard(args: readonly string[], log: string): XanderProcess {
  return startXander(["dashboard", "--refresh", "1s", "--xander-namespace", controllerNamespace, ...args], join(dir, log));
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`this test needs a headless Chromium at ${CHROMIUM}: apt-get install -y chromium-headless-shell fonts-liberation`);
  layout = await requireRealCgroups();
  dir = mkdtempSync(join(tmpdir(), "xander-dash-"));
  mkdirSync(SCREENSHOTS, { recursive: true });
  await installCrds(join(repoRoot, "crds"));
  await createNode(nodeName);
  namespace = await createNamespace(`dash-${suffix}`);
  emptyNamespace = await createNamespace(`dash-empty-${suffix}`);
  const policy = {
    apiVersion: "xander.io/v1alpha1",
    kind: "StarvationPolicy",
    metadata: { name: policyName },
    spec: {
      selector: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } } },
      sampling: { interval: "1s", window: "5s" },
      rules: { MemoryNearLimit: { enabled: false } },
      reporting: { heartbeat: "20s", minInterval: "1s" },
    },
  };
  writeFileSync(join(dir, "policy.json"), JSON.stringify(policy));
  expect((await kubectl(["apply", "-f", join(dir, "policy.json")])).stderr).toBe("");

  sandbox = new CgroupSandbox(layout);
  for (const [i, plan] of plans.entries()) {
    const apiPod = await createPod({ namespace, name: plan.name, nodeName, containers: [{ name: "main", resources: { requests: { cpu: "100m" } } }] });
    const containerId = randomContainerId();
    pods.set(plan.name, sandbox.addPod({ name: plan.name, qosClass: "burstable", uid: apiPod.metadata?.uid ?? "", containerId, ...plan.spec }));
    await setPodStatus(namespace, plan.name, { phase: "Running", podIP: `10.246.0.${i + 10}`, containerStatuses: [{ name: "main", containerID: `containerd://${containerId}`, ready: true, restartCount: 0 }] });
  }
  const controllerPort = await freePort();
  controllerUrl = `http://127.0.0.1:${controllerPort}`;
  controller = startXander(["controller", "--namespace", controllerNamespace, "--metrics-addr", `127.0.0.1:${controllerPort}`, "--no-leader-elect"], join(dir, "controller.log"));
  const agentPort = await freePort();
  agent = startXander(["agent", "--node", nodeName, "--db", join(dir, "agent.db"), "--metrics-addr", `127.0.0.1:${agentPort}`, "--advertise-address", `127.0.0.1:${agentPort}`], join(dir, "agent.log"));
  await poll("the agent's first report", async () => ((await nodeFindings())?.status?.agent?.pods === plans.length ? true : undefined), { timeoutMs: 60_000, intervalMs: 500 });
  // The agent's pod, as the DaemonSet would run it: readers send tokens only to its address.
  await runAgentPod({ namespace: controllerNamespace, nodeName, podIP: "127.0.0.1" });

  const dashboardPort = await freePort();
  dashboardUrl = `http://127.0.0.1:${dashboardPort}`;
  dashboard = startDashboard(["--port", String(dashboardPort)], "dashboard.log");
  await waitForHttp(`${dashboardUrl}/`);
  await waitForHttp(`${controllerUrl}/readyz`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"] });

  sandbox.burn(pods.get("noisy")!, 4);
  sandbox.burn(pods.get("victim")!, 1);
  sandbox.burn(pods.get("throttled")!, 1);
  await waitForFinding("throttled", "CPUThrottling");
  await waitForFinding("victim", "CPUStarvation");
}, 240_000);

afterAll(async () => {
  await browser?.close();
  const failures = (await sandbox?.cleanup()) ?? [];
  await dashboard?.stop();
  await agent?.stop();
  await controller?.stop();
  await kubectl(["delete", "starvationpolicy", policyName, "--ignore-not-found"]);
  await kubectl(["delete", "clusterrolebinding", `${release}-viewer`, "--ignore-not-found"]);
  await kubectl(["delete", "clusterrole", `${release}-xander-viewer`, "--ignore-not-found"]);
  for (const ns of [namespace, emptyNamespace]) if (ns) await deleteNamespace(ns);
  await kubectl(["delete", "namespace", controllerNamespace, "--ignore-not-found", "--wait=false"]);
  await deleteNode(nodeName);
  if (process.env.XANDER_KEEP_LOGS === undefined) rmSync(dir, { recursive: true, force: true });
  expect(failures).toEqual([]);
}, 120_000);

describe("the dashboard in a real browser, over real cgroups and the real apiserver", () => {
  it("shows the throttled pod among the top risks, and the starved pod with its culprit named", async () => {
    const page = await open(`${dashboardUrl}/?namespace=${namespace}`);
    const throttled = page.locator(`#top-risks tr[data-pod="${namespace}/throttled"][data-rule="CPUThrottling"]`);
    await throttled.waitFor({ timeout: 30_000 });
    const starved = page.locator(`#top-risks tr[data-pod="${namespace}/victim"][data-rule="CPUStarvation"]`);
    await starved.waitFor({ timeout: 30_000 });
    expect(await starved.locator(".culprit").innerText()).toContain(`${namespace}/noisy`);
    await page.locator("#incidents-24h svg.timeline").waitFor({ timeout: 30_000 });
    await screenshot(page, "overview");
    await page.close();
  });

  it("names the culprit on the starved pod's page and charts the culprit's CPU beside the victim's stall", async () => {
    const page = await open(`${dashboardUrl}/pods/${namespace}/victim`);
    await page.locator("#culprit-name").waitFor({ timeout: 30_000 });
    expect(await page.locator("#culprit-name").innerText()).toBe(`${namespace}/noisy`);
    await poll("the culprit chart's points", async () => (Number(await page.locator("#culprit [data-chart]").getAttribute("data-points")) > 5 ? true : undefined), { timeoutMs: 30_000 });
    await screenshot(page, "pod-victim");
    await page.close();
  });

  it("draws the throttled pod's series and adds points while the page is watched, without a reload", async () => {
    const page = await open(`${dashboardUrl}/pods/${namespace}/throttled`);
    const chart = page.locator('[data-chart^="CPU: cores used"]');
    await chart.waitFor({ timeout: 30_000 });
    // Evaluated in the page (a string: this file is type-checked without the DOM library).
    const count = (): Promise<{ points: number; updates: number }> =>
      page.evaluate(`(() => { const el = document.querySelector('[data-chart^="CPU: cores used"]'); return { points: Number(el.dataset.points), updates: Number(el.dataset.updates) }; })()`);
    // The first read is the hour (minute rollups for a span that long); the stream then adds raw samples.
    const before = await poll("raw samples on the CPU chart", async () => {
      const now = await count();
      return now.points > 5 ? now : undefined;
    }, { timeoutMs: 30_000, intervalMs: 250 });
    const after = await poll("more points on the CPU chart", async () => {
      const now = await count();
      return now.points > before.points && now.updates > before.updates ? now : undefined;
    }, { timeoutMs: 30_000, intervalMs: 500 });
    expect(after.points).toBeGreaterThan(before.points);
    // The advice and the incident the pod is in.
    await page.locator('#advice tr[data-change]').first().waitFor({ timeout: 10_000 });
    expect(await page.locator('#open-findings tr[data-rule="CPUThrottling"]').count()).toBe(1);
    await screenshot(page, "pod-throttled");
    await page.close();
  });

  it("lists incidents by filter, each linking to its pod", async () => {
    const page = await open(`${dashboardUrl}/incidents?namespace=${namespace}&rule=CPUThrottling&since=1h`);
    const row = page.locator(`#incident-list tr[data-pod="${namespace}/throttled"]`).first();
    await row.waitFor({ timeout: 30_000 });
    expect(await row.locator("a").first().getAttribute("href")).toBe(`/pods/${namespace}/throttled`);
    expect(await page.locator('#incident-list tr[data-rule="CPUStarvation"]').count()).toBe(0);
    await screenshot(page, "incidents");
    await page.goto(`${dashboardUrl}/dependencies?namespace=${namespace}`);
    await page.locator("h1").waitFor();
    await page.locator("#graph, [data-state]").first().waitFor({ timeout: 30_000 });
    await screenshot(page, "dependencies");
    await page.close();
  });

  it("says why there is nothing: no policy selects the namespace, or the API cannot be reached", async () => {
    const page = await open(`${dashboardUrl}/?namespace=${emptyNamespace}`);
    const state = page.locator('[data-state="empty"]', { hasText: `No StarvationPolicy selects namespace ${emptyNamespace}` });
    await state.waitFor({ timeout: 30_000 });
    await screenshot(page, "empty-namespace");
    await page.close();

    const closed = await freePort();
    writeFileSync(
      join(dir, "unreachable.kubeconfig"),
      JSON.stringify({ apiVersion: "v1", kind: "Config", clusters: [{ name: "c", cluster: { server: `https://127.0.0.1:${closed}` } }], users: [{ name: "u", user: { token: "x" } }], contexts: [{ name: "x", context: { cluster: "c", user: "u" } }], "current-context": "x" }),
    );
    const port = await freePort();
    const offline = startDashboard(["--port", String(port), "--kubeconfig", join(dir, "unreachable.kubeconfig")], "offline.log");
    try {
      await waitForHttp(`http://127.0.0.1:${port}/`);
      const broken = await open(`http://127.0.0.1:${port}/`);
      await broken.locator('[data-state="broken"]', { hasText: "Cannot reach the Kubernetes API" }).waitFor({ timeout: 30_000 });
      expect(await broken.locator('[data-state="broken"]').innerText()).toContain(`127.0.0.1:${closed}`);
      await screenshot(broken, "api-unreachable");
      await broken.close();
    } finally {
      await offline.stop();
    }
  });

  it("serves the controller's pages without a token but asks for one before any data, and shows the data once given", async () => {
    const page = await open(`${controllerUrl}/`);
    await page.locator('[data-state="needs-token"]').waitFor({ timeout: 15_000 });
    await screenshot(page, "needs-token");
    expect((await fetch(`${controllerUrl}/api/v1/summary`)).status).toBe(401);

    const viewerRole = find(await renderChart(release, namespace), "ClusterRole", `${release}-xander-viewer`);
    writeFileSync(join(dir, "viewer-role.json"), JSON.stringify(viewerRole));
    expect((await kubectl(["apply", "-f", join(dir, "viewer-role.json")])).code).toBe(0);
    for (const sa of ["viewer", "stranger"]) await ensureServiceAccount(namespace, sa);
    expect((await kubectl(["create", "clusterrolebinding", `${release}-viewer`, `--clusterrole=${release}-xander-viewer`, `--serviceaccount=${namespace}:viewer`])).code).toBe(0);

    await page.locator("textarea[name=token]").fill(await mintServiceAccountToken(namespace, "stranger"));
    await page.locator("form.token button[type=submit]").click();
    await page.locator('[data-state="broken"]', { hasText: "Not allowed (403)" }).waitFor({ timeout: 15_000 });

    await page.locator("#signout").click();
    await page.locator("textarea[name=token]").fill(await mintServiceAccountToken(namespace, "viewer"));
    await page.locator("form.token button[type=submit]").click();
    await page.locator(`#top-risks tr[data-pod="${namespace}/throttled"]`).waitFor({ timeout: 30_000 });
    await screenshot(page, "controller-overview");
    await page.close();
  });

  it("loads nothing from anywhere but the server that serves the page, and no page threw", () => {
    expect(pageErrors).toEqual([]);
    const foreign = requested.filter((url) => !url.startsWith("http://127.0.0.1:"));
    expect(foreign).toEqual([]);
    expect(requested.length).toBeGreaterThan(10);
  });
});
