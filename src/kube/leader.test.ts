import { KubeError } from "./errors.js";
import { LeaderElector, leaseTimings, microTime, type LeaseRecord, type LeaseStore } from "./leader.js";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function until(cond: () => boolean, timeoutMs = 5000): Promise<number> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error("condition not met in time");
    await sleep(5);
  }
  return Date.now() - t0;
}

/** One Lease with the apiserver's optimistic concurrency: update with a stale resourceVersion is a 409. */
class MemoryLease {
  record: LeaseRecord | undefined;
  private rv = 0;
  writes = 0;

  store(opts: { broken?: () => boolean } = {}): LeaseStore {
    // A real store awaits the network; so does this one, which also lets a test cut it off.
    const check = async () => {
      await Promise.resolve();
      if (opts.broken?.()) throw new KubeError("cannot reach the apiserver", undefined, undefined);
    };
    return {
      describe: () => "Lease test/test",
      get: async () => {
        await check();
        return this.record;
      },
      create: async (r) => {
        await check();
        if (this.record !== undefined) throw new KubeError("exists", 409, "AlreadyExists");
        return this.write(r);
      },
      update: async (r) => {
        await check();
        if (this.record?.resourceVersion !== r.resourceVersion) throw new KubeError("conflict", 409, "Conflict");
        return this.write(r);
      },
    };
  }

  private write(r: LeaseRecord): LeaseRecord {
    this.writes++;
    this.record = { ...r, resourceVersion: String(++this.rv) };
    return this.record;
  }
}

interface Replica {
  elector: LeaderElector;
  leading: boolean;
  startedAt?: number;
  stoppedAt?: number;
}

const LEASE_MS = 1000;

function replica(lease: MemoryLease, identity: string, broken?: () => boolean): Replica {
  const r: Replica = { leading: false } as Replica;
  r.elector = new LeaderElector({
    store: lease.store(broken ? { broken } : {}),
    identity,
    leaseDurationMs: LEASE_MS,
    ...leaseTimings(LEASE_MS),
    onStartedLeading: () => {
      r.leading = true;
      r.startedAt = Date.now();
    },
    onStoppedLeading: () => {
      r.leading = false;
      r.stoppedAt = Date.now();
    },
  });
  return r;
}

describe("LeaderElector", () => {
  const running: Replica[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((r) => r.elector.stop()));
  });
  const start = (...rs: Replica[]) => {
    for (const r of rs) {
      running.push(r);
      r.elector.start();
    }
  };

  test("of two replicas exactly one leads, and the Lease names it", async () => {
    const lease = new MemoryLease();
    const a = replica(lease, "a");
    const b = replica(lease, "b");
    start(a, b);
    await until(() => a.leading || b.leading);
    await sleep(LEASE_MS * 1.5); // renewals keep the leader; the standby never takes over
    expect([a.leading, b.leading].filter(Boolean)).toHaveLength(1);
    expect(lease.record?.holderIdentity).toBe(a.leading ? "a" : "b");
  });

  test("a leader that shuts down releases the Lease and the standby takes over well within the lease duration", async () => {
    const lease = new MemoryLease();
    const a = replica(lease, "a");
    start(a);
    await until(() => a.leading);
    const b = replica(lease, "b");
    start(b);
    await sleep(200);
    expect(b.leading).toBe(false);
    await a.elector.stop();
    expect(a.leading).toBe(false);
    expect(lease.record?.holderIdentity).not.toBe("a");
    const took = await until(() => b.leading);
    expect(took).toBeLessThan(LEASE_MS);
    expect(lease.record?.holderIdentity).toBe("b");
    expect(lease.record?.leaseTransitions).toBe(1);
  });

  test("a leader cut off from the apiserver stops acting before the standby starts (no two leaders)", async () => {
    const lease = new MemoryLease();
    let partitioned = false;
    const a = replica(lease, "a", () => partitioned);
    start(a);
    await until(() => a.leading);
    const b = replica(lease, "b");
    start(b);
    await sleep(300);
    const cutAt = Date.now();
    partitioned = true;
    await until(() => b.leading, 4000);
    expect(a.leading).toBe(false);
    expect(a.stoppedAt!).toBeLessThanOrEqual(b.startedAt!);
    // renewDeadline (2/3 of the lease) for a to stand down; lease duration plus a retry for b to take over
    expect(a.stoppedAt! - cutAt).toBeLessThan(LEASE_MS);
    expect(b.startedAt! - cutAt).toBeLessThan(LEASE_MS + 2 * leaseTimings(LEASE_MS).retryPeriodMs + 100);
  });

  test("a standby that has just started waits a full lease duration before taking an unrenewed Lease", async () => {
    const lease = new MemoryLease();
    const past = microTime(Date.now() - 60_000);
    await lease.store().create({ holderIdentity: "gone", leaseDurationSeconds: 1, acquireTime: past, renewTime: past, leaseTransitions: 0 });
    const b = replica(lease, "b");
    start(b);
    // The record's own renewTime is a minute old, but another node's clock is not trusted.
    await sleep(LEASE_MS * 0.7);
    expect(b.leading).toBe(false);
    await until(() => b.leading, 2000);
  });

  test("writes carry the resourceVersion read, so a stale write loses with a conflict", async () => {
    const lease = new MemoryLease();
    const store = lease.store();
    const first = await store.create({ holderIdentity: "a", leaseDurationSeconds: 1, leaseTransitions: 0 });
    await store.update({ ...first, holderIdentity: "b" });
    await expect(store.update({ ...first, holderIdentity: "c" })).rejects.toMatchObject({ status: 409 });
  });

  test("timings keep client-go's proportions and reject a renew deadline beyond the lease", () => {
    expect(leaseTimings(15_000)).toEqual({ renewDeadlineMs: 10_000, retryPeriodMs: 2000 });
    const store = new MemoryLease().store();
    const bad = () =>
      new LeaderElector({ store, identity: "x", leaseDurationMs: 1000, renewDeadlineMs: 1000, retryPeriodMs: 100, onStartedLeading: () => undefined, onStoppedLeading: () => undefined });
    expect(bad).toThrow(/renewDeadline/);
  });
});

test("microTime writes six fractional digits, as metav1.MicroTime requires", () => {
  expect(microTime(Date.UTC(2025, 0, 2, 3, 4, 5, 678))).toBe("2025-01-02T03:04:05.678000Z");
});
