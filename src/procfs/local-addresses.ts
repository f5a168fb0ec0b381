/**
 * The IPv4 addresses a network namespace owns, from /proc/<pid>/net/fib_trie: the entries of its
 * local table ("/32 host LOCAL"). On a node, the host namespace's list includes the pod bridge's own
 * address, the source of the kubelet's probes into pods.
 */
import { readFileSync } from "node:fs";
import { isIPv4 } from "node:net";
import { join } from "node:path";

const LEAF = /^\s*\|--\s+(\d{1,3}(?:\.\d{1,3}){3})\s*$/;
const HOST_LOCAL = /^\s*\/32 host LOCAL\s*$/;

/** Addresses whose leaf lists a "/32 host LOCAL" route, in order of first appearance, without duplicates. */
export function parseLocalAddresses(fibTrie: string): string[] {
  const found = new Set<string>();
  let leaf: string | undefined;
  for (const line of fibTrie.split("\n")) {
    const m = LEAF.exec(line);
    if (m) {
      // The pattern admits 999.0.0.1; a leaf that is not an address owns nothing.
      leaf = m[1] !== undefined && isIPv4(m[1]) ? m[1] : undefined;
      continue;
    }
    if (leaf !== undefined && HOST_LOCAL.test(line)) found.add(leaf);
  }
  return [...found];
}

/** The local IPv4 addresses of `pid`'s network namespace; undefined when the file cannot be read. */
export function readLocalAddresses(procRoot: string, pid: number): string[] | undefined {
  try {
    return parseLocalAddresses(readFileSync(join(procRoot, String(pid), "net", "fib_trie"), "utf8"));
  } catch {
    return undefined;
  }
}
