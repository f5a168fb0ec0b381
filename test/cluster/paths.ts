import { fileURLToPath } from "node:url";
import { join } from "node:path";

/** The repository root (this file lives in test/cluster/). */
export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/** Where clusters keep their kubeconfig and state: .cluster/ (git-ignored). */
export const clusterRoot = join(repoRoot, ".cluster");

/** The kubeconfig that `npm run cluster:up` writes and that kubectl users export. */
export const defaultKubeconfig = join(clusterRoot, "kubeconfig");
