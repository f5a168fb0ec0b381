import { incidentFromJson, incidentsFromNodeFindings, incidentToJson } from "./convert.js";
import { CLUSTER, MIN, NOW, nodeA } from "./testdata/cluster.js";

describe("incidents from NodeFindings", () => {
  const all = incidentsFromNodeFindings(CLUSTER);

  test("closed recentIncidents and one open incident per open finding", () => {
    expect(all).toHaveLength(8);
    expect(all.filter((i) => i.endMs === undefined)).toHaveLength(4);
  });

  test("an open finding becomes an open incident: start at firstSeen, peak so far, its culprit with the whole share", () => {
    const open = all.find((i) => i.rule === "CPUStarvation" && i.endMs === undefined)!;
    expect(open).toMatchObject({
      node: "node-a",
      startMs: NOW - 5 * MIN,
      lastSeenMs: NOW - 5000,
      peakValue: 0.6,
      threshold: 0.3,
      workload: "Deployment/checkout",
      culprits: [{ pod: { namespace: "batch", name: "cruncher-0", uid: "u-crunch" }, score: 0.82, share: 1 }],
    });
  });

  test("a pod with no known owner has no workload; ids are stable", () => {
    expect(all.find((i) => i.pod.name === "ghost-1")!.workload).toBeUndefined();
    expect(incidentsFromNodeFindings([nodeA]).map((i) => i.id)).toEqual(incidentsFromNodeFindings([nodeA]).map((i) => i.id));
  });

  test("entries with unreadable times are left out", () => {
    const broken = { ...nodeA, status: { findings: [{ ...nodeA.status!.findings![0]!, firstSeen: "yesterday" }] } };
    expect(incidentsFromNodeFindings([broken])).toEqual([]);
  });
});

describe("Incident ↔ IncidentJson", () => {
  test("round-trips, open and closed", () => {
    for (const incident of incidentsFromNodeFindings(CLUSTER)) {
      const back = incidentFromJson(incidentToJson(incident, NOW));
      expect(back).toEqual({ ok: true, value: incident });
    }
  });

  test("the wire duration of an open incident runs to now; a closed one's to its end", () => {
    const [closed] = incidentsFromNodeFindings([nodeA]);
    expect(incidentToJson(closed!, NOW).durationMs).toBe(10 * MIN);
    const open = incidentsFromNodeFindings([nodeA]).find((i) => i.endMs === undefined)!;
    expect(incidentToJson(open, NOW).durationMs).toBe(NOW - open.startMs);
  });

  test("an unknown rule or an unreadable time is an error that names the incident", () => {
    const json = incidentToJson(incidentsFromNodeFindings([nodeA])[0]!, NOW);
    expect(incidentFromJson({ ...json, rule: "Nope" })).toEqual({ ok: false, error: `incident ${json.id} on node-a: unknown rule "Nope"` });
    expect(incidentFromJson({ ...json, start: "soon" })).toEqual({ ok: false, error: `incident ${json.id} on node-a: start "soon" is not an RFC 3339 time` });
  });
});
