import type { Logger } from "../util/log.js";

/**
 * Runs the agent's API work (Events, status writes) off the sampling path: the tick submits and
 * returns at once. One job runs at a time; a job submitted while another runs waits, and a newer
 * one replaces it, because only the latest status is worth writing. A slow or unreachable API
 * server therefore delays reports, never samples.
 */
export class Publisher {
  private running: Promise<void> | undefined;
  private waiting: (() => Promise<void>) | undefined;

  constructor(private readonly logger: Logger) {}

  submit(job: () => Promise<void>): void {
    if (this.running) {
      this.waiting = job;
      return;
    }
    this.running = job()
      .catch((error: unknown) => { this.logger.error({ err: error }, "publishing to the API failed"); })
      .finally(() => {
        this.running = undefined;
        const next = this.waiting;
        this.waiting = undefined;
        if (next) this.submit(next);
      });
  }

  /** Resolves when nothing is running or waiting (on shutdown, and in tests). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }
}
