import { spawnSync } from "node:child_process";
import { mkdirSync, openSync, closeSync, writeSync, rmSync } from "node:fs";

/** A size-limited tmpfs: a small disk that fills up for real, with ENOSPC from the kernel. */
export interface SmallDisk {
  readonly dir: string;
  /** Writes `file` until the filesystem refuses another byte; returns the bytes written. */
  fill(file: string): number;
  unmount(): void;
}

function run(command: string, args: readonly string[]): void {
  const result = spawnSync(command, args, { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed: ${result.stderr || result.error?.message || `exit ${result.status}`}`);
}

/** Appends `size`-byte writes to `fd` until the filesystem says ENOSPC; returns the bytes written. */
function writeUntilFull(fd: number, size: number): number {
  const chunk = Buffer.alloc(size, 0x5a);
  let written = 0;
  for (;;) {
    try {
      written += writeSync(fd, chunk);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOSPC") return written;
      throw error;
    }
  }
}

/** Mounts a tmpfs of `sizeBytes` on `dir` (made if missing); needs root, and fails loudly without it. */
export function mountSmallDisk(dir: string, sizeBytes: number): SmallDisk {
  if (process.getuid?.() !== 0) throw new Error("this test needs root: it mounts a size-limited tmpfs");
  mkdirSync(dir, { recursive: true });
  run("mount", ["-t", "tmpfs", "-o", `size=${sizeBytes},mode=0700`, "xander-small-disk", dir]);
  let mounted = true;
  return {
    dir,
    fill(file) {
      const fd = openSync(file, "w");
      try {
        // Then in pages and bytes, so not even a partial page is left for anyone else.
        return [64 * 1024, 4096, 1].reduce((sum, size) => sum + writeUntilFull(fd, size), 0);
      } finally {
        closeSync(fd);
      }
    },
    unmount() {
      if (!mounted) return;
      // Lazy: a process that still holds a file there (a failed test's agent) must not keep the mount.
      run("umount", ["-l", dir]);
      mounted = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
