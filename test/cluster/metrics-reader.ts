// A scraper's identity for the tests that read /metrics, which Xander serves only to callers allowed
// `get` on the non-resource URL /metrics (the chart grants it with its metrics-reader ClusterRole).
import { ensureServiceAccount, mintServiceAccountToken, serverSideApply } from "./helpers.js";

const NAMESPACE = "default";
const SCRAPER = "xander-test-scraper";
const ROLE = "xander-test-metrics-reader";

let token: Promise<string> | undefined;

async function grantAndMint(): Promise<string> {
  await ensureServiceAccount(NAMESPACE, SCRAPER);
  await serverSideApply({
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name: ROLE },
    rules: [{ nonResourceURLs: ["/metrics"], verbs: ["get"] }],
  });
  await serverSideApply({
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name: ROLE },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: ROLE },
    subjects: [{ kind: "ServiceAccount", namespace: NAMESPACE, name: SCRAPER }],
  });
  return mintServiceAccountToken(NAMESPACE, SCRAPER);
}

/** A bearer token allowed to read /metrics; made once per test file. */
export function metricsReaderToken(): Promise<string> {
  token ??= grantAndMint().catch((error: unknown) => {
    token = undefined;
    throw error;
  });
  return token;
}

/** GET /metrics as the scraper; throws with the status and body when refused, so a test says why. */
export async function scrapeMetrics(base: string): Promise<string> {
  const response = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${await metricsReaderToken()}` } });
  const body = await response.text();
  if (!response.ok) throw new Error(`GET ${base}/metrics: ${response.status} ${body.trim()}`);
  return body;
}
