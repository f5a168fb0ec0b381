// `npm run lint` runs hack/check-cycles.ts over src/, test/ and hack/; these show it finds what it must.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { findCycles } from "../../hack/check-cycles.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

describe("the import cycle check", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "xander-cycles-"));
    mkdirSync(join(dir, "src", "kube"), { recursive: true });
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const write = (rel: string, text: string): void => {
    writeFileSync(join(dir, rel), text);
  };

  test("a cycle closed by a type-only import is reported, with both files", () => {
    write("src/kube/client.ts", 'import { Informer } from "./informer.js";\nexport class Client { i?: Informer; }\n');
    write("src/kube/informer.ts", 'import type { Client } from "./client.js";\nexport class Informer { c?: Client; }\n');
    expect(findCycles(dir, ["src"])).toEqual([["src/kube/client.ts", "src/kube/informer.ts"]]);
  });

  test("a longer cycle through a folder's index.ts and a re-export is one group", () => {
    write("src/a.ts", 'export { b } from "./kube";\nexport const a = 1;\n');
    write("src/kube/index.ts", 'export { b } from "./b.js";\n');
    write("src/kube/b.ts", 'import { a } from "../a.js";\nexport const b = a;\n');
    write("src/c.ts", 'import { a } from "./a.js";\nexport const c = a;\n');
    expect(findCycles(dir, ["src"])).toEqual([["src/a.ts", "src/kube/b.ts", "src/kube/index.ts"]]);
  });

  test("a chain that does not come back, and imports of packages, are no cycle", () => {
    write("src/a.ts", 'import { readFileSync } from "node:fs";\nimport { b } from "./kube/b.js";\nexport const a = b + readFileSync.length;\n');
    write("src/kube/b.ts", 'import type { Logger } from "pino";\nexport const b = 1;\nexport type L = Logger;\n');
    expect(findCycles(dir, ["src"])).toEqual([]);
  });

  test("the tree itself has no import cycle", () => {
    expect(findCycles(root, ["src", "test", "hack"])).toEqual([]);
  });
});
