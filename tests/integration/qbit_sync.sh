#!/usr/bin/env bash
# qbit_sync.sh: sync/maindata's rid deltas on the real stack (run.sh:
# PostgreSQL, muleteerd, lighttpd with several qbit.fcgi processes): a
# full update first, then each change (a stopped download, a category, a
# tag, a deletion) as a minimal delta with only the changed fields, no
# change as an empty delta, rids made by one process answered by others,
# rids past 2147483647 starting again at 1, unknown, malformed and
# forgotten rids as full updates, and the stored
# states kept within their bounds. TAP.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
trap cleanup EXIT

mk_tmpdir T
VAR="$T/var"
mkdir -p "$VAR"
HP=$(free_port)
if ! start_runsh "$VAR" "$T/runsh.out" MULETEER_HTTP_PORT="$HP" MULETEER_TCP_PORT=$((HP + 1)) \
     MULETEER_UDP_PORT=$((HP + 2)); then
  not_ok "run.sh starts the stack"; diag "$(tail -n 20 "$T/runsh.out")"; finish; exit 1
fi
API="http://127.0.0.1:$HP/api/v2"
AUTH="Authorization: Bearer $(conf_key "$VAR" api_key)"
DB=$(conf_key "$VAR" database)
NODE=$(conf_key "$VAR" node_name)
PSQL() { as_service_user psql "$DB" -XAtq -c "$1" 2>/dev/null; }

# req METHOD PATH [curl args...]: sets CODE and BODY.
req() {
  local m=$1 p=$2; shift 2
  CODE=$(curl -sS -m 30 -H "$AUTH" -X "$m" -o "$T/body" -w '%{http_code}' "$@" "$API/$p")
  BODY=$(cat "$T/body" 2>/dev/null)
}
jqt() { jq -e "$@" <<<"$BODY" >/dev/null 2>&1; }
# sync RID: sync/maindata?rid=RID into BODY; RID becomes the answer's rid.
sync() {
  req GET "sync/maindata?rid=$1"
  RID=$(jq -r '.rid // empty' <<<"$BODY" 2>/dev/null)
}

# ---- three downloads (no server: they stay stalled, nothing moves) ----
md4() { printf '%s' "$1-$$" | md5sum | cut -c1-32; }
A=$(md4 a) B=$(md4 b) C=$(md4 c)
HA=${A}00000000 HB=${B}00000000 HC=${C}00000000
req POST torrents/add --data-urlencode "urls=ed2k://|file|Show.S01E01.mkv|7340032|$A|/
ed2k://|file|Show.S01E02.mkv|7340033|$B|/
ed2k://|file|Show.S01E03.mkv|7340034|$C|/"
check "three downloads are added" eval '[ "$CODE" = 200 ] && [ "$BODY" = Ok. ]'
req POST torrents/createCategory --data-urlencode category=tv
three() { [ "$(curl -sS -m 10 -H "$AUTH" "$API/torrents/info" | jq length)" = 3 ]; }
check "torrents/info lists them" eventually 20 three

# ---- rid 0: everything ----
sync 0
check "rid=0: 200, full_update true, a rid above 0" \
  eval '[ "$CODE" = 200 ] && jqt ".full_update == true and .rid > 0"'
check "the full update has every key of qBittorrent's (4.5.2 transcript)" \
  jqt 'keys == ["categories","full_update","rid","server_state","tags","torrents","trackers"]'
check "the full update: three torrents under their hashes, category tv, no tags" \
  jqt --arg a "$HA" --arg b "$HB" --arg c "$HC" \
  '(.torrents | keys) == ([$a, $b, $c] | sort) and (.categories | keys) == ["tv"] and .tags == []'
INFO_KEYS=$(curl -sS -m 10 -H "$AUTH" "$API/torrents/info" | jq -c '.[0] | keys - ["hash"]')
check "each torrent carries torrents/info's fields but hash" \
  jqt --argjson k "$INFO_KEYS" '[.torrents[] | keys == $k] | all'
check "server_state carries the transfer keys and maindata's own" \
  jqt '.server_state | has("connection_status") and has("dl_info_speed") and has("alltime_dl")
       and .queueing == true and .refresh_interval == 1500'
FULL_RID=$RID

# ---- no change: an empty delta ----
# (retried with each new rid while the daemon may still be writing the new rows)
empty_delta() {
  local prev=$RID
  sync "$RID"
  [ "$CODE" = 200 ] && [ "$RID" -gt "$prev" ] && [ "$BODY" = "{\"rid\":$RID}" ]
}
check "nothing changed: the delta is {\"rid\":N} alone, N a new rid" eventually 10 empty_delta
R=$RID
sync "$R"
check "the same again: empty, and yet another rid" eval '[ "$BODY" = "{\"rid\":$RID}" ] && [ "$RID" -gt "$R" ]'
check "an unchanged list is not rendered again: both rids keep one rendering" \
  eval '[ "$(PSQL "SELECT count(DISTINCT rendered_at) = 1 FROM sync_rids WHERE rid IN ($R, $RID)")" = t ]'

# delta_until JQ: polls with the last rid (each answer's changes are
# remembered by the next rid) until the delta satisfies JQ; the matching
# answer stays in BODY.
delta_until() {
  local end=$(( $(date +%s) + 15 ))
  while :; do
    sync "$RID"
    jqt "$@" && return 0
    [ "$(date +%s)" -ge "$end" ] && { diag "last delta: $BODY"; return 1; }
    sleep 0.3
  done
}
# Fields that move with the clock may ride along with a real change.
CLOCK='["time_active","seeding_time","seen_complete","last_activity"]'

# ---- a stopped download: its state, nothing else of it or the others ----
req POST torrents/stop --data-urlencode "hashes=$HA"
check "stop A: the delta brings A's state stoppedDL" \
  delta_until --arg a "$HA" '.torrents[$a].state == "stoppedDL"'
check "the delta is not a full update and holds only A" \
  jqt --arg a "$HA" '(has("full_update") | not) and (.torrents | keys) == [$a]
                     and (keys - ["rid","torrents"]) == []'
check "A's delta has only changed fields (state, and clock fields at most)" \
  jqt --arg a "$HA" --argjson c "$CLOCK" '(.torrents[$a] | keys) - $c == ["state"]'
diag "stop: $BODY"
check "A's new version is stored as its changes from its first, not whole" \
  eval '[ "$(PSQL "SELECT base_seq < from_seq AND json_typeof(body -> '"'name'"') IS NULL
                     AND body ->> '"'state'"' = '"'stoppedDL'"' FROM sync_torrents
                   WHERE hash = '"'$HA'"' AND to_seq IS NULL")" = t ]'

# ---- a category set: category and the paths that follow it ----
req POST torrents/setCategory --data-urlencode "hashes=$HB" --data-urlencode category=tv
check "setCategory B tv: the delta brings B's category" \
  delta_until --arg b "$HB" '.torrents[$b].category == "tv"'
check "B's delta: category and its save paths, not its name, size or state" \
  jqt --arg b "$HB" --argjson c "$CLOCK" \
  '((.torrents[$b] | keys) - $c - ["save_path","content_path"]) == ["category"]
   and (.torrents | keys) == [$b]'
diag "setCategory: $BODY"

# ---- a tag added: the torrent's tags and the new tag ----
req POST torrents/addTags --data-urlencode "hashes=$HC" --data-urlencode tags=sonarr
check "addTags C sonarr: C's tags and the new tag in tags" \
  delta_until --arg c "$HC" '.torrents[$c].tags == "sonarr"'
check "the tag delta: tags [sonarr], C's tags alone" \
  jqt --arg c "$HC" --argjson k "$CLOCK" \
  '.tags == ["sonarr"] and ((.torrents[$c] | keys) - $k) == ["tags"] and (.torrents | keys) == [$c]'

# ---- categories: a new one whole, a removed one by name ----
req POST torrents/createCategory --data-urlencode category=movies
check "createCategory movies: categories {movies: {name, savePath}}" \
  delta_until '.categories.movies.name == "movies" and (.categories.movies | has("savePath"))'
check "only the new category, no torrents" jqt '(.categories | keys) == ["movies"] and (has("torrents") | not)'
req POST torrents/removeCategories --data-urlencode categories=movies
check "removeCategories movies: categories_removed [movies]" \
  delta_until '.categories_removed == ["movies"] and (has("categories") | not)'
BEFORE_DELETE=$RID

# ---- a deletion: torrents_removed ----
req POST torrents/delete --data-urlencode "hashes=$HA" --data-urlencode deleteFiles=true
check "delete A: torrents_removed [A], nothing else of A" \
  delta_until --arg a "$HA" '.torrents_removed == [$a] and ((.torrents // {}) | has($a) | not)'
req POST torrents/removeTags --data-urlencode "hashes=$HC"
check "removeTags C: tags_removed [sonarr], C's tags empty" \
  delta_until --arg c "$HC" '.tags_removed == ["sonarr"] and .torrents[$c].tags == ""'

# ---- an older rid: everything since it, accumulated ----
sync "$BEFORE_DELETE"
check "a rid from before the deletion and the untagging: both changes in one delta" \
  jqt --arg a "$HA" --arg c "$HC" \
  '(has("full_update") | not) and .torrents_removed == [$a] and .tags_removed == ["sonarr"]
   and .torrents[$c].tags == ""'

# ---- rids made by one process, answered by others ----
# The test holds the node's sync lock while four polls arrive: each
# qbit.fcgi process answers one request at a time, so four waiting
# PostgreSQL sessions are four processes. Their four rids, used in turn
# afterwards, are each answered by whichever process lighttpd picks.
empty_delta
R0=$RID
as_service_user psql "$DB" -XAtq -c "SELECT pg_advisory_lock(1836413795, hashtext('$NODE'))" \
  -c "SELECT pg_sleep(2.5)" >/dev/null 2>&1 &
LOCKER=$!
CLEANUP_PIDS+=("$LOCKER")
sleep 0.5
PIDS=()
for i in 1 2 3 4; do
  curl -sS -m 30 -H "$AUTH" "$API/sync/maindata?rid=$R0" -o "$T/par$i" &
  PIDS+=("$!")
done
waiting() { [ "$(PSQL "SELECT count(DISTINCT pid) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")" = 4 ]; }
check "four polls at once wait in four qbit.fcgi processes (4 sessions on the lock)" eventually 2 waiting
wait "$LOCKER" "${PIDS[@]}"
PAR=$(for i in 1 2 3 4; do jq -c . "$T/par$i" 2>/dev/null; done)
check "the four answers: deltas (no full update), empty, four different rids" \
  eval 'jq -se "length == 4 and (map(.rid) | unique | length) == 4
         and all(.[]; keys == [\"rid\"])" <<<"$PAR" >/dev/null'
ok_rids=0
for r in $(jq -r '.rid' <<<"$PAR"); do
  sync "$r"
  jqt 'has("full_update") | not' && ok_rids=$((ok_rids + 1))
done
check "each of those rids, polled again, is answered with a delta" eval '[ "$ok_rids" = 4 ]'
seq_ok=0
for i in $(seq 1 12); do
  sync "$RID"
  jqt 'has("full_update") | not' && seq_ok=$((seq_ok + 1))
done
check "twelve polls in a row, each with the previous answer's rid: all deltas" eval '[ "$seq_ok" = 12 ]'

sync "$RID"
sync $((RID + 1))
check "the rid this very answer gets (guessed): a full update" jqt '.full_update == true'

# ---- qBittorrent's rid is an int: past 2147483647 rids start again at 1 ----
PSQL "SELECT setval('sync_seq', 2147483645)" >/dev/null
sync "$RID"
R1=$RID
sync "$RID"
R2=$RID
req POST torrents/setCategory --data-urlencode "hashes=$HC" --data-urlencode category=tv
check "rids 2147483646, 2147483647, then 1, 2...: deltas all along, C's category among them" \
  eval '[ "$R1" = 2147483646 ] && [ "$R2" = 2147483647 ] &&
        delta_until --arg c "$HC" '"'"'.rid < 100 and .torrents[$c].category == "tv"'"'"''
sync "$RID"
check "after the wrap: still a delta" jqt '(has("full_update") | not) and .rid < 100'

# ---- rids that are not known: everything ----
for bad in 1999999999 -5 abc 99999999999; do
  sync "$bad"
  check "rid=$bad: a full update" jqt '.full_update == true and (.torrents | length) == 2'
done
req GET sync/maindata
check "no rid: a full update" jqt '.full_update == true'
# the first rid of all, once 64 newer answers have been made, is forgotten
for i in $(seq 1 70); do curl -sS -m 10 -H "$AUTH" -o /dev/null "$API/sync/maindata?rid=$RID"; done
sync "$FULL_RID"
check "a forgotten rid (more than 64 answers ago): a full update with the current state" \
  jqt --arg b "$HB" --arg c "$HC" '.full_update == true and (.torrents | keys) == ([$b, $c] | sort)
       and .torrents[$b].category == "tv"'

curl -sS -m 10 -H "$AUTH" "$API/torrents/info" >"$T/info.json"
sync 0
check "a full update's torrents, rebuilt from stored changes, are torrents/info's rows (but hash and clock fields)" \
  jqt --slurpfile i "$T/info.json" '
    def noclock: del(.time_active, .seeding_time, .seen_complete);
    (.torrents | map_values(noclock)) == ($i[0] | map({key: .hash, value: (del(.hash) | noclock)}) | from_entries)'

# ---- what is stored stays bounded ----
check "at most 64 rids are kept for the node" \
  eval '[ "$(PSQL "SELECT count(*) <= 64 FROM sync_rids WHERE node = '"'$NODE'"'")" = t ]'
check "the versions kept: the two current ones, those a kept rid needs and their bases" \
  eval '[ "$(PSQL "SELECT count(*) FILTER (WHERE t.to_seq IS NULL) = 2 AND count(*) FILTER (WHERE
            t.to_seq <= x.m AND NOT EXISTS (SELECT 1 FROM sync_torrents u WHERE u.node = t.node
              AND u.hash = t.hash AND u.base_seq = t.from_seq AND (u.to_seq IS NULL OR u.to_seq > x.m))) = 0
          FROM sync_torrents t, (SELECT min(seq) AS m FROM sync_rids WHERE node = '"'$NODE'"') x
          WHERE t.node = '"'$NODE'"'")" = t ]'

finish
