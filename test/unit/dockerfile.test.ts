// The node suite (npm run test:node) builds this Dockerfile with buildah and runs the image; these fast
// checks catch what would break that build early: every path the Dockerfile copies from the context
// exists and is not excluded by .dockerignore, the entrypoint is what `npm run build` produces, and the
// native module is built where it runs.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");
const ignored = readFileSync(join(root, ".dockerignore"), "utf8")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l !== "" && !l.startsWith("#"));
const instructions = dockerfile.split("\n").filter((l) => /^[A-Z]+\s/.test(l));
const stages = instructions.filter((l) => l.startsWith("FROM "));

/** .dockerignore patterns as Docker reads them (no negations here): a path, a glob, or a directory prefix. */
function isIgnored(path: string): boolean {
  return ignored.some((pattern) => {
    const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*\*\//g, "(.*/)?").replace(/\*/g, "[^/]*")}(/.*)?$`);
    return re.test(path);
  });
}

describe("Dockerfile", () => {
  const contextCopies = instructions.filter((l) => l.startsWith("COPY ") && !l.includes("--from="));

  test.each(contextCopies)("%s: every source exists in the repository and is sent to the builder", (line) => {
    const sources = line.replace(/^COPY\s+/, "").split(/\s+/).slice(0, -1);
    expect(sources.length).toBeGreaterThan(0);
    for (const s of sources) {
      expect({ source: s, exists: existsSync(join(root, s)), ignored: isIgnored(s) }).toEqual({ source: s, exists: true, ignored: false });
    }
  });

  test("the runtime stage copies from the build stage only what the build stage makes", () => {
    const fromBuild = instructions.filter((l) => l.includes("--from=build")).map((l) => l.split(/\s+/)[2]);
    expect(fromBuild).toEqual(["/src/package.json", "/src/node_modules", "/src/dist"]);
    const tsconfig = JSON.parse(readFileSync(join(root, "tsconfig.build.json"), "utf8")) as { compilerOptions: { outDir: string; rootDir: string } };
    expect(tsconfig.compilerOptions).toMatchObject({ outDir: "dist", rootDir: "src" });
    expect(instructions).toContain('ENTRYPOINT ["node", "/app/dist/bin/xander.js"]');
    expect(existsSync(join(root, "src/cli/main.ts"))).toBe(true);
  });

  test("better-sqlite3 is built on the same Debian release and Node major it runs on", () => {
    expect(stages).toEqual(["FROM node:22-bookworm AS build", "FROM node:22-bookworm-slim"]);
    expect(dockerfile).toMatch(/npm ci\n/);
    expect(dockerfile).toContain("npm run build && npm prune --omit=dev");
  });

  test("the image runs as a non-root user by default", () => {
    const users = instructions.filter((l) => l.startsWith("USER "));
    expect(users).toEqual(["USER 65532:65532"]);
    expect(instructions.indexOf(users[0]!)).toBeGreaterThan(instructions.indexOf(stages[1]!));
  });
});
