/**
 * Whether the node-local history takes this node's ticks, as the `HistoryWritable` condition of NodeFindings
 * and the `xander_agent_history_writable` gauge tell it. Detection never depends on it (the rolling windows
 * live in memory); this says that the record has a gap, and why: a full disk, or another write failure.
 */
import type { Condition } from "../api/types.generated.js";
import { isDiskFull } from "../store/index.js";

export const HISTORY_WRITABLE = "HistoryWritable";
/** metav1.Condition allows 32 KiB; a SQLite message is short, a path may not be. */
const MESSAGE_MAX = 1024;

export type HistoryReason = "TicksWritten" | "DiskFull" | "WriteFailed";

export interface HistoryState {
  readonly writable: boolean;
  /** When `writable` last changed: the condition's lastTransitionTime. */
  readonly sinceMs: number;
  readonly reason: HistoryReason;
  readonly message: string;
}

/** A condition as the agent knows it; the reporter adds the observedGeneration of what it writes. */
export type AgentCondition = Omit<Condition, "observedGeneration">;

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The state after one tick's write: `error` is why it failed, undefined when it was written. The transition
 * time moves only when writability flips; a new reason or message while it stays false keeps it.
 */
export function nextHistoryState(previous: HistoryState | undefined, path: string, error: unknown, nowMs: number): HistoryState {
  const writable = error === undefined;
  const sinceMs = previous !== undefined && previous.writable === writable ? previous.sinceMs : nowMs;
  if (writable) return { writable, sinceMs, reason: "TicksWritten", message: `ticks are written to the history at ${path}` };
  const reason = isDiskFull(error) ? "DiskFull" : "WriteFailed";
  const why = reason === "DiskFull" ? "the disk is full" : "a write failed";
  const message = `cannot write ticks to the history at ${path} (${why}: ${messageOf(error)}); findings are still raised and cleared from memory, and writes resume by themselves once the history takes them`;
  return { writable, sinceMs, reason, message: message.slice(0, MESSAGE_MAX) };
}

export function historyCondition(state: HistoryState): AgentCondition {
  return {
    type: HISTORY_WRITABLE,
    status: state.writable ? "True" : "False",
    lastTransitionTime: new Date(state.sinceMs).toISOString(),
    reason: state.reason,
    message: state.message,
  };
}

/** The agent's running view: fed every tick, read by the report and /metrics. */
export class HistoryHealth {
  private current: HistoryState | undefined;

  constructor(private readonly path: string) {}

  /** Records one tick's write; returns whether writability flipped (or starts out false). */
  observe(error: unknown, nowMs: number): boolean {
    const before = this.current;
    this.current = nextHistoryState(before, this.path, error, nowMs);
    return (before?.writable ?? true) !== this.current.writable;
  }

  get state(): HistoryState | undefined {
    return this.current;
  }

  /** Empty until the first tick, when nothing is known yet. */
  conditions(): AgentCondition[] {
    return this.current === undefined ? [] : [historyCondition(this.current)];
  }
}
