/**
 * uPlot time series with incidents drawn as shaded bands behind the lines. uPlot is loaded by the page
 * as a classic script (served by Xander from its own copy); only its types are imported here.
 *
 * Each chart's element carries `data-points` (points drawn) and `data-updates` (redraws with new data),
 * which say whether a chart is live without reading pixels.
 */
import type UPlotT from "uplot";
import { bytes, cores, h, pct } from "./dom.js";
import type { SeriesPoint } from "./types.js";

declare const uPlot: typeof UPlotT;

export interface Band {
  readonly fromMs: number;
  /** Absent while the incident is open. */
  readonly toMs?: number;
  readonly severity: string;
}

export type Unit = "cores" | "share" | "bytes";

export interface LineSpec {
  readonly label: string;
  readonly colour: string;
  readonly unit: Unit;
  readonly value: (p: SeriesPoint) => number | null | undefined;
  readonly dash?: readonly number[];
}

const BAND_FILL: Readonly<Record<string, string>> = { critical: "rgba(198,40,40,0.16)", warning: "rgba(224,138,0,0.16)", info: "rgba(47,111,179,0.12)" };

function format(unit: Unit, v: number | null): string {
  if (v === null) return "–";
  return unit === "cores" ? cores(v) : unit === "share" ? pct(v) : bytes(v);
}

function bandsPlugin(bands: () => readonly Band[]): UPlotT.Plugin {
  return {
    hooks: {
      drawClear: [
        (u: UPlotT) => {
          const { left, top, width, height } = u.bbox;
          for (const band of bands()) {
            const x0 = Math.max(left, u.valToPos(band.fromMs / 1000, "x", true));
            const x1 = Math.min(left + width, u.valToPos((band.toMs ?? Date.now()) / 1000, "x", true));
            if (x1 <= x0) continue;
            u.ctx.fillStyle = BAND_FILL[band.severity] ?? BAND_FILL.info ?? "";
            u.ctx.fillRect(x0, top, Math.max(2, x1 - x0), height);
          }
        },
      ],
    },
  };
}

/** Aligns several point lists on one time axis (seconds), null where a list has no point at that time. */
export function align(lists: readonly { readonly points: readonly SeriesPoint[]; readonly lines: readonly LineSpec[] }[]): UPlotT.AlignedData {
  const times = [...new Set(lists.flatMap((l) => l.points.map((p) => Math.round(Date.parse(p.t) / 1000))))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const column = (points: readonly SeriesPoint[], line: LineSpec): (number | null)[] => {
    const values: (number | null)[] = times.map(() => null);
    for (const p of points) {
      const i = index.get(Math.round(Date.parse(p.t) / 1000));
      const v = line.value(p);
      if (i !== undefined && v !== undefined) values[i] = v;
    }
    return values;
  };
  return [times, ...lists.flatMap((list) => list.lines.map((line) => column(list.points, line)))];
}

export class LiveChart {
  readonly element: HTMLElement;
  private plot: UPlotT | undefined;
  private bands: readonly Band[] = [];
  private updates = 0;

  constructor(
    readonly title: string,
    private readonly lines: readonly LineSpec[],
    private readonly widthPx: number,
  ) {
    this.element = h("div", { class: "chart", "data-chart": title, "data-points": 0, "data-updates": 0 }, h("h3", {}, title));
  }

  private create(data: UPlotT.AlignedData): UPlotT {
    const units = [...new Set(this.lines.map((l) => l.unit))];
    const scaleOf = (unit: Unit): string => (unit === units[0] ? "y" : unit);
    const opts: UPlotT.Options = {
      width: this.widthPx,
      height: 200,
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
      scales: Object.fromEntries(units.map((u) => [scaleOf(u), u === "share" ? { range: [0, 1] as [number, number] } : { range: (_u: UPlotT, _min: number, max: number): [number, number] => [0, max > 0 ? max * 1.1 : 1] }])),
      axes: [
        {},
        // uPlot's Axis.Side is a const enum, which isolatedModules cannot name: 3 is left, 1 is right.
        // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment
        ...units.map((unit, i) => ({ scale: scaleOf(unit), side: i === 0 ? 3 : 1, size: 64, grid: { show: i === 0 }, values: (_u: UPlotT, splits: number[]) => splits.map((v) => format(unit, v)) })),
      ],
      series: [
        {},
        ...this.lines.map((l) => ({ label: l.label, stroke: l.colour, width: 1.5, scale: scaleOf(l.unit), spanGaps: true, ...(l.dash ? { dash: [...l.dash] } : {}), value: (_u: UPlotT, v: number | null) => format(l.unit, v) })),
      ],
      plugins: [bandsPlugin(() => this.bands)],
    };
    return new uPlot(opts, data, this.element);
  }

  update(data: UPlotT.AlignedData, bands: readonly Band[]): void {
    this.bands = bands;
    if (this.plot === undefined) this.plot = this.create(data);
    else this.plot.setData(data);
    this.updates++;
    this.element.dataset.points = String(data[0].length);
    this.element.dataset.updates = String(this.updates);
  }
}

const BLUE = "#3949ab";
const RED = "#c62828";
const ORANGE = "#e08a00";
const GREEN = "#2e7d32";
const GREY = "#5d6b7e";

/** The pod page's charts, one set per container. */
export const POD_CHARTS: readonly { readonly title: string; readonly lines: readonly LineSpec[] }[] = [
  {
    title: "CPU: cores used vs limit, and throttle ratio",
    lines: [
      { label: "cores", colour: BLUE, unit: "cores", value: (p) => p.cpuCores },
      { label: "limit", colour: GREY, unit: "cores", value: (p) => p.cpuLimitCores, dash: [6, 4] },
      { label: "throttled", colour: ORANGE, unit: "share", value: (p) => p.throttleRatio },
    ],
  },
  { title: "CPU stall share (PSI some)", lines: [{ label: "cpu stall", colour: RED, unit: "share", value: (p) => p.cpuStallShare }] },
  {
    title: "Memory: working set vs limit",
    lines: [
      { label: "working set", colour: GREEN, unit: "bytes", value: (p) => p.workingSetBytes },
      { label: "limit", colour: GREY, unit: "bytes", value: (p) => p.memoryLimitBytes, dash: [6, 4] },
    ],
  },
  {
    title: "Memory and IO stall share",
    lines: [
      { label: "memory stall", colour: GREEN, unit: "share", value: (p) => p.memoryStallShare },
      { label: "io stall", colour: BLUE, unit: "share", value: (p) => p.ioStallShare },
    ],
  },
];

export const VICTIM_STALL: LineSpec = { label: "victim cpu stall", colour: RED, unit: "share", value: (p) => p.cpuStallShare };
export const CULPRIT_CPU: LineSpec = { label: "culprit cores", colour: BLUE, unit: "cores", value: (p) => p.cpuCores };
