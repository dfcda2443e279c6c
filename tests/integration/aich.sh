#!/usr/bin/env bash
# aich.sh: AICH recovery on loopback. A 3-part file is downloaded by D
# with its AICH root in the link (h=) from a scripted bad peer
# (tests/fixtures/bad_peer, at an address of its own) that damages one
# byte of one 180 KiB block of part 2, and from an honest muleteerd G
# (slowed down, so the bad peer sends most of the file): the part fails its
# MD4 check, D asks G for the part's AICH recovery data, G answers, D
# downloads only the bad block again (counted: far less than a part), bans
# the bad peer, and the file completes byte for byte. TAP output.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/mule.sh"
trap cleanup EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

BAD="$MT_BUILDDIR/tests/fixtures/bad_peer"
BAD_IP=127.0.0.2
PARTSIZE=9728000
SIZE=26000000
# one byte inside block 10 of part 2
CORRUPT_AT=$((2 * PARTSIZE + 10 * 184320 + 1234))

alive() { kill -0 "${MULE_PID[$1]}" 2>/dev/null; }
stop_mule() {
  kill -TERM "${MULE_PID[$1]}" 2>/dev/null || return 1
  wait "${MULE_PID[$1]}"
}

mk_tmpdir T
mkdir -p "$T/share"
head -c "$SIZE" /dev/urandom >"$T/share/big.bin"
GP=$(free_port)
start_mule G "$T/g" "$GP" "shared_dirs = $T/share"
check "the honest muleteerd G starts" alive G
g_shared() { mcli "$T/g" --json shared | jq -e '.files | length == 1' >/dev/null; }
check "G shares the file" eventually 60 g_shared
HASH=$(mcli "$T/g" --json shared | jq -r '.files[0].hash')
AICH=$(mcli "$T/g" --json shared | jq -r '.files[0].aich')
RHASH_AICH=$(rhash --aich --simple "$T/share/big.bin" 2>/dev/null | cut -d' ' -f1 | tr a-z A-Z)
check "G's AICH root is rhash's ($AICH)" eval '[ -n "$AICH" ] && [ "$AICH" = "$RHASH_AICH" ]'

BP=$(free_port)
"$BAD" --address "$BAD_IP" --port "$BP" --file "$T/share/big.bin" --log "$T/bad.log" \
  --corrupt-at "$CORRUPT_AT" --drop-repeats 2>>"$T/bad.log.stderr" &
BAD_PID=$!
CLEANUP_PIDS+=("$BAD_PID")
check "the bad peer serves the file, damaging byte $CORRUPT_AT" \
  eventually 30 grep -qs " listening .*hash=$HASH " "$T/bad.log"

mcli "$T/g" limits --up 20 >/dev/null
DP=$(free_port)
start_mule D "$T/d" "$DP"
check "the downloader D starts" alive D
mcli "$T/d" add "ed2k://|file|big.bin|$SIZE|$HASH|h=$AICH|/|sources,$BAD_IP:$BP,127.0.0.1:$GP|/" >/dev/null
LOG="$T/d/muleteerd.log"
# G's slow upload lasts until part 2 is found corrupt: the bad peer sent
# most of the file, and G's answer need not wait behind slow data.
asking() { grep -q "part 2 is corrupt; asking for its AICH recovery data" "$LOG"; }
check "part 2 fails its MD4 check and D asks for its recovery data" eventually 60 asking
mcli "$T/g" limits --up 0 >/dev/null
recovered() { grep -q "part 2: AICH found 1 of 36 blocks corrupt" "$LOG"; }
if eventually 60 recovered; then ok "D found exactly one bad block of part 2 through AICH"; else
  not_ok "D found exactly one bad block of part 2 through AICH"
  diag "$(grep -E 'corrupt|AICH|verified|banned' "$LOG" | tail -20)"
fi
check "D asked G for the recovery data" grep -q "asked mule-G (127.0.0.1:[0-9]*) for the AICH recovery data of part 2" "$LOG"
check "G sent it" grep -q "AICH recovery data of part 2 sent to" "$T/g/muleteerd.log"
check "the bad peer is banned for the corrupt block" \
  grep -q "peer bad_peer ($BAD_IP:$BP): banned .*sent corrupt data (blocks disproved by AICH)" "$LOG"
done_d() { [ -f "$T/d/incoming/big.bin" ]; }
if eventually 90 done_d; then ok "D's download completes"; else
  not_ok "D's download completes"; diag "$(mcli "$T/d" downloads)"; fi
check "D's file is identical to the original" cmp -s "$T/d/incoming/big.bin" "$T/share/big.bin"
check "part 2 was verified after the recovery" \
  awk 'index($0, "AICH found") { r = 1 } r && index($0, "part 2 verified") { v = 1 } END { exit !v }' "$LOG"
check "no part was downloaded whole again" \
  eval '! grep -q "downloading all of it again\|is corrupt; downloading it again" "$LOG"'
dl_bytes() { mcli "$T/d" --json downloads | jq -r --arg h "$HASH" '[.finished[] | select(.hash == $h) | .downloaded][0] // empty'; }
eventually 10 eval '[ -n "$(dl_bytes)" ]'
DOWNLOADED=$(dl_bytes)
diag "downloaded $DOWNLOADED bytes for a file of $SIZE"
# the file, the bad block again, and what overlapping requests cost: a few
# blocks at most, where a part downloaded again would be 6,544,000 bytes
check "D downloaded the file and at most 4 blocks more" \
  eval '[ -n "$DOWNLOADED" ] && [ "$DOWNLOADED" -lt $((SIZE + 4 * 184320)) ]'
check "the recovery discarded one block (184320 bytes)" grep -q "downloading only those again (184320 bytes)" "$LOG"

for n in D G; do check "muleteerd $n stops cleanly on SIGTERM" stop_mule "$n"; done
kill -TERM "$BAD_PID" 2>/dev/null; wait "$BAD_PID" 2>/dev/null
check "no sanitizer reports" eval '! grep -lE "AddressSanitizer|LeakSanitizer|runtime error:" "$T"/d/stderr "$T"/g/stderr "$T"/bad.log.stderr'
finish
