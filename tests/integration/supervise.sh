#!/usr/bin/env bash
# supervise.sh: ./run.sh's supervisor. A daemon killed with kill -9 is
# started again, and so is one killed again 65 s later (more than a minute
# after the previous restart), while lighttpd and PostgreSQL keep running;
# more than 5 crashes within a minute make run.sh give up and stop
# everything, as documented, also when the daemon cannot start again.
# About two minutes. TAP.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
trap cleanup EXIT

CLI="$MT_BUILDDIR/bin/muleteer"
mk_tmpdir T
HP=$(free_port)
VAR="$T/var"
LOG="$T/runsh.out"
if ! start_runsh "$VAR" "$LOG" MULETEER_HTTP_PORT="$HP" MULETEER_TCP_PORT="$(free_port)" \
     MULETEER_UDP_PORT="$(free_port)"; then
  not_ok "run.sh starts the stack"; diag "$(tail -n 20 "$LOG")"; finish; exit 1
fi
SOCK="$VAR/run/muleteerd.sock"

daemon_pid() { pgrep -f -- "bin/muleteerd -c $VAR/muleteer.conf" | head -n 1; }
httpd_pid() { pgrep -P "$RUNSH_PID" -x lighttpd | head -n 1; }
answers() { "$CLI" --socket "$SOCK" --timeout 2 ping >/dev/null 2>&1; }
http_up() {
  case $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HP/api/v2/app/version") in
    403) return 0 ;; *) return 1 ;;
  esac
}
pg_up() { "$MT_SRCDIR/tools/pgcluster.sh" status "$VAR" >/dev/null 2>&1; }
runsh_alive() { kill -0 "$RUNSH_PID" 2>/dev/null; }
# restarted OLD: a daemon other than OLD runs and answers
restarted() { local p; p=$(daemon_pid); [ -n "$p" ] && [ "$p" != "$1" ] && answers; }
restarts_said() { [ "$(grep -c 'muleteerd exited (status 137); starting it again' "$LOG")" -ge "$1" ]; }

D1=$(daemon_pid) H1=$(httpd_pid)
check "the daemon and lighttpd run under run.sh" eval '[ -n "$D1" ] && [ -n "$H1" ] && answers && http_up'

# ---- a crash, then another more than a minute after the restart ----
kill -9 "$D1"
check "after a kill -9, run.sh starts the daemon again" eventually 30 restarted "$D1"
check "... and says so" eventually 5 restarts_said 1
D2=$(daemon_pid)
sleep 65
check "65 s later everything still runs" eval 'runsh_alive && answers && http_up && pg_up'
kill -9 "$D2"
CRASHES=("$(date +%s)") # the times of the crashes counted below
check "a second kill -9, 65 s after the first restart: started again" eventually 30 restarted "$D2"
check "... and said so" eventually 5 restarts_said 2
check "run.sh still runs" runsh_alive
check "lighttpd still runs (the same process) and answers" eval '[ "$(httpd_pid)" = "$H1" ] && http_up'
check "PostgreSQL still runs" pg_up

# ---- crashes in a row: the sixth within a minute gives up ----
# within I SECS: how many crashes of CRASHES fell within the SECS seconds up
# to the I-th. (run.sh notices a crash up to a second after the kill, so
# the rule is checked with two seconds of slack on each side.)
within() {
  local i=$1 secs=$2 n=0 t
  for t in "${CRASHES[@]:0:$((i + 1))}"; do
    [ $((CRASHES[i] - t)) -lt "$secs" ] && n=$((n + 1))
  done
  echo "$n"
}
gave_up=0
for i in 1 2 3 4 5 6 7 8; do
  p=$(daemon_pid)
  [ -n "$p" ] || break
  kill -9 "$p"
  CRASHES+=("$(date +%s)")
  # restarted, or run.sh gave up
  eventually 30 eval 'restarted "$p" || ! runsh_alive' || break
  if ! runsh_alive; then gave_up=$i; break; fi
done
# The rule: run.sh gives up once more than 5 crashes fell within a minute,
# not before: at the 5th crash after the one above, or the 6th (run.sh
# counts a death when its once-a-second round notices it, and a kill that
# lands while it still waits for the daemon it just started can shift the
# count by one).
check "more than 5 restarts within a minute: run.sh gives up (on the 5th crash after the one above)" \
  eval '[ "$gave_up" -ge 5 ] && [ "$gave_up" -le 6 ] && [ "$(within "$gave_up" 62)" -gt 5 ]'
[ "$gave_up" = 5 ] || diag "gave up at crash $gave_up after the one above (crash times ${CRASHES[*]})"
check "... saying why" grep -q "services keep dying; giving up" "$LOG"
wait "$RUNSH_PID" 2>/dev/null; rc=$?
check "... exits with status 1" [ "$rc" = 1 ]
check "... and stops everything: daemon, lighttpd, PostgreSQL" \
  eval '[ -z "$(daemon_pid)" ] && ! http_up && ! pg_up'

# ---- a daemon that cannot start again is retried within the limit ----
LOG="$T/runsh2.out"
if ! start_runsh "$VAR" "$LOG" MULETEER_HTTP_PORT="$HP"; then
  not_ok "run.sh starts again"; diag "$(tail -n 20 "$LOG")"; finish; exit 1
fi
# the daemon refuses this file: each restart fails at once
echo "no_such_key = 1" >>"$VAR/muleteer.conf"
kill -9 "$(daemon_pid)"
gone() { ! runsh_alive; }
check "a daemon that fails to start again: run.sh keeps trying, then gives up" eventually 60 gone
check "... after 5 restarts within a minute (each failing), not at the first" \
  eval '[ "$(grep -c "muleteerd exited" "$LOG")" = 5 ] && grep -q "services keep dying; giving up" "$LOG"'
[ "$(grep -c "muleteerd exited" "$LOG")" = 5 ] || diag "$(cat "$LOG")"
finish
