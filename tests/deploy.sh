#!/usr/bin/env bash
# The checks of deploy/ (the Prometheus rules, the Grafana dashboard, the Containerfile, the
# Kubernetes manifests), all offline: no cluster, no registry, no image built.
#
#   bash tests/deploy.sh
#
# Needs promtool (Debian's `prometheus`, 2.42 on Debian 12) and python3 with venv (Debian's
# `python3-venv`): tests/setup.sh installs both. The Python tools (kubernetes-validate, which
# bundles the Kubernetes JSON schemas, and yamllint) go into tests/deploy/.venv from the
# hash-locked tests/deploy/requirements.lock (`pip install --require-hashes`), once, and are
# reused while the lock is unchanged. `kubectl kustomize` renders deploy/kubernetes/ too when a
# kubectl is on PATH (offline; skipped otherwise). Last, the real watcher (the debug build,
# which `cargo test` has already built under tests/all.sh) probes a mock upstream on 127.0.0.1
# with the targets file of deploy/kubernetes/configmap.yaml (its urls the mock's), and its
# /healthz and /metrics are checked against what the rules and the dashboard use (every
# series with its target, one failover_watch_info per target).
#
# Every check is bounded in time (DEPLOY_STEP_TIMEOUT seconds, 120 by default; the venv's
# install 300, the build DEPLOY_BUILD_TIMEOUT, 900). Prints each check with its time, then
# `deploy: N passed, N failed`; exits 1 when any failed. Measured: 4-6 s with the venv in
# place and the binary built, about 25 s from nothing (the venv: 10-20 s).
# Environment: DEPLOY_PYTHON (the Python that makes the venv; python3), FAILOVER_WATCH_BIN (a
# binary to check instead of the debug build).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE=$ROOT/tests/deploy
cd "$ROOT"

PYTHON=${DEPLOY_PYTHON:-python3}
STEP_TIMEOUT=${DEPLOY_STEP_TIMEOUT:-120}
VENV=$HERE/.venv
LOCK=$HERE/requirements.lock
RULES=deploy/prometheus/failover-watch.rules.yml
RULES_TEST=deploy/prometheus/failover-watch.rules.test.yml

export LC_ALL=C.UTF-8
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

now_ms() { local t=${EPOCHREALTIME//[.,]/}; echo $((t / 1000)); }
secs() { # MS -> "1.23"
  printf '%d.%02d' $(($1 / 1000)) $((($1 % 1000) / 10))
}
start=$(now_ms)
passed=0 failed=0 skipped=0
summary=()

# step TIMEOUT NAME COMMAND...: runs COMMAND bounded by TIMEOUT seconds, its output indented.
step() {
  local limit=$1 name=$2 t rc=0 ms
  shift 2
  echo "== $name"
  t=$(now_ms)
  # In a bash of its own, so that COMMAND may be one of the functions exported below.
  timeout --kill-after 10 "$limit" bash -c '"$@"' step "$@" >"$work/out" 2>&1 </dev/null || rc=$?
  ms=$(($(now_ms) - t))
  sed 's/^/   /' "$work/out"
  if ((rc == 0)); then
    passed=$((passed + 1))
    summary+=("$(printf "pass %7s s  %s" "$(secs "$ms")" "$name")")
  else
    failed=$((failed + 1))
    ((rc == 124)) && echo "   (timed out after $limit s)"
    summary+=("$(printf "FAIL %7s s  %s" "$(secs "$ms")" "$name")")
  fi
  return 0
}

skip() { # NAME WHY
  echo "== $1"
  echo "   skipped: $2"
  skipped=$((skipped + 1))
  summary+=("$(printf "skip %9s  %s (%s)" "" "$1" "$2")")
}

# The tools the machine must have (tests/setup.sh installs them).
missing=()
command -v promtool >/dev/null || missing+=("promtool (Debian: prometheus)")
command -v "$PYTHON" >/dev/null || missing+=("$PYTHON")
if ((${#missing[@]})); then
  echo "deploy: missing: ${missing[*]} (bash tests/setup.sh installs them)" >&2
  echo "deploy: 0 passed, 1 failed"
  exit 1
fi
echo "promtool: $(promtool --version 2>&1 | head -n 1)"

# --- The virtual environment, from the lock ---------------------------------------------------
venv_python() { # VENV -> its "major.minor", or nothing
  [[ -x $1/bin/python ]] && "$1/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null
}

make_venv() {
  local want have sha stamp=$VENV/.deploy-lock.sha256
  want=$(sed -n 's/^# python_version: //p' "$LOCK")
  have=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  if [[ $have != "$want" ]]; then
    echo "tests/deploy/requirements.lock was made for Python $want, $PYTHON is $have (its wheels' hashes would not match): set DEPLOY_PYTHON, or run tests/deploy/lock.sh with that Python"
    return 1
  fi
  sha=$(sha256sum "$LOCK" | cut -d' ' -f1)
  if [[ -f $stamp && $(<"$stamp") == "$sha" && $(venv_python "$VENV") == "$want" ]]; then
    echo "reused $VENV (holds requirements.lock $sha)"
    return 0
  fi
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --no-input --disable-pip-version-check --progress-bar off \
    --require-hashes --no-deps --only-binary=:all: -r "$LOCK" || {
    rm -rf "$VENV"
    return 1
  }
  "$VENV/bin/python" -m pip check || {
    rm -rf "$VENV"
    return 1
  }
  echo "$sha" >"$stamp"
  echo "installed $(grep -c '^[A-Za-z]' "$LOCK") packages from requirements.lock into $VENV"
}

export PYTHON VENV LOCK work
export -f venv_python make_venv
step 300 "venv: tests/deploy/.venv from requirements.lock (--require-hashes)" make_venv
PY=$VENV/bin/python
export PY
if [[ ! -x $VENV/bin/yamllint ]]; then
  echo "deploy: FAIL: no venv, no further check"
  echo "deploy: $passed passed, $failed failed"
  exit 1
fi

# --- Prometheus rules -------------------------------------------------------------------------
step "$STEP_TIMEOUT" "promtool check rules $RULES" promtool check rules "$RULES"
step "$STEP_TIMEOUT" "promtool test rules $RULES_TEST (every alert firing and not)" \
  promtool test rules "$RULES_TEST"
step "$STEP_TIMEOUT" "rules: conventions (for, severity, summary, description, known metrics, tests)" \
  "$PY" tests/deploy/check.py rules "$work"

# --- Kubernetes ---------------------------------------------------------------------------------
step "$STEP_TIMEOUT" "yamllint deploy/ (syntax, duplicate keys, truthy values)" \
  "$VENV/bin/yamllint" --strict -c tests/deploy/yamllint.yml deploy
step "$STEP_TIMEOUT" "prometheusrule.yaml is generated from $RULES (byte for byte)" \
  "$PY" tests/deploy/prometheusrule.py --check
step "$STEP_TIMEOUT" "kubernetes: schemas (kubernetes-validate, strict), CRD fields, cross-references" \
  "$PY" tests/deploy/check.py kubernetes
prule_promtool() {
  promtool check rules "$work/prometheusrule.rules.yml" &&
    promtool test rules "$work/prometheusrule.rules.test.yml"
}
export -f prule_promtool
step "$STEP_TIMEOUT" "PrometheusRule's spec: promtool check rules + the unit tests against it" prule_promtool
if command -v kubectl >/dev/null; then
  render() {
    kubectl kustomize deploy/kubernetes >"$work/rendered.yaml" &&
      echo "kubectl kustomize: $(grep -c '^kind:' "$work/rendered.yaml") objects" &&
      "$PY" tests/deploy/check.py kubernetes "$work/rendered.yaml"
  }
  export -f render
  step 60 "kubectl kustomize deploy/kubernetes, then the same checks on what it renders" render
else
  skip "kubectl kustomize deploy/kubernetes" "no kubectl on PATH"
fi

# --- Grafana --------------------------------------------------------------------------------------
step "$STEP_TIMEOUT" "dashboard: JSON, data source variable, panels, known metrics" \
  "$PY" tests/deploy/check.py dashboard "$work"
dashboard_promtool() {
  cd "$work" && promtool check rules dashboard.rules.yml && promtool test rules dashboard.test.yml
}
export -f dashboard_promtool
step "$STEP_TIMEOUT" "dashboard: every query parses (promtool check rules) and returns data (promtool test rules)" \
  dashboard_promtool

# --- Container and secrets ------------------------------------------------------------------------
step "$STEP_TIMEOUT" "Containerfile: multi-stage, non-root, only the binary, entrypoint, no secrets" \
  "$PY" tests/deploy/check.py containerfile
step "$STEP_TIMEOUT" "deploy/: no secrets" "$PY" tests/deploy/check.py secrets
step "$STEP_TIMEOUT" "the metric names are the ones src/ registers" "$PY" tests/deploy/check.py exporter

# --- The real exporter --------------------------------------------------------------------------
# The watcher itself (FAILOVER_WATCH_BIN, else the debug build: already built when the Rust tests
# ran before), probing a mock upstream on 127.0.0.1 and scraped there.
build_bin() {
  if [[ -n ${FAILOVER_WATCH_BIN:-} ]]; then
    [[ -x $FAILOVER_WATCH_BIN ]] || { echo "FAILOVER_WATCH_BIN=$FAILOVER_WATCH_BIN is not an executable"; return 1; }
    echo "$FAILOVER_WATCH_BIN" >"$work/bin"
  else
    cargo build --quiet --bin failover-watch || return 1
    cargo metadata --format-version 1 --no-deps |
      "$PY" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"] + "/debug/failover-watch")' >"$work/bin"
  fi
  echo "binary: $(<"$work/bin")"
}
live() {
  "$PY" tests/deploy/check.py live "$(<"$work/bin")" "$work" &&
    promtool check metrics <"$work/metrics.txt" && echo "promtool check metrics: no problem in what it served"
}
export -f build_bin live
step "${DEPLOY_BUILD_TIMEOUT:-900}" "the watcher's binary (FAILOVER_WATCH_BIN, else cargo build --bin failover-watch)" build_bin
if [[ -s $work/bin ]]; then
  step 60 "live: the watcher's /healthz and /metrics (mock upstream on loopback), promtool check metrics" live
else
  skip "live: the watcher's /healthz and /metrics" "no binary"
fi

echo "== times"
printf '%s\n' "${summary[@]}"
echo "deploy: $( ((failed == 0)) && echo pass || echo FAIL) ($(secs $(($(now_ms) - start))) s)"
echo "deploy: $passed passed, $failed failed$( ((skipped)) && echo ", $skipped skipped")"
((failed == 0))
