/**
 * `incidents`: findings' lives, open and closed, newest first, with how long each lasted, its peak and its
 * culprits. Pure; served as `/api/v1/incidents` and printed by `xander incidents`.
 */
import { compareIncidents, matchesIncident, type IncidentQuery } from "../analysis/incident.js";
import { incidentsFromNodeFindings, incidentToJson } from "./convert.js";
import type { IncidentsView, ReadModelInput, WithIncidents } from "./types.js";

export const DEFAULT_INCIDENT_LIMIT = 100;

export function incidents(input: ReadModelInput & WithIncidents, query: IncidentQuery): IncidentsView {
  const all = input.incidents ?? incidentsFromNodeFindings(input.nodeFindings);
  const matching = all.filter((i) => matchesIncident(i, query)).sort(compareIncidents);
  const limit = Math.max(0, query.limit ?? DEFAULT_INCIDENT_LIMIT);
  return {
    generatedAt: new Date(input.nowMs).toISOString(),
    query,
    total: matching.length,
    incidents: matching.slice(0, limit).map((i) => incidentToJson(i, input.nowMs)),
  };
}
