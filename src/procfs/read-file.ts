import { readWholeFileSync } from "../cgroup/fs.js";
import { err, parseError, type ParseError, type Result } from "../util/result.js";

/** Reads a /proc file and parses it; a file that cannot be read is an error naming it, never a throw. */
export function readParsed<T>(file: string, parse: (text: string, file: string) => Result<T, ParseError>): Result<T, ParseError> {
  try {
    return parse(readWholeFileSync(file), file);
  } catch (error) {
    return err(parseError(file, `cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`));
  }
}
