import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { stringify } from "yaml";

export interface KubeconfigSpec {
  server: string;
  token: string;
  /** PEM CA bundle; embedded as certificate-authority-data so the kubeconfig stands alone. */
  caPem: string;
  user: string;
  namespace?: string;
}

/** Writes a one-context kubeconfig (mode 0600) usable by kubectl, client-node and Xander. */
export function writeKubeconfig(path: string, spec: KubeconfigSpec): string {
  const ca = Buffer.from(spec.caPem).toString("base64");
  const doc = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "xander-test", cluster: { server: spec.server, "certificate-authority-data": ca } }],
    users: [{ name: spec.user, user: { token: spec.token } }],
    contexts: [
      {
        name: spec.user,
        context: { cluster: "xander-test", user: spec.user, ...(spec.namespace ? { namespace: spec.namespace } : {}) },
      },
    ],
    "current-context": spec.user,
    preferences: {},
  };
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, stringify(doc), { mode: 0o600 });
  return path;
}
