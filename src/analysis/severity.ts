import type { Severity } from "./types.js";

/** Most severe first: what every list of findings, incidents and risks sorts on before anything else. */
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { critical: 0, warning: 1, info: 2 };
