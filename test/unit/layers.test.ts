// The layers (README, Development) are enforced by eslint.config.js: these lint scratch imports placed in
// real folders through ESLint's own API, with the repository's config, and check what the lint says.
import { ESLint } from "eslint";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const RULE = "@typescript-eslint/no-restricted-imports";
const eslint = new ESLint({ cwd: root });

/** The layer messages ESLint gives `text` placed at `file` (an existing file, so the project service knows it). */
async function layerErrors(file: string, text: string): Promise<string[]> {
  const [result] = await eslint.lintText(text, { filePath: `${root}${file}` });
  return (result?.messages ?? []).filter((m) => m.ruleId === RULE).map((m) => m.message);
}

describe("the layers are enforced by lint", () => {
  test("core importing a value from infrastructure fails", async () => {
    const errors = await layerErrors("src/analysis/window.ts", 'import { openStore } from "../store/index.js";\nexport const open = openStore;\n');
    expect(errors).toEqual([expect.stringContaining("core imports only from core and util/, never from infrastructure")]);
  });

  test("core importing only a type from orchestration fails too", async () => {
    const errors = await layerErrors("src/analysis/rules/stall.ts", 'import type { Agent } from "../../agent/agent.js";\nexport type A = Agent;\n');
    expect(errors).toEqual([expect.stringContaining("never from orchestration")]);
  });

  test("infrastructure importing orchestration, and orchestration importing an edge, fail", async () => {
    expect(await layerErrors("src/kube/leader.ts", 'export { ControllerManager } from "../controller/manager.js";\n')).toEqual([
      expect.stringContaining("infrastructure imports only from core, infrastructure and util/, never from orchestration"),
    ]);
    expect(await layerErrors("src/engine/scan.ts", 'import { registerScanCommand } from "../cli/scan.js";\nexport const s = registerScanCommand;\n')).toEqual([
      expect.stringContaining("never from edges"),
    ]);
  });

  test("a cgroup reader is infrastructure while the cgroup parsers and types are core", async () => {
    expect(await layerErrors("src/sampler/derive.ts", 'import { readCounters } from "../cgroup/read.js";\nexport const r = readCounters;\n')).toHaveLength(1);
    const pure = 'import { parsePressure } from "../cgroup/parse/psi.js";\nimport type { RawCounters } from "../cgroup/types.js";\nexport const p = parsePressure;\nexport type R = RawCounters;\n';
    expect(await layerErrors("src/sampler/derive.ts", pure)).toEqual([]);
  });

  test("downward imports pass: orchestration from infrastructure and core, core from util", async () => {
    expect(await layerErrors("src/engine/scan.ts", 'import { openStore } from "../store/index.js";\nimport { RULES } from "../analysis/rules/index.js";\nexport const x = [openStore, RULES];\n')).toEqual([]);
    expect(await layerErrors("src/deps/edges.ts", 'import { defined } from "../util/object.js";\nexport const d = defined;\n')).toEqual([]);
  });

  test("util/ imports nothing else from src/", async () => {
    expect(await layerErrors("src/util/object.ts", 'import type { Tick } from "../sampler/types.js";\nexport type T = Tick;\n')).toHaveLength(1);
  });
});
