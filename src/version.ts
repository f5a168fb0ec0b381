import { packageDir, readPackageJson } from "./util/package-dir.js";

/** The package version, from Xander's package.json. */
export const VERSION: string = (() => {
  const dir = packageDir();
  return (dir && readPackageJson(dir)?.version) ?? "0.0.0";
})();
