/** A value or a typed error. Parsers return these instead of throwing. */
export type Result<T, E> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

export function err<E>(error: E): { readonly ok: false; readonly error: E } {
  return { ok: false, error };
}

/** Why a kernel file could not be parsed. `file` is filled in by the reader, which knows the path. */
export interface ParseError {
  readonly kind: "parse";
  readonly file: string;
  readonly message: string;
  readonly line?: number;
}

export function parseError(file: string, message: string, line?: number): ParseError {
  return line === undefined ? { kind: "parse", file, message } : { kind: "parse", file, message, line };
}
