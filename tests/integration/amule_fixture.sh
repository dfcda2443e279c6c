#!/usr/bin/env bash
# amule_fixture.sh: proves the eD2K server fixture and the amuled kit work:
# two real amuleds log in to tests/fixtures/ed2k_server on loopback and one
# downloads a file from the other through a LowID callback. TAP output.
#
# A (seeder) is forced to a LowID (--lowid-port), B (downloader) gets its
# HighID from the fixture's real port check. B adds the link without
# sources; OP_GETSOURCES -> OP_FOUNDSOURCES with A's LowID -> B's
# OP_CALLBACKREQUEST -> OP_CALLBACKREQUESTED to A -> A connects to B and
# uploads. amuled drops HighID sources in 127/8, so on loopback this is the
# only way one amuled downloads from another (amule-testing.md).
#
# Timing. amuled 2.3.3 offers its shared files to a server no earlier than
# about 61 s after it starts, whatever it shares and whenever it logs in
# (CSharedFileList::Process starts its one-minute republish timer on its
# first tick, before any login, and OP_OFFERFILES waits for it), so the
# seeder is started first and the rest of the checks run while it waits.
# Then the transfer runs at amuled's ~0.33 MB/s upload ceiling: the file is
# 4,000,000 bytes (one eD2K part, 22 blocks of 180 KiB), about 12 s, so
# that the whole test takes about 83 s. A two-part file (> 9,728,000 bytes)
# would add 18 s more and push it past 100 s. A stall (amule-testing.md)
# costs about 18 s more: amule_wait_complete restarts both amuleds, and the
# fixture's --keep-offers gives the restarted seeder its offer back at once.
# MT_AMULE_FAKE_STALL=1 freezes B (SIGSTOP) at 20% to show that handling.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/amule.sh"

FIXTURE="$MT_BUILDDIR/tests/fixtures/ed2k_server"
for prog in amuled amulecmd rhash ss socat; do
  if ! command -v "$prog" >/dev/null; then
    echo "Bail out! $prog is not installed (./run.sh check installs it)"; exit 1
  fi
done
[ -x "$FIXTURE" ] || { echo "Bail out! $FIXTURE is not built (make check builds it)"; exit 1; }

FX_PID=
on_exit() {
  amule_stop_all >/dev/null 2>&1
  # MT_KEEP_LOGS=DIR keeps the fixture's and the amuleds' logs for a look.
  if [ -n "${MT_KEEP_LOGS:-}" ]; then
    mkdir -p "$MT_KEEP_LOGS"
    cp "$FXLOG" "$MT_KEEP_LOGS/" 2>/dev/null
    cp "$DA/logfile" "$MT_KEEP_LOGS/amuled-A.log" 2>/dev/null
    cp "$DB/logfile" "$MT_KEEP_LOGS/amuled-B.log" 2>/dev/null
  fi
  cleanup
}
trap on_exit EXIT
trap 'exit 1' INT TERM
T0=$(date +%s)

# ---- ports: all distinct, and none at another one's TCP + 3 (amuled's
# server-UDP socket) or at the fixture's TCP + 4 (server UDP) ----
declare -A TAKEN=()
pick_port() {
  local p
  while :; do
    p=$(free_port)
    [ -z "${TAKEN[$p]:-}" ] && [ -z "${TAKEN[$((p + 3))]:-}" ] && [ -z "${TAKEN[$((p + 4))]:-}" ] &&
      [ -z "${TAKEN[$((p - 3))]:-}" ] && [ -z "${TAKEN[$((p - 4))]:-}" ] && break
  done
  TAKEN[$p]=1
  printf -v "$1" '%s' "$p"
}
pick_port SP
pick_port TA; pick_port UA; pick_port EA
pick_port TB; pick_port UB; pick_port EB

mk_tmpdir W
FXLOG="$W/ed2k_server.log" DA= DB=

# ---- the fixture ----
setsid "$FIXTURE" --port "$SP" --name "mt fixture" --lowid-port "$TA" --keep-offers --log "$FXLOG" \
  --pid-file "$W/ed2k_server.pid" 2>"$W/ed2k_server.err" </dev/null &
FX_PID=$!
CLEANUP_PIDS+=("$FX_PID")
if eventually 10 grep -qs "listening port=$SP " "$FXLOG"; then
  ok "the fixture listens on 127.0.0.1:$SP"
else
  not_ok "the fixture listens on 127.0.0.1:$SP"; diag "$(cat "$W/ed2k_server.err" "$FXLOG" 2>/dev/null)"
  finish; exit 1
fi
check "the fixture wrote its pid file" eval '[ "$(cat "$W/ed2k_server.pid")" = "$FX_PID" ]'

# ---- a random two-part file ----
FILE_NAME="mt-fixture-$$.bin"
head -c 4000000 /dev/urandom >"$W/$FILE_NAME"
HASH=$(rhash --ed2k --simple "$W/$FILE_NAME" | cut -d' ' -f1)
LINK="ed2k://|file|$FILE_NAME|4000000|$HASH|/"

# ---- amuled A (seeder, LowID) and B (downloader, HighID) ----
mk_tmpdir DA
mk_tmpdir DB
if amule_start A "$DA" "$TA" "$UA" "$EA" "$SP"; then ok "amuled A starts and answers amulecmd"
else not_ok "amuled A starts and answers amulecmd"; diag "$(tail -n 20 "$DA/amuled.log")"; finish; exit 1; fi
if amule_start B "$DB" "$TB" "$UB" "$EB" "$SP"; then ok "amuled B starts and answers amulecmd"
else not_ok "amuled B starts and answers amulecmd"; diag "$(tail -n 20 "$DB/amuled.log")"; finish; exit 1; fi
check "A keeps the fixed user hash written into preferences.dat" \
  eval '[ "$(od -An -tx1 -j1 "$DA/preferences.dat" | tr -d " \n")" = "$(_amule_userhash A)" ]'

if amule_share A "$W/$FILE_NAME"; then ok "A shares the file (amule_share)"
else not_ok "A shares the file (amule_share)"; fi
check "A's hash is the file's eD2K hash" [ "${AMULE_HASH,,}" = "$HASH" ]

check "A is logged in to the fixture (amulecmd status)" eventually 30 amule_connected A
check "B is logged in to the fixture (amulecmd status)" eventually 30 amule_connected B
check "the fixture gave A a LowID (forced by --lowid-port)" \
  grep -qE "login conn=[0-9]+ hash=[0-9a-f]{32} name=\"mt-A\" port=$TA flags=0x[0-9a-f]+ id=[0-9]+ lowid reason=forced" "$FXLOG"
check "the fixture gave B a HighID after a real port check" \
  eval 'grep -q "portcheck conn=[0-9]* target=127.0.0.1:$TB result=ok" "$FXLOG" &&
        grep -q "login conn=[0-9]* .* port=$TB flags=0x[0-9a-f]* id=16777343 highid reason=portcheck" "$FXLOG"'
CA=$(sed -n "s/.* login conn=\([0-9]*\) .* port=$TA .*/\1/p" "$FXLOG" | tail -n 1)
CB=$(sed -n "s/.* login conn=\([0-9]*\) .* port=$TB .*/\1/p" "$FXLOG" | tail -n 1)
LOWID_A=$(sed -n "s/.* login conn=$CA .* id=\([0-9]*\) lowid.*/\1/p" "$FXLOG" | tail -n 1)
# ---- garbage: the fixture survives it and keeps serving ----
fx_send() { # fx_send PRINTF-FORMAT: one connection, these bytes, then close
  { exec 3<>"/dev/tcp/127.0.0.1/$SP"; } 2>/dev/null || return 1
  printf "$1" >&3 2>/dev/null
  sleep 0.3
  exec 3>&-
}
head -c 4096 /dev/urandom | socat -u - "TCP:127.0.0.1:$SP" 2>/dev/null
fx_send '\xe3\xff\xff\xff\x7f\x01'                        # length over the limit
fx_send '\xe3\x40\x00\x00\x00\x15\x01\x00\x00\x00\xaa'     # truncated offer
fx_send '\x42\x42\x42\x42\x42\x42\x42'                    # bad protocol byte
fx_send '\xe3\x00\x00\x00\x00'                            # length 0
fx_send '\xe3\x05\x00\x00\x00\x01\xde\xad\xbe\xef'         # malformed login
# A bash client that logs in (port 0: LowID without a check), then sends
# malformed requests on a valid connection.
LOGIN='\xe3\x1b\x00\x00\x00\x01'"$(printf '\\x%02x' $(seq 160 175))"'\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'
BAD_SEARCH='\xe3\x06\x00\x00\x00\x16\x00\x07\x01\xff\xff'       # bad operator, over-long string
DEEP_SEARCH='\xe3\x41\x00\x00\x00\x16'"$(printf '\\x00\\x00%.0s' $(seq 1 32))"
BAD_OFFER='\xe3\x0b\x00\x00\x00\x15\xff\xff\xff\xff\x01\x02\x03\x04\x05\x06'   # huge count
BAD_SOURCES='\xe3\x0a\x00\x00\x00\x19\x01\x02\x03\x04\x05\x06\x07\x08\x09'     # 9 bytes
BAD_PACKED='\xd4\x06\x00\x00\x00\x15\x78\x9c\x01\x02\x03'                    # broken zlib
NO_CALLBACK='\xe3\x05\x00\x00\x00\x1c\x77\x77\x00\x00'                        # unknown LowID
UNKNOWN='\xe3\x03\x00\x00\x00\x7f\x01\x02'
fx_send "$LOGIN$BAD_SEARCH$DEEP_SEARCH$BAD_OFFER$BAD_SOURCES$BAD_PACKED$NO_CALLBACK$UNKNOWN"
sleep 0.5
check "the fixture survives random bytes, an over-long length, a truncated packet and bad frames" \
  eval 'kill -0 $FX_PID && [ "$(grep -c " error conn=" "$FXLOG")" -ge 3 ]'
check "it closes the over-long, the zero-length and the bad-protocol frames" \
  eval 'grep -q "error conn=[0-9]* reason=\"packet payload of 2147483646 bytes exceeds the limit of 262144\"" "$FXLOG" &&
        grep -q "error conn=[0-9]* reason=\"packet length 0 (no opcode)\"" "$FXLOG" &&
        grep -q "error conn=[0-9]* reason=\"unknown protocol byte 0x42\"" "$FXLOG"'
check "a malformed login is ignored" grep -q 'opcode=0x01 len=4 reason="malformed login' "$FXLOG"
check "malformed search trees get zero results" \
  eval '[ "$(grep -c "search conn=[0-9]* id=[0-9]* expr=\"malformed\" results=0" "$FXLOG")" = 2 ]'
check "an offer with a huge count, a bad source request and broken zlib are ignored" \
  eval 'grep -q "offer conn=[0-9]* id=[0-9]* files=0 total=0" "$FXLOG" &&
        grep -q "opcode=0x19 len=9 reason=\"bad getsources length\"" "$FXLOG" &&
        grep -q "ignored conn=[0-9]* proto=0xd4 opcode=0x15" "$FXLOG"'
check "a callback to an unknown LowID fails" grep -q 'callback-fail conn=[0-9]* id=[0-9]* target=30583' "$FXLOG"
check "an unknown opcode is logged and ignored" grep -q 'ignored conn=[0-9]* proto=0xe3 opcode=0x7f len=2$' "$FXLOG"

# ---- the transfer: B finds A through the fixture ----
check "A's offer reached the fixture" eventually 90 grep -qE "offer conn=$CA id=$LOWID_A files=1 total=1" "$FXLOG"
check "the login advertised zlib, new tags and large files (aMule's 0x71d)" \
  grep -q "login conn=$CA .* flags=0x71d " "$FXLOG"

check "B adds the ed2k link (no sources in it)" amule_add B "$LINK"
T1=$(date +%s)
check "B asks the fixture for sources and gets A's LowID" \
  eventually 30 grep -qE "getsources conn=$CB id=16777343 hash=$HASH sources=1 $LOWID_A:$TA\$" "$FXLOG"
check "the fixture relays B's callback request to A" \
  eventually 30 grep -qE "callback conn=$CB id=16777343 target=$LOWID_A relayed=$CA ip=127.0.0.1 port=$TB\$" "$FXLOG"

# ---- a search through the fixture (while the transfer runs) ----
amule_cmd B search local "mt-fixture" >/dev/null
check "B's search reaches the fixture and finds A's file" \
  eventually 20 grep -q "search conn=[0-9]* id=16777343 expr=\"mt-fixture\" results=1" "$FXLOG"
found() { amule_cmd B results | grep -qF "$FILE_NAME"; }
check "amulecmd results lists the file" eventually 10 found

if [ -n "${MT_AMULE_FAKE_STALL:-}" ]; then
  at20() { local p; p=$(amule_progress B "$FILE_NAME"); [ -n "$p" ] && [ "${p%.*}" -ge 20 ]; }
  if eventually 60 at20; then
    kill -STOP "${AMULE_PID[B]}"; diag "MT_AMULE_FAKE_STALL: froze B (SIGSTOP) at 20%"
  fi
fi

# ---- completion ----
if amule_wait_complete B "$FILE_NAME" 300 A; then
  ok "B completes the download ($(( $(date +%s) - T1 )) s, $AMULE_RESTARTS amuled restart(s))"
else
  not_ok "B completes the download"
  diag "B: $(amule_cmd B show dl | tail -n 3)" "$(tail -n 15 "$DB/logfile" 2>/dev/null)" "$(tail -n 25 "$FXLOG")"
fi
check "the downloaded file is byte for byte the original" cmp -s "$W/$FILE_NAME" "$DB/Incoming/$FILE_NAME"
[ -z "${MT_AMULE_FAKE_STALL:-}" ] || check "the frozen amuled was detected and restarted" [ "$AMULE_RESTARTS" -ge 2 ]

# ---- stop everything by PID; nothing may be left behind ----
PA=${AMULE_PID[A]} PB=${AMULE_PID[B]}
amule_stop_all; stop_rc=$?
check "both amuleds stop on SIGTERM (amule_stop_all)" \
  eval '[ $stop_rc = 0 ] && ! kill -0 $PA 2>/dev/null && ! kill -0 $PB 2>/dev/null'
kill -TERM "$FX_PID"
fx_rc=
for _ in $(seq 1 50); do kill -0 "$FX_PID" 2>/dev/null || break; sleep 0.1; done
if ! kill -0 "$FX_PID" 2>/dev/null; then wait "$FX_PID"; fx_rc=$?; fi
check "the fixture exits 0 on SIGTERM and removes its pid file" \
  eval '[ "$fx_rc" = 0 ] && grep -q "stopping signal=15" "$FXLOG" && [ ! -e "$W/ed2k_server.pid" ]'
check "no process is left in the test directories" \
  eval '[ -z "$(processes_of "$DA")$(processes_of "$DB")$(processes_of "$W")" ]'
bad=$(grep -lE 'AddressSanitizer|LeakSanitizer|runtime error:' "$W/ed2k_server.err" "$FXLOG" 2>/dev/null || true)
check "no sanitizer report from the fixture" [ -z "$bad" ]
[ -n "$bad" ] && diag "$(head -n 30 "$W/ed2k_server.err")"
diag "total time $(( $(date +%s) - T0 )) s"

finish
