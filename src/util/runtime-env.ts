/**
 * The runtime settings Xander's long-running processes run with (BENCHMARKS.md, "Whole process"): the agent
 * DaemonSet's pods set them, the chart's controller Deployment spells them out (a chart test keeps the two
 * alike), and the `xander` executable sets each one the caller has not (scripts/bundle.ts).
 * - NODE_OPTIONS: Node sizes V8's young generation for a large heap (16 MiB semi-spaces on 64-bit); the agent
 *   allocates a little garbage each tick and keeps what lasts in the old generation, so 2 MiB semi-spaces hold
 *   about 20 MiB less resident for the same work.
 * - MALLOC_ARENA_MAX: glibc gives each thread that mallocs (libuv's pool, V8's workers, SQLite) an arena of its
 *   own, up to 8 per core, and each keeps freed memory resident; two arenas hold about 8 MiB less.
 * - MALLOC_MMAP_THRESHOLD_: glibc gives a large allocation a mapping of its own, but after freeing one it raises
 *   the threshold to that size (up to 32 MiB), so later large buffers (a Pod list's pages) come from an arena
 *   and stay resident once freed. A fixed 128 KiB hands them back: in a cluster of 5,000 Pods the agent held
 *   115 MiB instead of 141 after its first list, at no CPU cost that showed. 16 KiB would take the list's
 *   Buffers too, but cost the agent 4–8 ms/s more CPU; smaller list pages do that job (kube/client.ts).
 *
 * Together they took a long `xander scan` from 102 to 71 MiB, for about 3 ms/s more CPU, and the controller at
 * 1,000 nodes from 166 to 128 MiB, for about 0.02 cores.
 */
export const RUNTIME_ENV: Readonly<Record<"NODE_OPTIONS" | "MALLOC_ARENA_MAX" | "MALLOC_MMAP_THRESHOLD_", string>> = {
  NODE_OPTIONS: "--max-semi-space-size=2",
  MALLOC_ARENA_MAX: "2",
  MALLOC_MMAP_THRESHOLD_: "131072",
};
