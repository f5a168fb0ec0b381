import { readFileSync } from "node:fs";

const PACKAGE_NAME = "xander";

/**
 * Xander's package directory (with a trailing slash): the nearest one above this module whose package.json is
 * Xander's. Modules sit at different depths below it: the shipped bundle in dist/bin/chunks/, the compiled
 * modules in dist/, the sources in src/.
 */
export function packageDir(): URL | undefined {
  for (let dir = new URL("./", import.meta.url); dir.pathname !== "/"; dir = new URL("../", dir)) {
    const pkg = readPackageJson(dir);
    if (pkg?.name === PACKAGE_NAME) return dir;
  }
  return undefined;
}

export function readPackageJson(dir: URL): { name?: string; version?: string } | undefined {
  try {
    return JSON.parse(readFileSync(new URL("package.json", dir), "utf8")) as { name?: string; version?: string };
  } catch {
    return undefined; // none here, or unreadable: the caller looks elsewhere
  }
}
