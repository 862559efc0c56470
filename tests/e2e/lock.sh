#!/usr/bin/env bash
# Writes the hash-pinned lock of one LiteLLM release: every package that `litellm[proxy]==VERSION`
# needs (and `prometheus_client`, which LiteLLM's Prometheus callback imports but does not pull
# in), pinned with `==` and the sha256 of the exact file pip chose, as resolved by the pip of a
# fresh `python3 -m venv` on this kind of machine (CPython 3.11, Linux x86_64, glibc).
# The end-to-end runner installs it with `pip install --require-hashes --no-deps`.
#
#   tests/e2e/lock.sh VERSION      -> tests/e2e/requirements-VERSION.lock  (litellm[proxy]==VERSION)
#   tests/e2e/lock.sh              -> tests/e2e/requirements-1.83.14.lock  (the same for 1.83.14)
#
# tests/e2e/run.sh tests the versions in its VERSIONS list (1.83.14 and 1.106.12), each from
# its own lock. Run this by hand when adding or moving a pinned version (never unpinned:
# docs/litellm.md lists the malicious and vulnerable releases), then review the diff of the lock
# before committing. The lock already there keeps its pins (pylock.sh --keep): delete it to
# resolve every package afresh.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if (($# == 0)); then
  version=1.83.14 lock=requirements-1.83.14.lock
elif (($# == 1)) && [[ $1 =~ ^[0-9]+(\.[0-9]+)+$ ]]; then
  version=$1 lock=requirements-$1.lock
else
  echo "usage: $0 [VERSION]   (an exact LiteLLM release such as 1.106.12; never unpinned)" >&2
  exit 2
fi
PYLOCK_BY=tests/e2e/lock.sh exec bash "$here/../pylock.sh" "$here/$lock" --keep \
  "litellm[proxy]==$version" prometheus_client
