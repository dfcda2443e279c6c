#!/usr/bin/env bash
# arr.sh: /api/v2 as Sonarr and Radarr use it (../shared/arr-contract.md),
# replayed against the real stack: run.sh brings up PostgreSQL, muleteerd
# and lighttpd with cgi-bin/qbit; an eD2K server fixture and a real amuled
# provide the file. The flows, in Sonarr's order: detection and Test,
# grab (a magnet carrying the eD2K hash), tracking until the download
# really completes from amuled, import (files, properties, setCategory)
# and removal; then the negative cases of the qBittorrent 4.5.2
# transcripts, the other auth methods, logout and the login ban. TAP.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/amule.sh"
trap 'amule_stop_all; cleanup' EXIT

PSQL() { as_service_user psql "$DB" -XAtq -c "$1" 2>/dev/null; }
# sql_is QUERY EXPECTED: the query's single value is EXPECTED.
sql_is() { [ "$(PSQL "$1")" = "$2" ]; }

mk_tmpdir T
SP=$(free_port); SEEDP=$(free_port); HP=$(free_port); MP=$(free_port)

# ---- the eD2K side: a server fixture and amuled sharing an episode ----
"$MT_BUILDDIR/tests/fixtures/ed2k_server" --port "$SP" --name arr-fixture --highid-all \
  --log "$T/server.log" &
CLEANUP_PIDS+=("$!")
eventually 10 grep -qs listening "$T/server.log" || { not_ok "the server fixture starts"; finish; exit 1; }
EPISODE="Test.Show.S01E03.720p-$$.mkv"
head -c 3000000 /dev/urandom >"$T/$EPISODE"
MD4=$(rhash --printf '%{ed2k}' "$T/$EPISODE")
SIZE=$(stat -c %s "$T/$EPISODE")
HASH40=${MD4}00000000
amule_start SEED "$T/seed" "$SEEDP" $((SEEDP + 1)) $((SEEDP + 2)) "$SP"
check "amuled shares the episode" eval 'amule_share SEED "$T/$EPISODE"'
# amuled is the fixture's first connection (conn=1); it publishes its files
# about a minute after logging in, which the grab below waits for.
check "amuled logs in to the server fixture" eventually 60 amule_connected SEED

# ---- Muleteer through run.sh, with a configuration the test chooses ----
VAR="$T/var"
mkdir -p "$VAR"
PASS="arr-pass-$RANDOM$RANDOM"
KEY="arrkey$RANDOM$RANDOM$RANDOM"
cat >"$VAR/muleteer.conf" <<EOF
node_name = arr-node
state_dir = $VAR
log_file = $VAR/log/muleteerd.log
log_level = debug
tcp_port = $MP
udp_port = $((MP + 1))
web_username = sonarr
web_password = $PASS
api_key = $KEY
servers = 127.0.0.1:$SP
filter_lan = no
sample_interval = 1
web_max_auth_failures = 5
web_ban_duration = 3600
max_ratio = 0
EOF
chmod 0600 "$VAR/muleteer.conf"
chown_service "$VAR/muleteer.conf" 2>/dev/null || true
if ! start_runsh "$VAR" "$T/runsh.out" MULETEER_HTTP_PORT="$HP"; then
  not_ok "run.sh starts the stack"; diag "$(tail -n 20 "$T/runsh.out")"; finish; exit 1
fi
DB=$(conf_key "$VAR" database)
API="http://127.0.0.1:$HP/api/v2"
JAR="$T/cookies"

# req METHOD PATH [curl args...]: sets CODE, BODY and HDRS (with the cookie jar).
req() {
  local m=$1 p=$2; shift 2
  local out
  out=$(curl -sS -D "$T/hdrs" -b "$JAR" -c "$JAR" -X "$m" -o "$T/body" -w '%{http_code}' "$@" "$API/$p")
  CODE=$out BODY=$(cat "$T/body") HDRS=$(tr -d '\r' <"$T/hdrs")
}
# noauth METHOD PATH [curl args...]: the same without cookies.
noauth() {
  local m=$1 p=$2; shift 2
  CODE=$(curl -sS -D "$T/hdrs" -X "$m" -o "$T/body" -w '%{http_code}' "$@" "$API/$p")
  BODY=$(cat "$T/body") HDRS=$(tr -d '\r' <"$T/hdrs")
}
is() { [ "$CODE" = "$1" ] && [ "$BODY" = "$2" ]; }
jqt() { jq -e "$@" <<<"$BODY" >/dev/null 2>&1; }

# ================================================== detection and Test
noauth GET app/webapiVersion
check "detection: webapiVersion without a cookie is 403 Forbidden" is 403 Forbidden
noauth GET app/version
check "app/version is protected too (403 without a cookie)" is 403 Forbidden
noauth GET nosuch/endpoint
check "an unknown path without a cookie is 403, not 404" is 403 Forbidden
noauth POST auth/login --data-urlencode username=sonarr --data-urlencode "password=wrong"
check "a bad login is 200 Fails. without a cookie" eval 'is 200 Fails. && ! grep -qi "^set-cookie" <<<"$HDRS"'
noauth GET auth/login
check "auth/login by GET is 405" is 405 "Method Not Allowed"
req POST auth/login --data-urlencode username=sonarr --data-urlencode "password=$PASS"
check "login: 200 Ok. with an SID cookie" is 200 Ok.
check "the cookie is HttpOnly, path=/, SameSite=Strict" \
  grep -qiE '^set-cookie: SID=[A-Za-z0-9_-]{20,}; HttpOnly; path=/; SameSite=Strict$' <<<"$HDRS"
SID=$(sed -n 's/^[Ss]et-[Cc]ookie: SID=\([^;]*\);.*/\1/p' <<<"$HDRS")
check "the session lives in PostgreSQL, keyed by a hash of the id (never the id)" eval \
  'sql_is "SELECT count(*) > 0 FROM web_sessions WHERE username = '"'sonarr'"'" t &&
   sql_is "SELECT count(*) FROM web_sessions WHERE sid_hash = '"'$SID'"' OR sid_hash LIKE '"'%$SID%'"'" 0'
req GET app/webapiVersion
check "webapiVersion: a bare 2.11.2 (the 5.0 line)" is 200 2.11.2
check "text answers are text/plain; charset=UTF-8 with qBittorrent's headers" eval \
  'grep -qi "^content-type: text/plain; charset=UTF-8" <<<"$HDRS" &&
   grep -qi "^x-frame-options: SAMEORIGIN" <<<"$HDRS" && grep -qi "^content-security-policy:" <<<"$HDRS"'
req GET app/version
check "app/version: v5.0.0" is 200 v5.0.0
req GET app/webapiversion
check "the all-lowercase alias app/webapiversion answers too" is 200 2.11.2
req GET app/preferences
check "preferences: JSON" eval 'grep -qi "^content-type: application/json" <<<"$HDRS" && jqt .'
check "preferences pass Sonarr's Test (ratio limit 0 with the pause action)" \
  jqt '.max_ratio_enabled == true and .max_ratio == 0 and .max_ratio_act == 0
       and .max_seeding_time_enabled == false'
check "preferences: queueing on, DHT on (magnets without trackers are fine)" \
  jqt '.queueing_enabled == true and .dht == true'
check "preferences: save_path is the incoming directory" jqt --arg p "$VAR/incoming" '.save_path == $p'
req GET app/defaultSavePath
check "defaultSavePath is the incoming directory" is 200 "$VAR/incoming"
req GET torrents/categories
check "categories: {} at first" is 200 "{}"
req POST torrents/createCategory --data-urlencode category=tv-sonarr --data-urlencode savePath=
check "createCategory tv-sonarr: 200" is 200 ""
req POST torrents/createCategory --data-urlencode category=sonarr-imported
check "createCategory sonarr-imported: 200" is 200 ""
req GET torrents/categories
check "categories list both, with their save paths" \
  jqt --arg p "$VAR/incoming" '.["tv-sonarr"].name == "tv-sonarr" and (.["tv-sonarr"].savePath | startswith($p))
       and .["sonarr-imported"].name == "sonarr-imported"'
req GET "torrents/info?category=tv-sonarr"
check "info?category=tv-sonarr: []" is 200 "[]"

# ================================================================ grab
amuled_offered() { grep -q "offer conn=1 id=[0-9]* files=1" "$T/server.log"; }
check "amuled has published the episode on the server" eventually 120 amuled_offered
MAGNET="magnet:?xt=urn:btih:$HASH40&xt=urn:ed2k:$MD4&xl=$SIZE&dn=$EPISODE&tr=http%3A%2F%2F127.0.0.1%3A1%2Fannounce"
req POST torrents/add --data-urlencode "urls=$MAGNET" --data-urlencode category=tv-sonarr \
  --data-urlencode stopped=False --data-urlencode ratioLimit=-2 --data-urlencode seedingTimeLimit=-2
check "grab: torrents/add with Sonarr's magnet answers Ok." is 200 Ok.
props_ok() { req GET "torrents/properties?hash=$HASH40"; [ "$CODE" = 200 ]; }
check "properties of the new item answer within a second (Sonarr polls 10 x 100 ms)" eventually 1 props_ok
check "properties: hash, save_path, total_size" \
  jqt --arg h "$HASH40" --argjson s "$SIZE" '.hash == $h and .total_size == $s and (.save_path | length > 0)'
req POST torrents/setShareLimits --data-urlencode "hashes=$HASH40" --data-urlencode ratioLimit=2 \
  --data-urlencode seedingTimeLimit=30
check "setShareLimits: 200" is 200 ""
req POST torrents/topPrio --data-urlencode "hashes=$HASH40"
check "topPrio: 200 (queueing is on)" is 200 ""
req POST torrents/setForceStart --data-urlencode "hashes=$HASH40" --data-urlencode value=true
check "setForceStart: 200" is 200 ""
req POST torrents/addTags --data-urlencode "hashes=$HASH40" --data-urlencode "tags=sonarr,tv"
check "addTags: 200" is 200 ""
row_has() { req GET "torrents/info?hashes=$HASH40"; jqt "$@"; }
check "the extras show: limits, tags, force_start, high priority" eventually 5 row_has \
  '.[0].ratio_limit == 2 and .[0].seeding_time_limit == 30 and .[0].max_ratio == 2
   and .[0].max_seeding_time == 30 and .[0].tags == "sonarr, tv" and .[0].force_start == true'
check "the download was recorded as added by the Arr's login over api-v2" \
  sql_is "SELECT added_by || '/' || added_via FROM downloads WHERE hash = '$MD4'" sonarr/api-v2
req POST torrents/add --data-urlencode "urls=$MAGNET" --data-urlencode category=tv-sonarr
check "adding the same magnet again: Fails." is 200 Fails.

# ============================================================ tracking
req GET "torrents/info?category=tv-sonarr"
check "tracking: info?category lists the grab" jqt --arg h "$HASH40" 'length == 1 and .[0].hash == $h'
# every key of qBittorrent 4.5.2's example, with the same JSON type
KEYS='{"added_on":0,"amount_left":0,"auto_tmm":false,"availability":0.5,"category":"","completed":0,
"completion_on":0,"content_path":"","dl_limit":0,"dlspeed":0,"download_path":"","downloaded":0,
"downloaded_session":0,"eta":0,"f_l_piece_prio":false,"force_start":false,"hash":"","infohash_v1":"",
"infohash_v2":"","last_activity":0,"magnet_uri":"","max_ratio":0.5,"max_seeding_time":0,"name":"",
"num_complete":0,"num_incomplete":0,"num_leechs":0,"num_seeds":0,"priority":0,"progress":0.5,"ratio":0.5,
"ratio_limit":0.5,"save_path":"","seeding_time":0,"seeding_time_limit":0,"seen_complete":0,"seq_dl":false,
"size":0,"state":"","super_seeding":false,"tags":"","time_active":0,"total_size":0,"tracker":"",
"trackers_count":0,"up_limit":0,"uploaded":0,"uploaded_session":0,"upspeed":0}'
INT_KEYS='["added_on","amount_left","completed","completion_on","dl_limit","dlspeed","downloaded",
"downloaded_session","eta","last_activity","max_seeding_time","num_complete","num_incomplete","num_leechs",
"num_seeds","priority","seeding_time","seeding_time_limit","seen_complete","size","time_active","total_size",
"trackers_count","up_limit","uploaded","uploaded_session","upspeed"]'
fields_ok() {
  jq -e --argjson k "$KEYS" --argjson ints "$INT_KEYS" '
    .[0] as $r
    | ([$k | keys[] as $key | select($r | has($key) | not)] | length == 0)
    and ([$k | to_entries[] | select(($r[.key] | type) != (.value | type))] | length == 0)
    and ([$ints[] | select(($r[.] | floor) != $r[.])] | length == 0)' <<<"$BODY" >/dev/null
}
check "info rows carry every 4.5.2 key with the same JSON types, integers as integers" fields_ok
check "hash and infohash_v1 are the MD4 padded with 00000000" \
  jqt --arg h "$HASH40" '.[0].hash == $h and .[0].infohash_v1 == $h'
check "name, size, category, save_path and a content_path that is not save_path" \
  jqt --arg n "$EPISODE" --argjson s "$SIZE" \
  '.[0].name == $n and .[0].size == $s and .[0].category == "tv-sonarr" and .[0].content_path != .[0].save_path
   and (.[0].content_path | endswith($n))'
check "the magnet_uri carries the padded btih and the eD2K hash" \
  jqt --arg h "$HASH40" --arg m "$MD4" '.[0].magnet_uri | startswith("magnet:?xt=urn:btih:" + $h + "&xt=urn:ed2k:" + $m)'
check "while downloading: a downloading state, eta 8640000 or a real one" \
  jqt '.[0].state as $s | (["forcedDL","downloading","stalledDL","queuedDL","checkingDL"] | index($s)) != null
       and .[0].progress < 1 and .[0].eta > 0'
req GET "torrents/info?filter=downloading"
check "filter=downloading lists it, filter=completed does not (yet)" jqt 'length == 1'
req GET "torrents/files?hash=$HASH40"
check "files: one entry named as the file, index 0, size" \
  jqt --arg n "$EPISODE" --argjson s "$SIZE" 'length == 1 and .[0].name == $n and .[0].index == 0 and .[0].size == $s'

completed() { req GET "torrents/info?hashes=$HASH40"; jqt '.[0].progress == 1 and .[0].completion_on > 0'; }
if eventually 300 completed; then
  ok "the download completes from amuled (sources from the server)"
else
  not_ok "the download completes from amuled (sources from the server)"
  diag "$BODY" "$(tail -n 30 "$VAR/log/muleteerd.log")"
fi
CONTENT=$(jq -r '.[0].content_path' <<<"$BODY")
check "with its own share goal (ratio 2, 30 min) not reached it still seeds: stalledUP or uploading" \
  jqt '.[0].state == "stalledUP" or .[0].state == "uploading"'
req POST torrents/setShareLimits --data-urlencode "hashes=$HASH40" --data-urlencode ratioLimit=-2 \
  --data-urlencode seedingTimeLimit=-2
stopped_up() { req GET "torrents/info?hashes=$HASH40"; jqt '.[0].state == "stoppedUP"'; }
check "back on the global limit (ratio 0, reached at once): stoppedUP, so Sonarr may remove it" \
  eventually 5 stopped_up
check "completed: progress 1, amount_left 0, completion_on set, size = completed" \
  jqt --argjson s "$SIZE" '.[0].progress == 1 and .[0].amount_left == 0 and .[0].completion_on > 0
       and .[0].completed == $s and .[0].eta == 8640000'
check "completed: content_path is the real file, bytes identical to amuled's" cmp -s "$CONTENT" "$T/$EPISODE"
check "completed: content_path differs from save_path (no Sonarr path warning)" \
  jqt '.[0].content_path != .[0].save_path and (.[0].seeding_time >= 0)'
req GET "torrents/info?filter=completed&category=tv-sonarr"
check "filter=completed now lists it" jqt 'length == 1'
check "the completed row is kept in PostgreSQL with its path" \
  sql_is "SELECT state || ' ' || content_path FROM downloads WHERE hash = '$MD4'" "completed $CONTENT"

# ============================================================== import
req GET "torrents/files?hash=$HASH40"
check "import: files[0].name is the file name" jqt --arg n "$EPISODE" '.[0].name == $n and .[0].progress == 1 and .[0].is_seed == true'
req GET "torrents/properties?hash=$MD4"
check "import: properties (bare MD4 works too) give save_path, seeding_time, completion_date" \
  jqt '(.save_path | length > 0) and .seeding_time >= 0 and .completion_date > 0 and .pieces_have == .pieces_num'
req POST torrents/setCategory --data-urlencode "hashes=$HASH40" --data-urlencode category=sonarr-imported
check "after import: setCategory to the post-import category: 200" is 200 ""
cat_is() { req GET "torrents/info?hashes=$HASH40"; jqt --arg c "$1" '.[0].category == $c'; }
check "the completed item now shows the post-import category" eventually 5 cat_is sonarr-imported
check "the file stayed where it was" test -f "$CONTENT"

# ============================================================= removal
req POST torrents/delete --data-urlencode "hashes=$HASH40" --data-urlencode deleteFiles=true
check "removal: delete with deleteFiles=true: 200" is 200 ""
gone() { req GET "torrents/info?hashes=$HASH40"; [ "$BODY" = "[]" ]; }
check "the item is gone from torrents/info" eventually 5 gone
check "and its file is gone from disk" eventually 5 test ! -e "$CONTENT"
hist_done() {
  sql_is "SELECT count(*) FROM history WHERE hash = '$MD4' AND completed_at IS NOT NULL
          AND deleted_at IS NOT NULL AND added_by = 'sonarr'" 1
}
check "history keeps the download, completed then deleted, added by sonarr" eventually 10 hist_done

# delete without deleteFiles keeps the data (Sonarr omits the parameter)
MD4B=0123456789abcdef0123456789abcd$(printf '%02x' $((RANDOM % 256)))
req POST torrents/add --data-urlencode "urls=ed2k://|file|other-$$.bin|12345678|$MD4B|/" --data-urlencode paused=True
check "a plain ed2k:// link is accepted too, paused" is 200 Ok.
stopped_dl() { req GET "torrents/info?hashes=${MD4B}00000000"; jqt '.[0].state == "stoppedDL" and .[0].category == ""'; }
check "paused=True adds it stopped (stoppedDL), uncategorised" eventually 5 stopped_dl
req GET "torrents/info?category="
check "category= (empty) selects only uncategorised items" jqt --arg h "${MD4B}00000000" 'length == 1 and .[0].hash == $h'
req POST torrents/resume --data-urlencode "hashes=${MD4B}00000000"
check "resume (4.x name): 200" is 200 ""
running() { req GET "torrents/info?hashes=${MD4B}00000000"; jqt '.[0].state != "stoppedDL"'; }
check "resumed: no longer stoppedDL" eventually 5 running
req POST torrents/stop --data-urlencode "hashes=all"
check "stop (5.x name) with hashes=all: 200" is 200 ""
check "stopped again" eventually 5 stopped_dl
req POST torrents/start --data-urlencode "hashes=$MD4B"
check "start (5.x name) with a bare MD4: 200" is 200 ""
check "started" eventually 5 running
req POST torrents/delete --data-urlencode "hashes=${MD4B}00000000"
check "delete without deleteFiles: 200 (not qBittorrent's 400)" is 200 ""
check "deleted" eventually 5 eval 'req GET "torrents/info?hashes=${MD4B}00000000"; [ "$BODY" = "[]" ]'

# ================================================ negative cases (4.5.2)
req GET torrents/add
check "torrents/add by GET: 405" is 405 "Method Not Allowed"
req POST torrents/delete --data-urlencode hashes=xyz
check "delete of a malformed hash: 200 no-op" is 200 ""
req GET torrents/nosuch
check "an unknown action once logged in: 404" is 404 "Not Found"
req GET nosuch/endpoint
check "an unknown scope once logged in: 404" is 404 "Not Found"
req GET app/webapiVERSION
check "mixed case is not an alias: 404" is 404 "Not Found"
req PUT app/version
check "PUT: 400 with an empty body" is 400 ""
req GET "torrents/properties?hash=xyz"
check "properties of a malformed hash: 404" is 404 "Not Found"
req GET "torrents/properties?hash=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
check "properties of an unknown hash: 404" is 404 "Not Found"
req GET torrents/properties
check "properties without hash: 400" is 400 "Bad Request"
req GET torrents/files
check "files without hash: 400" is 400 "Bad Request"
req GET "torrents/info?hashes=xyz"
check "info?hashes=xyz: []" is 200 "[]"
req GET "torrents/info?hashes=$(printf "$MD4|%.0s" $(seq 1 101))"
check "more than 100 hashes: 400" is 400 "Bad Request"
req GET "torrents/info?filter=bogus&sort=nosuch&limit=1"
check "an unknown filter or sort key is ignored" eval '[ "$CODE" = 200 ] && jqt "type == \"array\""'
req POST torrents/createCategory --data-urlencode category=tv-sonarr
check "createCategory of an existing name: 409 Unable to create category" is 409 "Unable to create category"
for bad in 'bad//name' '/lead' 'back\slash' 'a/../b'; do
  req POST torrents/createCategory --data-urlencode "category=$bad"
  check "createCategory '$bad': 409 Incorrect category name" is 409 "Incorrect category name"
done
req POST torrents/createCategory --data-urlencode category=
check "createCategory with an empty name: 400 Category cannot be empty" is 400 "Category cannot be empty"
req POST torrents/createCategory -d ''
check "createCategory without the parameter: 400" is 400 "Bad Request"
req POST torrents/createCategory --data-urlencode category=tv/sub
check "a nested category name is valid" is 200 ""
req POST torrents/editCategory --data-urlencode category=tv/sub --data-urlencode savePath=elsewhere
check "editCategory: 200" is 200 ""
req GET torrents/categories
check "a relative savePath is under the incoming directory" \
  jqt --arg p "$VAR/incoming/elsewhere" '.["tv/sub"].savePath == $p'
req POST torrents/editCategory --data-urlencode category=nope --data-urlencode savePath=
check "editCategory of an unknown category: 409" is 409 "Unable to edit category"
req POST torrents/removeCategories --data-urlencode $'categories=tv/sub\nnope'
check "removeCategories (newline-separated, unknown names ignored): 200" is 200 ""
req GET torrents/categories
check "the removed category is gone" jqt 'has("tv/sub") | not'
req POST torrents/setCategory --data-urlencode "hashes=$HASH40" --data-urlencode category=nope
check "setCategory to an unknown category: 409 (no auto-create)" is 409 "Incorrect category name"
req POST torrents/setCategory --data-urlencode "hashes=$HASH40"
check "setCategory without category: 400" is 400 "Bad Request"
req POST torrents/setShareLimits --data-urlencode "hashes=$HASH40" --data-urlencode ratioLimit=1
check "setShareLimits without seedingTimeLimit: 400" is 400 "Bad Request"
req POST torrents/setForceStart --data-urlencode "hashes=$HASH40"
check "setForceStart without value: 400" is 400 "Bad Request"
req POST torrents/pause -d ''
check "pause without hashes: 400" is 400 "Bad Request"
req POST torrents/add --data-urlencode "urls=garbage"
check "add garbage: Fails." is 200 Fails.
req POST torrents/add --data-urlencode "urls=magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=x"
check "add a plain BitTorrent magnet: Fails." is 200 Fails.
req POST torrents/add -d ''
check "add nothing: Fails." is 200 Fails.
printf 'd8:announce0:e' >"$T/junk.torrent"
req POST torrents/add -F "torrents=@$T/junk.torrent;type=application/x-bittorrent" -F category=tv-sonarr
check "a .torrent upload: 415" eval '[ "$CODE" = 415 ] && grep -q "junk.torrent" <<<"$BODY"'
MD4C=fedcba9876543210fedcba98765432$(printf '%02x' $((RANDOM % 256)))
req POST torrents/add -F "urls=magnet:?xt=urn:ed2k:$MD4C&xl=1000&dn=multi.bin" -F category=made-on-add -F tags=a,b
check "multipart bodies are read too" is 200 Ok.
mp_row() { req GET "torrents/info?hashes=$MD4C"; jqt '.[0].name == "multi.bin" and .[0].tags == "a, b" and .[0].category == "made-on-add"'; }
check "the multipart add shows, with its tags and category" eventually 5 mp_row
req GET torrents/categories
check "add with an unknown category creates it, as qBittorrent does" jqt 'has("made-on-add")'
req GET torrents/tags
check "torrents/tags lists the tags in use" jqt 'index("a") != null and index("b") != null'
req POST torrents/removeTags -F "hashes=$MD4C" -F tags=a
untagged_a() { req GET "torrents/info?hashes=$MD4C"; jqt '.[0].tags == "b"'; }
check "removeTags removes one tag" eventually 5 untagged_a
req POST torrents/bottomPrio -F "hashes=$MD4C"
req POST torrents/increasePrio -F "hashes=$MD4C"
check "bottomPrio then increasePrio: normal priority again (200 each)" eval \
  'is 200 "" && sql_is "SELECT priority FROM downloads WHERE hash = '"'$MD4C'"'" 0'
req POST torrents/decreasePrio -F "hashes=$MD4C"
check "decreasePrio: low" sql_is "SELECT priority FROM downloads WHERE hash = '$MD4C'" -1
req POST torrents/delete -F "hashes=$MD4C" -F deleteFiles=true
check "a multipart delete" is 200 ""
head -c $((9 * 1024 * 1024)) /dev/zero | tr '\0' a >"$T/big"
req POST torrents/add --data-binary @"$T/big" -H 'Content-Type: application/x-www-form-urlencoded'
check "an oversized body: 413" eval '[ "$CODE" = 413 ]'
req GET app/version -H "Origin: http://evil.example"
check "a foreign Origin: 401 (qBittorrent's CSRF check)" is 401 Unauthorized
req GET app/version -H "Referer: http://evil.example/x"
check "a foreign Referer: 401" is 401 Unauthorized
req GET app/version -H "Origin: http://127.0.0.1:$HP"
check "our own Origin passes" is 200 v5.0.0

# ========================================================= other auth
noauth GET app/version -u "sonarr:$PASS"
check "HTTP Basic with the web password works (Radarr sends it)" is 200 v5.0.0
noauth GET app/version -u "sonarr:wrong"
check "HTTP Basic with a wrong password: 403" is 403 Forbidden
noauth GET app/version -H "Authorization: Bearer $KEY"
check "Authorization: Bearer <api key> works" is 200 v5.0.0
noauth GET app/version -H "Authorization: Bearer nope$KEY"
check "a wrong API key: 403" is 403 Forbidden
noauth GET app/version -H "Cookie: SID=bogus"
check "a bogus SID: 403" is 403 Forbidden
req POST auth/login --data-urlencode username=sonarr --data-urlencode password=wrong
check "login with a valid session answers Ok. whatever the credentials" eval 'is 200 Ok. && ! grep -qi "^set-cookie" <<<"$HDRS"'
noauth POST auth/login --data-urlencode username=radarr --data-urlencode "password=$PASS"
check "another user name with the right password: Ok. (only the password counts)" is 200 Ok.

# ============================================ the daemon or database away
# qbit as a plain CGI program whose daemon socket is missing: 503
sed "s|^state_dir = .*|&\ncontrol_socket = $T/no-daemon.sock|" "$VAR/muleteer.conf" >"$T/nodaemon.conf"
chmod 0644 "$T/nodaemon.conf"
out=$(printf 'category=x' | MULETEER_CONF="$T/nodaemon.conf" REQUEST_METHOD=POST \
  REQUEST_URI=/api/v2/torrents/createCategory CONTENT_TYPE=application/x-www-form-urlencoded CONTENT_LENGTH=10 \
  HTTP_AUTHORIZATION="Bearer $KEY" as_service_user "$MT_BUILDDIR/cgi-bin/qbit.fcgi" 2>/dev/null | tr -d '\r')
check "the daemon unreachable: 503 with a short text body" \
  eval 'grep -q "^Status: 503" <<<"$out" && grep -q "^Muleteer daemon unavailable$" <<<"$out"'
"$MT_SRCDIR/tools/pgcluster.sh" stop "$VAR" fast >/dev/null 2>&1
req GET torrents/info
check "PostgreSQL stopped: info answers 503, no crash" is 503 "Database unavailable"
"$MT_SRCDIR/tools/pgcluster.sh" start "$VAR" >/dev/null 2>&1
back() { req GET torrents/info; [ "$CODE" = 200 ]; }
check "PostgreSQL back: the same session works again" eventually 20 back

# ============================================================= logout
cp "$JAR" "$T/old-jar"
req POST auth/logout -d ''
check "logout: 200, the cookie cleared" eval '[ "$CODE" = 200 ] && grep -qiE "^set-cookie: SID=; expires=" <<<"$HDRS"'
CODE=$(curl -s -o /dev/null -w '%{http_code}' -b "$T/old-jar" "$API/app/version")
check "the old SID no longer works (403)" [ "$CODE" = 403 ]

# ============================================================= the ban
# (the failures above count: a good login resets them)
noauth POST auth/login --data-urlencode username=sonarr --data-urlencode "password=$PASS"
check "a good login (resets the failure count)" is 200 Ok.
for i in 1 2 3 4 5; do
  noauth POST auth/login --data-urlencode username=sonarr --data-urlencode "password=bad$i"
  [ "$BODY" = Fails. ] || break
done
check "five bad logins: Fails. each time" is 200 Fails.
noauth POST auth/login --data-urlencode username=sonarr --data-urlencode "password=$PASS"
check "the sixth, even with the right password: 403 banned" \
  is 403 "Your IP address has been banned after too many failed authentication attempts."
noauth GET app/version -H "Authorization: Bearer $KEY"
check "the API key is refused too while the address is banned" \
  is 403 "Your IP address has been banned after too many failed authentication attempts."

finish
