#!/usr/bin/env bash
# The one test command: installs what the machine lacks (tests/setup.sh: Debian packages, as
# root, only when missing), then the Rust tests, then the checks of deploy/ (tests/deploy.sh:
# the alerting rules, the dashboard, the Containerfile, the Kubernetes manifests, the real
# /metrics), then the end-to-end tests against the real LiteLLM proxy, every scenario on each
# LiteLLM version (tests/e2e/run.sh). Fails when any part fails; prints how long each part took
# and, last, how many tests passed and failed in all.
#
#   bash tests/all.sh            (CI runs it the same way, with CI=true, from .ci/run)
#
# E2E_SCENARIOS="primary-500 both-down" runs only those end-to-end scenarios; E2E_VERSIONS,
# E2E_PARALLEL: see tests/e2e/run.sh.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

now() { date +%s; }
start=$(now)
status=0

echo "== tests/setup.sh"
t=$(now)
# shellcheck source=tests/setup.sh
source "$ROOT/tests/setup.sh"
tests_setup || {
  echo "all: FAIL (the set-up failed: see above)" >&2
  exit 1
}
setup_secs=$(($(now) - t))

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

echo "== cargo test --locked --all-targets"
t=$(now)
rust=pass
# --locked: Cargo.lock must be the one the build resolves (the Containerfile builds with it).
cargo test --locked --all-targets 2>&1 | tee "$logs/rust.log" || { rust=FAIL; status=1; }
rust_secs=$(($(now) - t))

echo "== tests/deploy.sh"
t=$(now)
deploy=pass
bash tests/deploy.sh 2>&1 | tee "$logs/deploy.log" || { deploy=FAIL; status=1; }
deploy_secs=$(($(now) - t))

echo "== tests/e2e/run.sh ${E2E_SCENARIOS:-}"
t=$(now)
e2e=pass
# shellcheck disable=SC2086 # a list of scenario names
bash tests/e2e/run.sh ${E2E_SCENARIOS:-} 2>&1 | tee "$logs/e2e.log" || { e2e=FAIL; status=1; }
e2e_secs=$(($(now) - t))

# `test result: ok. 49 passed; 0 failed; ...` per test binary, `e2e: 6 passed, 0 failed` last.
read -r rust_passed rust_failed < <(awk '/^test result:/ { for (i = 1; i < NF; i++) {
  if ($(i + 1) ~ /^passed;/) p += $i; if ($(i + 1) ~ /^failed;/) f += $i } }
  END { print p + 0, f + 0 }' "$logs/rust.log")
# `deploy: 16 passed, 0 failed` last (`, 1 skipped` may follow); none: it could not run.
read -r deploy_passed deploy_failed < <(sed -n 's/^deploy: \([0-9]*\) passed, \([0-9]*\) failed.*$/\1 \2/p' "$logs/deploy.log" | tail -n 1 | grep . || echo 0 1)
read -r e2e_passed e2e_failed < <(sed -n 's/^e2e: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$logs/e2e.log" | tail -n 1 | grep . || echo 0 0)

echo "== times"
echo "set-up (tests/setup.sh): $setup_secs s"
echo "rust tests (cargo test --locked --all-targets): $rust, $rust_passed passed, $rust_failed failed ($rust_secs s)"
echo "deploy checks (tests/deploy.sh): $deploy, $deploy_passed passed, $deploy_failed failed ($deploy_secs s)"
echo "end-to-end (tests/e2e/run.sh): $e2e, $e2e_passed passed, $e2e_failed failed ($e2e_secs s)"
echo "all: $([[ $status == 0 ]] && echo pass || echo FAIL) ($(($(now) - start)) s)"
echo "tests: $((rust_passed + deploy_passed + e2e_passed)) passed, $((rust_failed + deploy_failed + e2e_failed)) failed"
exit "$status"
