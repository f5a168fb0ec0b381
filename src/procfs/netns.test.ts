import { mkdirSync, mkdtempSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { fuzzInput, fuzzRuns } from "../../test/fuzz.js";
import { hostNetnsId, netnsId, parseNetnsLink, pickLivePid, readNamespaceSockets, readSockets } from "./netns.js";

const TCP = [
  "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
  "   0: 0200F40A:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 100 1 0000000000000000 100 0 0 10 0",
  "   1: 0200F40A:1F90 0300F40A:C000 01 00000000:00000000 00:00000000 00000000     0        0 101 1 0000000000000000 20 4 30 10 -1",
  "",
].join("\n");
const TCP6 = [
  "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
  "   0: 0000000000000000FFFF00000200F40A:1F90 0000000000000000FFFF00000400F40A:C001 01 00000000:00000000 00:00000000 00000000     0        0 102 1 0000000000000000 20 4 30 10 -1",
  "   1: garbled",
  "",
].join("\n");

let root: string;

/** A fake /proc/<pid> with the files this module reads. */
function fakeProcess(pid: number, opts: { netns?: number; state?: string; comm?: string; tcp?: string; tcp6?: string | null }): void {
  const dir = path.join(root, "proc", String(pid));
  mkdirSync(path.join(dir, "ns"), { recursive: true });
  mkdirSync(path.join(dir, "net"), { recursive: true });
  writeFileSync(path.join(dir, "stat"), `${pid} (${opts.comm ?? "node"}) ${opts.state ?? "S"} 1 ${pid} ${pid} 0 -1\n`);
  if (opts.netns !== undefined) symlinkSync(`net:[${opts.netns}]`, path.join(dir, "ns", "net"));
  writeFileSync(path.join(dir, "net", "tcp"), opts.tcp ?? TCP);
  if (opts.tcp6 !== null) writeFileSync(path.join(dir, "net", "tcp6"), opts.tcp6 ?? TCP6);
}

function procs(name: string, text: string): string {
  const file = path.join(root, "cgroup", name, "cgroup.procs");
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), "xander-netns-"));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe("network namespace identity", () => {
  it("reads the inode from the ns/net link, and the host's from pid 1", () => {
    fakeProcess(1, { netns: 4026531992 });
    fakeProcess(42, { netns: 4026532301 });
    const proc = path.join(root, "proc");
    expect(netnsId(proc, 42)).toEqual({ ok: true, value: 4026532301 });
    expect(hostNetnsId(proc)).toEqual({ ok: true, value: 4026531992 });
  });

  it("agrees with the kernel for this process", () => {
    const link = readlinkSync("/proc/self/ns/net");
    expect(netnsId("/proc", process.pid)).toEqual({ ok: true, value: Number(/\d+/.exec(link)?.[0]) });
  });

  it("reports a vanished process as gone, naming the file", () => {
    const result = netnsId(path.join(root, "proc"), 999);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.kind).toBe("gone");
      expect(result.error.message).toContain(path.join(root, "proc", "999", "ns", "net"));
    }
  });

  it("fuzzed: rejects any link that is not net:[N], and N is a positive safe integer", () => {
    const valid = fc.integer({ min: 1, max: 2 ** 32 }).map((n) => `net:[${n}]`);
    fc.assert(
      fc.property(fuzzInput(valid), (s) => {
        const parsed = parseNetnsLink(s);
        return !parsed.ok || (`net:[${parsed.value}]` === s.trim() && Number.isSafeInteger(parsed.value) && parsed.value > 0);
      }),
      { numRuns: fuzzRuns() },
    );
    expect(parseNetnsLink("mnt:[4026531841]").ok).toBe(false);
    expect(parseNetnsLink("net:[0]").ok).toBe(false);
  });
});

describe("pickLivePid", () => {
  it("returns the first listed PID that is alive and not a zombie", () => {
    fakeProcess(11, { netns: 1, state: "Z", comm: "sh) Z (x" });
    fakeProcess(12, { netns: 1, comm: "a) Z (b" });
    const file = procs("pod", "10\n11\n12\n13\n");
    expect(pickLivePid(file, path.join(root, "proc"))).toEqual({ ok: true, value: 12 });
  });

  it("says the cgroup is empty when no listed process is alive", () => {
    const file = procs("pod", "10\n");
    const result = pickLivePid(file, path.join(root, "proc"));
    expect(!result.ok && result.error).toMatchObject({ kind: "empty", file });
  });

  it("says denied, naming hostPID, when cgroup.procs shows PIDs from outside this PID namespace as 0", () => {
    fakeProcess(12, { netns: 1 });
    const file = procs("pod", "0\n0\n12\n");
    const result = pickLivePid(file, path.join(root, "proc"));
    expect(!result.ok && result.error).toMatchObject({ kind: "denied", file, message: expect.stringMatching(/hostPID: true/) as unknown });
  });

  it("says gone when the cgroup itself has vanished", () => {
    const file = path.join(root, "cgroup", "nope", "cgroup.procs");
    const result = pickLivePid(file, path.join(root, "proc"));
    expect(!result.ok && result.error).toMatchObject({ kind: "gone", file });
  });

  it("flags a line that is not a PID with its line number", () => {
    const file = procs("pod", "\n12x\n");
    const result = pickLivePid(file, path.join(root, "proc"));
    expect(!result.ok && result.error).toMatchObject({ kind: "parse", file, line: 2 });
  });
});

describe("readSockets", () => {
  it("reads tcp and tcp6 together and passes skipped lines through", async () => {
    fakeProcess(7, { netns: 5 });
    const result = await readSockets(path.join(root, "proc"), 7);
    if (!result.ok) throw new Error(result.error.message);
    expect(result.value.sockets.map((s) => `${s.localAddress}:${s.localPort}>${s.remoteAddress}:${s.remotePort} ${s.state}`)).toEqual([
      "10.244.0.2:8080>0.0.0.0:0 LISTEN",
      "10.244.0.2:8080>10.244.0.3:49152 ESTABLISHED",
      "10.244.0.2:8080>10.244.0.4:49153 ESTABLISHED",
    ]);
    expect(result.value.skipped).toEqual([expect.objectContaining({ file: path.join(root, "proc", "7", "net", "tcp6"), line: 3 })]);
  });

  it("treats a missing tcp6 as IPv6 disabled, not an error", async () => {
    fakeProcess(8, { netns: 5, tcp6: null });
    const result = await readSockets(path.join(root, "proc"), 8);
    expect(result.ok && result.value.sockets).toHaveLength(2);
  });

  it("says gone, naming the file, when the process has exited", async () => {
    const result = await readSockets(path.join(root, "proc"), 9);
    expect(!result.ok && result.error).toMatchObject({ kind: "gone", file: path.join(root, "proc", "9", "net", "tcp") });
  });

  it("fails with a parse error naming the file when a table has no header", async () => {
    fakeProcess(10, { netns: 5, tcp: "nonsense\n" });
    const result = await readSockets(path.join(root, "proc"), 10);
    expect(!result.ok && result.error).toMatchObject({ kind: "parse", file: path.join(root, "proc", "10", "net", "tcp"), line: 1 });
  });

  it("labels the sockets with the namespace they were read from", async () => {
    fakeProcess(7, { netns: 4026532400 });
    const result = await readNamespaceSockets(path.join(root, "proc"), 7);
    expect(result.ok && result.value.netns).toBe(4026532400);
  });

  it("reads this process's own namespace through the real /proc", async () => {
    const result = await readSockets("/proc", process.pid);
    expect(result.ok).toBe(true);
  });
});
