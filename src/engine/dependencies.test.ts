import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { silentLogger } from "../util/log.js";
import { DependencySampler, type DependencyPod } from "./dependencies.js";

const HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode";
const STATE = { ESTABLISHED: "01", LISTEN: "0A", TIME_WAIT: "06" } as const;

/** "10.244.0.2:8080" as the kernel prints it on a little-endian node: 0200F40A:1F90. */
function hex(endpoint: string): string {
  const [ip = "", port = "0"] = endpoint.split(":");
  const bytes = ip.split(".").map((b) => Number(b).toString(16).padStart(2, "0").toUpperCase());
  return `${bytes.reverse().join("")}:${Number(port).toString(16).padStart(4, "0").toUpperCase()}`;
}

function table(rows: readonly [string, string, keyof typeof STATE][]): string {
  const lines = rows.map(([local, remote, state], i) => `   ${i}: ${hex(local)} ${hex(remote)} ${STATE[state]} 00000000:00000000 00:00000000 00000000     0        0 ${100 + i} 1 0000000000000000 20 4 30 10 -1`);
  return [HEADER, ...lines, ""].join("\n");
}

let root: string;
const proc = (): string => path.join(root, "proc");

function fakeProcess(pid: number, netns: number, tcp = table([])): void {
  const dir = path.join(proc(), String(pid));
  mkdirSync(path.join(dir, "ns"), { recursive: true });
  mkdirSync(path.join(dir, "net"), { recursive: true });
  writeFileSync(path.join(dir, "stat"), `${pid} (node) S 1 ${pid} ${pid} 0 -1\n`);
  symlinkSync(`net:[${netns}]`, path.join(dir, "ns", "net"));
  writeFileSync(path.join(dir, "net", "tcp"), tcp);
}

function cgroup(name: string, pids: readonly number[]): string {
  const file = path.join(root, "cgroup", name, "cgroup.procs");
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, pids.map((p) => `${p}\n`).join(""));
  return file;
}

const HOST_NETNS = 4026531992;
const SERVER = table([
  ["0.0.0.0:8080", "0.0.0.0:0", "LISTEN"],
  ["10.244.0.2:8080", "10.244.0.3:40000", "ESTABLISHED"],
  ["10.244.0.2:8080", "10.244.0.3:40001", "ESTABLISHED"],
]);
const CLIENT = table([
  ["10.244.0.3:40000", "10.244.0.2:8080", "ESTABLISHED"],
  ["10.244.0.3:40001", "10.244.0.2:8080", "ESTABLISHED"],
  ["10.244.0.3:40002", "10.96.0.10:80", "TIME_WAIT"],
]);
/** What the node's own namespace holds: the kubelet talking to the apiserver. Never anyone's edges. */
const HOST = table([["192.168.0.5:50000", "192.168.0.1:6443", "ESTABLISHED"]]);

let pods: DependencyPod[];

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), "xander-deps-sampler-"));
  fakeProcess(1, HOST_NETNS, HOST);
  fakeProcess(100, 900, SERVER);
  fakeProcess(101, 900, SERVER); // the server pod's second container
  fakeProcess(200, 901, CLIENT);
  fakeProcess(300, HOST_NETNS, HOST);
  pods = [
    // The first container has exited; the second one's PID is used.
    { uid: "server", procsFiles: [cgroup("server/c1", [99]), cgroup("server/c2", [101, 100])] },
    { uid: "client", procsFiles: [cgroup("client/c1", [200])] },
    // hostNetwork by namespace alone (no API): its namespace is the host's.
    { uid: "host-by-netns", procsFiles: [cgroup("hostnet/c1", [300])] },
    // hostNetwork as the API says: never read, even if the namespace would be readable.
    { uid: "host-by-api", hostNetwork: true, procsFiles: [cgroup("hostapi/c1", [300])] },
    { uid: "starting", procsFiles: [] },
  ];
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

function sampler(hostPid = 1): DependencySampler {
  return new DependencySampler({ procRoot: proc(), hostPid, ttlMs: 60_000, logger: silentLogger() });
}

const describeEdge = (e: { fromPodUid: string; direction: string; peer: { ip: string; port: number | null }; localPort: number | null; connections: number; recentConnections: number }): string =>
  `${e.fromPodUid} ${e.direction} ${e.peer.ip}:${e.peer.port ?? "-"} local=${e.localPort ?? "-"} open=${e.connections} recent=${e.recentConnections}`;

describe("DependencySampler", () => {
  it("reads each pod's namespace once from a live PID and attributes nothing to hostNetwork pods", async () => {
    const s = sampler();
    const poll = await s.poll(1_000, pods);
    expect(poll.namespacesRead).toBe(2);
    expect(poll.hostNetwork).toEqual(["host-by-api", "host-by-netns"]);
    expect(poll.unread).toEqual(["starting"]);
    expect(s.edges().map(describeEdge).sort()).toEqual([
      "client outbound 10.244.0.2:8080 local=- open=2 recent=0",
      "client outbound 10.96.0.10:80 local=- open=0 recent=1",
      "server inbound 10.244.0.3:- local=8080 open=2 recent=0",
    ]);
  });

  it("keeps a pod's last counts when its namespace cannot be read, and forgets a pod that left the node", async () => {
    const s = sampler();
    await s.poll(1_000, pods);
    rmSync(path.join(proc(), "200"), { recursive: true });
    const poll = await s.poll(2_000, pods);
    expect(poll.unread).toContain("client");
    expect(s.edges().filter((e) => e.fromPodUid === "client").map((e) => [e.connections, e.lastSeenMs])).toEqual([
      [2, 1_000],
      [0, 1_000],
    ]);
    await s.poll(3_000, pods.filter((p) => p.uid !== "client"));
    expect(s.edges().map((e) => e.fromPodUid)).toEqual(["server"]);
  });

  it("falls back to the API's hostNetwork flag, and says how to fix it, when the host's namespace is unreadable", async () => {
    const s = sampler(4242);
    const poll = await s.poll(1_000, pods);
    expect(poll.problems.map((p) => p.message)).toContainEqual(expect.stringMatching(/--host-pid-for-netns/));
    // Without the host's namespace, a hostNetwork pod the API does not flag is read like any other.
    expect(poll.hostNetwork).toEqual(["host-by-api"]);
    expect(s.edges().some((e) => e.fromPodUid === "host-by-api")).toBe(false);
  });

  it("says hostPID is missing when no pod's cgroup.procs lists a live process (cgroup v1 from a private PID namespace)", async () => {
    const empty = [{ uid: "a", procsFiles: [cgroup("a/c1", [])] }, { uid: "b", procsFiles: [cgroup("b/c1", [])] }];
    const poll = await sampler().poll(1_000, empty);
    expect(poll.problems.map((p) => p.message)).toContainEqual(expect.stringMatching(/hostPID: true/));
    expect(poll.unread).toEqual(["a", "b"]);
  });

  it("uses the fallback PID for the host's namespace when the first is unreadable", async () => {
    const s = new DependencySampler({ procRoot: proc(), hostPid: 4242, hostPidFallback: 300, ttlMs: 60_000, logger: silentLogger() });
    const poll = await s.poll(1_000, pods);
    expect(poll.hostNetwork).toEqual(["host-by-api", "host-by-netns"]);
    expect(poll.problems).toEqual([]);
  });
});
