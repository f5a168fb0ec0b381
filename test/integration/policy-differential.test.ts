// Policy validation, differential: thousands of random StarvationPolicies, valid and invalid near every
// bound of the schema, go to the real apiserver (a dry-run create with strict field validation, as
// `kubectl apply` sends) and to validatePolicy. Both must accept or reject each one alike. The policies
// come from a fixed seed, so a disagreement reproduces; each one fixed is kept in BOUNDARY_POLICIES.
import { join } from "node:path";
import { CustomObjectsApi } from "@kubernetes/client-node";
import fc from "fast-check";
import { BOUNDARY_POLICIES } from "../../src/api/testdata/boundary-policies.js";
import { formatFieldErrors, validatePolicy } from "../../src/api/validate.js";
import { installCrds, loadKubeConfig, repoRoot, statusOf, TEST_FIELD_MANAGER } from "../cluster/index.js";
import { policyBody } from "./support/policy-arbitrary.js";

const SEED = 20261202;
const POLICIES = 2400;
/** Dry-run requests in flight at once. */
const CONCURRENCY = 16;

interface Verdict {
  readonly accepted: boolean;
  readonly why: string;
}

let api: CustomObjectsApi;

beforeAll(async () => {
  await installCrds(join(repoRoot, "crds"));
  api = loadKubeConfig().makeApiClient(CustomObjectsApi);
}, 120_000);

function withName(body: Readonly<Record<string, unknown>>, name: string): Record<string, unknown> {
  return { ...body, metadata: { name } };
}

/** The apiserver's answer: a 400 or 422 is a rejection; anything else that fails is the test's problem. */
async function apiserver(body: Record<string, unknown>): Promise<Verdict> {
  try {
    await api.createClusterCustomObject({ group: "xander.io", version: "v1alpha1", plural: "starvationpolicies", body, dryRun: "All", fieldValidation: "Strict", fieldManager: TEST_FIELD_MANAGER });
    return { accepted: true, why: "" };
  } catch (e) {
    const code = statusOf(e);
    if (code !== 400 && code !== 422) throw e;
    const raw = (e as { body?: unknown }).body;
    const parsed = typeof raw === "string" ? (JSON.parse(raw) as { message?: string }) : undefined;
    return { accepted: false, why: parsed?.message ?? String(raw) };
  }
}

function local(body: Record<string, unknown>): Verdict {
  const r = validatePolicy(body);
  return r.ok ? { accepted: true, why: "" } : { accepted: false, why: formatFieldErrors(r.error) };
}

/** Runs `f` over `items`, `limit` at a time. */
async function pool<T, R>(items: readonly T[], limit: number, f: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return out;
}

describe("StarvationPolicy validation: the apiserver and validatePolicy agree", () => {
  test.each(BOUNDARY_POLICIES.map((c) => [c.name, c] as const))("%s: both give the recorded verdict", async (_name, c) => {
    const body = withName(c.body, `boundary-${c.name}`);
    expect({ apiserver: (await apiserver(body)).accepted, local: local(body).accepted }).toEqual({ apiserver: c.accepted, local: c.accepted });
  }, 30_000);

  test(`${POLICIES} random policies from seed ${SEED} get the same verdict from both`, async () => {
    const bodies = fc.sample(policyBody, { seed: SEED, numRuns: POLICIES }).map((b, i) => withName(b, `differential-${i}`));
    const started = performance.now();
    const results = await pool(bodies, CONCURRENCY, async (body) => ({ body, server: await apiserver(body), local: local(body) }));
    const seconds = (performance.now() - started) / 1000;
    const accepted = results.filter((r) => r.server.accepted).length;
    const disagreements = results.filter((r) => r.server.accepted !== r.local.accepted);
    process.stdout.write(`policy differential: ${results.length} policies, ${accepted} accepted, ${results.length - accepted} rejected by the apiserver, ${disagreements.length} disagreements, ${seconds.toFixed(1)} s\n`);
    expect(results.length).toBeGreaterThanOrEqual(2000);
    // Both verdicts must be well represented, or the comparison says little.
    expect(accepted).toBeGreaterThan(POLICIES / 5);
    expect(results.length - accepted).toBeGreaterThan(POLICIES / 5);
    expect(disagreements.slice(0, 40).map((d) => ({ spec: JSON.stringify(d.body.spec), apiserver: d.server, xander: d.local }))).toEqual([]);
  }, 300_000);
});
