#!/usr/bin/env bash
# starvation.sh: one address holding hundreds of idle TCP connections to
# muleteerd's eD2K port must not stop transfers. tests/fixtures/idle_conns
# holds 300 connections from 127.0.0.1 (each one closed is opened again
# half a second later) while Muleteer downloads a file from a real amuled
# (on loopback too; an eD2K server fixture keeps it logged in): data must
# arrive within 30 s, Muleteer keeps no more of the attacker's connections
# than its per-address limit, and the download completes while the
# attack goes on. Then 300 idle connections from 100 addresses (under the
# per-address limit): incoming connections may not take the share of the
# budget kept for connections to sources (outgoing_reserve), and the
# oldest silent ones make room for new ones, and for a connection to a
# source when there is no reserve: a second and a third download start
# within 30 s too. TAP.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/amule.sh"
. "$MT_SRCDIR/tests/integration/mule.sh"
trap 'amule_stop_all; cleanup' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

IDLE="$MT_BUILDDIR/tests/fixtures/idle_conns"
ATTACK=300        # idle connections the attacker holds
PER_IP=3          # max_connections_per_ip (the default)
FIRST_DATA=30     # seconds for the first data to arrive

mk_tmpdir T
SP=$(free_port); SEEDP=$(free_port); AP=$(free_port)

# ---- the seeder: a real amuled, logged in to the server fixture ----
"$MT_BUILDDIR/tests/fixtures/ed2k_server" --port "$SP" --highid-all --log "$T/server.log" &
CLEANUP_PIDS+=("$!")
eventually 10 grep -qs 'listening' "$T/server.log" || { not_ok "server fixture starts"; finish; exit 1; }
head -c 6000000 /dev/urandom >"$T/file.bin"
head -c 3000000 /dev/urandom >"$T/file2.bin"
head -c 2000000 /dev/urandom >"$T/file3.bin"
HASH=$(rhash --printf '%{ed2k}' "$T/file.bin")
HASH2=$(rhash --printf '%{ed2k}' "$T/file2.bin")
HASH3=$(rhash --printf '%{ed2k}' "$T/file3.bin")
amule_start SEED "$T/seed" "$SEEDP" $((SEEDP + 1)) $((SEEDP + 2)) "$SP"
check "amuled shares the files" \
  eval 'amule_share SEED "$T/file.bin" && amule_share SEED "$T/file2.bin" && amule_share SEED "$T/file3.bin"'
check "amuled logs in to the server fixture" eventually 60 amule_connected SEED

# ---- Muleteer, and the attack on its eD2K port ----
start_mule A "$T/a" "$AP"
check "Muleteer starts" eval 'mcli "$T/a" ping >/dev/null'
# attack NAME ARGS...: idle_conns with $ATTACK connections to Muleteer's
# eD2K port, each closed one opened again after 0.5 s; ATTACK_PID.
attack() {
  local name=$1; shift
  "$IDLE" --port "$AP" --count "$ATTACK" --reconnect 500 --log "$T/$name.log" "$@" \
    2>>"$T/$name.stderr" &
  ATTACK_PID=$!
  CLEANUP_PIDS+=("$ATTACK_PID")
}
# launched NAME: the attacker has had all its connections established.
launched() {
  local n; n=$(sed -n 's/.* status .* connects=\([0-9]*\) .*/\1/p' "$T/$1.log" | tail -n 1)
  [ -n "$n" ] && [ "$n" -ge "$ATTACK" ]
}
connections() { json_num "$(mcli "$T/a" --json status 2>/dev/null)" connections; }
# done_of HASH: the bytes of that download on disk (the first "done" after
# its hash).
done_of() {
  mcli "$T/a" --json downloads 2>/dev/null | awk -v h="$1" '
    $0 ~ "\"hash\": *\"" h "\"" { f = 1 }
    f && /"done":/ { sub(/.*"done": */, ""); sub(/[^0-9].*/, ""); print; exit }'
}
got_data() { local d; d=$(done_of "$1"); [ -n "$d" ] && [ "$d" -gt 0 ]; }
# download NAME SIZE HASH: adds it with amuled as its source; true when
# data arrives within FIRST_DATA seconds.
download() {
  local t0; t0=$(date +%s)
  mcli "$T/a" add "ed2k://|file|$1|$2|$3|/|sources,127.0.0.1:$SEEDP|/" >/dev/null
  if eventually "$FIRST_DATA" got_data "$3"; then
    ok "$1: the download receives data within $FIRST_DATA s ($(( $(date +%s) - t0 )) s)"
  else
    not_ok "$1: the download receives data within $FIRST_DATA s"
    diag "$(mcli "$T/a" downloads 2>&1 | head -n 10)" \
      "$(grep -E 'connect|slot|closing' "$T/a/muleteerd.log" | grep -v ' incoming connection' | tail -n 10)"
  fi
}

attack attack
check "the attacker opened $ATTACK connections to Muleteer's eD2K port" eventually 20 launched attack
sleep 2
diag "Muleteer's peer connections under attack: $(connections)"

# ---- a real download starts while the attack goes on ----
download file.bin 6000000 "$HASH"
check "the attacker is still at it" kill -0 "$ATTACK_PID"
c=$(connections)
check "Muleteer keeps at most $PER_IP of its connections, plus the source's ($c in all)" \
  eval '[ -n "$c" ] && [ "$c" -le $((PER_IP + 2)) ]'
complete() { [ -f "$T/a/incoming/$1" ]; }
check "the download completes under attack" eventually 120 complete file.bin
check "the file is identical" cmp -s "$T/a/incoming/file.bin" "$T/file.bin"
kill -TERM "$ATTACK_PID"; wait "$ATTACK_PID" 2>/dev/null
stop_a() { kill -TERM "${MULE_PID[A]}"; wait "${MULE_PID[A]}"; }
check "Muleteer stops cleanly on SIGTERM" stop_a

# ---- the same from 100 addresses, 3 connections each ----
# With the default outgoing reserve (20% of 250), then with none: then the
# connection to the source takes the place of the oldest silent one.
# Muleteer starts again each time, so the download needs a new connection
# to amuled.
MAX=250
for RESERVE in 20 0; do
  if [ "$RESERVE" = 20 ]; then f=file2.bin size=3000000 h=$HASH2; else f=file3.bin size=2000000 h=$HASH3; fi
  from=$(( $(wc -l <"$T/a/muleteerd.log") + 1 ))
  start_mule A "$T/a" "$AP" "outgoing_reserve = $RESERVE"
  check "Muleteer starts (outgoing_reserve = $RESERVE)" eval 'mcli "$T/a" ping >/dev/null'
  attack "spread$RESERVE" --bind 127.0.0.2 --bind-count 100
  check "the spread attacker opened $ATTACK connections" eventually 20 launched "spread$RESERVE"
  sleep 2
  c=$(connections)
  check "incoming connections leave $RESERVE% of the budget free ($c of $MAX held)" \
    eval '[ -n "$c" ] && [ "$c" -le $((MAX - MAX * RESERVE / 100)) ]'
  download "$f" "$size" "$h"
  check "the spread attacker is still at it" kill -0 "$ATTACK_PID"
  check "$f: the download completes under attack" eventually 120 complete "$f"
  check "$f: the file is identical" cmp -s "$T/a/incoming/$f" "$T/$f"
  check "silent connections made room for new ones" \
    eval 'tail -n "+$from" "$T/a/muleteerd.log" | grep -q "closing: no hello yet, and the connection budget is full"'
  [ "$RESERVE" = 0 ] && check "a silent connection made room for the connection to amuled" \
    eval 'tail -n "+$from" "$T/a/muleteerd.log" | grep -q "closing: no hello yet, and a source needs the room"'
  kill -TERM "$ATTACK_PID"; wait "$ATTACK_PID" 2>/dev/null
  check "Muleteer stops cleanly on SIGTERM" stop_a
done
bad=$(grep -lE 'AddressSanitizer|LeakSanitizer|runtime error:' "$T"/a/stderr 2>/dev/null || true)
check "no sanitizer reports" [ -z "$bad" ]
[ -n "$bad" ] && diag "$(head -40 $bad)"
finish
