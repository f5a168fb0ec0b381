// jest globalSetup of the `integration` project (see jest-hooks.ts for what it does).
//
// jest loads a globalSetup through its CommonJS require hook, without the ESM mode
// or the moduleNameMapper that test files get, so relative `./x.js` imports of
// TypeScript files do not resolve there. This shim loads the real hooks through
// tsx's scoped ESM loader instead, so they import like any other module.
import { tsImport } from "tsx/esm/api";

type Hooks = typeof import("./jest-hooks.js");

export default async function globalSetup(): Promise<void> {
  const hooks = (await tsImport("./jest-hooks.ts", import.meta.url)) as Hooks;
  await hooks.setup();
}
