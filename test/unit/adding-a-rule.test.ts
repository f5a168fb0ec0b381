// "Adding a rule is one file" (README, Development): a rule written here, in this one file, and added to
// the rule list is evaluated by the analyzer, rendered into the StarvationPolicy CRD by the generator,
// and validated (bounds, defaults, the CEL twins) by the same ajv validation the controller uses.
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { Analyzer } from "../../src/analysis/analyzer.js";
import { defaultRuleConfig, defaultRuleConfigs, RULES } from "../../src/analysis/rules/index.js";
import { sample, tick } from "../../src/analysis/testing.js";
import type { ContainerRule, Rule, RuleConfigs, RuleName } from "../../src/analysis/types.js";
import { renderCrdYaml } from "../../src/api/codegen.js";
import { crdsFor, starvationPolicySchemaFor, type JsonSchema } from "../../src/api/schema.js";
import type { StarvationPolicy } from "../../src/api/types.generated.js";
import { formatFieldErrors, validateAgainst } from "../../src/api/validate.js";

/** All of a container's tasks stalled on IO at once: PSI io `full`. */
const ioFullStall: ContainerRule<"IOFullStall"> = {
  name: "IOFullStall",
  scope: "container",
  defaults: { threshold: 0.25, for: "3s", clearAfter: "20s", severity: "critical" },
  thresholdRange: { min: 0, max: 1, unit: "share of wall time all tasks stalled on IO, PSI full (0..1)" },
  evaluate(window, config) {
    const share = window.ioFullStallShare;
    if (share === undefined || share < config.threshold) return undefined;
    return { value: share, message: `all tasks stalled on IO ${Math.round(share * 100)}% of the time` };
  },
};

const rules = [...RULES, ioFullStall];

/** The spec.rules schema of a StarvationPolicy CRD. */
function rulesProperty(crd: unknown): JsonSchema {
  const doc = crd as { spec: { versions: { schema: { openAPIV3Schema: JsonSchema } }[] } };
  const root = doc.spec.versions[0]?.schema.openAPIV3Schema;
  return root?.properties?.spec?.properties?.rules ?? {};
}

function policy(rulesSpec: Record<string, unknown>): unknown {
  return { apiVersion: "xander.io/v1alpha1", kind: "StarvationPolicy", metadata: { name: "p" }, spec: { rules: rulesSpec } };
}

describe("a rule defined in one file", () => {
  test("is evaluated by the analyzer: it raises after its own `for`, under its own name and severity", () => {
    const configs = { ...defaultRuleConfigs(), IOFullStall: defaultRuleConfig(ioFullStall) } as RuleConfigs;
    // RuleName is derived from RULES, so to the type system a rule outside that list has no RuleName.
    const analyzer = new Analyzer({ windowMs: 5000, nodeCores: 2, rules: rules as readonly Rule<RuleName>[], bindingFor: () => ({ configs }) });
    const raised: { atMs: number; rule: string; severity: string; value: number }[] = [];
    for (let s = 1; s <= 10; s++) {
      const result = analyzer.ingest(tick(s * 1000, [sample("db", "c", s * 1000, { ioFullStallShare: 0.5 })]));
      raised.push(...result.raised.map((f) => ({ atMs: s * 1000, rule: f.rule, severity: f.severity, value: f.value })));
    }
    expect(raised).toEqual([{ atMs: 4000, rule: "IOFullStall", severity: "critical", value: 0.5 }]);
  });

  test("is rendered into the StarvationPolicy CRD with its range, unit and defaults; the built-in CRD is the checked-in one", () => {
    const [builtIn] = crdsFor(RULES);
    expect(renderCrdYaml(builtIn!)).toBe(readFileSync(new URL("../../crds/starvationpolicies.yaml", import.meta.url), "utf8"));

    const [extended] = crdsFor(rules);
    const rulesSchema = rulesProperty(parse(renderCrdYaml(extended!)));
    expect(Object.keys(rulesSchema.properties ?? {})).toEqual([...RULES.map((r) => r.name), "IOFullStall"]);
    const own = rulesSchema.properties?.IOFullStall;
    expect(own?.description).toBe("Settings of the IOFullStall rule. Threshold: share of wall time all tasks stalled on IO, PSI full (0..1).");
    expect(own?.properties?.threshold).toMatchObject({ minimum: 0, maximum: 1, default: 0.25 });
    expect(own?.properties?.for?.default).toBe("3s");
    expect(own?.properties?.severity?.default).toBe("critical");
    expect(rulesSchema["x-kubernetes-validations"]?.[0]?.rule).toContain("self.IOFullStall.enabled");
  });

  test("is validated: its bounds hold, its defaults apply, and it counts as the one enabled rule", () => {
    const schema = starvationPolicySchemaFor(rules);
    const tooHigh = validateAgainst<StarvationPolicy>(schema, policy({ IOFullStall: { threshold: 2 } }));
    expect(tooHigh.ok ? "valid" : formatFieldErrors(tooHigh.error)).toMatch(/spec\.rules\.IOFullStall\.threshold/);

    const defaulted = validateAgainst<StarvationPolicy>(schema, policy({ IOFullStall: { threshold: 0.4 } }));
    expect(defaulted.ok ? (defaulted.value.spec.rules as Record<string, unknown>).IOFullStall : defaulted.error).toEqual({
      enabled: true,
      threshold: 0.4,
      for: "3s",
      clearAfter: "20s",
      severity: "critical",
    });

    const allBuiltInOff = Object.fromEntries(RULES.map((r) => [r.name, { enabled: false }]));
    const onlyNew = validateAgainst<StarvationPolicy>(schema, policy(allBuiltInOff));
    expect(onlyNew.ok).toBe(true);
    const noneAtAll = validateAgainst<StarvationPolicy>(schema, policy({ ...allBuiltInOff, IOFullStall: { enabled: false } }));
    expect(noneAtAll.ok ? "valid" : formatFieldErrors(noneAtAll.error)).toMatch(/at least one rule must be enabled/);
  });
});
