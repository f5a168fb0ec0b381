// Leader election between two real `xander controller` processes sharing one Lease: only the holder
// reconciles; killing it (SIGKILL, so it cannot release the Lease) hands over within the lease duration;
// a SIGTERM releases the Lease at once.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNode, deleteNode, installCrds, kubectl, poll, repoRoot, scrapeMetrics } from "../cluster/index.js";
import { freePorts, startXander, type XanderProcess } from "./support/processes.js";

const suffix = randomBytes(3).toString("hex");
const namespace = `xander-le-${suffix}`;
const leaseName = "xander-controller";
const LEASE_MS = 3000;
const nodes: string[] = [];
let dir: string;

interface Replica {
  readonly identity: string;
  readonly port: number;
  readonly proc: XanderProcess;
}

const replicas: Replica[] = [];

/** Runs fn; if it throws, the error carries the tail of every replica's log (the processes are the suspects). */
async function withLogs<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const logs = replicas.map((r) => `--- ${r.identity} (exit ${String(r.proc.child.exitCode)}) ---\n${r.proc.log().split("\n").slice(-15).join("\n")}`);
    throw new Error(`${(err as Error).message}\n${logs.join("\n")}`);
  }
}

function startReplica(identity: string, port: number): Replica {
  const proc = startXander(
    ["controller", "--namespace", namespace, "--identity", identity, "--lease-name", leaseName, "--lease-duration", `${LEASE_MS}ms`, "--resync", "30s", "--metrics-addr", `127.0.0.1:${port}`],
    join(dir, `${identity}.log`),
  );
  const r = { identity, port, proc };
  replicas.push(r);
  return r;
}

interface LeaseJson {
  spec: { holderIdentity?: string; leaseTransitions?: number };
}

async function holder(): Promise<string | undefined> {
  const r = await kubectl(["get", "lease", leaseName, "-n", namespace, "-o", "json"]);
  return r.code === 0 ? ((JSON.parse(r.stdout) as LeaseJson).spec.holderIdentity ?? "") : undefined;
}

async function metrics(r: Replica): Promise<string> {
  return scrapeMetrics(`http://127.0.0.1:${r.port}`);
}

/** Sum of a metric's samples matching the labels (any order); 0 when absent. */
function total(page: string, name: string, labels: Record<string, string> = {}): number {
  return page
    .split("\n")
    .filter((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)))
    .reduce((sum, l) => sum + Number(l.split(" ").pop()), 0);
}

async function ready(r: Replica): Promise<void> {
  await poll(`/readyz of ${r.identity}`, async () => {
    if (r.proc.child.exitCode !== null) throw new Error(`${r.identity} exited with ${r.proc.child.exitCode}`);
    return (await fetch(`http://127.0.0.1:${r.port}/readyz`).catch(() => undefined))?.status === 200 ? true : undefined;
  }, { timeoutMs: 30_000, intervalMs: 200 });
}

async function nodeFindingsFor(node: string, timeoutMs: number): Promise<void> {
  await poll(`NodeFindings ${node}`, async () => ((await kubectl(["get", "nodefindings", node])).code === 0 ? true : undefined), { timeoutMs, intervalMs: 200 });
}

async function newNode(): Promise<string> {
  const name = `le-node-${suffix}-${nodes.length}`;
  nodes.push(name);
  await createNode(name);
  return name;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "xander-leader-"));
  await installCrds(join(repoRoot, "crds"));
}, 120_000);

afterAll(async () => {
  for (const r of replicas) await r.proc.stop("SIGKILL");
  for (const n of nodes) await deleteNode(n);
  await kubectl(["delete", "namespace", namespace, "--ignore-not-found", "--wait=false"]);
  if (process.env.XANDER_KEEP_LOGS === undefined) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe("leader election between two controller processes", () => {
  let leader: Replica;
  let standby: Replica;

  test("both become ready; exactly one holds the Lease and reconciles, the other stands by", async () => {
    const [portA, portB] = await freePorts(2);
    const a = startReplica(`ctl-a-${suffix}`, portA!);
    const b = startReplica(`ctl-b-${suffix}`, portB!);
    await withLogs(() => Promise.all([ready(a), ready(b)])); // a standby is ready too: its caches are synced
    const first = await withLogs(() =>
      poll("a Lease holder", async () => {
        const h = await holder();
        return h === a.identity || h === b.identity ? h : undefined;
      }, { timeoutMs: 30_000 }),
    );
    [leader, standby] = first === a.identity ? [a, b] : [b, a];

    const node = await newNode();
    await nodeFindingsFor(node, 20_000);
    // Still the same holder a few renewals later (the standby never steals a live Lease).
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS));
    expect(await holder()).toBe(leader.identity);

    const [lp, sp] = await Promise.all([metrics(leader), metrics(standby)]);
    expect(total(lp, "xander_controller_leader")).toBe(1);
    expect(total(sp, "xander_controller_leader")).toBe(0);
    expect(total(lp, "xander_controller_reconcile_total", { kind: "Node" })).toBeGreaterThan(0);
    expect(total(sp, "xander_controller_reconcile_total")).toBe(0); // the standby has not reconciled anything
    expect(leader.proc.log()).toContain("leading: reconcilers running");
    expect(standby.proc.log()).not.toContain("leading: reconcilers running");
    expect(standby.proc.log()).toContain("another replica leads; standing by");
  }, 60_000);

  test("killing the leader (SIGKILL, no release) hands the Lease to the standby within the lease duration, and it acts", async () => {
    const killedAt = Date.now();
    leader.proc.child.kill("SIGKILL");
    await leader.proc.exited;
    await withLogs(() => poll("the standby holds the Lease", async () => ((await holder()) === standby.identity ? true : undefined), { timeoutMs: 3 * LEASE_MS, intervalMs: 100 }));
    const tookMs = Date.now() - killedAt;
    // lease duration, plus at most one retry period (LEASE_MS / 7.5) each for observing and acquiring
    expect(tookMs).toBeLessThan(LEASE_MS + 1500);
    await poll("the new leader's gauge", async () => (total(await metrics(standby), "xander_controller_leader") === 1 ? true : undefined), { timeoutMs: 5000 });
    const node = await newNode();
    await nodeFindingsFor(node, 20_000);
    expect(total(await metrics(standby), "xander_controller_reconcile_total", { kind: "Node" })).toBeGreaterThan(0);
    expect(standby.proc.log()).toContain("leading: reconcilers running");
  }, 60_000);

  test("SIGTERM shuts the leader down cleanly and releases the Lease at once", async () => {
    const code = await standby.proc.stop("SIGTERM");
    expect(code).toBe(0);
    expect(await holder()).toBe("");
    expect(standby.proc.log()).toContain("released the leader lease");
  }, 60_000);
});
