import type { NodeFindings } from "../api/types.generated.js";
import { realisticNodeFindings } from "../bench/read-model.js";
import { keepUnchanged, prepareNodeFindings } from "./prepare.js";
import { summary } from "./summary.js";
import { CLUSTER, HEARTBEAT_MS, NOW } from "./testdata/cluster.js";
import { top } from "./top.js";

// Fresh shallow copies: objects nothing has been derived from yet, as a new watch event delivers them.
const fresh = <T extends object>(objects: readonly T[]): T[] => objects.map((o) => ({ ...o }));

describe("prepareNodeFindings", () => {
  test.each([
    ["the test cluster", CLUSTER],
    ["100 realistic nodes", realisticNodeFindings(100)],
  ])("views over prepared objects equal views over fresh ones: %s", (_name, cluster) => {
    const prepared = fresh(cluster);
    prepared.forEach(prepareNodeFindings);
    const input = (nodeFindings: typeof cluster) => ({ nodeFindings, nowMs: NOW, heartbeatMs: HEARTBEAT_MS });
    expect(summary(input(prepared))).toEqual(summary(input(fresh(cluster))));
    expect(top(input(prepared), { limit: 50 })).toEqual(top(input(fresh(cluster)), { limit: 50 }));
  });

  test("an object with no status prepares to nothing and does not throw", () => {
    expect(() => { prepareNodeFindings({ apiVersion: "xander.io/v1alpha1", kind: "NodeFindings", metadata: { name: "n" }, spec: { nodeName: "n" } }); }).not.toThrow();
  });
});

describe("keepUnchanged", () => {
  const nf = (name: string, resourceVersion?: string): NodeFindings => ({ apiVersion: "xander.io/v1alpha1", kind: "NodeFindings", metadata: { name, ...(resourceVersion === undefined ? {} : { resourceVersion }) }, spec: { nodeName: name } });

  test("an object at the same resourceVersion is the earlier object; a changed or new one is the new object", () => {
    const before = [nf("a", "1"), nf("b", "2"), nf("c")];
    const after = [nf("a", "1"), nf("b", "3"), nf("c"), nf("d", "1")];
    const kept = keepUnchanged(before, after);
    expect(kept[0]).toBe(before[0]);
    expect(kept[1]).toBe(after[1]);
    // Without a resourceVersion nothing says it is unchanged.
    expect(kept[2]).toBe(after[2]);
    expect(kept[3]).toBe(after[3]);
    expect(kept.map((o) => o.metadata.name)).toEqual(["a", "b", "c", "d"]);
  });
});
