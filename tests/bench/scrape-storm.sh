#!/usr/bin/env bash
# A scrape storm on the metrics endpoint while the watcher probes every 100 ms: does the
# schedule keep its beat, and how fast do scrapes answer?
#
#   bash tests/bench/scrape-storm.sh [CONCURRENT] [STORM_SECONDS]     (defaults: 200, 15)
#
# The watcher (release build, `--output jsonl --metrics-listen`) probes a mock upstream for
# 5 s, then CONCURRENT connections scrape `/metrics` for STORM_SECONDS, then 5 s more. Printed:
# scrapes done and failed, their time (p50, p99, max), and the probes' send intervals before,
# during and after the storm (p50, max), with the skipped ticks.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

concurrent=${1:-200}
storm=${2:-15}
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
duration=$((storm + 10))

"$bin" --url "$url" --primary llama-fp8 --interval 100ms --duration "${duration}s" \
  --direct off --output jsonl --metrics-listen "127.0.0.1:$port" \
  --log-file "$work/log" >"$work/probes.jsonl" &
watcher=$!
ready=
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && ready=1 && break
  sleep 0.05
done
[ -n "$ready" ] || { echo "the watcher's /healthz did not answer within 5 s" >&2; kill "$watcher"; exit 1; }
sleep 5
storm_start=$EPOCHREALTIME
# One process, CONCURRENT connections at once, each scraping again as soon as it has an answer
# (one process: the load generator itself should not take both cores).
python3 - "$port" "$concurrent" "$storm" >"$work/scrapes" <<'PY'
import asyncio, sys, time

port, concurrent, storm = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
end = time.monotonic() + storm

async def scraper():
    while time.monotonic() < end:
        started = time.monotonic()
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", port), 10)
            writer.write(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = await asyncio.wait_for(reader.read(), 10)
            writer.close()
            code = answer.split(b" ", 2)[1].decode() if answer else "000"
        except (OSError, asyncio.TimeoutError):
            code = "000"
        print(code, time.monotonic() - started)

async def main():
    await asyncio.gather(*(scraper() for _ in range(concurrent)))

asyncio.run(main())
PY
wait "$watcher"

python3 - "$work" "$storm_start" "$storm" "$concurrent" <<'PY'
import json, statistics, sys
from datetime import datetime

work, start, storm, concurrent = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
times, failed = [], 0
for path in [f"{work}/scrapes"]:
    for line in open(path):
        code, took = line.split()
        if code == "200":
            times.append(float(took))
        else:
            failed += 1
times.sort()
pick = lambda xs, q: xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")
print(f"scrapes: {len(times)} answered, {failed} failed, {concurrent} at once for {storm:.0f} s "
      f"({len(times) / storm:.0f}/s); time p50 {pick(times, .5) * 1000:.1f} ms, "
      f"p99 {pick(times, .99) * 1000:.1f} ms, max {pick(times, 1) * 1000:.1f} ms")

lines = [json.loads(l) for l in open(f"{work}/probes.jsonl")]
sent = sorted(datetime.fromisoformat(l["sent_at"].replace("Z", "+00:00")).timestamp()
              for l in lines if l["type"] == "request")
skips = [datetime.fromisoformat(l["at"].replace("Z", "+00:00")).timestamp()
         for l in lines if l["type"] == "skip"]
for name, lo, hi in [("before", 0, start), ("during", start, start + storm),
                     ("after", start + storm, float("inf"))]:
    gaps = [(b - a) * 1000 for a, b in zip(sent, sent[1:]) if lo <= a < hi]
    skipped = sum(lo <= s < hi for s in skips)
    if gaps:
        print(f"probes {name}: {len(gaps)} intervals, p50 {statistics.median(gaps):.1f} ms, "
              f"max {max(gaps):.1f} ms, {skipped} ticks skipped")
summary = lines[-1]
print(f"run: {summary['total']} answered, {summary['failed']} failed, "
      f"{summary['abandoned']} abandoned")
PY
