#!/usr/bin/env bash
# A flood of idle and half-sent connections on the metrics port of a watcher allowed 1,024 open
# files: does /healthz keep answering, how many descriptors does the watcher hold, does a probe
# fail?
#
#   bash tests/bench/metrics-flood.sh [CONNECTIONS] [FLOOD_SECONDS] [REOPEN]
#                                                        (defaults: 1200, 20, reopen)
#
# The watcher (release build, `ulimit -n 1024`, `--output jsonl --metrics-listen`) probes a
# mock upstream every 100 ms. After 3 s one Python process opens CONNECTIONS connections to the
# metrics port, every third a request head that never ends, and holds each until the watcher
# closes it or FLOOD_SECONDS pass; with `reopen` (not `hold`) it opens it again at once.
# Throughout, curl asks /healthz every 100 ms and the watcher's open descriptors are counted.
# Printed: the flood's connections (opened, closed by the watcher), the watcher's descriptors
# (before, max during), /healthz during the flood (answered, failed, time p50, p99, max) and the
# run's probes.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

connections=${1:-1200}
flood=${2:-20}
reopen=${3:-reopen}
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
duration=$((flood + 6))

bash -c 'ulimit -n 1024 && exec "$0" "$@"' "$bin" --url "$url" --primary llama-fp8 \
  --interval 100ms --duration "${duration}s" --direct off --output jsonl \
  --metrics-listen "127.0.0.1:$port" --log-file "$work/log" >"$work/probes.jsonl" &
watcher=$!
ready=
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && ready=1 && break
  sleep 0.05
done
[ -n "$ready" ] || { echo "the watcher's /healthz did not answer within 5 s" >&2; kill "$watcher"; exit 1; }
descriptors() { { ls "/proc/$watcher/fd" 2>/dev/null || true; } | wc -l; }
before=$(descriptors)
sleep 3

python3 - "$port" "$connections" "$flood" "$reopen" >"$work/flood" <<'PY' &
import asyncio, resource, sys, time

port, connections, flood, reopen = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4] == "reopen"
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
end = time.monotonic() + flood
opened = closed = 0

async def hold(n):
    global opened, closed
    while time.monotonic() < end:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        opened += 1
        if n % 3 == 0:
            writer.write(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        try:
            await asyncio.wait_for(reader.read(), end - time.monotonic())
            closed += 1
        except (OSError, asyncio.TimeoutError):
            pass
        writer.close()
        if not reopen:
            break

async def main():
    await asyncio.gather(*(hold(n) for n in range(connections)))

asyncio.run(main())
print(opened, closed)
PY
flooder=$!
flood_start=$EPOCHREALTIME
max=0
: >"$work/healthz"
while kill -0 "$flooder" 2>/dev/null; do
  curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 2 \
    "http://127.0.0.1:$port/healthz" >>"$work/healthz" || true
  n=$(descriptors)
  [ "$n" -gt "$max" ] && max=$n
  sleep 0.1
done
wait "$flooder"
wait "$watcher"

python3 - "$work" "$before" "$max" "$reopen" <<'PY'
import json, sys

work, before, most, reopen = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
opened, closed = open(f"{work}/flood").read().split()
print(f"flood ({reopen}): {opened} connections opened, {closed} closed by the watcher")
print(f"watcher's descriptors: {before} before the flood, at most {most} during it (limit 1024)")
times, failed = [], 0
for line in open(f"{work}/healthz"):
    code, took = line.split()
    if code == "200":
        times.append(float(took))
    else:
        failed += 1
times.sort()
pick = lambda xs, q: xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")
print(f"/healthz during the flood: {len(times)} answered 200, {failed} failed; time p50 "
      f"{pick(times, .5) * 1000:.1f} ms, p99 {pick(times, .99) * 1000:.1f} ms, "
      f"max {pick(times, 1) * 1000:.1f} ms")
summary = json.loads(open(f"{work}/probes.jsonl").read().splitlines()[-1])
print(f"probes: {summary['total']} answered, {summary['failed']} failed "
      f"({summary['errors']}), {summary['outages']} outages")
PY
