#!/bin/bash
# finished.sh: per-download attributes and finished downloads, between
# three real muleteerds with a private PostgreSQL: add with tags, share
# limits and stopped; set-category, tags-add/remove, share-limits and
# force-start, on the control socket and in the downloads table; a
# completed download that stays listed (its row across a restart and a
# wiped table plus an outage, its upload counters when another daemon
# downloads it, its file going missing and coming back); set-category and
# delete of finished downloads, with and without their files; hostile and
# unreadable finished.json files. TAP output.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/mule.sh"
trap cleanup EXIT
PSQL() { as_service_user psql "$DB" -XAtq -c "$1" 2>/dev/null; }

mk_tmpdir PG
private_pg "$PG"

mk_tmpdir T
AP=$(free_port); BP=$(free_port); CP=$(free_port); SP=$(free_port)
"$MT_BUILDDIR/tests/fixtures/ed2k_server" --port "$SP" --highid-all --log "$T/server.log" &
CLEANUP_PIDS+=("$!")
eventually 10 grep -qs listening "$T/server.log" || { not_ok "server fixture starts"; finish; exit 1; }
mkdir -p "$T/a/share"
head -c 1500000 /dev/urandom >"$T/a/share/episode.bin"
EP=$(rhash --printf '%{ed2k}' "$T/a/share/episode.bin")
head -c 1000000 /dev/urandom >"$T/a/share/film.bin"
FM=$(rhash --printf '%{ed2k}' "$T/a/share/film.bin")
EP_LINK="ed2k://|file|episode.bin|1500000|$EP|/|sources,127.0.0.1:$AP|/"
FM_LINK="ed2k://|file|film.bin|1000000|$FM|/|sources,127.0.0.1:$AP|/"
start_b() { MULE_DATABASE=$DB start_mule B "$T/b" "$BP" "node_name = node-b" "status_interval = 1" \
  "download_roots = $T/b/tv" \
  "servers = 127.0.0.1:$SP"; }
MULE_DATABASE=$DB start_mule A "$T/a" "$AP" "shared_dirs = $T/a/share" "node_name = node-a" \
  "servers = 127.0.0.1:$SP"
start_b
check "both daemons start with the database" eval 'mcli "$T/a" ping >/dev/null && mcli "$T/b" ping >/dev/null'
a_shares() { [ "$(mcli "$T/a" shared | grep -c "episode.bin\|film.bin")" = 2 ]; }
check "A shares the files" eventually 30 a_shares

# J DIR CMD [JSON]: a command's result, or {"error": {"code", "message"}}.
J() { local a=${3-}; [ -n "$a" ] || a='{}'; mcli "$1" --json call "$2" "$a"; }
# jqt JSON FILTER...: JSON is there and the filter holds for it
jqt() { local j=$1; shift; [ -n "$j" ] && jq -e "$@" <<<"$j" >/dev/null 2>&1; }
dl_of() { J "$T/b" downloads | jq -c --arg h "$1" '.downloads[] | select(.hash == $h)'; }
fin_of() { J "$T/b" downloads | jq -c --arg h "$1" '.finished[] | select(.hash == $h)'; }
row() { PSQL "SELECT $2 FROM downloads WHERE node = 'node-b' AND hash = '$1'"; }
row_is() { [ "$(row "$1" "$2")" = "$3" ]; }
row_gone() { [ "$(PSQL "SELECT count(*) FROM downloads WHERE node = 'node-b' AND hash = '$1'")" = 0 ]; }
# not_in LIST HASH: the downloads command answers and LIST (downloads or
# finished) does not have HASH
not_in() { jqt "$(J "$T/b" downloads)" --arg h "$2" "all(.$1[]; .hash != \$h)"; }
hist() { PSQL "SELECT string_agg(status || ':' || (completed_at IS NOT NULL)::int || ':' || (deleted_at IS NOT NULL)::int, ',' ORDER BY id) FROM history WHERE node = 'node-b' AND hash = '$1'"; }
invalid() { jqt "$1" --arg a "$2" '.error.code == "invalid_args" and (.error.message | contains($a))'; }

out=$(J "$T/b" help)
check "help lists the new commands" jqt "$out" '(.commands | map(.name)) as $n |
  ["set-category", "tags-add", "tags-remove", "share-limits", "force-start"] | all(. as $c | $n | index($c))'

# ---- add: tags, share limits, stopped ----
out=$(J "$T/b" add '{"link": "'"$EP_LINK"'", "tags": " tv, b ,,a", "ratio_limit": 1.5,
  "seeding_time_limit": 120, "stopped": true, "added_by": "sonarr", "added_via": "api-v2"}')
check "add: tags (comma-separated, trimmed, sorted), share limits, stopped" jqt "$out" \
  '.state == "stopped" and .tags == ["a", "b", "tv"] and .ratio_limit == 1.5 and
   .seeding_time_limit == 120 and .force_start == false and .last_activity == 0'
sleep 3
check "a download added stopped does not start" eval '[ "$(dl_of "$EP" | jq .done)" = 0 ]'
check "its row: stopped, tags, limits, force_start, no activity yet" eventually 10 row_is "$EP" \
  "state || ':' || tags::text || ':' || ratio_limit || ':' || seeding_time_limit || ':' || force_start || ':' || (last_activity IS NULL)" \
  "stopped:{a,b,tv}:1.5:120:false:true"
check "its history: started, then stopped" eventually 10 eval '[ "$(hist "$EP")" = "stopped:0:0" ]'
tags33=$(seq -s, 1 33)
bad_adds=(
  "tags|{\"link\": \"$FM_LINK\", \"tags\": [\"ok\", \"bad,tag\"]}"
  "tags|{\"link\": \"$FM_LINK\", \"tags\": \"$tags33\"}"
  "tags|{\"link\": \"$FM_LINK\", \"tags\": 5}"
  "ratio_limit|{\"link\": \"$FM_LINK\", \"ratio_limit\": 10000}"
  "ratio_limit|{\"link\": \"$FM_LINK\", \"ratio_limit\": -1.5}"
  "seeding_time_limit|{\"link\": \"$FM_LINK\", \"seeding_time_limit\": 1.5}"
  "seeding_time_limit|{\"link\": \"$FM_LINK\", \"seeding_time_limit\": 525601}"
  "stopped|{\"link\": \"$FM_LINK\", \"stopped\": \"yes\"}"
  "force_start|{\"link\": \"$FM_LINK\", \"force_start\": 1}"
)
failed=""
for b in "${bad_adds[@]}"; do
  out=$(J "$T/b" add "${b#*|}")
  invalid "$out" "${b%%|*}" || failed="$failed [$b -> $out]"
done
check "add: each invalid value is invalid_args naming its argument (those that were not:)" [ -z "$failed" ]
[ -n "$failed" ] && diag "$failed"
check "... and nothing was added" not_in downloads "$FM"

# ---- set-category ----
J "$T/b" category-add '{"name": "tv", "incoming_path": "'"$T/b/tv"'"}' >/dev/null
out=$(J "$T/b" set-category '{"hash": "'"$EP"'", "category": "tv"}')
check "set-category to an existing category" jqt "$out" '.category == "tv"'
check "... reaches the row" eventually 10 row_is "$EP" category tv
out=$(J "$T/b" set-category '{"hash": "'"$EP"'", "category": "nope"}')
check "set-category to an unknown category: not_found, no such category" jqt "$out" \
  '.error.code == "not_found" and .error.message == "no such category: nope"'
check "... and the category is unchanged, not created" eval \
  'jqt "$(dl_of "$EP")" ".category == \"tv\"" && jqt "$(J "$T/b" categories)" "all(.categories[]; .name != \"nope\")"'
out=$(J "$T/b" set-category '{"hash": "'"$EP"'", "category": null}')
check "set-category null: none" jqt "$out" '.category == null'
check "... reaches the row" eventually 10 row_is "$EP" "category IS NULL" t
out=$(J "$T/b" set-category '{"hash": "'"$EP"'"}')
check "set-category without category is invalid_args" invalid "$out" category
out=$(J "$T/b" set-category '{"hash": "ffffffffffffffffffffffffffffffff", "category": "tv"}')
check "set-category of an unknown hash is not_found" jqt "$out" '.error.code == "not_found"'
J "$T/b" set-category '{"hash": "'"$EP"'", "category": "tv"}' >/dev/null

# ---- tags ----
out=$(J "$T/b" tags-add '{"hash": "'"$EP"'", "tags": ["c"]}')
check "tags-add" jqt "$out" '.tags == ["a", "b", "c", "tv"]'
out=$(J "$T/b" tags-remove '{"hash": "'"$EP"'", "tags": "a, tv"}')
check "tags-remove" jqt "$out" '.tags == ["b", "c"]'
check "... the row's tags follow" eventually 10 row_is "$EP" "tags::text" "{b,c}"
out=$(J "$T/b" tags-remove '{"hash": "'"$EP"'"}')
check "tags-remove without tags removes them all" jqt "$out" '.tags == []'
check "... in the row too" eventually 10 row_is "$EP" "tags::text" "{}"
out=$(J "$T/b" tags-add '{"hash": "'"$EP"'", "tags": []}')
check "tags-add with no tag is invalid_args" invalid "$out" tags
out=$(J "$T/b" tags-add '{"hash": "'"$EP"'", "tags": ["x\u0001"]}')
check "tags-add with a control character is invalid_args" invalid "$out" tags
J "$T/b" tags-add '{"hash": "'"$EP"'", "tags": "x,y"}' >/dev/null

# ---- share limits, force start ----
out=$(J "$T/b" share-limits '{"hash": "'"$EP"'", "ratio_limit": -1, "seeding_time_limit": 30}')
check "share-limits" jqt "$out" '.ratio_limit == -1 and .seeding_time_limit == 30'
check "... reach the row" eventually 10 row_is "$EP" "ratio_limit || ':' || seeding_time_limit" "-1:30"
out=$(J "$T/b" share-limits '{"hash": "'"$EP"'", "ratio_limit": 2}')
check "share-limits without seeding_time_limit is invalid_args" invalid "$out" seeding_time_limit
out=$(J "$T/b" force-start '{"hash": "'"$EP"'"}')
check "force-start without value is invalid_args" invalid "$out" value
out=$(J "$T/b" force-start '{"hash": "'"$EP"'", "value": true}')
check "force-start true sets the flag and starts the stopped download" jqt "$out" \
  '.force_start == true and .state != "stopped"'
ep_done() { [ -f "$T/b/tv/episode.bin" ]; }
check "the download completes into its category's directory" eventually 60 ep_done
check "the file is identical" cmp -s "$T/b/tv/episode.bin" "$T/a/share/episode.bin"

# ---- the finished download ----
fin_ep() { jqt "$(fin_of "$EP")" --arg p "$T/b/tv" '.state == "completed" and .finished == true and
  .category == "tv" and .tags == ["x", "y"] and .ratio_limit == -1 and .seeding_time_limit == 30 and
  .force_start == true and .save_path == $p and .content_path == ($p + "/episode.bin") and
  .size == 1500000 and .completed_at > 0 and .added_by == "sonarr" and .last_activity > 0'; }
check "a completed download stays listed as finished, with its attributes and paths" eventually 10 fin_ep
check "... and leaves the active downloads" not_in downloads "$EP"
check "its row: completed, with its paths, attributes and last activity" eventually 10 row_is "$EP" \
  "state || ':' || (completed_at IS NOT NULL) || ':' || content_path || ':' || tags::text || ':' || force_start || ':' || (last_activity IS NOT NULL) || ':' || added_via || ':' || done_bytes" \
  "completed:true:$T/b/tv/episode.bin:{x,y}:true:true:api-v2:1500000"
check "finished.json holds it" grep -q "$EP" "$T/b/finished.json"
out=$(J "$T/b" add '{"link": "'"$EP_LINK"'"}')
check "adding a finished download again: exists" jqt "$out" '.error.code == "exists"'
failed=""
for c in pause stop resume; do
  out=$(J "$T/b" "$c" '{"hash": "'"$EP"'"}')
  jqt "$out" --arg h "$EP" '.hash == $h and .state == "completed"' || failed="$failed $c"
done
check "pause, stop and resume of a finished download change nothing (failing:)" [ -z "$failed" ]
out=$(J "$T/b" priority '{"hash": "'"$EP"'", "priority": "high"}')
check "priority of a finished download" jqt "$out" '.priority == "high"'
check "... reaches the row" eventually 10 row_is "$EP" priority 1

# ---- a plain second download, completed into the incoming directory ----
J "$T/b" add '{"link": "'"$FM_LINK"'"}' >/dev/null
fm_done() { jqt "$(fin_of "$FM")" '.state == "completed"'; }
check "a second download completes and is listed as finished" eventually 60 fm_done
check "... in the incoming directory" cmp -s "$T/b/incoming/film.bin" "$T/a/share/film.bin"

# ---- its file is shared wherever it is, and uploads count ----
kill -TERM "${MULE_PID[A]}"; wait "${MULE_PID[A]}" 2>/dev/null
J "$T/b" rescan >/dev/null
b_shares() { jqt "$(J "$T/b" shared)" --arg p "$T/b/tv/episode.bin" '.scanning == false and any(.files[]; .path == $p)'; }
check "after a rescan, the finished file in the category directory is still shared" eventually 30 b_shares
start_mule C "$T/c" "$CP" "node_name = node-c" "servers = 127.0.0.1:$SP"
mcli "$T/c" add "ed2k://|file|episode.bin|1500000|$EP|/|sources,127.0.0.1:$BP|/" >/dev/null
c_done() { [ -f "$T/c/incoming/episode.bin" ]; }
check "a third daemon downloads the finished file from B" eventually 60 c_done
uploaded() { jqt "$(fin_of "$EP")" '.uploaded >= 1500000'; }
check "the finished download counts what was uploaded" eventually 10 uploaded
check "... and so does its row" eventually 10 row_is "$EP" "uploaded_bytes >= 1500000 AND last_activity >= completed_at" t

# ---- restart, wiped table, outage ----
kill -TERM "${MULE_PID[B]}"; wait "${MULE_PID[B]}"; rc=$?
check "B stops cleanly" [ "$rc" = 0 ]
start_b
check "after a restart the finished download is still listed, with its upload count" eventually 10 eval \
  'jqt "$(fin_of "$EP")" ".state == \"completed\" and .uploaded >= 1500000 and .tags == [\"x\", \"y\"]"'
check "... and its row is still there" eventually 10 row_is "$EP" "state || ':' || (uploaded_bytes >= 1500000)" "completed:true"
# one statement: the daemon may write its rows again at any time after it
# (that is what the checks below wait for), so the wipe is judged by what
# the statement itself deleted and inserted
wiped=$(PSQL "WITH del AS (DELETE FROM downloads WHERE node = 'node-b' RETURNING 1),
                   ins AS (INSERT INTO downloads (node, hash, name, size, state, content_path)
                           VALUES ('node-b', 'abababababababababababababababab', 'stale.bin', 10,
                                   'completed', '/nowhere/stale.bin') RETURNING 1)
              SELECT (SELECT count(*) FROM del) || ':' || (SELECT count(*) FROM ins)")
check "the table is wiped (and holds a stale row)" eval '[ "${wiped%%:*}" -ge 1 ] && [ "${wiped#*:}" = 1 ]'
"$PGC" stop "$PG" >/dev/null
sleep 3
"$PGC" start "$PG" >/dev/null
check "after the outage the daemon writes the finished rows again" eventually 20 row_is "$EP" \
  "state || ':' || tags::text || ':' || content_path" "completed:{x,y}:$T/b/tv/episode.bin"
check "... both of them" eventually 10 row_is "$FM" state completed
check "... and deletes the row it does not know" eventually 10 eval \
  '[ "$(PSQL "SELECT count(*) FROM downloads WHERE node = '"'"'node-b'"'"' AND hash = '"'"'abababababababababababababababab'"'"'")" = 0 ]'

# ---- set-category of a finished download: the label only ----
J "$T/b" category-add '{"name": "films"}' >/dev/null
out=$(J "$T/b" set-category '{"hash": "'"$EP"'", "category": "films"}')
check "set-category of a finished download changes its label, not its file" jqt "$out" --arg p "$T/b/tv/episode.bin" \
  '.category == "films" and .content_path == $p'
check "... the file stays where it was" eval '[ -f "$T/b/tv/episode.bin" ] && [ ! -e "$T/b/incoming/films/episode.bin" ]'
check "... the row says films, same path" eventually 10 row_is "$EP" "category || ':' || content_path" "films:$T/b/tv/episode.bin"
out=$(J "$T/b" set-category '{"hash": "'"$EP"'", "category": "nope"}')
check "set-category of a finished download to an unknown category: not_found" jqt "$out" '.error.code == "not_found"'

# ---- a file that goes missing and comes back ----
mv "$T/b/tv/episode.bin" "$T/moved.bin"
J "$T/b" rescan >/dev/null
check "a finished download whose file is gone is missing" eventually 20 eval 'jqt "$(fin_of "$EP")" ".state == \"missing\""'
check "... in its row too" eventually 10 row_is "$EP" state missing
mv "$T/moved.bin" "$T/b/tv/episode.bin"
J "$T/b" rescan >/dev/null
check "it is completed again once the file is back" eventually 20 eval 'jqt "$(fin_of "$EP")" ".state == \"completed\""'
check "... in its row too" eventually 10 row_is "$EP" state completed

# ---- delete ----
out=$(J "$T/b" delete '{"hash": "'"$FM"'", "delete_files": false}')
check "delete of a finished download without its files" jqt "$out" --arg p "$T/b/incoming/film.bin" \
  '.deleted == "finished" and .file_removed == false and .path == $p'
check "... forgets it" not_in finished "$FM"
check "... keeps the file" cmp -s "$T/b/incoming/film.bin" "$T/a/share/film.bin"
check "... deletes its row" eventually 10 row_gone "$FM"
check "... its history stays completed, with the deletion time" eventually 10 eval '[ "$(hist "$FM")" = "completed:1:1" ]'
J "$T/b" rescan >/dev/null
fm_shared() { jqt "$(J "$T/b" shared)" '.scanning == false and any(.files[]; .name == "film.bin")'; }
check "... and the file is still shared" eventually 20 fm_shared
out=$(J "$T/b" delete '{"hash": "'"$EP"'", "delete_files": true}')
check "delete of a finished download with its files" jqt "$out" '.deleted == "finished" and .file_removed == true'
check "... removes the file" eval '[ ! -e "$T/b/tv/episode.bin" ]'
check "... and the row" eventually 10 row_gone "$EP"
check "... its history: completed, with the deletion time" eventually 10 eval '[ "$(hist "$EP")" = "completed:1:1" ]'
check "finished.json no longer has them" eval '[ -s "$T/b/finished.json" ] && ! grep -q "$EP\|$FM" "$T/b/finished.json"'

# ---- hostile finished.json ----
kill -TERM "${MULE_PID[B]}"; wait "${MULE_PID[B]}"
echo "do not remove" >"$T/sentinel"
G=11111111111111111111111111111111
good='{"hash": "'$G'", "name": "good.bin", "size": 100, "save_path": "'$T'", "content_path": "'$T'/sentinel", "tags": ["t"], "ratio_limit": 2, "seeding_time_limit": 5}'
rec() { printf '{"hash": "%s", "name": "x.bin", "size": 10, "save_path": "/tmp", "content_path": "/tmp/x.bin"%s}' "$1" "$2"; }
cat >"$T/b/finished.json" <<EOF
{"version": 1, "imported": true, "finished": [
  $good,
  $(rec zz ''),
  $(rec 22222222222222222222222222222222 ', "name": "a/b"'),
  $(rec 33333333333333333333333333333333 ', "size": -5'),
  $(rec 44444444444444444444444444444444 ', "content_path": "../../etc/passwd"'),
  $(rec 55555555555555555555555555555555 ', "tags": ["a,b"]'),
  $(rec 66666666666666666666666666666666 ', "ratio_limit": 1e308'),
  $(rec 77777777777777777777777777777777 ', "added_at": 99999999999999999999'),
  $(rec 88888888888888888888888888888888 ', "category": "a\u0007b"'),
  $(rec 99999999999999999999999999999999 ', "content_path": "/tmp/../etc/passwd"'),
  "not an object", 42, null, [[[[1]]]],
  $good
]}
EOF
start_b
check "a hostile finished.json does not stop the daemon" eval 'mcli "$T/b" ping >/dev/null'
check "... the valid record is kept, the others are skipped" eval \
  'jqt "$(J "$T/b" downloads)" --arg h "$G" "(.finished | length) == 1 and .finished[0].hash == \$h and .finished[0].tags == [\"t\"]"'
check "... the original is kept aside and the skips are logged" eval \
  '[ -s "$T/b/finished.json.bad" ] && grep -q "invalid record(s)" "$T/b/muleteerd.log"'
check "... its row is written, missing (its file is not a shared file)" eventually 20 row_is "$G" state missing
check "... and a file with another hash at its path is not shared" eval \
  'jqt "$(J "$T/b" shared)" --arg p "$T/sentinel" ".scanning == false and all(.files[]; .path != \$p)"' 
out=$(J "$T/b" delete '{"hash": "'$G'", "delete_files": true}')
check "deleting it with its files leaves a file that is not the download's alone" eval \
  'jqt "$out" ".file_removed == false" && [ "$(cat "$T/sentinel")" = "do not remove" ]'
kill -TERM "${MULE_PID[B]}"; wait "${MULE_PID[B]}"
rm -f "$T/b/finished.json.bad"
# an earlier version's completed row, then a file that is not JSON at all
PSQL "INSERT INTO downloads (node, hash, name, size, state, completed_at, save_path, content_path, uploaded_bytes)
      VALUES ('node-b', 'cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd', 'old.bin', 10, 'completed', now(), '$T/b/incoming', '$T/b/incoming/old.bin', 77)"
{ printf 'x'; head -c 100000 /dev/zero | tr '\0' '['; } >"$T/b/finished.json"
start_b
check "an unreadable finished.json does not stop the daemon either" eval 'mcli "$T/b" ping >/dev/null'
check "... it is renamed .bad" eval '[ -s "$T/b/finished.json.bad" ] && grep -q "unreadable" "$T/b/muleteerd.log"'
imported() { jqt "$(fin_of cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd)" '.name == "old.bin" and .uploaded == 77'; }
check "... and the completed rows of the database come back as finished downloads" eventually 20 imported
check "... which keep their rows" eventually 10 row_is cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd "state" missing
check "... and are saved" eventually 10 grep -q cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd "$T/b/finished.json"

for n in B C; do
  kill -TERM "${MULE_PID[$n]}"; wait "${MULE_PID[$n]}"; rc=$?
  check "Muleteer $n stops cleanly" [ "$rc" = 0 ]
done
bad=$(grep -lE 'AddressSanitizer|LeakSanitizer|runtime error:' "$T"/a/stderr "$T"/b/stderr "$T"/c/stderr 2>/dev/null || true)
check "no sanitizer reports" [ -z "$bad" ]
[ -n "$bad" ] && diag "$(cat $bad | head -40)"
finish
