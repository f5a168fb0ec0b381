/**
 * What the bench watches of the controller while the fleet writes: when each change (a `probe-N` pod) first
 * shows in a policy's status (a watch on StarvationPolicies, so no poll interval blurs the time) and in
 * `GET /api/v1/top` (polled every 500 ms), and how long the read API takes to answer.
 */
import { performance } from "node:perf_hooks";
import type { StarvationPolicy } from "../api/types.generated.js";
import type { KubeClient } from "../kube/client.js";
import type { Informer } from "../kube/informer.js";
import { STARVATION_POLICY_KIND } from "../kube/resources.js";

const PROBE = /probe-(\d+)/g;
const TOP_POLL_MS = 500;

/** The first time each probe pod was seen, by where it was seen. */
export class ProbeSightings {
  readonly inPolicy = new Map<string, number>();
  readonly inTop = new Map<string, number>();
  private readonly policies: Informer<StarvationPolicy>;
  private topTimer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(client: KubeClient, private readonly base: string, private readonly token: string) {
    this.policies = client.informer<StarvationPolicy>(STARVATION_POLICY_KIND);
    this.policies.on((_event, policy) => {
      note(this.inPolicy, JSON.stringify(policy.status?.topRisks ?? []), Date.now());
    });
  }

  async start(): Promise<void> {
    await this.policies.start();
    this.topTimer = setInterval(() => {
      if (this.polling) return;
      this.polling = true;
      void this.pollTop().finally(() => { this.polling = false; });
    }, TOP_POLL_MS);
  }

  async stop(): Promise<void> {
    clearInterval(this.topTimer);
    await this.policies.stop();
  }

  private async pollTop(): Promise<void> {
    try {
      const response = await fetch(`${this.base}/api/v1/top?limit=10`, { headers: { authorization: `Bearer ${this.token}` } });
      const seenAt = Date.now();
      if (response.ok) note(this.inTop, await response.text(), seenAt);
    } catch {
      // The controller is starting or stopping; the next poll tells.
    }
  }
}

function note(seen: Map<string, number>, text: string, atMs: number): void {
  for (const match of text.matchAll(PROBE)) {
    const pod = match[0];
    if (!seen.has(pod)) seen.set(pod, atMs);
  }
}

export const READ_PATHS = ["/api/v1/summary", "/api/v1/top", "/api/v1/incidents"] as const;

/** Latencies of the read API, in ms, by path: one round of every path per interval, as a dashboard polls. */
export class ReadApiProbe {
  readonly latenciesMs = new Map<string, number[]>(READ_PATHS.map((p) => [p, []]));
  failures = 0;
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly base: string, private readonly token: string, private readonly intervalMs = 1000) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const started = performance.now();
      for (const path of READ_PATHS) await this.once(path);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, this.intervalMs - (performance.now() - started))));
    }
  }

  private async once(path: string): Promise<void> {
    const started = performance.now();
    try {
      const response = await fetch(`${this.base}${path}`, { headers: { authorization: `Bearer ${this.token}` } });
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
      this.latenciesMs.get(path)?.push(performance.now() - started);
    } catch {
      this.failures++;
    }
  }
}
