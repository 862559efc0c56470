#!/usr/bin/env python3
"""The static checks of deploy/ for tests/deploy.sh, run in tests/deploy/.venv (PyYAML,
jsonschema and kubernetes-validate from tests/deploy/requirements.lock).

    check.py kubernetes [RENDERED.yaml]   the manifests of deploy/kubernetes/ (or what
                                          `kubectl kustomize` rendered from them)
    check.py rules OUTDIR                 the alerting rules' conventions; writes the
                                          PrometheusRule's spec to OUTDIR/prometheusrule.rules.yml
    check.py dashboard OUTDIR             the Grafana dashboard; writes its queries as recording
                                          rules and a unit test over made-up series to OUTDIR
    check.py containerfile                deploy/Containerfile and its ignore file
    check.py secrets                      nothing that looks like a key under deploy/
    check.py exporter                     the metric names are registered in src/
    check.py live BIN OUTDIR              the watcher BIN's real /metrics and /healthz (a mock
                                          upstream on loopback); writes OUTDIR/metrics.txt

Each prints a line per thing it checked, `FAIL ...` for each problem, and exits 1 on any.
promtool runs in tests/deploy.sh, on the files written here.
"""
import copy
import json
import pathlib
import re
import sys

import jsonschema
import kubernetes_validate
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "kubernetes"
RULES = DEPLOY / "prometheus/failover-watch.rules.yml"
RULES_TEST = DEPLOY / "prometheus/failover-watch.rules.test.yml"
DASHBOARD = DEPLOY / "grafana/failover-watch.json"
CONTAINERFILE = DEPLOY / "Containerfile"

FAILURES = []


def ok(what):
    print(f"  ok    {what}")


def fail(what):
    FAILURES.append(what)
    print(f"  FAIL  {what}")


def check(cond, what, why=""):
    if cond:
        ok(what)
    else:
        fail(what + (f": {why}" if why else ""))
    return cond


def rel(path):
    return str(pathlib.Path(path).resolve().relative_to(ROOT))


def load_yaml_docs(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


# ------------------------------------------------------------------------------------------
# The metrics the exporter serves (src/metrics/): names, labels, label values. Every query of
# the rules and the dashboard may only use these, so a typo in a name or a label value (which
# Prometheus accepts, and which then matches nothing) fails here.
TARGET_LABELS = {"job", "instance", "namespace", "pod", "service", "container", "endpoint"}
RESULT = {"primary", "fallback", "error"}
SERVING = {"primary", "fallback", "down"}
T = {"target": None}  # every series of a target names it (its values: the run's targets)
METRICS = {
    "failover_watch_requests_total": {**T, "result": RESULT, "model": None},
    "failover_watch_request_duration_seconds_bucket": {**T, "result": RESULT, "model": None, "le": None},
    "failover_watch_request_duration_seconds_sum": {**T, "result": RESULT, "model": None},
    "failover_watch_request_duration_seconds_count": {**T, "result": RESULT, "model": None},
    "failover_watch_serving": {**T, "state": SERVING},
    "failover_watch_transitions_total": {**T, "kind": {"failover", "recovery", "outage", "restored"}},
    "failover_watch_state_seconds_total": {**T, "state": SERVING},
    "failover_watch_in_flight": {**T},
    "failover_watch_skipped_ticks_total": {**T},
    "failover_watch_errors_total": {
        **T, "kind": {"timeout", "connect", "reset", "protocol", "http", "decode", "stream",
                      "rate_limited"}},
    "failover_watch_primary_state": {**T, "state": {"up", "failing", "cooling_down", "refused"}},
    "failover_watch_info": {**T, "proxy": None, "url": None, "primary": None, "fallback": None,
                            "litellm_version": None, "version": None},
    "up": {},
}
NAME_RE = re.compile(r"\b(failover_watch_[a-z_]+|up)\b(\s*\{([^}]*)\})?")
MATCHER_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')


def check_queries(where, text):
    """Every metric named in `text` is one the exporter serves; every `label="value"` matcher
    names one of its labels and, where the values are known, one of them."""
    problems = []
    for m in NAME_RE.finditer(text):
        name, selector = m.group(1), m.group(3)
        if name == "up" and selector is None:
            continue  # the word "up" in a sentence, or a state's value
        if name not in METRICS:
            problems.append(f"unknown metric {name}")
            continue
        for label, op, value in MATCHER_RE.findall(selector or ""):
            if label in TARGET_LABELS:
                continue
            if label not in METRICS[name]:
                problems.append(f"{name} has no label {label}")
            elif op in ("=", "!=") and METRICS[name][label] is not None \
                    and value not in METRICS[name][label]:
                problems.append(f'{name}{{{label}="{value}"}}: {label} is one of '
                                f"{sorted(METRICS[name][label])}")
    return problems


def check_exporter_names():
    """The names above are the ones src/ registers (prometheus-client appends _total, the unit
    _seconds, and _bucket/_sum/_count to histograms)."""
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "src").rglob("*.rs"))
    missing = []
    for name in METRICS:
        if name == "up":
            continue
        base = re.sub(r"(_bucket|_sum|_count)$", "", name)
        base = re.sub(r"_total$", "", base)
        base = re.sub(r"_seconds$", "", base)
        if f'"{base}"' not in sources:
            missing.append(base)
    check(not missing, f"every metric the deploy files use is registered in src/ ({len(METRICS) - 1} names)",
          f"not found in src/: {', '.join(sorted(set(missing)))} (renamed? update tests/deploy/check.py "
          "and the rules, the dashboard)")


# ------------------------------------------------------------------------------------------
# Kubernetes.
K8S_VERSIONS = ["1.25", "1.30", "latest"]  # the oldest schema bundled, a middle one, the newest

DURATION = r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"
LABELS = {"type": "object", "additionalProperties": {"type": "string"}}
OBJECT_META = {
    "type": "object", "required": ["name"],
    "properties": {"name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63},
                   "namespace": {"type": "string"}, "labels": LABELS, "annotations": LABELS},
    "additionalProperties": False,
}
LABEL_SELECTOR = {
    "type": "object", "additionalProperties": False,
    "properties": {"matchLabels": LABELS, "matchExpressions": {"type": "array", "items": {
        "type": "object", "required": ["key", "operator"], "additionalProperties": False,
        "properties": {"key": {"type": "string"}, "operator": {"enum": ["In", "NotIn", "Exists", "DoesNotExist"]},
                       "values": {"type": "array", "items": {"type": "string"}}}}}},
}
# The fields of the Prometheus Operator's monitoring.coreos.com/v1 CRDs that these manifests may
# use, with their types (written from the operator's API reference): an unknown or misspelt
# field fails here, where the API server would drop it silently (CRDs prune unknown fields).
SERVICE_MONITOR = {
    "type": "object", "required": ["apiVersion", "kind", "metadata", "spec"], "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"}, "kind": {"const": "ServiceMonitor"},
        "metadata": OBJECT_META,
        "spec": {
            "type": "object", "required": ["selector", "endpoints"], "additionalProperties": False,
            "properties": {
                "jobLabel": {"type": "string"},
                "targetLabels": {"type": "array", "items": {"type": "string"}},
                "podTargetLabels": {"type": "array", "items": {"type": "string"}},
                "selector": LABEL_SELECTOR,
                "namespaceSelector": {"type": "object", "additionalProperties": False, "properties": {
                    "any": {"type": "boolean"}, "matchNames": {"type": "array", "items": {"type": "string"}}}},
                "sampleLimit": {"type": "integer", "minimum": 0},
                "endpoints": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "additionalProperties": False,
                    "properties": {
                        "port": {"type": "string"},
                        "targetPort": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
                        "path": {"type": "string", "pattern": "^/"},
                        "scheme": {"enum": ["http", "https", "HTTP", "HTTPS"]},
                        "interval": {"type": "string", "pattern": DURATION},
                        "scrapeTimeout": {"type": "string", "pattern": DURATION},
                        "honorLabels": {"type": "boolean"},
                        "honorTimestamps": {"type": "boolean"},
                        "params": {"type": "object"},
                        "relabelings": {"type": "array", "items": {"type": "object"}},
                        "metricRelabelings": {"type": "array", "items": {"type": "object"}},
                    }}},
            }},
    },
}
PROMETHEUS_RULE = {
    "type": "object", "required": ["apiVersion", "kind", "metadata", "spec"], "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"}, "kind": {"const": "PrometheusRule"},
        "metadata": OBJECT_META,
        "spec": {"type": "object", "required": ["groups"], "additionalProperties": False, "properties": {
            "groups": {"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["name", "rules"], "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "interval": {"type": "string", "pattern": DURATION},
                    "limit": {"type": "integer"},
                    "rules": {"type": "array", "items": {
                        "type": "object", "required": ["expr"], "additionalProperties": False,
                        "oneOf": [{"required": ["alert"]}, {"required": ["record"]}],
                        "properties": {
                            "alert": {"type": "string"}, "record": {"type": "string"},
                            "expr": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
                            "for": {"type": "string", "pattern": DURATION},
                            "keep_firing_for": {"type": "string", "pattern": DURATION},
                            "labels": LABELS, "annotations": LABELS,
                        }}},
                }}},
        }},
    },
}
KUSTOMIZATION = {
    "type": "object", "required": ["apiVersion", "kind", "resources"], "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "kustomize.config.k8s.io/v1beta1"}, "kind": {"const": "Kustomization"},
        "namespace": {"type": "string"},
        "resources": {"type": "array", "items": {"type": "string"}},
        "images": {"type": "array", "items": {
            "type": "object", "required": ["name"], "additionalProperties": False,
            "properties": {"name": {"type": "string"}, "newName": {"type": "string"},
                           "newTag": {"type": "string"}, "digest": {"type": "string"}}}},
        "labels": {"type": "array"}, "commonLabels": LABELS, "commonAnnotations": LABELS,
    },
}


def schema_errors(schema, doc):
    validator = jsonschema.Draft202012Validator(schema)
    return ["{}: {}".format(".".join(str(p) for p in e.absolute_path) or "(top)", e.message)
            for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))]


def validate_core(name, doc):
    """A core kind against the Kubernetes JSON schemas that kubernetes-validate bundles,
    strict (unknown fields fail), for every version of K8S_VERSIONS."""
    latest = kubernetes_validate.utils.latest_version()
    for version in K8S_VERSIONS:
        v = latest if version == "latest" else version
        try:
            kubernetes_validate.validate(doc, v, strict=True)
            ok(f"{name}: the schema of Kubernetes {v} (strict)")
        except kubernetes_validate.ValidationError as e:
            path = ".".join(str(p) for p in e.path)
            fail(f"{name}: the schema of Kubernetes {v}: {path}: {e.message}")
        except kubernetes_validate.SchemaNotFoundError as e:
            fail(f"{name}: no schema: {e.message}")


def sub(labels, of):
    return bool(labels) and all(of.get(k) == v for k, v in labels.items())


def check_kubernetes(rendered=None):
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    errors = schema_errors(KUSTOMIZATION, kustomization)
    check(not errors, "kustomization.yaml: structure (kustomize.config.k8s.io/v1beta1)", "; ".join(errors))
    listed = kustomization.get("resources", [])
    present = sorted(p.name for p in K8S.glob("*.yaml")
                     if p.name not in ("kustomization.yaml", "secret.example.yaml"))
    check(sorted(listed) == present, f"kustomization.yaml lists every manifest: {', '.join(present)}",
          f"resources {sorted(listed)} vs files {present}")
    check("secret.example.yaml" not in listed, "kustomization.yaml leaves secret.example.yaml out")

    if rendered:
        docs = [(f"{rendered.name}: {d.get('kind')}/{d.get('metadata', {}).get('name')}", d)
                for d in load_yaml_docs(rendered)]
        where = "kubectl kustomize"
    else:
        docs = []
        for name in listed + ["secret.example.yaml"]:
            for d in load_yaml_docs(K8S / name):
                docs.append((name, d))
        where = "deploy/kubernetes"
    by_kind = {}
    for name, doc in docs:
        kind = doc.get("kind")
        by_kind.setdefault(kind, []).append(doc)
        if kind == "ServiceMonitor":
            errors = schema_errors(SERVICE_MONITOR, doc)
            check(not errors, f"{name}: ServiceMonitor fields (monitoring.coreos.com/v1)", "; ".join(errors))
        elif kind == "PrometheusRule":
            errors = schema_errors(PROMETHEUS_RULE, doc)
            check(not errors, f"{name}: PrometheusRule fields (monitoring.coreos.com/v1)", "; ".join(errors))
        elif kind in ("Deployment", "Service", "Secret", "ConfigMap"):
            validate_core(name, doc)
        else:
            fail(f"{name}: unexpected kind {kind}")
    want = {"ConfigMap": 1, "Deployment": 1, "Service": 1, "ServiceMonitor": 1, "PrometheusRule": 1}
    if not rendered:
        want["Secret"] = 1
    counts = {k: len(v) for k, v in by_kind.items()}
    if not check(counts == want, f"{where}: one each of {', '.join(sorted(want))}", f"found {counts}"):
        return

    dep, svc, smon, prule, cmap = (by_kind[k][0] for k in
                                   ("Deployment", "Service", "ServiceMonitor", "PrometheusRule", "ConfigMap"))
    pod = dep["spec"]["template"]
    pod_labels = pod["metadata"].get("labels", {})
    containers = pod["spec"]["containers"]
    check(len(containers) == 1, "Deployment: one container")
    c = containers[0]
    check(dep["spec"].get("replicas") == 1, "Deployment: 1 replica")
    check(dep["spec"].get("strategy", {}).get("type") == "Recreate",
          "Deployment: strategy Recreate (never two watchers at once)")
    check(sub(dep["spec"]["selector"].get("matchLabels"), pod_labels), "Deployment: its selector matches its pods")
    env = {e["name"]: e for e in c.get("env", [])}
    key = env.get("LITELLM_API_KEY", {}).get("valueFrom", {}).get("secretKeyRef", {})
    check(key.get("name") == "litellm-api-key" and key.get("key") == "api-key",
          "Deployment: LITELLM_API_KEY from Secret litellm-api-key, key api-key", f"got {key}")
    literal = [n for n, e in env.items() if "value" in e and re.search(r"KEY|TOKEN|SECRET|PASSWORD", n)]
    check(not literal, "Deployment: no key, token or password as a literal env value", ", ".join(literal))
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "src").rglob("*.rs"))
    unknown = [n for n in env if n != "LITELLM_API_KEY" and f'"{n}"' not in sources]
    check(not unknown, f"Deployment: every variable is an option of the watcher ({len(env)}, found in src/)",
          f"not in src/: {', '.join(unknown)}")
    for n in ("FAILOVER_WATCH_TARGETS", "FAILOVER_WATCH_INTERVAL", "FAILOVER_WATCH_OUTPUT",
              "FAILOVER_WATCH_METRICS_LISTEN", "FAILOVER_WATCH_LOG_FILE"):
        if n not in env:
            fail(f"Deployment: {n} is not set")
    # --targets names the targets: the watcher refuses --primary and --fallback beside it.
    both = [n for n in ("FAILOVER_WATCH_PRIMARY", "FAILOVER_WATCH_FALLBACK", "FAILOVER_WATCH_ALL_GROUPS") if n in env]
    check(not both, "Deployment: the targets file alone names the groups", f"also set: {both}")
    check_targets_mount(pod, c, env.get("FAILOVER_WATCH_TARGETS", {}).get("value", ""), cmap)
    check(env.get("FAILOVER_WATCH_OUTPUT", {}).get("value") == "none", "Deployment: --output none")
    check(env.get("FAILOVER_WATCH_LOG_FILE", {}).get("value") == "-", "Deployment: logs on stderr (--log-file -)")
    check(c.get("command") == ["failover-watch"] and "args" not in c,
          "Deployment: command failover-watch, no args (the options come from env, not the image's CMD)")
    ports = {p.get("name"): p for p in c.get("ports", [])}
    listen = env.get("FAILOVER_WATCH_METRICS_LISTEN", {}).get("value", "")
    check(ports.get("metrics", {}).get("containerPort") == 9464 and listen.endswith(":9464"),
          "Deployment: port 9464 named metrics, the one FAILOVER_WATCH_METRICS_LISTEN listens on",
          f"ports {ports}, listen {listen!r}")
    for probe in ("livenessProbe", "readinessProbe"):
        get = c.get(probe, {}).get("httpGet", {})
        check(get.get("path") == "/healthz" and get.get("port") in ("metrics", 9464),
              f"Deployment: {probe} GET /healthz on the metrics port", f"got {get}")
    res = c.get("resources", {})
    check(all(res.get(k, {}).get(r) for k in ("requests", "limits") for r in ("cpu", "memory")),
          "Deployment: cpu and memory requests and limits", f"got {res}")
    psc, csc = pod["spec"].get("securityContext", {}), c.get("securityContext", {})
    check(psc.get("runAsNonRoot") is True and csc.get("runAsNonRoot", True) is True,
          "Deployment: runAsNonRoot")
    check(csc.get("readOnlyRootFilesystem") is True, "Deployment: readOnlyRootFilesystem")
    check(csc.get("allowPrivilegeEscalation") is False, "Deployment: allowPrivilegeEscalation false")
    check("ALL" in csc.get("capabilities", {}).get("drop", []) and not csc.get("capabilities", {}).get("add"),
          "Deployment: capabilities drop ALL, add none")
    check(not csc.get("privileged") and psc.get("seccompProfile", {}).get("type") == "RuntimeDefault",
          "Deployment: not privileged, seccomp RuntimeDefault")
    check(pod["spec"].get("automountServiceAccountToken") is False,
          "Deployment: no service account token (it talks to no API server)")

    check(sub(svc["spec"].get("selector"), pod_labels), "Service: its selector matches the Deployment's pods")
    sport = {p.get("name"): p for p in svc["spec"].get("ports", [])}.get("metrics", {})
    check(sport.get("targetPort") in ("metrics", 9464), "Service: port metrics to the container's metrics port",
          f"got {sport}")
    check(sub(smon["spec"]["selector"].get("matchLabels"), svc["metadata"].get("labels", {})),
          "ServiceMonitor: its selector matches the Service's labels")
    eps = smon["spec"]["endpoints"]
    check(all(e.get("port") == "metrics" and e.get("path", "/metrics") == "/metrics" for e in eps),
          "ServiceMonitor: scrapes port metrics, path /metrics")
    jobs = set(re.findall(r'up\{job="([^"]+)"\}', RULES.read_text(encoding="utf-8")))
    job = smon["spec"].get("jobLabel") and "(from the Service's label)" or svc["metadata"]["name"]
    check(jobs == {job}, f'ServiceMonitor: its job label ({job}) is the rules\' up{{job="..."}}',
          f"rules use {sorted(jobs)}")
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    check(prule.get("spec") == rules,
          f"PrometheusRule: its spec is {rel(RULES)}, parsed (the same groups, rules, annotations)")

    images = {i["name"]: i for i in kustomization.get("images", [])}
    image = c.get("image", "")
    if rendered:
        want_image = next(iter(images.values()), None)
        if want_image:
            check(image == f"{want_image['newName']}:{want_image['newTag']}",
                  f"rendered: the image is kustomization.yaml's ({image})")
    else:
        check(image.split(":")[0] in images, f"kustomization.yaml: images[] names the Deployment's image ({image})")

    if not rendered:
        secret = by_kind["Secret"][0]
        data = secret.get("stringData", {})
        check(secret["metadata"]["name"] == "litellm-api-key" and list(data) == ["api-key"]
              and "REPLACE" in data["api-key"] and "not-a-real-key" in data["api-key"],
              "secret.example.yaml: Secret litellm-api-key, key api-key, a placeholder that says so")


def check_targets_mount(pod, c, path, cmap):
    """The targets file FAILOVER_WATCH_TARGETS names is the ConfigMap's, mounted read-only, and
    a targets file the watcher takes: [[target]] tables of its keys, each with url and
    primary, distinct names (src/cli/targets.rs)."""
    import tomllib
    mounts = {m["name"]: m for m in c.get("volumeMounts", [])}
    volumes = {v["name"]: v for v in pod["spec"].get("volumes", [])}
    found = [(n, m) for n, m in mounts.items() if path.startswith(m["mountPath"].rstrip("/") + "/")]
    name, mount = found[0] if found else (None, {})
    source = volumes.get(name, {}).get("configMap", {})
    key = path[len(mount.get("mountPath", "").rstrip("/")) + 1:] if found else None
    check(source.get("name") == cmap["metadata"]["name"] and mount.get("readOnly") is True,
          f"Deployment: FAILOVER_WATCH_TARGETS ({path}) is the ConfigMap {cmap['metadata']['name']}, mounted "
          "read-only", f"mount {mount}, volume {volumes.get(name)}")
    text = cmap.get("data", {}).get(key)
    if not check(text is not None, f"ConfigMap: holds {key}", f"keys {sorted(cmap.get('data', {}))}"):
        return
    try:
        targets = tomllib.loads(text).get("target")
    except tomllib.TOMLDecodeError as e:
        fail(f"ConfigMap: {key} is not TOML: {e}")
        return
    keys = {"url", "primary", "name", "fallback", "api_key_env", "api_key_file", "interval", "timeout",
            "stream", "direct"}
    sources = (ROOT / "src/cli/targets.rs").read_text(encoding="utf-8")
    known = all(re.search(rf"\b{k}: ", sources) for k in keys)
    ok_targets = isinstance(targets, list) and targets and all(
        isinstance(t, dict) and set(t) <= keys and t.get("url", "").startswith(("http://", "https://"))
        and t.get("primary") for t in targets)
    names = [t.get("name") or t.get("primary") for t in targets or []]
    check(known and ok_targets and len(names) == len(set(names)),
          f"ConfigMap: {key} is a targets file ({len(targets or [])} [[target]], each url and primary, "
          "known keys, distinct names)", f"{targets}")


# ------------------------------------------------------------------------------------------
# Alerting rules.
def duration_minutes(text):
    m = re.fullmatch(r"(\d+)m", text or "")
    return int(m.group(1)) if m else None


def check_rules(outdir):
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
    names = [a["alert"] for a in alerts]
    check(len(names) == len(set(names)), f"rules: {len(names)} alerts, each name once", str(names))
    for a in alerts:
        n = a["alert"]
        check(bool(a.get("for")) and not re.fullmatch(r"0[a-z]*", a["for"]), f"{n}: for: {a.get('for')}")
        check(a.get("labels", {}).get("severity") in ("critical", "warning", "info"),
              f"{n}: severity {a.get('labels', {}).get('severity')}")
        ann = a.get("annotations", {})
        check(all(str(ann.get(k, "")).strip() for k in ("summary", "description")), f"{n}: summary and description")
        problems = check_queries(n, a["expr"] + " " + " ".join(ann.values()))
        check(not problems, f"{n}: metrics and label values the exporter serves", "; ".join(problems))
    # (a): the minutes of `for:` are the ones its texts tell.
    fb = next((a for a in alerts if a["alert"] == "FailoverWatchServingFallback"), None)
    if check(fb is not None, "FailoverWatchServingFallback is there"):
        n = duration_minutes(fb["for"])
        said = {int(x) for k in ("summary", "description")
                for x in re.findall(r"(\d+)\s+minutes", fb["annotations"][k])}
        check(n is not None and said == {n}, f"FailoverWatchServingFallback: for: {fb['for']} and its texts "
              f"say {n} minutes", f"texts say {sorted(said)}")
    # The unit tests: every alert fires in a case and stays silent in another.
    tests = yaml.safe_load(RULES_TEST.read_text(encoding="utf-8"))
    check(tests.get("rule_files") == [RULES.name], f"{RULES_TEST.name} tests {RULES.name}")
    fired, silent = set(), set()
    for t in tests.get("tests", []):
        for case in t.get("alert_rule_test", []):
            (fired if case.get("exp_alerts") else silent).add(case["alertname"])
    for n in names:
        check(n in fired and n in silent, f"{n}: unit tests where it fires and where it does not",
              f"fires in a test: {n in fired}, silent in a test: {n in silent}")
    # The PrometheusRule's spec, for promtool (tests/deploy.sh).
    prule = load_yaml_docs(K8S / "prometheusrule.yaml")[0]
    out = pathlib.Path(outdir) / "prometheusrule.rules.yml"
    out.write_text(yaml.safe_dump(prule["spec"], sort_keys=False, allow_unicode=True), encoding="utf-8")
    test_copy = copy.deepcopy(tests)
    test_copy["rule_files"] = [out.name]
    (pathlib.Path(outdir) / "prometheusrule.rules.test.yml").write_text(
        yaml.safe_dump(test_copy, sort_keys=False, allow_unicode=True), encoding="utf-8")
    ok(f"wrote the PrometheusRule's spec to {out.name} (and the unit tests against it)")


# ------------------------------------------------------------------------------------------
# The Grafana dashboard.
GRAFANA_VARS = {  # what Grafana puts in place of its variables, for promtool
    "$__rate_interval": "2m", "${__rate_interval}": "2m", "$__interval": "1m", "${__interval}": "1m",
    "$__range": "10m", "${__range}": "10m",
    "${job}": ".+", "$job": ".+", "${instance}": ".+", "$instance": ".+",
    "${target}": ".+", "$target": ".+",
}
DATASOURCE_REFS = ("${datasource}", "${DS_PROMETHEUS}")


def grafana_subst(expr):
    for k in sorted(GRAFANA_VARS, key=len, reverse=True):
        expr = expr.replace(k, GRAFANA_VARS[k])
    left = re.findall(r"\$\{?\w+", expr)
    return expr, left


def synthetic_series():
    """Made-up series of every metric, for one watcher of two targets over 20 minutes at 1 m:
    llama-fp8 fails over at 10 m (its primary cooling down), qwen's primary serves throughout.
    Each query of the dashboard must return something from them."""
    s = []

    def add(name, labels, values):
        lab = 'job="failover-watch", instance="watcher:9464"'
        s.append({"series": f"{name}{{{lab}{', ' + labels if labels else ''}}}", "values": values})
    add("up", "", "1x20")
    for target, primary, fails_over in (("llama-fp8", "llama-fp8", True), ("qwen", "qwen", False)):
        t = f'target="{target}"'
        add("failover_watch_info", f'{t}, proxy="litellm:4000", url="http://litellm:4000", primary="{primary}", '
            'fallback="llama3", litellm_version="1.83.14", version="0.1.0"', "1x20")
        switch = (lambda before, after: f"{before}x10 {after}x10") if fails_over else (lambda before, after: f"{before}x20")
        for state, v in (("primary", switch(1, 0)), ("fallback", switch(0, 1)), ("down", "0x20")):
            add("failover_watch_serving", f'{t}, state="{state}"', v)
            add("failover_watch_state_seconds_total", f'{t}, state="{state}"', "0+30x20")
        for state, v in (("up", switch(1, 0)), ("failing", "0x20"), ("cooling_down", switch(0, 1)),
                         ("refused", "0x20")):
            add("failover_watch_primary_state", f'{t}, state="{state}"', v)
        for result, model in (("primary", primary), ("fallback", "llama3"), ("error", "")):
            rm = f'{t}, result="{result}", model="{model}"'
            add("failover_watch_requests_total", rm, "0+12x20")
            for le, per_min in (("0.005", 0), ("0.01", 2), ("0.025", 6), ("0.05", 9), ("0.1", 11), ("0.25", 12),
                                ("0.5", 12), ("1.0", 12), ("2.5", 12), ("5.0", 12), ("10.0", 12), ("20.0", 12),
                                ("30.0", 12), ("60.0", 12), ("+Inf", 12)):
                add("failover_watch_request_duration_seconds_bucket", f'{rm}, le="{le}"', f"0+{per_min}x20")
            add("failover_watch_request_duration_seconds_sum", rm, "0+0.4x20")
            add("failover_watch_request_duration_seconds_count", rm, "0+12x20")
        for kind in ("failover", "recovery", "outage", "restored"):
            add("failover_watch_transitions_total", f'{t}, kind="{kind}"', switch(0, 1))
        for kind in ("timeout", "connect", "reset", "protocol", "http", "decode", "stream"):
            add("failover_watch_errors_total", f'{t}, kind="{kind}"', "0+2x20")
        add("failover_watch_in_flight", t, "1x20")
        add("failover_watch_skipped_ticks_total", t, "0+1x20")
    return s


def panels_of(dash):
    for p in dash.get("panels", []):
        yield p
        yield from p.get("panels", [])  # collapsed rows


def check_dashboard(outdir):
    try:
        dash = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        fail(f"{rel(DASHBOARD)}: not JSON: {e}")
        return
    ok(f"{rel(DASHBOARD)}: valid JSON")
    check(dash.get("uid") and dash.get("title") and isinstance(dash.get("schemaVersion"), int),
          f"dashboard: uid {dash.get('uid')!r}, title, schemaVersion {dash.get('schemaVersion')}")
    variables = {v["name"]: v for v in dash.get("templating", {}).get("list", [])}
    inputs = {i.get("name") for i in dash.get("__inputs", [])}
    ds = variables.get("datasource", {})
    check((ds.get("type") == "datasource" and ds.get("query") == "prometheus") or "DS_PROMETHEUS" in inputs,
          "dashboard: a Prometheus data source variable (or a DS_PROMETHEUS input)")
    check("id" not in dash or dash["id"] is None, "dashboard: no instance-specific id (importable)")

    panels = list(panels_of(dash))
    ids = [p.get("id") for p in panels]
    check(len(ids) == len(set(ids)) and None not in ids, f"dashboard: {len(panels)} panels, distinct ids")
    cells, overlap = {}, []
    for p in panels:
        g = p.get("gridPos", {})
        if not (0 <= g.get("x", -1) and g.get("x", 0) + g.get("w", 0) <= 24 and g.get("w", 0) > 0 and g.get("h", 0) > 0):
            overlap.append(f"panel {p.get('id')} outside the 24 columns: {g}")
            continue
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g.get("y", 0), g.get("y", 0) + g["h"]):
                if (x, y) in cells:
                    overlap.append(f"panels {cells[(x, y)]} and {p.get('id')} overlap")
                cells[(x, y)] = p.get("id")
    check(not overlap, "dashboard: panels within the grid, none overlapping", "; ".join(sorted(set(overlap))))

    exprs = []  # (where, expr, must return data)
    for p in panels:
        if p.get("type") == "row":
            continue
        pds = (p.get("datasource") or {}).get("uid")
        if pds not in DATASOURCE_REFS:
            fail(f"panel {p['id']} ({p.get('title')}): data source {pds!r}, not the dashboard's variable")
        refs = [t.get("refId") for t in p.get("targets", [])]
        if len(refs) != len(set(refs)) or not refs:
            fail(f"panel {p['id']} ({p.get('title')}): targets {refs}")
        for t in p.get("targets", []):
            if (t.get("datasource") or {}).get("uid") not in DATASOURCE_REFS:
                fail(f"panel {p['id']} target {t.get('refId')}: data source not the dashboard's variable")
            exprs.append((f"panel {p['id']} ({p.get('title')}) {t.get('refId')}", t.get("expr", ""), True))
    for a in dash.get("annotations", {}).get("list", []):
        if a.get("expr"):
            exprs.append((f"annotation {a.get('name')}", a["expr"], False))
    for name, v in variables.items():
        q = v.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        m = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", q or "")
        if v.get("type") == "query":
            if check(bool(m), f"variable {name}: label_values(SELECTOR, LABEL)", repr(q)):
                exprs.append((f"variable {name}", m.group(1), True))
    ok(f"dashboard: every panel and target uses the data source variable ({len(exprs)} queries)")

    # What the dashboard must show.
    def has(pred, what):
        check(any(pred(p, t.get("expr", "")) for p in panels for t in p.get("targets", [])), f"dashboard: {what}")
    has(lambda p, e: p["type"] == "state-timeline" and "failover_watch_serving" in e,
        "a state timeline of failover_watch_serving")
    has(lambda p, e: "rate(failover_watch_requests_total" in e and "result" in e, "requests by result (rate)")
    for q in ("0.5", "0.95", "0.99"):
        has(lambda p, e, q=q: f"histogram_quantile({q}," in e and "failover_watch_request_duration_seconds_bucket" in e,
            f"latency p{q[2:].ljust(2, '0')} from the histogram")
    has(lambda p, e: "increase(failover_watch_transitions_total" in e, "transitions (increase)")
    has(lambda p, e: "failover_watch_primary_state" in e, "the primary's own state")
    has(lambda p, e: "failover_watch_errors_total" in e and "kind" in e, "errors by kind")
    # Many targets: a variable of the targets, every query kept to it, a row per target.
    target = variables.get("target", {})
    tq = target.get("query")
    tq = tq.get("query") if isinstance(tq, dict) else tq
    check(target.get("type") == "query" and re.fullmatch(r"label_values\(failover_watch_info(\{.*\})?,\s*target\)", tq or "")
          and target.get("multi") and target.get("includeAll"),
          "dashboard: a target variable, label_values(failover_watch_info, target), several or all", repr(tq))
    loose = sorted({where for where, expr, _ in exprs if not where.startswith("variable")
                    for m in re.finditer(r"failover_watch_\w+\{([^}]*)\}", expr)
                    if 'target=~"$target"' not in m.group(1)})
    check(not loose, 'dashboard: every failover_watch_ selector keeps to target=~"$target"', "; ".join(loose))
    has(lambda p, e: p["type"] == "table" and "failover_watch_serving" in e and "target" in e,
        "a table of the targets, a row each: who serves now, ...")

    problems, records, tests = [], [], []
    for i, (where, expr, must) in enumerate(exprs):
        problems += [f"{where}: {x}" for x in check_queries(where, expr)]
        concrete, left = grafana_subst(expr)
        if left:
            problems.append(f"{where}: unknown variables {left}")
        record = f"dashboard_check:query_{i}"
        records.append({"record": record, "expr": concrete,
                        "labels": {"dashboard_query": where}})
        if must:
            tests.append({"expr": f"clamp_max(count({record}), 1)", "eval_time": "15m",
                          "exp_samples": [{"labels": "{}", "value": 1}]})
        # The state timelines' codes: at 15m the made-up watcher serves the fallback (1), and
        # the primary is cooling down (2).
        for metric, code in (("failover_watch_serving", 1), ("failover_watch_primary_state", 2)):
            if must and f"max without (state) ({metric}{{" in expr and " or " in expr:
                tests.append({"expr": f"max({record})", "eval_time": "15m",
                              "exp_samples": [{"labels": "{}", "value": code}]})
    check(not problems, "dashboard: metrics and label values the exporter serves, no unknown variable",
          "; ".join(problems))
    out = pathlib.Path(outdir)
    (out / "dashboard.rules.yml").write_text(yaml.safe_dump(
        {"groups": [{"name": "dashboard", "rules": records}]}, sort_keys=False, width=1000), encoding="utf-8")
    (out / "dashboard.test.yml").write_text(yaml.safe_dump({
        "rule_files": ["dashboard.rules.yml"], "evaluation_interval": "1m",
        "tests": [{"name": "every query of the dashboard returns data", "interval": "1m",
                   "input_series": synthetic_series(), "promql_expr_test": tests}]},
        sort_keys=False, width=1000), encoding="utf-8")
    ok(f"wrote the dashboard's {len(records)} queries as recording rules, and {len(tests)} tests: each returns data, the state timelines' codes")


# ------------------------------------------------------------------------------------------
# The Containerfile (no image is built here: no registry).
def check_containerfile():
    text = CONTAINERFILE.read_text(encoding="utf-8")
    lines = []
    for raw in re.sub(r"\\\n", " ", text).splitlines():
        if raw.strip() and not raw.lstrip().startswith("#"):
            lines.append(raw.strip())
    instr = [(l.split(None, 1)[0].upper(), l.split(None, 1)[1] if " " in l else "") for l in lines]
    froms = [(i, a) for i, (k, a) in enumerate(instr) if k == "FROM"]
    check(len(froms) >= 2, f"Containerfile: multi-stage ({len(froms)} stages)")
    first = froms[0][1]
    m = re.fullmatch(r"(?:docker\.io/)?(?:library/)?rust:(\S+)\s+AS\s+(\S+)", first, re.I)
    check(bool(m), f"Containerfile: builds in an official rust image ({first})")
    stage = m.group(2) if m else "build"
    last_i, last = froms[-1]
    check(re.match(r"(gcr\.io/distroless/cc|(docker\.io/)?(library/)?debian:\S*slim)", last) is not None,
          f"Containerfile: a small final stage ({last})")
    final = instr[last_i + 1:]
    if "distroless" not in last:
        check(any(k == "RUN" and "ca-certificates" in a for k, a in final),
              "Containerfile: the final stage installs ca-certificates")
    else:
        ok("Containerfile: ca-certificates come with distroless/cc")
    users = [a for k, a in final if k == "USER"]
    check(bool(users) and re.fullmatch(r"[1-9]\d*(:[1-9]\d*)?", users[-1]) is not None,
          f"Containerfile: the final stage runs as a numeric non-root USER ({users[-1] if users else 'none'})")
    copies = [a for k, a in final if k in ("COPY", "ADD")]
    check(len(copies) == 1 and re.fullmatch(rf"--from={re.escape(stage)}\s+\S+\s+/usr/local/bin/failover-watch",
                                           copies[0]) is not None,
          "Containerfile: the final stage holds only the binary, from the build stage", str(copies))
    check(not any(k == "RUN" for k, _ in final) or "distroless" not in last,
          "Containerfile: nothing runs in the final stage (distroless has no shell)")
    check(("ENTRYPOINT", '["failover-watch"]') in final, 'Containerfile: ENTRYPOINT ["failover-watch"]')
    cmd = [a for k, a in final if k == "CMD"]
    check(bool(cmd) and json.loads(cmd[-1]) == ["--output", "none", "--metrics-listen", "0.0.0.0:9464",
                                                "--log-file", "-"],
          "Containerfile: CMD --output none --metrics-listen 0.0.0.0:9464 --log-file -")
    check(any(k == "EXPOSE" and a.split()[0] in ("9464", "9464/tcp") for k, a in final), "Containerfile: EXPOSE 9464")
    check(any(k == "RUN" and "cargo build" in a and "--locked" in a and "--release" in a for k, a in instr),
          "Containerfile: cargo build --release --locked")
    secret = [f"{k} {a}" for k, a in instr if k in ("ARG", "ENV") and re.search(r"KEY|TOKEN|SECRET|PASSW", a, re.I)]
    check(not secret, "Containerfile: no key, token or password in ARG or ENV", "; ".join(secret))
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "src").rglob("*.rs"))
    flags = [f for f in json.loads(cmd[-1]) if f.startswith("--")] if cmd else []
    unknown = [f for f in flags if not re.search(rf"\bpub {f[2:].replace('-', '_')}\s*:", sources)]
    check(not unknown, f"Containerfile: CMD's options are the watcher's ({' '.join(flags)})", str(unknown))
    ignore = DEPLOY / "Containerfile.dockerignore"
    if check(ignore.exists(), "Containerfile.dockerignore beside it (BuildKit; podman --ignorefile)"):
        patterns = [l.strip() for l in ignore.read_text(encoding="utf-8").splitlines()
                    if l.strip() and not l.startswith("#")]
        check(patterns[:1] == ["*"] and "!src/" in patterns and "!Cargo.lock" in patterns,
              "Containerfile.dockerignore: only Cargo.toml, Cargo.lock, src/ and what the manifest names",
              str(patterns))
        benches = (ROOT / "benches").is_dir() and "[[bench]]" in (ROOT / "Cargo.toml").read_text(encoding="utf-8")
        check(not benches or "!benches/" in patterns, "Containerfile.dockerignore: benches/ (Cargo.toml names one)")


def check_secrets():
    pattern = re.compile(r"(sk-[A-Za-z0-9_-]{12,}|-----BEGIN [A-Z ]*PRIVATE KEY-----|"
                         r"(api[-_]?key|token|password)\s*[:=]\s*['\"]?[A-Za-z0-9_\-]{20,})", re.I)
    hits = []
    files = [p for p in DEPLOY.rglob("*") if p.is_file()]
    for p in files:
        for n, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            m = pattern.search(line)
            if m and "REPLACE" not in m.group(0):  # secret.example.yaml's placeholder
                hits.append(f"{rel(p)}:{n}")
    check(not hits, f"deploy/: nothing that looks like a key ({len(files)} files)", ", ".join(hits))


# ------------------------------------------------------------------------------------------
# The real exporter: the watcher (BIN) probing a mock upstream on loopback, scraped while the
# upstream answers and after it fails. Every family the rules and the dashboard use must be
# served, with only the labels and values they know.
SAMPLE_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$")


def http_get(url, timeout=2.0):
    import urllib.request
    with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 (loopback only)
        return r.status, r.headers.get("Content-Type", ""), r.read().decode("utf-8")


def wait_for(pred, seconds):
    import time
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            value = pred()
            if value:
                return value
        except OSError:
            pass
        time.sleep(0.1)
    return None


def check_live(binary, outdir):
    import os
    import signal
    import socket
    import subprocess
    import urllib.request

    out = pathlib.Path(outdir)
    procs = []

    def start(args, log, env=None):
        f = open(out / log, "w")
        p = subprocess.Popen([binary] + args, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True, env=env)
        procs.append(p)
        return p

    def free_port():
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    try:
        start(["mock-upstream", "--api", "openai", "--model", "llama-fp8", "--listen", "127.0.0.1:0"], "mock.log")
        upstream = wait_for(lambda: re.search(r"http://127\.0\.0\.1:\d+", (out / "mock.log").read_text()), 10)
        if not check(upstream is not None, "live: mock-upstream (OpenAI API, llama-fp8) listening on loopback"):
            return
        upstream = upstream.group(0)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FAILOVER_WATCH_", "LITELLM_", "OPENAI_"))}
        env.update({"LITELLM_API_KEY": "not-a-key", "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"})
        for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
            env.pop(k, None)
        # The Deployment's options, on loopback and faster: the ConfigMap's targets file, every
        # url the mock upstream's.
        cmap = next(d for d in load_yaml_docs(K8S / "configmap.yaml") if d.get("kind") == "ConfigMap")
        text = re.sub(r'(?m)^url = ".*"$', f'url = "{upstream}"', cmap["data"]["targets.toml"])
        (out / "targets.toml").write_text(text, encoding="utf-8")
        names = re.findall(r'(?m)^primary = "(.*)"$', text)
        start(["--targets", str(out / "targets.toml"), "--interval", "200ms",
               "--output", "none", "--metrics-listen", f"127.0.0.1:{port}", "--log-file", "-"], "watcher.log", env)
        base = f"http://127.0.0.1:{port}"
        health = wait_for(lambda: http_get(base + "/healthz")[0] == 200, 15)
        check(bool(health), f"live: GET /healthz answers 200 while the schedules tick (the ConfigMap's "
              f"{len(names)} targets: {', '.join(names)})")

        def scrape_with(text):
            def scrape():
                status, ctype, body = http_get(base + "/metrics")
                return body if status == 200 and text in body else None
            return scrape
        first = wait_for(scrape_with(f'failover_watch_serving{{target="{names[0]}",state="primary"}} 1'), 15)
        check(bool(first), "live: GET /metrics: serving primary while the upstream answers")
        info = sorted(re.findall(r'^failover_watch_info\{target="([^"]*)"', first or "", re.M))
        check(info == sorted(names), "live: failover_watch_info, one series per target", f"{info}")
        req = urllib.request.Request(upstream + "/__mock/mode", data=b"500", method="POST")
        urllib.request.urlopen(req, timeout=2).read()
        second = wait_for(lambda: all(f'failover_watch_serving{{target="{n}",state="down"}} 1' in body
                                          for n in names) and body
                          if (body := http_get(base + "/metrics")[2]) else None, 15)
        check(bool(second), "live: GET /metrics: every target serving down once the upstream answers 500")
        if not (first and second):
            return
        (out / "metrics.txt").write_text(second, encoding="utf-8")
        _, ctype, _ = http_get(base + "/metrics")
        check(ctype.startswith("text/plain"), f"live: /metrics content type {ctype}")
        seen, problems = set(), []
        for body in (first, second):
            for line in body.splitlines():
                m = SAMPLE_RE.match(line)
                if not m or line.startswith("#"):
                    continue
                name = m.group(1)
                seen.add(name)
                if name not in METRICS:
                    problems.append(f"served {name}, which deploy/ does not know")
                    continue
                labels = MATCHER_RE.findall(m.group(3) or "")
                if name.startswith("failover_watch_") and "target" not in {l for l, _, _ in labels}:
                    problems.append(f"{name} without its target label")
                for label, _, value in labels:
                    allowed = METRICS[name].get(label, "missing")
                    if allowed == "missing":
                        problems.append(f"{name} has a label {label} that deploy/ does not know")
                    elif allowed is not None and value not in allowed:
                        problems.append(f'{name}{{{label}="{value}"}}: not one of {sorted(allowed)}')
        check(not problems, "live: every served sample is a metric, label and value deploy/ knows, "
              "each of the watcher's with its target",
              "; ".join(sorted(set(problems))))
        unseen = sorted(set(METRICS) - seen - {"up"})
        check(not unseen, f"live: every metric deploy/ uses was served ({len(seen)} names)",
              f"never served: {', '.join(unseen)}")
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        if FAILURES:
            for log in ("mock.log", "watcher.log"):
                if (out / log).exists():
                    print(f"  --- {log} (last lines)")
                    for line in (out / log).read_text(errors="replace").splitlines()[-15:]:
                        print(f"  {line}")


def main(argv):
    cmd, args = (argv[0], argv[1:]) if argv else ("", [])
    if cmd == "kubernetes":
        check_kubernetes(pathlib.Path(args[0]) if args else None)
    elif cmd == "rules" and len(args) == 1:
        check_rules(args[0])
    elif cmd == "dashboard" and len(args) == 1:
        check_dashboard(args[0])
    elif cmd == "containerfile":
        check_containerfile()
    elif cmd == "secrets":
        check_secrets()
    elif cmd == "exporter":
        check_exporter_names()
    elif cmd == "live" and len(args) == 2:
        check_live(args[0], args[1])
    else:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
