#!/usr/bin/env python3
"""Checks of deploy/ that need a YAML or JSON parser (run by check.sh).

  check_files.py SOURCE_ROOT metrics   metric and label names in the alert
                                       rules and the Grafana dashboard are
                                       the daemon's (metric_names.txt)
  check_files.py SOURCE_ROOT dashboard the dashboard's structure
  check_files.py SOURCE_ROOT k8s       the manifests refer to each other
                                       and to the image consistently
  check_files.py SOURCE_ROOT compose   compose.yaml against the files it
                                       mounts and builds
  check_files.py SOURCE_ROOT configmap-config OUT
                                       write the ConfigMap's elava.yaml

Each check prints one line per problem and exits 1 if there was any.
"""
import json
import os
import re
import sys

import yaml

ROOT = sys.argv[1]
problems = []


def bad(msg):
    problems.append(msg)
    print("  " + msg)


def path(*p):
    return os.path.join(ROOT, *p)


def load_yaml(rel):
    with open(path(rel), encoding="utf-8") as f:
        return yaml.safe_load(f)


def duration_s(text):
    """'45s', '1m30s', '2min', 45 -> seconds (systemd and Go styles)."""
    if isinstance(text, (int, float)):
        return float(text)
    units = {"ms": 0.001, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}
    total, pos = 0.0, 0
    for m in re.finditer(r"\s*(\d+(?:\.\d+)?)\s*(ms|sec|s|min|m|h)", text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * units[m.group(2)]
        pos = m.end()
    if pos != len(text) or not text:
        raise ValueError("not a duration: %r" % text)
    return total


# ------------------------------------------------------------ metric names

def read_metric_names():
    names = {}
    with open(path("tests", "deploy", "metric_names.txt")) as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            if len(parts) not in (2, 3) or parts[1] not in (
                    "counter", "gauge", "histogram"):
                bad("metric_names.txt:%d: expected NAME TYPE [LABELS]" % n)
                continue
            labels = set(parts[2].split(",")) if len(parts) == 3 else set()
            names[parts[0]] = (parts[1], labels)
    return names


KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on",
            "ignoring", "group_left", "group_right", "inf", "nan", "Inf",
            "NaN"}
# Series Prometheus makes itself for every target.
PROMETHEUS_SERIES = {"up": set()}
TARGET_LABELS = {"job", "instance"}


def promql_refs(expr):
    """(metric names, label names) an expression refers to."""
    labels = set()
    e = expr
    # label_values(metric, label) of Grafana's variable queries
    for m in re.finditer(r"label_values\(\s*([^,()]+?)\s*,\s*(\w+)\s*\)", e):
        labels.add(m.group(2))
    e = re.sub(r"label_values\(\s*([^,()]+?)\s*,\s*\w+\s*\)", r" \1 ", e)
    for m in re.finditer(r"\{([^}]*)\}", e):
        for lm in re.finditer(r"([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)\s*\"",
                              m.group(1)):
            labels.add(lm.group(1))
    e = re.sub(r"\{[^}]*\}", " ", e)
    e = re.sub(r"\"(?:[^\"\\]|\\.)*\"", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)
    grouping = r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)"
    for m in re.finditer(grouping, e):
        labels |= {x.strip() for x in m.group(2).split(",") if x.strip()}
    e = re.sub(grouping, " ", e)
    e = re.sub(r"\$\{?\w+\}?", " ", e)
    e = re.sub(r"\boffset\s+\w+", " ", e)
    e = re.sub(r"(?<![\w:.])\d+(?:\.\d+)?(?:[eE][+-]?\d+)?", " ", e)
    names = set()
    for m in re.finditer(r"[a-zA-Z_:][\w:]*", e):
        tok = m.group(0)
        if tok in KEYWORDS or re.match(r"\s*\(", e[m.end():]):
            continue  # a keyword, or a function or aggregation
        names.add(tok)
    return names, labels


def check_refs(where, expr, known, legend_labels=()):
    names, labels = promql_refs(expr)
    allowed = set(TARGET_LABELS)
    for n in names:
        if n in PROMETHEUS_SERIES:
            continue
        base = n
        for suffix in ("_bucket", "_sum", "_count"):
            if n.endswith(suffix) and n[:-len(suffix)] in known and \
                    known[n[:-len(suffix)]][0] == "histogram":
                base = n[:-len(suffix)]
                if suffix == "_bucket":
                    allowed.add("le")
        if base not in known:
            bad("%s: '%s' is not a metric of the daemon "
                "(tests/deploy/metric_names.txt)" % (where, n))
            continue
        if base == n and known[n][0] == "histogram":
            bad("%s: histogram '%s' used without _bucket/_sum/_count"
                % (where, n))
        allowed |= known[base][1]
    if not names:
        bad("%s: no metric in '%s'" % (where, expr))
    for label in set(labels) | set(legend_labels):
        if label not in allowed:
            bad("%s: label '%s' is not a label of %s"
                % (where, label, ", ".join(sorted(names)) or "any metric"))
    return names


def check_metrics():
    known = read_metric_names()
    used = set()
    rules = load_yaml("deploy/prometheus/elava-alerts.yml")
    nrules = 0
    for g in rules["groups"]:
        for r in g["rules"]:
            nrules += 1
            name = r.get("alert") or r.get("record")
            where = "elava-alerts.yml: %s" % name
            ann = r.get("annotations", {})
            text = " ".join(str(v) for v in ann.values())
            tmpl = set(re.findall(r"\$labels\.(\w+)", text))
            used |= check_refs(where, r["expr"], known, tmpl)
            if r.get("alert"):
                if r.get("labels", {}).get("severity") not in (
                        "critical", "warning", "info"):
                    bad("%s: no severity label" % where)
                for a in ("summary", "description", "runbook"):
                    if not ann.get(a):
                        bad("%s: no %s annotation" % (where, a))
    dash = json.load(open(path("deploy/grafana/elava-dashboard.json")))
    nexpr = 0
    for p in dash["panels"]:
        for t in p.get("targets", []):
            nexpr += 1
            where = "elava-dashboard.json: panel '%s'" % p["title"]
            legend = re.findall(r"\{\{\s*(\w+)\s*\}\}", t.get("legendFormat", ""))
            used |= check_refs(where, t["expr"], known, legend)
    for v in dash["templating"]["list"]:
        if v["type"] == "query":
            used |= check_refs("elava-dashboard.json: variable %s" % v["name"],
                               v["definition"], known)
    if not problems:
        print("  %d alert rules and %d dashboard queries use %d metric names, "
              "all in metric_names.txt (%d listed)"
              % (nrules, nexpr, len(used), len(known)))


# ---------------------------------------------------------------- dashboard

def check_dashboard():
    dash = json.load(open(path("deploy/grafana/elava-dashboard.json")))
    if not 36 <= dash.get("schemaVersion", 0) <= 39:
        bad("schemaVersion %s: expected about 38" % dash.get("schemaVersion"))
    variables = {v["name"]: v for v in dash["templating"]["list"]}
    ds = variables.get("datasource")
    if not ds or ds["type"] != "datasource" or ds["query"] != "prometheus":
        bad("no Prometheus data source variable named 'datasource'")
    ids = set()
    for p in dash["panels"]:
        title = p.get("title", "?")
        if p["id"] in ids:
            bad("panel '%s': id %s used twice" % (title, p["id"]))
        ids.add(p["id"])
        g = p["gridPos"]
        if g["x"] < 0 or g["w"] <= 0 or g["x"] + g["w"] > 24 or g["h"] <= 0:
            bad("panel '%s': gridPos %s outside the 24 columns" % (title, g))
        if p["type"] == "row":
            continue
        if p.get("datasource", {}).get("uid") != "${datasource}":
            bad("panel '%s': data source is not ${datasource}" % title)
        if not p.get("targets"):
            bad("panel '%s': no query" % title)
        for t in p.get("targets", []):
            if t.get("datasource", {}).get("uid") != "${datasource}":
                bad("panel '%s': query %s not on ${datasource}"
                    % (title, t.get("refId")))
            for var in re.findall(r"\$\{?(\w+)\}?", t["expr"] + p["title"]):
                if var not in variables and not var.startswith("__"):
                    bad("panel '%s': unknown variable $%s" % (title, var))
    want = ["daemon_health_status", "daemon_reconciliation_total",
            "daemon_reconciliation_errors_total",
            "daemon_reconciliation_duration_ms_bucket",
            "elava_resources_current", "elava_resources_created_total",
            "elava_resources_modified_total",
            "elava_resources_disappeared_total", "elava_api_calls_total",
            "elava_api_errors_total", "elava_api_throttles_total",
            "elava_store_size_bytes", "elava_store_revision",
            "daemon_memory_usage_bytes", "daemon_threads",
            "elava_http_requests_total"]
    exprs = " ".join(t["expr"] for p in dash["panels"]
                     for t in p.get("targets", []))
    for m in want:
        if not re.search(r"\b%s\b" % m, exprs):
            bad("no panel shows %s" % m)
    for q in ("0.5", "0.95", "0.99"):
        if "histogram_quantile(%s, " % q not in exprs:
            bad("no p%s of the reconciliation duration" % q[2:])
    if not problems:
        print("  %d panels, variables %s" % (len(dash["panels"]),
                                             ", ".join(variables)))


# --------------------------------------------------------------- kubernetes

def dockerfile_uid():
    text = open(path("deploy/docker/Dockerfile")).read()
    users = re.findall(r"^USER\s+(\d+)", text, re.M)
    return int(users[-1].split(":")[0]) if users else None


def configmap_config():
    for rel in load_yaml("deploy/kubernetes/kustomization.yaml")["resources"]:
        doc = load_yaml("deploy/kubernetes/" + rel)
        if doc["kind"] == "ConfigMap":
            return doc
    return None


def check_k8s():
    kust = load_yaml("deploy/kubernetes/kustomization.yaml")
    docs = {}
    for rel in kust["resources"]:
        if not os.path.exists(path("deploy/kubernetes", rel)):
            bad("kustomization.yaml: %s does not exist" % rel)
            continue
        with open(path("deploy/kubernetes", rel)) as f:
            all_docs = [d for d in yaml.safe_load_all(f) if d]
        for d in all_docs:
            for k in ("apiVersion", "kind", "metadata"):
                if k not in d:
                    bad("%s: no %s" % (rel, k))
            if "namespace" in d.get("metadata", {}):
                bad("%s: sets a namespace (the manifests are namespace-less)"
                    % rel)
            docs.setdefault(d["kind"], []).append(d)
    for kind in ("ServiceAccount", "ConfigMap", "PersistentVolumeClaim",
                 "Deployment", "Service"):
        if len(docs.get(kind, [])) != 1:
            bad("expected one %s, found %d" % (kind, len(docs.get(kind, []))))
    if problems:
        return
    sa, cm, pvc, dep, svc = (docs[k][0] for k in (
        "ServiceAccount", "ConfigMap", "PersistentVolumeClaim", "Deployment",
        "Service"))
    spec = dep["spec"]
    pod = spec["template"]["spec"]
    labels = spec["template"]["metadata"].get("labels", {})
    if spec.get("replicas") != 1:
        bad("Deployment: replicas must be 1 (one writer of the store)")
    if spec.get("strategy", {}).get("type") != "Recreate":
        bad("Deployment: strategy must be Recreate (one writer of the store)")
    for what, sel in (("Deployment selector", spec["selector"]["matchLabels"]),
                      ("Service selector", svc["spec"]["selector"])):
        for k, v in sel.items():
            if labels.get(k) != v:
                bad("%s %s=%s does not match the pod's labels" % (what, k, v))
    ann = spec["template"]["metadata"].get("annotations", {})
    for k, v in (("prometheus.io/scrape", "true"), ("prometheus.io/port",
                 "2112"), ("prometheus.io/path", "/metrics")):
        if ann.get(k) != v:
            bad("pod annotation %s should be %r, is %r" % (k, v, ann.get(k)))
    if pod.get("serviceAccountName") != sa["metadata"]["name"]:
        bad("Deployment: serviceAccountName is not the ServiceAccount's name")
    cfg = yaml.safe_load(cm["data"]["elava.yaml"]) or {}
    grace = duration_s(cfg.get("daemon", {}).get(
        "graceful_shutdown_timeout", "30s"))
    if pod.get("terminationGracePeriodSeconds", 30) <= grace:
        bad("terminationGracePeriodSeconds %s is not above the daemon's "
            "graceful_shutdown_timeout (%gs)"
            % (pod.get("terminationGracePeriodSeconds"), grace))
    psc = pod.get("securityContext", {})
    if psc.get("runAsNonRoot") is not True:
        bad("pod securityContext: runAsNonRoot is not true")
    if psc.get("runAsUser") != dockerfile_uid():
        bad("pod runAsUser %s is not the Dockerfile's USER %s"
            % (psc.get("runAsUser"), dockerfile_uid()))
    volumes = {v["name"]: v for v in pod["volumes"]}
    if len(pod["containers"]) != 1:
        bad("expected one container")
    c = pod["containers"][0]
    csc = c.get("securityContext", {})
    if csc.get("readOnlyRootFilesystem") is not True:
        bad("container: readOnlyRootFilesystem is not true")
    if csc.get("allowPrivilegeEscalation") is not False:
        bad("container: allowPrivilegeEscalation is not false")
    if csc.get("capabilities", {}).get("drop") != ["ALL"]:
        bad("container: capabilities are not drop [ALL]")
    ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
    if ports.get("metrics") != 2112:
        bad("container: no port 2112 named metrics")
    port = cfg.get("daemon", {}).get("metrics_port", 2112)
    if int(port) != 2112:
        bad("ConfigMap: daemon.metrics_port %s is not the container port"
            % port)
    for probe, want in (("livenessProbe", "/health"),
                        ("readinessProbe", "/ready")):
        get = c.get(probe, {}).get("httpGet", {})
        if get.get("path") != want:
            bad("%s: path %s, expected %s" % (probe, get.get("path"), want))
        if get.get("port") not in ports and get.get("port") not in \
                ports.values():
            bad("%s: port %s is not a container port" % (probe,
                                                         get.get("port")))
    res = c.get("resources", {})
    for k, v in (("requests", {"memory": "256Mi", "cpu": "100m"}),
                 ("limits", {"memory": "512Mi", "cpu": "500m"})):
        if res.get(k) != v:
            bad("resources.%s %s, the seed's are %s" % (k, res.get(k), v))
    mounts = {}
    for m in c.get("volumeMounts", []):
        if m["name"] not in volumes:
            bad("volumeMount %s: no such volume" % m["name"])
            continue
        mounts[m["name"]] = m["mountPath"]
    store = [n for n, v in volumes.items() if "persistentVolumeClaim" in v]
    if len(store) != 1 or volumes[store[0]]["persistentVolumeClaim"][
            "claimName"] != pvc["metadata"]["name"]:
        bad("no volume from the PersistentVolumeClaim %s"
            % pvc["metadata"]["name"])
    elif mounts.get(store[0]) != "/var/lib/elava":
        bad("the store volume is not mounted at /var/lib/elava")
    env = {e["name"]: e.get("value") for e in c.get("env", [])}
    if env.get("ELAVA_STORAGE_PATH") != "/var/lib/elava":
        bad("ELAVA_STORAGE_PATH is not /var/lib/elava")
    confvol = [n for n, v in volumes.items() if "configMap" in v]
    if len(confvol) != 1 or volumes[confvol[0]]["configMap"]["name"] != \
            cm["metadata"]["name"]:
        bad("no volume from the ConfigMap %s" % cm["metadata"]["name"])
    else:
        args = c.get("args", [])
        if args[:2] != ["serve", "--config"] or len(args) < 3:
            bad("container args should be serve --config FILE: %s" % args)
        else:
            d, f = os.path.split(args[2])
            if mounts.get(confvol[0]) != d or f not in cm["data"]:
                bad("--config %s is not the ConfigMap's file (mounted at %s)"
                    % (args[2], mounts.get(confvol[0])))
    sp = svc["spec"]["ports"]
    if not any(p.get("name") == "metrics" and p.get("port") == 2112 and
               p.get("targetPort") in ("metrics", 2112) for p in sp):
        bad("Service: no port 2112 named metrics to the container's port")
    if "eks.amazonaws.com/role-arn" not in open(
            path("deploy/kubernetes/serviceaccount.yaml")).read():
        bad("serviceaccount.yaml: no IRSA annotation example")
    if not problems:
        print("  %d manifests, consistent with each other and the image"
              % sum(len(v) for v in docs.values()))


# ------------------------------------------------------------------ compose

def check_compose():
    base = path("deploy/docker")
    comp = load_yaml("deploy/docker/compose.yaml")
    svcs = comp.get("services", {})
    e, p = svcs.get("elava"), svcs.get("prometheus")
    if not e or not p:
        bad("compose.yaml: services elava and prometheus expected")
        return
    b = e.get("build", {})
    ctx = os.path.normpath(os.path.join(base, b.get("context", ".")))
    if not os.path.exists(os.path.join(ctx, b.get("dockerfile", "Dockerfile"))):
        bad("compose.yaml: the elava build's Dockerfile does not exist")
    if not os.path.exists(os.path.join(ctx, "meson.build")):
        bad("compose.yaml: the build context is not the repository's root")
    if not any(str(v).endswith(":/var/lib/elava") for v in e.get("volumes", [])):
        bad("compose.yaml: no volume for the store at /var/lib/elava")
    for k, v in (e.get("environment") or {}).items():
        if k.startswith("AWS_") and v is not None:
            bad("compose.yaml: %s has a value; AWS settings come from the "
                "caller's environment" % k)
    if duration_s(e.get("stop_grace_period", "10s")) <= 30:
        bad("compose.yaml: stop_grace_period is not above 30s")
    mounted = {}
    for v in p.get("volumes", []):
        parts = v.split(":")
        if parts[0].startswith("."):
            src = os.path.normpath(os.path.join(base, parts[0]))
            if not os.path.exists(src):
                bad("compose.yaml: %s does not exist" % parts[0])
            mounted[os.path.basename(src)] = parts[1]
    conf = mounted.get("prometheus.yml")
    if not conf:
        bad("compose.yaml: prometheus.yml is not mounted")
        return
    prom = load_yaml("deploy/prometheus/prometheus.yml")
    for rf in prom.get("rule_files", []):
        if os.path.join(os.path.dirname(conf), rf) != mounted.get(rf):
            bad("compose.yaml: rule file %s is not mounted next to %s"
                % (rf, conf))
    jobs = [j for j in prom["scrape_configs"] if j["job_name"] == "elava"]
    targets = [t for j in jobs for s in j.get("static_configs", [])
               for t in s["targets"]]
    if "elava:2112" not in targets:
        bad("prometheus.yml: job elava does not scrape elava:2112")
    if not problems:
        print("  compose: elava and prometheus, mounts and rule files resolve")


def main():
    what = sys.argv[2]
    if what == "metrics":
        check_metrics()
    elif what == "dashboard":
        check_dashboard()
    elif what == "k8s":
        check_k8s()
    elif what == "compose":
        check_compose()
    elif what == "configmap-config":
        cm = configmap_config()
        with open(sys.argv[3], "w") as f:
            f.write(cm["data"]["elava.yaml"])
    else:
        sys.exit("unknown check %s" % what)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
