#!/usr/bin/env bash
# obfuscation.sh: peer protocol obfuscation (ed2k-protocol.md §9.2) between
# Muleteer and real amuled 2.3.3, through the server fixture answering
# OP_GETSOURCES_OBFU and relaying callbacks with crypt options and user
# hashes (--tcp-flags with 0x0400):
#   (a) Muleteer downloads from an amuled that requires obfuscation
#   (IsClientCryptLayerRequired=1; a link source with its crypt options and
#   user hash): Muleteer connects obfuscated;
#   (b) an amuled that requests obfuscation downloads from Muleteer (a LowID:
#   amuled's callback request reaches Muleteer with amuled's user hash, and
#   Muleteer connects obfuscated). An amuled that requires obfuscation logs
#   in only to servers that obfuscate (aMule skips the others), which the
#   fixture does not yet (server TCP obfuscation is a later step);
#   (c) a Muleteer with obfuscation_require refuses a plain peer, connects
#   to no source whose obfuscation is unknown, and downloads obfuscated from
#   another Muleteer (our responder side) and from the requiring amuled;
#   (d) server TCP obfuscation (§9.3): the fixture speaks the obfuscated
#   login on --obfuscation-port; Muleteer learns that port from OP_IDCHANGE
#   and logs in obfuscated on its next connection; an amuled that requires
#   obfuscation (given the fixture's server.met with the port and the UDP
#   flag 0x400) logs in obfuscated and downloads from Muleteer; a Muleteer
#   with obfuscation_require does not log in to a server without
#   obfuscation; one whose obfuscated attempt fails logs in plain;
#   (e) Muleteer reads obfuscated client datagrams (§9.4).
# Bytes are compared with the originals. TAP output.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/amule.sh"
. "$MT_SRCDIR/tests/integration/mule.sh"
trap 'amule_stop_all; cleanup' EXIT

mk_tmpdir T

SP=$(free_port); AP=$(free_port); SEEDP=$(free_port); BP=$(free_port); DLP=$(free_port)
OBP=$(free_port); RQP=$(free_port); NSP=$(free_port); QP=$(free_port)
# 0x519: the fixture's default flags (zlib, new tags, Unicode, large files)
# and TCP obfuscation, which makes clients ask with OP_GETSOURCES_OBFU.
# UDP flags 0x53B: the default and TCP obfuscation (what aMule reads from
# server.met); the obfuscated login on port OBP.
"$MT_BUILDDIR/tests/fixtures/ed2k_server" --port "$SP" --highid-all --lowid-port "$AP" \
  --keep-offers --tcp-flags 0x519 --udp-flags 0x53B --obfuscation-port "$OBP" \
  --server-met "$T/fixture.met" --log "$T/server.log" &
CLEANUP_PIDS+=("$!")
eventually 10 grep -qs 'listening' "$T/server.log" || { not_ok "server fixture starts"; finish; exit 1; }

head -c 4000000 /dev/urandom >"$T/seeded.bin"
# 6 MB: more than ED2K_OBFS_AHEAD_AFTER (4 MiB), so that the stream of
# each obfuscated transfer of it switches to its keystream thread midway
head -c 6000000 /dev/urandom >"$T/muleshared.bin"

# ---- amuled SEED: obfuscation supported, requested and required ----
AMULE_EXTRA_CONF[SEED]='[Obfuscation]
IsClientCryptLayerSupported=1
IsCryptLayerRequested=1
IsClientCryptLayerRequired=1'
amule_start SEED "$T/seed" "$SEEDP" $((SEEDP + 1)) $((SEEDP + 2))
check "amuled (obfuscation required) starts and shares a file" eval 'amule_share SEED "$T/seeded.bin"'
check "amuled's amule.conf requires obfuscation" grep -q '^IsClientCryptLayerRequired=1' "$T/seed/amule.conf"
SEED_HASH=$(rhash --printf '%{ed2k}' "$T/seeded.bin")
SEED_USER=$(_amule_userhash SEED)

# ---- Muleteer A: the defaults (supported, requested), a LowID ----
mkdir -p "$T/a/share"
cp "$T/muleshared.bin" "$T/a/share/"
start_mule A "$T/a" "$AP" "shared_dirs = $T/a/share" "servers = 127.0.0.1:$SP"
check "Muleteer A starts" mcli "$T/a" ping
lowid() { mcli "$T/a" --json server | grep -q '"lowid": *true'; }
check "Muleteer A logs in to the server as a LowID" eventually 20 lowid
check "Muleteer's login says it supports and requests obfuscation (flags 0x719)" \
  grep -qE "login conn=[0-9]+ .* port=$AP flags=0x719 " "$T/server.log"
offered() { grep -q "offer conn=[0-9]* id=[0-9]* files=1" "$T/server.log"; }
check "Muleteer A offers its shared file to the server" eventually 20 offered

# ---- (a) Muleteer downloads from amuled, obfuscated ----
# cryptopts 135 = 0x80 (a user hash follows) | required | requested | supported
LINK="ed2k://|file|seeded.bin|4000000|$SEED_HASH|/|sources,127.0.0.1:$SEEDP:135:$SEED_USER|/"
out=$(mcli "$T/a" add "$LINK")
check "muleteer add takes the link with the source's crypt options and user hash" \
  eval 'grep -q "$SEED_HASH" <<<"$out"'
complete_a() { [ -f "$T/a/incoming/seeded.bin" ]; }
if eventually 150 complete_a; then ok "(a) Muleteer's download from amuled completes"; else
  not_ok "(a) Muleteer's download from amuled completes"
  diag "$(mcli "$T/a" downloads)" "$(grep -E "127.0.0.1:$SEEDP" "$T/a/muleteerd.log" | tail -n 15)"
fi
check "(a) the file is identical to amuled's" cmp -s "$T/a/incoming/seeded.bin" "$T/seeded.bin"
check "(a) Muleteer's connection to amuled was obfuscated" \
  grep -qF "(127.0.0.1:$SEEDP): obfuscated (outgoing)" "$T/a/muleteerd.log"

# ---- (b) amuled downloads from Muleteer (LowID callback), obfuscated ----
AMULE_EXTRA_CONF[DL]='[Obfuscation]
IsClientCryptLayerSupported=1
IsCryptLayerRequested=1
IsClientCryptLayerRequired=0'
amule_start DL "$T/dl" "$DLP" $((DLP + 1)) $((DLP + 2)) "$SP"
check "amuled DL (obfuscation requested) logs in to the server" eventually 60 amule_connected DL
if amule_search_download DL muleshared muleshared.bin; then
  ok "amuled finds Muleteer's file on the server and downloads it"
else
  not_ok "amuled finds Muleteer's file on the server and downloads it"
  diag "$AMULE_RESULTS" "$(grep "search" "$T/server.log" | tail -n 3)"
fi
if amule_wait_complete DL muleshared.bin 300; then ok "(b) amuled's download from Muleteer completes"; else
  not_ok "(b) amuled's download from Muleteer completes"
  diag "$(amule_cmd DL show dl)" "$(grep -E "127.0.0.1:$DLP|callback|obfusc" "$T/a/muleteerd.log" | grep -v "block\|sent" | tail -n 15)"
fi
check "(b) amuled got Muleteer's file byte for byte" cmp -s "$T/dl/Incoming/muleshared.bin" "$T/muleshared.bin"
check "(b) amuled asked the fixture for the sources of Muleteer's file" grep -q "getsources conn=.*hash=$(rhash --printf '%{ed2k}' "$T/muleshared.bin")" "$T/server.log"
check "(b) the callback's connection from Muleteer to amuled was obfuscated" \
  grep -qF "(127.0.0.1:$DLP): obfuscated (outgoing)" "$T/a/muleteerd.log"
check "(b) Muleteer served amuled from an upload slot" grep -q "upload: slot for mt-DL" "$T/a/muleteerd.log"
check "(b) no obfuscation handshake failed" eval '! grep -q "closing: obfuscation" "$T/a/muleteerd.log"'

# ---- (c) obfuscation_require: a plain peer is refused ----
start_mule B "$T/b" "$BP" "obfuscation_require = yes" "server_autoconnect = no"
check "Muleteer B (obfuscation_require) starts" mcli "$T/b" ping
plain_hello() { # a plain OP_HELLO start; B must close without answering
  exec 3<>"/dev/tcp/127.0.0.1/$BP" || return 1
  printf '\xe3\x20\x00\x00\x00\x01\x10' >&3
  local got; got=$(timeout 5 cat <&3 | head -c 16 | od -An -tx1)
  exec 3<&-
  [ -z "$got" ]
}
check "(c) a plain peer's connection is closed without an answer" plain_hello
check "(c) B's log says why" eventually 5 grep -q "plain connection refused: obfuscation is required" "$T/b/muleteerd.log"
# B connects to no source whose obfuscation it cannot know (a link source
# without crypt options) ...
MS_HASH=$(rhash --printf '%{ed2k}' "$T/muleshared.bin")
A_USER=$(cat "$T/a/userhash")
mcli "$T/b" add "ed2k://|file|muleshared.bin|6000000|$MS_HASH|/|sources,127.0.0.1:$AP|/" >/dev/null
check "(c) B does not connect plain to a source without crypt options" \
  eventually 15 grep -qF "(127.0.0.1:$AP): not connecting: obfuscation required" "$T/b/muleteerd.log"
# ... and connects obfuscated once it has the peer's user hash (131: a hash
# follows, requested, supported): Muleteer A answers as the responder.
mcli "$T/b" add "ed2k://|file|muleshared.bin|6000000|$MS_HASH|/|sources,127.0.0.1:$AP:131:$A_USER|/" >/dev/null 2>&1
complete_ms() { [ -f "$T/b/incoming/muleshared.bin" ]; }
if eventually 120 complete_ms; then ok "(c) B downloads from Muleteer A"; else
  not_ok "(c) B downloads from Muleteer A"
  diag "$(mcli "$T/b" downloads)" "$(grep -E "127.0.0.1:$AP" "$T/b/muleteerd.log" | tail -n 15)"
fi
check "(c) B's copy of A's file is identical" cmp -s "$T/b/incoming/muleshared.bin" "$T/muleshared.bin"
check "(c) past 4 MiB, A's sending and B's receiving keystreams were computed ahead" \
  eval 'grep -q "(sending): keystream computed ahead" "$T/a/muleteerd.log" &&
        grep -q "(receiving): keystream computed ahead" "$T/b/muleteerd.log"'
check "(c) B connected obfuscated, A answered the handshake" \
  eval 'grep -qF "(127.0.0.1:$AP): obfuscated (outgoing)" "$T/b/muleteerd.log" &&
        grep -qF "obfuscated (incoming)" "$T/a/muleteerd.log"'
mcli "$T/b" add "$LINK" >/dev/null
complete_b() { [ -f "$T/b/incoming/seeded.bin" ]; }
if eventually 150 complete_b; then ok "(c) B downloads from the amuled that requires obfuscation"; else
  not_ok "(c) B downloads from the amuled that requires obfuscation"
  diag "$(mcli "$T/b" downloads)" "$(grep -E "127.0.0.1:$SEEDP" "$T/b/muleteerd.log" | tail -n 15)"
fi
check "(c) B's copy of amuled's file is identical" cmp -s "$T/b/incoming/seeded.bin" "$T/seeded.bin"

# ---- (d) server TCP obfuscation ----
A_LOGIN_HASH=$(cat "$T/a/userhash")
check "(d) Muleteer A's first login was plain (the port was not yet known)" \
  grep -qE "login conn=[0-9]+ hash=$A_LOGIN_HASH .* port=$AP " "$T/server.log"
mcli "$T/a" connect "127.0.0.1:$SP" >/dev/null
a_obfs() { grep -q "login-obfuscated conn=[0-9]* hash=$A_LOGIN_HASH" "$T/server.log"; }
check "(d) Muleteer A logs in again, obfuscated (the fixture's log says so)" eventually 30 a_obfs
check "(d) Muleteer A's log says it connected obfuscated to the obfuscation port" \
  eval 'grep -qF "connecting obfuscated to port $OBP" "$T/a/muleteerd.log" &&
        grep -q "connected with LowID .*(obfuscated)" "$T/a/muleteerd.log"'
a_json_obfs() { mcli "$T/a" --json server | grep -q '"obfuscated": *true'; }
check "(d) the server JSON says obfuscated" eventually 10 a_json_obfs

AMULE_EXTRA_CONF[RQ]='[Obfuscation]
IsClientCryptLayerSupported=1
IsCryptLayerRequested=1
IsClientCryptLayerRequired=1'
AMULE_SERVER_MET[RQ]="$T/fixture.met"
check "(d) the fixture wrote a server.met" test -s "$T/fixture.met"
amule_start RQ "$T/rq" "$RQP" $((RQP + 1)) $((RQP + 2)) "$SP"
check "(d) amuled RQ (obfuscation required) logs in to the fixture" eventually 90 amule_connected RQ
RQ_USER=$(_amule_userhash RQ)
check "(d) amuled RQ's login came through the obfuscated handshake" \
  eventually 10 grep -qi "login-obfuscated conn=[0-9]* hash=$RQ_USER" "$T/server.log"
if amule_search_download RQ muleshared muleshared.bin; then
  ok "(d) amuled RQ finds Muleteer's file and downloads it"
else
  not_ok "(d) amuled RQ finds Muleteer's file and downloads it"
  diag "$AMULE_RESULTS" "$(grep "search" "$T/server.log" | tail -n 3)"
fi
if amule_wait_complete RQ muleshared.bin 300; then ok "(d) amuled RQ's download from Muleteer completes"; else
  not_ok "(d) amuled RQ's download from Muleteer completes"
  diag "$(amule_cmd RQ show dl)" "$(grep -E "127.0.0.1:$RQP|callback|obfusc" "$T/a/muleteerd.log" | grep -v "block\|sent" | tail -n 15)"
fi
check "(d) amuled RQ got Muleteer's file byte for byte" cmp -s "$T/rq/Incoming/muleshared.bin" "$T/muleshared.bin"

# A server without obfuscation, and a Muleteer that requires it.
"$MT_BUILDDIR/tests/fixtures/ed2k_server" --port "$NSP" --highid-all --log "$T/plain-server.log" &
CLEANUP_PIDS+=("$!")
eventually 10 grep -qs 'listening' "$T/plain-server.log" || not_ok "(d) the plain server fixture starts"
start_mule Q "$T/q" "$QP" "servers = 127.0.0.1:$NSP" "obfuscation_require = yes"
check "(d) Muleteer Q (obfuscation_require) does not connect to a server without obfuscation" \
  eventually 20 grep -qF "not connecting: obfuscation is required and the server does not offer it" "$T/q/muleteerd.log"
check "(d) the plain server saw no login" eval '! grep -q "login conn" "$T/plain-server.log"'

# A server whose obfuscation port (from server.met) no longer answers:
# Muleteer tries its plain port at once and logs in there.
FBP=$(free_port); FBOP=$(free_port); FP=$(free_port)
"$MT_BUILDDIR/tests/fixtures/ed2k_server" --port "$FBP" --highid-all --udp-flags 0x53B \
  --obfuscation-port "$FBOP" --server-met "$T/gone.met" --log "$T/gone.log" &
gone=$!
eventually 10 grep -qs 'listening' "$T/gone.log" || not_ok "(d) the fixture writes a server.met and stops"
kill "$gone"; wait "$gone" 2>/dev/null
"$MT_BUILDDIR/tests/fixtures/ed2k_server" --port "$FBP" --highid-all --log "$T/fallback.log" &
CLEANUP_PIDS+=("$!")
eventually 10 grep -qs 'listening' "$T/fallback.log" || not_ok "(d) the plain fixture starts again"
mkdir -p "$T/f"
cp "$T/gone.met" "$T/f/server.met"
start_mule F "$T/f" "$FP" "servers = localhost:$FBP"
check "(d) Muleteer F tries the obfuscation port first, then plain" \
  eventually 30 grep -qF "the obfuscated connection (port $FBOP) failed: Connection refused; trying plain" "$T/f/muleteerd.log"
check "(d) Muleteer F logs in plain after the failed obfuscated attempt" eventually 20 grep -q "login conn" "$T/fallback.log"

# ---- (e) obfuscated client UDP (§9.4): A decrypts an obfuscated
# OP_REASKFILEPING keyed with its user hash and our address, and answers
# (OP_FILENOTFOUND for a hash it does not have); a datagram keyed for
# another user hash gets nothing ----
udp_ask() { # udp_ask USERHASH_HEX: prints the answer's hex, or nothing
  python3 - "$1" "$((AP + 1))" <<'PY'
import hashlib, os, socket, struct, sys
def rc4(key, data):
    S = list(range(256)); j = 0
    for i in range(256):
        j = (j + S[i] + key[i % len(key)]) & 255; S[i], S[j] = S[j], S[i]
    i = j = 0; out = bytearray()
    for b in data:
        i = (i + 1) & 255; j = (j + S[i]) & 255; S[i], S[j] = S[j], S[i]
        out.append(b ^ S[(S[i] + S[j]) & 255])
    return bytes(out)
user, port = bytes.fromhex(sys.argv[1]), int(sys.argv[2])
r = os.urandom(2)
key = hashlib.md5(user + bytes([127, 0, 0, 1, 0x5B]) + r).digest()
plain = bytes([0xC5, 0x90]) + os.urandom(16)
dgram = bytes([0x11]) + r + rc4(key, struct.pack('<I', 0x395F2EC1) + b'\0' + plain)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', 0)); s.settimeout(3)
s.sendto(dgram, ('127.0.0.1', port))
try:
    print(s.recv(2048).hex())
except socket.timeout:
    pass
PY
}
ans=$(udp_ask "$A_USER")
check "(e) Muleteer answers an obfuscated client datagram (OP_FILENOTFOUND)" eval '[ "${ans:0:4}" = c592 ]'
other=$(udp_ask "00112233445566778899aabbccddeeff")
check "(e) a datagram keyed for another user hash gets no answer" eval '[ -z "$other" ]'
check "(e) Muleteer's log says why it dropped that one" grep -q "datagram dropped: obfuscated client datagram: wrong magic" "$T/a/muleteerd.log"

finish
