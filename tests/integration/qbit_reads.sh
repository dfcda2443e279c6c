#!/usr/bin/env bash
# qbit_reads.sh: the /api/v2 routes answered from the daemon, through the
# real stack (run.sh: PostgreSQL, muleteerd, lighttpd and qbit.fcgi) with
# an eD2K server fixture and a real amuled sharing a two-part file:
# torrents/pieceStates and pieceHashes (eD2K parts, before, during and
# after a real download), torrents/trackers and webseeds, the global and
# alternative speed limits of transfer/ (enforced: a download from amuled
# measured under the alternative limit and without it; the mode survives a
# restart), log/main and log/peers. TAP.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/amule.sh"
trap 'amule_stop_all; cleanup' EXIT

CLI="$MT_BUILDDIR/bin/muleteer"
PART=9728000
mk_tmpdir T
SP=$(free_port); SEEDP=$(free_port); HP=$(free_port); MP=$(free_port)

# ---- the eD2K side first (amuled publishes a minute after its start) ----
"$MT_BUILDDIR/tests/fixtures/ed2k_server" --port "$SP" --name reads-fixture --highid-all \
  --log "$T/server.log" &
CLEANUP_PIDS+=("$!")
eventually 10 grep -qs listening "$T/server.log" || { not_ok "the server fixture starts"; finish; exit 1; }
FILE="two-parts-$$.bin"
head -c 10000000 /dev/urandom >"$T/$FILE"
MD4=$(rhash --printf '%{ed2k}' "$T/$FILE")
SIZE=$(stat -c %s "$T/$FILE")
amule_start SEED "$T/seed" "$SEEDP" $((SEEDP + 1)) $((SEEDP + 2)) "$SP"
check "amuled shares the two-part file" eval 'amule_share SEED "$T/$FILE"'
check "amuled logs in to the server fixture" eventually 60 amule_connected SEED

# ---- Muleteer ----
VAR="$T/var"
mkdir -p "$VAR"
KEY="readskey$RANDOM$RANDOM$RANDOM"
cat >"$VAR/muleteer.conf" <<EOF
node_name = reads-node
state_dir = $VAR
log_file = $VAR/log/muleteerd.log
tcp_port = $MP
udp_port = $((MP + 1))
web_password = reads-pass-$RANDOM$RANDOM
api_key = $KEY
servers = 127.0.0.1:$SP
filter_lan = no
sample_interval = 1
EOF
chmod 0600 "$VAR/muleteer.conf"
chown_service "$VAR/muleteer.conf" 2>/dev/null || true
if ! start_runsh "$VAR" "$T/runsh.out" MULETEER_HTTP_PORT="$HP"; then
  not_ok "run.sh starts the stack"; diag "$(tail -n 20 "$T/runsh.out")"; finish; exit 1
fi
API="http://127.0.0.1:$HP/api/v2"
AUTH="Authorization: Bearer $KEY"
mcli() { "$CLI" --socket "$VAR/run/muleteerd.sock" --timeout 10 "$@"; }

# req METHOD PATH [curl args...]: sets CODE, BODY and CTYPE.
req() {
  local m=$1 p=$2; shift 2
  local out
  out=$(curl -sS -m 30 -H "$AUTH" -X "$m" -o "$T/body" -w '%{http_code} %{content_type}' "$@" "$API/$p")
  CODE=${out%% *} CTYPE=${out#* } BODY=$(cat "$T/body" 2>/dev/null)
}
is() { [ "$CODE" = "$1" ] && [ "$BODY" = "$2" ]; }
jqt() { [ "$CODE" = 200 ] && jq -e "$@" <<<"$BODY" >/dev/null 2>&1; }
json() { [ "$CODE" = 200 ] && [[ "$CTYPE" == application/json* ]]; }

# ====================================== trackers, webseeds, unknown hashes
UNKNOWN=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa00000000
for r in trackers webseeds pieceStates pieceHashes; do
  req GET "torrents/$r?hash=$UNKNOWN"
  check "$r of an unknown hash: 404 Not Found (as properties)" is 404 "Not Found"
  req GET "torrents/$r?hash=xyz"
  check "$r of a malformed hash: 404 Not Found" is 404 "Not Found"
  req GET "torrents/$r"
  check "$r without a hash: 400 Bad Request" is 400 "Bad Request"
done

# two downloads no peer has: one part, and three parts
SMALL=$(printf '%s' "small-$$" | md5sum | cut -c1-32)
BIG=$(printf '%s' "big-$$" | md5sum | cut -c1-32)
req POST torrents/add --data-urlencode "urls=ed2k://|file|small-$$.bin|5000|$SMALL|/
ed2k://|file|big-$$.bin|20000000|$BIG|/" --data-urlencode paused=true
check "two downloads added (one part, three parts)" is 200 Ok.
listed() { req GET "torrents/info?hashes=${SMALL}00000000|${BIG}00000000"; jqt 'length == 2'; }
check "both are listed" eventually 10 listed
req GET "torrents/trackers?hash=${SMALL}00000000"
check "trackers of a known download: [] as JSON" eval 'json && [ "$BODY" = "[]" ]'
req POST "torrents/webseeds" --data-urlencode "hash=$SMALL"
check "webseeds (POST, bare MD4): [] as JSON" eval 'json && [ "$BODY" = "[]" ]'
req GET "torrents/pieceStates?hash=${BIG}00000000"
check "pieceStates of a new 20 MB download: three parts, none there" eval 'json && [ "$BODY" = "[0,0,0]" ]'
req GET "torrents/pieceHashes?hash=${BIG}00000000"
check "pieceHashes before the hash set is known: []" eval 'json && [ "$BODY" = "[]" ]'
req GET "torrents/pieceStates?hash=${SMALL}00000000"
check "pieceStates of a one-part download: [0]" is 200 "[0]"
req GET "torrents/pieceHashes?hash=${SMALL}00000000"
check "pieceHashes of a one-part download: its file hash" is 200 "[\"$SMALL\"]"
req GET "torrents/properties?hash=${BIG}00000000"
check "as many parts as properties' pieces_num" jqt '.pieces_num == 3'

# ============================================================ speed limits
req GET transfer/downloadLimit
check "downloadLimit: 0 (none configured)" is 200 0
req GET transfer/uploadLimit
check "uploadLimit: 0" is 200 0
req GET transfer/speedLimitsMode
check "speedLimitsMode: 0" is 200 0
req POST transfer/setDownloadLimit --data-urlencode limit=204800
check "setDownloadLimit 204800: 200" is 200 ""
req GET transfer/downloadLimit
check "downloadLimit now 204800" is 200 204800
req POST transfer/setUploadLimit --data-urlencode limit=1000
req GET transfer/uploadLimit
check "setUploadLimit 1000 (below 1 KiB/s): 1024, as qBittorrent rounds" is 200 1024
req POST transfer/setUploadLimit --data-urlencode limit=-5
req GET transfer/uploadLimit
check "setUploadLimit -5: unlimited again (0)" is 200 0
req POST transfer/setDownloadLimit -d ""
check "setDownloadLimit without limit: 400" is 400 "Bad Request"
req GET "transfer/setDownloadLimit?limit=1"
check "setDownloadLimit by GET: 405" is 405 "Method Not Allowed"
req GET transfer/info
check "transfer/info: dl_rate_limit 204800, qBittorrent's keys only (no mode)" \
  jqt '.dl_rate_limit == 204800 and .up_rate_limit == 0 and (has("use_alt_speed_limits") | not)'

req POST transfer/toggleSpeedLimitsMode -d ""
check "toggleSpeedLimitsMode: 200" is 200 ""
req GET transfer/speedLimitsMode
check "speedLimitsMode: 1" is 200 1
req GET transfer/downloadLimit
check "downloadLimit in alternative mode: the configured alternative 10 KiB/s" is 200 10240
req POST transfer/setDownloadLimit --data-urlencode limit=20480
req GET transfer/downloadLimit
check "setDownloadLimit in alternative mode sets the alternative limit (20480)" is 200 20480
check "the daemon keeps both pairs: normal 200 KiB/s, alternative 20 KiB/s, the alternative in force" \
  eval 'mcli --json call limits | jq -e ".max_download == 200 and .alt_max_download == 20
        and .alt_mode == true and .download_limit == 20" >/dev/null'
req GET sync/maindata
check "sync/maindata's server_state: use_alt_speed_limits true, dl_rate_limit 20480" \
  jqt '.server_state.use_alt_speed_limits == true and .server_state.dl_rate_limit == 20480'
req GET transfer/info
check "transfer/info: the alternative limit in force" jqt '.dl_rate_limit == 20480 and .up_rate_limit == 10240'
req POST transfer/setSpeedLimitsMode --data-urlencode mode=abc
check "setSpeedLimitsMode mode=abc: 400 'mode': invalid argument" is 400 "'mode': invalid argument"
req POST transfer/setSpeedLimitsMode -d ""
check "setSpeedLimitsMode without mode: 400" is 400 "Bad Request"
req POST transfer/setSpeedLimitsMode --data-urlencode mode=0
req GET transfer/downloadLimit
check "setSpeedLimitsMode 0: the normal limit again (204800)" is 200 204800
req POST transfer/setSpeedLimitsMode --data-urlencode mode=7
req GET transfer/speedLimitsMode
check "setSpeedLimitsMode 7 (any non-zero): alternative mode" is 200 1

# ===================================== enforcement: a real transfer timed
# Alternative mode at 20 KiB/s (normal: unlimited) while the file comes
# from amuled (at most about 330 kB/s on loopback).
req POST transfer/setDownloadLimit --data-urlencode limit=20480
req POST transfer/setSpeedLimitsMode --data-urlencode mode=0
req POST transfer/setDownloadLimit --data-urlencode limit=0
req POST transfer/setSpeedLimitsMode --data-urlencode mode=1
check "set up: alternative 20 KiB/s in force, normal unlimited" \
  eval 'mcli --json call limits | jq -e ".max_download == 0 and .download_limit == 20" >/dev/null'
amuled_offered() { grep -q "offer conn=1 id=[0-9]* files=1" "$T/server.log"; }
check "amuled has published the file on the server" eventually 120 amuled_offered
req POST torrents/add --data-urlencode "urls=ed2k://|file|$FILE|$SIZE|$MD4|/"
check "the two-part file is added" is 200 Ok.
H40=${MD4}00000000
# done bytes as the daemon counts them (its own answer, not the database's
# once-a-second copy)
done_bytes() { mcli --json call downloads | jq -r --arg h "$MD4" '.downloads[] | select(.hash == $h) | .done'; }
moving() { local d; d=$(done_bytes); [ -n "$d" ] && [ "$d" -gt 0 ]; }
if eventually 120 moving; then ok "the download receives data from amuled"; else
  not_ok "the download receives data from amuled"; diag "$(tail -n 20 "$VAR/log/muleteerd.log")"; fi
sleep 3
D0=$(done_bytes); S0=$(date +%s.%N)
sleep 12
D1=$(done_bytes); S1=$(date +%s.%N)
ALT_RATE=$(awk -v a="${D0:-0}" -v b="${D1:-0}" -v s="$S0" -v e="$S1" 'BEGIN { printf "%d", (b - a) / (e - s) }')
diag "under the alternative limit of 20480 B/s: $ALT_RATE B/s over 12 s"
check "under the alternative limit the download runs at most at 20 KiB/s (+25% for bursts)" \
  eval '[ "$ALT_RATE" -gt 0 ] && [ "$ALT_RATE" -le 25600 ]'
req GET "torrents/pieceStates?hash=$H40"
check "pieceStates while part 0 is coming: [1,0] or [1,1]" \
  eval 'json && { [ "$BODY" = "[1,0]" ] || [ "$BODY" = "[1,1]" ]; }'
req POST transfer/toggleSpeedLimitsMode -d ""
# free_window: the rate over 4 s (a download that completes meanwhile has
# all its bytes); amuled sometimes stalls for a while (amule-testing.md),
# so up to five windows are tried.
FREE_RATE=0
free_window() {
  local a b s e
  a=$(done_bytes); s=$(date +%s.%N)
  [ -n "$a" ] || return 1
  sleep 4
  b=$(done_bytes); e=$(date +%s.%N)
  [ -n "$b" ] || b=$SIZE
  FREE_RATE=$(awk -v a="$a" -v b="$b" -v s="$s" -v e="$e" 'BEGIN { printf "%d", (b - a) / (e - s) }')
  diag "with the normal limits (none): $FREE_RATE B/s over 4 s"
  [ "$FREE_RATE" -ge $((3 * 20480)) ]
}
for i in 1 2 3 4 5; do free_window && break; done
check "toggled back to the normal (unlimited) pair, it runs at least three times faster" \
  eval '[ "$FREE_RATE" -ge $((3 * 20480)) ]'
completed() { req GET "torrents/info?hashes=$H40"; jqt '.[0].progress == 1'; }
if eventually 240 completed; then ok "the download completes"; else
  not_ok "the download completes"; diag "$BODY" "$(tail -n 20 "$VAR/log/muleteerd.log")"; fi
req GET "torrents/pieceStates?hash=$H40"
check "pieceStates of the finished download: [2,2]" is 200 "[2,2]"
split -b $PART "$T/$FILE" "$T/chunk."
WANT=$(for c in "$T"/chunk.*; do rhash --printf '%{md4}\n' "$c"; done | jq -Rsc 'split("\n") | map(select(length > 0))')
hashes_ok() { req GET "torrents/pieceHashes?hash=$H40"; json && [ "$BODY" = "$WANT" ]; }
check "pieceHashes of the finished download: the MD4 of each 9,728,000-byte part" eventually 10 hashes_ok
diag "pieceHashes: $BODY (want $WANT)"

# ================================================================== logs
req GET log/main
check "log/main: a JSON array of {id, message, timestamp, type}" \
  eval 'json && jq -e "length > 0 and all(.[]; has(\"id\") and has(\"message\") and has(\"timestamp\")
        and has(\"type\")) and (map(.id) == (map(.id) | sort)) and (map(.id) | unique | length) == length" \
        <<<"$BODY" >/dev/null'
NOW_MS=$(($(date +%s) * 1000))
check "the start is there, a normal message (type 1) with a timestamp in milliseconds" \
  jqt --argjson now "$NOW_MS" 'any(.[]; (.message | test("muleteerd .* started")) and .type == 1
        and .timestamp > $now - 3600000 and .timestamp <= $now + 1000)'
check "switching the alternative limits is logged" jqt 'any(.[]; .message | test("alternative speed limits (on|off)"))'
LAST=$(jq '.[-1].id' <<<"$BODY")
req GET "log/main?last_known_id=$LAST"
check "last_known_id = the last id: nothing newer" is 200 "[]"
req GET "log/main?last_known_id=$((LAST - 1))"
check "last_known_id = one before: exactly the last entry" jqt --argjson l "$LAST" 'length == 1 and .[0].id == $l'
req GET "log/main?normal=false"
check "normal=false leaves out type 1" jqt 'all(.[]; .type != 1)'
req GET "log/main?normal=false&info=false&warning=false&critical=false"
check "every type off: []" is 200 "[]"
req GET "log/main?last_known_id=junk&normal=junk"
check "junk parameters are qBittorrent's defaults (all, every type)" jqt --argjson l "$LAST" 'length >= ($l + 1)'
req GET log/peers
check "log/peers: a JSON array (no peer banned here)" eval 'json && [ "$BODY" = "[]" ]'
req GET "log/peers?last_known_id=5"
check "log/peers with last_known_id: []" is 200 "[]"

# ====================================== the mode survives a restart
req POST transfer/setSpeedLimitsMode --data-urlencode mode=1
check "the alternative mode is on before the restart" eval 'is 200 "" && mcli --json call limits | jq -e .alt_mode >/dev/null'
check "the stack stops" stop_runsh "$RUNSH_PID"
if ! start_runsh "$VAR" "$T/runsh2.out" MULETEER_HTTP_PORT="$HP"; then
  not_ok "run.sh starts the stack again"; diag "$(tail -n 20 "$T/runsh2.out")"; finish; exit 1
fi
mode_on() { req GET transfer/speedLimitsMode; is 200 1; }
check "after a restart the alternative mode is still on" eventually 10 mode_on
req GET transfer/downloadLimit
check "... with the configured alternative limit (run-time limits last until a restart)" is 200 10240
req GET "torrents/pieceStates?hash=$H40"
check "after a restart the finished download's parts: [2,2]" is 200 "[2,2]"
req GET "log/main?last_known_id=-1"
check "the new daemon's log starts again from id 0" jqt '.[0].id == 0'

amule_stop_all
check "the stack stops" stop_runsh "$RUNSH_PID"
finish
