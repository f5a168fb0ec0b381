// One source of truth for the CRDs: crds/*.yaml (generated from src/api/schema.ts). The chart's copies and
// the default policy's values schema are derived from it by hack/sync-chart-crds.ts; this fails when they drift.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CHART_CRD_DIR, chartCrdTemplate, renderChartFiles, strayChartCrds, toStrictJsonSchema } from "../../hack/sync-chart-crds.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

describe("the chart's CRDs and values schema follow crds/", () => {
  const rendered = renderChartFiles(root);

  test.each([...rendered.keys()])("%s is what `npm run sync:chart` writes", (rel) => {
    expect(readFileSync(join(root, rel), "utf8")).toBe(rendered.get(rel));
  });

  test("every CRD in crds/ has a chart template, and the chart has no CRD that crds/ lacks", () => {
    const sources = readdirSync(join(root, "crds")).filter((f) => f.endsWith(".yaml"));
    expect(sources.map((f) => rendered.has(`${CHART_CRD_DIR}/${f}`))).toEqual(sources.map(() => true));
    expect(strayChartCrds(root, rendered)).toEqual([]);
  });

  test("template actions in a CRD are escaped, so Helm renders them as text", () => {
    const out = chartCrdTemplate("x.yaml", "kind: CustomResourceDefinition\nmetadata:\n  name: x\n  description: use {{ .Values }}\n");
    expect(out).toContain('use {{ "{{" }} .Values {{ "}}" }}');
    expect(out).toContain("metadata:\n{{- if .Values.crds.keep }}\n  annotations:\n    helm.sh/resource-policy: keep\n{{- end }}\n  name: x");
  });

  test("the strict JSON Schema keeps maps open and closes every object with properties", () => {
    const schema = toStrictJsonSchema({
      type: "object",
      "x-kubernetes-validations": [{ rule: "true" }],
      default: {},
      properties: { labels: { type: "object", additionalProperties: { type: "string" } }, inner: { type: "object", properties: { n: { type: "integer", format: "int32" } } } },
    });
    expect(schema).toEqual({
      type: "object",
      additionalProperties: false,
      properties: { labels: { type: "object", additionalProperties: { type: "string" } }, inner: { type: "object", additionalProperties: false, properties: { n: { type: "integer" } } } },
    });
  });
});
