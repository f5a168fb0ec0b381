/**
 * Writes crds/*.yaml and src/api/types.generated.ts from src/api/schema.ts.
 *
 *   npm run gen:crds            write the files
 *   npm run gen:crds -- --check exit 1 and name the stale files instead of writing
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { renderAll } from "../src/api/codegen.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function main(argv: readonly string[]): number {
  const check = argv.includes("--check");
  const stale: string[] = [];
  for (const [rel, content] of renderAll()) {
    const path = join(root, rel);
    if (read(path) === content) continue;
    stale.push(rel);
    if (check) continue;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
  if (check && stale.length > 0) {
    console.error(`out of date (run npm run gen:crds): ${stale.join(", ")}`);
    return 1;
  }
  console.log(stale.length === 0 ? "generated files are up to date" : `wrote ${stale.join(", ")}`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
