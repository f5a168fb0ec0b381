/**
 * The dashboard's entry point: picks the page from the path, asks for a token first when the controller
 * serves it, and marks the live indicator. Navigation is ordinary links: each page load starts clean.
 */
import { authMode, setToken, token } from "./api.js";
import { main, replace, setLive } from "./dom.js";
import { renderDependencies } from "./dependencies.js";
import { renderIncidents } from "./incidents.js";
import { renderOverview } from "./overview.js";
import { renderPod } from "./pod.js";
import { showFailure, tokenForm } from "./states.js";

function markNav(page: string): void {
  for (const a of document.querySelectorAll<HTMLAnchorElement>("header nav a")) a.classList.toggle("active", a.dataset.page === page);
}

function start(): void {
  const path = location.pathname;
  const pod = /^\/pods\/([^/]+)\/([^/]+)$/.exec(path);
  const page = pod !== null ? "pod" : path === "/incidents" ? "incidents" : path === "/dependencies" ? "dependencies" : "overview";
  markNav(page);
  if (authMode() === "token") {
    const signout = document.getElementById("signout");
    if (signout !== null) {
      signout.hidden = token() === null;
      signout.addEventListener("click", () => {
        setToken(null);
        location.reload();
      });
    }
    if (token() === null) {
      setLive(null);
      replace(main(), tokenForm());
      return;
    }
  }
  if (pod?.[1] !== undefined && pod[2] !== undefined) renderPod(decodeURIComponent(pod[1]), decodeURIComponent(pod[2]));
  else if (page === "incidents") void renderIncidents().catch(showFailure);
  else if (page === "dependencies") void renderDependencies().catch(showFailure);
  else renderOverview();
}

start();
