import type { NodeFindings } from "../../../src/api/types.generated.js";
import { kubectl } from "../../cluster/index.js";

/** A node's NodeFindings as the real apiserver holds it, or undefined while there is none. */
export async function nodeFindings(nodeName: string): Promise<NodeFindings | undefined> {
  const result = await kubectl(["get", "nodefindings", nodeName, "-o", "json"]);
  return result.code === 0 ? (JSON.parse(result.stdout) as NodeFindings) : undefined;
}
