#!/usr/bin/env bash
# Writes tests/deploy/requirements.lock: the Python tools of tests/deploy.sh and everything they
# need, pinned with `==` and the sha256 of the exact wheel pip chose, as resolved by the pip of a
# fresh `python3 -m venv` on this kind of machine (CPython 3.11, Linux x86_64, glibc: Debian 12).
# tests/deploy.sh installs it into tests/deploy/.venv with `pip install --require-hashes --no-deps`.
#
#   bash tests/deploy/lock.sh
#
# The tools:
#   kubernetes-validate   the Kubernetes JSON schemas of every release from 1.25 on, bundled:
#                         validates Deployment, Service and Secret offline (no API server)
#   yamllint              YAML syntax and style, duplicate keys (which PyYAML silently merges)
# Run it by hand to move a version, then review the diff of the lock before committing.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
specs=("kubernetes-validate==1.37.0" "yamllint==1.38.0")
lock=requirements.lock
PYLOCK_BY=tests/deploy/lock.sh exec bash "$here/../pylock.sh" "$here/$lock" --only-binary "${specs[@]}"
