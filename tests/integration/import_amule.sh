#!/usr/bin/env bash
# import_amule.sh: moving from aMule with files a real amuled 2.3.3 wrote.
# amuled S downloads a file from muleteerd A (a LowID of the server
# fixture, which relays amuled's callback: ../shared/amule-testing.md), A's
# upload limited so that S is stopped half-way; S also hashed a file of its
# Incoming (known.met) and has a category. muleteerd B then runs
# `muleteer import-amule` on S's directory: first --dry-run (nothing
# changes), then for real: the download resumes in B with S's data and
# completes from A, bytes identical; the known file is shared without
# hashing; the server, category and credits come along; S's files are
# untouched. TAP.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/mule.sh"
. "$MT_SRCDIR/tests/integration/amule.sh"
trap 'amule_stop_all; cleanup' EXIT

mk_tmpdir T
AP=$(free_port); BP=$(free_port); SPORT=$(free_port)
SIZE=12000000 # two parts
start_server_fixture SP "$T/server.log" --highid-all --lowid-port "$AP" --keep-offers ||
  { not_ok "server fixture starts"; finish; exit 1; }

# ---- A shares the file, slowly ----
mkdir -p "$T/a/share"
head -c "$SIZE" /dev/urandom >"$T/a/share/importtest.bin"
H=$(rhash --printf '%{ed2k}' "$T/a/share/importtest.bin")
start_mule A "$T/a" "$AP" "shared_dirs = $T/a/share" "servers = 127.0.0.1:$SP" "max_upload = 150" ||
  { not_ok "A starts"; finish; exit 1; }
a_ready() { mcli "$T/a" shared | grep -q importtest.bin && mcli "$T/a" --json server | grep -q '"lowid": *true'; }
check "A shares the file as a LowID of the server" eventually 60 a_ready

# ---- amuled S: a known file, a category, then the download, stopped half-way ----
S="$T/s"
mkdir -p "$S/Incoming"
head -c 3000000 /dev/urandom >"$S/Incoming/knownfile.bin"
AMULE_EXTRA_CONF[S]="[General]
Count=1
[Cat#1]
Title=movies
Incoming=$S/Incoming/movies
Comment=from aMule
Color=0
Priority=0"
amule_start S "$S" "$SPORT" $((SPORT + 1)) $((SPORT + 2)) "$SP" ||
  { not_ok "amuled starts"; finish; exit 1; }
check "amuled logs in to the server" eventually 60 amule_connected S
s_hashed() { [ -n "$(amule_hash S knownfile.bin)" ]; }
check "amuled hashed its known file" eventually 60 s_hashed
if amule_search_download S importtest importtest.bin; then
  ok "amuled finds A's file and starts downloading it"
else
  not_ok "amuled finds A's file and starts downloading it"; diag "$AMULE_RESULTS"
fi
halfway() {
  local p; p=$(amule_progress S importtest.bin)
  [ -n "$p" ] && awk -v p="$p" 'BEGIN { exit !(p >= 25) }'
}
check "amuled gets a quarter of it (A sends 150 kB/s)" eventually 180 halfway
check "... and is stopped before the end" eval '! amule_is_complete S importtest.bin'
amule_stop S
MET=$(ls "$S"/Temp/*.part.met 2>/dev/null | head -n 1)
check "amuled left a .part.met in its Temp" [ -n "$MET" ]
PART=${MET%.met}
SUM_BEFORE=$(md5sum "$PART" "$MET" | cut -d' ' -f1 | tr '\n' ' ')
check "amuled wrote known.met, clients.met and server.met" \
  eval '[ -s "$S/known.met" ] && [ -s "$S/clients.met" ] && [ -s "$S/server.met" ]'

printf '127.0.0.250 - 127.0.0.251 , 000 , import test\n' >"$S/ipfilter.dat"

# ---- B imports S's directory ----
start_mule B "$T/b" "$BP" || { not_ok "B starts"; finish; exit 1; }
OUT=$(mcli "$T/b" import-amule "$S" --dry-run)
diag "$OUT"
check "--dry-run lists the download" grep -qE "would import +$H importtest.bin" <<<"$OUT"
check "... the category, server.met and known.met" eval \
  'grep -q "category movies: would add" <<<"$OUT" && grep -q "server.met: would add" <<<"$OUT" && grep -q "known.met: would seed, [0-9]* records, 1 found" <<<"$OUT"'
check "... and changes nothing" eval \
  '[ "$(mcli "$T/b" --json downloads | jq ".downloads | length")" = 0 ] && ! mcli "$T/b" categories | grep -q movies'

J=$(mcli "$T/b" --json import-amule "$S")
jqj() { jq -e "$@" <<<"$J" >/dev/null; }
diag "$(jq -c '{downloads, servers, credits, known, shared_dirs, categories}' <<<"$J")"
check "the import brings the download over" \
  jqj --arg h "$H" '.downloads[] | select(.hash == $h and .status == "imported")'
PRESENT=$(jq -r --arg h "$H" '.downloads[] | select(.hash == $h) | .present' <<<"$J")
check "... with amuled's $PRESENT bytes" awk -v p="$PRESENT" -v s="$SIZE" 'BEGIN { exit !(p > 0 && p < s) }'
check "the import adds the category" eval 'mcli "$T/b" categories | grep -q movies'
check "... merges amuled's credits" jqj '.credits.merged >= 1'
check "... and adds the server" jqj '.servers.servers >= 1'
check "... amuled's server is in B's list" eval "mcli \"\$T/b\" --json servers | grep -q '\"port\": *$SP'"
filter_loaded() { [ "$(mcli "$T/b" --json ipfilter | jq .ranges)" = 1 ]; }
check "... and amuled's ipfilter.dat, which B loads" eventually 20 filter_loaded
check "amuled's files are untouched" \
  eval '[ "$(md5sum "$PART" "$MET" | cut -d" " -f1 | tr "\n" " ")" = "$SUM_BEFORE" ]'
check "B logged the import" grep -q "download $H: imported \"importtest.bin\"" "$T/b/muleteerd.log"

# the known file: shared by B without hashing it
known_shared() { mcli "$T/b" shared | grep -q knownfile.bin; }
check "B shares amuled's known file" eventually 30 known_shared
check "... without hashing it (its hashes came from known.met)" \
  grep -q "shared: 1 file(s) not hashed: their hashes came from an imported known-files list" \
  "$T/b/muleteerd.log"
last_scan() { grep "file(s) shared, .* hashed in this scan" "$T/b/muleteerd.log" | tail -n 1; }
check "... the scan that listed it hashed nothing ($(last_scan | sed 's/.*shared: //'))" \
  eval 'last_scan | grep -q "shared: [1-9][0-9]* file(s) shared, 0 hashed in this scan"'

# the rest comes from A
mcli "$T/b" add "ed2k://|file|importtest.bin|$SIZE|$H|/|sources,127.0.0.1:$AP|/" >/dev/null 2>&1
fin() { mcli "$T/b" --json downloads | jq -r --arg h "$H" ".finished[] | select(.hash == \$h) | $1"; }
done_b() { [ -n "$(fin .hash)" ]; }
if eventually 240 done_b; then ok "the download completes in B"; else
  not_ok "the download completes in B"
  diag "$(mcli "$T/b" --json downloads | jq -c '.downloads[] | {state, done, verified, sources}')"
fi
F=$(find "$T/b/incoming" -name importtest.bin | head -n 1)
check "... bytes identical to A's file" cmp "$F" "$T/a/share/importtest.bin"
DL=$(fin .downloaded)
check "... B downloaded only what amuled lacked ($DL of $SIZE bytes; $PRESENT imported)" \
  awk -v d="$DL" -v s="$SIZE" -v p="$PRESENT" 'BEGIN { exit !(d > 0 && d <= s - p + 2 * 184320) }'
# once more, with --limits: nothing is imported twice
J=$(mcli "$T/b" --json import-amule "$S" --limits)
check "a second import finds the download finished already" \
  jqj --arg h "$H" '.downloads[] | select(.hash == $h and .status == "exists")'
check "... and the category there" jqj '.categories[] | select(.name == "movies" and .status == "exists")'
check "--limits takes amuled's limits (MaxUpload 65534 kB/s)" \
  eval '[ "$(mcli "$T/b" --json limits | jq .max_upload)" = 65534 ]'
amule_stop_all
finish
