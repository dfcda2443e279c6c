#!/usr/bin/env bash
# secident.sh: secure user identification and credits (ed2k-protocol.md
# §5.9) between Muleteer and real amuled 2.3.3, with the server fixture
# (amuled finds Muleteer's file by a search: it ignores link sources;
# Muleteer is a LowID there, amuled refuses 127.x HighID sources):
#   (a) Muleteer downloads from amuled (slowed by max_download so that the
#   connection is still there to look at): both sides run the exchange,
#   Muleteer marks amuled "ident": "ok" in its downloads' peers, the file
#   is identical; the key file is made once (mode 0600);
#   (b) the credits: when amuled then waits in Muleteer's upload queue (its
#   one slot busy with Muleteer B), "uploads" shows it identified with the
#   credit modifier aMule's formula gives for the bytes it sent us (amuled
#   knew Muleteer from (a) by the hello sent before the login: it needs
#   OP_CHANGE_CLIENT_ID to see the LowID source in it); B's credits grow
#   in "uploads" and in credits.dat while A runs; a Muleteer C showing
#   amuled's user hash with another key waits "failed", credit 1;
#   (c) after a kill -9, credits.dat holds what was counted until shortly
#   before, with amuled's hash, its key and the bytes downloaded from it;
#   the key file is kept across the restart; B comes back with its
#   credits; at exit credits.dat is written again;
#   (d) while A is down, amuled is stopped: its clients.met holds
#   Muleteer's key (amuled keeps a key only once the signature verified)
#   and the bytes it uploaded to Muleteer;
#   (e) after A's restart, amuled (started again, so that it asks now)
#   reaches A through a callback and waits in its queue identified again,
#   credit 2.41, with the keys both sides stored (the "amuled stops asking
#   after a restart" report: it asks, and is queued, as long as the keys
#   hold; on its own it re-asks a LowID source only after ~29 min).
# TAP output.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/amule.sh"
. "$MT_SRCDIR/tests/integration/mule.sh"
trap 'amule_stop_all; cleanup' EXIT

mk_tmpdir T

SP=$(free_port); SEEDP=$(free_port); AP=$(free_port); BP=$(free_port)
"$MT_BUILDDIR/tests/fixtures/ed2k_server" --port "$SP" --highid-all --lowid-port "$AP" --keep-offers \
  --log "$T/server.log" &
CLEANUP_PIDS+=("$!")
eventually 10 grep -qs 'listening' "$T/server.log" || { not_ok "server fixture starts"; finish; exit 1; }
head -c 4000000 /dev/urandom >"$T/seeded.bin"
head -c 12000000 /dev/urandom >"$T/mule.bin"

amule_start SEED "$T/seed" "$SEEDP" $((SEEDP + 1)) $((SEEDP + 2)) "$SP"
check "amuled starts and shares a file" eval 'amule_share SEED "$T/seeded.bin"'
SEED_HASH=$(rhash --printf '%{ed2k}' "$T/seeded.bin")
SEED_USER=$(_amule_userhash SEED)

# ---- (a) Muleteer downloads from amuled; both identify each other ----
mkdir -p "$T/a/share"
cp "$T/mule.bin" "$T/a/share/"
A_CONF=("shared_dirs = $T/a/share" "servers = 127.0.0.1:$SP" "max_download = 250"
  "upload_slots = 1" "max_upload = 30")
start_mule A "$T/a" "$AP" "${A_CONF[@]}"
check "Muleteer A starts" mcli "$T/a" ping
check "Muleteer made its key file, mode 0600" \
  eval '[ "$(stat -c %a "$T/a/secident.key")" = 600 ] && [ -s "$T/a/secident.key" ]'
cp "$T/a/secident.key" "$T/key.first"
mcli "$T/a" add "ed2k://|file|seeded.bin|4000000|$SEED_HASH|/|sources,127.0.0.1:$SEEDP|/" >/dev/null
ident_ok() { mcli "$T/a" --json downloads | grep -q '"ident": *"ok"'; }
if eventually 40 ident_ok; then ok "(a) Muleteer's downloads show amuled identified (ident ok)"; else
  not_ok "(a) Muleteer's downloads show amuled identified (ident ok)"
  diag "$(mcli "$T/a" --json downloads | grep -E 'peer|ident' | head)" \
    "$(grep -E "127.0.0.1:$SEEDP" "$T/a/muleteerd.log" | grep -v block | tail -n 12)"
fi
check "(a) Muleteer's log: secure ident ok for amuled" \
  grep -qE "127.0.0.1:$SEEDP.*secure ident ok" "$T/a/muleteerd.log"
check "(a) no secure ident failed" eval '! grep -q "secure ident failed" "$T/a/muleteerd.log"'
complete_a() { [ -f "$T/a/incoming/seeded.bin" ]; }
if eventually 120 complete_a; then ok "(a) the download from amuled completes"; else
  not_ok "(a) the download from amuled completes"
  diag "$(mcli "$T/a" downloads)"
fi
check "(a) the file is identical to amuled's" cmp -s "$T/a/incoming/seeded.bin" "$T/seeded.bin"

# ---- (b) credits in the upload queue (same session) ----
# Muleteer B takes A's one upload slot (A sends 30 KiB/s: it keeps it) ...
MB_HASH=$(rhash --printf '%{ed2k}' "$T/mule.bin")
start_mule B "$T/b" "$BP" "server_autoconnect = no"
mcli "$T/b" add "ed2k://|file|mule.bin|12000000|$MB_HASH|/|sources,127.0.0.1:$AP|/" >/dev/null
b_slot() { mcli "$T/a" --json uploads | grep -q '"sent"'; }
check "Muleteer B gets A's upload slot" eventually 30 b_slot
check "A and B identify each other" \
  eventually 20 eval 'grep -qE "127.0.0.1:$BP.*secure ident ok" "$T/a/muleteerd.log" && grep -q "secure ident ok" "$T/b/muleteerd.log"'
# ... so amuled waits in A's queue, with its credit: 4000000 bytes
# downloaded, nothing uploaded: min(10, sqrt(4000000/2^20 + 2)) = 2.4125
offered() { grep -q "offer conn=[0-9]* id=[0-9]* files=[12]" "$T/server.log"; }
check "Muleteer A offers its files to the server" eventually 30 offered
check "amuled logs in to the server" eventually 60 amule_connected SEED
if amule_search_download SEED mule mule.bin; then ok "amuled finds Muleteer's file and downloads it"; else
  not_ok "amuled finds Muleteer's file and downloads it"; diag "$AMULE_RESULTS"
fi
# ujson DIR PY: the value of the Python expression PY over u, Muleteer
# DIR's "uploads" (slots and waiting; "" when the daemon does not answer).
ujson() {
  mcli "$1" --json uploads 2>/dev/null | python3 -c '
import json, sys
try:
    u = json.load(sys.stdin)
    print(eval(sys.argv[1]))
except Exception:
    pass' "$2"
}
# waiting_entry DIR NAME: "ident credit downloaded" of the client named
# NAME waiting in DIR's queue.
waiting_entry() {
  ujson "$1" "' '.join('%s %.2f %d' % (w['ident'], w['credit'], w['credits']['downloaded'])
                       for w in u['waiting'] if w['peer'].startswith('$2 '))"
}
waiting() { [ "$(waiting_entry "$T/a" mt-SEED)" = "ok 2.41 4000000" ]; }
if eventually 60 waiting; then ok "(b) amuled waits in A's queue identified, credit 2.41 (aMule's formula)"; else
  not_ok "(b) amuled waits in A's queue identified, credit 2.41 (aMule's formula)"
  diag "$(mcli "$T/a" --json uploads)" "$(amule_cmd SEED show dl 2>&1 | tail -n 4)" \
    "$(grep -E "127.0.0.1:$SEEDP|mt-SEED|upload" "$T/a/muleteerd.log" | tail -n 25)"
fi

# ---- (b) credits live: they grow while B downloads, on disk too ----
b_up() { ujson "$T/a" "[s['credits']['uploaded'] for s in u['slots'] if s['peer'].startswith('mule-B ')][0]"; }
up1=$(b_up); sleep 3; up2=$(b_up)
check "(b) the uploads list shows the bytes A uploaded to B growing as credits ($up1, then $up2)" \
  eval '[ -n "$up1" ] && [ -n "$up2" ] && [ "$up2" -gt "$up1" ] && [ "$up1" -gt 0 ]'
B_USER=$(cat "$T/b/userhash")
record() { # prints "uploaded downloaded keylen" of the user hash $1
  python3 - "$T/a/credits.dat" "$1" <<'PY'
import struct, sys
b = open(sys.argv[1], 'rb').read(); h = bytes.fromhex(sys.argv[2])
assert b[:4] == b'MTCR'
n = struct.unpack_from('<I', b, 5)[0]
for i in range(n):
    o = 9 + i * 121
    if b[o:o + 16] == h:
        up, down, seen = struct.unpack_from('<QQQ', b, o + 16)
        print(up, down, b[o + 40])
PY
}
on_disk() { r=$(record "$B_USER" 2>/dev/null); [ -n "$r" ] && [ "$(cut -d" " -f1 <<<"$r")" -ge "$up1" ]; }
check "(b) credits.dat, saved while A runs, holds them (save_interval)" eventually 5 on_disk

# ---- (b) an impostor: Muleteer C shows amuled's user hash, not its key ----
CP=$(free_port)
mkdir -p "$T/c"
echo "$SEED_USER" >"$T/c/userhash"
start_mule C "$T/c" "$CP" "server_autoconnect = no"
mcli "$T/c" add "ed2k://|file|mule.bin|12000000|$MB_HASH|/|sources,127.0.0.1:$AP|/" >/dev/null
impostor() { [ "$(waiting_entry "$T/a" mule-C)" = "failed 1.00 4000000" ]; }
if eventually 30 impostor; then ok "(b) an impostor of amuled's hash waits unidentified (failed), credit 1"; else
  not_ok "(b) an impostor of amuled's hash waits unidentified (failed), credit 1"
  diag "$(mcli "$T/a" --json uploads)"
fi
check "(b) ... while amuled keeps its credit 2.41" waiting
kill "${MULE_PID[C]}"

# ---- (c) kill -9: the credits saved while A ran survive; the key kept ----
up3=$(b_up)
sleep 2 # a save_interval (1 s) passes
kill -KILL "${MULE_PID[A]}"
gone_a() { ! kill -0 "${MULE_PID[A]}" 2>/dev/null; }
check "Muleteer A is killed (-9)" eventually 20 gone_a
rec=$(record "$B_USER")
check "(c) after kill -9, credits.dat holds the bytes A uploaded to B until then ($up3 at least)" \
  eval '[ -n "$up3" ] && [ "$(cut -d" " -f1 <<<"$rec")" -ge "$up3" ]'
rec=$(record "$SEED_USER")
check "credits.dat holds amuled's hash with its key and 4000000 bytes downloaded from it" \
  eval '[ "$(cut -d" " -f2 <<<"$rec")" -ge 4000000 ] && [ "$(cut -d" " -f3 <<<"$rec")" -gt 0 ]'
diag "amuled's record: uploaded downloaded keylen = $rec"

# ---- (d) amuled's side: it verified Muleteer ----
# amulecmd shows no identification state; amuled's clients.met does: aMule
# keeps a peer's key in its credit record only once its signature verified
# (CClientCredits::Verified). Record: hash, uploaded and downloaded (low
# u32s), last seen, the high u32s, u16, key size u8, key[80].
check "(d) amuled stops (SIGTERM: it saves clients.met)" amule_stop SEED
amule_record() {
  python3 - "$T/seed/clients.met" "$1" <<'PY'
import struct, sys
b = open(sys.argv[1], 'rb').read(); h = bytes.fromhex(sys.argv[2])
n = struct.unpack_from('<I', b, 1)[0]
for i in range(n):
    o = 5 + i * 119
    if b[o:o + 16] == h:
        up_lo, down_lo, seen, up_hi, down_hi = struct.unpack_from('<IIIII', b, o + 16)
        print(up_lo | up_hi << 32, b[o + 38], b[o + 39:o + 39 + b[o + 38]].hex())
PY
}
arec=$(amule_record "$(cat "$T/a/userhash")")
check "amuled's clients.met holds Muleteer's 76-byte key (amuled verified its signature)" \
  eval '[ "$(cut -d" " -f2 <<<"$arec")" = 76 ] && grep -q " 304a300d06092a864886f70d0101010500" <<<"$arec"'
check "... and the 4000000 bytes amuled uploaded to it, as credits" \
  eval '[ "$(cut -d" " -f1 <<<"$arec")" -ge 4000000 ]'
diag "amuled's record of Muleteer: uploaded keysize key = $arec"

start_mule A "$T/a" "$AP" "${A_CONF[@]}"
check "Muleteer A starts again with the same key" cmp -s "$T/a/secident.key" "$T/key.first"
b_back() { v=$(b_up); [ -n "$v" ] && [ "$v" -ge "$up3" ]; }
check "(c) B is back in A's slot with the credits it had before the kill" eventually 60 b_back

# ---- (e) amuled asks A again after A's restart (secure ident on) ----
# amuled re-asks a LowID source whose queue it was in only after ~29 min
# (FILEREASKTIME); started again (it was stopped for (d)), it asks the
# server for sources at once and calls A back: the key it stored for A's
# hash (clients.met) must still verify, and A's credits.dat know amuled.
A_ACK=$(grep -c "mt-SEED.*secure ident ok" "$T/a/muleteerd.log")
check "(e) amuled starts again and logs in" \
  eval '_amule_launch SEED && eventually 30 amule_connected SEED'
if eventually 60 waiting; then
  ok "(e) after A's restart amuled asks again and waits identified, credit 2.41"
else
  not_ok "(e) after A's restart amuled asks again and waits identified, credit 2.41"
  diag "$(mcli "$T/a" --json uploads)" "$(amule_cmd SEED show dl 2>&1 | tail -n 4)" \
    "$(grep -E "127.0.0.1:$SEEDP|mt-SEED|callback" "$T/a/muleteerd.log" | tail -n 15)"
fi
check "(e) A identified amuled anew on the callback connection, nothing failed" \
  eval '[ "$(grep -c "mt-SEED.*secure ident ok" "$T/a/muleteerd.log")" -gt "$A_ACK" ] &&
    ! grep -qE "mt-SEED.*secure ident failed" "$T/a/muleteerd.log"'

# ---- (c) credits.dat written at exit ----
kill "${MULE_PID[A]}"
check "Muleteer A stops" eventually 20 gone_a
check "Muleteer wrote credits.dat (mode 0600)" eval '[ "$(stat -c %a "$T/a/credits.dat")" = 600 ]'
rec=$(record "$B_USER")
check "credits.dat at exit: B's record grew after the restart" \
  eval '[ "$(cut -d" " -f1 <<<"$rec")" -gt "$up3" ]'

finish
