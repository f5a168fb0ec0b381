// client-node declares its API models as classes, but the API takes and returns plain
// JSON. `model<V1Pod>({...})` builds a request body from a plain object literal while
// still checking field names and types against the model (every field optional).

type Plain<T> = T extends Date
  ? T | string
  : T extends (infer U)[]
    ? Plain<U>[]
    : T extends object
      ? { [K in keyof T]?: Plain<T[K]> }
      : T;

export type { Plain };

export function model<T>(o: Plain<T>): T {
  return o as unknown as T;
}
