// The real-control-plane test harness: import from "../cluster/index.js".
export {
  startCluster,
  stopCluster,
  listClusters,
  readClusterState,
  reapOrphanedClusters,
  killClusterSync,
  CONTROLLERS,
  NODE_CONTROLLERS,
  SERVICE_ACCOUNT_ISSUER,
  SERVICE_CLUSTER_IP_RANGE,
  ADMIN_USER,
  type ClusterOptions,
  type ClusterState,
  type RunningCluster,
} from "./cluster.js";
export { ensureBinaries, type Binaries } from "./binaries.js";
export { importImage, listImages, teardownNodeHost, POD_SUBNET, KUBERNETES_SERVICE_IP, type NodeOptions, type NodeState } from "./node.js";
export { BUSYBOX_IMAGE, PAUSE_IMAGE, writeOciArchive, packOciLayout } from "./images.js";
export { writeKubeconfig, type KubeconfigSpec } from "./kubeconfig.js";
export { repoRoot, clusterRoot, defaultKubeconfig } from "./paths.js";
export {
  TEST_FIELD_MANAGER,
  kubeconfigPath,
  loadKubeConfig,
  poll,
  statusOf,
  kubectl,
  kubectlBinary,
  waitForCrdDiscovery,
  serverSideApply,
  installCrds,
  createNode,
  deleteNode,
  createNamespace,
  deleteNamespace,
  ensureServiceAccount,
  createPod,
  setPodStatus,
  mintPodBoundToken,
  mintServiceAccountToken,
  decodeJwt,
  kubeconfigForToken,
  type PollOptions,
  type KubectlResult,
  type KubectlOptions,
  type CreateNodeOptions,
  type CreatePodInput,
  type ContainerStatusInput,
  type PodStatusInput,
  type PodBoundTokenInput,
  type DecodedJwt,
} from "./helpers.js";
export { model, type Plain } from "./model.js";
export { metricsReaderToken, scrapeMetrics } from "./metrics-reader.js";
