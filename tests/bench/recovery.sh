#!/usr/bin/env bash
# Measures, against the real LiteLLM proxy, how long traffic takes to come back to the primary
# after it is restarted, for each way of watching the primary's own state: a direct probe
# beside every request (`--direct probe`), the quiet lane (`--direct quiet`, the default:
# LiteLLM's health check, one direct probe into the cooldown) and none (`--direct off`). A failed
# direct probe counts against the primary in LiteLLM's allowed_fails tally like any failed
# request, so it may move the moment the primary enters its cooldown, and with it the moment
# LiteLLM tries the primary again; the health check does not count.
#
# Each round: the primary serves and is out of cooldown; the watcher runs 30 s (probes every
# 1 s, JSON lines); the primary mock is killed 5.5 s after the first probe left and restarted
# on the same port 4 s later (9.5 s). From the watcher's lines: the failover lag (the failover
# transition after the kill), the recovery lag (the recovery transition after the restart),
# and with the lane, the estimated next try (`primary` cooling_down, next_try) against the
# real retry (`primary` back to up). Everything runs on 127.0.0.1 and stops when this exits.
#
# Usage: bash tests/bench/recovery.sh
# Environment: LITELLM_VENV (a venv with litellm[proxy]; default tests/e2e/.venv/1.106.12),
# ROUNDS (per mode; 3), MODES ("probe quiet off"), FAILOVER_WATCH_BIN (a binary instead of a release build),
# CARGO_TARGET_DIR (respected when building), KEEP_WORK=1 (keep the logs and outputs), and the
# schedule, in seconds after the first probe: KILL_AT (5.5), RESTART_AT (9.5), DURATION (30;
# the watcher's run). A restart after the first cooldown has run out (RESTART_AT=17.5
# DURATION=40) shows the other side: the primary still down when LiteLLM tries it again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
rounds=${ROUNDS:-3}
read -r -a modes <<<"${MODES:-probe quiet off}"
venv=${LITELLM_VENV:-tests/e2e/.venv/1.106.12}
[ -x "$venv/bin/litellm" ] || {
  echo "no $venv/bin/litellm (LITELLM_VENV names a venv with litellm[proxy])" >&2
  exit 2
}
venv=$(cd "$venv" && pwd)
py=$venv/bin/python
if [ -n "${FAILOVER_WATCH_BIN:-}" ]; then
  bin=$FAILOVER_WATCH_BIN
else
  cargo build --release --quiet --bin failover-watch
  bin=$(cd "${CARGO_TARGET_DIR:-target}/release" && pwd)/failover-watch
fi
[ -x "$bin" ] || { echo "no binary at $bin" >&2; exit 2; }

# The probes' schedule and LiteLLM's router settings.
cooldown=10 kill_at=${KILL_AT:-5.5} restart_at=${RESTART_AT:-9.5} duration=${DURATION:-30}

export LC_ALL=C.UTF-8 NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

work=$(mktemp -d)
mkdir -p "$work/home"
# Every process started here leads its own session (setsid): stopped by signalling its group.
declare -A procs=() # name -> pid (== pgid)
stop() { # NAME: TERM to its group, KILL after 5 s
  local pid=${procs[$1]:-}
  [ -n "$pid" ] || return 0
  kill -TERM -- -"$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 -- -"$pid" 2>/dev/null || break; sleep 0.05; done
  kill -KILL -- -"$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "procs[$1]"
}
cleanup() {
  trap - EXIT INT TERM
  set +e
  local name
  for name in "${!procs[@]}"; do stop "$name"; done
  if [ "${KEEP_WORK:-}" = 1 ]; then echo "logs and outputs kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

spawn() { # NAME OUT CMD...: starts CMD in a new session, stdout and stderr appended to OUT
  local name=$1 out=$2
  shift 2
  setsid "$@" </dev/null >>"$out" 2>&1 &
  procs[$name]=$!
}

now() { date +%s.%N; }

declare -A port=()
start_mock() { # NAME API MODEL REPLY [PORT]: waits for its `listening on` line; sets port[NAME]
  local name=$1 out=$work/$1.$RANDOM.out url=''
  : >"$out"
  spawn "$name" "$out" "$bin" mock-upstream --api "$2" --listen "127.0.0.1:${5:-0}" --model "$3" --reply "$4"
  for _ in $(seq 1 200); do
    url=$(sed -n 's#^listening on http://127\.0\.0\.1:\([0-9]*\)$#\1#p' "$out")
    [ -n "$url" ] && break
    sleep 0.05
  done
  [ -n "$url" ] || { cat "$out" >&2; echo "mock $name did not start" >&2; exit 1; }
  port[$name]=$url
}

mock_requests() { # NAME: the requests the mock received since it started
  curl -fsS --max-time 5 "http://127.0.0.1:${port[$1]}/__mock" |
    sed -n 's/.*"requests":\([0-9]*\).*/\1/p'
}

chat() { # MODEL: one request through the proxy; prints the response headers
  curl -sS --max-time 35 -o /dev/null -D - -H 'Authorization: Bearer sk-test' \
    -H 'Content-Type: application/json' \
    -d "{\"model\":\"$1\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hi\"}],\"max_tokens\":5}" \
    "http://127.0.0.1:${port[proxy]}/v1/chat/completions" 2>/dev/null | tr -d '\r' || true
}

settle() { # waits (60 s at most) until the primary serves, out of cooldown, and the fallback answers
  local h p_ok='' f_ok=''
  for _ in $(seq 1 120); do
    if [ -z "$p_ok" ]; then
      h="$(chat llama-fp8)"$'\n'
      # Served by the primary group with no fallback tried: the primary is out of cooldown.
      [[ $h == "HTTP/1.1 200"* && $h == *$'\nx-litellm-model-group: llama-fp8\n'* &&
        $h == *$'\nx-litellm-attempted-fallbacks: 0\n'* ]] && p_ok=1
    fi
    if [ -z "$f_ok" ]; then
      h="$(chat llama3)"$'\n'
      [[ $h == "HTTP/1.1 200"* && $h == *$'\nx-litellm-model-group: llama3\n'* ]] && f_ok=1
    fi
    [ -n "$p_ok" ] && [ -n "$f_ok" ] && return 0
    sleep 0.5
  done
  echo "the primary (${p_ok:-not ok}) and the fallback (${f_ok:-not ok}) did not both serve within 60 s" >&2
  exit 1
}

sleep_until() { # EPOCH_SECONDS (fractional)
  local left
  left=$(awk -v t="$1" -v n="$(now)" 'BEGIN { d = t - n; printf "%.3f", (d > 0 ? d : 0) }')
  sleep "$left"
}

# The mocks and the proxy.
start_mock primary openai llama-fp8 Hi.
start_mock fallback ollama llama3 Hello!
port[proxy]=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# The end-to-end tests' config (the seed's, on loopback), with this run's cooldown; the
# groups of their other scenarios point at port 9, where nothing listens.
sed -e "s#@PRIMARY_BASE@#http://127.0.0.1:${port[primary]}#" \
  -e "s#@FALLBACK_BASE@#http://127.0.0.1:${port[fallback]}#" \
  -e 's#@ROUTER_TIMEOUT@#30#' -e "s#@COOLDOWN@#$cooldown#" \
  -e 's#@[A-Z0-9_]*_BASE@#http://127.0.0.1:9#' tests/e2e/config.yaml.in >"$work/config.yaml"
started=$(date +%s)
spawn proxy "$work/proxy.log" env -i PATH="$PATH" HOME="$work/home" LANG=C.UTF-8 \
  NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost LITELLM_LOCAL_MODEL_COST_MAP=True \
  "$venv/bin/litellm" --config "$work/config.yaml" --host 127.0.0.1 --port "${port[proxy]}" --telemetry False
until curl -fsS --max-time 2 -o /dev/null "http://127.0.0.1:${port[proxy]}/health/liveliness" 2>/dev/null; do
  if ! kill -0 "${procs[proxy]}" 2>/dev/null || (($(date +%s) - started > 120)); then
    tail -n 40 "$work/proxy.log" >&2
    echo "the proxy was not ready within 120 s" >&2
    exit 1
  fi
  sleep 0.25
done
version=$("$py" -c 'import importlib.metadata as m; print(m.version("litellm"))')
echo "litellm $version on 127.0.0.1:${port[proxy]} (ready after $(($(date +%s) - started)) s);" \
  "cooldown_time $cooldown, allowed_fails 1, num_retries 0; kill at +${kill_at} s, restart at +${restart_at} s"

# One round: MODE N. Appends the round's figures to $work/rounds.jsonl.
round() {
  local mode=$1 n=$2 out=$work/$1-$2.jsonl sent='' t0 before after_kill after killed restarted
  settle
  before=$(mock_requests primary)
  : >"$out"
  spawn watch "$out" env -i PATH="$PATH" HOME="$work/home" LITELLM_API_KEY=sk-test \
    NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost \
    "$bin" --url "http://127.0.0.1:${port[proxy]}" --output jsonl --interval 1s \
    --duration "${duration}s" --direct "$mode" --log-file "$work/log"
  # The schedule is timed from the first probe's departure, half an interval from any probe.
  for _ in $(seq 1 300); do
    sent=$(grep -m1 '"type":"request"' "$out" | grep -o '"sent_at":"[^"]*"' || true)
    [ -n "$sent" ] && break
    sleep 0.05
  done
  [ -n "$sent" ] || { cat "$out" >&2; echo "the watcher printed no request within 15 s" >&2; exit 1; }
  sent=${sent#\"sent_at\":\"}
  t0=$(date -d "${sent%\"}" +%s.%N)
  sleep_until "$(awk -v t="$t0" -v d="$kill_at" 'BEGIN { printf "%.6f", t + d }')"
  after_kill=$(mock_requests primary)
  stop primary
  killed=$(now)
  sleep_until "$(awk -v t="$t0" -v d="$restart_at" 'BEGIN { printf "%.6f", t + d }')"
  start_mock primary openai llama-fp8 Hi. "${port[primary]}"
  restarted=$(now)
  wait "${procs[watch]}" || { echo "the watcher exited with status $?" >&2; exit 1; }
  unset "procs[watch]"
  after=$(mock_requests primary)
  "$py" - "$out" "$mode" "$n" "$t0" "$killed" "$restarted" $((after_kill - before + after)) \
    >>"$work/rounds.jsonl" <<'PY'
import json, sys
from datetime import datetime

path, mode, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
t0, killed, restarted, served = map(float, sys.argv[4:8])

def ts(s):  # RFC 3339 -> epoch seconds
    s = s.replace("Z", "+00:00")
    if "." in s:
        head, rest = s.split(".", 1)
        digits = "".join(c for c in rest if c.isdigit())
        s = head + "." + digits[:6].ljust(6, "0") + rest[len(digits):]
    return datetime.fromisoformat(s).timestamp()

lines = [json.loads(l) for l in open(path) if l.strip()]
tr = [l for l in lines if l.get("type") == "transition"]
fo = next((l for l in tr if l["kind"] == "failover" and ts(l["at"]) >= killed), None)
rec = next((l for l in tr if l["kind"] == "recovery" and ts(l["at"]) >= killed), None)
prim = [l for l in lines if l.get("type") == "primary" and ts(l["at"]) >= killed]
# The lane told cooling_down up to the retry: the last one before the up line.
up = next((l for l in prim if l["to"] == "up"), None)
cool = [l for l in prim if l["to"] == "cooling_down" and l.get("next_try")
        and (up is None or ts(l["at"]) <= ts(up["at"]))]
cool = cool[-1] if cool else None
direct = [l for l in lines if l.get("type") == "direct"]
first_cool = next((l for l in direct if l["state"] == "cooling_down"), None)
# The last sign of the cooldown before the retry: a direct probe refused for it, or a request
# the fallback served.
held = [l for l in lines if (l.get("type") == "direct" and l["state"] == "cooling_down")
        or (l.get("type") == "request" and l["result"] == "fallback")]
last_cool = [l for l in held if up is None or ts(l["sent_at"]) < ts(up["at"])]
last_cool = last_cool[-1] if last_cool else None
summary = next((l for l in lines if l.get("type") == "summary"), {})
r = {
    "mode": mode, "round": n,
    "failover_lag": ts(fo["at"]) - killed if fo else None,
    "recovery_lag": ts(rec["at"]) - restarted if rec else None,
    "recovery_at": ts(rec["at"]) - t0 if rec else None,
    "primary_cooldown_secs": rec.get("primary_cooldown_secs") if rec else None,
    "cooling_seen_at": ts(first_cool["sent_at"]) - t0 if first_cool else None,
    "next_try_at": ts(cool["next_try"]) - t0 if cool else None,
    "up_at": ts(up["at"]) - t0 if up else None,
    "retry_error": ts(up["at"]) - ts(cool["next_try"]) if cool and up else None,
    # The real retry lies between the last probe held back by the cooldown (sent) and the
    # first one the primary served again (answered): is the estimate in that bracket?
    "bracketed": (ts(last_cool["sent_at"]) <= ts(cool["next_try"]) <= ts(up["at"]))
                 if cool and up and last_cool else None,
    "primary_requests": served,
    "failed": summary.get("failed"), "total": summary.get("total"),
    "lane_probes": sum(1 for l in lines if l.get("type") in ("direct", "health")),
}
print(json.dumps(r))
f = lambda v, fmt="%+.2f": "-" if v is None else fmt % v
line = (f"{mode:<5} round {n}: failover {f(r['failover_lag'], '%.2f')} s after the kill,"
        f" recovery {f(r['recovery_lag'], '%.2f')} s after the restart"
        f" (at +{f(r['recovery_at'], '%.2f')} s; lane's cooldown {f(r['primary_cooldown_secs'], '%.1f')} s),"
        f" primary mock got {served:.0f} requests, lane probes {r['lane_probes']}")
if mode != "off":
    line += (f"; first direct 'cooling_down' sent at +{f(r['cooling_seen_at'], '%.2f')} s,"
             f" next_try +{f(r['next_try_at'], '%.2f')} s, up at +{f(r['up_at'], '%.2f')} s"
             f" ({f(r['retry_error'])} s; in the bracket of the probes: {r['bracketed']})")
print(line, file=sys.stderr)
PY
}

for mode in "${modes[@]}"; do
  for n in $(seq 1 "$rounds"); do round "$mode" "$n"; done
done

"$py" - "$work/rounds.jsonl" "$version" "${modes[@]}" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(f"\nlitellm {sys.argv[2]}: recovery lag = the recovery transition minus the restart (s);"
      " at = the recovery, after the first probe (s); primary reqs = what the primary mock received")
print(f"{'mode':<5}{'rounds':>7}{'lag min':>9}{'median':>8}{'max':>7}{'at med':>8}{'failover med':>14}"
      f"{'primary reqs':>14}{'lane probes':>13}  next_try within 1 s of the retry")
for mode in sys.argv[3:]:
    rs = [r for r in rows if r["mode"] == mode]
    lags = [r["recovery_lag"] for r in rs if r["recovery_lag"] is not None]
    fos = [r["failover_lag"] for r in rs if r["failover_lag"] is not None]
    reqs = [r["primary_requests"] for r in rs]
    fmt = lambda v: f"{v:.2f}"
    lag = (fmt(min(lags)), fmt(statistics.median(lags)), fmt(max(lags))) if lags else ("-",) * 3
    if mode != "off":
        errs = [r["retry_error"] for r in rs]
        ok = sum(1 for e in errs if e is not None and abs(e) <= 1.0)
        est = f"{ok}/{len(rs)} (" + ", ".join("-" if e is None else f"{e:+.2f}" for e in errs) + " s)"
        est += f"; in the probes' bracket {sum(1 for r in rs if r['bracketed'])}/{len(rs)}"
    else:
        est = "n/a"
    missing = len(rs) - len(lags)
    ats = [r["recovery_at"] for r in rs if r["recovery_at"] is not None]
    print(f"{mode:<5}{len(rs):>7}{lag[0]:>9}{lag[1]:>8}{lag[2]:>7}"
          f"{(f'+{statistics.median(ats):.2f}' if ats else '-'):>8}"
          f"{(fmt(statistics.median(fos)) if fos else '-'):>14}"
          f"{(f'{statistics.median(reqs):.0f}' if reqs else '-'):>14}"
          f"{statistics.median([r['lane_probes'] for r in rs]) if rs else '-':>13}  {est}"
          + (f"  ({missing} without a recovery)" if missing else ""))
PY
