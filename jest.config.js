// Three projects: fast unit tests beside the code, integration tests that need root, real
// cgroups, or the real control plane built by test/cluster, and the node suite: a real kubelet and
// containerd running the Xander image from `helm install`. The node suite runs on its own
// (npm run test:node), since its kubelet owns the /kubepods cgroups the integration tests make.
const transform = {
  "^.+\\.ts$": [
    "@swc/jest",
    { jsc: { target: "es2022", parser: { syntax: "typescript" } }, module: { type: "es6" } },
  ],
};
const common = {
  transform,
  extensionsToTreatAsEsm: [".ts"],
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  testEnvironment: "node",
};

export default {
  // Integration tests run real workloads for tens of seconds; jest reads this globally, not per project.
  testTimeout: 120000,
  // Tests that measure CPU contention must not contend with each other on a 2-core machine.
  maxWorkers: 1,
  projects: [
    {
      ...common,
      displayName: "unit",
      testMatch: ["<rootDir>/src/**/*.test.ts", "<rootDir>/test/unit/**/*.test.ts"],
    },
    {
      ...common,
      displayName: "integration",
      testMatch: ["<rootDir>/test/integration/**/*.test.ts"],
      // One real control plane (etcd, kube-apiserver, kube-controller-manager) per run.
      globalSetup: "<rootDir>/test/cluster/global-setup.ts",
      globalTeardown: "<rootDir>/test/cluster/global-teardown.ts",
    },
    {
      ...common,
      displayName: "node",
      testMatch: ["<rootDir>/test/node/**/*.test.ts"],
      // The image built from the Dockerfile, and a control plane with a real node.
      globalSetup: "<rootDir>/test/cluster/global-setup-node.ts",
      globalTeardown: "<rootDir>/test/cluster/global-teardown.ts",
    },
  ],
};
