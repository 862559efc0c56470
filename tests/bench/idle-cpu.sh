#!/usr/bin/env bash
# Measures the dashboard's own cost at rest: CPU seconds and resident memory over a minute at
# the default interval (3 s), in a real terminal (tmux), against a mock upstream on loopback.
# Usage: bash tests/bench/idle-cpu.sh [SECONDS]   (needs tmux; builds the release binary)
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release/failover-watch
work=$(mktemp -d)
session="fw-idle-$$"
mock_pid=""
cleanup() {
  tmux kill-session -t "$session" 2>/dev/null || true
  [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

"$bin" mock-upstream --api openai --model llama-fp8 --reply "Hi." >"$work/mock.out" &
mock_pid=$!
for _ in $(seq 1 100); do grep -q listening "$work/mock.out" 2>/dev/null && break; sleep 0.05; done
url=$(sed -n 's/^listening on //p' "$work/mock.out")

tmux new-session -d -s "$session" -x 120 -y 40 \
  "$bin --url $url --log-file $work/log; sleep 60"
pid=""
for _ in $(seq 1 100); do
  pid=$(pgrep -f "^$bin --url $url" | head -1 || true)
  [ -n "$pid" ] && break
  sleep 0.05
done
[ -n "$pid" ] || { echo "the dashboard did not start" >&2; exit 1; }
sleep 5 # past start-up

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
before=$(ticks "$pid")
sleep "$seconds"
after=$(ticks "$pid")
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
cpu=$(awk -v t=$((after - before)) -v hz="$hz" 'BEGIN {printf "%.2f", t / hz}')
pct=$(awk -v t=$((after - before)) -v hz="$hz" -v s="$seconds" 'BEGIN {printf "%.2f", 100 * t / hz / s}')
echo "idle dashboard, interval 3s, ${seconds}s: ${cpu} CPU seconds (${pct}% of one core), RSS ${rss_kb} KiB"
