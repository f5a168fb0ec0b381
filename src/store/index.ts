export { openStore, DEFAULT_RETENTION, AUTO_RAW_MAX_SPAN_MS } from "./store.js";
export { SchemaTooNewError, SCHEMA_VERSION } from "./migrations.js";
export { StoreOpenError, isDiskFull } from "./open.js";
export { HistoryUnavailableError } from "./recovering.js";
export { DEFAULT_INCIDENT_LIMIT } from "./incidents.js";
export type {
  HistoryStore,
  PodSeries,
  ContainerSeries,
  Resolution,
  Retention,
  RollupSample,
  StoreLogger,
  StoreOptions,
  StoreStats,
  StoredTarget,
} from "./types.js";
