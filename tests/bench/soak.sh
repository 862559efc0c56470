#!/usr/bin/env bash
# A long run compressed: probes every 10 ms (SOAK_INTERVAL) against a mock upstream, the
# dashboard in a real terminal (tmux), resident memory sampled as the requests pile up. A
# bounded state keeps the memory flat however long it runs.
# Usage: bash tests/bench/soak.sh [SECONDS]   (needs tmux; builds the release binary)
seconds=${1:-300}
interval=${SOAK_INTERVAL:-10ms}
source "$(dirname "$0")/lib.sh"
start_dashboard --interval "$interval"
start=$(date +%s)
echo "elapsed_s requests rss_kib cpu_s"
while :; do
  elapsed=$(($(date +%s) - start))
  requests=$(curl -s "$url/__mock" | sed -n 's/.*"completions":\([0-9]*\).*/\1/p')
  echo "$elapsed $requests $(rss_kib "$pid") $(cpu_seconds "$pid")"
  [ "$elapsed" -ge "$seconds" ] && break
  sleep $((seconds / 10 > 0 ? seconds / 10 : 1))
done
