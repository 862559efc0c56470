# Shared by the measuring scripts: a release build, a mock upstream, and the dashboard in a
# real terminal (tmux) against it. Everything started here stops when the script exits.
# Sets: bin, work, url (the mock), pid (the dashboard).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release/failover-watch
work=$(mktemp -d)
session="fw-bench-$$"
mock_pid=""
cleanup() {
  tmux kill-session -t "$session" 2>/dev/null || true
  [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null || true
  [ -n "${KEEP_WORK:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT INT TERM

"$bin" mock-upstream --api openai --model llama-fp8 --reply "Hi." >"$work/mock.out" &
mock_pid=$!
for _ in $(seq 1 100); do grep -q listening "$work/mock.out" 2>/dev/null && break; sleep 0.05; done
url=$(sed -n 's/^listening on //p' "$work/mock.out")
[ -n "$url" ] || { echo "the mock upstream did not start" >&2; exit 1; }

# Runs the dashboard (120x40) with the given options against the mock; sets pid.
start_dashboard() {
  tmux new-session -d -s "$session" -x 120 -y 40 \
    "$bin --url $url --log-file $work/log $*; sleep 60"
  pid=""
  for _ in $(seq 1 100); do
    pid=$(pgrep -f "^$bin --url $url" | head -1 || true)
    [ -n "$pid" ] && return 0
    sleep 0.05
  done
  echo "the dashboard did not start" >&2
  exit 1
}

# CPU seconds (user + system) the process used so far.
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"
}

rss_kib() {
  awk '/VmRSS/ {print $2}' "/proc/$1/status"
}
