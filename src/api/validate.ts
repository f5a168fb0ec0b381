/**
 * In-process validation of Xander's custom resources with the same schema the CRDs carry (schema.ts):
 * ajv checks the OpenAPI part and applies the defaults, and the CEL rules run through their TypeScript
 * twins. Messages imitate the apiserver's ("<field>: <what is wrong>") so a policy rejected here reads
 * the same as one rejected by `kubectl apply`.
 */
import AjvModule, { type ErrorObject, type ValidateFunction } from "ajv";
import { err, ok, type Result } from "../util/result.js";
import { celCheck, nodeFindingsSchema, starvationPolicySchema, type JsonSchema } from "./schema.js";
import type { NodeFindings, StarvationPolicy } from "./types.generated.js";

export interface FieldError {
  /** The field, spelled like the apiserver does: `spec.rules.OOMKill.severity`, `spec.selector.excludeNamespaces[1]`. */
  readonly field: string;
  readonly message: string;
}

export function formatFieldErrors(errors: readonly FieldError[]): string {
  return errors.map((e) => `${e.field}: ${e.message}`).join("; ");
}

// ajv is CommonJS with a `default` export; under NodeNext the class is on `.default`.
const Ajv = AjvModule.default;

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function newAjv(): InstanceType<typeof Ajv> {
  const ajv = new Ajv({ allErrors: true, verbose: true, useDefaults: true, strict: true, strictTypes: false });
  // Kubernetes extensions are annotations to ajv; the walker below enforces list uniqueness and CEL.
  for (const keyword of ["x-kubernetes-validations", "x-kubernetes-list-type", "x-kubernetes-list-map-keys", "x-kubernetes-map-type"]) {
    ajv.addKeyword({ keyword });
  }
  ajv.addFormat("date-time", RFC3339);
  ajv.addFormat("int64", { type: "number", validate: (n: number) => Number.isSafeInteger(n) });
  ajv.addFormat("int32", { type: "number", validate: (n: number) => Number.isInteger(n) && Math.abs(n) <= 2 ** 31 });
  return ajv;
}

const ajv = newAjv();
const compiled = new Map<JsonSchema, ValidateFunction>();

function compile(schema: JsonSchema): ValidateFunction {
  let fn = compiled.get(schema);
  if (fn === undefined) {
    fn = ajv.compile(schema as object);
    compiled.set(schema, fn);
  }
  return fn;
}

/** `/spec/selector/excludeNamespaces/1` -> `spec.selector.excludeNamespaces[1]`. */
export function fieldOf(instancePath: string, child?: string): string {
  const parts = instancePath.split("/").slice(1);
  if (child !== undefined) parts.push(child);
  let out = "";
  for (const raw of parts) {
    const part = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    out += /^\d+$/.test(part) ? `[${part}]` : out === "" ? part : `.${part}`;
  }
  return out === "" ? "<root>" : out;
}

function quote(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}

/** One ajv error, worded like the apiserver's OpenAPI validation. */
function toFieldError(e: ErrorObject): FieldError {
  const field = fieldOf(e.instancePath);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "required":
      return { field: fieldOf(e.instancePath, String(params.missingProperty)), message: "Required value" };
    case "enum":
      return {
        field,
        message: `Unsupported value: ${quote(e.data)}: supported values: ${(params.allowedValues as unknown[]).map(quote).join(", ")}`,
      };
    case "maximum":
      return { field, message: `Invalid value: ${quote(e.data)}: ${field} in body should be less than or equal to ${String(params.limit)}` };
    case "minimum":
      return { field, message: `Invalid value: ${quote(e.data)}: ${field} in body should be greater than or equal to ${String(params.limit)}` };
    case "pattern":
      return { field, message: `Invalid value: ${quote(e.data)}: ${field} in body should match '${String(params.pattern)}'` };
    case "maxLength":
      return { field, message: `Too long: may not be more than ${String(params.limit)} bytes` };
    case "maxItems":
      return { field, message: `Too many: must have at most ${String(params.limit)} items` };
    case "multipleOf":
      return { field, message: `Invalid value: ${quote(e.data)}: ${field} in body should be a multiple of ${String(params.multipleOf)}` };
    case "type":
      return { field, message: `Invalid value: ${quote(e.data)}: ${field} in body must be of type ${String(params.type)}` };
    default:
      return { field, message: `Invalid value: ${quote(e.data)}: ${e.message ?? e.keyword}` };
  }
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

/** Runs a schema node's CEL rules through their TypeScript twins. */
function checkRules(schema: JsonSchema, value: unknown, path: string, out: FieldError[]): void {
  for (const v of schema["x-kubernetes-validations"] ?? []) {
    const check = celCheck(v.rule);
    if (check === undefined) continue; // transition rules (oldSelf) need the stored object
    let verdict: boolean | undefined;
    try {
      verdict = (check as (self: unknown) => boolean | undefined)(value);
    } catch {
      verdict = undefined;
    }
    if (verdict !== false) continue;
    const field = v.fieldPath === undefined ? path : `${path}${v.fieldPath}`.replace(/^\./, "");
    out.push({ field: field === "" ? "<root>" : field, message: v.message });
  }
}

/** Duplicates in `set` lists and repeated keys in `map` lists, which the apiserver rejects itself. */
function checkList(schema: JsonSchema, list: unknown[], path: string, out: FieldError[]): void {
  const type = schema["x-kubernetes-list-type"];
  if (type !== "set" && type !== "map") return;
  const keys = schema["x-kubernetes-list-map-keys"] ?? [];
  const seen = new Set<string>();
  list.forEach((item, i) => {
    const identity = type === "set" ? JSON.stringify(item) : JSON.stringify(keys.map((k) => (isObject(item) ? item[k] : undefined)));
    if (seen.has(identity)) out.push({ field: `${path}[${i}]`, message: `Duplicate value: ${type === "set" ? identity : `map[${identity}]`}` });
    seen.add(identity);
  });
}

function walkObject(schema: JsonSchema, value: Json, path: string, out: FieldError[]): void {
  const props = schema.properties;
  if (props !== undefined) {
    for (const [key, child] of Object.entries(value)) {
      const sub = props[key];
      if (sub === undefined) out.push({ field: join(path, key), message: `unknown field "${join(path, key)}"` });
      else walk(sub, child, join(path, key), out);
    }
  }
  const extra = schema.additionalProperties;
  if (extra !== undefined) for (const [key, child] of Object.entries(value)) walk(extra, child, `${path}[${key}]`, out);
}

function walk(schema: JsonSchema, value: unknown, path: string, out: FieldError[]): void {
  if (value === undefined || value === null) return;
  checkRules(schema, value, path, out);
  if (Array.isArray(value)) {
    checkList(schema, value, path, out);
    if (schema.items !== undefined) for (const [i, item] of value.entries()) walk(schema.items, item, `${path}[${i}]`, out);
  } else if (isObject(value)) {
    walkObject(schema, value, path, out);
  }
}

/**
 * Removes the object fields set to null, as the apiserver does before defaulting and validation: "null
 * values for fields that either don't specify the nullable flag, or give it a false value, will be
 * pruned before defaulting happens" (CRD docs, Defaulting and Nullable). No field here is nullable.
 * Nulls in lists stay, and fields the schema does not know stay for the unknown-field check.
 */
function dropNulls(schema: JsonSchema, value: unknown): void {
  if (Array.isArray(value)) {
    if (schema.items !== undefined) for (const item of value) dropNulls(schema.items, item);
    return;
  }
  if (!isObject(value)) return;
  for (const [key, child] of Object.entries(value)) {
    const sub = schema.properties?.[key] ?? schema.additionalProperties;
    if (sub === undefined) continue;
    if (child === null) Reflect.deleteProperty(value, key);
    else dropNulls(sub, child);
  }
}

/** Validates and defaults a copy of `obj`. The input is not modified. */
export function validateAgainst<T>(schema: JsonSchema, obj: unknown): Result<T, FieldError[]> {
  const copy: unknown = structuredClone(obj);
  dropNulls(schema, copy);
  const fn = compile(schema);
  const errors: FieldError[] = [];
  if (!fn(copy)) errors.push(...(fn.errors ?? []).map(toFieldError));
  // The metadata object is the apiserver's business; only the CEL rule on the root looks at metadata.name.
  walk(schema, copy, "", errors);
  const unique = dedupe(errors.filter((e) => !e.field.startsWith("metadata.")));
  return unique.length === 0 ? ok(copy as T) : err(unique);
}

function dedupe(errors: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const k = `${e.field}\0${e.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** A StarvationPolicy as the apiserver would store it (defaults applied), or why it would be rejected. */
export function validatePolicy(obj: unknown): Result<StarvationPolicy, FieldError[]> {
  return validateAgainst<StarvationPolicy>(starvationPolicySchema, obj);
}

export function validateNodeFindings(obj: unknown): Result<NodeFindings, FieldError[]> {
  return validateAgainst<NodeFindings>(nodeFindingsSchema, obj);
}
