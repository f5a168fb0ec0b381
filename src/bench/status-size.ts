/**
 * The largest NodeFindings status an agent can write, in bytes, against etcd's 1.5 MiB request limit: every
 * list at its policy maximum (200 findings, 200 dependencies, 100 recent incidents), every name at its
 * Kubernetes maximum, every message at its CRD maximum, built by the agent's own status code. Also the bound
 * the CRD schema itself allows, should anything other than the agent write the status.
 */
import { recentIncident } from "../api/incident-json.js";
import { MAX_RECENT_INCIDENTS } from "../api/schema/node-findings.js";
import type { Dependency } from "../api/types.generated.js";
import { buildStatus, nodeFinding, STATUS_BUDGET_BYTES } from "../agent/status.js";
import type { Incident } from "../analysis/incident.js";
import type { Finding } from "../analysis/types.js";
import type { BenchResult } from "./types.js";

/** etcd's default --max-request-bytes; the apiserver refuses larger objects. */
const ETCD_LIMIT_BYTES = 1.5 * 1024 * 1024;
const MAX_FINDINGS = 200;
const MAX_DEPENDENCIES = 200;

const name = (prefix: string, i: number, length = 253): string => `${prefix}-${i}-`.padEnd(length, "x");
const ns = (i: number): string => `ns-${i}-`.padEnd(63, "n");
const uid = (i: number): string => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
const pod = (i: number): { uid: string; namespace: string; name: string } => ({ uid: uid(i), namespace: ns(i), name: name("pod", i) });

function worstFinding(i: number): Finding {
  return {
    rule: "CPUStarvation",
    severity: "critical",
    policy: name("policy", i),
    pod: pod(i),
    container: name("container", i),
    value: 0.987654321,
    threshold: 0.3,
    windowMs: 5000,
    firstSeenMs: Date.now() - 3_600_000,
    lastSeenMs: Date.now(),
    // The most keys any rule writes (CPUStarvation), with long culprit evidence.
    culprit: { pod: pod(i + 1000), score: 0.87654, evidence: "e".repeat(256) },
    evidence: { stallShare: 0.98765, usageCores: 0.12345, neighbourCores: 1.87654, outsidePodsCores: 0.01234, threads: 16, cores: 2 },
    message: "m".repeat(2000),
  };
}

function worstDependency(i: number): Dependency {
  return {
    from: `${ns(i)}/${name("pod", i)}`,
    to: `${ns(i + 1)}/${name("pod", i + 1)}`,
    kind: "Pod",
    fromWorkload: `StatefulSet/${name("workload", i)}`,
    toWorkload: `StatefulSet/${name("workload", i + 1)}`,
    port: 65535,
    direction: "outbound",
    connections: 65535,
    recentConnections: 65535,
    firstSeen: new Date().toISOString(),
    lastSeen: new Date().toISOString(),
  };
}

function worstIncident(i: number): Incident {
  return {
    id: `inc-${i}`,
    node: "node",
    rule: "CPUStarvation",
    severity: "critical",
    policy: name("policy", i),
    pod: pod(i),
    container: name("container", i),
    workload: `StatefulSet/${name("workload", i)}`,
    startMs: Date.now() - 7_200_000,
    endMs: Date.now() - 3_600_000,
    lastSeenMs: Date.now() - 3_600_000,
    peakValue: 0.987654321,
    peakAtMs: Date.now() - 5_000_000,
    threshold: 0.3,
    culprits: Array.from({ length: 8 }, (_, c) => ({ pod: pod(i * 10 + c), score: 0.87654, share: 0.12345 })),
    callers: Array.from({ length: 20 }, (_, c) => `${ns(c)}/${name("caller", c)}`),
    evidence: {},
    message: "m".repeat(2000),
  };
}

/** A string of the schema's full length for every string, every list at maxItems: what the CRD would accept. */
function schemaBoundBytes(): number {
  const finding = {
    rule: "CPUStarvation",
    severity: "critical",
    policy: "p".repeat(253),
    pod: { namespace: "n".repeat(63), name: "p".repeat(253), uid: "u".repeat(64) },
    container: "c".repeat(253),
    value: 0.123456789,
    threshold: 0.123456789,
    window: "5s",
    firstSeen: new Date().toISOString(),
    lastSeen: new Date().toISOString(),
    culprit: { namespace: "n".repeat(63), name: "p".repeat(253), uid: "u".repeat(64), score: 0.123456789 },
    evidence: Object.fromEntries(Array.from({ length: 16 }, (_, k) => [`k${k}`.padEnd(16, "k"), "v".repeat(256)])),
    message: "m".repeat(1024),
  };
  const incident = recentIncident({ ...worstIncident(0), message: "m".repeat(512) });
  const status = {
    findings: Array.from({ length: MAX_FINDINGS }, () => finding),
    dependencies: Array.from({ length: MAX_DEPENDENCIES }, (_, i) => worstDependency(i)),
    recentIncidents: Array.from({ length: MAX_RECENT_INCIDENTS }, () => incident),
  };
  return Buffer.byteLength(JSON.stringify({ status }));
}

export function benchStatusSize(): Promise<BenchResult[]> {
  const findings = Array.from({ length: MAX_FINDINGS }, (_, i) => worstFinding(i));
  const dependencies = Array.from({ length: MAX_DEPENDENCIES }, (_, i) => worstDependency(i));
  const recentIncidents = Array.from({ length: MAX_RECENT_INCIDENTS }, (_, i) => recentIncident(worstIncident(i)));
  const status = buildStatus({
    findings,
    dependencies,
    agent: { version: "v".repeat(64), cgroupLayout: "v2/systemd", lastSampleMs: Date.now(), pods: 110, samplesStored: 2 ** 40, endpoint: "255.255.255.255:65535" },
    maxFindings: MAX_FINDINGS,
    recentIncidents,
  });
  const agentBytes = Buffer.byteLength(JSON.stringify({ status }));
  const untrimmedBytes = Buffer.byteLength(JSON.stringify({ status: { ...status, findings: findings.map(nodeFinding), dependencies, recentIncidents } }));
  const schemaBytes = schemaBoundBytes();
  return Promise.resolve([
    {
      name: "status-size: largest NodeFindings status the agent writes",
      value: Math.round(agentBytes / 1024),
      unit: "KiB",
      target: `≤ ${STATUS_BUDGET_BYTES / 1024} (⅓ of etcd)`,
      pass: agentBytes <= STATUS_BUDGET_BYTES && agentBytes < ETCD_LIMIT_BYTES,
      method: "buildStatus with 200 findings, 200 dependencies and 100 recent incidents, every name and message at its maximum length, after the status byte budget",
    },
    {
      name: "status-size: the same lists before the byte budget trims them",
      value: Math.round(untrimmedBytes / 1024),
      unit: "KiB",
      method: "what the worst case would weigh without the budget: why the agent has one",
    },
    {
      name: "status-size: largest status the CRD schema accepts",
      value: Math.round(schemaBytes / 1024),
      unit: "KiB",
      method: "every list at maxItems, every string at maxLength, 16 evidence entries of 256 characters; only agents write status (admission policy), and they keep the budget",
    },
  ]);
}
