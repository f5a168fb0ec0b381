// PolicyReports on the real apiserver: `xander controller` as a real process, first without the PolicyReport
// CRD (nothing written, the policy's condition says why, the controller keeps running), then with the CRD
// from the Policy WG's prototype installed (test/fixtures/policy-report): one report per namespace, results
// cleared with their findings, the report deleted with the namespace's last finding.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NodeFinding, NodeFindings, StarvationPolicy } from "../../src/api/types.generated.js";
import type { PolicyReport } from "../../src/controller/policy-reports.js";
import { KubeClient } from "../../src/kube/client.js";
import { applyNodeFindingsStatus } from "../../src/kube/xander.js";
import { createNamespace, createNode, deleteNamespace, deleteNode, installCrds, kubectl, poll, repoRoot } from "../cluster/index.js";
import { freePort, startXander, type XanderProcess } from "./support/processes.js";

const suffix = randomBytes(3).toString("hex");
const controllerNamespace = `xander-pr-${suffix}`;
const node = `pr-node-${suffix}`;
const reportedPolicy = `pr-on-${suffix}`;
const silentPolicy = `pr-off-${suffix}`;
const shop = `pr-shop-${suffix}`;
const db = `pr-db-${suffix}`;
const quiet = `pr-quiet-${suffix}`;
const CRD = "policyreports.wgpolicyk8s.io";
const FIXTURE = join(repoRoot, "test/fixtures/policy-report");

let dir: string;
let controller: XanderProcess;
let port: number;
let client: KubeClient;

async function getJson<T>(args: string[]): Promise<T | undefined> {
  const r = await kubectl(["get", ...args, "-o", "json"]);
  return r.code === 0 ? (JSON.parse(r.stdout) as T) : undefined;
}

const policy = (name: string) => getJson<StarvationPolicy>(["starvationpolicy", name]);
const report = (namespace: string) => getJson<PolicyReport>(["policyreports.wgpolicyk8s.io", "xander", "-n", namespace]);
const reportsCondition = (p: StarvationPolicy | undefined) => p?.status?.conditions?.find((c) => c.type === "PolicyReports");

async function applyPolicy(name: string, policyReports: boolean): Promise<void> {
  const spec = { reporting: { heartbeat: "20s", policyReports } };
  const r = await kubectl(["apply", "-f", "-"], { input: JSON.stringify({ apiVersion: "xander.io/v1alpha1", kind: "StarvationPolicy", metadata: { name }, spec }) });
  expect(r.stderr).toBe("");
}

function finding(namespace: string, pod: string, over: Partial<NodeFinding> = {}): NodeFinding {
  const now = new Date().toISOString();
  return {
    rule: "CPUThrottling",
    severity: "warning",
    policy: reportedPolicy,
    pod: { namespace, name: pod, uid: `uid-${pod}` },
    container: "app",
    value: 0.6,
    threshold: 0.25,
    window: "10s",
    firstSeen: "2025-06-01T11:59:00Z",
    lastSeen: now,
    message: `${pod} throttled in 60% of CFS periods`,
    ...over,
  };
}

/** Writes the node's findings as its agent would (fresh lastSample, so the node counts as reporting). */
async function reportFindings(findings: NodeFinding[]): Promise<void> {
  const now = new Date().toISOString();
  await applyNodeFindingsStatus(client, node, { agent: { version: "test", cgroupLayout: "v2", lastSample: now, pods: 4, samplesStored: 1 }, findings });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "xander-policy-reports-"));
  await installCrds(join(repoRoot, "crds"));
  // Another run may have left the CRD behind; this suite starts without it.
  expect((await kubectl(["delete", "crd", CRD, "--ignore-not-found", "--wait=true"])).code).toBe(0);
  client = KubeClient.fromDefault();
  for (const ns of [shop, db, quiet]) await createNamespace(ns);
  await createNode(node);
  port = await freePort();
  controller = startXander(
    ["controller", "--namespace", controllerNamespace, "--metrics-addr", `127.0.0.1:${port}`, "--resync", "5s", "--lease-duration", "4s", "--agent-image", `registry.example/xander:it-${suffix}`],
    join(dir, "controller.log"),
  );
  await poll("the controller's /readyz", async () => ((await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200 ? true : undefined), { timeoutMs: 60_000, intervalMs: 250 });
  await applyPolicy(reportedPolicy, true);
  await applyPolicy(silentPolicy, false);
  await poll(`NodeFindings ${node}`, () => getJson<NodeFindings>(["nodefindings", node]), { timeoutMs: 20_000 });
}, 120_000);

afterAll(async () => {
  const code = await controller.stop();
  await kubectl(["delete", "starvationpolicy", reportedPolicy, silentPolicy, "--ignore-not-found"]);
  await deleteNode(node);
  for (const ns of [shop, db, quiet, controllerNamespace]) await deleteNamespace(ns);
  await kubectl(["delete", "crd", CRD, "--ignore-not-found", "--wait=false"]);
  if (process.env.XANDER_KEEP_LOGS === undefined) rmSync(dir, { recursive: true, force: true });
  expect(code).toBe(0); // SIGTERM: a clean shutdown
}, 60_000);

describe("without the PolicyReport CRD", () => {
  test("nothing is written; the policy that asks for reports says why, at its generation, and the controller keeps running", async () => {
    await reportFindings([finding(shop, "web")]);
    const p = await poll("the PolicyReports condition", async () => {
      const got = await policy(reportedPolicy);
      // Ready waits for the agent DaemonSet, which the controller may apply after it first writes this condition.
      const ready = got?.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
      return reportsCondition(got)?.reason === "CRDNotInstalled" && ready ? got : undefined;
    }, { timeoutMs: 30_000 });
    expect(reportsCondition(p)).toMatchObject({ status: "False", reason: "CRDNotInstalled", observedGeneration: p.metadata.generation });
    expect(reportsCondition(p)?.message).toContain(CRD);
    expect(p.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
    // The policy that did not ask has no such condition.
    expect(reportsCondition(await policy(silentPolicy))).toBeUndefined();
    // Nothing could have been created: the API has no such group, and the controller did not try.
    expect((await kubectl(["get", "--raw", "/apis/wgpolicyk8s.io/v1alpha2"])).code).not.toBe(0);
    expect(controller.log()).toContain("is not installed; writing no PolicyReports");
    expect(controller.log()).not.toContain("created PolicyReport");
    // Still running, still answering, and still reconciling (a later reconcile looks again).
    await new Promise((resolve) => setTimeout(resolve, 6000));
    expect(controller.child.exitCode).toBeNull();
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect(reportsCondition(await policy(reportedPolicy))?.reason).toBe("CRDNotInstalled");
  }, 60_000);
});

describe("with the PolicyReport CRD", () => {
  beforeAll(async () => {
    await installCrds(FIXTURE);
  }, 60_000);

  test("installed later, the CRD is found again without a restart, and the condition turns True", async () => {
    const p = await poll("PolicyReports True", async () => {
      const got = await policy(reportedPolicy);
      return reportsCondition(got)?.status === "True" ? got : undefined;
    }, { timeoutMs: 30_000 });
    expect(reportsCondition(p)).toMatchObject({ reason: "Reporting", observedGeneration: p.metadata.generation });
  }, 60_000);

  test("findings in two namespaces make two reports with their results and summaries; a policy without the flag makes none", async () => {
    const culprit = { namespace: quiet, name: "miner", uid: "uid-miner", score: 0.9 };
    await reportFindings([
      finding(shop, "web"),
      finding(shop, "cart", { rule: "CPUStarvation", severity: "critical", value: 0.5, threshold: 0.3, culprit }),
      finding(db, "pg-0", { rule: "OOMKill", severity: "critical", value: 1, threshold: 1, container: "postgres" }),
      finding(quiet, "batch", { policy: silentPolicy }),
    ]);
    const shopReport = await poll(`PolicyReport ${shop}/xander with 2 results`, async () => ((await report(shop))?.results?.length === 2 ? report(shop) : undefined), { timeoutMs: 30_000 });
    expect(shopReport.metadata.labels?.["app.kubernetes.io/managed-by"]).toBe("xander");
    expect(shopReport.metadata.ownerReferences?.map((o) => [o.kind, o.name])).toEqual([["StarvationPolicy", reportedPolicy]]);
    expect(shopReport.summary).toEqual({ pass: 0, fail: 1, warn: 1, error: 0, skip: 0 });
    const [cart, web] = shopReport.results ?? [];
    expect(cart).toMatchObject({
      source: "xander",
      policy: reportedPolicy,
      rule: "CPUStarvation",
      result: "fail",
      severity: "high",
      resources: [{ apiVersion: "v1", kind: "Pod", namespace: shop, name: "cart", uid: "uid-cart" }],
      message: "cart throttled in 60% of CFS periods",
      properties: { node, container: "app", value: "0.5", threshold: "0.3", culprit: `${quiet}/miner`, culpritScore: "0.9" },
      timestamp: { seconds: Date.parse("2025-06-01T11:59:00Z") / 1000, nanos: 0 },
    });
    expect(web).toMatchObject({ rule: "CPUThrottling", result: "warn", severity: "medium", resources: [expect.objectContaining({ name: "web" })] });

    const dbReport = await poll(`PolicyReport ${db}/xander`, () => report(db), { timeoutMs: 10_000 });
    expect(dbReport.summary).toEqual({ pass: 0, fail: 1, warn: 0, error: 0, skip: 0 });
    expect(dbReport.results?.[0]).toMatchObject({ rule: "OOMKill", properties: expect.objectContaining({ container: "postgres" }) as unknown });
    // The silent policy's finding made no report in its namespace; kubectl sees the reports as the CRD prints them.
    expect(await report(quiet)).toBeUndefined();
    const table = (await kubectl(["get", "polr", "xander", "-n", shop])).stdout;
    expect(table).toMatch(/^NAME\s+PASS\s+FAIL\s+WARN\s+ERROR\s+SKIP\s+AGE\nxander\s+0\s+1\s+1\s+0\s+0\s+/);
  }, 60_000);

  test("a finding that clears takes its result with it; the namespace's last one takes the report", async () => {
    await reportFindings([finding(shop, "web"), finding(db, "pg-0", { rule: "OOMKill", severity: "critical", value: 1, threshold: 1 })]);
    const shopReport = await poll("the cart result gone", async () => {
      const r = await report(shop);
      return r?.results?.length === 1 ? r : undefined;
    }, { timeoutMs: 30_000 });
    expect(shopReport.results?.[0]?.resources[0]?.name).toBe("web");
    expect(shopReport.summary).toEqual({ pass: 0, fail: 0, warn: 1, error: 0, skip: 0 });

    await reportFindings([finding(db, "pg-0", { rule: "OOMKill", severity: "critical", value: 1, threshold: 1 })]);
    await poll(`PolicyReport ${shop}/xander deleted`, async () => ((await report(shop)) === undefined ? true : undefined), { timeoutMs: 30_000 });
    expect(controller.log()).toContain(`"namespace":"${shop}","msg":"deleted PolicyReport: no open findings left"`);
    expect((await report(db))?.results).toHaveLength(1);

    await reportFindings([]);
    await poll(`PolicyReport ${db}/xander deleted`, async () => ((await report(db)) === undefined ? true : undefined), { timeoutMs: 30_000 });
  }, 90_000);

  test("a report deleted by hand comes back at the next resync while its finding is open", async () => {
    await reportFindings([finding(db, "pg-0")]);
    const first = await poll(`PolicyReport ${db}/xander`, () => report(db), { timeoutMs: 30_000 });
    expect((await kubectl(["delete", "policyreports.wgpolicyk8s.io", "xander", "-n", db])).code).toBe(0);
    const again = await poll("the report put back", async () => {
      const r = await report(db);
      return r !== undefined && r.metadata.uid !== first.metadata.uid ? r : undefined;
    }, { timeoutMs: 30_000 });
    expect(again.results?.[0]?.resources[0]?.name).toBe("pg-0");
    await reportFindings([]);
    await poll(`PolicyReport ${db}/xander deleted`, async () => ((await report(db)) === undefined ? true : undefined), { timeoutMs: 30_000 });
  }, 90_000);
});
