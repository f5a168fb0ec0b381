import { FindingLifecycle, type Subject } from "./lifecycle.js";
import type { RuleConfig } from "./types.js";

const config: RuleConfig = { enabled: true, threshold: 0.25, forMs: 5000, clearAfterMs: 30000, severity: "warning" };
const subject: Subject = { rule: "CPUThrottling", pod: { uid: "p1" }, container: "c1", windowMs: 5000 };
const observation = { value: 0.8, message: "throttled" };

describe("finding lifecycle", () => {
  it("raises only after the condition held for `for`, with firstSeen at the onset", () => {
    const lifecycle = new FindingLifecycle();
    for (let t = 0; t < 5000; t += 1000) {
      expect(lifecycle.update("k", subject, t, observation, config)).toBeUndefined();
    }
    const event = lifecycle.update("k", subject, 5000, observation, config);
    expect(event?.type).toBe("raised");
    expect(event?.finding.firstSeenMs).toBe(0);
    expect(event?.finding.lastSeenMs).toBe(5000);
    expect(lifecycle.active()).toHaveLength(1);
  });

  it("a blip shorter than `for` never becomes a finding", () => {
    const lifecycle = new FindingLifecycle();
    lifecycle.update("k", subject, 0, observation, config);
    lifecycle.update("k", subject, 3000, observation, config);
    expect(lifecycle.update("k", subject, 4000, undefined, config)).toBeUndefined();
    // The onset starts over, so 5 s after the first blip is not enough.
    expect(lifecycle.update("k", subject, 5000, observation, config)).toBeUndefined();
    expect(lifecycle.active()).toHaveLength(0);
  });

  it("keeps a raised finding through short gaps and clears it after clearAfter", () => {
    const lifecycle = new FindingLifecycle();
    lifecycle.update("k", subject, 0, observation, config);
    lifecycle.update("k", subject, 5000, observation, config);
    expect(lifecycle.update("k", subject, 20000, undefined, config)).toBeUndefined();
    expect(lifecycle.active()).toHaveLength(1);
    lifecycle.update("k", subject, 21000, { ...observation, value: 0.9 }, config);
    expect(lifecycle.active()[0]?.value).toBe(0.9);
    expect(lifecycle.update("k", subject, 50000, undefined, config)).toBeUndefined();
    const cleared = lifecycle.update("k", subject, 51000, undefined, config);
    expect(cleared?.type).toBe("cleared");
    expect(lifecycle.active()).toHaveLength(0);
  });

  it("raises at once when `for` is zero", () => {
    const lifecycle = new FindingLifecycle();
    const event = lifecycle.update("k", { ...subject, rule: "OOMKill" }, 7, { value: 1, message: "oom" }, { ...config, forMs: 0 });
    expect(event?.type).toBe("raised");
  });

  describe("after a restart", () => {
    const onset = { rule: "CPUThrottling" as const, podUid: "p1", container: "c1", onsetMs: 1000 };

    it("raises a resumed finding at once, under its first onset, when its condition still holds", () => {
      const lifecycle = new FindingLifecycle();
      lifecycle.resume([onset], 120_000);
      const event = lifecycle.update("k", subject, 60_000, observation, config);
      expect(event?.type).toBe("raised");
      expect(event?.finding.firstSeenMs).toBe(1000);
    });

    it("waits out `for` again when the condition was seen not to hold first, or the grace has passed", () => {
      const stopped = new FindingLifecycle();
      stopped.resume([onset], 120_000);
      expect(stopped.update("k", subject, 51_000, undefined, config)).toBeUndefined();
      expect(stopped.update("k", subject, 52_000, observation, config)).toBeUndefined();
      expect(stopped.update("k", subject, 57_000, observation, config)?.finding.firstSeenMs).toBe(52_000);

      const late = new FindingLifecycle();
      late.resume([onset], 120_000);
      expect(late.update("k", subject, 130_000, observation, config)).toBeUndefined();
    });

    it("resumes only the subject it names", () => {
      const lifecycle = new FindingLifecycle();
      lifecycle.resume([{ ...onset, container: "other" }], 120_000);
      expect(lifecycle.update("k", subject, 60_000, observation, config)).toBeUndefined();
    });
  });
});
