/**
 * Kubelet pod and container cgroups: pure path classification and resolution, plus a small walker.
 *
 * Layouts (kubelet `pkg/kubelet/cm/cgroup_manager_linux.go`, `qos_container_manager_linux.go`):
 *   systemd:  kubepods.slice/[kubepods-<qos>.slice/]kubepods[-<qos>]-pod<uid, - escaped as _>.slice/<container>.scope
 *   cgroupfs: kubepods/[<qos>/]pod<uid>/<container>
 * Guaranteed pods sit directly under kubepods. Container directories are named by the runtime:
 * `cri-containerd-<id>.scope`, `crio-<id>.scope` (CRI-O also creates `crio-conmon-<id>.scope` for
 * its monitor process, which is not a container), `docker-<id>.scope`, or a bare `<id>` with cgroupfs.
 */
import { readdir } from "node:fs/promises";
import path from "node:path";
import type { CgroupDriver, CgroupLayout, ContainerCgroup, ContainerRuntime, PodCgroup, QosClass } from "./types.js";

export interface PodPath {
  readonly kind: "pod";
  readonly podUid: string;
  readonly qosClass: QosClass;
  readonly driver: CgroupDriver;
}

export interface ContainerPath {
  readonly kind: "container";
  readonly podUid: string;
  readonly qosClass: QosClass;
  readonly driver: CgroupDriver;
  readonly containerId: string;
  readonly runtime: ContainerRuntime;
  /** The pod's cgroup, relative to the hierarchy mount. */
  readonly podRelPath: string;
}

// An optional prefix covers kubelet --cgroup-root (e.g. `kubelet-kubepods-burstable-pod….slice`).
const SYSTEMD_POD_RE = /^(?:[\w-]+-)?kubepods(?:-(burstable|besteffort))?-pod(\w+)\.slice$/;
const SYSTEMD_QOS_PARENT_RE = /(?:^|-)kubepods(?:-(burstable|besteffort))?\.slice$/;
const CGROUPFS_POD_RE = /^pod([\w-]+)$/;
const ID = "([0-9A-Za-z][\\w-]*)";
const CONMON_RE = /^crio-conmon-[\w-]+(?:\.scope)?$/;
const CONTAINER_RES: readonly (readonly [RegExp, ContainerRuntime])[] = [
  [new RegExp(`^cri-containerd-${ID}\\.scope$`), "containerd"],
  [new RegExp(`^crio-${ID}(?:\\.scope)?$`), "cri-o"],
  [new RegExp(`^docker-${ID}\\.scope$`), "docker"],
];
/** A bare cgroupfs container directory: an id without dots, so `init.scope` and friends never match. */
const BARE_ID_RE = /^[0-9A-Za-z][\w-]{7,127}$/;

/** Classifies a path relative to a hierarchy mount as a pod cgroup, a container cgroup, or neither. */
export function classifyPath(relPath: string): PodPath | ContainerPath | undefined {
  const segments = relPath.split("/").filter((s) => s !== "" && s !== ".");
  const last = segments.length - 1;
  const asPod = podSegment(segments, last);
  if (asPod !== undefined) return asPod;
  const pod = podSegment(segments, last - 1);
  if (pod === undefined) return undefined;
  const container = containerSegment(segments[last] ?? "", pod.driver);
  if (container === undefined) return undefined;
  return { ...pod, kind: "container", ...container, podRelPath: segments.slice(0, last).join("/") };
}

function podSegment(segments: readonly string[], i: number): PodPath | undefined {
  const name = segments[i];
  const parent = segments[i - 1];
  if (name === undefined || parent === undefined) return undefined;
  return systemdPod(name, parent) ?? cgroupfsPod(name, parent, segments[i - 2]);
}

function systemdPod(name: string, parent: string): PodPath | undefined {
  const m = SYSTEMD_POD_RE.exec(name);
  if (!m) return undefined;
  const qos = m[1];
  const parentQos = SYSTEMD_QOS_PARENT_RE.exec(parent);
  if (!parentQos || parentQos[1] !== qos) return undefined;
  // systemd uses `-` as the slice hierarchy separator, so the kubelet escapes the uid's dashes as `_`.
  return { kind: "pod", podUid: (m[2] ?? "").replaceAll("_", "-"), qosClass: qosOf(qos), driver: "systemd" };
}

function cgroupfsPod(name: string, parent: string, grandparent: string | undefined): PodPath | undefined {
  const m = CGROUPFS_POD_RE.exec(name);
  if (!m) return undefined;
  const qos = parent === "burstable" || parent === "besteffort" ? parent : undefined;
  const kubepods = qos === undefined ? parent : grandparent;
  if (kubepods !== "kubepods") return undefined;
  return { kind: "pod", podUid: m[1] ?? "", qosClass: qosOf(qos), driver: "cgroupfs" };
}

function qosOf(qos: string | undefined): QosClass {
  return qos === "burstable" || qos === "besteffort" ? qos : "guaranteed";
}

function containerSegment(name: string, driver: CgroupDriver): { containerId: string; runtime: ContainerRuntime } | undefined {
  if (CONMON_RE.test(name)) return undefined;
  for (const [re, runtime] of CONTAINER_RES) {
    const m = re.exec(name);
    if (m) return { containerId: m[1] ?? "", runtime };
  }
  // cgroupfs containerd and docker both use the bare id; only the API's containerStatuses tell them apart.
  if (driver === "cgroupfs" && BARE_ID_RE.test(name)) return { containerId: name, runtime: "unknown" };
  return undefined;
}

/** The kubelet's pod cgroup for a pod, relative to a hierarchy mount (default --cgroup-root=/). */
export function podCgroupPath(podUid: string, qosClass: QosClass, driver: CgroupDriver): string {
  if (driver === "cgroupfs") return qosClass === "guaranteed" ? `kubepods/pod${podUid}` : `kubepods/${qosClass}/pod${podUid}`;
  const escaped = podUid.replaceAll("-", "_");
  if (qosClass === "guaranteed") return `kubepods.slice/kubepods-pod${escaped}.slice`;
  return `kubepods.slice/kubepods-${qosClass}.slice/kubepods-${qosClass}-pod${escaped}.slice`;
}

/**
 * A container's cgroup under its pod's. With cgroupfs and an unknown runtime the bare id is the
 * best guess; with systemd an unknown runtime has no predictable name.
 */
export function containerCgroupPath(podRelPath: string, containerId: string, runtime: ContainerRuntime, driver: CgroupDriver): string | undefined {
  const name = containerDirName(containerId, runtime, driver);
  return name === undefined ? undefined : `${podRelPath}/${name}`;
}

function containerDirName(id: string, runtime: ContainerRuntime, driver: CgroupDriver): string | undefined {
  if (driver === "systemd") {
    const prefix = { containerd: "cri-containerd", "cri-o": "crio", docker: "docker", unknown: undefined }[runtime];
    return prefix === undefined ? undefined : `${prefix}-${id}.scope`;
  }
  // CRI-O's cgroupfs manager keeps its prefix; containerd and docker use the bare id.
  return runtime === "cri-o" ? `crio-${id}` : id;
}

const CONTAINER_REF_RE = /^(containerd|cri-o|docker):\/\/([0-9A-Za-z][\w-]*)$/;

/** Splits a containerStatuses[].containerID (`containerd://<id>`, `cri-o://<id>`, `docker://<id>`). */
export function parseContainerRef(ref: string): { readonly runtime: ContainerRuntime; readonly containerId: string } | undefined {
  const m = CONTAINER_REF_RE.exec(ref);
  if (!m) return undefined;
  return { runtime: m[1] as ContainerRuntime, containerId: m[2] ?? "" };
}

/** Pod `status.qosClass` (`Guaranteed`, `Burstable`, `BestEffort`) to the path's QoS class. */
export function qosClassFromApi(qosClass: string): QosClass | undefined {
  const map: Record<string, QosClass> = { Guaranteed: "guaranteed", Burstable: "burstable", BestEffort: "besteffort" };
  return Object.hasOwn(map, qosClass) ? map[qosClass] : undefined;
}

/**
 * The hierarchy mount to walk for discovery. Relative paths are the same in every hierarchy, so one
 * is enough: the unified root on v2, the `cpu` (else `memory`) controller on v1 and hybrid hosts.
 */
export function discoveryMount(layout: CgroupLayout): string | undefined {
  if (layout.version === "v2") return layout.unified;
  return layout.v1.cpu ?? layout.v1.memory ?? layout.v1.cpuacct ?? layout.unified;
}

/** Directories whose names contain this may lead to kubepods (`kubepods.slice`, `kubelet.slice`). */
const KUBE_HINT = "kube";
const MAX_DEPTH = 6;

/**
 * Walks a hierarchy mount for kubelet pod cgroups and their container cgroups. Only directories named
 * like kubelet's are descended into, so large system trees are not walked. Directories that vanish
 * mid-walk are skipped. Rejects only when `mountDir` itself cannot be listed for a reason other than
 * not existing.
 */
export async function discoverPods(mountDir: string): Promise<PodCgroup[]> {
  const pods: PodCgroup[] = [];
  const top = await listDirs(mountDir, true);
  await Promise.all(top.map((name) => walk(mountDir, name, 1, pods)));
  return pods.sort((a, b) => (a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0));
}

async function walk(mountDir: string, relPath: string, depth: number, pods: PodCgroup[]): Promise<void> {
  const cls = classifyPath(relPath);
  if (cls?.kind === "pod") {
    const pod = await readPod(mountDir, relPath, cls);
    if (pod !== undefined) pods.push(pod);
    return;
  }
  // Under kubepods every level is the kubelet's (including cgroupfs `burstable`/`besteffort`).
  if (depth >= MAX_DEPTH || !relPath.includes(KUBE_HINT)) return;
  const children = await listDirs(path.join(mountDir, relPath), false);
  await Promise.all(children.map((c) => walk(mountDir, `${relPath}/${c}`, depth + 1, pods)));
}

async function readPod(mountDir: string, relPath: string, pod: PodPath): Promise<PodCgroup | undefined> {
  const children = await listDirs(path.join(mountDir, relPath), false);
  const containers: ContainerCgroup[] = [];
  for (const name of children.sort()) {
    const cls = classifyPath(`${relPath}/${name}`);
    if (cls?.kind === "container") containers.push({ containerId: cls.containerId, runtime: cls.runtime, relPath: `${relPath}/${name}` });
  }
  return { podUid: pod.podUid, qosClass: pod.qosClass, driver: pod.driver, relPath, containers };
}

async function listDirs(dir: string, isMount: boolean): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory()).map((e) => e.name);
  } catch (e) {
    const code = typeof e === "object" && e !== null && "code" in e ? e.code : undefined;
    // A pod that left between listing and reading is not an error; neither is a host without kubelet.
    if (code === "ENOENT" || !isMount) return [];
    throw new Error(`cannot read ${dir}: ${String(code)} (run as root or mount the host cgroupfs read-only)`, { cause: e });
  }
}
