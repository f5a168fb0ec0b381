import { join } from "node:path";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import type { Finding, PodRef } from "../../src/analysis/types.js";
import type { CgroupLayout } from "../../src/cgroup/types.js";
import { CgroupSandbox, type SandboxPod } from "../../src/demo/sandbox.js";
import { allocateArgv, fillToShareArgv } from "../../src/demo/workloads.js";
import { runScan, type ScanResult } from "../../src/engine/scan.js";
import { openStore } from "../../src/store/index.js";
import { silentLogger } from "../../src/util/log.js";
import { requireRealCgroups } from "./support/host.js";

const MiB = 1024 * 1024;
let layout: CgroupLayout;
let sandbox: CgroupSandbox | undefined;
let dir: string;

beforeAll(async () => {
  layout = await requireRealCgroups();
  dir = mkdtempSync(join(tmpdir(), "xander-engine-"));
});

afterEach(async () => {
  const failures = (await sandbox?.cleanup()) ?? [];
  sandbox = undefined;
  expect(failures).toEqual([]);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function ref(pod: SandboxPod): PodRef {
  return { uid: pod.uid, namespace: "test", name: pod.name };
}

async function scan(pods: SandboxPod[], durationMs: number, dbPath?: string): Promise<ScanResult> {
  return runScan({
    cgroupRoot: layout.root,
    procRoot: "/proc",
    intervalMs: 1000,
    windowMs: 5000,
    durationMs,
    logger: silentLogger(),
    podNames: new Map(pods.map((pod) => [pod.uid, ref(pod)])),
    ...(dbPath ? { dbPath } : {}),
  });
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function findingsOn(result: ScanResult, pod: SandboxPod): Finding[] {
  return result.findings.filter((finding) => finding.pod.uid === pod.uid);
}

describe("node engine on this machine's real cgroups", () => {
  it("finds v1 quota throttling on the limited pod, never blames a neighbour for it, and leaves the calm pod alone", async () => {
    sandbox = new CgroupSandbox(layout);
    const throttled = sandbox.addPod({ name: "throttled", qosClass: "burstable", cpuRequestCores: 1, cpuLimitCores: 0.2 });
    const calm = sandbox.addPod({ name: "calm", qosClass: "besteffort" });
    sandbox.burn(throttled, 1);
    sandbox.start(calm, ["sleep", "600"]);
    const result = await scan([throttled, calm], 12_000);

    const rules = findingsOn(result, throttled).map((f) => f.rule);
    expect(rules).toContain("CPUThrottling");
    expect(rules).not.toContain("CPUStarvation");
    const throttling = findingsOn(result, throttled).find((f) => f.rule === "CPUThrottling");
    expect(throttling?.value).toBeGreaterThan(0.5);
    expect(throttling?.message).toMatch(/limit 0.2 cores/);
    expect(findingsOn(result, calm)).toEqual([]);
  });

  it("measures PSI contention in the unified hierarchy and names the high-shares neighbour as culprit", async () => {
    sandbox = new CgroupSandbox(layout);
    const noisy = sandbox.addPod({ name: "noisy", qosClass: "burstable", cpuRequestCores: 2 });
    const victim = sandbox.addPod({ name: "victim", qosClass: "burstable", cpuRequestCores: 0.1 });
    const calm = sandbox.addPod({ name: "calm", qosClass: "besteffort" });
    sandbox.burn(noisy, 2);
    sandbox.burn(victim, 1);
    sandbox.start(calm, ["sleep", "600"]);
    const dbPath = join(dir, "contention.db");
    const result = await scan([noisy, victim, calm], 14_000, dbPath);

    const starvation = findingsOn(result, victim).find((f) => f.rule === "CPUStarvation");
    expect(starvation).toBeDefined();
    expect(starvation?.value).toBeGreaterThanOrEqual(0.3);
    expect(starvation?.culprit?.pod.uid).toBe(noisy.uid);
    expect(starvation?.culprit?.pod.name).toBe("noisy");
    expect(starvation?.culprit?.evidence).toMatch(/test\/noisy used [0-9.]+ cores/);
    expect(findingsOn(result, noisy).map((f) => f.rule)).not.toContain("CPUStarvation");
    expect(findingsOn(result, calm)).toEqual([]);

    // The history holds the same story: the victim's series shows the stall.
    const store = openStore(dbPath);
    try {
      const series = store.podSeries(victim.uid, Date.now() - 60_000, { resolution: "raw" });
      const stalls = series.containers.flatMap((c) => c.points.map((p) => p.cpuStallShare ?? 0));
      expect(stalls.length).toBeGreaterThanOrEqual(8);
      expect(Math.max(...stalls)).toBeGreaterThan(0.3);
    } finally {
      store.close();
    }
  });

  it("finds IO stalls in the unified hierarchy, where only the node's io.pressure is read while the node is still", async () => {
    sandbox = new CgroupSandbox(layout);
    const writer = sandbox.addPod({ name: "writer", qosClass: "burstable", cpuRequestCores: 0.5 });
    const calm = sandbox.addPod({ name: "calm", qosClass: "besteffort" });
    sandbox.start(calm, ["sleep", "600"]);
    const scanning = scan([writer, calm], 14_000);
    // Synchronous direct writes wait on the disk most of the time: the writer's io.pressure, and the node's.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const file = join(dir, "writer.bin");
    sandbox.start(writer, ["sh", "-c", `while :; do dd if=/dev/zero of=${file} bs=64k count=1000 oflag=direct,dsync 2>/dev/null; done`]);
    const result = await scanning;

    const io = findingsOn(result, writer).find((f) => f.rule === "IOPressure");
    expect(io).toBeDefined();
    expect(io?.value).toBeGreaterThanOrEqual(0.3);
    expect(findingsOn(result, calm)).toEqual([]);
  });

  it("records a v1 memory-limit OOM kill as a critical finding", async () => {
    sandbox = new CgroupSandbox(layout);
    const hog = sandbox.addPod({ name: "hog", qosClass: "burstable", memoryLimitBytes: 96 * MiB });
    const scanning = scan([hog], 8_000);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const process = sandbox.start(hog, allocateArgv(400 * MiB));
    const exitCode = await process.exited;
    expect(exitCode).not.toBe(0);
    const result = await scanning;
    const oom = findingsOn(result, hog).find((f) => f.rule === "OOMKill");
    expect(oom?.severity).toBe("critical");
    expect(oom?.value).toBeGreaterThanOrEqual(1);
    expect(oom?.message).toMatch(/OOM-killed .*96 MiB memory limit/);
  });

  it("finds a working set near its memory limit", async () => {
    sandbox = new CgroupSandbox(layout);
    const full = sandbox.addPod({ name: "full", qosClass: "burstable", memoryLimitBytes: 192 * MiB });
    const roomy = sandbox.addPod({ name: "roomy", qosClass: "burstable", memoryLimitBytes: 1024 * MiB });
    const memoryMount = layout.v1.memory ?? layout.unified ?? "";
    const usageFile = join(memoryMount, full.containerRelPath, layout.v1.memory ? "memory.usage_in_bytes" : "memory.current");
    sandbox.start(full, fillToShareArgv(usageFile, 192 * MiB, 0.95));
    sandbox.start(roomy, ["sleep", "600"]);
    // Filling takes a while on a busy machine; the rule's clock starts once the pod is near its limit.
    await waitFor(() => Number(readFileSync(usageFile, "utf8")) >= 0.92 * 192 * MiB, 30_000, `${usageFile} to reach 92% of 192 MiB`);
    const result = await scan([full, roomy], 10_000);
    const near = findingsOn(result, full).find((f) => f.rule === "MemoryNearLimit");
    expect(near?.value).toBeGreaterThanOrEqual(0.9);
    expect(near?.message).toMatch(/of its 192 MiB limit/);
    expect(findingsOn(result, roomy)).toEqual([]);
  });
});
