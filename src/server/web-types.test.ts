/**
 * The browser build declares the JSON it reads (src/web/types.ts) instead of importing the server's types,
 * which pull in Node-side modules. These assignments fail to type-check (npm run typecheck) when a server
 * type no longer carries what a page reads.
 */
import type { DependenciesView } from "../controller/dependency-view.js";
import type { PoliciesView, WithSkipped } from "../controller/read-service.js";
import type { IncidentsView, PodResult, SummaryView, TopView } from "../report/types.js";
import type * as Web from "../web/types.js";

type Reads<Server, Page> = (server: Server) => Page;

const contract: {
  summary: Reads<SummaryView, Web.SummaryView>;
  top: Reads<TopView, Web.TopView>;
  incidents: Reads<WithSkipped<IncidentsView>, Web.IncidentsView>;
  pod: Reads<WithSkipped<PodResult>, Web.PodResult>;
  policies: Reads<PoliciesView, Web.PoliciesView>;
  dependencies: Reads<DependenciesView, Web.DependenciesView>;
} = {
  summary: (v) => v,
  top: (v) => v,
  incidents: (v) => v,
  pod: (v) => v,
  policies: (v) => v,
  dependencies: (v) => v,
};

test("the pages read only what the server's views carry (checked by the type checker)", () => {
  expect(Object.keys(contract)).toHaveLength(6);
});
