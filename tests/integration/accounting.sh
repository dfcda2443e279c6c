#!/bin/bash
# accounting.sh: what the daemon counts must stay exact whatever happens to
# it: the bytes a download received across repeated kill -9s (history,
# finished record), one history row per download's life (a download left
# behind by a change of temp_dir is closed, not merged with the next one of
# the same file), and the sources it drops (a link's LAN sources with
# filter_lan on are reported in the log and in `downloads --json`).
# Two muleteerds over loopback, a private PostgreSQL. TAP output.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/mule.sh"
trap cleanup EXIT
PSQL() { as_service_user psql "$DB" -XAtq -c "$1" 2>/dev/null; }

mk_tmpdir PG
private_pg "$PG"
mk_tmpdir T
AP=$(free_port); BP=$(free_port); CP=$(free_port)
mkdir -p "$T/a/share"
SIZE=40000000
head -c $SIZE /dev/urandom >"$T/a/share/movie.bin"
HASH=$(rhash --printf '%{ed2k}' "$T/a/share/movie.bin")
MULE_DATABASE=$DB start_mule A "$T/a" "$AP" "shared_dirs = $T/a/share" "node_name = node-a"
shared() { mcli "$T/a" shared | grep -q movie.bin; }
check "A shares the file" eventually 30 shared

# B saves its part-file metadata only every 60 s, and is killed with -9
# each time it has verified a new part: the parts are on disk, but neither
# the metadata nor its byte counter record them.
start_b() {
  MULE_DATABASE=$DB MULE_SAVE_INTERVAL=60 start_mule B "$T/b" "$BP" "node_name = node-b" "$@" &&
    mcli "$T/b" limits --down 1500 >/dev/null
}
start_b
mcli "$T/b" add "ed2k://|file|movie.bin|$SIZE|$HASH|/|sources,127.0.0.1:$AP|/" >/dev/null
verified_now() { json_num "$(mcli "$T/b" --json downloads 2>/dev/null)" verified; }
kills=0 best=0
for i in 1 2 3; do
  more() { local n; n=$(verified_now); [ "${n:-0}" -gt "$best" ] && best=$n; }
  eventually 40 more || break
  kill -9 "${MULE_PID[B]}"; wait "${MULE_PID[B]}" 2>/dev/null
  kills=$((kills + 1))
  start_b || break
done
check "B was killed with -9 three times, each after a new part" [ "$kills" = 3 ]
mcli "$T/b" limits --down 0 >/dev/null
complete() { [ -f "$T/b/incoming/movie.bin" ]; }
check "the download completes after the kills" eventually 90 complete
check "the file is identical" cmp -s "$T/b/incoming/movie.bin" "$T/a/share/movie.bin"
hist() { PSQL "SELECT string_agg(status || ':' || downloaded_bytes, ',' ORDER BY id) FROM history WHERE node = 'node-b' AND hash = '$HASH'"; }
check "one history row, completed, with exactly the file's bytes received" eventually 15 eval \
  '[ "$(hist)" = "completed:$SIZE" ]'
diag "history: $(hist)"
fin_downloaded() { mcli "$T/b" --json downloads | jq -r ".finished[] | select(.hash == \"$HASH\") | .downloaded"; }
check "the finished record counts the same bytes" eval '[ "$(fin_downloaded)" = $SIZE ]'

# One history row per download's life. X is a download with no source.
X=0123456789abcdef0123456789abcdef
rows() { PSQL "SELECT string_agg(status || ':' || (deleted_at IS NOT NULL)::int, ',' ORDER BY id) FROM history WHERE node = 'node-b' AND hash = '$X'"; }
ids() { PSQL "SELECT count(DISTINCT download_id) FROM history WHERE node = 'node-b' AND hash = '$X'"; }
mcli "$T/b" add "ed2k://|file|x.bin|1000000|$X|/" >/dev/null
check "a download gets a history row" eventually 10 eval '[ "$(rows)" = "downloading:0" ]'
ID1=$(mcli "$T/b" --json downloads | jq -r ".downloads[] | select(.hash == \"$X\") | .download_id")
check "the download has an id, the same as its history row's" eval \
  '[[ "$ID1" =~ ^[0-9a-f]{32}$ ]] && [ "$(PSQL "SELECT download_id FROM history WHERE node = '"'"'node-b'"'"' AND hash = '"'"'$X'"'"'")" = "$ID1" ]'
kill -TERM "${MULE_PID[B]}"; wait "${MULE_PID[B]}" 2>/dev/null
start_b "temp_dir = $T/b/temp2"
check "a download left behind by a temp_dir change has its row closed" eventually 10 eval \
  '[ "$(rows)" = "deleted:1" ]'
mcli "$T/b" add "ed2k://|file|x.bin|1000000|$X|/" >/dev/null
check "the same file added again gets a row of its own" eventually 10 eval \
  '[ "$(rows)" = "deleted:1,downloading:0" ] && [ "$(ids)" = 2 ]'
mcli "$T/b" stop "$X" >/dev/null
check "its events go to its own row" eventually 10 eval '[ "$(rows)" = "deleted:1,stopped:0" ]'
kill -TERM "${MULE_PID[B]}"; wait "${MULE_PID[B]}" 2>/dev/null
start_b
check "back in the first temp_dir, each row follows its own download" eventually 10 eval \
  '[ "$(rows)" = "downloading:0,deleted:1" ]'
check "the movie's row is untouched by all this" eval '[ "$(hist)" = "completed:$SIZE" ]'

# A stop is on disk before it answers: a kill -9 right after it keeps it,
# and the download's row agrees with the download.
Z=00000000000000000000000000000001
zrow() { PSQL "SELECT status FROM history WHERE node = 'node-b' AND hash = '$Z'"; }
zstate() { mcli "$T/b" --json downloads | jq -r ".downloads[] | select(.hash == \"$Z\") | .state"; }
# (B gets one worker thread, kept busy hashing a new shared file: a save
# left to a worker would still wait in its queue when the kill comes)
kill -TERM "${MULE_PID[B]}"; wait "${MULE_PID[B]}" 2>/dev/null
mkdir -p "$T/b/share2"
start_b "worker_threads = 1" "shared_dirs = $T/b/share2"
mcli "$T/b" add "ed2k://|file|z.bin|1000000|$Z|/" >/dev/null
head -c 150000000 /dev/urandom >"$T/b/share2/big.bin"
mcli "$T/b" rescan >/dev/null
mcli "$T/b" stop "$Z" >/dev/null
kill -9 "${MULE_PID[B]}"; wait "${MULE_PID[B]}" 2>/dev/null
start_b
check "a download stopped right before a kill -9 is still stopped after the restart" eval \
  '[ "$(zstate)" = stopped ]'
check "and its history row says so" eventually 10 eval '[ "$(zrow)" = stopped ]'

# Sources dropped by filter_lan are reported.
MULE_FILTER_LAN=yes start_mule C "$T/c" "$CP"
Y=fedcba9876543210fedcba9876543210
out=$(mcli "$T/c" --json add "ed2k://|file|y.bin|5000|$Y|/|sources,192.168.1.5:4662,10.1.2.3:4662|/")
check "the add answer counts the LAN sources dropped" eval \
  '[ "$(jq -r .sources_dropped.lan <<<"$out")" = 2 ] && [ "$(jq -r .sources.total <<<"$out")" = 0 ]'
check "the log says which source was dropped and why" \
  grep -q "download $Y: link source 192.168.1.5:4662 dropped: a LAN or reserved address (filter_lan = yes)" "$T/c/muleteerd.log"
check "muleteer downloads --json says how many and why" eval \
  '[ "$(mcli "$T/c" --json downloads | jq -r ".downloads[0].sources_dropped.lan")" = 2 ]'
check "and so does muleteer downloads" eval 'mcli "$T/c" downloads | grep -q "sources dropped: 2 lan"'

for n in A B C; do
  kill -TERM "${MULE_PID[$n]}"; wait "${MULE_PID[$n]}"; rc=$?
  check "Muleteer $n stops cleanly" [ "$rc" = 0 ]
done
bad=$(grep -lE 'AddressSanitizer|LeakSanitizer|runtime error:' "$T"/a/stderr "$T"/b/stderr "$T"/c/stderr 2>/dev/null || true)
check "no sanitizer reports" [ -z "$bad" ]
[ -n "$bad" ] && diag "$(cat $bad | head -40)"
finish
