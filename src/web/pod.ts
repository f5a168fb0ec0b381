/**
 * A pod: its series per container as live charts with incidents shaded, the culprit's CPU beside the
 * victim's stall when a neighbour starves it, its advice, callers and callees, and its incidents.
 *
 * The last hour is read once; then `/api/v1/events/pods/{ns}/{name}?since=2m` pushes the last two minutes
 * whenever they change, and the new points are merged in, so the charts grow without a reload.
 */
import { getJson, openStream } from "./api.js";
import { align, CULPRIT_CPU, LiveChart, POD_CHARTS, VICTIM_STALL, type Band } from "./charts.js";
import { h, main, podLink, replace, setLive } from "./dom.js";
import { adviceSection, findingsSection, incidentsSection, neighboursSection, starvationCulprit } from "./pod-sections.js";
import { failureBox, showFailure, stateBox } from "./states.js";
import type { IncidentJson, PodResult, PodView, SeriesPoint } from "./types.js";

const SPAN_MS = 3_600_000;
const CULPRIT_REFRESH_MS = 4000;

/** Points by container, keyed by time, trimmed to the span. */
class Series {
  private readonly byContainer = new Map<string, Map<string, SeriesPoint>>();

  merge(pod: PodView): void {
    const oldest = Date.now() - SPAN_MS;
    for (const c of pod.containers) {
      const points = this.byContainer.get(c.container) ?? new Map<string, SeriesPoint>();
      for (const p of c.points) points.set(p.t, p);
      for (const t of points.keys()) if (Date.parse(t) < oldest) points.delete(t);
      this.byContainer.set(c.container, points);
    }
  }

  containers(): string[] {
    return [...this.byContainer.keys()].sort();
  }

  points(container?: string): SeriesPoint[] {
    const maps = container === undefined ? [...this.byContainer.values()] : [this.byContainer.get(container) ?? new Map<string, SeriesPoint>()];
    return maps.flatMap((m) => [...m.values()]).sort((a, b) => Date.parse(a.t) - Date.parse(b.t));
  }
}

function bandsOf(incidents: readonly IncidentJson[], container?: string): Band[] {
  return incidents
    .filter((i) => container === undefined || i.container === undefined || i.container === container)
    .map((i) => ({ fromMs: Date.parse(i.start), ...(i.end === undefined ? {} : { toMs: Date.parse(i.end) }), severity: i.severity }));
}

function chartWidth(): number {
  return Math.max(480, Math.min(660, Math.floor((main().clientWidth - 60) / 2)));
}

class PodPage {
  private readonly series = new Series();
  private readonly culpritSeries = new Series();
  private readonly incidents = new Map<string, IncidentJson>();
  private readonly charts = new Map<string, LiveChart>();
  private culpritChart: LiveChart | undefined;
  private culpritNote: HTMLElement | undefined;
  private culprit: string | undefined;
  private culpritFetchedMs = 0;
  private readonly chartsEl = h("div", { class: "charts", id: "charts" });
  private readonly culpritEl = h("section", { class: "panel", id: "culprit" });
  private readonly sectionsEl = h("div", {});
  private readonly problemEl = h("div", {});

  constructor(private view: PodView) {
    this.take(view);
  }

  private take(view: PodView): void {
    this.view = view;
    this.series.merge(view);
    for (const i of view.incidents) this.incidents.set(i.id, i);
    this.culprit ??= starvationCulprit(view);
  }

  private allIncidents(): IncidentJson[] {
    return [...this.incidents.values()].sort((a, b) => Date.parse(b.start) - Date.parse(a.start));
  }

  mount(): void {
    const v = this.view;
    const skipped = v.skipped.length === 0 ? null : stateBox("warn", "Some nodes could not be read", ...v.skipped.map((s) => `${s.node}: ${s.reason}`));
    replace(
      main(),
      h("h1", {}, `${v.namespace}/${v.name}`),
      h("p", { class: "muted" }, `${v.workload} on ${v.nodes.join(", ") || "an unknown node"}. Shaded: incidents.`),
      this.problemEl,
      skipped,
      this.culpritEl,
      h("section", { class: "panel" }, h("h2", {}, "Series (last hour)"), this.chartsEl),
      this.sectionsEl,
    );
    this.culpritEl.hidden = true;
    this.draw();
  }

  private draw(): void {
    const incidents = this.allIncidents();
    if (this.series.containers().length === 0) replace(this.chartsEl, h("p", { class: "muted" }, "No samples of this pod yet: its agent holds none, or cannot be read."));
    for (const container of this.series.containers()) {
      for (const spec of POD_CHARTS) {
        const key = `${container}|${spec.title}`;
        let chart = this.charts.get(key);
        if (chart === undefined) {
          chart = new LiveChart(this.series.containers().length > 1 ? `${container}: ${spec.title}` : spec.title, spec.lines, chartWidth());
          this.charts.set(key, chart);
          this.chartsEl.append(chart.element);
        }
        chart.update(align([{ points: this.series.points(container), lines: spec.lines }]), bandsOf(incidents, container));
      }
    }
    replace(this.sectionsEl, findingsSection(this.view.openFindings), adviceSection(this.view.containers), neighboursSection(this.view), incidentsSection(incidents));
    this.drawCulprit();
  }

  private drawCulprit(): void {
    if (this.culprit === undefined) return;
    this.culpritEl.hidden = false;
    if (this.culpritChart === undefined) {
      this.culpritChart = new LiveChart("Victim's CPU stall vs culprit's CPU", [CULPRIT_CPU, VICTIM_STALL], Math.min(1340, main().clientWidth - 60));
      this.culpritNote = h("p", { class: "muted" });
      replace(this.culpritEl, h("h2", {}, "Starved by a noisy neighbour: ", h("span", { class: "culprit", id: "culprit-name" }, podLink(this.culprit))), this.culpritNote, this.culpritChart.element);
    }
    const data = align([
      { points: this.culpritSeries.points(), lines: [CULPRIT_CPU] },
      { points: this.series.points(), lines: [VICTIM_STALL] },
    ]);
    this.culpritChart.update(data, bandsOf(this.allIncidents().filter((i) => i.rule === "CPUStarvation")));
  }

  /** The culprit's series: the hour once, then the last two minutes at most every few seconds. */
  private async refreshCulprit(): Promise<void> {
    if (this.culprit === undefined || Date.now() - this.culpritFetchedMs < CULPRIT_REFRESH_MS) return;
    const first = this.culpritFetchedMs === 0;
    this.culpritFetchedMs = Date.now();
    const [namespace = "", name = ""] = this.culprit.split("/");
    try {
      const result = await getJson<PodResult>(`/api/v1/pods/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}?since=${first ? "1h" : "2m"}`);
      if (result.found) this.culpritSeries.merge(result);
      if (this.culpritNote !== undefined) this.culpritNote.textContent = result.found ? "The culprit's CPU (cores, left) while this pod stalled (share, right)." : result.message;
    } catch (error) {
      if (this.culpritNote !== undefined) this.culpritNote.textContent = `The culprit's series cannot be read: ${error instanceof Error ? error.message : String(error)}`;
    }
    this.drawCulprit();
  }

  live(namespace: string, name: string): void {
    void this.refreshCulprit();
    openStream(`/api/v1/events/pods/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}?since=2m`, {
      events: {
        pod: (data) => {
          const result = data as PodResult;
          replace(this.problemEl);
          if (!result.found) return;
          this.take(result);
          this.draw();
          void this.refreshCulprit();
        },
        recovered: () => {
          replace(this.problemEl);
        },
      },
      onLive: setLive,
      onError: (error) => {
        if (error.status === 401 || error.status === 403) showFailure(error);
        else replace(this.problemEl, failureBox(error));
      },
    });
  }
}

export function renderPod(namespace: string, name: string): void {
  getJson<PodResult>(`/api/v1/pods/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}?since=1h`)
    .then((result) => {
      if (!result.found) {
        replace(main(), h("h1", {}, `${namespace}/${name}`), stateBox("empty", "Xander knows nothing of this pod", result.message));
        return;
      }
      const page = new PodPage(result);
      page.mount();
      page.live(namespace, name);
    })
    .catch(showFailure);
}
