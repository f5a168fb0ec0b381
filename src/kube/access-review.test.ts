import { AccessReviewer, bearerToken, describeAttributes, type ReviewClient } from "./access-review.js";
import type { KubeObject } from "../api/meta.js";

interface Review extends KubeObject {
  kind: string;
  spec: { token?: string; user?: string; resourceAttributes?: { verb: string; resource: string; name?: string } };
}

/** The apiserver's side of the two reviews: "alice-token" is alice, who may only list nodefindings. */
function fakeCluster(): { client: ReviewClient; calls: string[] } {
  const calls: string[] = [];
  const client: ReviewClient = {
    create: <T extends KubeObject>(obj: T): Promise<T> => {
      const review = obj as unknown as Review;
      calls.push(review.kind);
      if (review.kind === "TokenReview") {
        const authenticated = review.spec.token === "alice-token";
        return Promise.resolve({ ...obj, status: authenticated ? { authenticated, user: { username: "alice", groups: ["devs"] } } : { authenticated: false } });
      }
      const attrs = review.spec.resourceAttributes;
      const allowed = review.spec.user === "alice" && attrs?.verb === "list" && attrs.resource === "nodefindings";
      return Promise.resolve({ ...obj, status: { allowed, reason: allowed ? "" : "no RBAC rule" } });
    },
  };
  return { client, calls };
}

const list = { verb: "list", group: "xander.io", resource: "nodefindings" };
const history = { verb: "get", group: "xander.io", resource: "nodefindings", subresource: "history", name: "n1" };

describe("access review", () => {
  it("refuses a request without a bearer token with 401, asking the cluster nothing", async () => {
    const { client, calls } = fakeCluster();
    const decision = await new AccessReviewer(client).review(undefined, list);
    expect(decision).toMatchObject({ allowed: false, status: 401 });
    expect(calls).toEqual([]);
  });

  it("refuses a token the cluster does not accept with 401", async () => {
    const decision = await new AccessReviewer(fakeCluster().client).review("Bearer nope", list);
    expect(decision).toMatchObject({ allowed: false, status: 401 });
  });

  it("allows what RBAC allows, and refuses the rest with 403 naming the attributes", async () => {
    const reviewer = new AccessReviewer(fakeCluster().client);
    expect(await reviewer.review("Bearer alice-token", list)).toMatchObject({ allowed: true, user: { username: "alice" } });
    const denied = await reviewer.review("Bearer alice-token", history);
    expect(denied).toMatchObject({ allowed: false, status: 403 });
    expect(denied.allowed ? "" : denied.reason).toBe("alice may not get nodefindings/history.xander.io n1: no RBAC rule");
  });

  it("asks the cluster once per token and decision within the cache lifetime, and again after it", async () => {
    const { client, calls } = fakeCluster();
    let now = 0;
    const reviewer = new AccessReviewer(client, 10_000, () => now);
    for (let i = 0; i < 5; i++) await reviewer.review("Bearer alice-token", list);
    expect(calls).toEqual(["TokenReview", "SubjectAccessReview"]);
    now = 10_001;
    await reviewer.review("Bearer alice-token", list);
    expect(calls).toHaveLength(4);
  });

  it("a caller who keeps polling is served at once near the end of an answer's life, while the cluster is asked again", async () => {
    const { client, calls } = fakeCluster();
    let now = 0;
    let allowedNow = true;
    const revocable: ReviewClient = {
      create: async <T extends KubeObject>(obj: T): Promise<T> => {
        const answer = await client.create(obj);
        return (obj as unknown as Review).kind === "SubjectAccessReview" && !allowedNow ? { ...answer, status: { allowed: false, reason: "revoked" } } : answer;
      },
    };
    const reviewer = new AccessReviewer(revocable, 10_000, () => now);
    await reviewer.review("Bearer alice-token", list);
    now = 6_000;
    await reviewer.review("Bearer alice-token", list);
    expect(calls).toHaveLength(2); // 4 s left of 10: no need to ask yet
    now = 8_000;
    expect(await reviewer.review("Bearer alice-token", list)).toMatchObject({ allowed: true });
    expect(await reviewer.review("Bearer alice-token", list)).toMatchObject({ allowed: true });
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual(["TokenReview", "SubjectAccessReview", "TokenReview", "SubjectAccessReview"]); // one refresh each, not one per request
    now = 12_000; // past the first answers' life: the refreshed ones serve, without a wait
    expect(await reviewer.review("Bearer alice-token", list)).toMatchObject({ allowed: true });
    expect(calls).toHaveLength(4);
    // A permission revoked before a refresh is refused once that refresh has answered, within the TTL.
    allowedNow = false;
    now = 16_000;
    await reviewer.review("Bearer alice-token", list);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await reviewer.review("Bearer alice-token", list)).toMatchObject({ allowed: false, status: 403 });
  });

  it("reads bearer tokens the way clients send them, and nothing else", () => {
    expect(bearerToken("Bearer abc.def")).toBe("abc.def");
    expect(bearerToken("bearer abc")).toBe("abc");
    expect(bearerToken("Basic abc")).toBeUndefined();
    expect(bearerToken("Bearer ")).toBeUndefined();
    expect(describeAttributes({ verb: "get", path: "/metrics" })).toBe("get /metrics");
    expect(describeAttributes({ verb: "get", group: "", resource: "pods", namespace: "shop", name: "api" })).toBe("get pods api in namespace shop");
  });
});
