#!/usr/bin/env bash
# The one test command: the Rust tests, then the end-to-end tests against the real LiteLLM
# proxy (tests/e2e/run.sh). Fails when either fails; prints how long each part took.
#
#   bash tests/all.sh            (CI runs it the same way, with CI=true)
#
# E2E_SCENARIOS="primary-500 both-down" runs only those end-to-end scenarios.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

now() { date +%s; }
start=$(now)
status=0

echo "== cargo test --all-targets"
t=$(now)
rust=pass
cargo test --all-targets --color "$([[ ${CI:-} == true ]] && echo never || echo auto)" || { rust=FAIL; status=1; }
rust_secs=$(($(now) - t))

echo "== tests/e2e/run.sh"
t=$(now)
e2e=pass
# shellcheck disable=SC2086 # a list of scenario names
bash tests/e2e/run.sh ${E2E_SCENARIOS:-} || { e2e=FAIL; status=1; }
e2e_secs=$(($(now) - t))

echo "== times"
echo "rust tests (cargo test --all-targets): $rust ($rust_secs s)"
echo "end-to-end (tests/e2e/run.sh): $e2e ($e2e_secs s)"
echo "all: $([[ $status == 0 ]] && echo pass || echo FAIL) ($(($(now) - start)) s)"
exit "$status"
