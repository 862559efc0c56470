#!/usr/bin/env bash
# Measures the dashboard's own cost at rest: CPU seconds and resident memory over a minute at
# the default interval (3 s), in a real terminal (tmux), against a mock upstream on loopback.
# Usage: bash tests/bench/idle-cpu.sh [SECONDS]   (needs tmux; builds the release binary)
seconds=${1:-60}
source "$(dirname "$0")/lib.sh"
start_dashboard
sleep 5 # past start-up
before=$(cpu_seconds "$pid")
sleep "$seconds"
after=$(cpu_seconds "$pid")
awk -v b="$before" -v a="$after" -v s="$seconds" -v rss="$(rss_kib "$pid")" 'BEGIN {
  printf "idle dashboard, interval 3s, %ss: %.2f CPU seconds (%.2f%% of one core), RSS %s KiB\n",
    s, a - b, 100 * (a - b) / s, rss }'
