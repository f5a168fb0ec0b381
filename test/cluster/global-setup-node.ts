// jest globalSetup of the `node` project (see jest-hooks.ts setupNode; global-setup.ts for why it is a shim).
import { tsImport } from "tsx/esm/api";

type Hooks = typeof import("./jest-hooks.js");

export default async function globalSetup(globalConfig: { selectProjects?: string[] }): Promise<void> {
  const hooks = (await tsImport("./jest-hooks.ts", import.meta.url)) as Hooks;
  await hooks.setupNode(globalConfig);
}
