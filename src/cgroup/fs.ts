import { closeSync, openSync, readFileSync, readSync } from "node:fs";

/**
 * One shared buffer for every read. Cgroup pseudo-files report size 0 and are a few KiB at most, so a
 * single open/read/close with no fstat and no allocation is the cheapest way to read them. Measured
 * on this project's reference VM for 3630 reads (330 containers × 11 files): about 12–17 ms CPU
 * synchronously versus 200–600 ms through fs.promises.readFile (thread-pool round trips per file),
 * so the reader is synchronous even though its API returns a Promise.
 */
const buffer = Buffer.allocUnsafe(64 * 1024);

/** Reads a small kernel file as latin1 text. Throws the fs error (ENOENT, EACCES, ...) for the caller to classify. */
export function readSmallFileSync(path: string): string {
  const fd = openSync(path, "r");
  let n = 0;
  try {
    for (;;) {
      const r = readSync(fd, buffer, n, buffer.length - n, null);
      if (r === 0) break;
      n += r;
      // Larger than the buffer: not a file this project reads each tick, fall back to the general path.
      if (n === buffer.length) return readFileSync(path, "latin1");
    }
  } finally {
    closeSync(fd);
  }
  return buffer.toString("latin1", 0, n);
}

export function errnoCode(e: unknown): string {
  if (typeof e === "object" && e !== null && "code" in e && typeof e.code === "string") return e.code;
  return "EIO";
}
