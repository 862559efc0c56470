#!/usr/bin/env bash
# Measures how the watcher scales with its targets: 1, 10 and 100 targets probed every second
# for a minute, headless (`--output jsonl` into a file), against one mock gateway on loopback
# (`failover-watch mock-upstream`, a separate process: its CPU is not counted). For each run:
#   - the watcher's CPU (user + system) and peak resident memory, from /usr/bin/time -v (the
#     kernel's accounting of the watcher's process alone; GNU time rounds to 10 ms),
#   - how far the ticks drift from their beat: every request line carries `sent_at`, the
#     moment the schedule sent it; a target's beat is a tick + k * interval (the targets of
#     a run are spread across the interval, each with its own offset), its origin the
#     earliest of its ticks (the timers fire late, never early), so the drift of its
#     request seq is sent_at - (origin + (seq - 1) * interval), 0 or more.
#     Reported as p50 / p99 / max over every request of the run, with the requests, the
#     failures, and the ticks skipped.
# The mock answers any model group with the same model, so the targets name the same group
# (`llama-fp8`) on the same gateway under different names (`name = "t001"`...): each target has
# its own schedule, requests and state, as targets on different groups would; what the
# gateway itself does per group (LiteLLM's router) is not part of the watcher's cost.
#
# Usage: bash tests/bench/scale.sh [SECONDS] [COUNTS...]   (defaults: 60, and 1 10 100)
# Environment: FAILOVER_WATCH_BIN (a binary instead of a release build of this checkout),
# CARGO_TARGET_DIR (respected when building), INTERVAL_MS (each target's interval, default 1000),
# KEEP_WORK=1 (keep the targets files, the JSON lines and GNU time's reports).
set -euo pipefail
seconds=${1:-60}
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [SECONDS] [COUNTS...]" >&2; exit 2; }
shift || true
counts=("$@")
((${#counts[@]})) || counts=(1 10 100)
for n in "${counts[@]}"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [SECONDS] [COUNTS...]" >&2; exit 2; }
done
interval_ms=${INTERVAL_MS:-1000}
[[ $interval_ms =~ ^[1-9][0-9]*$ ]] || { echo "INTERVAL_MS is a number of milliseconds" >&2; exit 2; }
absolute() { if [[ $1 == /* ]]; then echo "$1"; else echo "$PWD/$1"; fi; }
[[ -z ${FAILOVER_WATCH_BIN:-} ]] || FAILOVER_WATCH_BIN=$(absolute "$FAILOVER_WATCH_BIN")
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
for tool in jq /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 2; }
done
if [[ -n ${FAILOVER_WATCH_BIN:-} ]]; then
  bin=$FAILOVER_WATCH_BIN
else
  cargo build --release --quiet --bin failover-watch
  bin=$(absolute "${CARGO_TARGET_DIR:-target}/release/failover-watch")
fi
[[ -x $bin ]] || { echo "no executable $bin" >&2; exit 2; }

work=$(mktemp -d)
pids=() # each leads its own process group (setsid), stopped whole
cleanup() {
  trap - EXIT INT TERM
  set +e
  local pid
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 100); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.05; done
    kill -KILL -- "-$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  if [[ ${KEEP_WORK:-} == 1 ]]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
export LC_ALL=C.UTF-8 NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

setsid "$bin" mock-upstream --api openai --listen 127.0.0.1:0 --model llama-fp8 --reply Hi. \
  </dev/null >"$work/mock.log" 2>&1 &
pids+=("$!")
url=''
for _ in $(seq 1 200); do
  url=$(sed -n 's/^listening on //p' "$work/mock.log")
  [[ -n $url ]] && break
  sleep 0.05
done
[[ -n $url ]] || { cat "$work/mock.log" >&2; echo "the mock gateway did not start" >&2; exit 1; }

# The JSON lines of one run into its figures: requests, failed, skipped, and the drift of
# every request from its target's beat (ms), p50 / p99 / max.
drift() { # FILE INTERVAL_MS
  jq -rs --argjson every "$2" '
    def secs: (.[0:19] + "Z" | fromdateiso8601) + ((.[20:] | rtrimstr("Z")) as $f
      | if $f == "" then 0 else ($f | tonumber) / pow(10; $f | length) end);
    def pct($p): .[((length - 1) * $p | floor)];
    (map(select(.type == "request"))) as $requests
    | ($requests | group_by(.target) | map(
        map((.sent_at | secs) - (.seq - 1) * $every / 1000) | min as $beat | map(. - $beat)
      ) | add | map(. * 1000) | sort) as $d
    | [ ($requests | length),
        ($requests | map(select(.result == "error")) | length),
        (map(select(.type == "skip")) | length),
        ($d | pct(0.5)), ($d | pct(0.99)), ($d | max) ]
    | "\(.[0]) \(.[1]) \(.[2]) \(.[3] * 100 | round / 100) \(.[4] * 100 | round / 100) \(.[5] * 100 | round / 100)"
  ' "$1"
}

interval="${interval_ms}ms"

echo "binary: $bin; mock gateway: $url; $seconds s a run at $interval; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%8s %9s %9s %9s %9s %9s %7s %8s %8s %8s\n' targets requests failed skipped "user s" "sys s" \
  "peak MiB" "p50 ms" "p99 ms" "max ms"
for n in "${counts[@]}"; do
  file=$work/targets-$n.toml
  for i in $(seq 1 "$n"); do
    printf '[[target]]\nname = "t%03d"\nurl = "%s"\nprimary = "llama-fp8"\n\n' "$i" "$url"
  done >"$file"
  out=$work/run-$n.jsonl
  # The watcher itself under GNU time (no shell, no Python between them), in the background
  # so that a signal to this script is handled at once.
  setsid /usr/bin/time -v -o "$work/time-$n.txt" env -i PATH="$PATH" HOME="$work" \
    NO_PROXY=127.0.0.1 "$bin" --targets "$file" --interval "$interval" --output jsonl \
    --duration "${seconds}s" --log-file "$work/watch-$n.log" </dev/null >"$out" 2>"$work/err-$n" &
  pids+=("$!")
  wait "${pids[-1]}" || { cat "$work/err-$n" "$work/time-$n.txt" >&2; echo "the watcher failed" >&2; exit 1; }
  unset 'pids[-1]'
  user=$(sed -n 's/^\tUser time (seconds): //p' "$work/time-$n.txt")
  sys=$(sed -n 's/^\tSystem time (seconds): //p' "$work/time-$n.txt")
  rss=$(sed -n 's/^\tMaximum resident set size (kbytes): //p' "$work/time-$n.txt")
  read -r requests failed skipped p50 p99 max < <(drift "$out" "$interval_ms")
  printf '%8d %9d %9d %9d %9s %9s %7.1f %8s %8s %8s\n' "$n" "$requests" "$failed" "$skipped" \
    "$user" "$sys" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" "$p50" "$p99" "$max"
done
