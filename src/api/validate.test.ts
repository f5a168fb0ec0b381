import { readdirSync, readFileSync } from "node:fs";
import { parse } from "yaml";
import { RULE_NAMES } from "../analysis/types.js";
import { effectivePolicy } from "./policy.js";
import { celCheck, nodeFindingsSchema, RULE_DEFAULTS, starvationPolicySchema, type JsonSchema } from "./schema.js";
import { BOUNDARY_POLICIES } from "./testdata/boundary-policies.js";
import { INVALID_POLICIES } from "./testdata/invalid-policies.js";
import { fieldOf, formatFieldErrors, validateNodeFindings, validatePolicy } from "./validate.js";

const examplesDir = new URL("../../examples/", import.meta.url);

function policy(name: string, spec: Record<string, unknown>): unknown {
  return { apiVersion: "xander.io/v1alpha1", kind: "StarvationPolicy", metadata: { name }, spec };
}

function allRules(schema: JsonSchema, out: string[] = []): string[] {
  for (const v of schema["x-kubernetes-validations"] ?? []) out.push(v.rule);
  for (const child of Object.values(schema.properties ?? {})) allRules(child, out);
  if (schema.items) allRules(schema.items, out);
  if (schema.additionalProperties) allRules(schema.additionalProperties, out);
  return out;
}

describe("validatePolicy", () => {
  const examples = readdirSync(examplesDir).filter((f) => f.endsWith(".yaml"));

  test("there are the three documented examples", () => {
    expect(examples.sort()).toEqual(["default-policy.yaml", "namespace-scoped-policy.yaml", "strict-policy.yaml"]);
  });

  for (const file of examples) {
    test(`examples/${file} is a valid policy`, () => {
      const result = validatePolicy(parse(readFileSync(new URL(file, examplesDir), "utf8")));
      expect(result.ok ? "valid" : formatFieldErrors(result.error)).toBe("valid");
    });
  }

  test(`there are at least 10 invalid cases (${INVALID_POLICIES.length})`, () => {
    expect(INVALID_POLICIES.length).toBeGreaterThanOrEqual(10);
  });

  for (const c of INVALID_POLICIES) {
    test(`rejects ${c.name}: ${c.field}: ${c.message}`, () => {
      const result = validatePolicy(policy(`invalid-${c.name}`, c.spec));
      expect(result.ok).toBe(false);
      if (result.ok) return;
      const match = result.error.find((e) => e.field === c.field && `${e.field}: ${e.message}`.includes(c.message));
      expect(match ? "found" : formatFieldErrors(result.error)).toBe("found");
    });
  }

  test("an empty spec gets every default the CRD declares, the rule defaults from the analysis rules", () => {
    const result = validatePolicy(policy("p", {}));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const spec = result.value.spec;
    expect(spec.selector?.excludeNamespaces).toEqual(["kube-system"]);
    expect(spec.sampling).toEqual({ interval: "1s", window: "10s", retention: { raw: "1h", rollup: "24h" }, dependencies: { enabled: true, interval: "10s" } });
    expect(spec.reporting).toEqual({ heartbeat: "60s", minInterval: "5s", maxFindings: 50, maxDependencies: 100, maxRecentIncidents: 50, policyReports: false });
    for (const name of RULE_NAMES) expect(spec.rules?.[name]).toEqual({ enabled: true, ...RULE_DEFAULTS[name] });
  });

  test("the documented per-rule defaults hold", () => {
    expect(RULE_DEFAULTS.CPUThrottling).toEqual({ threshold: 0.25, for: "5s", clearAfter: "30s", severity: "warning" });
    expect(RULE_DEFAULTS.NodePressure).toEqual({ threshold: 0.4, for: "10s", clearAfter: "30s", severity: "warning" });
    expect(RULE_DEFAULTS.OOMKill.severity).toBe("critical");
  });

  test("validation does not modify its input", () => {
    const input = policy("p", { sampling: {} });
    const before = JSON.stringify(input);
    validatePolicy(input);
    expect(JSON.stringify(input)).toBe(before);
  });

  test("a value that fails its pattern is reported once, not again by the CEL rules that read it", () => {
    const result = validatePolicy(policy("p", { sampling: { window: "1d" } }));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.map((e) => e.field)).toEqual(["spec.sampling.window"]);
  });

  test("every CEL rule in the schemas has a TypeScript twin, except the transition rule on nodeName", () => {
    const rules = [...allRules(starvationPolicySchema), ...allRules(nodeFindingsSchema)];
    const missing = rules.filter((r) => celCheck(r) === undefined);
    expect(missing).toEqual(["self == oldSelf"]);
    expect(rules.length).toBeGreaterThanOrEqual(12);
  });
});

describe("effectivePolicy", () => {
  test("the strict example converts to milliseconds and RuleConfig", () => {
    const result = effectivePolicy(parse(readFileSync(new URL("strict-policy.yaml", examplesDir), "utf8")));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const p = result.value;
    expect(p.name).toBe("strict");
    expect(p.sampling).toEqual({ intervalMs: 1000, windowMs: 5000, retention: { rawMs: 7_200_000, rollupMs: 259_200_000 }, dependencies: { enabled: true, intervalMs: 5000 } });
    expect(p.rules.CPUStarvation).toEqual({ enabled: true, threshold: 0.15, forMs: 3000, clearAfterMs: 30_000, severity: "critical" });
    expect(p.rules.OOMKill).toEqual({ enabled: true, threshold: 1, forMs: 0, clearAfterMs: 600_000, severity: "critical" });
    expect(p.reporting).toEqual({ heartbeatMs: 30_000, minIntervalMs: 2000, maxFindings: 100, maxDependencies: 200, maxRecentIncidents: 50 });
  });

  test("an invalid policy yields its field errors instead", () => {
    const result = effectivePolicy(policy("p", { sampling: { interval: "500ms" } }));
    expect(result.ok).toBe(false);
  });
});

describe("validateNodeFindings", () => {
  const nf = (name: string, nodeName: string, status?: unknown) => ({
    apiVersion: "xander.io/v1alpha1",
    kind: "NodeFindings",
    metadata: { name },
    spec: { nodeName },
    ...(status === undefined ? {} : { status }),
  });

  test("nodeName must equal the object's name", () => {
    const result = validateNodeFindings(nf("node-a", "node-b"));
    expect(result.ok ? [] : result.error).toEqual([{ field: "spec.nodeName", message: "nodeName must equal metadata.name" }]);
  });

  test("a status with a finding and a dependency validates", () => {
    const status = {
      agent: { version: "0.1.0", cgroupLayout: "v2/systemd", lastSample: "2025-01-01T00:00:00Z", pods: 3, samplesStored: 100 },
      findings: [
        {
          rule: "CPUStarvation",
          severity: "warning",
          policy: "default",
          pod: { namespace: "a", name: "web", uid: "u1" },
          container: "web",
          value: 0.5,
          threshold: 0.3,
          window: "10s",
          firstSeen: "2025-01-01T00:00:00Z",
          lastSeen: "2025-01-01T00:00:10Z",
          culprit: { namespace: "b", name: "batch", uid: "u2", score: 0.8 },
          evidence: { stallShare: "0.5" },
          message: "stalled on CPU 50% of the time",
        },
      ],
      dependencies: [{ from: "a/web", to: "b/db", kind: "Service", port: 5432, direction: "outbound", connections: 2, lastSeen: "2025-01-01T00:00:10Z" }],
      summary: { critical: 0, warning: 1, topRisk: "CPUStarvation a/web" },
      conditions: [{ type: "Reporting", status: "True", lastTransitionTime: "2025-01-01T00:00:00Z", reason: "Reporting", message: "" }],
    };
    const result = validateNodeFindings(nf("n", "n", status));
    expect(result.ok ? "valid" : formatFieldErrors(result.error)).toBe("valid");
  });

  test("findings are bounded at 200", () => {
    const finding = { rule: "OOMKill", severity: "critical", value: 1, threshold: 1, firstSeen: "2025-01-01T00:00:00Z", lastSeen: "2025-01-01T00:00:00Z", message: "m" };
    const result = validateNodeFindings(nf("n", "n", { findings: Array.from({ length: 201 }, () => finding) }));
    expect(result.ok ? [] : result.error.map((e) => e.field)).toEqual(["status.findings"]);
  });
});

test("fieldOf spells JSON pointers the way the apiserver names fields", () => {
  expect(fieldOf("/spec/selector/excludeNamespaces/1")).toBe("spec.selector.excludeNamespaces[1]");
  expect(fieldOf("/spec/rules", "OOMKill")).toBe("spec.rules.OOMKill");
  expect(fieldOf("")).toBe("<root>");
});

describe("validatePolicy on the cases where it once disagreed with the apiserver", () => {
  test.each(BOUNDARY_POLICIES.map((c) => [c.name, c] as const))("%s gets the apiserver's verdict", (_name, c) => {
    expect(validatePolicy({ ...c.body, metadata: { name: c.name } }).ok).toBe(c.accepted);
  });
});
