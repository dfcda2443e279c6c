#!/usr/bin/env bash
# large_file.sh: a file over 4 GiB goes from one muleteerd to another on
# loopback: 64-bit sizes in links, part files and hash sets, the I64 block
# requests and data packets (compressed ones for the zero-filled stretches),
# parts on both sides of the 4 GiB line. The file is sparse (zeros) with
# random data at the start, around 4 GiB and at the end. A has one upload
# slot, and a third muleteerd (C) wants another file from it meanwhile:
# the slot goes round, a part at a time. TAP output.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/mule.sh"
trap cleanup EXIT

MULE_LOG_LEVEL=info MULE_CLI_TIMEOUT=30

mk_tmpdir T
SIZE=$((4 * 1024 * 1024 * 1024 + 12345678))   # 4 GiB + 12,345,678 bytes: 443 parts
mkdir -p "$T/a/share"
F="$T/a/share/large.bin"
truncate -s "$SIZE" "$F"
for off in 0 $((4 * 1024 * 1024 * 1024 - 3000000)) $((SIZE - 2000000)); do
  head -c 2000000 /dev/urandom | dd of="$F" bs=1M seek="$off" oflag=seek_bytes conv=notrunc status=none
done
check "a sparse file of $SIZE bytes is made" [ "$(stat -c %s "$F")" = "$SIZE" ]

head -c 20000000 /dev/urandom >"$T/a/share/small.bin"

AP=$(free_port); BP=$(free_port); CP=$(free_port)
start_mule A "$T/a" "$AP" "shared_dirs = $T/a/share" "upload_slots = 1"
hashed() { mcli "$T/a" shared | grep -q large.bin && mcli "$T/a" shared | grep -q small.bin; }
check "Muleteer A hashes and shares it" eventually 240 hashed
HASH=$(mcli "$T/a" shared | awk '/large.bin/ { print $1 }')
check "A's eD2K hash is rhash's" [ "$HASH" = "$(rhash --printf '%{ed2k}' "$F")" ]

start_mule B "$T/b" "$BP"
out=$(mcli "$T/b" add "ed2k://|file|large.bin|$SIZE|$HASH|/|sources,127.0.0.1:$AP|/")
check "Muleteer B takes a link with a size over 4 GiB" eval 'grep -q "large.bin" <<<"$out"'
SMALL_HASH=$(mcli "$T/a" shared | awk '/small.bin/ { print $1 }')
granted_b() { grep -q "gave us an upload slot" "$T/b/muleteerd.log"; }
eventually 30 granted_b
start_mule C "$T/c" "$CP"
mcli "$T/c" add "ed2k://|file|small.bin|20000000|$SMALL_HASH|/|sources,127.0.0.1:$AP|/" >/dev/null
done_c() { [ -f "$T/c/incoming/small.bin" ]; }
if eventually 300 done_c; then ok "C gets its file from A's one slot meanwhile"; else
  not_ok "C gets its file from A's one slot meanwhile"; diag "$(mcli "$T/c" downloads)"; fi
check "C's file is identical" cmp -s "$T/c/incoming/small.bin" "$T/a/share/small.bin"
done_b() { [ -f "$T/b/incoming/large.bin" ]; }
if eventually 600 done_b; then ok "B completes the download"; else not_ok "B completes the download"; diag "$(mcli "$T/b" downloads)"; fi
check "B's file is identical" cmp -s "$T/b/incoming/large.bin" "$F"
# While the other waits, a slot carries one part of file data (9,728,000
# bytes + 20 KiB, as eMule), plus at most the one block being read when
# the limit was reached. (B's first slot ran alone, without a limit, until
# C came.)
slots=$(sed -n 's/.*upload: slot of .* ends after \([0-9]*\) bytes of the file.*/\1/p' "$T/a/muleteerd.log")
max=$(tail -n +2 <<<"$slots" | sort -n | tail -n 1)
check "A's slot went round ($(grep -c . <<<"$slots") ends), one part at a time (largest ${max:-none})" \
  eval '[ "$(grep -c . <<<"$slots")" -ge 2 ] && [ "$max" -le $((9728000 + 20480 + 184320)) ]'
check "B was given the slot again after C had it" \
  [ "$(grep -c "gave us an upload slot" "$T/b/muleteerd.log")" -ge 2 ]
used=$(( $(stat -c '%b * %B' "$T/b/incoming/large.bin") ))
check "and as sparse as the original (zeros are not written: $used bytes on disk)" [ "$used" -lt $((64 * 1024 * 1024)) ]
check "parts above 4 GiB were verified" grep -q "part 442 verified" "$T/b/muleteerd.log"
check "B shares the completed file under the same hash" eval 'mcli "$T/b" shared | grep -q "^$HASH"'
for n in A B C; do
  kill -TERM "${MULE_PID[$n]}"
  wait "${MULE_PID[$n]}"; rc=$?
  check "Muleteer $n stops cleanly" [ "$rc" = 0 ]
done
bad=$(grep -lE 'AddressSanitizer|LeakSanitizer|runtime error:' "$T"/a/stderr "$T"/b/stderr "$T"/c/stderr 2>/dev/null || true)
check "no sanitizer reports" [ -z "$bad" ]
finish
