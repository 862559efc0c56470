#!/usr/bin/env bash
# End-to-end tests of failover-watch against the real LiteLLM proxy (litellm[proxy]==1.83.14).
#
#   tests/e2e/run.sh [SCENARIO...]      (all scenarios when none is named)
#
# Scenarios: seed-verbatim primary-killed primary-500 primary-hang stream-primary-killed both-down
#
# It installs the pinned LiteLLM from tests/e2e/requirements-1.83.14.lock into tests/e2e/.venv (reused
# while it holds exactly that lock), builds the binary (or takes FAILOVER_WATCH_BIN), starts
# mock upstreams (`failover-watch mock-upstream`) and the real proxy on free loopback ports,
# then for each scenario runs `failover-watch --output jsonl`, breaks the upstreams on a
# schedule, and checks what the watcher printed with tests/e2e/check.py. Logs and outputs are
# under tests/e2e/.work/ (kept until the next run). Every process it starts is stopped on
# every exit path. Exit status: 0 when every scenario passed, 1 otherwise.
#
# Environment: FAILOVER_WATCH_BIN (a binary to test instead of building one), CARGO_TARGET_DIR
# (respected when building), E2E_PYTHON (the Python that creates the venv; python3).
set -euo pipefail
set -E # the ERR trap in functions too

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VENV=$HERE/.venv
WORK=$HERE/.work
LOCK=$HERE/requirements-1.83.14.lock
LITELLM_VERSION=1.83.14
PYTHON=${E2E_PYTHON:-python3}

# The story's clock: 1 s between probes, a short router timeout for the hang, the seed's cooldown.
INTERVAL=1
ROUTER_TIMEOUT=3
COOLDOWN=10
ALL_SCENARIOS=(seed-verbatim primary-killed primary-500 primary-hang stream-primary-killed both-down)

export LC_ALL=C.UTF-8 NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

now_us() { local t=${EPOCHREALTIME//[.,]/}; echo "$t"; }
RUN_START=$(now_us)
secs_since() { # START_US -> whole seconds elapsed
  echo $((($(now_us) - $1 + 500000) / 1000000))
}
say() { printf '[e2e %4ss] %s\n' "$(secs_since "$RUN_START")" "$*"; }
die() {
  say "ERROR: $*" >&2
  exit 1
}

# ---------------------------------------------------------------------------------------------
# Processes. Each is started with setsid, so it leads its own session and process group, and
# is stopped by signalling the group. The list is in memory only: everything is started by
# this shell, never by a subshell.
declare -A PROC_PID=() # name -> pid (== pgid == sid)
SLEEP_PID=

spawn() { # NAME STDOUT STDERR CMD... : starts CMD in a new session; output appended to the files
  local name=$1 out=$2 err=$3
  shift 3
  setsid "$@" </dev/null >>"$out" 2>>"$err" &
  PROC_PID[$name]=$!
}

alive() { # PID: running and not a zombie
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ -n $state && $state != Z* ]]
}

session_members() { # SID -> pids of live processes in that session
  ps -e -o sid=,pid=,stat= | awk -v s="$1" '$1 == s && $3 !~ /^Z/ { print $2 }'
}

stop_proc() { # NAME [SIGNAL]: signals the group, waits (bounded) for the session to empty
  local name=$1 sig=${2:-TERM} pid i
  pid=${PROC_PID[$name]:-}
  [[ -n $pid ]] || return 0
  kill -"$sig" -- -"$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    [[ -z $(session_members "$pid") ]] && break
    sleep 0.05
  done
  if [[ -n $(session_members "$pid") ]]; then
    say "$name (pid $pid) ignored SIG$sig for 5 s: killing it"
    kill -KILL -- -"$pid" 2>/dev/null || true
    for pid2 in $(session_members "$pid"); do kill -KILL "$pid2" 2>/dev/null || true; done
  fi
  wait "$pid" 2>/dev/null || true
  unset "PROC_PID[$name]"
}

stop_all() {
  local name pid left=()
  if [[ -n $SLEEP_PID ]]; then kill "$SLEEP_PID" 2>/dev/null || true; fi
  ((${#PROC_PID[@]})) || return 0
  # Signal every group first, so they stop in parallel, then wait for each.
  for name in "${!PROC_PID[@]}"; do kill -TERM -- -"${PROC_PID[$name]}" 2>/dev/null || true; done
  for name in "${!PROC_PID[@]}"; do
    pid=${PROC_PID[$name]}
    stop_proc "$name"
    [[ -n $(session_members "$pid") ]] && left+=("$name")
  done
  if ((${#left[@]})); then
    say "ERROR: still running after cleanup: ${left[*]}" >&2
    return 1
  fi
}

on_exit() {
  local rc=$?
  trap - EXIT INT TERM ERR
  # The reader of our output may be gone (a Ctrl-C also ends `| tee`): a failed write must
  # not stop the cleanup.
  trap '' PIPE
  set +e
  local names=${!PROC_PID[*]}
  [[ -n $SIGNALLED ]] && say "$SIGNALLED: stopping what runs: ${names:-nothing}"
  if ! stop_all; then rc=1; fi
  [[ -n $names ]] && say "stopped: $names"
  exit "$rc"
}
on_err() {
  say "ERROR: '$2' failed (status $1) at line $3 of run.sh" >&2
}
SIGNALLED=
trap on_exit EXIT
trap 'trap "" PIPE; SIGNALLED=interrupted; exit 130' INT
trap 'trap "" PIPE; SIGNALLED=terminated; exit 143' TERM
trap 'on_err $? "$BASH_COMMAND" $LINENO' ERR

run_in_session() { # NAME STDOUT STDERR CMD...: runs CMD like spawn and waits for it; its status
  local name=$1 rc=0
  spawn "$@"
  wait "${PROC_PID[$name]}" || rc=$?
  unset "PROC_PID[$name]"
  return "$rc"
}

pause() { # SECONDS: lets real time pass, interruptible by a signal
  sleep "$1" &
  SLEEP_PID=$!
  wait "$SLEEP_PID"
  SLEEP_PID=
}

sleep_until() { # EPOCH_US
  local wait_us=$(($1 - $(now_us)))
  ((wait_us > 0)) && pause "$(printf '%d.%06d' $((wait_us / 1000000)) $((wait_us % 1000000)))"
  return 0
}

# ---------------------------------------------------------------------------------------------
# The virtual environment, from the lock.
venv_python_ok() {
  [[ -x $VENV/bin/python ]] || return 1
  "$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null
}

# The install runs in the background while the binary builds (pip mostly waits for the network
# and the disk, cargo for the CPU): start_venv, then finish_venv.
VENV_PID='' VENV_START='' LOCK_SHA=''

start_venv() {
  local want have stamp=$VENV/.e2e-lock.sha256
  command -v "$PYTHON" >/dev/null || die "no $PYTHON on PATH (E2E_PYTHON names the Python that creates the venv)"
  want=$(sed -n 's/^# python_version: //p' "$LOCK")
  have=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  [[ $have == "$want" ]] ||
    die "requirements-1.83.14.lock was made for Python $want, $PYTHON is $have (its wheels' hashes would not match): run tests/e2e/lock.sh with that Python, or set E2E_PYTHON"
  LOCK_SHA=$(sha256sum "$LOCK" | cut -d' ' -f1)
  if [[ -f $stamp && $(<"$stamp") == "$LOCK_SHA" ]] && [[ $(venv_python_ok) == "$want" ]]; then
    say "venv: $VENV already holds requirements-1.83.14.lock ($LOCK_SHA), reused"
    return 0
  fi
  VENV_START=$(now_us)
  say "venv: installing requirements-1.83.14.lock into $VENV (takes 1-3 min; log: $WORK/logs/pip-install.log)"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  spawn pip "$WORK/logs/pip-install.log" "$WORK/logs/pip-install.log" \
    "$VENV/bin/python" -m pip install --no-input --disable-pip-version-check --progress-bar off \
    --require-hashes --no-deps --only-binary=:all: -r "$LOCK"
  VENV_PID=${PROC_PID[pip]}
}

finish_venv() {
  if [[ -n $VENV_PID ]]; then
    local rc=0
    wait "$VENV_PID" || rc=$?
    unset "PROC_PID[pip]"
    VENV_PID=
    if ((rc != 0)); then
      tail -n 40 "$WORK/logs/pip-install.log" >&2
      rm -rf "$VENV"
      die "pip could not install requirements-1.83.14.lock (status $rc; whole log: $WORK/logs/pip-install.log)"
    fi
    if ! "$VENV/bin/python" -m pip check >"$WORK/logs/pip-check.log" 2>&1; then
      cat "$WORK/logs/pip-check.log" >&2
      rm -rf "$VENV"
      die "pip check: requirements-1.83.14.lock misses or breaks a dependency"
    fi
    echo "$LOCK_SHA" >"$VENV/.e2e-lock.sha256"
    say "venv: installed $(grep -c '^[A-Za-z]' "$LOCK") packages in $(secs_since "$VENV_START") s"
  fi
  # A .pth file runs code at every interpreter start: the malicious 1.82.7/1.82.8 used one.
  local pth version
  pth=$(find "$VENV" -name '*.pth' -printf '%f\n' | sort | tr '\n' ' ')
  [[ $pth == "distutils-precedence.pth " ]] ||
    die "unexpected .pth files in the venv: '$pth' (only distutils-precedence.pth belongs there); remove $VENV and look at the lock"
  version=$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("litellm"))')
  [[ $version == "$LITELLM_VERSION" ]] || die "the venv holds litellm $version, not $LITELLM_VERSION"
  say "venv: litellm $version, .pth files: ${pth% }"
}

# ---------------------------------------------------------------------------------------------
# The binary.
locate_binary() {
  if [[ -n ${FAILOVER_WATCH_BIN:-} ]]; then
    BIN=$FAILOVER_WATCH_BIN
    [[ -x $BIN ]] || die "FAILOVER_WATCH_BIN=$BIN is not an executable file"
    say "binary: $BIN (FAILOVER_WATCH_BIN)"
    return
  fi
  local start target
  start=$(now_us)
  run_in_session cargo /dev/stderr /dev/stderr cargo build --quiet --bin failover-watch \
    --manifest-path "$ROOT/Cargo.toml" || die "cargo build failed"
  target=$(cargo metadata --format-version 1 --no-deps |
    "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
  BIN=$target/debug/failover-watch
  [[ -x $BIN ]] || die "cargo build left no $BIN"
  say "binary: $BIN (cargo build, $(secs_since "$start") s)"
}

# ---------------------------------------------------------------------------------------------
# Mock upstreams and proxies.
declare -A MOCK_PORT=() MOCK_ARGS=()

start_mock() { # NAME API MODEL REPLY [PORT]: waits for its "listening on" line
  local name=$1 api=$2 model=$3 reply=$4 port=${5:-0} log=$WORK/logs/$1.log pid i line=
  MOCK_ARGS[$name]="$api $model $reply"
  : >"$log.stdout"
  spawn "$name" "$log.stdout" "$log" \
    "$BIN" mock-upstream --api "$api" --listen "127.0.0.1:$port" --model "$model" --reply "$reply"
  pid=${PROC_PID[$name]}
  # The mock prints `listening on http://127.0.0.1:PORT` once it accepts connections.
  local pattern='^listening on http://127\.0\.0\.1:([0-9]+)$'
  for ((i = 0; i < 200; i++)); do
    line=$(head -n 1 "$log.stdout")
    [[ $line =~ $pattern ]] && break
    alive "$pid" || break
    sleep 0.05
  done
  [[ $line =~ $pattern ]] || {
    cat "$log" >&2
    die "mock $name did not say it was listening within 10 s (it printed '$line')"
  }
  MOCK_PORT[$name]=${BASH_REMATCH[1]}
}

mock() { # NAME: starts it (again, on the same port when it ran before)
  local name=$1 api model reply
  read -r api model reply <<<"${MOCK_ARGS[$name]}"
  start_mock "$name" "$api" "$model" "$reply" "${MOCK_PORT[$name]:-0}"
}

new_mock() { # NAME API MODEL REPLY
  MOCK_ARGS[$1]="$2 $3 $4"
  mock "$1"
}

mock_mode() { # NAME MODE
  local answer
  answer=$(curl -sS --max-time 5 -X POST -d "$2" "http://127.0.0.1:${MOCK_PORT[$1]}/__mock/mode") ||
    die "cannot switch mock $1 to $2"
  [[ $answer == *"\"mode\":\"$2\""* ]] || die "mock $1 answered '$answer' to mode $2"
}

free_port() { # a port free now on 127.0.0.1, not already given to another proxy
  local port
  while :; do
    port=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    [[ " ${PROXY_PORT[*]} " == *" $port "* ]] || break
  done
  echo "$port"
}

declare -A PROXY_PORT=() PROXY_STARTED=()

start_proxy() { # NAME TEMPLATE PRIMARY_MOCK FALLBACK_MOCK: starts it, does not wait
  local name=$1 template=$2 config=$WORK/$1.yaml port
  sed -e "s#@PRIMARY_BASE@#http://127.0.0.1:${MOCK_PORT[$3]}#" \
    -e "s#@FALLBACK_BASE@#http://127.0.0.1:${MOCK_PORT[$4]}#" \
    -e "s#@ROUTER_TIMEOUT@#$ROUTER_TIMEOUT#" -e "s#@COOLDOWN@#$COOLDOWN#" \
    "$HERE/$template" >"$config"
  ! grep -n '@[A-Z_]*@' "$config" || die "unfilled placeholder in $config"
  port=$(free_port)
  PROXY_PORT[$name]=$port
  PROXY_STARTED[$name]=$(now_us)
  mkdir -p "$WORK/home"
  # A clean environment: no OPENAI_API_KEY (the seed-verbatim scenario depends on it), no
  # proxy variables, nothing of the caller's LiteLLM settings.
  spawn "$name" "$WORK/logs/$name.log" "$WORK/logs/$name.log" \
    env -i PATH="$PATH" HOME="$WORK/home" LANG=C.UTF-8 \
    NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost LITELLM_LOCAL_MODEL_COST_MAP=True \
    "$VENV/bin/litellm" --config "$config" --host 127.0.0.1 --port "$port" --telemetry False
}

wait_proxy() { # NAME: polls GET /health/liveliness (no key needed), 120 s at most
  local name=$1 port=${PROXY_PORT[$1]} pid=${PROC_PID[$1]} version deadline
  deadline=$((${PROXY_STARTED[$1]} + 120 * 1000000))
  while (($(now_us) < deadline)); do
    if curl -fsS --max-time 2 -o /dev/null "http://127.0.0.1:$port/health/liveliness" 2>/dev/null; then
      version=$(curl -fsS --max-time 5 "http://127.0.0.1:$port/health/readiness" |
        "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin).get("litellm_version"))')
      [[ $version == "$LITELLM_VERSION" ]] || die "proxy $name reports litellm $version"
      say "proxy $name: ready on 127.0.0.1:$port after $(secs_since "${PROXY_STARTED[$name]}") s (litellm $version)"
      return 0
    fi
    if ! alive "$pid"; then
      tail -n 40 "$WORK/logs/$name.log" >&2
      die "proxy $name exited before it was ready (log: $WORK/logs/$name.log)"
    fi
    sleep 0.25
  done
  tail -n 40 "$WORK/logs/$name.log" >&2
  die "proxy $name not ready 120 s after its start"
}

chat() { # PORT MODEL: one non-streaming request; prints the response headers
  curl -sS --max-time 10 -o /dev/null -D - -H 'Authorization: Bearer sk-test' \
    -H 'Content-Type: application/json' \
    -d "{\"model\":\"$2\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hi\"}],\"max_tokens\":5}" \
    "http://127.0.0.1:$1/v1/chat/completions" 2>/dev/null | tr -d '\r' || true
}

settle() { # PROXY: waits (30 s at most) until the primary serves and the fallback is out of cooldown
  local port=${PROXY_PORT[$1]} i start headers p_ok='' f_ok=''
  start=$(now_us)
  for ((i = 0; i < 60; i++)); do
    if [[ -z $p_ok ]]; then
      headers="$(chat "$port" llama-fp8)"$'\n'
      [[ $headers == "HTTP/1.1 200"* && $headers == *$'\nx-litellm-model-group: llama-fp8\n'* &&
        $headers == *$'\nx-litellm-attempted-fallbacks: 0\n'* ]] && p_ok=1
    fi
    if [[ -z $f_ok ]]; then
      headers="$(chat "$port" llama3)"$'\n'
      [[ $headers == "HTTP/1.1 200"* && $headers == *$'\nx-litellm-model-group: llama3\n'* ]] && f_ok=1
    fi
    [[ -n $p_ok && -n $f_ok ]] && return 0
    sleep 0.5
  done
  die "proxy $1: the primary and the fallback did not both serve within 30 s (primary ok: ${p_ok:-no}, fallback ok: ${f_ok:-no})"
}

our_pids() { # the live processes started here, each session whole
  local name
  for name in "${!PROC_PID[@]}"; do session_members "${PROC_PID[$name]}"; done
}

our_sockets() { # SS_FLAGS: `ss -H SS_FLAGS -p` lines of the processes started here
  # Netid State Recv-Q Send-Q Local:Port Peer:Port users:(("name",pid=N,fd=M))
  local pids
  pids=$(our_pids | paste -sd '|')
  [[ -n $pids ]] || return 0
  ss -H "$1" -p | grep -E "pid=($pids)," || true
}

check_loopback_only() { # every socket our processes listen on is on 127.0.0.1
  local listening bad
  listening=$(our_sockets -ltun)
  [[ -n $listening ]] || die "ss shows no listening socket of ours: cannot check where we listen"
  bad=$(awk '$5 !~ /^127\.0\.0\.1:/' <<<"$listening")
  [[ -z $bad ]] || die "listening beyond 127.0.0.1: $bad"
  say "sockets: the $(wc -l <<<"$listening") listening sockets of the $(our_pids | wc -l) processes started here are all on 127.0.0.1"
}

foreign_peers() { # prints every socket of ours connected (or connecting) beyond loopback
  our_sockets -tuan | awk '$6 !~ /^(127\.[0-9.]+|\[::1\]|\[::ffff:127\.[0-9.]+\]):[0-9]+$/ &&
    $6 !~ /^(0\.0\.0\.0|\*|\[::\]):\*$/'
}

# ---------------------------------------------------------------------------------------------
# Scenarios. Each: settle, note the mocks' counters, start the watcher, act on a schedule
# relative to its start (at half intervals, between two probes), then check its output.
SDIR='' T0='' MARKERS='' PROXY=''

marker() { # EVENT: when the runner did something
  printf '{"event": "%s", "at": %s}\n' "$1" "${EPOCHREALTIME/,/.}" >>"$MARKERS"
}

stats() { # MOCK LABEL: the mock's own counters, recorded under its role (primary|fallback)
  local json at=${EPOCHREALTIME/,/.}
  json=$(curl -fsS --max-time 5 "http://127.0.0.1:${MOCK_PORT[$1]}/__mock") || die "GET /__mock of $1 failed"
  # {"api":...,"stats":{"completions":N,"requests":N}}
  [[ $json =~ \"stats\":(\{[^{}]*\}) ]] || die "GET /__mock of $1 answered '$json'"
  printf '{"event": "stats", "mock": "%s", "label": "%s", "at": %s, "stats": %s}\n' \
    "${1##*-}" "$2" "$at" "${BASH_REMATCH[1]}" >>"$MARKERS"
}

at() { # SECONDS (may be fractional, one decimal): sleeps until that long after the first probe left
  local tenths=${1/./}
  [[ $1 == *.* ]] || tenths=$((10#$1 * 10))
  sleep_until $((T0 + 10#$tenths * 100000))
}

begin_scenario() { # NAME PROXY
  SDIR=$WORK/$1
  PROXY=$2
  rm -rf "$SDIR"
  mkdir -p "$SDIR"
  MARKERS=$SDIR/markers.jsonl
  : >"$MARKERS"
  PROXY_LOG_OFFSET=$(stat -c %s "$WORK/logs/$PROXY.log")
}

PASSED=() FAILED=()

finish_scenario() { # NAME START_US: checks the watcher's output (after finish_watch)
  local name=$1 start=$2 rc=$WATCH_RC
  local verdict=pass foreign
  if ((rc != 0)); then
    echo "  FAIL the watcher exited with status $rc"
    verdict=fail
  fi
  # Nothing leaves 127.0.0.1: a sample of every connection of the proxy and the mocks.
  foreign=$(foreign_peers)
  if [[ -n $foreign ]]; then
    echo "  FAIL connections beyond 127.0.0.1:"
    sed 's/^/  | /' <<<"$foreign"
    verdict=fail
  fi
  if ! timeout 60 "$PYTHON" "$HERE/check.py" "$name" "$SDIR" --interval "$INTERVAL" \
    --router-timeout "$ROUTER_TIMEOUT" --cooldown "$COOLDOWN" >"$SDIR/check.log" 2>&1; then
    verdict=fail
  fi
  if [[ $verdict == pass ]]; then
    PASSED+=("$name")
    echo "PASS $name ($(secs_since "$start") s)"
  else
    FAILED+=("$name")
    cat "$SDIR/check.log"
    if [[ -s $SDIR/watch.err ]]; then
      echo "  the watcher's stderr ($SDIR/watch.err), last 20 lines:"
      tail -n 20 "$SDIR/watch.err" | sed 's/^/  | /'
    fi
    echo "  proxy log ($WORK/logs/$PROXY.log) during the scenario, last 30 lines:"
    tail -c +$((PROXY_LOG_OFFSET + 1)) "$WORK/logs/$PROXY.log" | tail -n 30 | sed 's/^/  | /'
    echo "FAIL $name ($(secs_since "$start") s): evidence above, files in $SDIR"
  fi
}

set_t0_from() { # FILE: T0 = the epoch µs the watcher's first answered probe left, from FILE
  # Probes leave every interval from then on: the faults are timed from it, half an interval
  # away from any probe, however long the watcher took to start.
  local deadline=$(($(now_us) + 15000000)) sent=''
  while (($(now_us) < deadline)); do
    sent=$(grep -m1 -o '"sent_at":"[^"]*"' "$1" 2>/dev/null) && break
    pause 0.02
  done
  [[ $sent =~ \"sent_at\":\"([^\"]+)\" ]] || die "the watcher printed no request within 15 s"
  T0=$(date -d "${BASH_REMATCH[1]}" +%s%6N) || die "cannot read the time ${BASH_REMATCH[1]}"
}

run_watch() { # DURATION_S [ARGS...]: starts the watcher, its stdout in watch.jsonl
  local duration=$1
  shift
  # A clean environment here too: only the key, and no FAILOVER_WATCH_* of the caller's.
  spawn watch "$SDIR/watch.jsonl" "$SDIR/watch.err" timeout -k 5 $((duration + 30)) \
    env -i PATH="$PATH" HOME="$WORK/home" LITELLM_API_KEY=sk-test \
    NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost RUST_BACKTRACE=1 \
    "$BIN" --url "http://127.0.0.1:${PROXY_PORT[$PROXY]}" --primary llama-fp8 \
    --interval "${INTERVAL}s" --duration "${duration}s" --timeout 10s --output jsonl \
    --log-file "$SDIR/failover-watch.log" "$@"
  set_t0_from "$SDIR/watch.jsonl"
}

finish_watch_then_stats() { # PRIMARY_MOCK FALLBACK_MOCK: waits for the watcher, notes counters
  local pid=${PROC_PID[watch]}
  WATCH_RC=0
  wait "$pid" || WATCH_RC=$?
  # Anything left in its session (it should have none) goes too.
  stop_proc watch
  stats "$1" after
  stats "$2" after
}

prepare() { # PROXY PRIMARY_MOCK FALLBACK_MOCK
  settle "$1"
  stats "$2" before
  stats "$3" before
}

scenario_seed_verbatim() {
  local start
  start=$(now_us)
  begin_scenario seed-verbatim seed-proxy
  # The point of this scenario: the proxy has no OPENAI_API_KEY to fall back on.
  ! tr '\0' '\n' <"/proc/${PROC_PID[seed-proxy]}/environ" | grep -q '^OPENAI_API_KEY=' ||
    die "the seed-verbatim proxy has OPENAI_API_KEY in its environment"
  stats seed-primary before
  stats seed-fallback before
  run_watch 8
  finish_watch_then_stats seed-primary seed-fallback
  finish_scenario seed-verbatim "$start"
}

# The kill/restart story, plain or streaming.
scenario_killed() { # NAME [--stream]
  local name=$1 start
  shift
  start=$(now_us)
  begin_scenario "$name" proxy
  prepare proxy primary fallback
  run_watch 30 "$@"
  at 5.5
  stats primary before-kill
  stop_proc primary
  marker primary-down
  at 12.5
  mock primary
  marker primary-up
  finish_watch_then_stats primary fallback
  finish_scenario "$name" "$start"
}

scenario_500() {
  local start
  start=$(now_us)
  begin_scenario primary-500 proxy
  prepare proxy primary fallback
  run_watch 30
  at 5.5
  mock_mode primary 500
  marker primary-500
  at 12.5
  mock_mode primary ok
  marker primary-ok
  finish_watch_then_stats primary fallback
  finish_scenario primary-500 "$start"
}

scenario_hang() {
  local start
  start=$(now_us)
  begin_scenario primary-hang proxy
  prepare proxy primary fallback
  run_watch 32
  at 5.5
  mock_mode primary hang
  marker primary-hang
  at 12.5
  mock_mode primary ok
  marker primary-ok
  finish_watch_then_stats primary fallback
  finish_scenario primary-hang "$start"
}

scenario_both_down() {
  local start
  start=$(now_us)
  begin_scenario both-down proxy
  prepare proxy primary fallback
  run_watch 30
  at 5.5
  kill -TERM -- -"${PROC_PID[primary]}" -"${PROC_PID[fallback]}"
  stop_proc primary
  stop_proc fallback
  marker both-down
  at 11.5
  mock primary
  mock fallback
  marker both-up
  finish_watch_then_stats primary fallback
  finish_scenario both-down "$start"
}

# ---------------------------------------------------------------------------------------------
main() {
  local scenarios=("$@") s known
  ((${#scenarios[@]})) || scenarios=("${ALL_SCENARIOS[@]}")
  for s in "${scenarios[@]}"; do
    known=
    for k in "${ALL_SCENARIOS[@]}"; do [[ $s == "$k" ]] && known=1; done
    [[ -n $known ]] || die "unknown scenario '$s' (known: ${ALL_SCENARIOS[*]})"
  done
  local want_seed='' want_main=''
  for s in "${scenarios[@]}"; do
    if [[ $s == seed-verbatim ]]; then want_seed=1; else want_main=1; fi
  done

  cd "$ROOT"
  rm -rf "$WORK"
  mkdir -p "$WORK/logs"
  say "work dir: $WORK"
  start_venv
  locate_binary
  finish_venv

  if [[ -n $want_main ]]; then
    new_mock primary openai llama-fp8 Hi.
    new_mock fallback ollama llama3 Hello!
    start_proxy proxy config.yaml.in primary fallback
  fi
  if [[ -n $want_seed ]]; then
    new_mock seed-primary openai llama-fp8 Hi.
    new_mock seed-fallback ollama llama3 Hello!
    start_proxy seed-proxy config-seed-verbatim.yaml.in seed-primary seed-fallback
  fi
  [[ -z $want_main ]] || wait_proxy proxy
  [[ -z $want_seed ]] || wait_proxy seed-proxy
  check_loopback_only

  for s in "${scenarios[@]}"; do
    say "scenario $s"
    case $s in
    seed-verbatim)
      scenario_seed_verbatim
      # Done with the second proxy: give its CPU back to the others.
      stop_proc seed-proxy
      stop_proc seed-primary
      stop_proc seed-fallback
      ;;
    primary-killed) scenario_killed primary-killed ;;
    stream-primary-killed) scenario_killed stream-primary-killed --stream ;;
    primary-500) scenario_500 ;;
    primary-hang) scenario_hang ;;
    both-down) scenario_both_down ;;
    esac
  done

  say "whole run: $(secs_since "$RUN_START") s"
  ((${#FAILED[@]} == 0)) || say "failed: ${FAILED[*]}"
  echo "e2e: ${#PASSED[@]} passed, ${#FAILED[@]} failed"
  ((${#FAILED[@]} == 0)) || exit 1
}

main "$@"
