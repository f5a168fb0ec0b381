import { SETTLED_REFRESH_EVERY_TICKS, TargetRefreshSchedule, UNSETTLED_REFRESH_EVERY_TICKS, vanishedTargets } from "./refresh-schedule.js";

/** The ticks (0-based) on which `schedule` refreshes over `ticks` ticks; `gone` gives each tick's vanished cgroups. */
function refreshTicks(schedule: TargetRefreshSchedule, ticks: number, awaitingCgroup: (tick: number) => number, gone: (tick: number) => number = () => 0, podsChanged: (tick: number) => boolean = () => false): number[] {
  const refreshed: number[] = [];
  for (let tick = 0; tick < ticks; tick++) {
    if (schedule.due(podsChanged(tick))) {
      refreshed.push(tick);
      schedule.refreshed(awaitingCgroup(tick));
    }
    schedule.ticked(gone(tick));
  }
  return refreshed;
}

describe("when the agent resolves its pods to cgroups again", () => {
  it("refreshes on the first tick, then rarely once every pod is sampled", () => {
    expect(refreshTicks(new TargetRefreshSchedule(), 130, () => 0)).toEqual([0, SETTLED_REFRESH_EVERY_TICKS, 2 * SETTLED_REFRESH_EVERY_TICKS]);
  });

  it("refreshes every few ticks while a running container has no cgroup found, and settles once it has", () => {
    const sampledFrom = 25;
    expect(refreshTicks(new TargetRefreshSchedule(), 100, (tick) => (tick < sampledFrom ? 1 : 0))).toEqual([0, 10, 20, 30, 30 + SETTLED_REFRESH_EVERY_TICKS]);
    expect(UNSETTLED_REFRESH_EVERY_TICKS).toBe(10);
  });

  it("a vanished cgroup unsettles the node until a refresh finds every running container a cgroup", () => {
    expect(refreshTicks(new TargetRefreshSchedule(), 80, () => 0, (tick) => (tick === 5 ? 1 : 0))).toEqual([0, 10, 70]);
  });

  it("a pod event refreshes on the next tick, settled or not", () => {
    expect(refreshTicks(new TargetRefreshSchedule(), 40, () => 0, () => 0, (tick) => tick === 7 || tick === 8)).toEqual([0, 7, 8]);
  });

  it("counts as vanished only the gone targets the tick still listed, not those a refresh dropped", () => {
    const listed = ["pod-a/c1", "pod-a/c2"].map((key) => ({ key, podUid: key.split("/")[0] ?? "", containerId: key.split("/")[1] ?? "", relPath: key }));
    expect(vanishedTargets([], listed)).toBe(0);
    expect(vanishedTargets(["pod-b/c1"], listed)).toBe(0);
    expect(vanishedTargets(["pod-a/c2", "pod-b/c1"], listed)).toBe(1);
  });
});
