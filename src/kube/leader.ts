/**
 * Leader election on a coordination.k8s.io/v1 Lease, after client-go's leaderelection package:
 *  - a candidate takes the Lease when it is free (no holder: released) or expired;
 *  - "expired" is judged by the candidate's own clock: the record must stay unchanged for
 *    leaseDuration from when this candidate first saw it, so clock skew between nodes does not matter;
 *  - every write carries the resourceVersion it read (optimistic concurrency), so two candidates
 *    racing for an expired Lease cannot both win: one gets 409 Conflict;
 *  - the leader renews every retryPeriod and steps down if it could not renew for renewDeadline
 *    (< leaseDuration, so it stops acting before anyone else may start);
 *  - on shutdown the leader releases the Lease (empty holder), so a standby takes over at once.
 */
import type { Logger } from "pino";
import { sleep } from "./backoff.js";
import type { KubeClient } from "./client.js";
import { isConflict, KubeError } from "./errors.js";
import { LEASE } from "./resources.js";

export interface LeaseRecord {
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  readonly acquireTime?: string;
  readonly renewTime?: string;
  readonly leaseTransitions: number;
  /** Of the stored object; set on what get/create/update return, used as the update precondition. */
  readonly resourceVersion?: string;
}

/** Storage of one Lease. update() must fail with a 409 KubeError when resourceVersion is stale. */
export interface LeaseStore {
  get(): Promise<LeaseRecord | undefined>;
  create(record: LeaseRecord): Promise<LeaseRecord>;
  update(record: LeaseRecord): Promise<LeaseRecord>;
  describe(): string;
}

export interface LeaderElectorOptions {
  readonly store: LeaseStore;
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly log?: Logger;
  readonly now?: () => number;
  /** Called when this replica becomes leader. */
  readonly onStartedLeading: () => void;
  /** Called when it stops being leader (lost the Lease, or shutdown). */
  readonly onStoppedLeading: () => void;
  /** Called when the observed holder changes (including to this replica). */
  readonly onNewLeader?: (identity: string) => void;
}

/** Lease times are metav1.MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/** renewDeadline and retryPeriod in client-go's default proportions (15s / 10s / 2s) of a lease duration. */
export function leaseTimings(leaseDurationMs: number): { renewDeadlineMs: number; retryPeriodMs: number } {
  return { renewDeadlineMs: Math.round((leaseDurationMs * 2) / 3), retryPeriodMs: Math.max(100, Math.round(leaseDurationMs / 7.5)) };
}

export class LeaderElector {
  private leading = false;
  private stopped = false;
  private readonly abort = new AbortController();
  private observed: { key: string; atMs: number } | undefined;
  private lastRecord: LeaseRecord | undefined;
  private lastHolder: string | undefined;
  private loop: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(private readonly opts: LeaderElectorOptions) {
    this.now = opts.now ?? Date.now;
    if (opts.renewDeadlineMs >= opts.leaseDurationMs) throw new Error("renewDeadline must be shorter than the lease duration");
    if (opts.retryPeriodMs >= opts.renewDeadlineMs) throw new Error("retryPeriod must be shorter than renewDeadline");
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** The holder last observed (may be stale by up to retryPeriod). */
  leader(): string | undefined {
    return this.lastHolder;
  }

  /** Runs the acquire/renew loop in the background until stop(). */
  start(): void {
    this.loop ??= this.run();
  }

  /** Stops campaigning; a leader steps down and releases the Lease. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.loop;
    if (this.leading) {
      this.setLeading(false);
      await this.release();
    }
  }

  private async run(): Promise<void> {
    while (!this.isStopped()) {
      await this.acquire();
      if (this.isStopped()) return;
      await this.renewUntilLost();
    }
  }

  /** A method, not the field: stop() changes the field while the loops await. */
  private isStopped(): boolean {
    return this.stopped;
  }

  private async acquire(): Promise<void> {
    while (!this.isStopped()) {
      if (await this.tryAcquireOrRenew()) {
        this.setLeading(true);
        return;
      }
      // Jitter, as client-go does, so candidates do not hit the apiserver in lockstep.
      await sleep(this.opts.retryPeriodMs * (1 + 0.2 * Math.random()), this.abort.signal);
    }
  }

  private async renewUntilLost(): Promise<void> {
    let lastRenewMs = this.now();
    while (!this.isStopped()) {
      await sleep(this.opts.retryPeriodMs, this.abort.signal);
      if (this.isStopped()) return;
      if (await this.tryAcquireOrRenew()) {
        lastRenewMs = this.now();
        continue;
      }
      if (this.now() - lastRenewMs >= this.opts.renewDeadlineMs || this.heldByOther()) {
        this.opts.log?.warn({ lease: this.opts.store.describe(), holder: this.lastHolder }, "lost the leader lease; standing by");
        this.setLeading(false);
        return;
      }
    }
  }

  private heldByOther(): boolean {
    const holder = this.lastRecord?.holderIdentity ?? "";
    return holder !== "" && holder !== this.opts.identity;
  }

  private setLeading(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    if (leading) {
      this.opts.log?.info({ lease: this.opts.store.describe(), identity: this.opts.identity }, "became leader");
      this.opts.onStartedLeading();
    } else {
      this.opts.onStoppedLeading();
    }
  }

  private observe(record: LeaseRecord): void {
    this.lastRecord = record;
    const key = `${record.holderIdentity}|${record.renewTime ?? ""}|${record.resourceVersion ?? ""}`;
    if (this.observed?.key !== key) this.observed = { key, atMs: this.now() };
    if (record.holderIdentity !== this.lastHolder) {
      this.lastHolder = record.holderIdentity;
      if (record.holderIdentity !== "") this.opts.onNewLeader?.(record.holderIdentity);
    }
  }

  private fresh(acquireTime?: string, transitions = 0): LeaseRecord {
    const now = microTime(this.now());
    return {
      holderIdentity: this.opts.identity,
      leaseDurationSeconds: Math.max(1, Math.round(this.opts.leaseDurationMs / 1000)),
      acquireTime: acquireTime ?? now,
      renewTime: now,
      leaseTransitions: transitions,
    };
  }

  /** One attempt; true if this replica holds the Lease afterwards. Errors count as "not now". */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const store = this.opts.store;
    try {
      const current = await store.get();
      if (current === undefined) {
        this.observe(await store.create(this.fresh()));
        return true;
      }
      this.observe(current);
      const next = this.claim(current);
      if (next === undefined) return false;
      this.observe(await store.update(next));
      return true;
    } catch (err) {
      if (!isConflict(err)) this.opts.log?.warn({ err, lease: store.describe() }, "cannot read or write the leader lease");
      return false;
    }
  }

  /** The record to write to hold the Lease, or undefined while another live holder has it. */
  private claim(current: LeaseRecord): LeaseRecord | undefined {
    const mine = current.holderIdentity === this.opts.identity;
    const free = current.holderIdentity === "";
    const expired = (this.observed?.atMs ?? 0) + current.leaseDurationSeconds * 1000 <= this.now();
    if (!mine && !free && !expired) return undefined;
    const base = mine ? this.fresh(current.acquireTime, current.leaseTransitions) : this.fresh(undefined, current.leaseTransitions + 1);
    return current.resourceVersion === undefined ? base : { ...base, resourceVersion: current.resourceVersion };
  }

  private async release(): Promise<void> {
    const rv = this.lastRecord?.resourceVersion;
    if (rv === undefined) return;
    try {
      const now = microTime(this.now());
      await this.opts.store.update({
        holderIdentity: "",
        leaseDurationSeconds: 1,
        acquireTime: now,
        renewTime: now,
        leaseTransitions: this.lastRecord?.leaseTransitions ?? 0,
        resourceVersion: rv,
      });
      this.opts.log?.info({ lease: this.opts.store.describe() }, "released the leader lease");
    } catch (err) {
      this.opts.log?.warn({ err, lease: this.opts.store.describe() }, "cannot release the leader lease; it will expire");
    }
  }
}

interface LeaseObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; resourceVersion?: string; labels?: Record<string, string> };
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

function toRecord(lease: LeaseObject): LeaseRecord {
  const s = lease.spec ?? {};
  return {
    holderIdentity: s.holderIdentity ?? "",
    leaseDurationSeconds: s.leaseDurationSeconds ?? 0,
    ...(s.acquireTime === undefined ? {} : { acquireTime: s.acquireTime }),
    ...(s.renewTime === undefined ? {} : { renewTime: s.renewTime }),
    leaseTransitions: s.leaseTransitions ?? 0,
    ...(lease.metadata.resourceVersion === undefined ? {} : { resourceVersion: lease.metadata.resourceVersion }),
  };
}

/** A LeaseStore over the API. The Lease's times are written as MicroTime strings, as the API requires. */
export function kubeLeaseStore(client: KubeClient, namespace: string, name: string): LeaseStore {
  const toObject = (r: LeaseRecord): LeaseObject => ({
    ...LEASE,
    metadata: { name, namespace, ...(r.resourceVersion === undefined ? {} : { resourceVersion: r.resourceVersion }) },
    spec: {
      holderIdentity: r.holderIdentity,
      leaseDurationSeconds: r.leaseDurationSeconds,
      ...(r.acquireTime === undefined ? {} : { acquireTime: r.acquireTime }),
      ...(r.renewTime === undefined ? {} : { renewTime: r.renewTime }),
      leaseTransitions: r.leaseTransitions,
    },
  });
  return {
    describe: () => `Lease ${namespace}/${name}`,
    async get() {
      const lease = await client.get<LeaseObject>({ ...LEASE, name, namespace });
      return lease === undefined ? undefined : toRecord(lease);
    },
    async create(r) {
      return toRecord(await client.create(toObject(r)));
    },
    async update(r) {
      if (r.resourceVersion === undefined) throw new KubeError(`cannot update Lease ${namespace}/${name} without a resourceVersion`, 409, "Conflict");
      return toRecord(await client.replace(toObject(r)));
    },
  };
}
