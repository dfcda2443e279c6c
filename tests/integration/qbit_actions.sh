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
# a download root on another file system (tmpfs) than the state directory
SHM=$(mktemp -d /dev/shm/mt-actions.XXXXXX)
chmod 0777 "$SHM"
CLEANUP_DIRS+=("$SHM")
mkdir -p "$VAR" "$VAR/roots/movies"
chown_service "$VAR/roots" "$VAR/roots/movies" 2>/dev/null || true
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
download_roots = $VAR/roots:$SHM
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
req POST torrents/setUploadLimit --data-urlencode "hashes=$H" --data-urlencode limit=0
check "setUploadLimit 0 lifts it" is 200 ""
bdone() { [ -f "$T/b/incoming/$FILE" ]; }
# what is left (about 5 MB) would take about 100 s at the limit
check "without the upload limit the second muleteerd completes within 20 s" eventually 20 bdone
check "and gets the file byte for byte" cmp -s "$T/b/incoming/$FILE" "$T/$FILE"
kill -TERM "${MULE_PID[B]}"; wait "${MULE_PID[B]}" 2>/dev/null

# ================================================================== tags
req POST torrents/createTags --data-urlencode "tags=alpha, beta,,gamma"
check "createTags: 200, empty" is 200 ""
req GET torrents/tags
check "tags lists the created tags, sorted" jqt '. == ["alpha","beta","gamma"]'
check "the tag list is kept in \$state_dir/tags.json" eval 'jq -e ". == [\"alpha\",\"beta\",\"gamma\"]" "$VAR/tags.json" >/dev/null'
check "and mirrored to the tags table" sql_is "SELECT string_agg(name, ',' ORDER BY name) FROM tags" "alpha,beta,gamma"
req POST torrents/createTags -d ''
check "createTags without tags: 400" eval '[ "$CODE" = 400 ]'
req POST torrents/createTags --data-urlencode $'tags=bad\001tag'
check "createTags ignores a tag it cannot take (200)" is 200 ""
req POST torrents/addTags --data-urlencode "hashes=$H" --data-urlencode "tags=beta,delta"
req GET torrents/tags
check "tags: the created ones and those in use" jqt '. == ["alpha","beta","delta","gamma"]'
req POST torrents/deleteTags --data-urlencode "tags=beta"
check "deleteTags: 200, empty" is 200 ""
req GET torrents/tags
check "deleteTags removes it from the list" jqt '. == ["alpha","delta","gamma"]'
req GET "torrents/info?hashes=$H"
check "and from the download that had it" jqt '.[0].tags == "delta"'
req POST torrents/deleteTags --data-urlencode "tags=delta"
req GET torrents/tags
check "a tag only in use goes with deleteTags too" jqt '. == ["alpha","gamma"]'

# ======================================================= rename (finished)
req POST torrents/rename --data-urlencode "hash=$H" --data-urlencode "name=  renamed.bin  "
check "rename: 200, empty" is 200 ""
check "the finished file is renamed on disk, in its directory" \
  eval '[ ! -e "$VAR/incoming/$FILE" ] && cmp -s "$VAR/incoming/renamed.bin" "$T/$FILE"'
req GET "torrents/info?hashes=$H"
check "info: the new name and content_path" \
  jqt --arg p "$VAR/incoming/renamed.bin" '.[0].name == "renamed.bin" and .[0].content_path == $p'
req POST torrents/rename --data-urlencode "hash=$H" --data-urlencode "name=   "
check "rename to an empty name: 409 Incorrect torrent name" is 409 "Incorrect torrent name"
req POST torrents/rename --data-urlencode "hash=$H" --data-urlencode "name=sub/dir.bin"
check "rename with a path separator: 409 Incorrect torrent name" is 409 "Incorrect torrent name"
req POST torrents/rename --data-urlencode "hash=$H" --data-urlencode $'name=bad\xffutf8'
# (a parameter that is not strict UTF-8 is 400 on every route: qbittorrent-api.md)
check "rename with invalid UTF-8: refused (400 Bad Request)" is 400 "Bad Request"
req POST torrents/rename --data-urlencode "hash=$H" --data-urlencode $'name=tab\tin'
check "rename with a control character: 409 Incorrect torrent name" is 409 "Incorrect torrent name"
req POST torrents/rename --data-urlencode "hash=0123456789abcdef0123456789abcdef01234567" --data-urlencode "name=x"
check "rename of an unknown hash: 404 Not Found" is 404 "Not Found"
req POST torrents/rename --data-urlencode "hash=$H"
check "rename without a name: 400" eval '[ "$CODE" = 400 ]'
check "the file is still where the good rename put it" cmp -s "$VAR/incoming/renamed.bin" "$T/$FILE"

# ================================================== setLocation (finished)
req POST torrents/setLocation --data-urlencode "hashes=$H" --data-urlencode "location=$VAR/roots/movies/new"
check "setLocation inside download_roots: 200, empty" is 200 ""
check "the file moved into that directory (created)" \
  eval '[ ! -e "$VAR/incoming/renamed.bin" ] && cmp -s "$VAR/roots/movies/new/renamed.bin" "$T/$FILE"'
req GET "torrents/info?hashes=$H"
check "info: save_path and content_path follow" \
  jqt --arg d "$VAR/roots/movies/new" '.[0].save_path == $d and .[0].content_path == ($d + "/renamed.bin")'
req POST torrents/setLocation --data-urlencode "hashes=$H" --data-urlencode "location=$T/elsewhere"
check "setLocation outside incoming_dir and download_roots: 409 Cannot make save path" is 409 "Cannot make save path"
check "nothing was made outside" [ ! -e "$T/elsewhere" ]
req POST torrents/setLocation --data-urlencode "hashes=$H" --data-urlencode "location=  "
check "setLocation to an empty path: 400 Save path cannot be empty" is 400 "Save path cannot be empty"
req POST torrents/setLocation --data-urlencode "hashes=$H"
check "setLocation without location: 400" eval '[ "$CODE" = 400 ]'
reshared() { "$CLI" --socket "$SOCK" --json shared 2>/dev/null | grep -qF "$VAR/roots/movies/new/renamed.bin"; }
check "the moved file is shared from its new place" eventually 30 reshared

# ============================= setLocation to another file system (tmpfs)
# The file is copied on a worker (state "moving"), the original removed
# once the copy is whole; then back again, for the checks below.
cross_move() { # cross_move DIR: setLocation there, then wait until it is done
  req POST torrents/setLocation --data-urlencode "hashes=$H" --data-urlencode "location=$1"
  [ "$CODE" = 200 ] || return 1
  moved_to() { req GET "torrents/info?hashes=$H"; jqt --arg d "$1" '.[0].save_path == $d and .[0].state != "moving"'; }
  eventually 60 moved_to "$1"
}
shared_at() { "$CLI" --socket "$SOCK" --json shared 2>/dev/null | grep -qF "$1"; }
check "setLocation to a root on another file system: 200, then done" cross_move "$SHM/tv"
check "... the file is there byte for byte, the original gone, no temporary file" \
  eval 'cmp -s "$SHM/tv/renamed.bin" "$T/$FILE" && [ ! -e "$VAR/roots/movies/new/renamed.bin" ] &&
        [ "$(ls -A "$SHM/tv")" = renamed.bin ]'
check "... info: content_path follows, state seeding again" \
  jqt --arg p "$SHM/tv/renamed.bin" '.[0].content_path == $p and (.[0].state | test("UP$"))'
check "... shared from there" eventually 30 shared_at "$SHM/tv/renamed.bin"
check "and back to the first file system" cross_move "$VAR/roots/movies/new"
check "... the file is back byte for byte, none left on the other" \
  eval 'cmp -s "$VAR/roots/movies/new/renamed.bin" "$T/$FILE" && [ -z "$(ls -A "$SHM/tv")" ]'
check "... shared from there again" eventually 30 reshared

# ==================================================== recheck (finished)
FPATH="$VAR/roots/movies/new/renamed.bin"
state_is() { req GET "torrents/info?hashes=$H"; jqt --arg s "$1" '.[0].state == $s'; }
seeding() { req GET "torrents/info?hashes=$H"; jqt '.[0].state | test("UP$") and (test("checking") | not)'; }
req POST torrents/recheck --data-urlencode "hashes=$H"
check "recheck: 200, empty" is 200 ""
check "after the re-check of the intact file it is seeding again" eventually 20 seeding
printf 'X' | dd of="$FPATH" bs=1 seek=1000 conv=notrunc status=none
req POST torrents/recheck --data-urlencode "hashes=$H"
check "a re-check of a damaged file puts it in the error state" eventually 20 state_is error
check "its comment says why" jqt '.[0].comment | test("does not match")'
cp "$T/$FILE" "$FPATH"
req POST torrents/recheck --data-urlencode "hashes=$H"
check "repaired, a re-check makes it seed again" eventually 20 seeding

# ============================ recheck of an active download's verified part
FILE2="parts-$$.bin"
head -c 12000000 /dev/urandom >"$T/$FILE2"   # 2 parts
check "amuled shares a second file" eval 'amule_share SEED "$T/$FILE2"'
MD42=$(rhash --printf '%{ed2k}' "$T/$FILE2")
H2=${MD42}00000000
req POST torrents/add --data-urlencode "urls=ed2k://|file|$FILE2|12000000|$MD42|/|sources,127.0.0.1:$SEEDP|/"
check "a two-part download is added" is 200 Ok.
req POST torrents/setDownloadLimit --data-urlencode "hashes=$H2" --data-urlencode limit=200000
req POST torrents/setLocation --data-urlencode "hashes=$H2" --data-urlencode "location=$VAR/roots/movies/active"
check "setLocation of an active download: 200" is 200 ""
req GET "torrents/info?hashes=$H2"
check "info: its save_path is the new location before it completes" \
  jqt --arg d "$VAR/roots/movies/active" '.[0].save_path == $d and .[0].progress < 1'
part0() { grep -q "download $MD42: part 0 verified" "$VAR/log/muleteerd.log"; }
check "its first part is verified" eventually 150 part0
req POST torrents/setDownloadLimit --data-urlencode "hashes=$H2" --data-urlencode limit=4096
# damage the verified part on disk, as a failing disk would
printf 'XYZ' | dd of="$VAR/temp/$MD42.part" bs=1 seek=5000 conv=notrunc status=none
req POST torrents/recheck --data-urlencode "hashes=$H2"
check "recheck of the active download: 200" is 200 ""
caught() { grep -q "download $MD42: part 0 is corrupt; downloading it again" "$VAR/log/muleteerd.log"; }
check "the re-check reads the part again and finds the damage" eventually 30 caught
req POST torrents/setDownloadLimit --data-urlencode "hashes=$H2" --data-urlencode limit=0
complete2() { [ -f "$VAR/roots/movies/active/$FILE2" ]; }
check "the part is downloaded again and the download completes, into the location set" eventually 180 complete2
check "the completed file is amuled's, byte for byte" cmp -s "$VAR/roots/movies/active/$FILE2" "$T/$FILE2"

# ======================================== an active download: filePrio, reannounce
GHOST=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
G=${GHOST}00000000
req POST torrents/add --data-urlencode "urls=ed2k://|file|ghost.bin|1000000|$GHOST|/"
check "a download nobody has is added" is 200 Ok.
req POST torrents/filePrio --data-urlencode "hash=$G" --data-urlencode id=0 --data-urlencode priority=0
check "filePrio 0: 200" is 200 ""
req GET "torrents/info?hashes=$G"
check "priority 0 (do not download) pauses it" jqt '.[0].state == "stoppedDL" or .[0].state == "pausedDL"'
req GET "torrents/files?hash=$G"
check "files: priority 0 while paused" jqt '.[0].priority == 0'
req POST torrents/filePrio --data-urlencode "hash=$G" --data-urlencode id=0 --data-urlencode priority=6
check "filePrio 6: 200" is 200 ""
req GET "torrents/info?hashes=$G"
check "priority 6 resumes it" jqt '.[0].state != "stoppedDL" and .[0].state != "pausedDL"'
req GET "torrents/files?hash=$G"
check "files: priority 6 (a high priority download)" jqt '.[0].priority == 6'
check "the download's priority is high" sql_is "SELECT priority FROM downloads WHERE hash = '$GHOST'" 1
req POST torrents/filePrio --data-urlencode "hash=$G" --data-urlencode id=0 --data-urlencode priority=1
check "filePrio 1 makes it normal again" eval 'is 200 "" && sql_is "SELECT priority FROM downloads WHERE hash = '"'$GHOST'"'" 0'
req POST torrents/filePrio --data-urlencode "hash=$G" --data-urlencode id=1 --data-urlencode priority=1
check "filePrio of file 1: 409 File ID is not valid" is 409 "File ID is not valid"
req POST torrents/filePrio --data-urlencode "hash=$G" --data-urlencode "id=0|x" --data-urlencode priority=1
check "filePrio of a non-integer id: 400 File IDs must be integers" is 400 "File IDs must be integers"
req POST torrents/filePrio --data-urlencode "hash=$G" --data-urlencode id=0 --data-urlencode priority=3
check "filePrio 3: 400 Priority is not valid" is 400 "Priority is not valid"
req POST torrents/filePrio --data-urlencode "hash=$G" --data-urlencode id=0 --data-urlencode priority=high
check "filePrio with a word: 400 Priority must be an integer" is 400 "Priority must be an integer"
req POST torrents/filePrio --data-urlencode "hash=0123456789abcdef0123456789abcdef01234567" --data-urlencode id=0 --data-urlencode priority=1
check "filePrio of an unknown hash: 404 Not Found" is 404 "Not Found"
req POST torrents/filePrio --data-urlencode "hash=$G" --data-urlencode id=0
check "filePrio without priority: 400" eval '[ "$CODE" = 400 ]'

asked() { grep -c "getsources conn=[0-9]* id=[0-9]* hash=$GHOST" "$T/server.log"; }
first_ask() { [ "$(asked)" -ge 1 ]; }
check "the server was asked for the new download's sources" eventually 60 first_ask
before=$(asked)
req POST torrents/reannounce --data-urlencode "hashes=$G"
check "reannounce: 200, empty" is 200 ""
asked_again() { [ "$(asked)" -gt "$before" ]; }
check "reannounce asks the server again at once (not 800 s later)" eventually 10 asked_again
req POST torrents/reannounce --data-urlencode "hashes=$H|$G"
check "reannounce of a finished one with it: 200" is 200 ""
req POST torrents/recheck --data-urlencode "hashes=$G"
check "recheck of a download without data: 200" is 200 ""

# ---- the end: no sanitizer reports ----
bad=$(grep -rlE "AddressSanitizer|LeakSanitizer|runtime error:" "$VAR/log" "$T/b/stderr" 2>/dev/null || true)
check "no sanitizer reports" [ -z "$bad" ]
finish
