#!/usr/bin/env bash
# share_ratio_amule.sh: a real amuled 2.3.3 downloads a finished file
# from Muleteer until the global ratio limit set through
# app/setPreferences is reached; Muleteer then stops sharing the file
# (withheld, stoppedUP, no more bytes go out). The real stack (run.sh:
# PostgreSQL, muleteerd M, lighttpd with cgi-bin/qbit) is a LowID of the
# server fixture, which relays amuled's callback (amuled refuses HighID
# sources on loopback: ../shared/amule-testing.md); a plain muleteerd A
# is where M got the file. TAP.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/mule.sh"
. "$MT_SRCDIR/tests/integration/amule.sh"
trap 'amule_stop_all; cleanup' EXIT

mk_tmpdir T
SP=$(free_port); AP=$(free_port); MP=$(free_port); HP=$(free_port); S2P=$(free_port)
SIZE=5000000
RATIO=0.5

"$MT_BUILDDIR/tests/fixtures/ed2k_server" --port "$SP" --highid-all --lowid-port "$MP" \
  --keep-offers --log "$T/server.log" &
CLEANUP_PIDS+=("$!")
eventually 10 grep -qs listening "$T/server.log" || { not_ok "server fixture starts"; finish; exit 1; }

# ---- A has the file; M gets it from A (link sources) ----
mkdir -p "$T/a/share"
head -c "$SIZE" /dev/urandom >"$T/a/share/ratiotest.bin"
H=$(rhash --printf '%{ed2k}' "$T/a/share/ratiotest.bin")
start_mule A "$T/a" "$AP" "shared_dirs = $T/a/share"
a_shares() { mcli "$T/a" shared | grep -q ratiotest.bin; }
check "A shares the file" eventually 30 a_shares

VAR="$T/var"
mkdir -p "$VAR"
PASS="ratio-pass-$RANDOM$RANDOM"
cat >"$VAR/muleteer.conf" <<EOF
node_name = ratio-node
state_dir = $VAR
log_file = $VAR/log/muleteerd.log
log_level = debug
tcp_port = $MP
udp_port = $((MP + 1))
web_password = $PASS
filter_lan = no
servers = 127.0.0.1:$SP
EOF
chmod 0600 "$VAR/muleteer.conf"
chown_service "$VAR/muleteer.conf" 2>/dev/null || true
if ! start_runsh "$VAR" "$T/runsh.out" MULETEER_HTTP_PORT="$HP"; then
  not_ok "run.sh starts the stack"; diag "$(tail -n 20 "$T/runsh.out")"; finish; exit 1
fi
M="$VAR"
LOG="$VAR/log/muleteerd.log"
API="http://127.0.0.1:$HP/api/v2"
JAR="$T/cookies"
req() {
  local m=$1 p=$2; shift 2
  CODE=$(curl -sS -b "$JAR" -c "$JAR" -X "$m" -o "$T/body" -w '%{http_code}' "$@" "$API/$p")
  BODY=$(cat "$T/body")
}
jqt() { jq -e "$@" <<<"$BODY" >/dev/null 2>&1; }
J() { local a=${2-}; [ -n "$a" ] || a='{}'; mcli "$M" --json call "$1" "$a"; }
fin() { J downloads | jq -r --arg h "$H" ".finished[] | select(.hash == \$h) | $1"; }

req POST auth/login --data-urlencode username=admin --data-urlencode "password=$PASS"
check "login" [ "$BODY" = "Ok." ]
# 100 KiB/s up: the limit is reached half-way, not after a burst
req POST app/setPreferences --data-urlencode \
  "json={\"max_ratio_enabled\": true, \"max_ratio\": $RATIO, \"max_ratio_act\": 0, \"up_limit\": 102400}"
check "setPreferences: a global ratio of $RATIO, stop, 100 KiB/s up" [ "$CODE" = 200 ]
lowid() { mcli "$M" --json server | grep -q '"lowid": *true'; }
check "M logs in to the server as a LowID" eventually 30 lowid

mcli "$M" add "ed2k://|file|ratiotest.bin|$SIZE|$H|/|sources,127.0.0.1:$AP|/" >/dev/null
done_m() { [ "$(fin .state)" = completed ]; }
check "M downloads the file from A" eventually 90 done_m
check "... and shares it (nothing uploaded yet: ratio 0 < $RATIO)" eval '[ "$(fin .sharing)" = active ]'
kill -TERM "${MULE_PID[A]}"; wait "${MULE_PID[A]}" 2>/dev/null

# ---- amuled downloads it from M ----
amule_start S2 "$T/s2" "$S2P" $((S2P + 1)) $((S2P + 2)) "$SP"
check "amuled logs in to the server" eventually 60 amule_connected S2
if amule_search_download S2 ratiotest ratiotest.bin; then
  ok "amuled finds M's finished file by a search on the server and downloads it"
else
  not_ok "amuled finds M's finished file by a search on the server and downloads it"
  diag "$AMULE_RESULTS" "$(grep search "$T/server.log" | tail -n 3)"
fi
stopped() { [ "$(fin .sharing)" = stopped ]; }
if eventually 300 stopped; then ok "once amuled took $RATIO of the file, M stops sharing it"; else
  not_ok "once amuled took $RATIO of the file, M stops sharing it"
  diag "$(J downloads | jq -c .finished)" "$(amule_cmd S2 show dl)" \
    "$(grep -E "mt-S2|callback|upload" "$LOG" | grep -v "block\|sent" | tail -n 10)"
fi
UP=$(fin .uploaded)
check "... after uploading at least $RATIO of it, and not all of it ($UP bytes)" \
  awk -v u="$UP" -v s="$SIZE" -v r="$RATIO" 'BEGIN { exit !(u >= s * r && u < s) }'
check "... the log says so" grep -q "finished $H: .*no longer shared (ratio)" "$LOG"
check "... amuled really downloaded from M" grep -q "upload: slot for mt-S2" "$LOG"
withheld() { mcli "$M" --json shared | jq -e --arg h "$H" 'any(.files[]; .hash == $h and .withheld)' >/dev/null; }
check "... its file is withheld" withheld
stopped_up() { req GET "torrents/info?hashes=${H}00000000"; jqt '.[0].state == "stoppedUP" and .[0].ratio >= 0.5'; }
check "... /api/v2 reports it stoppedUP" eventually 10 stopped_up
sleep 15
UP2=$(fin .uploaded)
check "... (uploaded stays at $UP2 after 15 s, at most one block past the stop)" \
  awk -v a="$UP" -v b="$UP2" 'BEGIN { exit !(b - a <= 184320) }'
sleep 10
check "... nor 10 s later" [ "$(fin .uploaded)" = "$UP2" ]
check "... and amuled's download did not complete" eval '! amule_is_complete S2 ratiotest.bin'
check "the daemon's upload limit was set through setPreferences" eval \
  '[ "$(mcli "$M" --json limits | jq .max_upload)" = 100 ]'

finish
