#!/usr/bin/env bash
# transfers.sh: Muleteer and real amuled 2.3.3 moving files over eD2K on
# loopback, through the server fixture (tests/fixtures/ed2k_server):
#   (a) Muleteer downloads a multi-part file from amuled, (c) survives a
#   kill -9 in the middle without downloading verified parts again,
#   (b) amuled downloads from Muleteer (a LowID: the server relays the
#   callback), (d) a second Muleteer downloads from amuled and Muleteer at
#   once. Bytes are compared with the originals. TAP output.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/amule.sh"
. "$MT_SRCDIR/tests/integration/mule.sh"
trap 'amule_stop_all; cleanup' EXIT

PARTSIZE=9728000

mk_tmpdir T

# ---- the server, the amuled seeder and Muleteer A (a LowID) ----
SP=$(free_port); AP=$(free_port); SEEDP=$(free_port); S2P=$(free_port); BP=$(free_port)
# HighIDs without the port check: aMule silently refuses a third client
# from one IP (UploadQueue.cpp, "no more than 3 clients from the same IP"),
# and on loopback every peer, and the server's port check, is 127.0.0.1.
"$MT_BUILDDIR/tests/fixtures/ed2k_server" --port "$SP" --highid-all --lowid-port "$AP" \
  --keep-offers --log "$T/server.log" &
CLEANUP_PIDS+=("$!")
eventually 10 grep -qs 'listening' "$T/server.log" || { not_ok "server fixture starts"; finish; exit 1; }

head -c 26000000 /dev/urandom >"$T/seeded.bin"      # 3 parts
head -c 12000000 /dev/urandom >"$T/muleshared.bin"  # 2 parts
amule_start SEED "$T/seed" "$SEEDP" $((SEEDP + 1)) $((SEEDP + 2)) "$SP"
check "amuled seeder starts" eval 'amule_share SEED "$T/seeded.bin"'
SEED_HASH=$(rhash --printf '%{ed2k}' "$T/seeded.bin")
check "amuled lists the file with the hash rhash computes" [ "${AMULE_HASH,,}" = "$SEED_HASH" ]

mkdir -p "$T/a/share"
cp "$T/muleshared.bin" "$T/a/share/"
start_mule A "$T/a" "$AP" "shared_dirs = $T/a/share" "servers = 127.0.0.1:$SP" \
  "max_ratio = -1"  # A shares what it downloaded (the global ratio 0 would stop it at once)
check "Muleteer A starts" mcli "$T/a" ping
lowid() { mcli "$T/a" --json server | grep -q '"lowid": *true'; }
check "Muleteer A logs in to the server as a LowID" eventually 20 lowid
offered() { grep -q "offer conn=[0-9]* id=[0-9]* files=1" "$T/server.log"; }
check "Muleteer A offers its shared file to the server" eventually 20 offered

# ---- (a) + (c): download from amuled, kill -9 halfway, resume ----
LINK="ed2k://|file|seeded.bin|26000000|$SEED_HASH|/|sources,127.0.0.1:$SEEDP|/"
out=$(mcli "$T/a" add "$LINK")
check "muleteer add takes the link" eval 'grep -q "$SEED_HASH" <<<"$out"'
one_part() { v=$(json_num "$(mcli "$T/a" --json downloads)" verified); [ -n "$v" ] && [ "$v" -ge $PARTSIZE ]; }
if eventually 150 one_part; then ok "a first part from amuled is verified"; else not_ok "a first part from amuled is verified"; fi
sleep 2 # let the metadata saving the verified part reach the disk
kill -KILL "${MULE_PID[A]}"
wait "${MULE_PID[A]}" 2>/dev/null
verified_before=$(grep -c 'part [0-9]* verified' "$T/a/muleteerd.log")
start_mule A "$T/a" "$AP" "shared_dirs = $T/a/share" "servers = 127.0.0.1:$SP" \
  "max_ratio = -1"  # A shares what it downloaded (the global ratio 0 would stop it at once)
check "after kill -9 Muleteer A resumes the download with its verified parts" \
  eval 'grep -E "resumed \"seeded.bin\" \(([1-9][0-9]*) of" "$T/a/muleteerd.log" | grep -qv "(0 of"'
complete_a() { [ -f "$T/a/incoming/seeded.bin" ]; }
if eventually 240 complete_a; then ok "the download completes"; else not_ok "the download completes"; diag "$(mcli "$T/a" downloads)"; fi
check "(a) the downloaded file is identical to amuled's" cmp -s "$T/a/incoming/seeded.bin" "$T/seeded.bin"
dups=$(grep -o 'part [0-9]* verified' "$T/a/muleteerd.log" | sort | uniq -d)
check "(c) no part was verified twice (nothing verified was downloaded again)" [ -z "$dups" ]
check "the completed file is shared" eval 'mcli "$T/a" shared | grep -q seeded.bin'

# ---- (b): amuled downloads from Muleteer through a LowID callback ----
amule_start S2 "$T/s2" "$S2P" $((S2P + 1)) $((S2P + 2)) "$SP"
check "a second amuled logs in to the server" eventually 60 amule_connected S2
if amule_search_download S2 muleshared muleshared.bin; then
  ok "amuled finds Muleteer's file by a search on the server and downloads it"
else
  not_ok "amuled finds Muleteer's file by a search on the server and downloads it"
  diag "$AMULE_RESULTS" "$(grep "search" "$T/server.log" | tail -n 3)"
fi
if amule_wait_complete S2 muleshared.bin 420; then ok "amuled's download completes"; else
  not_ok "amuled's download completes"
  diag "$(amule_cmd S2 show dl)" "$(grep -E "mt-S2|callback" "$T/a/muleteerd.log" | grep -v "block\|sent" | tail -n 15)"
fi
check "(b) amuled got Muleteer's file byte for byte" cmp -s "$T/s2/Incoming/muleshared.bin" "$T/muleshared.bin"
check "the server relayed amuled's callback to Muleteer" grep -q "callback .* relayed=" "$T/server.log"
check "Muleteer served amuled from an upload slot" grep -q "upload: slot for mt-S2" "$T/a/muleteerd.log"

# ---- (d): Muleteer B from two sources at once (amuled and Muleteer A) ----
mcli "$T/a" limits --up 200 >/dev/null   # keep A from finishing it alone
start_mule B "$T/b" "$BP"
mcli "$T/b" add "ed2k://|file|seeded.bin|26000000|$SEED_HASH|/|sources,127.0.0.1:$SEEDP,127.0.0.1:$AP|/" >/dev/null
check "a download's priority can be set" eval 'mcli "$T/b" --json priority "$SEED_HASH" high | grep -q "\"priority\": *\"high\""'
out=$(mcli "$T/b" priority "$SEED_HASH" urgent 2>&1); rc=$?
check "a bad priority is refused with a clear error" eval '[ $rc = 1 ] && grep -q "must be low, normal or high" <<<"$out"'
two_at_once() { [ "$(mcli "$T/b" --json downloads | grep -c '"state": *"downloading"')" -ge 3 ]; }  # the download's own state, and two peers
check "(d) two sources send to Muleteer B at the same time" eventually 120 two_at_once
complete_b() { [ -f "$T/b/incoming/seeded.bin" ]; }
if eventually 240 complete_b; then ok "B's download completes"; else not_ok "B's download completes"
  diag "$(mcli "$T/b" downloads 2>&1; tail -n 30 "$T/b/muleteerd.log")"; fi
check "B's file is identical" cmp -s "$T/b/incoming/seeded.bin" "$T/seeded.bin"
check "both sources gave B data" eval 'grep -q "mule-A .*gave us an upload slot" "$T/b/muleteerd.log" &&
  grep -q "mt-SEED .*gave us an upload slot" "$T/b/muleteerd.log"'

# ---- clean stops, no sanitizer reports ----
for n in A B; do
  kill -TERM "${MULE_PID[$n]}"
  wait "${MULE_PID[$n]}"; rc=$?
  check "Muleteer $n stops cleanly on SIGTERM" [ "$rc" = 0 ]
done
bad=$(grep -lE 'AddressSanitizer|LeakSanitizer|runtime error:' "$T"/a/stderr "$T"/b/stderr 2>/dev/null || true)
check "no sanitizer reports" [ -z "$bad" ]
[ -n "$bad" ] && diag "$(cat $bad | head -40)"
finish
