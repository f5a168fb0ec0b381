/**
 * `-o json` and the `/api/v1/*` bodies: the view object itself. Views are built with their fields in a
 * fixed order, so the same view always prints the same text.
 */
import type { IncidentsView, PodResult, ReportView, SummaryView, TopView } from "../types.js";

export type View = SummaryView | TopView | IncidentsView | PodResult | ReportView;

export function renderJson(view: View, indent = 2): string {
  return `${JSON.stringify(view, null, indent)}\n`;
}
