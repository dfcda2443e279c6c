#!/usr/bin/env bash
# qbit_actions.sh: the per-download action routes of /api/v2 as qBittorrent
# 5.0 answers them, on the real stack (run.sh: PostgreSQL, muleteerd,
# lighttpd, cgi-bin/qbit) with a real amuled as the source: the
# per-download rate limits (set, read back, and enforced on a real transfer
# in both directions: measured from amuled into Muleteer, and from Muleteer
# into a second muleteerd), rename, setLocation, recheck, the tag list,
# reannounce and filePrio. TAP output.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/amule.sh"
. "$MT_SRCDIR/tests/integration/mule.sh"
trap 'amule_stop_all; cleanup' EXIT

PSQL() { as_service_user psql "$DB" -XAtq -c "$1" 2>/dev/null; }
sql_is() { [ "$(PSQL "$1")" = "$2" ]; }

mk_tmpdir T
SP=$(free_port); SEEDP=$(free_port); HP=$(free_port); MP=$(free_port); BP=$(free_port)

# ---- the eD2K side: a server fixture and amuled sharing a file ----
"$MT_BUILDDIR/tests/fixtures/ed2k_server" --port "$SP" --name actions-fixture --highid-all \
  --log "$T/server.log" &
CLEANUP_PIDS+=("$!")
eventually 10 grep -qs listening "$T/server.log" || { not_ok "the server fixture starts"; finish; exit 1; }
FILE="actions-$$.bin"
head -c 6000000 /dev/urandom >"$T/$FILE"
MD4=$(rhash --printf '%{ed2k}' "$T/$FILE")
SIZE=$(stat -c %s "$T/$FILE")
H=${MD4}00000000
amule_start SEED "$T/seed" "$SEEDP" $((SEEDP + 1)) $((SEEDP + 2)) "$SP"
check "amuled shares the file" eval 'amule_share SEED "$T/$FILE"'

# ---- Muleteer through run.sh ----
VAR="$T/var"
mkdir -p "$VAR" "$VAR/roots/movies"
PASS="act-pass-$RANDOM$RANDOM"
cat >"$VAR/muleteer.conf" <<EOF
node_name = actions-node
state_dir = $VAR
log_file = $VAR/log/muleteerd.log
log_level = debug
tcp_port = $MP
udp_port = $((MP + 1))
web_username = admin
web_password = $PASS
servers = 127.0.0.1:$SP
filter_lan = no
download_roots = $VAR/roots
EOF
chmod 0600 "$VAR/muleteer.conf"
chown_service "$VAR/muleteer.conf" 2>/dev/null || true
if ! start_runsh "$VAR" "$T/runsh.out" MULETEER_HTTP_PORT="$HP"; then
  not_ok "run.sh starts the stack"; diag "$(tail -n 20 "$T/runsh.out")"; finish; exit 1
fi
DB=$(conf_key "$VAR" database)
API="http://127.0.0.1:$HP/api/v2"
JAR="$T/cookies"
SOCK="$VAR/run/muleteerd.sock"
req() {
  local m=$1 p=$2; shift 2
  CODE=$(curl -sS -b "$JAR" -c "$JAR" -X "$m" -o "$T/body" -w '%{http_code}' "$@" "$API/$p")
  BODY=$(cat "$T/body")
}
is() { [ "$CODE" = "$1" ] && [ "$BODY" = "$2" ]; }
jqt() { jq -e "$@" <<<"$BODY" >/dev/null 2>&1; }
# done_of SOCKET: the bytes received of the first download on that daemon
done_of() { json_num "$("$CLI" --socket "$1" --json downloads 2>/dev/null)" done; }

req POST auth/login --data-urlencode username=admin --data-urlencode "password=$PASS"
check "login" is 200 Ok.

# ================================================ per-download rate limits
LIMIT=51200
LINK="ed2k://|file|$FILE|$SIZE|$MD4|/|sources,127.0.0.1:$SEEDP|/"
req POST torrents/add --data-urlencode "urls=$LINK" --data-urlencode stopped=true
check "the download is added, stopped" is 200 Ok.
req POST torrents/setDownloadLimit --data-urlencode "hashes=$H" --data-urlencode "limit=$LIMIT"
check "setDownloadLimit: 200, empty" is 200 ""
req GET "torrents/downloadLimit?hashes=$H|0123456789abcdef0123456789abcdef01234567"
check "downloadLimit: the limit by the hash given, -1 for an unknown hash" \
  jqt --arg h "$H" --argjson l $LIMIT '.[$h] == $l and .["0123456789abcdef0123456789abcdef01234567"] == -1 and length == 2'
req GET "torrents/uploadLimit?hashes=$H"
check "uploadLimit: 0 (none) until set" jqt --arg h "$H" '.[$h] == 0'
req GET "torrents/info?hashes=$H"
check "info: dl_limit is the limit, up_limit 0" jqt --argjson l $LIMIT '.[0].dl_limit == $l and .[0].up_limit == 0'
req GET "torrents/properties?hash=$H"
check "properties: dl_limit is the limit, up_limit -1 (none)" jqt --argjson l $LIMIT '.dl_limit == $l and .up_limit == -1'
req POST torrents/setDownloadLimit --data-urlencode "hashes=$H"
check "setDownloadLimit without limit: 400" eval '[ "$CODE" = 400 ]'
in_meta() { grep -rqsE "\"dl_limit\": *$LIMIT" "$(conf_key "$VAR" temp_dir || true)" "$VAR/temp" 2>/dev/null; }
check "the limit is kept in the part file's metadata" eventually 10 in_meta

req POST torrents/start --data-urlencode "hashes=$H"
started() { d=$(done_of "$SOCK"); [ -n "$d" ] && [ "$d" -gt 0 ]; }
if eventually 120 started; then ok "amuled starts sending"; else not_ok "amuled starts sending"
  diag "$("$CLI" --socket "$SOCK" downloads 2>&1)"; fi
sleep 3 # past the slot's first burst
d0=$(done_of "$SOCK"); t0=$(date +%s.%N)
sleep 20
d1=$(done_of "$SOCK"); t1=$(date +%s.%N)
RATE=$(awk -v a="$d0" -v b="$d1" -v s="$t0" -v e="$t1" 'BEGIN { printf "%d", (b - a) / (e - s) }')
diag "with dl_limit $LIMIT B/s: $RATE B/s over 20 s"
check "the download stays near its limit (between 0.3x and 1.25x of $LIMIT B/s)" \
  eval '[ "$RATE" -le $((LIMIT * 5 / 4)) ] && [ "$RATE" -ge $((LIMIT * 3 / 10)) ]'
req POST torrents/setDownloadLimit --data-urlencode "hashes=$H" --data-urlencode limit=0
check "setDownloadLimit 0 lifts it" is 200 ""
req GET "torrents/downloadLimit?hashes=$H"
check "downloadLimit: 0 after lifting" jqt --arg h "$H" '.[$h] == 0'
sleep 2
d0=$(done_of "$SOCK"); t0=$(date +%s.%N)
sleep 8
d1=$(done_of "$SOCK"); t1=$(date +%s.%N)
[ -f "$VAR/incoming/$FILE" ] && d1=$SIZE
FREE=$(awk -v a="$d0" -v b="$d1" -v s="$t0" -v e="$t1" 'BEGIN { printf "%d", (b - a) / (e - s) }')
diag "without a limit: $FREE B/s"
check "without the limit it goes faster than the limit allowed (> 1.5x)" \
  eval '[ "$FREE" -gt $((LIMIT * 3 / 2)) ]'
complete() { [ -f "$VAR/incoming/$FILE" ]; }
check "the download completes" eventually 120 complete
check "the file is amuled's, byte for byte" cmp -s "$VAR/incoming/$FILE" "$T/$FILE"
finished_row() { sql_is "SELECT state FROM downloads WHERE hash = '$MD4'" completed; }
check "its row is completed" eventually 10 finished_row

# ---- the upload limit: a second muleteerd downloads the finished file ----
req POST torrents/setUploadLimit --data-urlencode "hashes=$H" --data-urlencode "limit=$LIMIT"
check "setUploadLimit on the finished download: 200" is 200 ""
req GET "torrents/uploadLimit?hashes=$H"
check "uploadLimit: the limit" jqt --arg h "$H" --argjson l $LIMIT '.[$h] == $l'
req GET "torrents/properties?hash=$H"
check "properties: up_limit is the limit" jqt --argjson l $LIMIT '.up_limit == $l'
shared() { "$CLI" --socket "$SOCK" shared 2>/dev/null | grep -qF "$FILE"; }
check "the finished file is shared" eventually 30 shared
start_mule B "$T/b" "$BP"
mcli "$T/b" add "ed2k://|file|$FILE|$SIZE|$MD4|/|sources,127.0.0.1:$MP|/" >/dev/null
bstarted() { d=$(done_of "$T/b/run/muleteerd.sock"); [ -n "$d" ] && [ "$d" -gt 0 ]; }
if eventually 60 bstarted; then ok "the second muleteerd gets data from Muleteer"; else
  not_ok "the second muleteerd gets data from Muleteer"; diag "$(mcli "$T/b" downloads 2>&1)"; fi
sleep 3
d0=$(done_of "$T/b/run/muleteerd.sock"); t0=$(date +%s.%N)
sleep 15
d1=$(done_of "$T/b/run/muleteerd.sock"); t1=$(date +%s.%N)
URATE=$(awk -v a="$d0" -v b="$d1" -v s="$t0" -v e="$t1" 'BEGIN { printf "%d", (b - a) / (e - s) }')
diag "with up_limit $LIMIT B/s: the second muleteerd got $URATE B/s over 15 s"
check "Muleteer's upload of the file stays near its limit (0.3x to 1.25x)" \
  eval '[ "$URATE" -le $((LIMIT * 5 / 4)) ] && [ "$URATE" -ge $((LIMIT * 3 / 10)) ]'
kill -TERM "${MULE_PID[B]}"; wait "${MULE_PID[B]}" 2>/dev/null

#@ROUTES@

# ---- the end: no sanitizer reports ----
bad=$(grep -rlE "AddressSanitizer|LeakSanitizer|runtime error:" "$VAR/log" "$T/b/stderr" 2>/dev/null || true)
check "no sanitizer reports" [ -z "$bad" ]
finish
