#!/usr/bin/env bash
# bad_peer.sh: muleteerd against hostile peers (tests/fixtures/bad_peer) on
# loopback, with an honest muleteerd (G) as the good source. TAP output.
#   Corruption: a 3-part file from the bad peer, which damages parts 0 and
#   2, and from G: the file completes byte for byte, exactly the damaged
#   parts are found corrupt and fetched again, the bad peer is banned, G is
#   neither banned nor blamed, and the downloader still runs.
#   Protocol abuse: for each scripted misbehaviour (and a bogus hash set)
#   the bad peer is the only source of a file: muleteerd drops the
#   connection, stays up and answers `status`, keeps the download (not in
#   error), and completes it once G is added to the download. Unknown
#   opcodes are not a reason to drop a peer: that download completes from
#   the bad peer alone, on one connection.
#   Bad data: a compressed block that inflates far beyond the block (a
#   bomb), one that does not inflate, and data past the end of the file,
#   each from a bad peer at an address of its own: after the first such
#   block the peer is banned (logged once), is asked nothing more, and a
#   later connection from its address is refused.
# Every muleteerd is stopped with SIGTERM and must exit 0 without sanitizer
# reports (CI builds them with ASan/UBSan; leaks are reported at exit).
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/mule.sh"
trap cleanup EXIT
# As make check sets them (tests/local.mk), also when run by hand.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

BAD="$MT_BUILDDIR/tests/fixtures/bad_peer"
T0=$(date +%s)
BAD_PIDS=()

# Muleteer bans by IP, as aMule does (blame for a corrupt part goes to the
# source that sent it); on loopback every honest peer is 127.0.0.1, so the
# bad peers get addresses of their own.
BAD_IP=127.0.0.2
ABUSE_IP=127.0.0.3

alive() { kill -0 "${MULE_PID[$1]}" 2>/dev/null; }
answers_status() { mcli "${MULE_DIR[$1]}" --json status | grep -q "\"pid\": *${MULE_PID[$1]}\\b"; }
# stop_mule NAME: SIGTERM; true when it exits 0.
stop_mule() {
  kill -TERM "${MULE_PID[$1]}" 2>/dev/null || return 1
  wait "${MULE_PID[$1]}"
}

# start_bad LOG ADDRESS PORT FILE [OPTION...]: the fixture, stopped at exit.
start_bad() {
  local log=$1 addr=$2 port=$3 file=$4; shift 4
  "$BAD" --address "$addr" --port "$port" --file "$file" --log "$log" "$@" 2>>"$log.stderr" &
  CLEANUP_PIDS+=("$!")
  BAD_PIDS+=("$!")
  eventually 30 grep -qs ' listening ' "$log"
}
# hash_of LOG: the file hash the fixture announced.
hash_of() { sed -n 's/.* listening .* hash=\([0-9a-f]*\) .*/\1/p' "$1"; }

# download_state DIR HASH: the download's state (the first "state" after
# its "hash"; its peers come later), or "gone" once it left the list.
download_state() {
  mcli "$1" --json downloads | awk -v h="$2" '
    $0 ~ "\"hash\": *\"" h "\"" { f = 1 }
    f && /"state":/ { sub(/.*"state": *"/, ""); sub(/".*/, ""); print; found = 1; exit }
    END { if (!found) print "gone" }'
}
# dropped LOG TEXT: a connection that logged a line containing TEXT was
# then closed by muleteerd (by=peer: the other side of the fixture).
dropped() {
  awk -v t="$2" '
    index($0, t) && $5 ~ /^conn=/ { bad[$5] = 1 }
    / disconnect conn=/ && / by=peer / && ($5 in bad) { ok = 1 }
    END { exit !ok }' "$1"
}
elapsed() { echo $(( $(date +%s) - T0 )); }
no_sanitizer_reports() {
  local bad
  bad=$(grep -lE 'AddressSanitizer|LeakSanitizer|runtime error:' "$@" 2>/dev/null || true)
  [ -z "$bad" ] && return 0
  diag "$(head -40 $bad)"
  return 1
}

mk_tmpdir T

# ---- the files, and the honest muleteerd G sharing all of them ----
# Abuse cases: name, size (one part; two parts where the hash set or the
# points between answers matter), and the bad peer's options.
ABUSE=(overlong truncated bogus-tags garbage unknown-opcode hash-offset)
declare -A SIZE=([overlong]=3000000 [truncated]=3000000 [bogus-tags]=3000000
  [garbage]=3000000 [unknown-opcode]=10000000 [hash-offset]=10000000)
declare -A OPTS=([overlong]="--misbehave overlong" [truncated]="--misbehave truncated"
  [bogus-tags]="--misbehave bogus-tags" [garbage]="--misbehave garbage"
  [unknown-opcode]="--misbehave unknown-opcode" [hash-offset]="--hash-offset")
mkdir -p "$T/share"
head -c 26000000 /dev/urandom >"$T/share/big.bin"     # 3 parts
for a in "${ABUSE[@]}"; do head -c "${SIZE[$a]}" /dev/urandom >"$T/share/$a.bin"; done
GP=$(free_port)
start_mule G "$T/g" "$GP" "shared_dirs = $T/share"
check "the honest muleteerd G starts" alive G
shared_all() { [ "$(mcli "$T/g" --json shared | grep -c '"hash"')" -ge $((1 + ${#ABUSE[@]})) ]; }
check "G shares the test files" eventually 60 shared_all
G_SHARED=$(mcli "$T/g" --json shared)

# ============================ corruption ============================
CORRUPT=0,2
BP=$(free_port)
start_bad "$T/bad.log" "$BAD_IP" "$BP" "$T/share/big.bin" --corrupt-parts "$CORRUPT" --drop-repeats
check "the bad peer serves big.bin, damaging parts $CORRUPT" \
  grep -q "listening addr=$BAD_IP port=$BP .*corrupt=$CORRUPT " "$T/bad.log"
BIG_HASH=$(hash_of "$T/bad.log")
check "the bad peer and G agree on the file hash" grep -q "\"$BIG_HASH\"" <<<"$G_SHARED"
# G is slow while the bad peer is around, so the bad peer sends most of the
# file. Whoever sends which block: G keeps at most 3 blocks in flight, in
# the part it started (blocksel.c), so at least one damaged part is the bad
# peer's alone and fails twice with a single author; a part both wrote into
# is fetched again from one source (source.c, src_blame_corrupt()), blaming nobody.
# With --drop-repeats the bad peer acts as aMule's uploader and ignores
# blocks asked again in the same slot: D must take a new slot to get a
# damaged part again, not wait for a timeout.
mcli "$T/g" limits --up 20 >/dev/null

DP=$(free_port)
start_mule D "$T/d" "$DP"
check "the downloader D starts" alive D
mcli "$T/d" add "ed2k://|file|big.bin|26000000|$BIG_HASH|/|sources,$BAD_IP:$BP,127.0.0.1:$GP|/" >/dev/null
banned() { grep -q "peer bad_peer ($BAD_IP:$BP): banned .*sent corrupt data" "$T/d/muleteerd.log"; }
if eventually 40 banned; then
  ok "the bad peer is banned for corrupt data ($(elapsed) s)"
else
  not_ok "the bad peer is banned for corrupt data"
  diag "$(grep -E 'corrupt|verified|banned|slot' "$T/d/muleteerd.log" | tail -30)"
fi
peer_logged() {
  mcli "$T/d" --json call peer-log '{}' | jq -e --arg ip "$BAD_IP" \
    '.entries | any(.ip == $ip and .blocked == false and (.reason | test("corrupt")))' >/dev/null
}
check "the ban is in D's peer log (peer-log): the bad peer's address and the reason" peer_logged
mcli "$T/g" limits --up 0 >/dev/null
bad_conns_at_ban=$(grep -c ' connect conn=' "$T/bad.log")
# Offered again, a banned peer is not taken back as a source.
mcli "$T/d" add "ed2k://|file|big.bin|26000000|$BIG_HASH|/|sources,$BAD_IP:$BP|/" >/dev/null 2>&1
big_done() { [ -f "$T/d/incoming/big.bin" ]; }
if eventually 60 big_done; then ok "D's download completes ($(elapsed) s)"; else
  not_ok "D's download completes"; diag "$(mcli "$T/d" downloads)"; fi
check "D's file is identical to the original" cmp -s "$T/d/incoming/big.bin" "$T/share/big.bin"
check "the bad peer sent damaged blocks" grep -q ' block conn=.* corrupt=yes' "$T/bad.log"
corrupt_found=$(sed -n 's/.*download [0-9a-f]*: part \([0-9]*\) is corrupt.*/\1/p' "$T/d/muleteerd.log" | sort -u)
diag "parts found corrupt: $(echo $corrupt_found)"
check "D found corrupt parts" [ -n "$corrupt_found" ]
only_damaged() {
  local p
  for p in $corrupt_found; do grep -qE "(^|,)$p(,|$)" <<<"$CORRUPT" || return 1; done
}
check "only parts the bad peer damaged were found corrupt" only_damaged
# Each corrupt part was verified after it was last found corrupt.
refetched() {
  local p
  for p in $corrupt_found; do
    awk -v p="$p" 'index($0, "part " p " is corrupt") { v = 0 } index($0, "part " p " verified") { v = 1 }
                   END { exit !v }' "$T/d/muleteerd.log" || return 1
  done
}
check "each corrupt part was downloaded again and verified" refetched
check "nobody but the bad peer is banned" \
  eval '[ -z "$(grep " banned " "$T/d/muleteerd.log" | grep -v "($BAD_IP:$BP)")" ]'
check "G was never blamed for a corrupt part" \
  eval '! grep "corrupt part" "$T/d/muleteerd.log" | grep -q "127.0.0.1:$GP"'
check "the banned peer got no connection after its ban" \
  [ "$(grep -c ' connect conn=' "$T/bad.log")" = "$bad_conns_at_ban" ]
check "D still runs" alive D
check "D answers status" answers_status D

# ========================== protocol abuse ==========================
AP=$(free_port)
start_mule A "$T/a" "$AP"
check "the downloader A starts" alive A
declare -A HASH=() PORT=()
for a in "${ABUSE[@]}"; do
  PORT[$a]=$(free_port)
  # shellcheck disable=SC2086 # OPTS are words
  start_bad "$T/abuse-$a.log" "$ABUSE_IP" "${PORT[$a]}" "$T/share/$a.bin" ${OPTS[$a]}
  HASH[$a]=$(hash_of "$T/abuse-$a.log")
  check "$a: a bad peer serves the file G shares" \
    eval '[ -n "${HASH[$a]}" ] && grep -q "\"${HASH[$a]}\"" <<<"$G_SHARED"'
  mcli "$T/a" add "ed2k://|file|$a.bin|${SIZE[$a]}|${HASH[$a]}|/|sources,$ABUSE_IP:${PORT[$a]}|/" >/dev/null
done
for a in bogus-tags overlong truncated garbage; do
  if eventually 30 dropped "$T/abuse-$a.log" " mode=$a "; then
    ok "$a: muleteerd drops the connection"
    diag "$(grep -E "\($ABUSE_IP:${PORT[$a]}\): (bad hello|protocol error|closing: framing)" \
      "$T/a/muleteerd.log" | head -n 1 | sed 's/.*muleteerd\[[0-9]*\] [a-z]*: //')"
  else
    not_ok "$a: muleteerd drops the connection"
    diag "$(tail -5 "$T/abuse-$a.log")"
  fi
done
check "hash-offset: muleteerd drops the peer that sent a bad hash set" \
  eventually 30 dropped "$T/abuse-hash-offset.log" " answer=offset"
check "A survived the abuse" alive A
check "A answers status" answers_status A
for a in bogus-tags overlong truncated garbage hash-offset; do
  st=$(download_state "$T/a" "${HASH[$a]}")
  check "$a: the download is kept, not in error (state $st)" \
    eval '[ "$st" != error ] && [ "$st" != gone ]'
done

# Unknown opcodes are ignored (as aMule does): data keeps flowing.
a=unknown-opcode
done_a() { [ -f "$T/a/incoming/$1.bin" ]; }
if eventually 60 done_a "$a"; then ok "$a: the download completes from the bad peer alone"; else
  not_ok "$a: the download completes from the bad peer alone"; diag "$(mcli "$T/a" downloads)"; fi
check "$a: the file is identical" cmp -s "$T/a/incoming/$a.bin" "$T/share/$a.bin"
every_point() {
  local p
  for p in before-file-answer before-hashset before-accept in-block; do
    grep -q " misbehave conn=.* mode=unknown-opcode point=$p " "$T/abuse-$a.log" || return 1
  done
}
check "$a: unknown packets came at every point" every_point
check "$a: on a single connection, never dropped" \
  eval '[ "$(grep -c " connect conn=" "$T/abuse-$a.log")" = 1 ] &&
        ! grep -q " disconnect conn=.* by=peer " "$T/abuse-$a.log"'

# An honest source, added to each existing download, completes it.
for a in bogus-tags overlong truncated garbage hash-offset; do
  mcli "$T/a" add "ed2k://|file|$a.bin|${SIZE[$a]}|${HASH[$a]}|/|sources,127.0.0.1:$GP|/" >/dev/null 2>&1
done
for a in bogus-tags overlong truncated garbage hash-offset; do
  if eventually 60 done_a "$a"; then ok "$a: completes once G is added ($(elapsed) s)"; else
    not_ok "$a: completes once G is added"; diag "$(mcli "$T/a" downloads)"; fi
  check "$a: the file is identical" cmp -s "$T/a/incoming/$a.bin" "$T/share/$a.bin"
done
check "G was never blamed or banned by A" \
  eval '! grep -E "corrupt part| banned " "$T/a/muleteerd.log" | grep -q "127.0.0.1:$GP"'

# ============================= bad data =============================
# Each bad peer is the only source of its file and has an address of its
# own (bans are by address).
DATA_ABUSE=(bomb bad-zlib past-end)
declare -A DIP=([bomb]=127.0.0.4 [bad-zlib]=127.0.0.5 [past-end]=127.0.0.6)
declare -A WHY=([bomb]="sent a bad compressed block (.*inflates beyond"
  [bad-zlib]="sent a bad compressed block (.*corrupt zlib data"
  [past-end]="sent data past the end of the file")
for a in "${DATA_ABUSE[@]}"; do
  head -c 3000000 /dev/urandom >"$T/$a.bin"
  PORT[$a]=$(free_port)
  start_bad "$T/data-$a.log" "${DIP[$a]}" "${PORT[$a]}" "$T/$a.bin" --misbehave "$a"
  HASH[$a]=$(hash_of "$T/data-$a.log")
  mcli "$T/a" add "ed2k://|file|$a.bin|3000000|${HASH[$a]}|/|sources,${DIP[$a]}:${PORT[$a]}|/" >/dev/null
done
T1=$(date +%s)
for a in "${DATA_ABUSE[@]}"; do
  ban_re="peer bad_peer (${DIP[$a]}:${PORT[$a]}): banned for 7200 s: ${WHY[$a]}"
  if eventually 30 grep -q "$ban_re" "$T/a/muleteerd.log"; then
    ok "$a: the peer is banned after its bad block (in $(( $(date +%s) - T1 )) s)"
  else
    not_ok "$a: the peer is banned after its bad block"
    diag "$(grep -F "(${DIP[$a]}:" "$T/a/muleteerd.log" | tail -n 5)" "$(tail -n 5 "$T/data-$a.log")"
  fi
done
sleep 3 # what it would be asked next comes now
# asked_nothing_more LOG: one connection, and no request after the first
# bad block.
asked_nothing_more() {
  [ "$(grep -c ' connect conn=' "$1")" = 1 ] &&
    awk '/ misbehave conn=/ { m = 1 } m && / request conn=/ { more = 1 }
         END { exit !(m && !more) }' "$1"
}
# connection_closed_from ADDRESS: a connection to A's eD2K port from that
# address is closed by A within 5 s (one that is kept open times out).
connection_closed_from() { timeout 5 socat -u "TCP:127.0.0.1:$AP,bind=$1" - >/dev/null 2>&1; }
for a in "${DATA_ABUSE[@]}"; do
  check "$a: the ban is logged once" \
    eval '[ "$(grep -c "(${DIP[$a]}:[0-9]*): banned " "$T/a/muleteerd.log")" = 1 ]'
  check "$a: it was asked nothing after the bad block" asked_nothing_more "$T/data-$a.log"
  check "$a: a later connection from its address is refused" connection_closed_from "${DIP[$a]}"
  st=$(download_state "$T/a" "${HASH[$a]}")
  check "$a: the download is kept, not in error (state $st)" \
    eval '[ "$st" != error ] && [ "$st" != gone ]'
done
check "a connection from another address is kept open" \
  eval '! timeout 3 socat -u "TCP:127.0.0.1:$AP,bind=127.0.0.7" - >/dev/null 2>&1'
check "A survived the bad data" alive A
check "A answers status" answers_status A

# ---- clean stops, no sanitizer reports ----
for n in A D G; do
  check "muleteerd $n stops cleanly on SIGTERM" stop_mule "$n"
done
stop_bad_peers() {
  local p rc=0
  for p in "${BAD_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || rc=1; done
  for p in "${BAD_PIDS[@]}"; do wait "$p" || rc=1; done
  return $rc
}
check "the bad peers stop cleanly on SIGTERM" stop_bad_peers
check "no sanitizer reports (muleteerds and fixtures)" \
  no_sanitizer_reports "$T"/{a,d,g}/stderr "$T"/*.stderr
diag "total $(elapsed) s"
finish
