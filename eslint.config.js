import js from "@eslint/js";
import tseslint from "typescript-eslint";

// The layers of src/, lowest first, as the README's development section lists them. A module imports
// from its own layer and the layers below, never from above, and not even a type: a type from above
// still ties the lower module to the upper one. util/ sits under everything and imports nothing.
//
// `files` says which files belong to a layer; `modules` matches the import specifiers that name them
// (relative paths, so `**/`; a leading `!` takes a pure file back out of its folder).

const LAYERS = [
  {
    name: "core",
    files: ["src/api/**", "src/analysis/**", "src/advice/**", "src/deps/**", "src/report/**", "src/sampler/**",
      "src/cgroup/parse/**", "src/cgroup/types.ts", "src/cgroup/read-options.ts", "src/procfs/net.ts"],
    ignores: [],
    modules: ["**/api/**", "**/analysis/**", "**/advice/**", "**/deps/**", "**/report/**", "**/sampler/**"],
  },
  {
    name: "infrastructure",
    files: ["src/store/**", "src/procfs/**", "src/kube/**", "src/server/**", "src/cgroup/**"],
    ignores: ["src/cgroup/parse/**", "src/cgroup/types.ts", "src/cgroup/read-options.ts", "src/procfs/net.ts"],
    modules: ["**/store/**", "**/kube/**", "**/server/**",
      "**/procfs/*", "!**/procfs/net.js", "**/cgroup/*", "!**/cgroup/parse", "!**/cgroup/types.js", "!**/cgroup/read-options.js"],
  },
  {
    name: "orchestration",
    files: ["src/engine/**", "src/agent/**", "src/controller/**"],
    ignores: [],
    modules: ["**/engine/**", "**/agent/**", "**/controller/**"],
  },
  {
    name: "edges",
    files: ["src/cli/**", "src/bench/**", "src/demo/**"],
    ignores: [],
    modules: ["**/cli/**", "**/bench/**", "**/demo/**", "**/web/**"],
  },
];

const below = (i) => LAYERS.slice(0, i + 1).map((l) => l.name).join(", ");

/** One no-restricted-imports block per layer, naming every layer above it. */
const layerRules = [
  ...LAYERS.slice(0, -1).map((layer, i) => ({
    files: layer.files,
    // A test may build its fixtures from any layer; the layers bind what ships.
    ignores: [...layer.ignores, "**/*.test.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": ["error", {
        patterns: LAYERS.slice(i + 1).map((upper) => ({
          group: upper.modules,
          message: `${layer.name} imports only from ${below(i)} and util/, never from ${upper.name} (README, Development: layers). ` +
            "Pass the value in, or move the pure part down.",
        })),
      }],
    },
  })),
  {
    files: ["src/util/**"],
    // As above: a test may use the shared test support.
    ignores: ["**/*.test.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": ["error", {
        patterns: [{ group: ["../*"], message: "util/ sits under every layer and imports nothing else from src/." }],
      }],
    },
  },
  {
    // The dashboard is built on its own for the browser (tsconfig.web.json): it reaches the rest only through HTTP.
    files: ["src/web/**"],
    rules: {
      "@typescript-eslint/no-restricted-imports": ["error", {
        patterns: [{ group: ["../*"], message: "web/ runs in the browser and imports nothing from the rest of src/; it reads the HTTP API." }],
      }],
    },
  },
];

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/", ".cluster/", "charts/", "*.js"] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/explicit-function-return-type": ["error", { allowExpressions: true }],
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
      complexity: ["error", 12],
      "max-depth": ["error", 3],
    },
  },
  {
    // The dashboard runs in the browser: its own tsconfig (DOM, no Node), which the project service does not find.
    files: ["src/web/**/*.ts"],
    languageOptions: {
      parserOptions: { projectService: false, project: "./tsconfig.web.json", tsconfigRootDir: import.meta.dirname },
    },
  },
  ...layerRules,
  {
    files: ["**/*.test.ts", "test/**/*.ts"],
    rules: {
      "@typescript-eslint/explicit-function-return-type": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
      complexity: "off",
    },
  },
);
