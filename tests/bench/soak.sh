#!/usr/bin/env bash
# A long run compressed: probes every 10 ms (SOAK_INTERVAL) against a mock upstream, the dashboard in a real
# terminal (tmux), resident memory sampled as the requests pile up. A bounded state keeps the
# memory flat however long it runs.
# Usage: bash tests/bench/soak.sh [SECONDS]   (needs tmux; builds the release binary)
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-300}
interval=${SOAK_INTERVAL:-10ms}
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release/failover-watch
work=$(mktemp -d)
session="fw-soak-$$"
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
  "$bin --url $url --interval $interval --log-file $work/log; sleep 60"
pid=""
for _ in $(seq 1 100); do
  pid=$(pgrep -f "^$bin --url $url" | head -1 || true)
  [ -n "$pid" ] && break
  sleep 0.05
done
[ -n "$pid" ] || { echo "the dashboard did not start" >&2; exit 1; }

hz=$(getconf CLK_TCK)
start=$(date +%s)
echo "elapsed_s requests rss_kib cpu_s"
while :; do
  now=$(date +%s)
  elapsed=$((now - start))
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  cpu=$(awk -v hz="$hz" '{printf "%.1f", ($14 + $15) / hz}' "/proc/$pid/stat")
  requests=$(curl -s "$url/__mock" | sed -n 's/.*"completions":\([0-9]*\).*/\1/p')
  echo "$elapsed $requests $rss $cpu"
  [ "$elapsed" -ge "$seconds" ] && break
  sleep $(( seconds / 10 > 0 ? seconds / 10 : 1 ))
done
