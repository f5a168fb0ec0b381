/** An error the user can act on: the message names the path and the way out. Its own module, so the CLI can recognise it without loading the engine. */
export class ScanError extends Error {}
