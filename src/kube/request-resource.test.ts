import { requestResource } from "./request-resource.js";

describe("requestResource", () => {
  test.each([
    ["/apis/xander.io/v1alpha1/nodefindings/node-1/status", "nodefindings/status"],
    ["/apis/xander.io/v1alpha1/nodefindings?fieldManager=x", "nodefindings"],
    ["/apis/xander.io/v1alpha1/nodefindings/node-1", "nodefindings"],
    ["/apis/coordination.k8s.io/v1/namespaces/xander/leases/xander-controller", "leases"],
    ["/api/v1/namespaces/default/pods/web-1", "pods"],
    ["/api/v1/namespaces/default", "namespaces"],
    ["/api/v1/namespaces", "namespaces"],
    ["/api/v1/nodes", "nodes"],
    ["/apis/authentication.k8s.io/v1/tokenreviews", "tokenreviews"],
    ["/apis/xander.io/v1alpha1", "discovery"],
    ["/api/v1", "discovery"],
    ["/version", "other"],
  ])("%s is about %s", (path, resource) => {
    expect(requestResource(path)).toBe(resource);
  });
});
