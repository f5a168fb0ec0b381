/**
 * Policies on which the apiserver (CRD schema and CEL) and validatePolicy once disagreed, each with the
 * verdict both now give. The unit test holds validatePolicy to it, the integration test the real
 * apiserver, so a regression on either side shows up by name.
 */
export interface BoundaryPolicyCase {
  /** Also the policy name suffix: lowercase, dashes. */
  readonly name: string;
  /** The whole object but its metadata, so that unknown top-level fields can be tried too. */
  readonly body: Readonly<Record<string, unknown>>;
  readonly accepted: boolean;
}

const policy = (spec: unknown): Record<string, unknown> => ({ apiVersion: "xander.io/v1alpha1", kind: "StarvationPolicy", spec });

export const BOUNDARY_POLICIES: readonly BoundaryPolicyCase[] = [
  { name: "empty-spec", body: policy({}), accepted: true },
  { name: "no-spec", body: { apiVersion: "xander.io/v1alpha1", kind: "StarvationPolicy" }, accepted: false },
  // The apiserver drops null fields before defaulting; validatePolicy used to reject them as wrong types.
  { name: "null-section", body: policy({ sampling: null, selector: null }), accepted: true },
  { name: "null-boolean", body: policy({ sampling: { dependencies: { enabled: null } }, reporting: { policyReports: null } }), accepted: true },
  { name: "null-integer", body: policy({ reporting: { maxFindings: null, maxDependencies: null } }), accepted: true },
  { name: "null-enum", body: policy({ rules: { MemoryNearLimit: { severity: null, enabled: null } } }), accepted: true },
  // Past Go's time.Duration the CEL rules cannot evaluate, and the apiserver rejects the object.
  { name: "duration-beyond-go", body: policy({ sampling: { retention: { rollup: "2562048h" } } }), accepted: false },
  { name: "duration-at-go-max", body: policy({ sampling: { retention: { rollup: "2562047h" } } }), accepted: true },
  { name: "null-in-a-list", body: policy({ selector: { excludeNamespaces: [null] } }), accepted: false },
];
