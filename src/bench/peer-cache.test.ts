import { slimPod } from "../agent/peer-cache.js";
import { realisticPod } from "./peer-cache.js";

describe("the peer-cache benchmark's Pods", () => {
  it("are the size of a typical Deployment Pod from the apiserver, each with its own identity and IP", () => {
    const sizes = [0, 1, 4999].map((i) => JSON.stringify(realisticPod(i)).length);
    for (const size of sizes) expect(size).toBeGreaterThan(3500);
    for (const size of sizes) expect(size).toBeLessThan(6000);
    const [a, b] = [realisticPod(1), realisticPod(2)];
    expect(a.metadata?.uid).not.toBe(b.metadata?.uid);
    expect((a as { status: { podIP: string } }).status.podIP).not.toBe((b as { status: { podIP: string } }).status.podIP);
  });

  it("slim to a small fraction of their JSON, keeping what resolution reads", () => {
    const pod = realisticPod(7);
    const slim = slimPod(pod);
    expect(JSON.stringify(slim).length).toBeLessThan(JSON.stringify(pod).length * 0.15);
    expect(slim).toMatchObject({ metadata: { uid: pod.metadata?.uid, labels: { "pod-template-hash": pod.metadata?.labels?.["pod-template-hash"] } }, status: { phase: "Running" } });
  });
});
