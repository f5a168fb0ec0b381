import { closeSync, openSync, readSync } from "node:fs";

/**
 * One shared buffer for every read: cgroup files, and the small /proc files read each tick or each dependency
 * poll. (readFileSync allocates 8 KiB outside the heap for each read of a file whose size stat gives as 0, as for
 * all of these: two reads, the second finding the end, for a small file.) Sync reads because, measured
 * on the reference VM for 3630 reads (330 containers × 11 files), open/read/close costs about
 * 7–12 ms CPU synchronously versus 200–600 ms through fs.promises.readFile (several thread-pool
 * round trips per file). Re-reading a descriptor kept open is cheaper still (see CgroupReader).
 */
let buffer = Buffer.allocUnsafe(64 * 1024);

/** Doubles the buffer, keeping its first `n` bytes. */
function grow(n: number): void {
  const bigger = Buffer.allocUnsafe(buffer.length * 2);
  buffer.copy(bigger, 0, 0, n);
  buffer = bigger;
}

/**
 * Reads a whole cgroup file from offset 0 of an open descriptor, as latin1 text. kernfs regenerates
 * a seq_file's content when it is read from offset 0, so this also re-reads a kept-open cgroup file.
 * A cgroup file is one seq_file record, which one read returns whole, so a read shorter than the
 * buffer is the whole file; that saves the extra read that would otherwise only return EOF. Not for
 * files of many records (see readWholeFileSync).
 */
export function readFd(fd: number): string {
  let n = readSync(fd, buffer, 0, buffer.length, 0);
  while (n === buffer.length) {
    grow(n);
    const r = readSync(fd, buffer, n, buffer.length - n, n);
    n += r;
    if (r === 0) break;
  }
  return buffer.toString("latin1", 0, n);
}

/** Reads a small cgroup file as latin1 text. Throws the fs error (ENOENT, EACCES, ...) for the caller to classify. */
export function readSmallFileSync(path: string): string {
  const fd = openSync(path, "r");
  try {
    return readFd(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads a file to its end as latin1 text, for seq_files of many records: one read of /proc/vmstat or a
 * cgroup.procs returns about a page of them, however large the buffer. Throws the fs error.
 */
export function readWholeFileSync(path: string): string {
  const fd = openSync(path, "r");
  try {
    let n = 0;
    for (;;) {
      if (n === buffer.length) grow(n);
      const r = readSync(fd, buffer, n, buffer.length - n, null);
      if (r === 0) break;
      n += r;
    }
    return buffer.toString("latin1", 0, n);
  } finally {
    closeSync(fd);
  }
}

export function errnoCode(e: unknown): string {
  if (typeof e === "object" && e !== null && "code" in e && typeof e.code === "string") return e.code;
  return "EIO";
}
