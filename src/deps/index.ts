/** Hidden dependency mapping: sockets → connections → edges → peers → blast radius. Pure. */
export * from "./connections.js";
export * from "./edges.js";
export * from "./resolve.js";
export * from "./blast-radius.js";
