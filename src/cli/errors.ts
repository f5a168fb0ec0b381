/** An error the user can act on: printed as `xander: <message>`, exit code 1, no stack. */
export class CliError extends Error {
  override readonly name = "CliError";
}
