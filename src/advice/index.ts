export { adviseContainer } from "./container.js";
export { adviseCulprit } from "./culprit.js";
export { adviceLines, adviceSummary } from "./summary.js";
export type * from "./types.js";
