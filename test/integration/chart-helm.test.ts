// The Helm chart: lint, rendering against values.schema.json (good and bad values), and install, upgrade
// and uninstall on a real control plane of its own (a fresh cluster, so the install is the first one
// ever: the CRDs do not exist yet), with the controller run from the Deployment Helm created.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import type { NodeFindings, StarvationPolicy } from "../../src/api/types.generated.js";
import { RUNTIME_ENV } from "../../src/util/runtime-env.js";
import { createNode, createPod, kubectl, mintPodBoundToken, poll, repoRoot, startCluster, type RunningCluster } from "../cluster/index.js";
import { CHART, controllerArgs, find, helm, KUBE_VERSION, parseManifests, refusals, renderChart, startInCluster, type Manifest } from "./support/chart.js";
import { freePort, type XanderProcess } from "./support/processes.js";

const suffix = randomBytes(3).toString("hex");
const NS = "xander-system";
const RELEASE = "xander";
const SCHEMA_ERROR = "values don't meet the specifications of the schema(s)";

interface Container {
  image: string;
  args: string[];
  env?: { name: string; value: string }[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: { httpGet: { path: string; port: string } };
  readinessProbe?: { httpGet: { path: string; port: string } };
  resources?: unknown;
  securityContext?: Record<string, unknown>;
}
interface PodTemplate {
  spec: { serviceAccountName: string; securityContext?: Record<string, unknown>; priorityClassName?: string; tolerations?: unknown[]; nodeSelector?: Record<string, string>; hostPID?: boolean; containers: Container[] };
}
interface Workload extends Manifest {
  spec: { replicas?: number; updateStrategy?: unknown; template: PodTemplate };
}

const flag = (args: readonly string[], name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const controllerContainer = (manifests: readonly Manifest[]): Container => (find(manifests, "Deployment") as Workload).spec.template.spec.containers[0]!;
/** The dependency-mapping switch among the controller's args: every arg that names it. */
const mappingArgs = (args: readonly string[]): string[] => args.filter((a) => a.includes("dependency-mapping"));
type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };
/** The agent's ClusterRole of release "xander" (whose name already holds the chart's, so: xander-agent). */
const agentRules = (manifests: readonly Manifest[]): Rule[] => (find(manifests, "ClusterRole", "xander-agent") as Manifest & { rules: Rule[] }).rules;
const agentResources = (manifests: readonly Manifest[]): string[] => agentRules(manifests).flatMap((r) => r.resources);

async function getJson<T>(args: string[]): Promise<T | undefined> {
  const r = await kubectl(["get", ...args, "-o", "json"]);
  return r.code === 0 ? (JSON.parse(r.stdout) as T) : undefined;
}

describe("the chart, rendered", () => {
  test("helm lint passes with no warning or error", async () => {
    const r = await helm(["lint", CHART, "--kube-version", KUBE_VERSION]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("1 chart(s) linted, 0 chart(s) failed");
    expect(r.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
  });

  test("the chart's CRDs are crds/*.yaml exactly, kept on uninstall; crds.keep=false drops the annotation, crds.install=false the CRDs", async () => {
    const fromRepo = ["nodefindings.yaml", "starvationpolicies.yaml"].map((f) => parse(readFileSync(join(repoRoot, "crds", f), "utf8")) as Manifest);
    const rendered = (await renderChart("x", NS)).filter((m) => m.kind === "CustomResourceDefinition");
    expect(rendered.map((m) => m.metadata.annotations)).toEqual([{ "helm.sh/resource-policy": "keep" }, { "helm.sh/resource-policy": "keep" }]);
    expect(rendered.map((m) => ({ ...m, metadata: { ...m.metadata, annotations: undefined } }))).toEqual(fromRepo.map((m) => ({ ...m, metadata: { ...m.metadata, annotations: undefined } })));
    const unkept = (await renderChart("x", NS, ["--set", "crds.keep=false"])).filter((m) => m.kind === "CustomResourceDefinition");
    expect(unkept.map((m) => m.metadata)).toEqual(fromRepo.map((m) => m.metadata));
    expect((await renderChart("x", NS, ["--set", "crds.install=false"])).filter((m) => m.kind === "CustomResourceDefinition")).toEqual([]);
  });

  test("values.schema.json forbids unknown keys at every object level", () => {
    const schema = JSON.parse(readFileSync(join(CHART, "values.schema.json"), "utf8")) as Record<string, unknown>;
    const loose: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (Array.isArray(node)) {
        node.forEach((n, i) => { walk(n, `${path}[${i}]`); });
        return;
      }
      if (typeof node !== "object" || node === null) return;
      const s = node as Record<string, unknown>;
      // `global` is where Helm hands a parent chart's globals to a subchart: its keys are not ours.
      if (path.endsWith(".properties.global")) return;
      if (s.type === "object" && s.additionalProperties === undefined) loose.push(path);
      for (const [k, v] of Object.entries(s)) walk(v, `${path}.${k}`);
    };
    walk(schema, "$");
    expect(loose).toEqual([]);
    expect(schema.additionalProperties).toBe(false);
  });

  test("the defaults render the controller as a restricted pod that passes the agent values to its flags", async () => {
    const manifests = await renderChart(RELEASE, NS);
    const deployment = find(manifests, "Deployment") as Workload;
    const pod = deployment.spec.template.spec;
    const c = controllerContainer(manifests);
    expect(deployment.spec.replicas).toBe(2);
    expect(pod.serviceAccountName).toBe("xander-controller");
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: "RuntimeDefault" } });
    expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } });
    expect(c.livenessProbe?.httpGet).toEqual({ path: "/healthz", port: "metrics" });
    expect(c.readinessProbe?.httpGet).toEqual({ path: "/readyz", port: "metrics" });
    expect(c.ports).toEqual([{ name: "metrics", containerPort: 8080, protocol: "TCP" }]);
    expect(c.resources).toEqual({ requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "256Mi" } });
    expect(c.args[0]).toBe("controller");
    // The chart spells out RUNTIME_ENV, which the controller renders into the agents' pods itself.
    expect(c.env).toEqual(Object.entries(RUNTIME_ENV).map(([name, value]) => ({ name, value })));
    expect(flag(c.args, "namespace")).toBe(NS);
    expect(flag(c.args, "metrics-addr")).toBe(":8080");
    expect(flag(c.args, "lease-name")).toBe("xander-controller");
    expect(flag(c.args, "agent-image")).toBe("ghcr.io/xander/xander:0.1.0");
    expect(flag(c.args, "agent-service-account")).toBe("xander-agent");
    expect(flag(c.args, "agent-priority-class")).toBeUndefined();
    expect(JSON.parse(flag(c.args, "agent-tolerations") ?? "")).toEqual([{ operator: "Exists" }]);
    expect(JSON.parse(flag(c.args, "agent-node-selector") ?? "")).toEqual({});
    expect(JSON.parse(flag(c.args, "agent-resources") ?? "")).toEqual({ requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "200m", memory: "256Mi" } });
    expect(JSON.parse(flag(c.args, "agent-update-strategy") ?? "")).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: "10%" } });
    // Dependency mapping on: the controller gives the agents hostPID and SYS_PTRACE; their ClusterRole reads Services and EndpointSlices.
    expect(mappingArgs(c.args)).toEqual(["--agent-dependency-mapping"]);
    expect(agentResources(manifests)).toEqual(expect.arrayContaining(["services", "endpointslices"]));
    // The metrics Service selects the controller pods; a ServiceMonitor only on request.
    const service = find(manifests, "Service") as Manifest & { spec: { selector: Record<string, string>; ports: { targetPort: string }[] } };
    expect(service.spec.ports[0]?.targetPort).toBe("metrics");
    expect(manifests.some((m) => m.kind === "ServiceMonitor")).toBe(false);
    // Rendered without a cluster, the StarvationPolicy API is unknown: no default policy (see default-policy.yaml).
    expect(manifests.some((m) => m.kind === "StarvationPolicy")).toBe(false);
  });

  const good: [string, string[], (m: Manifest[]) => void][] = [
    ["an OnDelete agent update strategy (the default rollingUpdate is dropped)", ["--set", "agent.updateStrategy.type=OnDelete"], (m) => {
      expect(flag(controllerContainer(m).args, "agent-update-strategy")).toBe('{"type":"OnDelete"}');
    }],
    ["agent tolerations, node selector, priority class and image", ["--set-json", 'agent.tolerations=[{"key":"gpu","operator":"Equal","value":"yes","effect":"NoSchedule"}]', "--set", "agent.nodeSelector.pool=general", "--set", "agent.priorityClassName=system-node-critical", "--set", "agent.image.repository=registry.example/xander", "--set", "agent.image.tag=9.9.9"], (m) => {
      const args = controllerContainer(m).args;
      expect(JSON.parse(flag(args, "agent-tolerations") ?? "")).toEqual([{ key: "gpu", operator: "Equal", value: "yes", effect: "NoSchedule" }]);
      expect(flag(args, "agent-node-selector")).toBe('{"pool":"general"}');
      expect(flag(args, "agent-priority-class")).toBe("system-node-critical");
      expect(flag(args, "agent-image")).toBe("registry.example/xander:9.9.9");
    }],
    ["dependency mapping off: the controller runs the agents without hostPID and SYS_PTRACE, and their ClusterRole reads no Services or EndpointSlices", ["--set", "agent.dependencyMapping.enabled=false"], (m) => {
      expect(mappingArgs(controllerContainer(m).args)).toEqual(["--no-agent-dependency-mapping"]);
      const resources = agentResources(m);
      expect(resources).not.toContain("services");
      expect(resources).not.toContain("endpointslices");
      // Everything else the agent does is still granted.
      expect(agentRules(m)).toEqual([
        { apiGroups: [""], resources: ["pods", "namespaces"], verbs: ["list", "watch"] },
        { apiGroups: ["xander.io"], resources: ["starvationpolicies"], verbs: ["list", "watch"] },
        { apiGroups: ["xander.io"], resources: ["nodefindings/status"], verbs: ["patch"] },
        { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: ["create"] },
        { apiGroups: ["authentication.k8s.io"], resources: ["tokenreviews"], verbs: ["create"] },
        { apiGroups: ["authorization.k8s.io"], resources: ["subjectaccessreviews"], verbs: ["create"] },
      ]);
    }],
    ["a ServiceMonitor", ["--set", "metrics.serviceMonitor.enabled=true", "--set", "metrics.serviceMonitor.labels.release=prom"], (m) => {
      expect(find(m, "ServiceMonitor").metadata.labels?.release).toBe("prom");
    }],
    ["a default policy spec with rules, when the API is served", ["--api-versions", "xander.io/v1alpha1/StarvationPolicy", "--set-json", "defaultPolicy.spec.rules.CPUThrottling.threshold=0.5", "--set", "defaultPolicy.spec.sampling.interval=2s"], (m) => {
      expect((find(m, "StarvationPolicy", "default") as Manifest & { spec: unknown }).spec).toEqual({ selector: { excludeNamespaces: ["kube-system"] }, rules: { CPUThrottling: { threshold: 0.5 } }, sampling: { interval: "2s" } });
    }],
    ["no own-node policy, one replica, no CRDs, existing service accounts", ["--set", "agent.ownNodeWrites.enabled=false", "--set", "controller.replicas=1", "--set", "crds.install=false", "--set", "controller.serviceAccount.create=false", "--set", "controller.serviceAccount.name=ctl", "--set", "agent.serviceAccount.create=false", "--set", "agent.serviceAccount.name=agt"], (m) => {
      expect(m.map((x) => x.kind).filter((k) => /ValidatingAdmission|CustomResourceDefinition|ServiceAccount|PodDisruptionBudget/.test(k))).toEqual([]);
      expect(flag(controllerContainer(m).args, "agent-service-account")).toBe("agt");
      expect((find(m, "ClusterRoleBinding", "xander-controller") as Manifest & { subjects: { name: string }[] }).subjects[0]?.name).toBe("ctl");
    }],
  ];

  test.each(good)("good values render: %s", async (_name, args, check) => {
    check(await renderChart(RELEASE, NS, args));
  });

  const bad: [string, string[], string][] = [
    ["an unknown top-level key", ["--set", "replicas=3"], "additional properties 'replicas' not allowed"],
    ["a misspelt nested key", ["--set", "controller.replica=3"], "at '/controller': additional properties 'replica' not allowed"],
    ["a replica count that is not a number", ["--set", "controller.replicas=two"], "at '/controller/replicas'"],
    ["zero replicas", ["--set", "controller.replicas=0"], "at '/controller/replicas'"],
    ["an update strategy Kubernetes does not have", ["--set", "agent.updateStrategy.type=Recreate"], "at '/agent/updateStrategy/type'"],
    ["a maxUnavailable that is neither a count nor a percentage", ["--set", "agent.updateStrategy.rollingUpdate.maxUnavailable=half"], "at '/agent/updateStrategy/rollingUpdate/maxUnavailable'"],
    ["a toleration with a bad operator", ["--set-json", 'agent.tolerations=[{"operator":"Always"}]'], "at '/agent/tolerations/0/operator'"],
    ["a resources typo", ["--set", "agent.resources.request.cpu=1"], "at '/agent/resources': additional properties 'request' not allowed"],
    ["a bad quantity", ["--set", "agent.resources.limits.memory=lots"], "at '/agent/resources/limits/memory'"],
    ["an unknown pull policy", ["--set", "image.pullPolicy=Sometimes"], "at '/image/pullPolicy'"],
    ["a duration without a unit", ["--set", "controller.leaderElection.leaseDuration=15"], "at '/controller/leaderElection/leaseDuration'"],
    ["a misspelt rule field in the default policy", ["--set", "defaultPolicy.spec.rules.CPUThrottling.treshold=0.5"], "at '/defaultPolicy/spec/rules/CPUThrottling': additional properties 'treshold' not allowed"],
    ["an unknown rule in the default policy", ["--set", "defaultPolicy.spec.rules.CPUThrotling.threshold=0.5"], "at '/defaultPolicy/spec/rules': additional properties 'CPUThrotling' not allowed"],
    ["a default policy interval that is not a duration", ["--set", "defaultPolicy.spec.sampling.interval=fast"], "at '/defaultPolicy/spec/sampling/interval'"],
    ["a dependency mapping switch that is not a boolean", ["--set", "agent.dependencyMapping.enabled=maybe"], "at '/agent/dependencyMapping/enabled'"],
    ["a misspelt dependency mapping switch", ["--set", "agent.dependencyMapping.enable=false"], "at '/agent/dependencyMapping': additional properties 'enable' not allowed"],
    ["a ServiceMonitor interval that is not a duration", ["--set", "metrics.serviceMonitor.interval=often"], "at '/metrics/serviceMonitor/interval'"],
  ];

  test.each(bad)("bad values make helm fail with a schema error: %s", async (_name, args, where) => {
    const r = await helm(["template", RELEASE, CHART, "--namespace", NS, "--kube-version", KUBE_VERSION, ...args]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(SCHEMA_ERROR);
    expect(r.stderr).toContain(where);
  });
});

describe("helm install, upgrade and uninstall on a real control plane", () => {
  let cluster: RunningCluster | undefined;
  let savedKubeconfig: string | undefined;
  let dir = "";
  let controller: XanderProcess | undefined;
  let token = "";
  const node = `chart-node-${suffix}`;

  const liveDeployment = async (): Promise<Workload> => {
    const d = await getJson<Workload>(["deployment", "xander-controller", "-n", NS]);
    if (d === undefined) throw new Error("no Deployment xander-controller");
    return d;
  };

  /** Runs the controller with the args of the Deployment Helm installed, as its service account, "in a pod". */
  const startController = async (): Promise<{ proc: XanderProcess; port: number }> => {
    const port = await freePort();
    const proc = startInCluster(controllerArgs(await liveDeployment(), port), { token, namespace: NS, logFile: join(dir, `controller-${Date.now()}.log`), dir });
    await poll("the controller's /readyz", async () => ((await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200 ? true : undefined), { timeoutMs: 60_000 });
    return { proc, port };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "xander-chart-"));
    cluster = await startCluster({ name: `chart-${process.pid}-${suffix}`, sharedKubeconfig: "never" });
    savedKubeconfig = process.env.KUBECONFIG;
    process.env.KUBECONFIG = cluster.kubeconfigPath;
  }, 240_000);

  afterAll(async () => {
    await controller?.stop();
    if (savedKubeconfig === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = savedKubeconfig;
    await cluster?.stop();
    if (process.env.XANDER_KEEP_LOGS === undefined) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  test("helm install into a cluster without the CRDs creates and establishes them, the controller, its RBAC and the admission policy", async () => {
    const r = await helm(["install", RELEASE, CHART, "--namespace", NS, "--create-namespace"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    // The CRDs were created by this very install, so the default policy has to wait for the next upgrade.
    expect(r.stdout).toContain("The default StarvationPolicy was NOT created yet");
    const established = await kubectl(["wait", "--for=condition=Established", "--timeout=60s", "crd/nodefindings.xander.io", "crd/starvationpolicies.xander.io"]);
    expect(established.code).toBe(0);
    const objects = [
      ["deployment", "xander-controller", NS],
      ["serviceaccount", "xander-controller", NS],
      ["serviceaccount", "xander-agent", NS],
      ["role.rbac.authorization.k8s.io", "xander-controller", NS],
      ["rolebinding.rbac.authorization.k8s.io", "xander-controller", NS],
      ["service", "xander-controller-metrics", NS],
      ["poddisruptionbudget", "xander-controller", NS],
      ["clusterrole", "xander-controller"],
      ["clusterrole", "xander-agent"],
      ["clusterrolebinding", "xander-controller"],
      ["clusterrolebinding", "xander-agent"],
      ["validatingadmissionpolicy", "xander-agent-own-node"],
      ["validatingadmissionpolicybinding", "xander-agent-own-node"],
    ];
    for (const [kind, name, ns] of objects) {
      const got = await kubectl(["get", kind!, name!, ...(ns === undefined ? [] : ["-n", ns])]);
      expect({ kind, name, code: got.code, err: got.stderr }).toEqual({ kind, name, code: 0, err: "" });
    }
    expect((await liveDeployment()).spec.replicas).toBe(2);
    expect((await kubectl(["get", "starvationpolicies", "-o", "name"])).stdout).toBe("");
  }, 120_000);

  test("the controller, run with the Deployment's args and its service account's token, keeps a NodeFindings per Node", async () => {
    await createNode(node);
    await createPod({ namespace: NS, name: "controller-0", nodeName: node, serviceAccountName: "xander-controller" });
    token = await mintPodBoundToken({ namespace: NS, serviceAccount: "xander-controller", podName: "controller-0" });
    controller = (await startController()).proc;
    const nf = await poll(`NodeFindings ${node}`, () => getJson<NodeFindings>(["nodefindings", node]), { timeoutMs: 30_000 });
    expect(nf.spec.nodeName).toBe(node);
    expect(refusals(controller.log())).toEqual([]);
  }, 120_000);

  test("helm upgrade creates the default policy; the controller then runs the agent DaemonSet with the chart's agent values", async () => {
    const r = await helm(["upgrade", RELEASE, CHART, "--namespace", NS, "--reuse-values"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('StarvationPolicy "default" watches every namespace');
    const policy = await getJson<StarvationPolicy & { metadata: { labels?: Record<string, string> } }>(["starvationpolicy", "default"]);
    expect(policy?.spec.selector?.excludeNamespaces).toEqual(["kube-system"]);
    expect(policy?.metadata.labels?.["app.kubernetes.io/managed-by"]).toBe("Helm");
    const ds = await poll("DaemonSet xander-agent", () => getJson<Workload>(["daemonset", "xander-agent", "-n", NS]), { timeoutMs: 30_000 });
    // Owned by the controller's Deployment (--owner-deployment), so that helm uninstall removes the agents.
    const deployment = await liveDeployment();
    const owner = [{ apiVersion: "apps/v1", kind: "Deployment", name: "xander-controller", uid: deployment.metadata.uid }];
    expect(ds.metadata.ownerReferences).toEqual(owner);
    expect((await getJson<Manifest>(["configmap", "xander-agent-config", "-n", NS]))?.metadata.ownerReferences).toEqual(owner);
    const pod = ds.spec.template.spec;
    expect(pod.serviceAccountName).toBe("xander-agent");
    expect(pod.tolerations).toEqual([{ operator: "Exists" }]);
    expect(ds.spec.updateStrategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: "10%", maxSurge: 0 } });
    expect(pod.containers[0]?.image).toBe("ghcr.io/xander/xander:0.1.0");
    expect(pod.containers[0]?.resources).toEqual({ requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "200m", memory: "256Mi" } });
    // agent.dependencyMapping.enabled (the default): hostPID and SYS_PTRACE, nothing else added.
    expect(pod.hostPID).toBe(true);
    expect(pod.containers[0]?.args.slice(-2)).toEqual(["--host-pid-for-netns", "1"]);
    expect(pod.containers[0]?.securityContext).toEqual({
      runAsUser: 0,
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"], add: ["SYS_PTRACE"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    await poll("policy Ready", async () => {
      const p = await getJson<StarvationPolicy>(["starvationpolicy", "default"]);
      return p?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ? true : undefined;
    }, { timeoutMs: 30_000 });
    expect(refusals(controller!.log())).toEqual([]);
  }, 120_000);

  test("helm upgrade with new agent values changes the controller's flags, and a controller on them rolls the agent DaemonSet", async () => {
    const r = await helm(["upgrade", RELEASE, CHART, "--namespace", NS, "--reuse-values", "--set", "agent.image.tag=0.1.1", "--set", "agent.updateStrategy.type=OnDelete", "--set", "agent.dependencyMapping.enabled=false"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const args = (await liveDeployment()).spec.template.spec.containers[0]!.args;
    expect(flag(args, "agent-image")).toBe("ghcr.io/xander/xander:0.1.1");
    expect(mappingArgs(args)).toEqual(["--no-agent-dependency-mapping"]);
    const role = await getJson<{ rules: Rule[] }>(["clusterrole", "xander-agent"]);
    expect(role?.rules.flatMap((rule) => rule.resources)).toEqual(["pods", "namespaces", "starvationpolicies", "nodefindings/status", "events", "tokenreviews", "subjectaccessreviews"]);
    // What the rollout of the Deployment would do: the replicas restart with the new flags.
    await controller?.stop();
    controller = (await startController()).proc;
    const ds = await poll("the DaemonSet on the new image", async () => {
      const got = await getJson<Workload>(["daemonset", "xander-agent", "-n", NS]);
      return got?.spec.template.spec.containers[0]?.image === "ghcr.io/xander/xander:0.1.1" ? got : undefined;
    }, { timeoutMs: 30_000 });
    expect(ds.spec.updateStrategy).toEqual({ type: "OnDelete" });
    // agent.dependencyMapping.enabled=false: no hostPID, no capability, and the agent maps nothing.
    const pod = ds.spec.template.spec;
    expect(pod.hostPID ?? false).toBe(false);
    expect(pod.containers[0]?.args).toContain("--no-dependency-mapping");
    expect(pod.containers[0]?.args).not.toContain("--host-pid-for-netns");
    expect(pod.containers[0]?.securityContext).toEqual({
      runAsUser: 0,
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(refusals(controller.log())).toEqual([]);
  }, 120_000);

  test("helm upgrade upgrades the CRDs: a CRD changed by hand is put back to the chart's", async () => {
    const patched = await kubectl(["patch", "crd", "nodefindings.xander.io", "--type=json", "-p", '[{"op":"replace","path":"/spec/versions/0/additionalPrinterColumns/0/name","value":"Hacked"}]']);
    expect(patched.code).toBe(0);
    const r = await helm(["upgrade", RELEASE, CHART, "--namespace", NS, "--reuse-values"]);
    expect(r.code).toBe(0);
    const crd = await getJson<{ spec: { versions: { additionalPrinterColumns: { name: string }[] }[] } }>(["crd", "nodefindings.xander.io"]);
    const fromRepo = parse(readFileSync(join(repoRoot, "crds", "nodefindings.yaml"), "utf8")) as { spec: { versions: { additionalPrinterColumns: { name: string }[] }[] } };
    expect(crd?.spec.versions[0]?.additionalPrinterColumns[0]?.name).toBe(fromRepo.spec.versions[0]?.additionalPrinterColumns[0]?.name);
  }, 120_000);

  test("helm uninstall removes the release and, through the Deployment's ownership, the agents; it keeps the CRDs, with every NodeFindings", async () => {
    // As in a real uninstall, where the controller's pods go with the Deployment: nothing deletes the agents but the garbage collector.
    await controller?.stop();
    controller = undefined;
    expect((await kubectl(["get", "daemonset", "xander-agent", "-n", NS, "-o", "name"])).code).toBe(0);
    const manifest = parseManifests((await helm(["get", "manifest", RELEASE, "--namespace", NS])).stdout);
    expect(manifest.length).toBeGreaterThan(10);
    const r = await helm(["uninstall", RELEASE, "--namespace", NS, "--wait", "--timeout", "60s"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("These resources were kept due to the resource policy:");
    for (const m of manifest) {
      const ref = [`${m.kind.toLowerCase()}.${m.apiVersion.includes("/") ? m.apiVersion.split("/")[0]! : ""}`.replace(/\.$/, ""), m.metadata.name, ...(m.metadata.namespace === undefined ? [] : ["-n", m.metadata.namespace])];
      const got = await kubectl(["get", ...ref, "-o", "name"]);
      expect({ ref: ref.join(" "), present: got.code === 0 }).toEqual({ ref: ref.join(" "), present: m.kind === "CustomResourceDefinition" });
    }
    expect((await kubectl(["get", "nodefindings", node, "-o", "name"])).stdout.trim()).toBe(`nodefindings.xander.io/${node}`);
    expect((await helm(["status", RELEASE, "--namespace", NS])).code).not.toBe(0);
    await poll("the agent DaemonSet and ConfigMap garbage-collected", async () => {
      const left = await kubectl(["get", "daemonset,configmap", "-n", NS, "-l", "app.kubernetes.io/managed-by=xander", "-o", "name"]);
      return left.code === 0 && left.stdout.trim() === "" ? true : undefined;
    }, { timeoutMs: 60_000 });
  }, 120_000);
});
