#!/usr/bin/env bash
# End-to-end tests of failover-watch against the real LiteLLM proxy, on every LiteLLM version in
# VERSIONS below (1.83.14 and 1.106.12), each scenario on each version.
#
#   tests/e2e/run.sh [SCENARIO...]      (all scenarios when none is named)
#
# Scenarios: seed-verbatim many-targets primary-killed primary-500 primary-hang
# stream-primary-killed both-down fallback-of-two drill-pass drill-budget drill-interrupted
# drill-down-fails drill-only-target
#
# For each version it installs litellm[proxy]==VERSION from tests/e2e/requirements-VERSION.lock
# into tests/e2e/.venv/VERSION (reused while it holds exactly that lock); the installs run in
# the background while the binary builds (or FAILOVER_WATCH_BIN is taken). Then it runs one lane
# per version, the lanes side by side: a lane is this script again (`--lane VERSION`) with its
# own mock upstreams (`failover-watch mock-upstream`) and real proxies on its own free loopback
# ports. For each scenario a lane runs `failover-watch --output jsonl` (and `--record`), breaks
# the upstreams on a schedule (dropping a marker first with `failover-watch mark` where it kills
# the primary), replays the record (`failover-watch replay --instant`, as JSON lines and as
# text), runs `failover-watch check` on the proxy (before the faults; after the run on the
# seed-verbatim proxy), and checks it all with tests/e2e/check.py. In primary-killed a second
# watcher exports its metrics (`--output none --metrics-listen`), scraped every second by a real
# Prometheus (started with the lane's proxies), whose HTTP API check.py then queries, and
# promtool checks one raw scrape. In many-targets the watcher of four targets exports its
# metrics to a Prometheus of the scenario's own, and the same targets are then shown on the
# dashboard in tmux (a server of the scenario's own). Each result names
# its version (`PASS primary-killed @1.106.12 (31 s)`); the evidence of failed ones comes after
# the lanes are done, then the results per version, then, last, `e2e: N passed, N failed`.
# Logs and outputs are under tests/e2e/.work/VERSION/ (kept until the next run). Every process
# it starts is stopped on every exit path. Exit status: 0 when every scenario passed on every
# version, 1 otherwise.
#
# Environment: FAILOVER_WATCH_BIN (a binary to test instead of building one), CARGO_TARGET_DIR
# (respected when building), E2E_PYTHON (the Python that creates the venvs; python3),
# E2E_VERSIONS (some of VERSIONS only, e.g. "1.106.12"), E2E_PARALLEL=0 (the lanes one after
# the other instead of side by side).
set -euo pipefail
set -E # the ERR trap in functions too

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=$HERE/.work
PYTHON=${E2E_PYTHON:-python3}

# The LiteLLM versions under test, each with its lock tests/e2e/requirements-VERSION.lock.
VERSIONS=(1.83.14 1.106.12)

# The story's clock: 1 s between probes; the seed's router timeout and cooldown.
INTERVAL=1
ROUTER_TIMEOUT=30
COOLDOWN=10
ALL_SCENARIOS=(seed-verbatim many-targets primary-killed primary-500 primary-hang stream-primary-killed
  both-down fallback-of-two drill-pass drill-budget drill-interrupted drill-down-fails
  drill-only-target)

export LC_ALL=C.UTF-8 NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

now_us() { local t=${EPOCHREALTIME//[.,]/}; echo "$t"; }
# A lane counts its seconds from the start of the whole run, like the main runner.
RUN_START=${E2E_RUN_START:-$(now_us)}
secs_since() { # START_US -> whole seconds elapsed
  echo $((($(now_us) - $1 + 500000) / 1000000))
}
LANE='' # the version a lane tests; empty in the main runner
say() { printf '[e2e%s %4ss] %s\n' "${LANE:+ $LANE}" "$(secs_since "$RUN_START")" "$*"; }
die() {
  say "ERROR: $*" >&2
  exit 1
}

# ---------------------------------------------------------------------------------------------
# Processes. Each is started with setsid, so it leads its own session and process group, and
# is stopped by signalling the group. The list is in memory only: everything is started by
# this shell, never by a subshell. A lane (a process of the main runner) also writes what it
# starts to PIDS_FILE, so that the main runner can stop what a lane killed by force left behind.
declare -A PROC_PID=()   # name -> pid (== pgid == sid)
declare -A PROC_GRACE=() # name -> seconds it gets to stop after SIGTERM (5 unless set)
SLEEP_PID=
PIDS_FILE=

spawn() { # NAME STDOUT STDERR CMD... : starts CMD in a new session; output appended to the
  # files, or written to this shell's own stdout and stderr when both are '-'
  local name=$1 out=$2 err=$3
  shift 3
  if [[ $out == - && $err == - ]]; then
    setsid "$@" </dev/null &
  else
    setsid "$@" </dev/null >>"$out" 2>>"$err" &
  fi
  PROC_PID[$name]=$!
  [[ -z $PIDS_FILE ]] || echo "$name $! $(start_time $!)" >>"$PIDS_FILE"
}

start_time() { # PID: when it started (clock ticks since boot), to tell it from a later namesake
  local stat
  stat=$(<"/proc/$1/stat") 2>/dev/null || return 0
  stat=${stat##*) } # the fields after the command's name, from the 3rd on
  read -r -a stat <<<"$stat"
  echo "${stat[19]}"
}

alive() { # PID: running and not a zombie
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ -n $state && $state != Z* ]]
}

session_members() { # SID -> pids of live processes in that session
  ps -e -o sid=,pid=,stat= | awk -v s="$1" '$1 == s && $3 !~ /^Z/ { print $2 }'
}

kill_session() { # SID: SIGKILL to its group and to every process left in it
  local pid
  kill -KILL -- -"$1" 2>/dev/null || true
  for pid in $(session_members "$1"); do kill -KILL "$pid" 2>/dev/null || true; done
}

stop_proc() { # NAME [SIGNAL]: signals the group, waits (bounded) for the session to empty
  local name=$1 sig=${2:-TERM} pid i grace
  pid=${PROC_PID[$name]:-}
  [[ -n $pid ]] || return 0
  grace=${PROC_GRACE[$name]:-5}
  kill -"$sig" -- -"$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 20; i++)); do
    [[ -z $(session_members "$pid") ]] && break
    sleep 0.05
  done
  if [[ -n $(session_members "$pid") ]]; then
    say "$name (pid $pid) ignored SIG$sig for $grace s: killing it"
    kill_session "$pid"
  fi
  wait "$pid" 2>/dev/null || true
  unset "PROC_PID[$name]"
}

stop_all() {
  local name pid left=()
  if [[ -n $SLEEP_PID ]]; then kill "$SLEEP_PID" 2>/dev/null || true; fi
  if ((${#PROC_PID[@]})); then
    # Signal every group first, so they stop in parallel, then wait for each.
    for name in "${!PROC_PID[@]}"; do kill -TERM -- -"${PROC_PID[$name]}" 2>/dev/null || true; done
    for name in "${!PROC_PID[@]}"; do
      pid=${PROC_PID[$name]}
      stop_proc "$name"
      [[ -n $(session_members "$pid") ]] && left+=("$name")
    done
  fi
  # The main runner: whatever a lane started and left running (only if the lane was killed).
  [[ -n $LANE ]] || sweep_lanes || left+=(lanes)
  if ((${#left[@]})); then
    say "ERROR: still running after cleanup: ${left[*]}" >&2
    return 1
  fi
}

sweep_lane() { # VERSION: kills what that lane started and left running; fails when there was any
  local file=$WORK/$1/pids name pid started now left=()
  [[ -f $file ]] || return 0
  while read -r name pid started; do
    [[ -n $(session_members "$pid") ]] || continue
    # A session outlives its leader, and its id is not reused while it has members; but a
    # leader that ended with its whole session leaves its pid free for another process.
    now=$(start_time "$pid")
    [[ -z $now || $now == "$started" ]] || continue
    left+=("$name")
    kill_session "$pid"
  done <"$file"
  ((${#left[@]} == 0)) && return 0
  sleep 0.2
  say "ERROR: lane $1 left these running; killed: ${left[*]}" >&2
  return 1
}

LANES_STARTED=''

sweep_lanes() { # every lane's leftovers (after the lanes are stopped)
  local file rc=0
  [[ -n $LANES_STARTED ]] || return 0 # the pids files of an earlier run are not ours
  for file in "$WORK"/*/pids; do
    [[ -f $file ]] || continue
    sweep_lane "$(basename "$(dirname "$file")")" || rc=1
  done
  return "$rc"
}

on_exit() {
  local rc=$?
  trap - EXIT ERR
  # Nor a signal during the cleanup, however it began; SIGKILL still ends it (stop_proc, after
  # the lane's grace).
  trap '' INT TERM
  # The reader of our output may be gone (a Ctrl-C also ends `| tee`): a failed write must
  # not stop the cleanup.
  trap '' PIPE
  set +e
  local names=${!PROC_PID[*]}
  [[ -n $SIGNALLED ]] && say "$SIGNALLED: stopping what runs: ${names:-nothing}"
  if ! stop_all; then rc=1; fi
  [[ -n $names ]] && say "stopped: $names"
  [[ -z ${RUNTIME_TMP:-} ]] || rm -rf "$RUNTIME_TMP"
  exit "$rc"
}
on_err() {
  say "ERROR: '$2' failed (status $1) at line $3 of run.sh" >&2
}
SIGNALLED=
trap on_exit EXIT
# A second signal (the main runner signals a lane's group twice: all lanes first, then each
# as it waits for it) must not cut the cleanup short: ignored from the first one on.
trap 'trap "" PIPE INT TERM; SIGNALLED=interrupted; exit 130' INT
trap 'trap "" PIPE INT TERM; SIGNALLED=terminated; exit 143' TERM
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

# =============================================================================================
# The main runner: the virtual environments, the binary, the lanes, the results.

# The virtual environments, one per version, from the locks.
venv_python_ok() { # VENV
  [[ -x $1/bin/python ]] || return 1
  "$1/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null
}

# The installs run in the background while the binary builds (pip mostly waits for the network
# and the disk, cargo for the CPU): start_venv, then finish_venv, for each version.
declare -A VENV_PID=() VENV_START=() LOCK_SHA=()

start_venv() { # VERSION
  local v=$1 venv=$HERE/.venv/$1 lock=$HERE/requirements-$1.lock want have
  local stamp=$venv/.e2e-lock.sha256 name=requirements-$1.lock
  command -v "$PYTHON" >/dev/null || die "no $PYTHON on PATH (E2E_PYTHON names the Python that creates the venvs)"
  [[ -f $lock ]] || die "no $lock: tests/e2e/lock.sh $v writes it"
  want=$(sed -n 's/^# python_version: //p' "$lock")
  have=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  [[ $have == "$want" ]] ||
    die "$name was made for Python $want, $PYTHON is $have (its wheels' hashes would not match): run tests/e2e/lock.sh $v with that Python, or set E2E_PYTHON"
  LOCK_SHA[$v]=$(sha256sum "$lock" | cut -d' ' -f1)
  if [[ -f $stamp && $(<"$stamp") == "${LOCK_SHA[$v]}" ]] && [[ $(venv_python_ok "$venv") == "$want" ]]; then
    say "venv $v: $venv already holds $name (${LOCK_SHA[$v]}), reused"
    return 0
  fi
  VENV_START[$v]=$(now_us)
  say "venv $v: installing $name into $venv (takes 1-3 min; log: $WORK/logs/pip-install-$v.log)"
  rm -rf "$venv"
  mkdir -p "$HERE/.venv"
  "$PYTHON" -m venv "$venv"
  spawn "pip-$v" "$WORK/logs/pip-install-$v.log" "$WORK/logs/pip-install-$v.log" \
    "$venv/bin/python" -m pip install --no-input --disable-pip-version-check --progress-bar off \
    --require-hashes --no-deps --only-binary=:all: -r "$lock"
  VENV_PID[$v]=${PROC_PID[pip-$v]}
}

finish_venv() { # VERSION
  local v=$1 venv=$HERE/.venv/$1 lock=$HERE/requirements-$1.lock name=requirements-$1.lock
  if [[ -n ${VENV_PID[$v]:-} ]]; then
    local rc=0
    wait "${VENV_PID[$v]}" || rc=$?
    unset "PROC_PID[pip-$v]" "VENV_PID[$v]"
    if ((rc != 0)); then
      tail -n 40 "$WORK/logs/pip-install-$v.log" >&2
      rm -rf "$venv"
      die "pip could not install $name (status $rc; whole log: $WORK/logs/pip-install-$v.log)"
    fi
    if ! "$venv/bin/python" -m pip check >"$WORK/logs/pip-check-$v.log" 2>&1; then
      cat "$WORK/logs/pip-check-$v.log" >&2
      rm -rf "$venv"
      die "pip check: $name misses or breaks a dependency"
    fi
    echo "${LOCK_SHA[$v]}" >"$venv/.e2e-lock.sha256"
    say "venv $v: installed $(grep -c '^[A-Za-z]' "$lock") packages in $(secs_since "${VENV_START[$v]}") s"
  fi
  # A .pth file runs code at every interpreter start: the malicious 1.82.7/1.82.8 used one.
  local pth version
  pth=$(find "$venv" -name '*.pth' -printf '%f\n' | sort | tr '\n' ' ')
  [[ $pth == "distutils-precedence.pth " ]] ||
    die "unexpected .pth files in $venv: '$pth' (only distutils-precedence.pth belongs there); remove it and look at the lock"
  version=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("litellm"))')
  [[ $version == "$v" ]] || die "$venv holds litellm $version, not $v"
  say "venv $v: litellm $version, .pth files: ${pth% }"
}

# The binary.
locate_binary() {
  if [[ -n ${FAILOVER_WATCH_BIN:-} ]]; then
    BIN=$FAILOVER_WATCH_BIN
    [[ -x $BIN ]] || die "FAILOVER_WATCH_BIN=$BIN is not an executable file"
    BIN=$(realpath "$BIN")
    say "binary: $BIN (FAILOVER_WATCH_BIN)"
    return
  fi
  local start target
  start=$(now_us)
  run_in_session cargo - - cargo build --quiet --bin failover-watch \
    --manifest-path "$ROOT/Cargo.toml" || die "cargo build failed"
  target=$(cargo metadata --format-version 1 --no-deps --manifest-path "$ROOT/Cargo.toml" |
    "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
  BIN=$target/debug/failover-watch
  [[ -x $BIN ]] || die "cargo build left no $BIN"
  say "binary: $BIN (cargo build, $(secs_since "$start") s)"
}

declare -A LANE_RC=() LANE_SECS=()

lane_done() { # VERSION STATUS: notes a finished lane; stops what it may have left running
  local v=$1 rc=$2
  unset "PROC_PID[lane-$v]"
  LANE_RC[$v]=$rc
  LANE_SECS[$v]=$(secs_since "${LANE_START[$v]}")
  if ! sweep_lane "$v" && ((rc == 0)); then LANE_RC[$v]=1; fi
  say "lane $v: done in ${LANE_SECS[$v]} s (status $rc)"
}

wait_lanes() { # VERSION...: waits for those lanes, each noted as soon as it ends
  local v rc pid
  local -A by_pid=()
  for v in "$@"; do by_pid[${PROC_PID[lane-$v]}]=$v; done
  while ((${#by_pid[@]})); do
    rc=0 pid=
    wait -n -p pid "${!by_pid[@]}" || rc=$?
    # No pid: the wait itself failed (no such child any more); the lanes left are noted failed.
    if [[ -z $pid ]]; then
      for pid in "${!by_pid[@]}"; do lane_done "${by_pid[$pid]}" 127; done
      return
    fi
    lane_done "${by_pid[$pid]}" "$rc"
    unset "by_pid[$pid]"
  done
}

declare -A LANE_START=()

main() {
  local scenarios=("$@") s k v known versions=() parallel=${E2E_PARALLEL:-1}
  ((${#scenarios[@]})) || scenarios=("${ALL_SCENARIOS[@]}")
  for s in "${scenarios[@]}"; do
    known=
    for k in "${ALL_SCENARIOS[@]}"; do [[ $s == "$k" ]] && known=1; done
    [[ -n $known ]] || die "unknown scenario '$s' (known: ${ALL_SCENARIOS[*]})"
  done
  read -r -a versions <<<"${E2E_VERSIONS:-${VERSIONS[*]}}"
  ((${#versions[@]})) || die "E2E_VERSIONS names no version (known: ${VERSIONS[*]})"
  local -A named=()
  for v in "${versions[@]}"; do
    known=
    for k in "${VERSIONS[@]}"; do [[ $v == "$k" ]] && known=1; done
    [[ -n $known ]] || die "unknown LiteLLM version '$v' in E2E_VERSIONS (known: ${VERSIONS[*]})"
    [[ -z ${named[$v]:-} ]] || die "E2E_VERSIONS names $v twice"
    named[$v]=1
  done
  [[ $parallel == [01] ]] || die "E2E_PARALLEL is 0 or 1, not '$parallel'"

  cd "$ROOT"
  rm -rf "$WORK"
  mkdir -p "$WORK/logs"
  say "work dir: $WORK; LiteLLM versions: ${versions[*]}; scenarios: ${scenarios[*]}"
  # The single venv of earlier runners, tests/e2e/.venv itself: the venvs are below it now.
  if [[ -e $HERE/.venv/pyvenv.cfg ]]; then
    say "venv: removing the old single venv $HERE/.venv (the venvs are $HERE/.venv/VERSION now)"
    rm -rf "$HERE/.venv"
  fi
  for v in "${versions[@]}"; do start_venv "$v"; done
  locate_binary
  for v in "${versions[@]}"; do finish_venv "$v"; done

  say "lanes: ${versions[*]} $([[ $parallel == 1 ]] && echo 'side by side' || echo 'one after the other')"
  local i=0
  for v in "${versions[@]}"; do
    mkdir -p "$WORK/$v"
    : >"$WORK/$v/results"
    LANE_START[$v]=$(now_us)
    LANES_STARTED=1
    spawn "lane-$v" - - env E2E_BIN="$BIN" E2E_RUN_START="$RUN_START" \
      bash "$HERE/run.sh" --lane "$v" "$i" "${scenarios[@]}"
    # A lane stops what it started when it is told to stop: give it time for that.
    PROC_GRACE[lane-$v]=60
    [[ $parallel == 1 ]] || wait_lanes "$v"
    i=$((i + 1))
  done
  [[ $parallel == 0 ]] || wait_lanes "${versions[@]}"

  # The evidence of what failed, one after the other, then the results.
  local passed=0 failed=0 line verdict secs results=() lane_failed
  for v in "${versions[@]}"; do
    lane_failed=0
    for s in "${scenarios[@]}"; do
      line=$(awk -v s="$s" '$2 == s' "$WORK/$v/results" | tail -n 1)
      if [[ -z $line ]]; then
        lane_failed=$((lane_failed + 1))
        results+=("FAIL $s @$v: not run (lane $v ended with status ${LANE_RC[$v]} before it; its errors are above)")
        continue
      fi
      read -r verdict _ secs <<<"$line"
      if [[ $verdict == PASS ]]; then
        passed=$((passed + 1))
        results+=("PASS $s @$v ($secs s)")
      else
        lane_failed=$((lane_failed + 1))
        results+=("FAIL $s @$v ($secs s)")
        echo "== evidence: $s @$v (files in $WORK/$v/$s)"
        cat "$WORK/$v/$s/evidence.txt" 2>/dev/null || echo "  (no evidence file)"
      fi
    done
    # A lane that failed outside its scenarios (say, in its cleanup) fails the run too.
    if ((lane_failed == 0 && LANE_RC[$v] != 0)); then
      lane_failed=1
      results+=("FAIL lane @$v: every scenario passed, but the lane ended with status ${LANE_RC[$v]} (its errors are above)")
    fi
    failed=$((failed + lane_failed))
  done
  echo "== results"
  for line in "${results[@]}"; do echo "$line"; done
  for v in "${versions[@]}"; do say "lane $v: ${LANE_SECS[$v]} s"; done
  say "whole run: $(secs_since "$RUN_START") s"
  echo "e2e: $passed passed, $failed failed"
  ((failed == 0)) || exit 1
}

# =============================================================================================
# A lane: one LiteLLM version, every scenario. Started by the main runner as
#   E2E_BIN=... E2E_RUN_START=... run.sh --lane VERSION INDEX SCENARIO...
# INDEX chooses the lane's own range of ports.

# ---------------------------------------------------------------------------------------------
# Mock upstreams and proxies.
declare -A MOCK_PORT=() MOCK_ARGS=()
USED_PORTS=()

free_port() { # a port free now on 127.0.0.1, in this lane's range, not handed out before
  # The ranges lie below the kernel's ephemeral ports (32768 and up here), so that no bind(0)
  # or outgoing connection of another process takes a port between our choice and the bind,
  # or while a mock is down between its stop and its restart on the same port.
  "$PYTHON" - "$LANE_INDEX" "${USED_PORTS[@]}" <<'PY'
import random, socket, sys
lane, used = int(sys.argv[1]), set(map(int, sys.argv[2:]))
low = 20000 + 4000 * lane
for _ in range(500):
    port = random.randrange(low, low + 4000)
    if port in used:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
else:
    sys.exit(f"no free port in {low}-{low + 3999} on 127.0.0.1")
PY
}

new_port() { # sets PORT to a free port and notes it as handed out
  PORT=$(free_port) || die "cannot find a free port"
  USED_PORTS+=("$PORT")
}

start_mock() { # NAME API MODEL REPLY PORT: waits for its "listening on" line
  local name=$1 api=$2 model=$3 reply=$4 port=$5 log=$WORK/logs/$1.log pid i line=
  MOCK_ARGS[$name]="$api $model $reply"
  : >"$log.stdout"
  spawn "$name" "$log.stdout" "$log" \
    "$BIN" mock-upstream --api "$api" --listen "127.0.0.1:$port" --model "$model" --reply "$reply"
  pid=${PROC_PID[$name]}
  # The mock prints `listening on http://127.0.0.1:PORT` once it accepts connections.
  local pattern="^listening on http://127\\.0\\.0\\.1:$port\$"
  for ((i = 0; i < 200; i++)); do
    line=$(head -n 1 "$log.stdout")
    [[ $line =~ $pattern ]] && break
    alive "$pid" || break
    sleep 0.05
  done
  [[ $line =~ $pattern ]] || {
    cat "$log" >&2
    die "mock $name did not say it was listening on port $port within 10 s (it printed '$line')"
  }
  MOCK_PORT[$name]=$port
}

mock() { # NAME: starts it (again, on the same port when it ran before)
  local name=$1 api model reply
  read -r api model reply <<<"${MOCK_ARGS[$name]}"
  start_mock "$name" "$api" "$model" "$reply" "${MOCK_PORT[$name]}"
}

new_mock() { # NAME API MODEL REPLY
  new_port
  MOCK_ARGS[$1]="$2 $3 $4"
  MOCK_PORT[$1]=$PORT
  mock "$1"
}

mock_mode() { # NAME MODE
  local answer
  answer=$(curl -sS --max-time 5 -X POST -d "$2" "http://127.0.0.1:${MOCK_PORT[$1]}/__mock/mode") ||
    die "cannot switch mock $1 to $2"
  [[ $answer == *"\"mode\":\"$2\""* ]] || die "mock $1 answered '$answer' to mode $2"
}

declare -A PROXY_PORT=() PROXY_STARTED=()

start_proxy() { # NAME TEMPLATE PRIMARY_MOCK FALLBACK_MOCK: starts it, does not wait
  local name=$1 template=$2 config=$WORK/$1.yaml
  # Every other mock by its name too: @SPARE_1_BASE@ for spare-1.
  local others=() m
  for m in "${!MOCK_PORT[@]}"; do
    m=${m^^}
    others+=(-e "s#@${m//-/_}_BASE@#http://127.0.0.1:${MOCK_PORT[${m,,}]}#")
  done
  sed -e "s#@PRIMARY_BASE@#http://127.0.0.1:${MOCK_PORT[$3]}#" \
    -e "s#@FALLBACK_BASE@#http://127.0.0.1:${MOCK_PORT[$4]}#" \
    -e "s#@ROUTER_TIMEOUT@#$ROUTER_TIMEOUT#" -e "s#@COOLDOWN@#$COOLDOWN#" "${others[@]}" \
    "$HERE/$template" >"$config"
  ! grep -n '@[A-Z_]*@' "$config" || die "unfilled placeholder in $config"
  new_port
  PROXY_PORT[$name]=$PORT
  PROXY_STARTED[$name]=$(now_us)
  mkdir -p "$WORK/home"
  # A clean environment: no OPENAI_API_KEY (the seed-verbatim scenario depends on it), no
  # proxy variables, nothing of the caller's LiteLLM settings.
  spawn "$name" "$WORK/logs/$name.log" "$WORK/logs/$name.log" \
    env -i PATH="$PATH" HOME="$WORK/home" LANG=C.UTF-8 \
    NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost LITELLM_LOCAL_MODEL_COST_MAP=True \
    "$VENV/bin/litellm" --config "$config" --host 127.0.0.1 --port "$PORT" --telemetry False
}

json_field() { # FIELD: that top-level field of the JSON object on stdin, empty when absent
  "$PYTHON" -c 'import json, sys
try:
    value = json.load(sys.stdin).get(sys.argv[1])
except (ValueError, AttributeError):
    value = None
print("" if value is None else value)' "$1"
}

proxy_version() { # PORT: the version the proxy reports, and where it said it
  # 1.83.14 says it in /health/readiness; 1.106.12 only behind the key, in its /details.
  local version
  version=$(curl -fsS --max-time 5 "http://127.0.0.1:$1/health/readiness" | json_field litellm_version) || true
  if [[ -n $version ]]; then
    echo "$version (GET /health/readiness)"
    return
  fi
  version=$(curl -fsS --max-time 5 -H 'Authorization: Bearer sk-test' \
    "http://127.0.0.1:$1/health/readiness/details" | json_field litellm_version) || true
  echo "${version:-none} (GET /health/readiness/details)"
}

poll_until_ready() { # WHAT PID LOG STARTED_US LIMIT_S PAUSE_S CMD...: runs CMD every PAUSE_S
  # until it succeeds; if PID exits first, or LIMIT_S after STARTED_US, dies with LOG's tail
  local what=$1 pid=$2 log=$3 deadline=$(($4 + $5 * 1000000)) limit=$5 pause=$6
  shift 6
  while (($(now_us) < deadline)); do
    "$@" && return 0
    if ! alive "$pid"; then
      tail -n 40 "$log" >&2
      die "$what exited before it was ready (log: $log)"
    fi
    sleep "$pause"
  done
  tail -n 40 "$log" >&2
  die "$what not ready $limit s after its start (log: $log)"
}

wait_proxy() { # NAME: polls GET /health/liveliness (no key needed), 120 s at most
  local name=$1 port=${PROXY_PORT[$1]} version
  poll_until_ready "proxy $name" "${PROC_PID[$name]}" "$WORK/logs/$name.log" \
    "${PROXY_STARTED[$name]}" 120 0.25 \
    curl -fs --max-time 2 -o /dev/null "http://127.0.0.1:$port/health/liveliness"
  version=$(proxy_version "$port")
  [[ ${version%% *} == "$LANE" ]] || die "proxy $name reports litellm $version, not $LANE"
  say "proxy $name: ready on 127.0.0.1:$port after $(secs_since "${PROXY_STARTED[$name]}") s (litellm $version)"
}

chat() { # PORT MODEL: one non-streaming request; prints the response headers
  curl -sS --max-time 10 -o /dev/null -D - -H 'Authorization: Bearer sk-test' \
    -H 'Content-Type: application/json' \
    -d "{\"model\":\"$2\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hi\"}],\"max_tokens\":5}" \
    "http://127.0.0.1:$1/v1/chat/completions" 2>/dev/null | tr -d '\r' || true
}

answer_version() { # HEADERS NAME: every successful answer names the version that served it
  [[ $1 == *$'\nx-litellm-version: '"$LANE"$'\n'* ]] ||
    die "proxy $2 answered without x-litellm-version: $LANE; its headers: $(grep -i '^x-litellm-version' <<<"$1" || echo none)"
}

settle() { # PROXY: waits (30 s at most) until the primary serves and the fallback is out of cooldown
  local port=${PROXY_PORT[$1]} i headers p_ok='' f_ok=''
  for ((i = 0; i < 60; i++)); do
    if [[ -z $p_ok ]]; then
      headers="$(chat "$port" llama-fp8)"$'\n'
      [[ $headers == "HTTP/1.1 200"* ]] && answer_version "$headers" "$1"
      [[ $headers == "HTTP/1.1 200"* && $headers == *$'\nx-litellm-model-group: llama-fp8\n'* &&
        $headers == *$'\nx-litellm-attempted-fallbacks: 0\n'* ]] && p_ok=1
    fi
    if [[ -z $f_ok ]]; then
      headers="$(chat "$port" llama3)"$'\n'
      [[ $headers == "HTTP/1.1 200"* ]] && answer_version "$headers" "$1"
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
# Scenarios. Each: settle, run the preflight (`failover-watch check`), note the mocks' counters,
# start the watcher, act on a schedule relative to its start (at half intervals, between two
# probes), replay its record, then check it all.
SDIR='' T0='' MARKERS='' PROXY='' RUNTIME_DIR='' RUNTIME_TMP=''

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
  # The Prometheus started with the proxies for this scenario keeps its folder (metrics/).
  if [[ -n ${PROC_PID[prometheus]:-} && $MDIR == "$SDIR/metrics" ]]; then
    find "$SDIR" -mindepth 1 -maxdepth 1 ! -name metrics -exec rm -rf {} +
  else
    rm -rf "$SDIR"
  fi
  mkdir -p "$SDIR"
  MARKERS=$SDIR/markers.jsonl
  : >"$MARKERS"
  PROXY_LOG_OFFSET=$(stat -c %s "$WORK/logs/$PROXY.log")
  runtime_dir RUNTIME_DIR rt
}

runtime_dir() { # VAR NAME: sets VAR to a new folder of the scenario's own, for XDG_RUNTIME_DIR
  # A watcher listens for markers on $XDG_RUNTIME_DIR/failover-watch/<pid>.sock, where
  # `failover-watch mark` looks: the watcher and `mark` get a folder of the scenario's own
  # (nothing of the user's, and the other lane's watcher is not reached); the metrics watcher
  # gets another (`mark` does not reach it). A socket's path holds 107 bytes at most: a short
  # folder in /tmp when the work dir lies too deep.
  local dir=$SDIR/$2
  local socket=$dir/failover-watch/4194304.sock
  if ((${#socket} > 107)); then
    [[ -n $RUNTIME_TMP ]] || RUNTIME_TMP=$(mktemp -d "/tmp/failover-watch-e2e.XXXXXX") # made 0700
    dir=$RUNTIME_TMP/$2
  fi
  mkdir -m 700 "$dir"
  printf -v "$1" '%s' "$dir"
}

note_mocks() { # PRIMARY_MOCK FALLBACK_MOCK: their addresses, as the proxy's config names them
  printf '{"event": "mocks", "primary_base": "http://127.0.0.1:%s", "fallback_base": "http://127.0.0.1:%s"}\n' \
    "${MOCK_PORT[$1]}" "${MOCK_PORT[$2]}" >>"$MARKERS"
}

now_epoch() { echo "${EPOCHREALTIME/,/.}"; }

preflight() { # PROXY OUTPUT FILE ATTEMPT: `failover-watch check` of the proxy, as a user runs it
  # (its defaults, the key from LITELLM_API_KEY); its output in FILE, its status in markers
  local rc=0 at
  at=$(now_epoch)
  run_in_session check "$SDIR/$3" "$SDIR/preflight.err" timeout -k 5 150 \
    env -i PATH="$PATH" HOME="$WORK/home" LITELLM_API_KEY=sk-test \
    NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost RUST_BACKTRACE=1 \
    "$BIN" check --url "http://127.0.0.1:${PROXY_PORT[$1]}" --primary llama-fp8 --fallback llama3 \
    --output "$2" --log-file "$SDIR/preflight.log" || rc=$?
  printf '{"event": "preflight", "attempt": %d, "output": "%s", "file": "%s", "rc": %d, "at": %s, "done": %s}\n' \
    "$4" "$2" "$3" "$rc" "$at" "$(now_epoch)" >>"$MARKERS"
}

preflight_seed() { # the check of the seed-verbatim proxy, once the watcher's run is over
  # The watcher's first failures put the primary in LiteLLM's cooldown (10 s): while it lasts
  # the check can only say so. It is asked again (its requests during the cooldown reach no
  # deployment, so they do not prolong it) until it can tell why the primary fails, 25 s at most.
  local i deadline=$(($(now_us) + 25000000))
  for ((i = 1; ; i++)); do
    preflight seed-proxy text "preflight-$i.txt" "$i"
    grep -q '^. alone .*cooldown' "$SDIR/preflight-$i.txt" || break
    (($(now_us) < deadline)) || break
    pause 0.5
  done
}

watcher_pid() { # [NAME]: the failover-watch process of the running watcher (below timeout and
  # env), or of the process NAME started
  local pid comm
  for pid in $(session_members "${PROC_PID[${1:-watch}]}"); do
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || continue
    if [[ $comm == failover-watch ]]; then
      echo "$pid"
      return
    fi
  done
}

drop_mark() { # LABEL: `failover-watch mark LABEL`, as a script runs it just before its change
  local rc=0 at pid
  pid=$(watcher_pid)
  at=$(now_epoch)
  run_in_session mark "$SDIR/mark.out" "$SDIR/mark.err" timeout -k 2 10 \
    env -i PATH="$PATH" HOME="$WORK/home" XDG_RUNTIME_DIR="$RUNTIME_DIR" RUST_BACKTRACE=1 \
    "$BIN" mark "$1" || rc=$?
  printf '{"event": "mark", "label": "%s", "rc": %d, "watcher_pid": %s, "at": %s, "done": %s}\n' \
    "$1" "$rc" "${pid:-null}" "$at" "$(now_epoch)" >>"$MARKERS"
}

replay_run() { # the run's record played back at once, as JSON lines and as the text story
  local record=$SDIR/record.jsonl output rc
  # Without --record (the watcher at its defaults) its standard output is the record.
  [[ -f $record ]] || record=$SDIR/watch.jsonl
  for output in jsonl text; do
    rc=0
    run_in_session replay "$SDIR/replay.$output" "$SDIR/replay-$output.err" timeout -k 2 30 \
      env -i PATH="$PATH" HOME="$WORK/home" RUST_BACKTRACE=1 \
      "$BIN" replay "$record" --output "$output" --instant --log-file "$SDIR/replay.log" || rc=$?
    printf '{"event": "replay", "output": "%s", "record": "%s", "rc": %d}\n' \
      "$output" "${record##*/}" "$rc" >>"$MARKERS"
  done
}

finish_scenario() { # NAME START_US: checks the watcher's output (after finish_watch)
  local name=$1 start=$2 rc=$WATCH_RC secs
  local verdict=pass foreign evidence=$SDIR/evidence.txt
  : >"$evidence"
  if ((rc != 0)); then
    echo "  FAIL the watcher exited with status $rc" >>"$evidence"
    verdict=fail
  fi
  replay_run
  if [[ -n $RUNTIME_TMP ]]; then
    rm -rf "$RUNTIME_TMP"
    RUNTIME_TMP=''
  fi
  # Nothing leaves 127.0.0.1: a sample of every connection of the proxy and the mocks.
  foreign=$(foreign_peers)
  if [[ -n $foreign ]]; then
    {
      echo "  FAIL connections beyond 127.0.0.1:"
      awk '{ print "  | " $0 }' <<<"$foreign"
    } >>"$evidence"
    verdict=fail
  fi
  # The Prometheus of the scenario, if any, is asked by check.py, then stopped.
  local prometheus=() prom_proc=''
  if [[ -n ${PROC_PID[prometheus]:-} && $MDIR == "$SDIR/metrics" ]]; then
    prom_proc=prometheus
    prometheus=(--prometheus "http://127.0.0.1:$PROM_PORT")
  elif [[ -n ${PROC_PID[prometheus-many]:-} && $name == many-targets ]]; then
    prom_proc=prometheus-many
    prometheus=(--prometheus "http://127.0.0.1:$MANY_PROM_PORT")
  fi
  if ! timeout 60 "$PYTHON" "$HERE/check.py" "$name" "$SDIR" --interval "$INTERVAL" \
    --router-timeout "$ROUTER_TIMEOUT" --cooldown "$COOLDOWN" --litellm-version "$LANE" \
    "${prometheus[@]}" >"$SDIR/check.log" 2>&1; then
    verdict=fail
  fi
  [[ -z $prom_proc ]] || stop_proc "$prom_proc"
  secs=$(secs_since "$start")
  if [[ $verdict == pass ]]; then
    echo "PASS $name $secs" >>"$WORK/results"
    echo "PASS $name @$LANE ($secs s)"
  else
    {
      cat "$SDIR/check.log"
      if [[ -s $SDIR/watch.err ]]; then
        echo "  the watcher's stderr ($SDIR/watch.err), last 20 lines:"
        tail -n 20 "$SDIR/watch.err" | sed 's/^/  | /'
      fi
      if [[ $MDIR == "$SDIR/metrics" ]]; then
        echo "  the metrics watcher's stderr, its logs ($MDIR/watch.err), last 10 lines:"
        tail -n 10 "$MDIR/watch.err" 2>/dev/null | sed 's/^/  | /'
        echo "  Prometheus's log ($MDIR/prometheus.log), last 10 lines:"
        tail -n 10 "$MDIR/prometheus.log" 2>/dev/null | sed 's/^/  | /'
      fi
      echo "  proxy log ($WORK/logs/$PROXY.log) during the scenario, last 30 lines:"
      tail -c +$((PROXY_LOG_OFFSET + 1)) "$WORK/logs/$PROXY.log" | tail -n 30 | sed 's/^/  | /'
    } >>"$evidence"
    echo "FAIL $name $secs" >>"$WORK/results"
    echo "FAIL $name @$LANE ($secs s): its evidence follows when every lane is done (and is in $evidence)"
  fi
}

set_t0_from() { # FILE [TARGET]: T0 = the epoch µs the watcher's first answered probe (of
  # TARGET, with several) left, from FILE. Probes leave every interval from then on: the faults
  # are timed from it, half an interval away from any probe, however long the watcher took to
  # start.
  local deadline=$(($(now_us) + 15000000)) sent='' only=${2:+\"target\":\"$2\",}
  while (($(now_us) < deadline)); do
    sent=$(grep -m1 "\"type\":\"request\",$only" "$1" 2>/dev/null | grep -m1 -o '"sent_at":"[^"]*"') && break
    pause 0.02
  done
  [[ $sent =~ \"sent_at\":\"([^\"]+)\" ]] || die "the watcher printed no request within 15 s"
  T0=$(date -d "${BASH_REMATCH[1]}" +%s%6N) || die "cannot read the time ${BASH_REMATCH[1]}"
}

run_watch() { # DURATION_S [ARGS...]: starts the watcher, its stdout in watch.jsonl, its
  # record (--record) in record.jsonl; a direct probe beside every request (check.py counts
  # their answers) unless WATCH_DIRECT says otherwise
  local duration=$1
  shift
  # A clean environment here too: only the key, and no FAILOVER_WATCH_* of the caller's.
  spawn watch "$SDIR/watch.jsonl" "$SDIR/watch.err" timeout -k 5 $((duration + 30)) \
    env -i PATH="$PATH" HOME="$WORK/home" XDG_RUNTIME_DIR="$RUNTIME_DIR" LITELLM_API_KEY=sk-test \
    NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost RUST_BACKTRACE=1 \
    "$BIN" --url "http://127.0.0.1:${PROXY_PORT[$PROXY]}" --primary "${WATCH_PRIMARY:-llama-fp8}" \
    --interval "${INTERVAL}s" --duration "${duration}s" --timeout 10s --output jsonl \
    --record "$SDIR/record.jsonl" --log-file "$SDIR/failover-watch.log" \
    --direct "${WATCH_DIRECT:-probe}" "$@"
  set_t0_from "$SDIR/watch.jsonl"
}

run_watch_at_defaults() { # DURATION_S: the watcher with every option at its default but the
  # interval (and the proxy's address, the JSON lines and the end): what a user who only picks
  # the interval sees; the request timeout (60 s) above the router's (30 s), the quiet lane.
  # Its log goes to the default place, under XDG_STATE_HOME.
  local duration=$1
  spawn watch "$SDIR/watch.jsonl" "$SDIR/watch.err" timeout -k 5 $((duration + 90)) \
    env -i PATH="$PATH" HOME="$WORK/home" XDG_STATE_HOME="$SDIR/state" \
    XDG_RUNTIME_DIR="$RUNTIME_DIR" LITELLM_API_KEY=sk-test \
    NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost RUST_BACKTRACE=1 \
    "$BIN" --url "http://127.0.0.1:${PROXY_PORT[$PROXY]}" --interval "${INTERVAL}s" \
    --output jsonl --duration "${duration}s"
  set_t0_from "$SDIR/watch.jsonl"
}

finish_watch_then_stats() { # PRIMARY_MOCK FALLBACK_MOCK: waits for the watcher (and the
  # metrics watcher), notes counters
  local pid=${PROC_PID[watch]} rc=0
  WATCH_RC=0
  wait "$pid" || WATCH_RC=$?
  # Anything left in its session (it should have none) goes too.
  stop_proc watch
  if [[ -n ${PROC_PID[watch-metrics]:-} ]]; then
    wait "${PROC_PID[watch-metrics]}" || rc=$?
    stop_proc watch-metrics
    printf '{"event": "metrics-watcher-done", "rc": %d, "at": %s}\n' "$rc" "$(now_epoch)" >>"$MARKERS"
  fi
  stats "$1" after
  stats "$2" after
}

prepare() { # PROXY PRIMARY_MOCK FALLBACK_MOCK
  settle "$1"
  note_mocks "$2" "$3"
  # The preflight, on the healthy proxy before the faults; its requests come before the mocks'
  # counters are noted.
  preflight "$1" json preflight.json 1
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
  note_mocks seed-primary seed-fallback
  stats seed-primary before
  stats seed-fallback before
  run_watch 8
  finish_watch_then_stats seed-primary seed-fallback
  preflight_seed
  finish_scenario seed-verbatim "$start"
}

# The kill/restart story, plain or streaming; primary-killed with the metrics watcher and
# Prometheus besides.
scenario_killed() { # NAME [--stream]
  local name=$1 start metrics=''
  shift
  start=$(now_us)
  begin_scenario "$name" proxy
  [[ $name != primary-killed ]] || metrics=1
  # Started with the proxies; started now if it is not running (the scenario named twice).
  [[ -z $metrics || -n ${PROC_PID[prometheus]:-} ]] || start_prometheus
  prepare proxy primary fallback
  [[ -z $metrics ]] || wait_prometheus
  # primary-killed: both watchers at the default lane (quiet); the streaming one probes.
  WATCH_DIRECT=${metrics:+quiet} run_watch 30 "$@"
  [[ -z $metrics ]] || run_metrics_watch 30
  at 5.5
  # As a script would: `failover-watch mark "kill primary" && kill ...`.
  drop_mark "kill primary"
  stats primary before-kill
  stop_proc primary
  marker primary-down
  at 12.5
  mock primary
  marker primary-up
  if [[ -n $metrics ]]; then
    # After the recovery (at 16-18 s): every family has its series.
    at 24.5
    scrape_metrics
  fi
  finish_watch_then_stats primary fallback
  finish_scenario "$name" "$start"
}

# ---------------------------------------------------------------------------------------------
# The metrics (primary-killed): a second watcher, `--output none --metrics-listen`, scraped every
# second by a real Prometheus (Debian's /usr/bin/prometheus), which check.py then asks.
# Prometheus 2.42 applies its targets ~5 s after its start (its discovery and scrape managers
# sync every 5 s): the lane starts it with its proxies, so that it scrapes the watcher's port
# from before the watcher starts, and it runs until the scenario's checks are done.
MDIR='' PROM_PORT='' METRICS_PORT='' PROM_STARTED='' PROM_READY='' METRICS_RUNTIME_DIR=''
MANY_PROM_PORT='' # many-targets' own Prometheus (prometheus-many)

start_prometheus() { # for the primary-killed scenario: its folder, its config; does not wait
  local bin
  for bin in prometheus promtool; do
    command -v "$bin" >/dev/null ||
      die "no $bin on PATH: primary-killed needs Debian's prometheus (tests/setup.sh installs it)"
  done
  MDIR=$WORK/primary-killed/metrics
  rm -rf "$MDIR"
  mkdir -p "$MDIR"
  new_port
  METRICS_PORT=$PORT
  new_port
  PROM_PORT=$PORT
  PROM_STARTED=$(now_us)
  PROM_READY=''
  spawn_prometheus prometheus "$MDIR" "$METRICS_PORT" "$PROM_PORT" primary-killed
}

spawn_prometheus() { # NAME DIR METRICS_PORT PROM_PORT SCENARIO: a Prometheus scraping the
  # watcher on METRICS_PORT every second (job failover-watch), its config, data and log in DIR
  local dir=$2
  cat >"$dir/prometheus.yml" <<YAML
# Written by tests/e2e/run.sh: the metrics watcher of $5, scraped every second.
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: failover-watch
    static_configs:
      - targets: ['127.0.0.1:$3']
YAML
  spawn "$1" "$dir/prometheus.log" "$dir/prometheus.log" \
    env -i PATH="$PATH" HOME="$WORK/home" \
    prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
    --web.listen-address="127.0.0.1:$4" --storage.tsdb.retention.time=1d
}

prom_get() { # PATH: GET from the Prometheus, its body on stdout; fails unless 200
  curl -fsS --max-time 2 "http://127.0.0.1:$PROM_PORT$1" 2>/dev/null
}

prom_ready() { prom_get /-/ready >/dev/null; }

wait_prometheus_ready() { # GET /-/ready answers 200, 30 s at most after its start
  local version
  poll_until_ready prometheus "${PROC_PID[prometheus]}" "$MDIR/prometheus.log" "$PROM_STARTED" 30 0.1 \
    prom_ready
  PROM_READY=$(now_us)
  version=$(prom_get /api/v1/status/buildinfo | grep -o '"version":"[^"]*"') || true
  version=${version#*:}
  say "prometheus ${version//\"/}: ready on 127.0.0.1:$PROM_PORT after $(printf '%d.%02d' \
    $(((PROM_READY - PROM_STARTED) / 1000000)) $(((PROM_READY - PROM_STARTED) / 10000 % 100))) s; it scrapes 127.0.0.1:$METRICS_PORT every second"
}

wait_prometheus() { # ready, and scraping the watcher's port (`down` while no watcher listens):
  # it applies its targets ~5 s after its start; 30 s at most, and at least 10 s from now
  # (started with the lane, it may have been up for longer than that already)
  local deadline=$((PROM_STARTED + 30000000)) targets='' soonest
  soonest=$(($(now_us) + 10000000))
  ((deadline > soonest)) || deadline=$soonest
  [[ -n $PROM_READY ]] || wait_prometheus_ready
  while (($(now_us) < deadline)); do
    if targets=$(prom_get '/api/v1/targets?state=active') &&
      [[ $targets == *"\"scrapeUrl\":\"http://127.0.0.1:$METRICS_PORT/metrics\""* &&
        $targets != *'"health":"unknown"'* ]]; then
      printf '{"event": "prometheus", "port": %s, "target": "127.0.0.1:%s", "started": %s, "ready_after": %s, "scraping_after": %s, "at": %s}\n' \
        "$PROM_PORT" "$METRICS_PORT" "$(printf '%d.%06d' $((PROM_STARTED / 1000000)) $((PROM_STARTED % 1000000)))" \
        "$(printf '%d.%03d' $(((PROM_READY - PROM_STARTED) / 1000000)) $(((PROM_READY - PROM_STARTED) / 1000 % 1000)))" \
        "$(printf '%d.%03d' $((($(now_us) - PROM_STARTED) / 1000000)) $((($(now_us) - PROM_STARTED) / 1000 % 1000)))" \
        "$(now_epoch)" >>"$MARKERS"
      return 0
    fi
    alive "${PROC_PID[prometheus]}" || die "prometheus exited (log: $MDIR/prometheus.log)"
    sleep 0.1
  done
  tail -n 20 "$MDIR/prometheus.log" >&2
  die "prometheus not scraping 127.0.0.1:$METRICS_PORT $(secs_since "$PROM_STARTED") s after its start: targets $targets"
}

run_metrics_watch() { # DURATION_S: the second watcher, as a service runs it: no output, its
  # metrics on METRICS_PORT, its logs on stderr; and its record, which tells check.py what it
  # saw (and which of the mocks' requests were its own). Started so that its probes leave
  # ~0.2 s after the first watcher's: never between the kill (5.5 s) and the first watcher's
  # next request (6 s), so that the first failure LiteLLM counts is the first watcher's.
  local duration=$1 target
  runtime_dir METRICS_RUNTIME_DIR rt-metrics
  target=$((T0 + 150000))
  while ((target < $(now_us) + 10000)); do target=$((target + INTERVAL * 1000000)); done
  sleep_until "$target"
  marker metrics-watcher-start
  spawn watch-metrics "$MDIR/watch.out" "$MDIR/watch.err" timeout -k 5 $((duration + 30)) \
    env -i PATH="$PATH" HOME="$WORK/home" XDG_RUNTIME_DIR="$METRICS_RUNTIME_DIR" \
    LITELLM_API_KEY=sk-test NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost \
    RUST_BACKTRACE=1 \
    "$BIN" --url "http://127.0.0.1:${PROXY_PORT[$PROXY]}" --primary llama-fp8 \
    --interval "${INTERVAL}s" --duration "${duration}s" --timeout 10s --output none \
    --metrics-listen "127.0.0.1:$METRICS_PORT" --log-file - --record "$MDIR/record.jsonl"
}

scrape_metrics() { # one raw scrape of the metrics watcher (as text, then as OpenMetrics), its
  # /healthz, where our processes listen; promtool checks the text
  local base=http://127.0.0.1:$METRICS_PORT at curl_text=0 curl_om=0 healthz promtool=0
  at=$(now_epoch)
  curl -sS --max-time 5 -D "$MDIR/scrape.headers" -o "$MDIR/scrape.txt" "$base/metrics" \
    2>"$MDIR/scrape.err" || curl_text=$?
  curl -sS --max-time 5 -H 'Accept: application/openmetrics-text; version=1.0.0' \
    -D "$MDIR/scrape-openmetrics.headers" -o "$MDIR/scrape.openmetrics" "$base/metrics" \
    2>>"$MDIR/scrape.err" || curl_om=$?
  healthz=$(curl -sS --max-time 5 -o "$MDIR/healthz.body" -w '%{http_code}' "$base/healthz" \
    2>>"$MDIR/scrape.err") || true
  timeout 30 promtool check metrics <"$MDIR/scrape.txt" >"$MDIR/promtool.out" 2>&1 || promtool=$?
  our_sockets -ltn >"$MDIR/listening.txt"
  printf '{"event": "scrape", "at": %s, "done": %s, "curl_text": %d, "curl_openmetrics": %d, "healthz": "%s", "promtool": %d, "metrics_port": %s, "prometheus_port": %s}\n' \
    "$at" "$(now_epoch)" "$curl_text" "$curl_om" "${healthz:-none}" "$promtool" "$METRICS_PORT" \
    "$PROM_PORT" >>"$MARKERS"
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

# The primary holds every request for 3 s, at the seed's router timeout (30 s) and the
# watcher's defaults: the held requests come back from the fallback 30 s later.
HANG_DURATION=54

scenario_hang() {
  local start
  start=$(now_us)
  begin_scenario primary-hang proxy
  prepare proxy primary fallback
  run_watch_at_defaults "$HANG_DURATION"
  at 5.5
  mock_mode primary hang
  marker primary-hang
  at 8.5
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

# A primary (llama-b) whose fallback group (spare) has two deployments, an Ollama one and an
# OpenAI one: killed and restarted, it must fail over once and come back once, however the
# fallback's answers alternate between the two deployments.
scenario_fallback_of_two() {
  local start
  start=$(now_us)
  begin_scenario fallback-of-two proxy
  prepare proxy primary fallback
  stats primary-b before
  stats spare-1 before
  stats spare-2 before
  WATCH_PRIMARY=llama-b run_watch 24
  at 5.5
  stop_proc primary-b
  marker primary-down
  at 12.5
  mock primary-b
  marker primary-up
  finish_watch_then_stats primary fallback
  stats primary-b after
  stats spare-1 after
  stats spare-2 after
  finish_scenario fallback-of-two "$start"
}

# Many targets, one watcher: three groups of the main proxy (llama-fp8 and llama-b with a
# fallback, llama3 without) and llama3 on a second proxy (the seed-verbatim one, a LiteLLM
# process of its own), from a targets file; the primary mock of llama-fp8 killed and restarted.
# Only its target fails over and comes back. Then a short run with --all-groups finds the
# groups with a fallback from the proxy's /router/settings.
scenario_many_targets() {
  local start targets main second rc=0 metrics_port
  start=$(now_us)
  begin_scenario many-targets proxy
  # Its Prometheus, started now: it applies its target ~5.5 s later, while the watcher runs
  # (24 s); check.py asks it at the watcher's last requests.
  mkdir "$SDIR/metrics"
  new_port
  metrics_port=$PORT
  new_port
  MANY_PROM_PORT=$PORT
  command -v prometheus >/dev/null ||
    die "no prometheus on PATH: many-targets needs Debian's prometheus (tests/setup.sh installs it)"
  spawn_prometheus prometheus-many "$SDIR/metrics" "$metrics_port" "$MANY_PROM_PORT" many-targets
  prepare proxy primary fallback
  main=http://127.0.0.1:${PROXY_PORT[proxy]} second=http://127.0.0.1:${PROXY_PORT[seed-proxy]}
  targets=$SDIR/targets.toml
  printf '%s\n' "# Written by tests/e2e/run.sh (many-targets)." \
    '[[target]]' 'name = "fp8"' "url = \"$main\"" 'primary = "llama-fp8"' 'fallback = "llama3"' '' \
    '[[target]]' 'name = "b"' "url = \"$main\"" 'primary = "llama-b"' 'fallback = "spare"' '' \
    '[[target]]' 'name = "llama3"' "url = \"$main\"" 'primary = "llama3"' '' \
    '[[target]]' 'name = "second"' "url = \"$second\"" 'primary = "llama3"' >"$targets"
  printf '{"event": "proxies", "main": "%s", "second": "%s"}\n' "$main" "$second" >>"$MARKERS"
  stats primary-b before
  stats seed-fallback second-before
  spawn watch "$SDIR/watch.jsonl" "$SDIR/watch.err" timeout -k 5 54 \
    env -i PATH="$PATH" HOME="$WORK/home" XDG_RUNTIME_DIR="$RUNTIME_DIR" LITELLM_API_KEY=sk-test \
    NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost RUST_BACKTRACE=1 \
    "$BIN" --targets "$targets" --interval "${INTERVAL}s" --duration 24s --timeout 10s \
    --output jsonl --record "$SDIR/record.jsonl" --log-file "$SDIR/failover-watch.log" \
    --metrics-listen "127.0.0.1:$metrics_port"
  printf '{"event": "metrics", "metrics_port": %s, "prometheus_port": %s}\n' "$metrics_port" \
    "$MANY_PROM_PORT" >>"$MARKERS"
  set_t0_from "$SDIR/watch.jsonl" fp8
  at 5.5
  stop_proc primary
  marker primary-down
  at 12.5
  mock primary
  marker primary-up
  finish_watch_then_stats primary fallback
  stats primary-b after
  stats seed-fallback second-after
  # --all-groups: the groups with a fallback, each a target, two probes each.
  run_in_session discover "$SDIR/discover.jsonl" "$SDIR/discover.err" timeout -k 5 30 \
    env -i PATH="$PATH" HOME="$WORK/home" XDG_RUNTIME_DIR="$RUNTIME_DIR" LITELLM_API_KEY=sk-test \
    NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost RUST_BACKTRACE=1 \
    "$BIN" --url "$main" --all-groups --count 2 --interval 200ms --timeout 10s --output jsonl \
    --log-file "$SDIR/discover.log" || rc=$?
  printf '{"event": "discover", "rc": %d}\n' "$rc" >>"$MARKERS"
  overview_in_tmux "$targets"
  finish_scenario many-targets "$start"
}

# The overview of the same targets on the dashboard, in a real terminal: a tmux server of the
# scenario's own (its socket in the scenario's runtime folder, in the foreground: a process of
# the lane's like any other), a 120×40 window. The screens go to overview-N.txt, each step to
# markers.jsonl; check.py reads them.
overview_in_tmux() { # TARGETS_FILE
  local sock=$RUNTIME_DIR/tmux.sock rt deadline
  command -v tmux >/dev/null ||
    die "no tmux on PATH: many-targets shows its overview in tmux (tests/setup.sh installs it)"
  runtime_dir rt rt-overview
  spawn tmux "$SDIR/tmux.log" "$SDIR/tmux.log" env -i PATH="$PATH" HOME="$WORK/home" \
    tmux -S "$sock" -f /dev/null -D
  deadline=$(($(now_us) + 5000000))
  until [[ -S $sock ]] || (($(now_us) > deadline)); do pause 0.02; done
  tmux -S "$sock" new-session -d -s overview -x 120 -y 40 \
    "env -i PATH='$PATH' HOME='$WORK/home' XDG_RUNTIME_DIR='$rt' TERM=xterm-256color \
    LITELLM_API_KEY=sk-test NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost \
    timeout --foreground -k 5 40 '$BIN' --targets '$1' --interval ${INTERVAL}s --duration 30s --timeout 10s \
    --log-file '$SDIR/overview.log'; echo \$? >'$SDIR/overview.exit'; sleep 60" ||
    printf '{"event": "overview", "step": "new-session", "ok": false}\n' >>"$MARKERS"
  marker overview-start
  screen_until 1 'overview' '4 targets: 4 on their primary' &&
    tmux -S "$sock" send-keys -t overview Enter &&
    screen_until 2 'dashboard' 'NOW SERVING' &&
    tmux -S "$sock" send-keys -t overview Escape &&
    screen_until 3 'overview-again' '4 targets: ' &&
    tmux -S "$sock" send-keys -t overview q &&
    screen_until 4 'summaries' 'Failover Watch Summary: all 4 targets' || true
  deadline=$(($(now_us) + 10000000))
  until [[ -s $SDIR/overview.exit ]] || (($(now_us) > deadline)); do pause 0.05; done
  marker overview-done
  stop_proc tmux
}

screen_until() { # N STEP TEXT: captures the pane every 0.1 s (15 s at most) until it shows
  # TEXT; the last capture in overview-N.txt, the step in markers.jsonl
  local file=$SDIR/overview-$1.txt deadline=$(($(now_us) + 15000000)) ok=false
  while :; do
    tmux -S "$RUNTIME_DIR/tmux.sock" capture-pane -p -t overview >"$file" 2>&1 || true
    if grep -qF -- "$3" "$file"; then
      ok=true
      break
    fi
    (($(now_us) < deadline)) || break
    pause 0.1
  done
  printf '{"event": "overview", "step": "%s", "screen": "%s", "ok": %s, "at": %s}\n' \
    "$2" "${file##*/}" "$ok" "$(now_epoch)" >>"$MARKERS"
  [[ $ok == true ]]
}

# ---------------------------------------------------------------------------------------------
# Drills: `failover-watch drill` against the proxy. Its down and up commands ask this lane to
# stop and to restart the primary mock (the lane owns its processes, and stops them on every
# exit path): a command writes its step to a FIFO and waits for the lane's word on another;
# the lane answers while the drill runs, noting each step in markers.jsonl. The drill runs in
# the scenario's folder (its record there, under its default name), the key in its
# environment, its report on stdout (drill.out), its story on stderr (drill.err).
LEVER_REQ='' LEVER_REP='' LEVER_REQ_FD='' LEVER_REP_FD=''

open_levers() { # the scenario's two FIFOs, held open here for reading and writing: opening
  # them never blocks, and no end of file comes while the lane holds them
  LEVER_REQ=$SDIR/lever.req LEVER_REP=$SDIR/lever.rep
  mkfifo -m 600 "$LEVER_REQ" "$LEVER_REP"
  exec {LEVER_REQ_FD}<>"$LEVER_REQ" {LEVER_REP_FD}<>"$LEVER_REP"
}

close_levers() {
  exec {LEVER_REQ_FD}<&- {LEVER_REP_FD}<&-
}

lever() { # STEP [STATUS]: the shell command a drill runs for STEP (down or up): asks the lane,
  # prints its word; then exits STATUS when given (a down command that fails after its step)
  local then=''
  [[ -z ${2:-} ]] || then="; exit $2"
  printf 'echo %s >%q && read -r word <%q && echo "lane: $word" && test "$word" = done%s' \
    "$1" "$LEVER_REQ" "$LEVER_REP" "$then"
}

run_drill() { # ARGS...: starts the drill on the proxy (a request a second, nothing on stdout but
  # the report), 60 s at most
  marker drill-start
  spawn drill "$SDIR/drill.out" "$SDIR/drill.err" timeout -k 5 60 \
    env -i -C "$SDIR" PATH="$PATH" HOME="$WORK/home" XDG_RUNTIME_DIR="$RUNTIME_DIR" \
    LITELLM_API_KEY=sk-test NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost \
    RUST_BACKTRACE=1 \
    "$BIN" drill --url "http://127.0.0.1:${PROXY_PORT[$PROXY]}" "${DRILL_TARGETS[@]}" \
    --interval "${INTERVAL}s" --output none \
    --log-file "$SDIR/failover-watch.log" "$@"
}

serve_drill() { # [SIGINT_AFTER_S]: answers the drill's steps until it ends (down: the primary
  # mock stopped; up: started again on its port), then notes its status; with a number, sends
  # the drill SIGINT that long after its down step was answered
  local interrupt=${1:-} pid=${PROC_PID[drill]} step part='' rc=0
  while alive "$pid"; do
    # The lane's only wait for the drill's end: a step is answered the moment it comes. A
    # read that times out keeps what it had read of a line: the rest comes with the next.
    if ! read -r -t 0.25 step <&"$LEVER_REQ_FD"; then
      part+=$step
      continue
    fi
    step=$part$step part=''
    marker "lever-$step"
    case $step in
    down) stop_proc primary ;;
    up) mock primary ;;
    *) die "the drill asked the lane for '$step'" ;;
    esac
    marker "lever-$step-done"
    echo done >&"$LEVER_REP_FD"
    if [[ $step == down && -n $interrupt ]]; then
      pause "$interrupt"
      kill -INT "$(watcher_pid drill)"
      marker sigint
    fi
  done
  wait "$pid" || rc=$?
  stop_proc drill
  printf '{"event": "drill", "rc": %d, "at": %s}\n' "$rc" "$(now_epoch)" >>"$MARKERS"
  # A drill that took the primary down and never asked it back: the lane brings it back for
  # the next scenarios (and check.py fails on the marker).
  if [[ -z ${PROC_PID[primary]:-} ]]; then
    mock primary
    marker lane-restarted-primary
  fi
}

primary_back() { # notes when the primary serves requests through the proxy again (once
  # LiteLLM's cooldown allows), 30 s at most: nothing was left down
  local port=${PROXY_PORT[$PROXY]} headers deadline=$(($(now_us) + 30000000))
  while (($(now_us) < deadline)); do
    headers="$(chat "$port" llama-fp8)"$'\n'
    if [[ $headers == "HTTP/1.1 200"* && $headers == *$'\nx-litellm-model-group: llama-fp8\n'* &&
      $headers == *$'\nx-litellm-attempted-fallbacks: 0\n'* ]]; then
      marker primary-back
      return 0
    fi
    pause 0.5
  done
  marker primary-not-back
}

scenario_drill() { # NAME: a drill of the primary as NAME has it (see tests/e2e/README.md)
  local name=$1 start
  start=$(now_us)
  begin_scenario "$name" proxy
  settle proxy
  note_mocks primary fallback
  stats primary before
  stats fallback before
  stats primary-b before
  open_levers
  # What the drill watches: llama-fp8 alone, or with llama-b beside it (drill-only-target).
  DRILL_TARGETS=(--primary llama-fp8 --fallback llama3)
  case $name in
  drill-only-target)
    # The drill takes llama-fp8 down among two targets; llama-b, on its own upstream, must
    # not move (the others_steady budget).
    DRILL_TARGETS=(--primary llama-fp8,llama-b --only-target llama-fp8)
    run_drill --baseline 2s --hold 3s --settle 12s --down "$(lever down)" --up "$(lever up)" \
      --max-failed 0 --max-failover 5s --max-recovery 15s --min-availability 100 \
      --format json
    serve_drill
    ;;
  drill-pass)
    run_drill --baseline 2s --hold 3s --settle 12s \
      --down "env >$(printf %q "$SDIR/down.env"); $(lever down)" --up "$(lever up)" \
      --max-failed 0 --max-failover 5s --max-recovery 15s --min-availability 100 \
      --format json --report "$SDIR/report.json"
    serve_drill
    ;;
  drill-budget)
    # Traffic comes back only once LiteLLM's cooldown is over, seconds after the up: the
    # recovery budget breaks, and the drill stops there, long before its settle is over.
    run_drill --baseline 2s --hold 3s --settle 20s --down "$(lever down)" --up "$(lever up)" \
      --max-failed 0 --max-recovery 1s --abort-on-breach --format junit
    serve_drill
    ;;
  drill-interrupted)
    run_drill --baseline 2s --hold 30s --down "$(lever down)" --up "$(lever up)" --format json
    serve_drill 1.5
    ;;
  drill-down-fails)
    run_drill --baseline 2s --hold 30s --down "$(lever down 7)" --up "$(lever up)" --format json
    serve_drill
    ;;
  esac
  close_levers
  primary_back
  stats primary after
  stats fallback after
  stats primary-b after
  finish_drill "$name" "$start"
}

finish_drill() { # NAME START_US: checks the drill, its record and report, with check.py
  local name=$1 start=$2 verdict=pass foreign evidence=$SDIR/evidence.txt secs
  : >"$evidence"
  foreign=$(foreign_peers)
  if [[ -n $foreign ]]; then
    {
      echo "  FAIL connections beyond 127.0.0.1:"
      awk '{ print "  | " $0 }' <<<"$foreign"
    } >>"$evidence"
    verdict=fail
  fi
  if ! timeout 60 "$PYTHON" "$HERE/check.py" "$name" "$SDIR" --interval "$INTERVAL" \
    --router-timeout "$ROUTER_TIMEOUT" --cooldown "$COOLDOWN" --litellm-version "$LANE" \
    >"$SDIR/check.log" 2>&1; then
    verdict=fail
  fi
  secs=$(secs_since "$start")
  if [[ $verdict == pass ]]; then
    echo "PASS $name $secs" >>"$WORK/results"
    echo "PASS $name @$LANE ($secs s)"
  else
    {
      cat "$SDIR/check.log"
      echo "  the drill's stderr ($SDIR/drill.err), last 30 lines:"
      tail -n 30 "$SDIR/drill.err" | sed 's/^/  | /'
      echo "  proxy log ($WORK/logs/$PROXY.log) during the scenario, last 30 lines:"
      tail -c +$((PROXY_LOG_OFFSET + 1)) "$WORK/logs/$PROXY.log" | tail -n 30 | sed 's/^/  | /'
    } >>"$evidence"
    echo "FAIL $name $secs" >>"$WORK/results"
    echo "FAIL $name @$LANE ($secs s): its evidence follows when every lane is done (and is in $evidence)"
  fi
}

lane_main() { # VERSION INDEX SCENARIO...
  LANE=$1 LANE_INDEX=$2
  shift 2
  local scenarios=("$@") s want_seed='' want_main='' want_prometheus=''
  WORK=$WORK/$LANE
  VENV=$HERE/.venv/$LANE
  BIN=${E2E_BIN:?the main runner sets E2E_BIN}
  mkdir -p "$WORK/logs"
  PIDS_FILE=$WORK/pids
  : >"$PIDS_FILE"
  for s in "${scenarios[@]}"; do
    # many-targets watches the seed-verbatim proxy too, as a second proxy.
    case $s in
    seed-verbatim) want_seed=1 ;;
    many-targets) want_seed=1 want_main=1 ;;
    *) want_main=1 ;;
    esac
    [[ $s != primary-killed ]] || want_prometheus=1
  done

  if [[ -n $want_main ]]; then
    new_mock primary openai llama-fp8 Hi.
    new_mock fallback ollama llama3 Hello!
    # The second pair (fallback-of-two): llama-b, falling back to spare's two deployments.
    new_mock primary-b openai llama-b Hi.
    new_mock spare-1 ollama spare Hello!
    new_mock spare-2 openai spare-b Hello!
    start_proxy proxy config.yaml.in primary fallback
  fi
  if [[ -n $want_seed ]]; then
    new_mock seed-primary openai llama-fp8 Hi.
    new_mock seed-fallback ollama llama3 Hello!
    start_proxy seed-proxy config-seed-verbatim.yaml.in seed-primary seed-fallback
  fi
  if [[ -n $want_prometheus ]]; then
    start_prometheus
    wait_prometheus_ready
  fi
  [[ -z $want_main ]] || wait_proxy proxy
  [[ -z $want_seed ]] || wait_proxy seed-proxy
  check_loopback_only

  local i left
  for i in "${!scenarios[@]}"; do
    s=${scenarios[$i]}
    say "scenario $s"
    case $s in
    seed-verbatim) scenario_seed_verbatim ;;
    many-targets) scenario_many_targets ;;
    primary-killed) scenario_killed primary-killed ;;
    stream-primary-killed) scenario_killed stream-primary-killed --stream ;;
    primary-500) scenario_500 ;;
    primary-hang) scenario_hang ;;
    both-down) scenario_both_down ;;
    fallback-of-two) scenario_fallback_of_two ;;
    drill-*) scenario_drill "$s" ;;
    esac
    # Done with the second proxy (no scenario left wants it): its CPU back to the others.
    if [[ -n ${PROC_PID[seed-proxy]:-} ]]; then
      left=$(printf '%s\n' "${scenarios[@]:i+1}" | grep -cx 'seed-verbatim\|many-targets' || true)
      if ((left == 0)); then
        stop_proc seed-proxy
        stop_proc seed-primary
        stop_proc seed-fallback
      fi
    fi
  done
  ! grep -q '^FAIL' "$WORK/results" || exit 1
}

if [[ ${1:-} == --lane ]]; then
  shift
  lane_main "$@"
else
  main "$@"
fi
