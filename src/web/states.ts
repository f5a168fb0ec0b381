/**
 * What the page says when there is nothing to show or something is broken: always why, and what to do.
 * A refusal of the token replaces the page with the token form; everything else is a box above the data.
 */
import { ApiError, authMode, setToken } from "./api.js";
import { h, main, replace } from "./dom.js";

export type StateKind = "empty" | "broken" | "warn" | "info";

export function stateBox(kind: StateKind, title: string, ...lines: (string | Node)[]): HTMLElement {
  return h("section", { class: `state ${kind}`, "data-state": kind }, h("h2", {}, title), ...lines.map((line) => h("p", {}, line)));
}

/** The form that asks for a Kubernetes token once per tab; `reason` says why it is asked again. */
export function tokenForm(reason?: string): HTMLElement {
  const input = h("textarea", { name: "token", placeholder: "eyJhbGciOi…", autocomplete: "off", spellcheck: "false", "aria-label": "Kubernetes token" });
  const form = h(
    "form",
    { class: "token panel", "data-state": "needs-token" },
    h("h2", {}, "This dashboard needs a Kubernetes token"),
    h("p", {}, "Xander asks your cluster who you are (TokenReview) and whether you may read its findings (SubjectAccessReview) on every call. Paste a token of a user or service account bound to the ", h("code", {}, "xander-viewer"), " ClusterRole (or ", h("code", {}, "view"), "), for example:"),
    h("pre", {}, "kubectl create token <service-account> -n <namespace> --duration 8h"),
    h("p", { class: "muted" }, "The token stays in this browser tab (sessionStorage) and is sent only to this server, as an Authorization header."),
    reason === undefined ? null : h("p", { class: "state-reason" }, h("strong", {}, reason)),
    input,
    h("p", {}, h("button", { class: "primary", type: "submit" }, "Use this token")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (input.value.trim() === "") return;
    setToken(input.value);
    location.reload();
  });
  return form;
}

/** Replaces the page with what a failed call means to the person looking at it. */
export function showFailure(error: unknown): void {
  replace(main(), failureBox(error));
}

export function failureBox(error: unknown): HTMLElement {
  if (!(error instanceof ApiError)) return stateBox("broken", "The page failed", error instanceof Error ? error.message : String(error));
  if (error.status === 401 && authMode() === "token") {
    setToken(null);
    return tokenForm(`The cluster did not accept the token (401): ${error.message}`);
  }
  if (error.status === 403) {
    return stateBox(
      "broken",
      "Not allowed (403)",
      error.message,
      "Bind the xander-viewer ClusterRole to this user (kubectl create clusterrolebinding … --clusterrole=xander-viewer), or use another token.",
    );
  }
  if (error.status === 0) return stateBox("broken", "Cannot reach the Xander server", error.message);
  if (error.status === 503) {
    const hint = authMode() === "local" ? "xander dashboard reads the cluster with your kubeconfig: check --context, --kubeconfig or KUBECONFIG, and that the API server is up." : "The controller cannot answer right now.";
    return stateBox("broken", "Cannot reach the Kubernetes API", error.message, hint);
  }
  if (error.status === 404) return stateBox("empty", "Not found", error.message);
  return stateBox("broken", `The server answered ${error.status}`, error.message);
}
