#!/usr/bin/env python3
"""Checks the PromQL of deploy/grafana's dashboard and deploy/prometheus's rules.

offline: the dashboard's structure, every expression parses (promtool check rules on a generated rule
         file), and every metric named is registered in engine/metrics or by alertd-notify.
online:  every dashboard expression is accepted by a running Prometheus, and names only metrics that a
         running alertd exposes (its /metrics text), alertd-notify's, the rules' records, or `up`.
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request

import yaml

# What Grafana puts in place of its variables when it sends a query.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "1m", "$__range": "1h", "$unit": ".*"}
KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "offset",
            "bool", "inf", "nan", "atan2"}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def fail(problems):
    for p in problems:
        print("FAIL:", p, file=sys.stderr)
    sys.exit(1 if problems else 0)


def dashboard_queries(path):
    """(where, expression with the variables substituted) of every panel target and query variable."""
    dash = json.load(open(path))
    out = []
    for panel in dash["panels"]:
        for t in panel.get("targets", []):
            out.append((f'panel {panel["id"]} "{panel["title"]}" {t["refId"]}', t["expr"]))
    for v in dash.get("templating", {}).get("list", []):
        m = re.fullmatch(r"label_values\((.+), *(\w+)\)", v["query"]["query"])
        if not m:
            out.append((f'variable {v["name"]}', v["query"]["query"]))  # reported as not parsing
        else:
            out.append((f'variable {v["name"]}', m.group(1)))
    result = []
    for where, expr in out:
        for var, value in GRAFANA_VARIABLES.items():
            expr = expr.replace(var, value)
        if "$" in expr:
            result.append((where, expr, f"{where}: unknown Grafana variable in {expr!r}"))
        else:
            result.append((where, expr, None))
    return dash, result


def rule_expressions(paths):
    exprs, records = [], set()
    for path in paths:
        for group in yaml.safe_load(open(path))["groups"]:
            for rule in group["rules"]:
                name = rule.get("record") or rule.get("alert")
                exprs.append((f"{os.path.basename(path)} {name}", rule["expr"]))
                if "record" in rule:
                    records.add(rule["record"])
    return exprs, records


def metric_names(expr):
    """Metric names an expression selects: identifiers that are neither functions, keywords, label names
    nor inside strings, label matchers, ranges or grouping clauses."""
    s = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)
    s = re.sub(r"\{[^}]*\}", " ", s)
    s = re.sub(r"\[[^\]]*\]", " ", s)
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)
    s = re.sub(r"\boffset\s+-?[0-9a-z]+", " ", s)
    names = set()
    for m in re.finditer(r"[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|[A-Za-z_:][A-Za-z0-9_:]*", s):
        tok = m.group(0)
        if tok[0].isdigit() or tok in KEYWORDS:
            continue
        if re.match(r"\s*\(", s[m.end():]):
            continue  # a function or aggregation
        names.add(tok)
    return names


def families(names):
    """Sample names -> the family names they belong to, and the sample names themselves."""
    out = set(names)
    for n in names:
        for suffix in HISTOGRAM_SUFFIXES:
            if n.endswith(suffix):
                out.add(n[: -len(suffix)])
    return out


def notify_metrics(path):
    names = {l.strip() for l in open(path) if l.strip() and not l.startswith("#")}
    return names | {n + s for n in names for s in HISTOGRAM_SUFFIXES}


def check_structure(dash, datasources_path):
    problems = []
    uids = {d["uid"] for d in yaml.safe_load(open(datasources_path))["datasources"]}
    ids = [p["id"] for p in dash["panels"]]
    if len(ids) != len(set(ids)):
        problems.append(f"panel ids repeat: {ids}")
    for p in dash["panels"]:
        if p["type"] == "row":
            continue
        where = f'panel {p["id"]} "{p["title"]}"'
        if p.get("datasource", {}).get("uid") not in uids:
            problems.append(f"{where}: datasource {p.get('datasource')} is none of the provisioned uids {sorted(uids)}")
        if not p.get("targets"):
            problems.append(f"{where}: no query")
        for t in p.get("targets", []):
            if t.get("datasource", {}).get("uid") not in uids:
                problems.append(f"{where} {t['refId']}: datasource {t.get('datasource')} is not provisioned")
        g = p["gridPos"]
        if g["x"] + g["w"] > 24:
            problems.append(f"{where}: wider than the grid ({g})")
    return problems


def offline(args):
    dash, queries = dashboard_queries(args.dashboard)
    problems = check_structure(dash, args.datasources) + [err for _, _, err in queries if err]
    rule_exprs, records = rule_expressions(args.rules)
    # promtool parses every expression as a recording rule.
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": [
            {"record": f"dashboard_expr_{i}", "expr": e} for i, (_, e, err) in enumerate(queries) if not err]}]}, f)
    r = subprocess.run([args.promtool, "check", "rules", f.name], capture_output=True, text=True)
    os.unlink(f.name)
    if r.returncode != 0:
        problems.append("promtool cannot parse a dashboard expression:\n" + r.stdout + r.stderr)
    registered = set()
    for src in args.metric_sources:
        registered |= set(re.findall(r'(?:\.Name\(|Family\()"([a-z_:]+)"', open(src).read()))
    known = families(registered) | {n + s for n in registered for s in HISTOGRAM_SUFFIXES}
    known |= notify_metrics(args.notify_metrics) | records | {"up"}
    for where, expr in [(w, e) for w, e, err in queries if not err] + rule_exprs:
        for name in sorted(metric_names(expr) - known):
            problems.append(f"{where}: {name} is registered neither in engine/metrics nor by alertd-notify")
    print(f"{len(queries)} dashboard expressions and {len(rule_exprs)} rules parse and name registered metrics")
    fail(problems)


def online(args):
    dash, queries = dashboard_queries(args.dashboard)
    problems = [err for _, _, err in queries if err]
    _, records = rule_expressions(args.rules)
    exposed = set()
    for line in open(args.exposed):
        if line.startswith("# TYPE "):
            exposed.add(line.split()[2])
        elif line.strip() and not line.startswith("#"):
            exposed.add(re.match(r"[A-Za-z_:][A-Za-z0-9_:]*", line).group(0))
    known = families(exposed) | notify_metrics(args.notify_metrics) | records | {"up"}
    for where, expr, err in queries:
        if err:
            continue
        url = args.prometheus + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        try:
            body = json.load(urllib.request.urlopen(url, timeout=10))
        except urllib.error.HTTPError as e:
            body = json.load(e)
        if body.get("status") != "success":
            problems.append(f"{where}: Prometheus refuses {expr!r}: {body.get('error')}")
        for name in sorted(metric_names(expr) - known):
            problems.append(f"{where}: {name} is exposed by neither the running alertd nor alertd-notify")
    print(f"{len(queries)} dashboard expressions accepted by Prometheus, naming only exposed metrics")
    fail(problems)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    sub = p.add_subparsers(dest="mode", required=True)
    o = sub.add_parser("offline")
    o.add_argument("--promtool", required=True)
    o.add_argument("--datasources", required=True)
    o.add_argument("--metric-sources", nargs="+", required=True)
    n = sub.add_parser("online")
    n.add_argument("--prometheus", required=True)
    n.add_argument("--exposed", required=True, help="a running alertd's /metrics text")
    for q in (o, n):
        q.add_argument("--dashboard", required=True)
        q.add_argument("--rules", nargs="+", required=True)
        q.add_argument("--notify-metrics", required=True)
    args = p.parse_args()
    offline(args) if args.mode == "offline" else online(args)


if __name__ == "__main__":
    main()
