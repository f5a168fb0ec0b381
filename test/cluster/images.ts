// Container images without a registry or Docker: OCI image layouts written by hand (a busybox-static
// workload image and the pause image containerd runs as each pod's sandbox), packed as archives that
// `ctr images import` takes.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Runs (sleeps) as each pod's sandbox: containerd's `sandbox_image`. */
export const PAUSE_IMAGE = "xander.local/pause:3.10";
/** Debian's busybox-static, for the workloads the node tests run (`sh`, busy loops, `sleep`). */
export const BUSYBOX_IMAGE = "xander.local/busybox:1.35";

const BUSYBOX = "/bin/busybox";

export interface OciImageConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
}

const MEDIA = {
  manifest: "application/vnd.oci.image.manifest.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layer: "application/vnd.oci.image.layer.v1.tar",
};

interface Blob {
  digest: string;
  size: number;
}

function sha256File(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

function putBlob(layout: string, data: Buffer | string): Blob {
  const buf = typeof data === "string" ? Buffer.from(data) : data;
  const hex = createHash("sha256").update(buf).digest("hex");
  writeFileSync(join(layout, "blobs", "sha256", hex), buf);
  return { digest: `sha256:${hex}`, size: buf.length };
}

/**
 * Sets the name containerd imports an OCI layout under (`io.containerd.image.name`, plus the tag as
 * `org.opencontainers.image.ref.name`) on its only manifest, and packs the layout as a tar archive.
 */
export function packOciLayout(layout: string, name: string, archive: string): void {
  const indexFile = join(layout, "index.json");
  const index = JSON.parse(readFileSync(indexFile, "utf8")) as { manifests: { annotations?: Record<string, string> }[] };
  if (index.manifests.length !== 1) throw new Error(`${indexFile} lists ${index.manifests.length} manifests; expected one`);
  const tag = name.slice(name.lastIndexOf(":") + 1);
  index.manifests[0]!.annotations = { "io.containerd.image.name": name, "org.opencontainers.image.ref.name": tag };
  writeFileSync(indexFile, JSON.stringify(index));
  execFileSync("tar", ["--numeric-owner", "-C", layout, "-cf", archive, "oci-layout", "index.json", "blobs"]);
}

/** Writes an OCI image archive of uncompressed layer tars with the given config. */
export function writeOciArchive(archive: string, name: string, layerTars: readonly string[], config: OciImageConfig): void {
  const layout = mkdtempSync(join(tmpdir(), "xander-oci-"));
  try {
    mkdirSync(join(layout, "blobs", "sha256"), { recursive: true });
    const layers: Blob[] = [];
    for (const tar of layerTars) {
      const hex = sha256File(tar);
      copyFileSync(tar, join(layout, "blobs", "sha256", hex));
      layers.push({ digest: `sha256:${hex}`, size: statSync(tar).size });
    }
    const imageConfig = putBlob(
      layout,
      JSON.stringify({
        architecture: "amd64",
        os: "linux",
        config,
        // Uncompressed layers: each layer's digest is its diff ID.
        rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) },
      }),
    );
    const manifest = putBlob(
      layout,
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA.manifest,
        config: { mediaType: MEDIA.config, ...imageConfig },
        layers: layers.map((l) => ({ mediaType: MEDIA.layer, ...l })),
      }),
    );
    writeFileSync(join(layout, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    writeFileSync(join(layout, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MEDIA.manifest, ...manifest }] }));
    packOciLayout(layout, name, archive);
  } finally {
    rmSync(layout, { recursive: true, force: true });
  }
}

/** A root filesystem with Debian's static busybox and a link for each of its applets, as a layer tar. */
export function writeBusyboxLayer(layerTar: string): void {
  if (!existsSync(BUSYBOX)) {
    throw new Error(`${BUSYBOX} not found: the node's images are made from Debian's busybox-static (apt-get install -y busybox-static)`);
  }
  const root = mkdtempSync(join(tmpdir(), "xander-busybox-"));
  try {
    for (const d of ["bin", "etc", "tmp", "proc", "sys", "dev", "root", "var/run"]) mkdirSync(join(root, d), { recursive: true });
    chmodSync(join(root, "tmp"), 0o1777);
    copyFileSync(BUSYBOX, join(root, "bin", "busybox"));
    chmodSync(join(root, "bin", "busybox"), 0o755);
    const applets = execFileSync(BUSYBOX, ["--list"], { encoding: "utf8" }).split("\n").filter((a) => /^[\w.[-]+$/.test(a) && a !== "busybox");
    for (const a of applets) symlinkSync("busybox", join(root, "bin", a));
    writeFileSync(join(root, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
    writeFileSync(join(root, "etc", "group"), "root:x:0:\nnogroup:x:65534:\n");
    execFileSync("tar", ["--sort=name", "--numeric-owner", "--owner=0", "--group=0", "--mtime=@0", "-C", root, "-cf", layerTar, "."]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * The pause and busybox image archives in dir: one busybox layer each. The pause image only sleeps;
 * containerd signals the sandbox with SIGKILL when a pod goes, so it needs no signal handling.
 */
export function writeNodeImages(dir: string): { pause: string; busybox: string } {
  mkdirSync(dir, { recursive: true });
  const layer = join(dir, "busybox-layer.tar");
  writeBusyboxLayer(layer);
  const env = ["PATH=/bin"];
  const pause = join(dir, "pause.oci.tar");
  const busybox = join(dir, "busybox.oci.tar");
  writeOciArchive(pause, PAUSE_IMAGE, [layer], { Env: env, Entrypoint: ["/bin/sleep", "2147483647"] });
  writeOciArchive(busybox, BUSYBOX_IMAGE, [layer], { Env: env, Cmd: ["sh"] });
  rmSync(layer);
  return { pause, busybox };
}
