#!/usr/bin/env python3
"""Checks deploy/compose/compose.yaml without a container engine: the services the issue asks for, every
mounted file present, alertd's flags known to alertd, and Prometheus, Alertmanager and Grafana pointed at
services that exist on the ports they listen on."""
import os
import re
import subprocess
import sys
from urllib.parse import urlparse

import yaml


def main(compose_path, alertd):
    base = os.path.dirname(os.path.abspath(compose_path))
    doc = yaml.safe_load(open(compose_path))
    services, volumes = doc["services"], set(doc.get("volumes") or {})
    problems = []
    alertd_flags = set(re.findall(r"--[a-z-]+", subprocess.run([alertd, "--help"], capture_output=True, text=True).stdout))

    def mounts(svc):
        out = {}
        for v in services[svc].get("volumes", []):
            src, dst = v.split(":")[:2]
            out[dst] = src
            if src.startswith("."):
                if not os.path.exists(os.path.join(base, src)):
                    problems.append(f"{svc}: mounts {src}, which does not exist")
            elif src not in volumes:
                problems.append(f"{svc}: volume {src} is not declared")
        return out

    def flags(svc):
        return dict(a.split("=", 1) for a in services[svc].get("command", []) if a.startswith("--"))

    all_mounts = {s: mounts(s) for s in services}
    for s, spec in services.items():
        deps = spec.get("depends_on", [])
        for d in deps if isinstance(deps, list) else deps.keys():
            if d not in services:
                problems.append(f"{s}: depends on {d}, no such service")

    env = services.get("kafka", {}).get("environment", {})
    if "controller" not in str(env.get("KAFKA_PROCESS_ROLES", "")):
        problems.append("kafka: not in KRaft mode (KAFKA_PROCESS_ROLES has no controller)")

    alertds = [s for s, spec in services.items() if spec.get("image", "").startswith("alertd") and "entrypoint" not in spec]
    notifiers = [s for s, spec in services.items() if "alertd-notify" in str(spec.get("entrypoint", ""))]
    if len(alertds) < 2:
        problems.append(f"two alertd services expected, found {alertds}")
    if not notifiers:
        problems.append("no alertd-notify service")
    for need in ("prometheus", "alertmanager", "grafana", "topics"):
        if need not in services:
            problems.append(f"no {need} service")
    ports = {}
    for s in alertds:
        f = flags(s)
        for name in f:
            if name not in alertd_flags:
                problems.append(f"{s}: alertd has no flag {name} (alertd --help)")
        if not any(f.get("--db", "").startswith(dst + "/") and src in volumes for dst, src in all_mounts[s].items()):
            problems.append(f"{s}: --db {f.get('--db')} is not on a named volume")
        policy = all_mounts[s].get(f.get("--policy", ""))
        if not policy:
            problems.append(f"{s}: --policy {f.get('--policy')} is not a mounted file")
        elif subprocess.run([alertd, "print-policy", "--policy", os.path.join(base, policy)], capture_output=True).returncode:
            problems.append(f"{s}: alertd refuses its policy {policy}")
        ports[s] = f.get("--http", "").rsplit(":", 1)[-1]
    if len({flags(s).get("--instance-id") for s in alertds}) != len(alertds):
        problems.append("the alertd services share an --instance-id")
    for s in notifiers:
        ports[s] = flags(s).get("--http", "").rsplit(":", 1)[-1]
    ports["alertmanager"] = "9093"

    # Prometheus's targets and Alertmanager, as the mounted prometheus.yml names them.
    prom_cfg = all_mounts.get("prometheus", {}).get("/etc/prometheus/prometheus.yml")
    if prom_cfg:
        cfg = yaml.safe_load(open(os.path.join(base, prom_cfg)))
        targets = [t for job in cfg["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]]
        targets += [t for am in cfg["alerting"]["alertmanagers"] for sc in am["static_configs"] for t in sc["targets"]]
        for t in targets:
            host, port = t.rsplit(":", 1)
            if ports.get(host) != port:
                problems.append(f"prometheus.yml target {t}: no service {host} listening on {port}")
        for s in alertds + notifiers:
            if not any(t.startswith(s + ":") for t in targets):
                problems.append(f"prometheus.yml does not scrape {s}")
    else:
        problems.append("prometheus: no /etc/prometheus/prometheus.yml mounted")
    ds_dir = all_mounts.get("grafana", {}).get("/etc/grafana/provisioning/datasources")
    if ds_dir:
        for d in yaml.safe_load(open(os.path.join(base, ds_dir, "prometheus.yml")))["datasources"]:
            u = urlparse(d["url"])
            if u.hostname not in services or str(u.port) != "9090":
                problems.append(f"grafana datasource {d['url']}: not the prometheus service")
    for p in problems:
        print("FAIL:", p, file=sys.stderr)
    if not problems:
        print(f"compose: {len(services)} services, {len(alertds)} alertd, mounts, flags and targets consistent")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
