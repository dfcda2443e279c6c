#!/usr/bin/env bash
# accept_flood.sh: muleteerd out of file descriptors. Its descriptor limit
# is lowered (prlimit) to a few more than it uses at rest, and idle
# incoming connections from many loopback addresses (each under the
# per-address limit) use up the rest; 5 more connections then wait on the
# eD2K port for 5 s. The daemon must not spin on the failing accept(): its
# CPU time over those seconds stays low and the log grows by fewer than
# 100 lines. Once the connections go, it answers `muleteer status` and
# accepts eD2K connections again. TAP output.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/mule.sh"
trap cleanup EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

IDLE="$MT_BUILDDIR/tests/fixtures/idle_conns"
SPARE=24          # descriptors left to the daemon above those it uses at rest
WINDOW=5          # seconds of measurement
HZ=$(getconf CLK_TCK)

mk_tmpdir T
P=$(free_port)
MULE_LOG_LEVEL=info start_mule A "$T/a" "$P"
check "muleteerd starts" kill -0 "${MULE_PID[A]}"
PID=${MULE_PID[A]}
LOG="$T/a/muleteerd.log"

# cpu_ticks: user + system time of the daemon, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$PID/stat"; }
open_fds() { ls "/proc/$PID/fd" | wc -l; }
# start_idle NAME ARGS...: idle_conns, stopped at exit; IDLE_PID[NAME].
declare -A IDLE_PID=()
start_idle() {
  local name=$1; shift
  "$IDLE" --port "$P" --log "$T/$name.log" "$@" 2>>"$T/$name.stderr" &
  IDLE_PID[$name]=$!
  CLEANUP_PIDS+=("$!")
}
stop_idle() { kill -TERM "${IDLE_PID[$1]}" 2>/dev/null; wait "${IDLE_PID[$1]}" 2>/dev/null; }
accept_failing() { grep -q 'accept failed' "$LOG"; }

sleep 1 # let the start settle (UDP, workers, first saves)
base=$(open_fds)
limit=$((base + SPARE))
check "the descriptor limit is lowered to $limit ($base in use)" \
  prlimit --pid "$PID" --nofile="$limit:$limit"

# 2 connections from each of 20 addresses: over the limit, never over the
# per-address limit.
start_idle hog --count 40 --bind 127.0.0.2 --bind-count 20
if eventually 20 accept_failing; then ok "the descriptors run out (accept fails)"; else
  not_ok "the descriptors run out (accept fails)"; diag "open: $(open_fds) of $limit" "$(tail -n 5 "$LOG")"; fi
start_idle extra --count 5
sleep 1
lines0=$(wc -l <"$LOG")
cpu0=$(cpu_ticks)
sleep "$WINDOW"
cpu1=$(cpu_ticks)
lines1=$(wc -l <"$LOG")
added=$((lines1 - lines0))
# On failure the log can grow by 100 MB a second: stop it at once.
if [ "$added" -ge 100000 ]; then kill -KILL "$PID"; fi
pct=$(( (cpu1 - cpu0) * 100 / (HZ * WINDOW) ))
check "the daemon does not spin: ${pct}% of a core over $WINDOW s" [ "$pct" -lt 20 ]
check "the log grew by $added lines (fewer than 100)" [ "$added" -lt 100 ]
diag "$(sed -n "$((lines0 + 1)),$((lines0 + 5))p" "$LOG" | cut -c1-200)"
check "muleteerd still runs" kill -0 "$PID"

# ---- descriptors free again ----
stop_idle hog
stop_idle extra
answers_status() { mcli "$T/a" status >/dev/null 2>&1; }
check "it answers muleteer status once descriptors are free" eventually 15 answers_status
connections() { json_num "$(mcli "$T/a" --json status 2>/dev/null)" connections; }
check "no peer connections are left" eventually 15 eval '[ "$(connections)" = 0 ]'
start_idle again --count 1
check "it accepts eD2K connections again" eventually 15 eval '[ "$(connections)" = 1 ]'
stop_idle again

kill -TERM "$PID"
wait "$PID"; rc=$?
check "muleteerd stops cleanly on SIGTERM" [ "$rc" = 0 ]
bad=$(grep -lE 'AddressSanitizer|LeakSanitizer|runtime error:' "$T"/a/stderr 2>/dev/null || true)
check "no sanitizer reports" [ -z "$bad" ]
[ -n "$bad" ] && diag "$(head -40 $bad)"
finish
