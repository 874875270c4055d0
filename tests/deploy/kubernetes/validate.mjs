// Validates deploy/kubernetes: each object against the Kubernetes API schema (kubernetes-models, pinned in package-lock.json) and the wiring between them.
// node validate.mjs --modules DIR/node_modules --kustomization deploy/kubernetes/kustomization.yaml --alertd BIN
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";

const arg = (name) => {
  const i = process.argv.indexOf(name);
  if (i < 0 || i + 1 >= process.argv.length) throw new Error(`missing ${name}`);
  return process.argv[i + 1];
};
const require = createRequire(path.join(path.resolve(arg("--modules")), "resolve.js"));
const YAML = require("yaml");
const kustomization = path.resolve(arg("--kustomization"));
const dir = path.dirname(kustomization);
const alertd = arg("--alertd");
const problems = [];
const fail = (where, what) => problems.push(`${where}: ${what}`);

const kust = YAML.parse(fs.readFileSync(kustomization, "utf8"));
const objects = [];
for (const file of kust.resources) {
  for (const doc of YAML.parseAllDocuments(fs.readFileSync(path.join(dir, file), "utf8"))) {
    if (doc.errors.length) fail(file, doc.errors.map(String).join("; "));
    const o = doc.toJSON();
    if (o) objects.push({ file, o, where: `${file} ${o.kind}/${o.metadata?.name}` });
  }
}
const generated = new Map();
for (const g of kust.configMapGenerator ?? []) {
  for (const f of g.files) {
    if (!fs.existsSync(path.join(dir, f))) fail("kustomization.yaml", `${g.name}: ${f} does not exist`);
  }
  generated.set(g.name, g.files.map((f) => path.basename(f)));
}

// The API schema of each object's kind and version.
for (const { o, where } of objects) {
  const [group, version] = o.apiVersion.includes("/") ? o.apiVersion.split("/") : [null, o.apiVersion];
  let Model;
  try {
    Model = require(`kubernetes-models/${group ? `${group}/` : ""}${version}/${o.kind}`)[o.kind];
  } catch (e) {
    fail(where, `no schema for ${o.apiVersion} ${o.kind}`);
    continue;
  }
  try {
    new Model(o).validate();
  } catch (e) {
    fail(where, `schema: ${e.message}`);
  }
}

const byKind = (kind) => objects.filter(({ o }) => o.kind === kind);
const configMaps = new Map(byKind("ConfigMap").map(({ o }) => [o.metadata.name, Object.keys(o.data ?? {})]));
for (const [name, keys] of generated) configMaps.set(name, keys);
const matches = (selector, labels) =>
  Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v) && Object.keys(selector ?? {}).length > 0;
const alertdFlags = new Set(execFileSync(alertd, ["--help"], { encoding: "utf8" }).match(/--[a-z-]+/g));

for (const { o, where } of [...byKind("StatefulSet"), ...byKind("Deployment"), ...byKind("Job")]) {
  const pod = o.spec.template;
  if (o.kind !== "Job" && !matches(o.spec.selector.matchLabels, pod.metadata.labels)) {
    fail(where, "selector does not match the pod template's labels");
  }
  const volumes = new Map((pod.spec.volumes ?? []).map((v) => [v.name, v]));
  for (const t of o.spec.volumeClaimTemplates ?? []) volumes.set(t.metadata.name, { claim: t });
  for (const v of volumes.values()) {
    if (v.configMap && !configMaps.has(v.configMap.name)) fail(where, `volume ${v.name}: no ConfigMap ${v.configMap.name}`);
  }
  for (const c of pod.spec.containers) {
    const cw = `${where} container ${c.name}`;
    const ports = new Map((c.ports ?? []).map((p) => [p.name, p.containerPort]));
    for (const probe of ["livenessProbe", "readinessProbe"]) {
      const get = c[probe]?.httpGet;
      if (get && !ports.has(get.port) && !Number.isInteger(get.port)) fail(cw, `${probe} port ${get.port} is no container port`);
    }
    const mounts = new Map((c.volumeMounts ?? []).map((m) => [m.name, m.mountPath]));
    for (const name of mounts.keys()) if (!volumes.has(name)) fail(cw, `volumeMount ${name} has no volume`);
    if (c.name === "create-topics") {
      const script = c.command?.at(-1) ?? "";
      const mount = [...mounts].find(([, p]) => script.startsWith(`${p}/`));
      const keys = mount && configMaps.get(volumes.get(mount[0])?.configMap?.name);
      if (!keys?.includes(path.basename(script))) fail(cw, `runs ${script}, which no mounted ConfigMap holds`);
    }
    if (c.name !== "alertd") continue;
    // alertd itself: its flags, the probes on /healthz and /readyz, the state on the claim, the policy.
    const flags = Object.fromEntries((c.args ?? []).map((a) => a.split(/=(.*)/s).slice(0, 2)));
    for (const f of Object.keys(flags)) if (!alertdFlags.has(f)) fail(cw, `alertd has no flag ${f} (alertd --help)`);
    if (c.livenessProbe?.httpGet?.path !== "/healthz") fail(cw, "livenessProbe is not GET /healthz");
    if (c.readinessProbe?.httpGet?.path !== "/readyz") fail(cw, "readinessProbe is not GET /readyz");
    const httpPort = Number((flags["--http"] ?? "").split(":").at(-1));
    if (![...ports.values()].includes(httpPort)) fail(cw, `--http port ${httpPort} is not a container port`);
    const stateMount = mounts.get((o.spec.volumeClaimTemplates ?? [])[0]?.metadata.name);
    if (!stateMount || !(flags["--db"] ?? "").startsWith(`${stateMount}/`)) {
      fail(cw, `--db ${flags["--db"]} is not on the persistent volume (${stateMount})`);
    }
    const policy = flags["--policy"] ?? "";
    const policyMount = [...mounts].find(([, p]) => policy.startsWith(`${p}/`));
    const policyMap = policyMount && byKind("ConfigMap").find(({ o: m }) => m.metadata.name === volumes.get(policyMount[0])?.configMap?.name);
    const policyText = policyMap?.o.data?.[path.basename(policy)];
    if (policyText === undefined) {
      fail(cw, `--policy ${policy} is in no mounted ConfigMap`);
    } else {
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "policy-")), "policy.yaml");
      fs.writeFileSync(file, policyText);
      try {
        execFileSync(alertd, ["print-policy", "--policy", file], { stdio: ["ignore", "ignore", "pipe"] });
      } catch (e) {
        fail(`${policyMap.where} ${path.basename(policy)}`, `alertd refuses it: ${e.stderr}`);
      }
    }
    if (o.kind === "StatefulSet") {
      const svc = byKind("Service").find(({ o: s }) => s.metadata.name === o.spec.serviceName);
      if (!svc || svc.o.spec.clusterIP !== "None") fail(where, `serviceName ${o.spec.serviceName} is no headless Service`);
      else if (!matches(svc.o.spec.selector, pod.metadata.labels)) fail(svc.where, "selects none of the StatefulSet's pods");
    }
  }
}
for (const { o, where } of byKind("PodDisruptionBudget")) {
  const covered = [...byKind("StatefulSet"), ...byKind("Deployment")].some(({ o: w }) => matches(o.spec.selector.matchLabels, w.spec.template.metadata.labels));
  if (!covered) fail(where, "selects no workload's pods");
}
for (const need of ["StatefulSet", "Service", "PodDisruptionBudget", "ConfigMap", "Job"]) {
  if (!byKind(need).length) fail("deploy/kubernetes", `no ${need}`);
}
if (problems.length) {
  for (const p of problems) console.error(`FAIL: ${p}`);
  process.exit(1);
}
console.log(`${objects.length} Kubernetes objects valid against the API schema (kubernetes-models), wiring checked`);
