#!/usr/bin/env bash
# Measures what probing costs the watcher itself, against the real LiteLLM proxy on loopback:
# the CPU seconds (user + system, the kernel's accounting of the watcher's process alone) of
#   - start-up and one probe   (--count 1),
#   - 10 probes at 100 ms      (--count 10 --interval 100ms),
#   - 60 probes at 1 s         (--count 60 --interval 1s: a minute a run),
# in text mode (into a file), each repeated RUNS times, with the minimum and the median.
# The proxy is the end-to-end tests' (tests/e2e/config.yaml.in: LiteLLM 1.83.14 in front of
# two mock upstreams, `failover-watch mock-upstream`); everything listens on 127.0.0.1, and
# everything started here stops when the script exits, however it exits.
#
# Usage: bash tests/bench/probe-cpu.sh [RUNS]     (RUNS defaults to 3)
# Environment:
#   LITELLM_VENV        a venv holding LiteLLM 1.83.14 (default tests/e2e/.venv/1.83.14, which
#                       tests/e2e/run.sh creates from tests/e2e/requirements-1.83.14.lock)
#   FAILOVER_WATCH_BIN  the binary to measure (default: a release build of this checkout)
set -euo pipefail
runs=${1:-3}
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [RUNS]" >&2; exit 2; }
absolute() { if [[ $1 == /* ]]; then echo "$1"; else echo "$PWD/$1"; fi; }
venv=$(absolute "${LITELLM_VENV:-$(dirname "${BASH_SOURCE[0]}")/../e2e/.venv/1.83.14}")
[[ -z ${FAILOVER_WATCH_BIN:-} ]] || FAILOVER_WATCH_BIN=$(absolute "$FAILOVER_WATCH_BIN")
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
[[ -x $venv/bin/litellm ]] || {
  echo "no LiteLLM in $venv: run tests/e2e/run.sh once (it creates tests/e2e/.venv/1.83.14), or set LITELLM_VENV" >&2
  exit 1
}
if [[ -n ${FAILOVER_WATCH_BIN:-} ]]; then
  bin=$FAILOVER_WATCH_BIN
else
  cargo build --release --quiet
  bin=${CARGO_TARGET_DIR:-target}/release/failover-watch
fi
[[ -x $bin ]] || { echo "no executable $bin" >&2; exit 1; }

work=$(mktemp -d)
pids=() # each leads its own process group (setsid), stopped whole
cleanup() {
  local pid
  [[ -z ${runner:-} ]] || pids+=("$runner")
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 100); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.05; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

start() { # NAME CMD...: starts CMD in a new session, output in $work/NAME.log
  local name=$1
  shift
  setsid "$@" </dev/null >"$work/$name.log" 2>&1 &
  pids+=("$!")
}

base=''
mock() { # NAME API MODEL REPLY: starts a mock upstream; sets base to its URL
  start "$1" "$bin" mock-upstream --api "$2" --listen 127.0.0.1:0 --model "$3" --reply "$4"
  base=''
  for _ in $(seq 1 200); do
    base=$(sed -n 's/^listening on //p' "$work/$1.log" 2>/dev/null)
    [[ -n $base ]] && return 0
    sleep 0.05
  done
  echo "mock $1 did not start" >&2
  exit 1
}

mock primary openai llama-fp8 Hi.
primary=$base
mock fallback ollama llama3 Hello!
fallback=$base
sed -e "s#@PRIMARY_BASE@#$primary#" -e "s#@FALLBACK_BASE@#$fallback#" \
  -e 's#@ROUTER_TIMEOUT@#3#' -e 's#@COOLDOWN@#10#' tests/e2e/config.yaml.in >"$work/config.yaml"
port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/home"
start proxy env -i PATH="$PATH" HOME="$work/home" LANG=C.UTF-8 LITELLM_LOCAL_MODEL_COST_MAP=True \
  "$venv/bin/litellm" --config "$work/config.yaml" --host 127.0.0.1 --port "$port" --telemetry False
url=http://127.0.0.1:$port
for i in $(seq 1 480); do
  curl -fsS --max-time 2 -o /dev/null "$url/health/liveliness" 2>/dev/null && break
  kill -0 "${pids[-1]}" 2>/dev/null || { tail -n 20 "$work/proxy.log" >&2; echo "the proxy exited" >&2; exit 1; }
  ((i < 480)) || { echo "the proxy was not ready within 120 s" >&2; exit 1; }
  sleep 0.25
done

# One text run against the proxy, its output in $work/out; sets user and sys to the CPU
# seconds of the watcher's process, read from wait4 (microseconds; GNU time rounds to 10 ms).
# It runs in the background, so that a signal to this script is handled at once.
runner='' user='' sys=''
run_watch() { # ARGS...
  local rc=0
  setsid "$venv/bin/python" - "$work" "$bin" --url "$url" --primary llama-fp8 --output text \
    --log-file "$work/watch.log" "$@" >"$work/usage" <<'PY' &
import os, sys
work, *argv = sys.argv[1:]
env = {"PATH": os.environ["PATH"], "HOME": work + "/home", "LITELLM_API_KEY": "sk-test"}
pid = os.fork()
if pid == 0:
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(os.open(work + "/out", os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 1)
    os.dup2(os.open(work + "/err", os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 2)
    os.execve(argv[0], argv, env)
_, status, usage = os.wait4(pid, 0)
print(f"{usage.ru_utime:.3f} {usage.ru_stime:.3f}")
sys.exit(os.waitstatus_to_exitcode(status))
PY
  runner=$!
  wait "$runner" || rc=$?
  runner=''
  read -r user sys <"$work/usage" || true
  return "$rc"
}

# LiteLLM's first requests are slow (lazy imports): warm it up, and check the primary serves.
run_watch --interval 200ms --count 5 || { cat "$work/err" >&2; exit 1; }
grep -q '✓ PRIMARY' "$work/out" || { cat "$work/out" >&2; echo "the primary did not serve" >&2; exit 1; }

measure() { # LABEL ARGS...: RUNS runs, each one line, then min and median of user + system
  local label=$1 totals=()
  shift
  for i in $(seq 1 "$runs"); do
    run_watch "$@" || { cat "$work/err" >&2; exit 1; }
    grep -q 'Failed: 0$' "$work/out" || { tail -n 15 "$work/out" >&2; echo "a probe failed" >&2; exit 1; }
    totals+=("$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.3f", u + s }')")
    printf '  %-28s run %d: %s s (user %s, system %s)\n' "$label" "$i" "${totals[-1]}" "$user" "$sys"
  done
  printf '%s\n' "${totals[@]}" | sort -n | awk -v label="$label" '{ v[NR] = $1 } END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%-30s min %.3f s, median %.3f s of CPU (%d runs)\n", label, v[1], m, NR }' >>"$work/summary"
}

echo "binary: $bin; proxy: LiteLLM $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("litellm"))') on $url"
measure "start-up + 1 probe" --interval 1ms --count 1
measure "10 probes at 100ms" --interval 100ms --count 10
measure "60 probes at 1s" --interval 1s --count 60
cat "$work/summary"
