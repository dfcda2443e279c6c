#!/bin/bash
# dbstate.sh: what the daemon writes into PostgreSQL during real transfers
# between two muleteerds: the downloads table (live rows, the completed
# row), transfer samples whose totals never go backwards (a PostgreSQL
# stop and start in the middle, a kill -9 of the downloader), and history:
# add, stop, resume, delete, re-add, complete, attribution, events that
# wait out an outage and a kill -9 in the journal, each applied once.
# TAP output.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/mule.sh"
trap cleanup EXIT
PSQL() { as_service_user psql "$DB" -XAtq -c "$1" 2>/dev/null; }

mk_tmpdir PG
private_pg "$PG"

mk_tmpdir T
AP=$(free_port); BP=$(free_port); SP=$(free_port)
"$MT_BUILDDIR/tests/fixtures/ed2k_server" --port "$SP" --highid-all --log "$T/server.log" &
CLEANUP_PIDS+=("$!")
eventually 10 grep -qs listening "$T/server.log" || { not_ok "server fixture starts"; finish; exit 1; }
mkdir -p "$T/a/share"
head -c 20000000 /dev/urandom >"$T/a/share/movie.bin"
HASH=$(rhash --printf '%{ed2k}' "$T/a/share/movie.bin")
head -c 1500000 /dev/urandom >"$T/a/share/episode.bin"
EP=$(rhash --printf '%{ed2k}' "$T/a/share/episode.bin")
MULE_DATABASE=$DB start_mule A "$T/a" "$AP" "shared_dirs = $T/a/share" "node_name = node-a" "sample_interval = 1" \
  "servers = 127.0.0.1:$SP"
# B's categories may also live in $T/b/tv, and in /proc/sys (where nothing
# can be created: the refusal is checked below)
B_ROOTS="download_roots = $T/b/tv:/proc/sys"
MULE_DATABASE=$DB start_mule B "$T/b" "$BP" "node_name = node-b" "sample_interval = 1" "status_interval = 3" \
  "servers = 127.0.0.1:$SP" "$B_ROOTS"
check "both daemons start with the database" eval 'mcli "$T/a" ping >/dev/null && mcli "$T/b" ping >/dev/null'
shared() { [ "$(mcli "$T/a" shared | grep -c "movie.bin\|episode.bin")" = 2 ]; }
check "A shares the file" eventually 30 shared

mcli "$T/b" limits --down 1500 >/dev/null    # about 14 s for the file
mcli "$T/b" add "ed2k://|file|movie.bin|20000000|$HASH|/|sources,127.0.0.1:$AP|/" >/dev/null
row() { PSQL "SELECT state || ':' || (done_bytes > 0)::int || ':' || added_via FROM downloads WHERE node = 'node-b' AND hash = '$HASH'"; }
downloading() { [ "$(row)" = "downloading:1:native" ]; }
check "the download's row is in the downloads table, downloading" eventually 20 downloading

# PostgreSQL stops in the middle: the transfer goes on, the rows catch up
done_db() { PSQL "SELECT done_bytes FROM downloads WHERE node = 'node-b' AND hash = '$HASH'"; }
before=$(done_db)
"$PGC" stop "$PG" >/dev/null
done_now() { json_num "$(mcli "$T/b" --json downloads)" done; }
d1=$(done_now); sleep 3; d2=$(done_now)
check "with PostgreSQL stopped the download goes on" [ "${d2:-0}" -gt "${d1:-0}" ]
sleep 2
"$PGC" start "$PG" >/dev/null
# the heartbeat queued during the outage is written first: it shows the lag
# (until the next one, status_interval later: 3 s, for the polling below to
# see it on a busy machine)
lagged() { [ "$(PSQL "SELECT db_lag_ms > 1000 AND db_queued > 0 FROM daemon_status WHERE node = 'node-b'")" = t ]; }
check "daemon_status shows the writer's lag after an outage" eventually 10 lagged
caught_up() { [ "$(done_db)" -gt "${before:-0}" ] 2>/dev/null; }
check "after PostgreSQL is back the row catches up" eventually 20 caught_up

# kill -9 of the downloader: samples' totals must not go back
kill -9 "${MULE_PID[B]}"; wait "${MULE_PID[B]}" 2>/dev/null
MULE_DATABASE=$DB start_mule B "$T/b" "$BP" "node_name = node-b" "sample_interval = 1" "$B_ROOTS"
mcli "$T/b" limits --down 0 >/dev/null
complete() { [ -f "$T/b/incoming/movie.bin" ]; }
check "the download completes after a kill -9 and restart" eventually 90 complete
check "the file is identical" cmp -s "$T/b/incoming/movie.bin" "$T/a/share/movie.bin"
completed_row() { [ "$(PSQL "SELECT state || ':' || (completed_at IS NOT NULL)::int || ':' || content_path || ':' || done_bytes FROM downloads WHERE node = 'node-b' AND hash = '$HASH'")" = "completed:1:$T/b/incoming/movie.bin:20000000" ]; }
check "the completed row stays, with its path and completion time" eventually 10 completed_row

shared_rows() { [ "$(PSQL "SELECT string_agg(name, ',' ORDER BY name) FROM shared_files WHERE node = 'node-a'")" = "episode.bin,movie.bin" ] &&
  [ "$(PSQL "SELECT hash || ':' || size || ':' || (requests > 0)::int || ':' || (uploaded_bytes >= 20000000)::int FROM shared_files WHERE node = 'node-a' AND name = 'movie.bin'")" = "$HASH:20000000:1:1" ] &&
  [ "$(PSQL "SELECT count(*) FROM shared_files WHERE node = 'node-b' AND path = '$T/b/incoming/movie.bin'")" = 1 ]; }
check "shared files reach the shared_files table, with their requests; a completed download too" eventually 15 shared_rows
samples() { [ "$(PSQL "SELECT count(*) FROM transfer_samples WHERE node = 'node-b' AND interval_ms BETWEEN 700 AND 1300")" -ge 10 ]; }
check "B writes a sample a second" eventually 20 samples
backwards=$(PSQL "SELECT count(*) FROM (SELECT dl_total < lag(dl_total) OVER w OR ul_total < lag(ul_total) OVER w AS back FROM transfer_samples WHERE node IN ('node-a', 'node-b') WINDOW w AS (PARTITION BY node ORDER BY sampled_at)) x WHERE back")
check "totals never go backwards (PostgreSQL restart, kill -9)" [ "$backwards" = 0 ]
# (what the killed daemon received after its last sample is not counted)
check "B's download total covers most of the file" eval '[ "$(PSQL "SELECT max(dl_total) >= 15000000 FROM transfer_samples WHERE node = '"'"'node-b'"'"'")" = t ]'
check "A's upload total covers the file" eval '[ "$(PSQL "SELECT max(ul_total) >= 20000000 FROM transfer_samples WHERE node = '"'"'node-a'"'"'")" = t ]'
check "rates are averages over each interval" eval '[ "$(PSQL "SELECT count(*) FROM transfer_samples WHERE node = '"'"'node-b'"'"' AND dl_rate > 0 AND interval_ms BETWEEN 500 AND 3000")" -ge 3 ]'

# the server list and a search, into their tables
srv_row() { [ "$(PSQL "SELECT connected::int || ':' || is_static::int FROM servers WHERE node = 'node-b' AND port = $SP")" = 1:1 ]; }
check "B's server is in the servers table, connected" eventually 20 srv_row
offered() { grep -q "offer conn=[0-9]* id=[0-9]* files=2" "$T/server.log"; }
check "A publishes its files on the server" eventually 20 offered
# (the servers row above may still say what B had before its kill -9: a
# local search needs the live connection)
b_connected() { mcli "$T/b" --json server | grep -q '"state": *"connected"'; }
eventually 20 b_connected
mcli "$T/b" search --local --wait 10 episode >/dev/null
result_row() { [ "$(PSQL "SELECT r.name || ':' || r.size || ':' || s.state FROM search_results r JOIN searches s ON s.node = r.node AND s.id = r.search_id WHERE r.node = 'node-b' AND r.hash = '$EP'")" = "episode.bin:1500000:finished" ]; }
check "a search and its result reach searches and search_results" eventually 10 result_row

# categories: created, used for the incoming directory, renamed, removed
out=$(mcli "$T/b" category add tv --path "$T/b/tv" --colour ff0000 --comment "series" 2>&1)
check "a category is created with its incoming directory" eval '[ -d "$T/b/tv" ] && grep -q "$T/b/tv" <<<"$out"'
cat_row() { PSQL "SELECT string_agg(name || ':' || incoming_path || ':' || colour, ',' ORDER BY name) FROM categories WHERE node = 'node-b'"; }
check "the category reaches the categories table" eventually 10 eval '[ "$(cat_row)" = "tv:$T/b/tv:16711680" ]'
out=$(mcli "$T/b" category add bad --path /proc/sys/muleteer 2>&1); rc=$?
check "a path the daemon cannot create is refused clearly" eval '[ $rc = 1 ] && grep -q "cannot create /proc/sys/muleteer" <<<"$out"'
out=$(mcli "$T/b" category add "../up" 2>&1); rc=$?
check "a name with .. is refused" eval '[ $rc = 1 ] && grep -q "\.\." <<<"$out"'
mcli "$T/b" add --category tv "ed2k://|file|episode.bin|1500000|$EP|/|sources,127.0.0.1:$AP|/" >/dev/null
ep_done() { [ -f "$T/b/tv/episode.bin" ]; }
check "a download of a category completes into its directory" eventually 60 ep_done
check "its row says where" eventually 10 eval '[ "$(PSQL "SELECT content_path FROM downloads WHERE node = '"'"'node-b'"'"' AND hash = '"'"'$EP'"'"'")" = "$T/b/tv/episode.bin" ]'
mcli "$T/b" category edit tv --rename shows >/dev/null
check "a renamed category is renamed in the table" eventually 10 eval '[ "$(cat_row)" = "shows:$T/b/tv:16711680" ]'
mcli "$T/b" add --category auto "ed2k://|file|auto.bin|3000|aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa|/" >/dev/null
check "a download naming a new category creates it" eventually 10 eval \
  '[ "$(cat_row)" = "auto:$T/b/incoming/auto:0,shows:$T/b/tv:16711680" ] && [ -d "$T/b/incoming/auto" ]'
mcli "$T/b" delete aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa >/dev/null
mcli "$T/b" category remove shows >/dev/null
check "a removed category leaves the table" eventually 10 eval '[ "$(cat_row)" = "auto:$T/b/incoming/auto:0" ]'

# a deleted download leaves the table
OH=0123456789abcdef0123456789abcdef
hist() { PSQL "SELECT string_agg(status || ':' || (completed_at IS NOT NULL)::int || ':' || (deleted_at IS NOT NULL)::int || ':' || added_by || ':' || added_via, ',' ORDER BY id) FROM history WHERE node = 'node-b' AND hash = '$1'"; }
mcli "$T/b" add "ed2k://|file|other.bin|1000|$OH|/" >/dev/null
other() { [ "$(PSQL "SELECT count(*) FROM downloads WHERE node = 'node-b' AND hash = '$OH'")" = "$1" ]; }
check "a new download gets its row" eventually 10 other 1
mcli "$T/b" pause "$OH" >/dev/null
check "pausing is no history transition" eventually 10 eval '[ "$(hist $OH)" = "downloading:0:0:cli:native" ]'
mcli "$T/b" stop "$OH" >/dev/null
check "stop is a history transition" eventually 10 eval '[ "$(hist $OH)" = "stopped:0:0:cli:native" ]'
mcli "$T/b" resume "$OH" >/dev/null
check "resume makes it downloading again" eventually 10 eval '[ "$(hist $OH)" = "downloading:0:0:cli:native" ]'
mcli "$T/b" delete "$OH" >/dev/null
check "a deleted download's row goes" eventually 10 other 0
check "and its history row says deleted" eventually 10 eval '[ "$(hist $OH)" = "deleted:0:1:cli:native" ]'
mcli "$T/b" add "ed2k://|file|other.bin|1000|$OH|/" >/dev/null
check "a re-added download starts a new history row" eventually 10 eval \
  '[ "$(hist $OH)" = "deleted:0:1:cli:native,downloading:0:0:cli:native" ]'
check "the completed download's history: started and completed, by the CLI" eventually 10 eval \
  '[ "$(hist $HASH)" = "completed:1:0:cli:native" ]'

# attribution: who added a download, and through what
AH=bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
mcli "$T/b" call add '{"link": "ed2k://|file|arr.bin|4000|'$AH'|/", "added_by": "sonarr", "added_via": "api-v2"}' >/dev/null
check "history keeps who added a download and through what" eventually 10 eval '[ "$(hist $AH)" = "downloading:0:0:sonarr:api-v2" ]'
check "and so does its downloads row" eventually 10 eval \
  '[ "$(PSQL "SELECT added_by || '"'"':'"'"' || added_via FROM downloads WHERE node = '"'"'node-b'"'"' AND hash = '"'"'$AH'"'"'")" = sonarr:api-v2 ]'

# history events survive a PostgreSQL outage and a kill -9
"$PGC" stop "$PG" >/dev/null
H3=fedcba9876543210fedcba9876543210
mcli "$T/b" add "ed2k://|file|third.bin|2000|$H3|/" >/dev/null
mcli "$T/b" stop "$H3" >/dev/null
kill -9 "${MULE_PID[B]}"; wait "${MULE_PID[B]}" 2>/dev/null
"$PGC" start "$PG" >/dev/null
MULE_DATABASE=$DB start_mule B "$T/b" "$BP" "node_name = node-b" "sample_interval = 1" "$B_ROOTS"
check "events of an outage reach history after a kill -9 and restart" eventually 20 eval \
  '[ "$(hist $H3)" = "stopped:0:0:cli:native" ]'
check "every event was applied once" eval \
  '[ "$(PSQL "SELECT count(*) FROM history_events WHERE node = '"'"'node-b'"'"'")" = 14 ] &&
   [ "$(PSQL "SELECT count(*) FROM history WHERE node = '"'"'node-b'"'"'")" = 7 ]'
check "the journal is emptied once the database has it" eventually 10 eval '[ ! -s "$T/b/history.journal" ]'

check "the retention job runs a minute after the start" eventually 60 grep -q "database: pruned" "$T/a/muleteerd.log"

for n in A B; do
  kill -TERM "${MULE_PID[$n]}"; wait "${MULE_PID[$n]}"; rc=$?
  check "Muleteer $n stops cleanly" [ "$rc" = 0 ]
done
bad=$(grep -lE 'AddressSanitizer|LeakSanitizer|runtime error:' "$T"/a/stderr "$T"/b/stderr 2>/dev/null || true)
check "no sanitizer reports" [ -z "$bad" ]
[ -n "$bad" ] && diag "$(cat $bad | head -40)"
finish
