import { effectivePolicy } from "../api/policy.js";
import type { Condition, StarvationPolicy } from "../api/types.generated.js";
import { summarize } from "../report/findings-view.js";
import { isSubset, jsonEqual, policyStatus, setCondition, type AgentState } from "./status.js";

const T0 = "2025-06-01T10:00:00Z";
const T1 = "2025-06-01T11:00:00Z";

function policy(generation: number, spec: StarvationPolicy["spec"] = {}, conditions?: Condition[]): StarvationPolicy {
  return {
    apiVersion: "xander.io/v1alpha1",
    kind: "StarvationPolicy",
    metadata: { name: "p", generation },
    spec,
    ...(conditions === undefined ? {} : { status: { conditions } }),
  };
}

const agent: AgentState = { daemonSetPresent: true, desiredNodes: 3, daemonSet: "xander-system/xander-agent" };
const noFindings = summarize([], Date.parse(T1), 60_000);

function statusOf(p: StarvationPolicy, over: Partial<AgentState> = {}, nowIso = T1) {
  return policyStatus({ policy: p, validation: effectivePolicy(p), agent: { ...agent, ...over }, findings: noFindings, heartbeatMs: 60_000, nowIso });
}

const cond = (s: ReturnType<typeof statusOf>, type: string) => s.conditions!.find((c) => c.type === type)!;

describe("setCondition", () => {
  test("keeps lastTransitionTime while the status stays the same, even if reason or message change", () => {
    const prev: Condition[] = [{ type: "Ready", status: "True", lastTransitionTime: T0, reason: "A", message: "a", observedGeneration: 1 }];
    expect(setCondition(prev, { type: "Ready", status: "True", reason: "B", message: "b" }, 2, T1)).toEqual({
      type: "Ready",
      status: "True",
      lastTransitionTime: T0,
      reason: "B",
      message: "b",
      observedGeneration: 2,
    });
  });

  test("moves lastTransitionTime when the status flips, or when the condition is new", () => {
    const prev: Condition[] = [{ type: "Ready", status: "True", lastTransitionTime: T0, reason: "A", message: "a" }];
    expect(setCondition(prev, { type: "Ready", status: "False", reason: "X", message: "" }, 1, T1).lastTransitionTime).toBe(T1);
    expect(setCondition(undefined, { type: "Degraded", status: "False", reason: "X", message: "" }, 1, T1).lastTransitionTime).toBe(T1);
  });
});

describe("policyStatus", () => {
  test("a valid policy with its DaemonSet is Ready, not Degraded when nodes report, at its generation", () => {
    const s = statusOf(policy(4));
    expect(s.observedGeneration).toBe(4);
    expect(cond(s, "Ready")).toMatchObject({ status: "True", reason: "AgentConfigured", observedGeneration: 4 });
    expect(cond(s, "Degraded")).toMatchObject({ status: "False", reason: "AsExpected" });
    expect(s.nodes).toEqual({ desired: 3, reporting: 0, stale: 0 });
  });

  test("an invalid policy is not Ready and says which field is wrong", () => {
    const s = statusOf(policy(2, { sampling: { interval: "100ms" } }));
    expect(cond(s, "Ready")).toMatchObject({ status: "False", reason: "InvalidSpec", message: "spec.sampling.interval: interval must be at least 1s" });
    expect(cond(s, "Degraded")).toMatchObject({ status: "Unknown", reason: "InvalidSpec" });
  });

  test("without the DaemonSet, or when applying it failed, the policy is not Ready", () => {
    expect(cond(statusOf(policy(1), { daemonSetPresent: false }), "Ready")).toMatchObject({ status: "False", reason: "AgentPending" });
    expect(cond(statusOf(policy(1), { applyError: "forbidden" }), "Ready")).toMatchObject({ status: "False", reason: "AgentNotApplied", message: "forbidden" });
  });

  test("stale nodes make the policy Degraded and are named", () => {
    const nf = (name: string) => ({ apiVersion: "xander.io/v1alpha1" as const, kind: "NodeFindings" as const, metadata: { name }, spec: { nodeName: name } });
    const findings = summarize([nf("n1"), nf("n2")], Date.parse(T1), 60_000);
    const p = policy(1);
    const s = policyStatus({ policy: p, validation: effectivePolicy(p), agent, findings, heartbeatMs: 60_000, nowIso: T1 });
    expect(cond(s, "Degraded")).toMatchObject({ status: "True", reason: "StaleNodes", message: "2 of 2 nodes have not reported in 180s (3 heartbeats): n1, n2" });
    expect(s.nodes).toEqual({ desired: 3, reporting: 0, stale: 2 });
  });

  test("recomputing an unchanged situation later yields an equal status (so nothing is written)", () => {
    const first = statusOf(policy(1), {}, T0);
    const again = statusOf(policy(1, {}, first.conditions), {}, T1);
    expect(jsonEqual(first, again)).toBe(true);
  });

  test("a spec edit bumps observedGeneration on the status and both conditions, keeping transition times", () => {
    const first = statusOf(policy(1), {}, T0);
    const next = statusOf(policy(2, { rules: { CPUThrottling: { threshold: 0.5 } } }, first.conditions), {}, T1);
    expect(next.observedGeneration).toBe(2);
    expect(next.conditions!.map((c) => [c.observedGeneration, c.lastTransitionTime])).toEqual([
      [2, T0],
      [2, T0],
    ]);
  });
});

describe("jsonEqual and isSubset", () => {
  test("jsonEqual ignores key order, treats absent and undefined alike, and compares instants not spellings", () => {
    expect(jsonEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(jsonEqual({ t: "2025-01-01T00:00:00Z" }, { t: "2025-01-01T00:00:00.000Z" })).toBe(true);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(jsonEqual({ a: "x" }, { a: "y" })).toBe(false);
  });

  test("isSubset accepts server-added fields but not changed ones", () => {
    const desired = { spec: { template: { containers: [{ name: "a", image: "x:1" }] } } };
    const live = { metadata: { uid: "u" }, spec: { template: { containers: [{ name: "a", image: "x:1", terminationMessagePath: "/dev/termination-log" }] } } };
    expect(isSubset(desired, live)).toBe(true);
    expect(isSubset(desired, { spec: { template: { containers: [{ name: "a", image: "evil:2" }] } } })).toBe(false);
    expect(isSubset(desired, undefined)).toBe(false);
    expect(isSubset(desired, { spec: { template: { containers: [] } } })).toBe(false);
    // the API omits zero values
    expect(isSubset({ hostPID: false, n: 0, s: "" }, {})).toBe(true);
    expect(isSubset({ hostPID: false }, { hostPID: true })).toBe(false);
  });
});

describe("the PolicyReports condition", () => {
  const withReports = (generation: number) => policy(generation, { reporting: { policyReports: true } });
  const reportsStatus = (p: StarvationPolicy, state?: Parameters<typeof policyStatus>[0]["policyReports"]) =>
    policyStatus({ policy: p, validation: effectivePolicy(p), agent, findings: noFindings, heartbeatMs: 60_000, nowIso: T1, ...(state === undefined ? {} : { policyReports: state }) });

  test("is absent from policies that do not ask for reports", () => {
    expect(reportsStatus(policy(1), { phase: "CRDNotInstalled" }).conditions?.map((c) => c.type)).toEqual(["Ready", "Degraded"]);
  });

  test("says the CRD is not installed, at the policy's generation", () => {
    expect(cond(reportsStatus(withReports(3), { phase: "CRDNotInstalled" }), "PolicyReports")).toMatchObject({
      status: "False",
      reason: "CRDNotInstalled",
      observedGeneration: 3,
      message: expect.stringContaining("policyreports.wgpolicyk8s.io") as unknown,
    });
  });

  test("is True while reports are written, False with the error when a write fails, Unknown before the first try", () => {
    expect(cond(reportsStatus(withReports(1), { phase: "Reporting" }), "PolicyReports")).toMatchObject({ status: "True", reason: "Reporting" });
    expect(cond(reportsStatus(withReports(1), { phase: "Failed", message: "cannot apply PolicyReport shop/xander: forbidden" }), "PolicyReports")).toMatchObject({
      status: "False",
      reason: "WriteFailed",
      message: "cannot apply PolicyReport shop/xander: forbidden",
    });
    expect(cond(reportsStatus(withReports(1)), "PolicyReports")).toMatchObject({ status: "Unknown", reason: "Pending" });
  });
});
