/**
 * CEL validation rules with their TypeScript twins. Each rule is declared with `cel(...)`, which registers an
 * equivalent predicate for ajv-side validation (validate.ts), so both sides carry the same message and field path.
 */
import { parseDuration } from "../../util/duration.js";
import type { ValidationRule } from "./json-schema.js";

/**
 * The TypeScript side of a CEL rule: it receives the value at the schema node the rule sits on
 * (after defaulting) and returns whether it is valid. Returning undefined means "cannot tell"
 * (e.g. a duration that failed its pattern, which the schema already reports).
 */
export type CelCheck = (self: never) => boolean | undefined;

const celChecks = new Map<string, CelCheck>();

/** Declares a CEL rule and its TypeScript twin. The rule text is the key that links the two. */
export function cel(rule: string, message: string, check: CelCheck, fieldPath?: string): ValidationRule {
  celChecks.set(rule, check);
  return fieldPath === undefined ? { rule, message } : { rule, message, fieldPath };
}

/** The TypeScript predicate for a CEL rule declared with cel(), or undefined for transition rules. */
export function celCheck(rule: string): CelCheck | undefined {
  return celChecks.get(rule);
}

/** Milliseconds of a duration string, or undefined when it does not parse (the pattern reports that). */
export function ms(text: unknown): number | undefined {
  if (typeof text !== "string" || !CRD_DURATION.test(text)) return undefined;
  const parsed = parseDuration(text);
  return parsed.ok ? parsed.value : undefined;
}

/**
 * Go's time.Duration ends at 2^63-1 ns (about 2562047h). CEL's duration() fails on anything longer,
 * and the apiserver rejects the object ("type conversion error"), though the pattern admits it.
 */
const GO_MAX_DURATION_MS = 9_223_372_036_854;

function beyondGo(text: unknown): boolean {
  if (typeof text !== "string" || !CRD_DURATION.test(text)) return false;
  const parsed = parseDuration(text);
  return !parsed.ok || parsed.value > GO_MAX_DURATION_MS;
}

/** True/false when both durations parse, false when one is beyond CEL's range, undefined otherwise. */
export function cmp(a: unknown, b: unknown, ok: (aMs: number, bMs: number) => boolean): boolean | undefined {
  if (beyondGo(a) || beyondGo(b)) return false;
  const aMs = ms(a);
  const bMs = ms(b);
  return aMs === undefined || bMs === undefined ? undefined : ok(aMs, bMs);
}

// CEL's duration() is Go's time.ParseDuration: units h, m, s, ms, us/µs, ns. It has no `d`, so the
// CRD only admits the units both CEL and util/duration.ts understand (util/duration also reads `d`
// for flags). A unit is required: "0" is a valid Go duration but ambiguous to people.
export const CRD_DURATION_PATTERN = "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$";
const CRD_DURATION = new RegExp(CRD_DURATION_PATTERN);
