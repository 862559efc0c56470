#!/usr/bin/env python3
"""deploy/kubernetes/prometheusrule.yaml from deploy/prometheus/failover-watch.rules.yml.

The PrometheusRule's spec is the rules file itself, indented, comments and all, so the two
cannot drift:

    python3 tests/deploy/prometheusrule.py --write   (after editing the rules file)
    python3 tests/deploy/prometheusrule.py --check   (tests/deploy.sh: exit 1 and a diff when
                                                      prometheusrule.yaml is not up to date)

Only the standard library: it runs with any python3.
"""
import difflib
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy/prometheus/failover-watch.rules.yml"
TARGET = ROOT / "deploy/kubernetes/prometheusrule.yaml"

HEADER = """\
# GENERATED from deploy/prometheus/failover-watch.rules.yml by tests/deploy/prometheusrule.py:
# do not edit. Edit the rules file, then run: python3 tests/deploy/prometheusrule.py --write
#
# The alerting rules of failover-watch for the Prometheus Operator. A Prometheus loads only the
# PrometheusRules its ruleSelector matches: kube-prometheus-stack wants the label
# `release: <its Helm release>` (add it below, or in kustomization.yaml); OpenShift's
# user-workload monitoring takes every one in the user namespaces.
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: failover-watch
  labels:
    app.kubernetes.io/name: failover-watch
    app.kubernetes.io/component: watcher
spec:
"""


def generate() -> str:
    lines = RULES.read_text(encoding="utf-8").splitlines()
    body = "".join(("  " + line if line.strip() else "") + "\n" for line in lines)
    return HEADER + body


def main(argv: list) -> int:
    if argv not in (["--write"], ["--check"]):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    want = generate()
    if argv == ["--write"]:
        TARGET.write_text(want, encoding="utf-8")
        print(f"wrote {TARGET.relative_to(ROOT)}")
        return 0
    have = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
    if have == want:
        print(f"{TARGET.relative_to(ROOT)} holds {RULES.relative_to(ROOT)} exactly")
        return 0
    name = str(TARGET.relative_to(ROOT))
    sys.stdout.writelines(difflib.unified_diff(
        have.splitlines(True), want.splitlines(True), name, name + " (generated)"))
    print(f"{name} is not {RULES.relative_to(ROOT)}: run python3 tests/deploy/prometheusrule.py --write")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
