#!/usr/bin/env bash
# qbit_btih.sh: magnets carrying a BitTorrent info-hash beside the eD2K
# hash, through the real stack (run.sh: PostgreSQL, muleteerd, lighttpd
# and qbit.fcgi). Such a download is listed under the btih it was added
# with, and every route taking hashes finds it by that btih, by the padded
# MD4 and by the bare MD4; a link without a btih keeps the padded MD4; a
# duplicate is `Fails.`; the btih survives a restart of the stack. TAP.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
trap cleanup EXIT

mk_tmpdir T
VAR="$T/var"
mkdir -p "$VAR"
HP=$(free_port)
start_stack() {
  start_runsh "$VAR" "$T/runsh.out" MULETEER_HTTP_PORT="$HP" MULETEER_TCP_PORT=$((HP + 1)) \
    MULETEER_UDP_PORT=$((HP + 2)) MULETEER_FCGI_PROCS=2
}
if ! start_stack; then
  not_ok "run.sh starts the stack"; diag "$(tail -n 20 "$T/runsh.out")"; finish; exit 1
fi
API="http://127.0.0.1:$HP/api/v2"
AUTH="Authorization: Bearer $(conf_key "$VAR" api_key)"
DB=$(conf_key "$VAR" database)
PSQL() { as_service_user psql "$DB" -XAtq -c "$1" 2>/dev/null; }

# req METHOD PATH [curl args...]: sets CODE and BODY (at most 30 s).
req() {
  local m=$1 p=$2; shift 2
  CODE=$(curl -sS -m 30 -H "$AUTH" -X "$m" -o "$T/body" -w '%{http_code}' "$@" "$API/$p")
  BODY=$(cat "$T/body" 2>/dev/null)
}
is() { [ "$CODE" = "$1" ] && [ "$BODY" = "$2" ]; }
jqt() { [ "$CODE" = 200 ] && jq -e "$@" <<<"$BODY" >/dev/null 2>&1; }
hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }
upper() { tr 'a-f' 'A-F' <<<"$1"; }

# Three files added with a btih (A, B, C), one without (P). No source has
# them: they stay stalled, which is all the routes need.
for x in A B C P; do
  printf -v "MD4_$x" '%s' "$(hex 16)"
  printf -v "BT_$x" '%s' "$(hex 20)"
done
magnet() { # magnet MD4 BTIH NAME: the btih in upper case, as some indexers write it
  printf 'magnet:?xt=urn:btih:%s&xt=urn:ed2k:%s&xl=1000000&dn=%s&tr=http%%3A%%2F%%2F127.0.0.1%%3A1%%2Fannounce' \
    "$(upper "$2")" "$1" "$3"
}

# ---- add: listed under the btih ----
req POST torrents/add --data-urlencode "urls=$(magnet "$MD4_A" "$BT_A" a.bin)"
check "add a btih+ed2k magnet: Ok." is 200 Ok.
req POST torrents/add --data-urlencode "urls=$(magnet "$MD4_B" "$BT_B" b.bin)
$(magnet "$MD4_C" "$BT_C" c.bin)
ed2k://|file|p.bin|1000000|$MD4_P|/"
check "add two more and an ed2k:// link in one request: Ok." is 200 Ok.
req GET torrents/info
check "torrents/info lists the download under its btih (lower case), infohash_v1 too" \
  jqt --arg h "$BT_A" --arg m "$MD4_A" '[.[] | select(.name == "a.bin")] | length == 1 and
    .[0].hash == $h and .[0].infohash_v1 == $h and
    (.[0].magnet_uri | startswith("magnet:?xt=urn:btih:" + $h + "&xt=urn:ed2k:" + $m + "&xl=1000000&dn=a.bin"))'
check "a download without a btih keeps the padded MD4" \
  jqt --arg h "${MD4_P}00000000" '[.[] | select(.name == "p.bin")][0].hash == $h'
check "four downloads, each listed once" jqt 'length == 4 and ([.[].hash] | unique | length) == 4'
check "the downloads table keeps the btih (lower case), NULL without one" \
  eval '[ "$(PSQL "SELECT btih FROM downloads WHERE hash = '"'$MD4_A'"'")" = "$BT_A" ] &&
        [ "$(PSQL "SELECT btih IS NULL FROM downloads WHERE hash = '"'$MD4_P'"'")" = t ]'
req GET "torrents/info?sort=hash"
check "sorting by hash sorts by the hash shown" jqt '[.[].hash] == ([.[].hash] | sort)'
req GET sync/maindata
check "sync/maindata keys the downloads by the same hashes" \
  jqt --arg a "$BT_A" --arg p "${MD4_P}00000000" '.torrents | has($a) and has($p) and length == 4'

# ---- torrents/info?hashes=, properties and files: by each name ----
for form in btih upper padded bare; do
  case $form in
    btih) H=$BT_A ;; upper) H=$(upper "$BT_A") ;; padded) H=${MD4_A}00000000 ;; bare) H=$MD4_A ;;
  esac
  req GET "torrents/info?hashes=$H"
  check "torrents/info?hashes= the $form hash: that download, under its btih" \
    jqt --arg h "$BT_A" 'length == 1 and .[0].hash == $h'
  req GET "torrents/properties?hash=$H"
  check "torrents/properties?hash= the $form hash: 200, hash and infohash_v1 are the btih" \
    jqt --arg h "$BT_A" '.hash == $h and .infohash_v1 == $h and .total_size == 1000000'
  req GET "torrents/files?hash=$H"
  check "torrents/files?hash= the $form hash: its one file" \
    jqt 'length == 1 and .[0].name == "a.bin" and .[0].size == 1000000'
  req GET "torrents/pieceStates?hash=$H"
  check "torrents/pieceStates?hash= the $form hash: its one part" jqt 'length == 1'
  req GET "torrents/trackers?hash=$H"
  check "torrents/trackers?hash= the $form hash: []" is 200 "[]"
done
req GET "torrents/info?hashes=$BT_A|${MD4_B}00000000|$MD4_C|$(hex 20)"
check "hashes= mixing a btih, a padded and a bare MD4 (and an unknown btih): three" \
  jqt --arg a "$BT_A" --arg b "$BT_B" --arg c "$BT_C" '[.[].hash] | sort == ([$a, $b, $c] | sort)'
req GET "torrents/info?hashes=$(hex 20)"
check "an unknown btih: []" is 200 "[]"
req GET "torrents/properties?hash=$(hex 20)"
check "properties of an unknown btih: 404" is 404 "Not Found"
req GET "torrents/files?hash=$BT_A|$BT_B"
check "files with two hashes in hash=: 404" is 404 "Not Found"

# ---- pause and resume by each name ----
state_of() { # state_of MD4: its qBittorrent state
  curl -sS -m 10 -H "$AUTH" "$API/torrents/info?hashes=$1" | jq -r '.[0].state'
}
pause_resume() { # pause_resume FORM HASH
  req POST torrents/pause --data-urlencode "hashes=$2"
  check "pause by the $1 hash: 200, stoppedDL" eval 'is 200 "" && [ "$(state_of "$MD4_A")" = stoppedDL ]'
  req POST torrents/resume --data-urlencode "hashes=$2"
  check "resume by the $1 hash: 200, running again" \
    eval 'is 200 "" && [ "$(state_of "$MD4_A")" != stoppedDL ]'
}
pause_resume btih "$BT_A"
pause_resume "upper-case btih" "$(upper "$BT_A")"
pause_resume padded "${MD4_A}00000000"
pause_resume bare "$MD4_A"
req POST torrents/stop --data-urlencode "hashes=$BT_B|$BT_C"
check "stop by two btihs at once: both stoppedDL" \
  eval 'is 200 "" && [ "$(state_of "$MD4_B")" = stoppedDL ] && [ "$(state_of "$MD4_C")" = stoppedDL ]'
req POST torrents/start --data-urlencode "hashes=$BT_B|$BT_C"
req POST torrents/addTags --data-urlencode "hashes=$BT_A" --data-urlencode tags=by-btih
req GET "torrents/info?hashes=$BT_A"
check "addTags by the btih" jqt '.[0].tags == "by-btih"'
req POST torrents/setForceStart --data-urlencode "hashes=$BT_A" --data-urlencode value=true
req GET "torrents/info?hashes=$BT_A"
check "setForceStart by the btih" jqt '.[0].force_start == true'

# ---- duplicates: qBittorrent's `Fails.` ----
req POST torrents/add --data-urlencode "urls=$(magnet "$MD4_A" "$(hex 20)" a.bin)"
check "the same eD2K file with another btih: Fails." is 200 Fails.
req POST torrents/add --data-urlencode "urls=$(magnet "$(hex 16)" "$BT_A" other.bin)"
check "another file with a btih already taken: Fails." is 200 Fails.
req POST torrents/add --data-urlencode "urls=ed2k://|file|a.bin|1000000|$MD4_A|/"
check "the same file as a plain ed2k:// link: Fails." is 200 Fails.
req GET torrents/info
check "still four downloads; the first keeps its btih" \
  jqt --arg h "$BT_A" 'length == 4 and ([.[] | select(.name == "a.bin")][0].hash == $h)'

# ---- restart: the btih comes back from the part file ----
PSQL "UPDATE downloads SET btih = NULL" >/dev/null
stop_runsh "$RUNSH_PID" || not_ok "run.sh stops"
if ! start_stack; then
  not_ok "run.sh starts the stack again"; diag "$(tail -n 20 "$T/runsh.out")"; finish; exit 1
fi
listed_again() {
  req GET torrents/info
  jqt --arg a "$BT_A" --arg b "$BT_B" --arg p "${MD4_P}00000000" \
    '([.[].hash] | index($a) != null and index($b) != null and index($p) != null) and length == 4'
}
check "after a restart (and the column emptied meanwhile): listed under the btih again" \
  eventually 30 listed_again
req GET "torrents/properties?hash=$BT_C"
check "after the restart, properties by the btih" jqt --arg h "$BT_C" '.hash == $h'

# ---- delete by each name ----
gone() { [ "$(PSQL "SELECT count(*) FROM downloads WHERE hash = '$1'")" = 0 ]; }
req POST torrents/delete --data-urlencode "hashes=$BT_A" --data-urlencode deleteFiles=true
check "delete by the btih: 200, the row is gone" eval 'is 200 "" && gone "$MD4_A"'
req POST torrents/delete --data-urlencode "hashes=${MD4_B}00000000" --data-urlencode deleteFiles=true
check "delete by the padded MD4: 200, the row is gone" eval 'is 200 "" && gone "$MD4_B"'
req POST torrents/delete --data-urlencode "hashes=$MD4_C" --data-urlencode deleteFiles=false
check "delete by the bare MD4: 200, the row is gone" eval 'is 200 "" && gone "$MD4_C"'
req GET torrents/info
check "only the download without a btih is left" \
  jqt --arg p "${MD4_P}00000000" 'length == 1 and .[0].hash == $p'
# a deleted download's btih is free again
req POST torrents/add --data-urlencode "urls=$(magnet "$(hex 16)" "$BT_A" again.bin)"
check "a deleted download's btih can be given again: Ok." is 200 Ok.
req GET "torrents/info?hashes=$BT_A"
check "... and names the new download" jqt '.[0].name == "again.bin"'

stop_runsh "$RUNSH_PID" || not_ok "run.sh stops"
finish
