#!/usr/bin/env bash
# aich_amule.sh: AICH recovery data from real amuled 2.3.3. Muleteer D
# downloads a 3-part file, with its AICH root in the link (h=), from an
# amuled seeder and from the scripted bad peer (tests/fixtures/bad_peer,
# at an address of its own), which damages one byte of one 180 KiB block
# of part 2. The part fails its MD4 check, D asks amuled for the part's
# recovery data (OP_AICHREQUEST), verifies amuled's answer against the
# root, downloads only the bad block again, bans the bad peer, and the
# file is identical. amuled's upload (~0.33 MB/s) leaves most of the file
# to the bad peer. TAP output.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/amule.sh"
. "$MT_SRCDIR/tests/integration/mule.sh"
trap 'amule_stop_all; cleanup' EXIT
for prog in amuled amulecmd rhash; do
  if ! command -v "$prog" >/dev/null; then
    echo "Bail out! $prog is not installed (./run.sh check installs it)"; exit 1
  fi
done

BAD="$MT_BUILDDIR/tests/fixtures/bad_peer"
BAD_IP=127.0.0.2
PARTSIZE=9728000
SIZE=26000000
CORRUPT_AT=$((2 * PARTSIZE + 10 * 184320 + 1234))

mk_tmpdir T
head -c "$SIZE" /dev/urandom >"$T/big.bin"
SEEDP=$(free_port)
amule_start SEED "$T/seed" "$SEEDP" $((SEEDP + 1)) $((SEEDP + 2))
check "the amuled seeder shares the file" eval 'amule_share SEED "$T/big.bin"'
HASH=$(rhash --printf '%{ed2k}' "$T/big.bin")
AICH=$(rhash --aich --simple "$T/big.bin" | cut -d' ' -f1 | tr a-z A-Z)
check "amuled lists the hash rhash computes" [ "${AMULE_HASH,,}" = "$HASH" ]

BP=$(free_port)
"$BAD" --address "$BAD_IP" --port "$BP" --file "$T/big.bin" --log "$T/bad.log" \
  --corrupt-at "$CORRUPT_AT" --drop-repeats 2>>"$T/bad.log.stderr" &
BAD_PID=$!
CLEANUP_PIDS+=("$BAD_PID")
check "the bad peer serves the file, damaging byte $CORRUPT_AT" \
  eventually 30 grep -qs " listening .*hash=$HASH " "$T/bad.log"

DP=$(free_port)
start_mule D "$T/d" "$DP"
mcli "$T/d" add "ed2k://|file|big.bin|$SIZE|$HASH|h=$AICH|/|sources,$BAD_IP:$BP,127.0.0.1:$SEEDP|/" >/dev/null
LOG="$T/d/muleteerd.log"
asked() { grep -q "asked mt-SEED (127.0.0.1:[0-9]*) for the AICH recovery data of part 2" "$LOG"; }
check "part 2 fails its MD4 check and D asks amuled for its recovery data" eventually 120 asked
recovered() { grep -q "part 2: AICH found 1 of 36 blocks corrupt" "$LOG"; }
if eventually 90 recovered; then ok "amuled's recovery data verifies and finds the one bad block"; else
  not_ok "amuled's recovery data verifies and finds the one bad block"
  diag "$(grep -E 'AICH|corrupt|banned' "$LOG" | tail -n 10)"
fi
check "the bad peer is banned for the corrupt block" \
  grep -q "peer bad_peer ($BAD_IP:$BP): banned .*sent corrupt data (blocks disproved by AICH)" "$LOG"
done_d() { [ -f "$T/d/incoming/big.bin" ]; }
if eventually 180 done_d; then ok "D's download completes"; else
  not_ok "D's download completes"; diag "$(mcli "$T/d" downloads)"; fi
check "D's file is identical to the original" cmp -s "$T/d/incoming/big.bin" "$T/big.bin"
check "no part was downloaded whole again" \
  eval '! grep -q "downloading all of it again\|is corrupt; downloading it again" "$LOG"'

kill -TERM "${MULE_PID[D]}"; wait "${MULE_PID[D]}"; rc=$?
check "muleteerd D stops cleanly on SIGTERM" [ "$rc" = 0 ]
kill -TERM "$BAD_PID" 2>/dev/null; wait "$BAD_PID" 2>/dev/null
check "no sanitizer reports" eval '! grep -lE "AddressSanitizer|LeakSanitizer|runtime error:" "$T"/d/stderr "$T"/bad.log.stderr'
finish
