/**
 * Keeps the Helm chart's copies of the CRDs in step with crds/*.yaml, the one source of truth (itself
 * generated from src/api/schema.ts by `npm run gen:crds`):
 *
 *   charts/xander/templates/crds/<name>.yaml    each CRD, verbatim, wrapped in `crds.install` and given
 *                                               `helm.sh/resource-policy: keep` when `crds.keep`
 *   charts/xander/values.schema.json            defaultPolicy.spec: the StarvationPolicy spec schema,
 *                                               as JSON Schema with additionalProperties: false
 *
 *   npm run sync:chart              write the files
 *   npm run sync:chart -- --check   exit 1 and name the stale files instead of writing
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

export const CHART_DIR = "charts/xander";
export const CHART_CRD_DIR = `${CHART_DIR}/templates/crds`;
export const VALUES_SCHEMA = `${CHART_DIR}/values.schema.json`;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Helm would read `{{` in a CRD (a CEL message, a description) as a template action. */
function escapeTemplateActions(text: string): string {
  return text.replace(/\{\{|\}\}/g, (m) => `{{ "${m}" }}`);
}

/** The chart template for one CRD file: the same document, plus Helm's switches. */
export function chartCrdTemplate(fileName: string, crdText: string): string {
  const lines = escapeTemplateActions(crdText).split("\n");
  const metadata = lines.findIndex((l) => l === "metadata:");
  if (metadata < 0) throw new Error(`crds/${fileName}: no top-level "metadata:" line`);
  const keep = ["{{- if .Values.crds.keep }}", "  annotations:", "    helm.sh/resource-policy: keep", "{{- end }}"];
  const body = [...lines.slice(0, metadata + 1), ...keep, ...lines.slice(metadata + 1)].join("\n").trimEnd();
  return [
    `{{- /* Copied from crds/${fileName} by hack/sync-chart-crds.ts. Do not edit: run \`npm run sync:chart\`. */}}`,
    "{{- if .Values.crds.install }}",
    body,
    "{{- end }}",
    "",
  ].join("\n");
}

/** JSON Schema keywords kept from the CRD's OpenAPI schema; the x-kubernetes-* extensions, defaults and formats are the apiserver's business. */
const KEPT = new Set(["type", "description", "enum", "pattern", "minimum", "maximum", "multipleOf", "minLength", "maxLength", "minItems", "maxItems", "maxProperties", "required"]);

/** An OpenAPI v3 (structural) schema as JSON Schema where every object with properties allows no others. */
export function toStrictJsonSchema(schema: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(schema)) if (KEPT.has(key)) out[key] = value;
  const { properties, items, additionalProperties } = schema;
  if (isObject(properties)) {
    out.properties = Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, toStrictJsonSchema(v as JsonObject)]));
  }
  if (isObject(items)) out.items = toStrictJsonSchema(items);
  if (isObject(additionalProperties)) out.additionalProperties = toStrictJsonSchema(additionalProperties);
  else if (schema.type === "object") out.additionalProperties = false;
  return out;
}

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** defaultPolicy.spec's schema, from the StarvationPolicy CRD's served version. */
export function policySpecSchema(crdText: string): JsonObject {
  const crd = parse(crdText) as { spec: { versions: { storage: boolean; schema: { openAPIV3Schema: { properties: { spec: JsonObject } } } }[] } };
  const version = crd.spec.versions.find((v) => v.storage);
  if (version === undefined) throw new Error("the StarvationPolicy CRD has no storage version");
  return toStrictJsonSchema(version.schema.openAPIV3Schema.properties.spec);
}

/** values.schema.json with defaultPolicy.spec replaced. */
export function valuesSchemaWithPolicy(valuesSchemaText: string, policyCrdText: string): string {
  const schema = JSON.parse(valuesSchemaText) as JsonObject;
  const defaultPolicy = (schema.properties as JsonObject | undefined)?.defaultPolicy;
  if (!isObject(defaultPolicy) || !isObject(defaultPolicy.properties)) throw new Error(`${VALUES_SCHEMA}: no properties.defaultPolicy.properties`);
  defaultPolicy.properties.spec = policySpecSchema(policyCrdText);
  return `${JSON.stringify(schema, null, 2)}\n`;
}

/** Every file this script owns, by path relative to the repository root, with its content. */
export function renderChartFiles(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const crdFiles = readdirSync(join(root, "crds")).filter((f) => f.endsWith(".yaml")).sort();
  for (const f of crdFiles) files.set(`${CHART_CRD_DIR}/${f}`, chartCrdTemplate(f, readFileSync(join(root, "crds", f), "utf8")));
  const policyCrd = readFileSync(join(root, "crds", "starvationpolicies.yaml"), "utf8");
  files.set(VALUES_SCHEMA, valuesSchemaWithPolicy(readFileSync(join(root, VALUES_SCHEMA), "utf8"), policyCrd));
  return files;
}

/** Chart CRD templates with no counterpart in crds/ (a CRD that was removed). */
export function strayChartCrds(root: string, rendered: Map<string, string>): string[] {
  return readdirSync(join(root, CHART_CRD_DIR))
    .map((f) => `${CHART_CRD_DIR}/${f}`)
    .filter((p) => !rendered.has(p));
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function main(argv: readonly string[]): number {
  const root = join(fileURLToPath(new URL(".", import.meta.url)), "..");
  const check = argv.includes("--check");
  const rendered = renderChartFiles(root);
  const stale = [...rendered].filter(([rel, content]) => read(join(root, rel)) !== content).map(([rel]) => rel);
  const stray = strayChartCrds(root, rendered);
  if (check) {
    if (stale.length + stray.length === 0) return 0;
    console.error(`out of date (run npm run sync:chart): ${[...stale, ...stray.map((s) => `${s} (no crds/ source)`)].join(", ")}`);
    return 1;
  }
  for (const rel of stale) writeFileSync(join(root, rel), rendered.get(rel) ?? "");
  if (stray.length > 0) console.error(`remove by hand, crds/ has no source for: ${stray.join(", ")}`);
  console.log(stale.length === 0 ? "chart CRDs are up to date" : `wrote ${stale.join(", ")}`);
  return stray.length === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main(process.argv.slice(2));
