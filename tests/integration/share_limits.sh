#!/usr/bin/env bash
# share_limits.sh: share limits enforced and app/setPreferences, on the
# real stack (run.sh: PostgreSQL, muleteerd M, lighttpd with cgi-bin/qbit)
# beside a second muleteerd A that shares the files M downloads. The
# global limits are set through app/setPreferences and land in the daemon
# and in muleteer.conf; a finished download that reaches the global ratio
# (0) stops being shared (withheld from peers and servers, stoppedUP) and
# is shared again when resumed with a limit of its own; a seeding-time
# limit of one minute with the remove action removes another, keeping its
# file, with its history row. TAP.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/mule.sh"
trap cleanup EXIT

PSQL() { as_service_user psql "$DB" -XAtq -c "$1" 2>/dev/null; }
sql_is() { [ "$(PSQL "$1")" = "$2" ]; }

mk_tmpdir T
AP=$(free_port); MP=$(free_port); HP=$(free_port)

# ---- A shares three files ----
mkdir -p "$T/a/share"
for f in first second third; do head -c 1200000 /dev/urandom >"$T/a/share/$f.bin"; done
H1=$(rhash --printf '%{ed2k}' "$T/a/share/first.bin")
H2=$(rhash --printf '%{ed2k}' "$T/a/share/second.bin")
H3=$(rhash --printf '%{ed2k}' "$T/a/share/third.bin")
start_mule A "$T/a" "$AP" "shared_dirs = $T/a/share"
a_shares() { [ "$(mcli "$T/a" shared | grep -c '\.bin')" = 3 ]; }
check "A shares the files" eventually 30 a_shares

# ---- M through run.sh ----
VAR="$T/var"
mkdir -p "$VAR"
PASS="share-pass-$RANDOM$RANDOM"
cat >"$VAR/muleteer.conf" <<EOF
node_name = share-node
state_dir = $VAR
log_file = $VAR/log/muleteerd.log
log_level = debug
tcp_port = $MP
udp_port = $((MP + 1))
web_password = $PASS
filter_lan = no
EOF
chmod 0600 "$VAR/muleteer.conf"
chown_service "$VAR/muleteer.conf" 2>/dev/null || true
if ! start_runsh "$VAR" "$T/runsh.out" MULETEER_HTTP_PORT="$HP"; then
  not_ok "run.sh starts the stack"; diag "$(tail -n 20 "$T/runsh.out")"; finish; exit 1
fi
DB=$(conf_key "$VAR" database)
API="http://127.0.0.1:$HP/api/v2"
JAR="$T/cookies"
M="$VAR"
LOG="$VAR/log/muleteerd.log"

req() {
  local m=$1 p=$2; shift 2
  CODE=$(curl -sS -b "$JAR" -c "$JAR" -X "$m" -o "$T/body" -w '%{http_code}' "$@" "$API/$p")
  BODY=$(cat "$T/body")
}
is() { [ "$CODE" = "$1" ] && [ "$BODY" = "$2" ]; }
jqt() { jq -e "$@" <<<"$BODY" >/dev/null 2>&1; }
jqo() { jq -e "$@" <<<"$out" >/dev/null 2>&1; }
J() { local a=${2-}; [ -n "$a" ] || a='{}'; mcli "$M" --json call "$1" "$a"; }
fin_of() { J downloads | jq -c --arg h "$1" '.finished[] | select(.hash == $h)'; }

req POST auth/login --data-urlencode username=admin --data-urlencode "password=$PASS"
check "login" is 200 "Ok."

# ---- app/preferences: the defaults ----
req GET app/preferences
check "preferences: by default no global limit (finished files stay shared), the stop action" \
  jqt '.max_ratio_enabled == false and .max_ratio == -1 and .max_ratio_act == 0
       and .max_seeding_time_enabled == false and .max_seeding_time == -1'

# ---- app/setPreferences: refusals ----
req POST app/setPreferences --data ''
check "setPreferences without json: 400" is 400 "Bad Request" || diag "$CODE $BODY"
req POST app/setPreferences --data-urlencode 'json={"max_ratio_enabled": true'
check "setPreferences with broken JSON: 400" is 400 "Bad Request"
req GET app/setPreferences --data-urlencode 'json={}' -G
check "setPreferences by GET: 405" eval '[ "$CODE" = 405 ]'
req POST app/setPreferences --data-urlencode 'json={"locale": "de", "no_such_key": 1}'
check "unknown keys are ignored: 200, empty body" is 200 ""

# ---- speed limits ----
req POST app/setPreferences --data-urlencode 'json={"dl_limit": 204800, "up_limit": 102400}'
check "setPreferences dl_limit/up_limit: 200, empty body" is 200 ""
out=$(J limits)
check "... the daemon's limits are 200 and 100 KiB/s" jqo '.max_download == 200 and .max_upload == 100'
req GET app/preferences
check "... and app/preferences reports them in bytes/s" jqt '.dl_limit == 204800 and .up_limit == 102400'
req POST app/setPreferences --data-urlencode 'json={"dl_limit": 0, "up_limit": -1}'
out=$(J limits)
check "0 and -1 are unlimited" jqo '.max_download == 0 and .max_upload == 0'
# the alternative limits come with the limits command's alt_* arguments
req POST app/setPreferences --data-urlencode 'json={"alt_dl_limit": 51200, "alt_up_limit": 10240}'
check "setPreferences alt_dl_limit/alt_up_limit: 200 (applied where the daemon has them)" is 200 ""
out=$(J limits)
check "... the daemon's alternative limits are 50 and 10 KiB/s" \
  jqo '.alt_max_download == 50 and .alt_max_upload == 10'

# ---- connections, upload slots, the port ----
NEWPORT=$(free_port)
req POST app/setPreferences --data-urlencode \
  "json={\"max_connec\": 300, \"max_uploads\": 6, \"listen_port\": $NEWPORT, \"save_path\": \"/tmp\"}"
check "setPreferences max_connec/max_uploads/listen_port: 200" is 200 ""
out=$(J settings)
check "... the daemon applies the first two at once, the port after a restart" \
  jqo --argjson p "$MP" '.max_connections == 300 and .upload_slots == 6 and .tcp_port == $p'
check "... muleteer.conf has the three" eval \
  '[ "$(conf_key "$VAR" max_connections)" = 300 ] && [ "$(conf_key "$VAR" upload_slots)" = 6 ] &&
   [ "$(conf_key "$VAR" tcp_port)" = "$NEWPORT" ]'
req GET app/preferences
check "... app/preferences reports them (the port in use until a restart); save_path is not changed" \
  jqt --argjson p "$MP" --arg sp "$VAR/incoming" \
  '.max_connec == 300 and .max_uploads == 6 and .listen_port == $p and .save_path == $sp'
out=$(J settings '{"upload_slots": 0}')
check "settings refuses a value out of range" jqo '.error.code == "invalid_args"'
# the next start of this stack must listen where the test reserved
J settings "{\"tcp_port\": $MP}" >/dev/null

# ---- share limits through setPreferences ----
req POST app/setPreferences --data-urlencode \
  'json={"max_ratio_enabled": true, "max_ratio": 0, "max_seeding_time_enabled": false, "max_ratio_act": 0}'
check "setPreferences: the global ratio 0, stop" is 200 ""
out=$(J share-config)
check "share-config reports them" jqo '.max_ratio == 0 and .max_seeding_time == -1 and .max_ratio_act == 0'
out=$(J share-config '{"max_ratio_act": 9}')
check "share-config refuses an unknown action" jqo '.error.code == "invalid_args"'

# ---- the ratio: a finished download stops being shared at once ----
mcli "$M" add "ed2k://|file|first.bin|1200000|$H1|/|sources,127.0.0.1:$AP|/" >/dev/null
done1() { [ "$(fin_of "$H1" | jq -r .state)" = completed ]; }
check "M downloads first.bin from A" eventually 60 done1
stopped1() { [ "$(fin_of "$H1" | jq -r .sharing)" = stopped ]; }
check "reaching the global ratio (0) stops its sharing" eventually 10 stopped1
withheld1() { mcli "$M" --json shared | jq -e --arg h "$H1" 'any(.files[]; .hash == $h and .withheld == true)' >/dev/null; }
check "... its file is withheld from peers and servers" eventually 10 withheld1
check "... the log says why" eventually 5 grep -q "finished $H1: .*no longer shared (ratio)" "$LOG"
info1() { req GET "torrents/info?hashes=${H1}00000000"; jqt '.[0].state == "stoppedUP"'; }
check "... /api/v2 reports it stoppedUP" eventually 10 info1
check "... the downloads row says share_stopped" eventually 10 \
  sql_is "SELECT share_stopped FROM downloads WHERE hash = '$H1'" t
# a peer asking for it is refused: A downloads it from M
mkdir -p "$T/a2"
start_mule A2 "$T/a2" "$(free_port)"
mcli "$T/a2" add "ed2k://|file|first.bin|1200000|$H1|/|sources,127.0.0.1:$MP|/" >/dev/null
sleep 8
check "a peer gets nothing of a withheld file" [ ! -e "$T/a2/incoming/first.bin" ]

# resumed with a limit of its own (-1: none), it is shared again and stays so
req POST torrents/setShareLimits --data-urlencode "hashes=$H1" --data-urlencode ratioLimit=-1 \
  --data-urlencode seedingTimeLimit=-1 --data-urlencode inactiveSeedingTimeLimit=-1
req POST torrents/start --data-urlencode "hashes=$H1"
check "torrents/start: 200" is 200 ""
shared1() { [ "$(fin_of "$H1" | jq -r .sharing)" = active ]; }
check "resumed, it is shared again" eventually 10 shared1
info1b() { req GET "torrents/info?hashes=${H1}00000000"; jqt '.[0].state == "stalledUP" or .[0].state == "uploading"'; }
check "... /api/v2 reports it seeding" eventually 10 info1b
# the peer dropped M as a source when it was refused: it asks again
mcli "$T/a2" delete "$H1" >/dev/null
mcli "$T/a2" add "ed2k://|file|first.bin|1200000|$H1|/|sources,127.0.0.1:$MP|/" >/dev/null
a2done() { cmp -s "$T/a2/incoming/first.bin" "$T/a/share/first.bin"; }
check "... and the peer now gets it" eventually 60 a2done
sleep 6
check "... and it stays shared (its own limit is none)" shared1

# ---- seeding time: one minute, then removed (file kept) ----
req POST app/setPreferences --data-urlencode \
  'json={"max_ratio_enabled": false, "max_seeding_time_enabled": true, "max_seeding_time": 1, "max_ratio_act": 1}'
check "setPreferences: no ratio, one minute of seeding, remove" is 200 ""
req GET app/preferences
check "app/preferences reports the new limits" \
  jqt '.max_ratio_enabled == false and .max_ratio == -1 and .max_seeding_time_enabled == true
       and .max_seeding_time == 1 and .max_ratio_act == 1'
check "muleteer.conf keeps them for the next start" eval \
  '[ "$(conf_key "$VAR" max_ratio)" = -1 ] && [ "$(conf_key "$VAR" max_seeding_time)" = 1 ] &&
   [ "$(conf_key "$VAR" max_ratio_act)" = 1 ] && [ "$(conf_key "$VAR" web_password)" = "$PASS" ]'
mcli "$M" add "ed2k://|file|second.bin|1200000|$H2|/|sources,127.0.0.1:$AP|/" >/dev/null
done2() { [ "$(fin_of "$H2" | jq -r .state)" = completed ]; }
check "M downloads second.bin" eventually 60 done2
CONTENT2=$(fin_of "$H2" | jq -r .content_path)
check "... it is shared while its minute runs" [ "$(fin_of "$H2" | jq -r .sharing)" = active ]
gone2() { [ -z "$(fin_of "$H2")" ]; }
check "after a minute of seeding it is removed (90 s at most)" eventually 90 gone2
check "... its file stays (remove, not remove with content)" test -f "$CONTENT2"
check "... the log says why" grep -q "finished $H2: .*reached its seeding time limit; remove" "$LOG"
info2() { req GET "torrents/info?hashes=${H2}00000000"; [ "$BODY" = "[]" ]; }
check "... it is gone from /api/v2" eventually 10 info2
check "... its history row is completed, then deleted" eventually 10 \
  sql_is "SELECT (completed_at IS NOT NULL) AND (deleted_at IS NOT NULL) FROM history WHERE hash = '$H2'" t
check "first.bin (its own limits: none) is still there" shared1

# ---- remove with content ----
req POST app/setPreferences --data-urlencode \
  'json={"max_seeding_time_enabled": true, "max_seeding_time": 0, "max_ratio_act": 3}'
mcli "$M" add "ed2k://|file|third.bin|1200000|$H3|/|sources,127.0.0.1:$AP|/" >/dev/null
gone3() { [ -z "$(fin_of "$H3")" ] && grep -q "finished $H3: .*remove with its file" "$LOG"; }
check "a seeding time of 0 with action 3 removes the download as it completes" eventually 60 gone3
check "... and its file" eval '! ls "$VAR"/incoming/third.bin 2>/dev/null'

finish
