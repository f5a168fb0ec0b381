// jest globalTeardown of the `integration` project; see global-setup.ts for why it is a shim.
import { tsImport } from "tsx/esm/api";

type Hooks = typeof import("./jest-hooks.js");

export default async function globalTeardown(): Promise<void> {
  const hooks = (await tsImport("./jest-hooks.ts", import.meta.url)) as Hooks;
  await hooks.teardown();
}
