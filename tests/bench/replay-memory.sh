#!/usr/bin/env bash
# A long record played back: a record as a week at the default 3 s interval writes it (201,600
# ticks, a request and a direct probe each: ~150 MB), made from a short real one (the demo's),
# then `replay --output jsonl --instant`: its wall time, CPU and peak memory (/usr/bin/time).
# Usage: bash tests/bench/replay-memory.sh [TICKS] [INTERVAL_S]   (builds the release binary)
set -euo pipefail
ticks=${1:-201600}
every=${2:-3}
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release/failover-watch
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" demo --output none --record "$work/base.jsonl" --interval 200ms --duration 2s \
  --log-file "$work/log" 2>/dev/null
python3 - "$work/base.jsonl" "$work/long.jsonl" "$ticks" "$every" <<'PY'
import datetime as dt, json, sys
base, out, ticks, every = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
lines = [json.loads(line) for line in open(base)]
first = {kind: next(l for l in lines if l["type"] == kind) for kind in ("run", "request", "direct", "summary")}
start = dt.datetime.fromisoformat(first["run"]["started_at"].replace("Z", "+00:00"))
first["run"]["interval_ms"] = every * 1000
dump = lambda line: json.dumps(line, separators=(",", ":")) + "\n"
with open(out, "w") as f:
    f.write(dump(first["run"]))
    for seq in range(1, ticks + 1):
        sent = (start + dt.timedelta(seconds=seq * every)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        for kind in ("direct", "request"):
            first[kind].update(seq=seq, sent_at=sent)
            f.write(dump(first[kind]))
    first["summary"]["duration_secs"] = (ticks + 1) * every
    f.write(dump(first["summary"]))
PY
echo "record: $ticks ticks every ${every} s, $(($(stat -c %s "$work/long.jsonl") / 1048576)) MiB, $(wc -l <"$work/long.jsonl") lines"
/usr/bin/time -f "replay --instant: %e s wall, %U s user, %S s system, %M KiB peak RSS" \
  "$bin" replay "$work/long.jsonl" --output jsonl --instant --log-file "$work/log" >"$work/out.jsonl"
echo "played: $(wc -l <"$work/out.jsonl") lines out"
