import type { KubeObject } from "../api/meta.js";
import type { NodeFindings } from "../api/types.generated.js";
import { HistoryUnavailableError } from "../store/index.js";
import { silentLogger } from "../util/log.js";
import { HistoryHealth, historyCondition, nextHistoryState } from "./history-health.js";
import { NodeFindingsReporter, type StatusWriter } from "./reporter.js";

const PATH = "/var/lib/xander/xander.db";
const T0 = Date.parse("2026-01-01T00:00:00Z");

/** Errors as better-sqlite3 and node:fs raise them: read by shape, not by class. */
function sqliteError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}
const diskFull = sqliteError("SQLITE_FULL", "database or disk is full");
const ioError = sqliteError("SQLITE_IOERR_WRITE", "disk I/O error");

describe("the HistoryWritable condition", () => {
  it("is True with reason TicksWritten, naming the file, while ticks are written", () => {
    const condition = historyCondition(nextHistoryState(undefined, PATH, undefined, T0));
    expect(condition).toEqual({
      type: "HistoryWritable",
      status: "True",
      lastTransitionTime: "2026-01-01T00:00:00.000Z",
      reason: "TicksWritten",
      message: `ticks are written to the history at ${PATH}`,
    });
  });

  it.each([
    { what: "SQLITE_FULL", error: diskFull, reason: "DiskFull" },
    { what: "ENOSPC from the file system", error: Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" }), reason: "DiskFull" },
    { what: "a file not opened for lack of space", error: new HistoryUnavailableError(PATH, diskFull, 10_000), reason: "DiskFull" },
    { what: "an I/O error", error: ioError, reason: "WriteFailed" },
    { what: "a file not opened for another reason", error: new HistoryUnavailableError(PATH, new Error("permission denied"), 10_000), reason: "WriteFailed" },
  ])("is False after $what, with reason $reason and a message naming the file and the error", ({ error, reason }) => {
    const condition = historyCondition(nextHistoryState(undefined, PATH, error, T0));
    expect(condition.status).toBe("False");
    expect(condition.reason).toBe(reason);
    expect(condition.message).toContain(PATH);
    expect(condition.message).toContain(error.message);
    expect(condition.message).toMatch(/findings are still raised and cleared from memory/);
  });

  it("moves its lastTransitionTime only when writability flips, not when the reason or message changes", () => {
    const written = nextHistoryState(undefined, PATH, undefined, T0);
    const stillWritten = nextHistoryState(written, PATH, undefined, T0 + 1000);
    expect(stillWritten.sinceMs).toBe(T0);
    const full = nextHistoryState(stillWritten, PATH, diskFull, T0 + 2000);
    expect(full.sinceMs).toBe(T0 + 2000);
    const otherFailure = nextHistoryState(full, PATH, ioError, T0 + 3000);
    expect(otherFailure).toMatchObject({ writable: false, reason: "WriteFailed", sinceMs: T0 + 2000 });
    const back = nextHistoryState(otherFailure, PATH, undefined, T0 + 4000);
    expect(back).toMatchObject({ writable: true, reason: "TicksWritten", sinceMs: T0 + 4000 });
  });

  it("keeps a long message within 1 KiB", () => {
    const state = nextHistoryState(undefined, PATH, new Error("x".repeat(5000)), T0);
    expect(state.message.length).toBeLessThanOrEqual(1024);
  });
});

describe("HistoryHealth", () => {
  it("says nothing before the first tick, then reports each flip once, and a first failure as one", () => {
    const failingFromTheStart = new HistoryHealth(PATH);
    expect(failingFromTheStart.observe(diskFull, T0)).toBe(true);
    expect(failingFromTheStart.observe(diskFull, T0 + 1000)).toBe(false);
    const health = new HistoryHealth(PATH);
    expect(health.conditions()).toEqual([]);
    expect(health.observe(undefined, T0)).toBe(false);
    expect(health.observe(diskFull, T0 + 1000)).toBe(true);
    expect(health.observe(diskFull, T0 + 2000)).toBe(false);
    expect(health.conditions()).toEqual([expect.objectContaining({ status: "False", reason: "DiskFull", lastTransitionTime: new Date(T0 + 1000).toISOString() })]);
    expect(health.observe(undefined, T0 + 3000)).toBe(true);
    expect(health.conditions()).toEqual([expect.objectContaining({ status: "True", lastTransitionTime: new Date(T0 + 3000).toISOString() })]);
  });
});

describe("the reporter with the HistoryWritable condition", () => {
  it("writes it beside Reporting, with the observedGeneration of the object it last wrote", async () => {
    const written: NodeFindings[] = [];
    const writer: StatusWriter = {
      applyStatus<T extends KubeObject>(obj: T): Promise<T> {
        written.push(obj as unknown as NodeFindings);
        return Promise.resolve({ ...obj, metadata: { ...obj.metadata, generation: 3 } });
      },
    };
    const reporter = new NodeFindingsReporter(writer, "node-a", silentLogger());
    const timing = { heartbeatMs: 60_000, minIntervalMs: 0 };
    const status = { findings: [], summary: { critical: 0, warning: 0 } };
    const full = historyCondition(nextHistoryState(undefined, PATH, diskFull, T0));
    await reporter.report(status, "a", T0, timing, [full]);
    await reporter.report(status, "b", T0 + 1000, timing, [full]);
    expect(written[0]?.status?.conditions?.map((c) => c.type)).toEqual(["Reporting", "HistoryWritable"]);
    expect(written[0]?.status?.conditions?.[1]).toEqual(full);
    expect(written[1]?.status?.conditions?.[1]).toEqual({ ...full, observedGeneration: 3 });
  });
});
