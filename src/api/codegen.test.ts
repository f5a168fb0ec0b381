import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { crdObject, renderAll, renderTypes } from "./codegen.js";
import { CRDS, NODE_FINDINGS, STARVATION_POLICY } from "./schema.js";

const root = new URL("../../", import.meta.url);

describe("generated files", () => {
  for (const [path, content] of renderAll()) {
    test(`${path} is what npm run gen:crds renders from src/api/schema.ts`, () => {
      // A hand edit of the file, or a schema change without regenerating, fails here.
      expect(readFileSync(new URL(path, root), "utf8")).toBe(content);
    });
  }

  test("the CRD YAML on disk parses back to exactly the rendered object", () => {
    for (const def of CRDS) {
      const onDisk: unknown = parse(readFileSync(new URL(`crds/${def.plural}.yaml`, root), "utf8"));
      expect(onDisk).toEqual(JSON.parse(JSON.stringify(crdObject(def))));
    }
  });

  test("both kinds are cluster-scoped with a status subresource, short names and the xander category", () => {
    const sp = crdObject(STARVATION_POLICY) as { spec: { scope: string; names: { shortNames: string[]; categories: string[] }; versions: { subresources: unknown }[] } };
    const nf = crdObject(NODE_FINDINGS) as typeof sp;
    expect(sp.spec.scope).toBe("Cluster");
    expect(nf.spec.scope).toBe("Cluster");
    expect(sp.spec.names.shortNames).toEqual(["sp"]);
    expect(nf.spec.names.shortNames).toEqual(["nf"]);
    expect(sp.spec.names.categories).toEqual(["xander"]);
    expect(sp.spec.versions[0]!.subresources).toEqual({ status: {} });
    expect(nf.spec.versions[0]!.subresources).toEqual({ status: {} });
  });

  test("the generated types name one interface per titled schema and import ObjectMeta", () => {
    const ts = renderTypes();
    expect(ts).toContain('import type { ObjectMeta } from "./meta.js";');
    expect(ts.match(/export interface RuleSpec /g)).toHaveLength(1);
    expect(ts).toContain('severity?: "critical" | "warning" | "info";');
    expect(ts).toContain("nodeName: string;");
  });
});
