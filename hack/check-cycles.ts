/**
 * Fails when the modules under the given folders import each other in a cycle. Type-only imports count:
 * a cycle through `import type` still leaves a reader unable to tell which module sits lower.
 *
 *   tsx hack/check-cycles.ts            check src/
 *   tsx hack/check-cycles.ts dir...     check other folders
 *
 * Specifiers are read with the TypeScript scanner (ts.preProcessFile: imports, re-exports and dynamic
 * imports), and relative ones resolve as NodeNext writes them: "./x.js" is ./x.ts, "./x" a folder's index.ts.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/** Every .ts file under `dir`, skipping declaration files. */
export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

/** The file a relative specifier names, or undefined for a package or a file outside the tree. */
export function resolveSpecifier(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith(".")) return undefined;
  const base = resolve(dirname(from), specifier);
  const candidates = [base.replace(/\.js$/, ".ts"), `${base}.ts`, join(base, "index.ts")];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile());
}

/** Each file's imports of other files in the set. */
export function importGraph(files: readonly string[]): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    const targets = importedFiles.map((f) => resolveSpecifier(file, f.fileName)).filter((t): t is string => t !== undefined && known.has(t));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Tarjan's strongly connected components, over one graph. */
class Components {
  private next = 0;
  private readonly index = new Map<string, number>();
  private readonly low = new Map<string, number>();
  private readonly stack: string[] = [];
  private readonly onStack = new Set<string>();
  readonly found: string[][] = [];

  constructor(private readonly graph: ReadonlyMap<string, readonly string[]>) {
    for (const v of graph.keys()) if (!this.index.has(v)) this.visit(v);
  }

  private visit(v: string): void {
    this.index.set(v, this.next);
    this.low.set(v, this.next);
    this.next++;
    this.stack.push(v);
    this.onStack.add(v);
    for (const w of this.graph.get(v) ?? []) {
      if (!this.index.has(w)) this.visit(w);
      // A w no longer on the stack closed its own component, which v is not part of.
      if (this.onStack.has(w)) this.low.set(v, Math.min(this.lowOf(v), this.lowOf(w)));
    }
    if (this.low.get(v) === this.index.get(v)) this.found.push(this.popComponent(v));
  }

  private lowOf(v: string): number {
    return this.low.get(v) ?? 0;
  }

  private popComponent(root: string): string[] {
    const component: string[] = [];
    for (let w = this.stack.pop(); w !== undefined; w = w === root ? undefined : this.stack.pop()) {
      this.onStack.delete(w);
      component.push(w);
    }
    return component.sort();
  }
}

/** The groups of files that import each other, in a cycle of two or more, or a file importing itself. */
export function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  return new Components(graph).found.filter((c) => c.length > 1 || (graph.get(c[0] ?? "") ?? []).includes(c[0] ?? ""));
}

/** The import cycles among the .ts files under `dirs`, as paths relative to `root`. */
export function findCycles(root: string, dirs: readonly string[]): string[][] {
  const files = dirs.flatMap((d) => sourceFiles(resolve(root, d)));
  return cycles(importGraph(files)).map((c) => c.map((f) => relative(root, f)));
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = process.cwd();
  const dirs = process.argv.slice(2);
  const found = findCycles(root, dirs.length > 0 ? dirs : ["src"]);
  for (const c of found) console.error(`import cycle: ${c.join(" ↔ ")}`);
  if (found.length > 0) {
    console.error(`${found.length} import cycle(s); move the shared type or function into a module both sides can import`);
    process.exit(1);
  }
}
