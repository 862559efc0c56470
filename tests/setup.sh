#!/usr/bin/env bash
# What the tests need from the machine, installed when missing: sourced by tests/all.sh (the
# one test command), so that it runs on a fresh machine as it is. On its own:
#
#   bash tests/setup.sh
#
# Debian packages, installed with apt-get as root and only when missing:
#   tmux                 the dashboard smoke test (tests/tmux_smoke.rs)
#   curl                 the end-to-end runner talks to the proxies and the mocks
#   procps               ps (the end-to-end runner follows the processes it starts)
#   iproute2             ss (it checks that every socket stays on 127.0.0.1)
#   util-linux           setsid (it starts every process in a session of its own)
#   python3-venv         when `python3 -c 'import venv, ensurepip'` fails (Debian keeps them
#                        apart): the runner's virtual environments, and tests/deploy.sh's
#   prometheus           when promtool is missing: prometheus and promtool, for the tests of
#                        the metrics and of deploy/ (tests/deploy.sh; its service is not started)
#   man-db, groff-base   man and nroff: the manual page `failover-watch man` prints is rendered
#                        (tests/cli.rs)
#   chromium             a real browser, headless: the HTML report is loaded, its figure
#                        counted and a screenshot taken (tests/report_cli.rs)
# Not installed here: cargo (rustup) and python3 itself (3.11, the end-to-end locks' version).
# When something is missing and this is not root, it says what to install and fails.

# Prints the Debian packages whose commands are missing.
tests_setup_missing() {
  local need=()
  command -v tmux >/dev/null || need+=(tmux)
  command -v curl >/dev/null || need+=(curl)
  command -v ps >/dev/null || need+=(procps)
  command -v ss >/dev/null || need+=(iproute2)
  command -v setsid >/dev/null || need+=(util-linux)
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    command -v python3 >/dev/null || need+=(python3)
    need+=(python3-venv)
  fi
  command -v promtool >/dev/null || need+=(prometheus)
  command -v man >/dev/null || need+=(man-db)
  command -v nroff >/dev/null || need+=(groff-base)
  command -v chromium >/dev/null || need+=(chromium)
  echo "${need[*]}"
}

tests_setup() {
  local need missing created_policy=''
  if ! command -v cargo >/dev/null; then
    echo "setup: cargo is needed (install Rust with rustup: https://rustup.rs)" >&2
    return 1
  fi
  need=$(tests_setup_missing)
  if [[ -n $need ]]; then
    if ((EUID != 0)); then
      echo "setup: the tests need these Debian packages, which are missing: $need" >&2
      echo "setup: install them as root, then run the tests again:" >&2
      echo "  sudo apt-get update && sudo apt-get install --no-install-recommends $need" >&2
      return 1
    fi
    if ! command -v apt-get >/dev/null; then
      echo "setup: missing, and no apt-get to install them with: $need (install them by hand)" >&2
      return 1
    fi
    echo "== apt-get install $need"
    # A package's service (prometheus has one) must not start: nothing of the tests listens
    # beyond 127.0.0.1, and they start what they need themselves. Debian asks policy-rc.d.
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
      printf '#!/bin/sh\n# tests/setup.sh: no service starts during its apt-get install\nexit 101\n' \
        >/usr/sbin/policy-rc.d
      chmod 755 /usr/sbin/policy-rc.d
      created_policy=1
    fi
    local rc=0
    # shellcheck disable=SC2086 # a list of package names
    DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need ||
      rc=$?
    [[ -z $created_policy ]] || rm -f /usr/sbin/policy-rc.d
    if ((rc != 0)); then
      echo "setup: apt-get install $need failed (status $rc)" >&2
      return 1
    fi
    missing=$(tests_setup_missing)
    if [[ -n $missing ]]; then
      echo "setup: still missing after apt-get install: $missing" >&2
      return 1
    fi
  fi
  echo "== versions"
  cargo --version
  python3 --version
  echo "tmux: $(tmux -V)"
  echo "promtool: $(promtool --version 2>&1 | head -n 1)"
  echo "chromium: $(chromium --version 2>/dev/null | head -n 1)"
}

# Run on its own (not sourced): do it.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  tests_setup
fi
