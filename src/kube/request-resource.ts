/**
 * The resource a request to the Kubernetes API is about, from its path, as the apiserver's own
 * apiserver_request_total labels it: `nodefindings`, `nodefindings/status`, `leases`, `tokenreviews`.
 * Group discovery and other paths (/version, /openapi) have no resource. Low cardinality by design: names
 * and namespaces are dropped, so a request counter can carry it as a label.
 */
export function requestResource(path: string): string {
  const parts = path.split("?")[0]?.split("/").filter((p) => p !== "") ?? [];
  const rest = parts[0] === "api" ? parts.slice(2) : parts[0] === "apis" ? parts.slice(3) : undefined;
  if (rest === undefined) return "other";
  if (rest.length === 0) return "discovery";
  const scoped = rest[0] === "namespaces" && rest.length >= 3 ? rest.slice(2) : rest;
  const [resource = "", , subresource] = scoped;
  return subresource === undefined ? resource : `${resource}/${subresource}`;
}
