// The CRDs against the real kube-apiserver (v1.34): structural schemas with CEL that compile within the
// cost budget, examples that apply and default exactly as the in-process validator does, invalid policies
// rejected with field-level messages, and printer columns as kubectl shows them.
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import type { NodeFindings, StarvationPolicy } from "../../src/api/types.generated.js";
import { INVALID_POLICIES } from "../../src/api/testdata/invalid-policies.js";
import { validatePolicy } from "../../src/api/validate.js";
import { KubeClient } from "../../src/kube/client.js";
import { applyNodeFindingsStatus } from "../../src/kube/xander.js";
import { installCrds, kubectl, repoRoot } from "../cluster/index.js";

const suffix = randomBytes(3).toString("hex");
const examplesDir = join(repoRoot, "examples");
const examples = readdirSync(examplesDir).filter((f) => f.endsWith(".yaml")).sort();
const created: string[][] = [];

/** kubectl's table output as rows of cells (columns are separated by two or more spaces). */
function table(stdout: string): string[][] {
  return stdout
    .trim()
    .split("\n")
    .map((line) => line.trim().split(/\s{2,}/));
}

function policyDoc(name: string, spec: Record<string, unknown>): string {
  return JSON.stringify({ apiVersion: "xander.io/v1alpha1", kind: "StarvationPolicy", metadata: { name }, spec });
}

let client: KubeClient;

beforeAll(async () => {
  await installCrds(join(repoRoot, "crds"));
  client = KubeClient.fromDefault();
}, 120_000);

afterAll(async () => {
  for (const args of created) await kubectl(["delete", ...args, "--ignore-not-found", "--wait=false"]);
}, 60_000);

describe("CRDs on the real apiserver", () => {
  test("both CRDs are established with accepted names and no structural-schema problems", async () => {
    for (const name of ["starvationpolicies.xander.io", "nodefindings.xander.io"]) {
      const crd = JSON.parse((await kubectl(["get", "crd", name, "-o", "json"])).stdout) as { status: { conditions: { type: string; status: string }[] } };
      const conditions = Object.fromEntries(crd.status.conditions.map((c) => [c.type, c.status]));
      expect(conditions).toMatchObject({ Established: "True", NamesAccepted: "True" });
      expect(conditions).not.toHaveProperty("NonStructuralSchema");
    }
  }, 30_000);

  test("kubectl explain shows the schema's documentation", async () => {
    const explained = await kubectl(["explain", "starvationpolicy.spec.sampling.interval"]);
    expect(explained.code).toBe(0);
    expect(explained.stdout).toContain("Time between two samples of every cgroup.");
  }, 30_000);

  test.each(examples)("kubectl apply of examples/%s succeeds, and the apiserver defaults it exactly as validatePolicy does", async (file) => {
    const doc = parse(readFileSync(join(examplesDir, file), "utf8")) as StarvationPolicy;
    const name = doc.metadata.name ?? "";
    created.push(["starvationpolicy", name]);
    const applied = await kubectl(["apply", "-f", join(examplesDir, file)]);
    expect(applied.stderr).toBe("");
    expect(applied.code).toBe(0);
    const stored = JSON.parse((await kubectl(["get", "starvationpolicy", name, "-o", "json"])).stdout) as StarvationPolicy;
    const local = validatePolicy(doc);
    expect(local.ok).toBe(true);
    if (local.ok) expect(stored.spec).toEqual(local.value.spec);
  }, 30_000);

  test(`at least 10 invalid policies are covered (${INVALID_POLICIES.length})`, () => {
    expect(INVALID_POLICIES.length).toBeGreaterThanOrEqual(10);
  }, 30_000);

  test.each(INVALID_POLICIES.map((c) => [c.name, c] as const))("kubectl apply rejects %s, naming the field and why", async (_name, c) => {
    const name = `invalid-${c.name}-${suffix}`;
    created.push(["starvationpolicy", name]);
    const result = await kubectl(["apply", "-f", "-"], { input: policyDoc(name, c.spec) });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(c.field);
    expect(result.stderr).toContain(c.message);
    // ...and the same field and words come out of the in-process validator
    const local = validatePolicy(JSON.parse(policyDoc(name, c.spec)));
    expect(local.ok ? [] : local.error.filter((e) => e.field === c.field && `${e.field}: ${e.message}`.includes(c.message))).toHaveLength(1);
    expect((await kubectl(["get", "starvationpolicy", name])).code).not.toBe(0);
  }, 30_000);

  test("kubectl get sp shows Ready, Nodes, Critical, Warning and Age from the status", async () => {
    const name = `columns-${suffix}`;
    created.push(["starvationpolicy", name]);
    expect((await kubectl(["apply", "-f", "-"], { input: policyDoc(name, {}) })).code).toBe(0);
    const now = new Date().toISOString();
    await client.applyStatus(
      {
        apiVersion: "xander.io/v1alpha1",
        kind: "StarvationPolicy",
        metadata: { name },
        status: {
          observedGeneration: 1,
          conditions: [
            { type: "Ready", status: "True", reason: "AgentConfigured", message: "", lastTransitionTime: now, observedGeneration: 1 },
            { type: "Degraded", status: "False", reason: "AsExpected", message: "", lastTransitionTime: now, observedGeneration: 1 },
          ],
          nodes: { desired: 4, reporting: 3, stale: 1 },
          findings: { critical: 1, warning: 2 },
        },
      },
      { fieldManager: "xander-tests" },
    );
    const rows = table((await kubectl(["get", "sp", name])).stdout);
    expect(rows[0]).toEqual(["NAME", "READY", "NODES", "CRITICAL", "WARNING", "AGE"]);
    expect(rows[1]?.slice(0, 5)).toEqual([name, "True", "3", "1", "2"]);
    expect(rows[1]?.[5]).toMatch(/^\d+s$/);
    // the short name and the category resolve too
    expect((await kubectl(["get", "xander", "-o", "name"])).stdout).toContain(`starvationpolicy.xander.io/${name}`);
  }, 30_000);

  test("kubectl get nf shows Critical, Warning, Top Risk, Last Sample and Age from the agent's status", async () => {
    const name = `columns-node-${suffix}`;
    created.push(["nodefindings", name]);
    const nf: NodeFindings = { apiVersion: "xander.io/v1alpha1", kind: "NodeFindings", metadata: { name }, spec: { nodeName: name } };
    expect((await kubectl(["apply", "-f", "-"], { input: JSON.stringify(nf) })).code).toBe(0);
    const lastSample = new Date(Date.now() - 30_000).toISOString();
    // the agent's own write path: server-side apply of /status as xander-agent
    await applyNodeFindingsStatus(client, name, {
      agent: { version: "0.1.0", cgroupLayout: "v2", lastSample, pods: 3, samplesStored: 10 },
      findings: [
        {
          rule: "OOMKill",
          severity: "critical",
          policy: "default",
          pod: { namespace: "shop", name: "cart", uid: "u1" },
          value: 1,
          threshold: 1,
          firstSeen: lastSample,
          lastSeen: lastSample,
          message: "OOM-killed once",
        },
      ],
      summary: { critical: 1, warning: 2, topRisk: "OOMKill shop/cart" },
    });
    const rows = table((await kubectl(["get", "nf", name])).stdout);
    expect(rows[0]).toEqual(["NAME", "CRITICAL", "WARNING", "TOP RISK", "LAST SAMPLE", "AGE"]);
    expect(rows[1]?.slice(0, 4)).toEqual([name, "1", "2", "OOMKill shop/cart"]);
    expect(rows[1]?.[4]).toMatch(/^(2\d|3\d)s$/);
    const managers = (await kubectl(["get", "nf", name, "--show-managed-fields", "-o", "jsonpath={.metadata.managedFields[*].manager}"])).stdout;
    expect(managers.split(" ")).toContain("xander-agent");
  }, 30_000);

  test("NodeFindings: spec.nodeName must equal the name and cannot change", async () => {
    const name = `immutable-${suffix}`;
    created.push(["nodefindings", name]);
    const mismatch = await kubectl(["apply", "-f", "-"], { input: JSON.stringify({ apiVersion: "xander.io/v1alpha1", kind: "NodeFindings", metadata: { name }, spec: { nodeName: "other" } }) });
    expect(mismatch.code).not.toBe(0);
    expect(mismatch.stderr).toContain("spec.nodeName");
    expect(mismatch.stderr).toContain("nodeName must equal metadata.name");
    expect((await kubectl(["apply", "-f", "-"], { input: JSON.stringify({ apiVersion: "xander.io/v1alpha1", kind: "NodeFindings", metadata: { name }, spec: { nodeName: name } }) })).code).toBe(0);
    const changed = await kubectl(["patch", "nf", name, "--type=merge", "-p", '{"spec":{"nodeName":"moved"}}']);
    expect(changed.code).not.toBe(0);
    expect(changed.stderr).toContain("nodeName is immutable");
  }, 30_000);

  test("NodeFindings status is bounded: 201 findings are rejected", async () => {
    const name = `bounded-${suffix}`;
    created.push(["nodefindings", name]);
    await kubectl(["apply", "-f", "-"], { input: JSON.stringify({ apiVersion: "xander.io/v1alpha1", kind: "NodeFindings", metadata: { name }, spec: { nodeName: name } }) });
    const t = new Date().toISOString();
    const finding = { rule: "CPUThrottling" as const, severity: "warning" as const, value: 0.5, threshold: 0.25, firstSeen: t, lastSeen: t, message: "throttled" };
    await expect(applyNodeFindingsStatus(client, name, { findings: Array.from({ length: 201 }, () => finding) })).rejects.toThrow(/status.findings: Too many: 201: must have at most 200 items/);
  }, 30_000);
});
