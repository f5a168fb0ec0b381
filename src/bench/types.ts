/** One measured number of a benchmark, with the target it is held to and how it was measured. */
export interface BenchResult {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** Human-readable goal, e.g. "≥ 200000" or "≤ 20". */
  readonly target?: string;
  /** Whether `value` meets `target`; absent for numbers reported without a goal. */
  readonly pass?: boolean;
  /** How the number was obtained, so it can be reproduced and judged. */
  readonly method: string;
}
