// Two projects: fast unit tests beside the code, and integration tests that need
// root, real cgroups, or the real control plane built by test/cluster.
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
      testTimeout: 120000,
      // One real control plane (etcd, kube-apiserver, kube-controller-manager) per run.
      globalSetup: "<rootDir>/test/cluster/global-setup.ts",
      globalTeardown: "<rootDir>/test/cluster/global-teardown.ts",
    },
  ],
};
