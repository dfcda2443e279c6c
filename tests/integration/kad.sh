#!/usr/bin/env bash
# kad.sh: Muleteer's Kad node against real amuled 2.3.3. aMule drops Kad
# contacts in 127/8 and the LAN ranges, so every node runs in a network
# namespace this test creates (a bridge namespace, one veth per node, one
# 100.64.N.1 address per node, each in its own /24; amule-testing.md "Kad
# with amuled") and deletes at the end, pass or fail. Muleteer M
# bootstraps from amuled A (muleteer kad bootstrap) and verifies it by
# HELLO (A's answer comes obfuscated); A then holds M in its routing
# table: a second Muleteer N that bootstraps from A only is handed M's
# contact. amuled B, whose nodes.dat lists only M, bootstraps from M; M
# saves its contacts in nodes.dat (version 2) and keeps its id; a new
# Muleteer P joins through that file (muleteer kad import). Keywords: a
# Muleteer Q whose id shares its first byte with two test keywords (aMule
# stores and searches only there) indexes what others publish; Muleteer S
# shares a file and publishes its keywords, and amuled A's Kad search
# finds it, and so does Muleteer M's keyword search, merged into the
# search's results with the origin "kad"; M then downloads it with the
# sources its Kad source search finds (no server). Firewall checks: M
# and amuled A each say open once the other nodes connect back, and M's
# UDP check never says UDP-firewalled; N
# disconnects from Kad and connects again; /metrics carries M's Kad
# lines (promtool). TAP.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/mule.sh"

NS=mtkad$$
NS_LIST=()
ns_cleanup() {
  cleanup
  local n
  for n in "${NS_LIST[@]}"; do ip netns del "$n" 2>/dev/null || true; done
}
trap ns_cleanup EXIT

if ! command -v amuled >/dev/null || ! command -v amulecmd >/dev/null; then
  echo "1..0 # SKIP amuled and amulecmd are not installed (amule-daemon, amule-utils)"; exit 0
fi
if ! ip netns add "$NS-br" 2>/dev/null; then
  echo "1..0 # SKIP cannot create network namespaces here (needs root or CAP_NET_ADMIN)"; exit 0
fi
NS_LIST+=("$NS-br")
ip -n "$NS-br" link set lo up
ip -n "$NS-br" link add br0 type bridge
ip -n "$NS-br" link set br0 up

# node_ns NAME N: namespace $NS-NAME with 100.64.N.1/16 on a veth to the
# bridge namespace.
node_ns() {
  local ns=$NS-$1
  ip netns add "$ns" || return 1
  NS_LIST+=("$ns")
  ip -n "$ns" link set lo up &&
    ip -n "$ns" link add eth0 type veth peer name "v$1" netns "$NS-br" &&
    ip -n "$ns" addr add "100.64.$2.1/16" dev eth0 &&
    ip -n "$ns" link set eth0 up &&
    ip -n "$NS-br" link set "v$1" master br0 &&
    ip -n "$NS-br" link set "v$1" up
}

mk_tmpdir T
AMULE_PASSWORD=muleteer-test
AMULE_PASSWORD_MD5=$(printf '%s' "$AMULE_PASSWORD" | md5sum | cut -d' ' -f1)

# amule_kad_start NAME [TCP_PORT]: amuled with Kad on, in namespace
# $NS-NAME, in $T/NAME (a nodes.dat there is its bootstrap list). Ports are
# the same in every namespace: TCP 4662 (unless given), UDP 4672, EC 4712
# (on the namespace's loopback).
amule_kad_start() {
  local n=$1 d=$T/$1 tcp=${2:-4662}
  mkdir -p "$d/Incoming" "$d/Temp"
  cat >"$d/amule.conf" <<EOC
[eMule]
Nick=mt-kad-$n
Port=$tcp
UDPPort=4672
UDPEnable=1
TempDir=$d/Temp
IncomingDir=$d/Incoming
OSDirectory=$d
ConnectToKad=1
ConnectToED2K=0
Autoconnect=1
Serverlist=0
AddServerListFromServer=0
AddServerListFromClient=0
SmartIdCheck=0
FilterLanIPs=0
ParanoidFiltering=0
IPFilterAutoLoad=0
IPFilterURL=http://127.0.0.1:9/ipfilter.dat
Ed2kServersUrl=http://127.0.0.1:9/server.met
KadNodesUrl=http://127.0.0.1:9/nodes.dat
GeoIPEnabled=0
UPnPEnabled=0
NewVersionCheck=0
[ExternalConnect]
AcceptExternalConnections=1
ECAddress=127.0.0.1
ECPort=4712
ECPassword=$AMULE_PASSWORD_MD5
UPnPECEnabled=0
[WebServer]
Enabled=0
EOC
  ip netns exec "$NS-$n" setsid amuled -c "$d" -o >>"$d/amuled.log" 2>&1 </dev/null &
  CLEANUP_PIDS+=("$!")
  eventually 30 amule_kad_status "$n" >/dev/null
}

# amule_kad_status NAME: amulecmd's "Kad:" status line.
amule_kad_status() {
  ip netns exec "$NS-$1" timeout 20 amulecmd -h 127.0.0.1 -p 4712 -P "$AMULE_PASSWORD" \
    -c status 2>/dev/null | grep 'Kad:'
}
amule_kad_connected() { amule_kad_status "$1" | grep -q 'Kad: Connected'; }

# mule_kad_start NAME: muleteerd in namespace $NS-NAME (mule.sh's
# start_mule through ip netns exec), TCP 4662 and UDP 4663.
mule_kad_start() {
  MULE_WRAP="ip netns exec $NS-$1" start_mule "$1" "$T/$1" 4662 "server_autoconnect = no"
}
kad_json() { mcli "$T/$1" --json kad status --contacts 2>/dev/null; }
kad_state() { kad_json "$1" | sed -n 's/.*"state": *"\([a-z ()]*\)".*/\1/p' | head -n 1; }
kad_connected() { case "$(kad_state "$1")" in "connected ("*) ;; *) return 1 ;; esac; }
kad_open() { [ "$(kad_state "$1")" = "connected (open)" ]; }
kad_id() { kad_json "$1" | sed -n 's/.*"id": *"\([0-9a-f]\{32\}\)".*/\1/p' | head -n 1; }
# has_contact NAME ADDRESS|ID [verified]: NAME's table holds that contact.
has_contact() {
  local j; j=$(kad_json "$1" | tr -d '\n ')
  if [ "${3:-}" = verified ]; then
    grep -qE "\{[^}]*$2[^}]*\"verified\":true" <<<"$j"
  else
    grep -q "$2" <<<"$j"
  fi
}

for n in a:1 m:2 n:3 b:4 p:5 q:6 s:7; do
  if ! node_ns "${n%%:*}" "${n##*:}"; then
    not_ok "namespace ${n%%:*} is set up"; finish; exit 1
  fi
done

check "muleteerd M starts in its namespace" mule_kad_start m
check "muleteerd N starts in its namespace" mule_kad_start n
# (A on TCP 4665: M, on 4662, downloads from A in 3c, and takes a source
# on a reserved address with its own TCP port for itself.)
check "amuled A starts with Kad on" amule_kad_start a 4665
M_ID=$(kad_id m)
check "M has a Kad id" test -n "$M_ID"
check "M is connecting before any contact" test "$(kad_state m)" = connecting

# 1. M bootstraps from A, and verifies A by HELLO.
out=$(mcli "$T/m" kad bootstrap 100.64.1.1:4672 2>&1)
check "muleteer kad bootstrap is accepted" grep -q 'bootstrapping from 1' <<<"$out"
if eventually 60 has_contact m 100.64.1.1 verified; then
  ok "M holds amuled A as a verified contact"
else
  not_ok "M holds amuled A as a verified contact"; diag "$(kad_json m)"
fi
check "M says connected" kad_connected m
if eventually 60 amule_kad_connected a; then
  ok "amuled A connects to Kad through M alone"
else
  not_ok "amuled A connects to Kad through M alone"; diag "$(amule_kad_status a)"
fi

# 2. A lists M: N, which knows only A, is handed M's contact by A.
mcli "$T/n" kad bootstrap 100.64.1.1:4672 >/dev/null 2>&1
if eventually 60 has_contact n "$M_ID" verified; then
  ok "amuled A hands M's contact to N, and N verifies it"
else
  not_ok "amuled A hands M's contact to N, and N verifies it"; diag "$(kad_json n)"
fi
check "M learns N through N's hello" eventually 30 has_contact m 100.64.3.1 verified

# 2b. Bad input and amplification, from a plain UDP client in N's
# namespace: malformed and truncated Kad datagrams are counted and dropped
# (M still answers a ping after them); of three bootstrap requests in a row
# from one unverified address only the first gets M's (much larger) answer.
probe=$(ip netns exec "$NS-n" python3 - <<'EOP'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("100.64.3.1", 5999))
s.settimeout(1.5)
m = ("100.64.2.1", 4663)
for d in (b"\xe4\x09\x01", b"\xe4\x29" + b"\x00" * 16 + b"\xff", b"\xe4\x11" + b"\x00" * 19 + b"\x01\x7f",
          b"\xe5\x21garbage", b"\x04" + b"\x00" * 40):
    s.sendto(d, m)
for _ in range(3):
    s.sendto(b"\xe4\x01", m)
answers = 0
try:
    while True:
        d, _ = s.recvfrom(2048)
        answers += d[:2] == b"\xe4\x09"
except socket.timeout:
    pass
s.sendto(b"\xe4\x60", m)
try:
    d, _ = s.recvfrom(2048)
    pong = d == b"\xe4\x61\x6f\x17"
except socket.timeout:
    pong = False
print(answers, int(pong))
EOP
)
check "one bootstrap answer for three requests from an unverified address" test "${probe% *}" = 1
check "M answers a ping (with the port it saw) after malformed datagrams" test "${probe#* }" = 1
malformed=$(json_num "$(kad_json m)" malformed)
# (a bad tag, bad zlib, an obfuscated datagram no key opens; the two
# unasked-for answers count as dropped)
check "M counted the malformed datagrams" test "${malformed:-0}" -ge 3

# 2c. Firewall checks (ed2k-protocol.md §10.4): M asks the nodes it knows
# (KADEMLIA_FIREWALLED2_REQ); amuled A and Muleteer N connect back to M's
# TCP port and say OP_KAD_FWTCPCHECK_ACK, so M's check says open (aMule's
# rule: two connect-backs), and A's answers name M's address. M and N
# answer A's checks the same way, so amuled's own check says open too.
if eventually 120 kad_open m; then
  ok "M's firewall check says connected (open): A and N connect back"
else
  not_ok "M's firewall check says connected (open): A and N connect back"; diag "$(kad_json m)"
fi
check "M learns its address from the answers" grep -q '"external_address": *"100.64.2.1"' <<<"$(kad_json m)"
m_answered() { [ "$(json_num "$(kad_json m)" firewall_acks_sent)" -ge 1 ] 2>/dev/null; }
check "M answers amuled's firewall check with a connect-back" eventually 60 m_answered
# M's own UDP check (aMule's UDPFirewallTester): the fresh nodes it asks
# over TCP (amuled or Muleteer) answer on its UDP port, which nothing
# blocks here, so it never says UDP-firewalled.
mj=$(kad_json m)
check "M's UDP firewall check does not say firewalled" grep -q '"udp_firewalled": *false' <<<"$mj"
diag "M's UDP check: $(json_num "$mj" udp_firewall_checks_asked) asked, $(json_num "$mj" udp_firewall_answers) answer(s)"
amule_kad_open() { local st; st=$(amule_kad_status "$1") && grep -q 'Kad: Connected' <<<"$st" && ! grep -qi firewalled <<<"$st"; }
if eventually 120 amule_kad_open a; then
  ok "amuled A's firewall check says open: the Muleteers connect back"
else
  not_ok "amuled A's firewall check says open: the Muleteers connect back"; diag "$(amule_kad_status a)"
fi

# 2d. muleteer kad disconnect: N stops all Kad traffic and keeps its
# contacts; muleteer kad connect: N verifies them again and is connected.
mcli "$T/n" kad disconnect >/dev/null 2>&1
check "muleteer kad disconnect: N's Kad is off" test "$(kad_state n)" = off
n_before=$(kad_json n)
check "N keeps its contacts while disconnected" test "$(json_num "$n_before" contacts)" -ge 2
sleep 4
check "N sends nothing while disconnected" \
  test "$(json_num "$(kad_json n)" datagrams_out)" = "$(json_num "$n_before" datagrams_out)"
mcli "$T/n" kad connect >/dev/null 2>&1
check "muleteer kad connect: N connects again through its saved contacts" eventually 60 kad_connected n

# 2e. /metrics (prom.fcgi as a plain CGI program, loopback caller) carries
# M's Kad lines, and promtool accepts them.
prom_m() {
  env -i PATH="$PATH" MULETEER_CONF="$T/m/muleteer.conf" GATEWAY_INTERFACE=CGI/1.1 \
    REQUEST_METHOD=GET REQUEST_URI=/metrics SCRIPT_NAME=/metrics QUERY_STRING= \
    REMOTE_ADDR=127.0.0.1 SERVER_PROTOCOL=HTTP/1.1 "$MT_BUILDDIR/cgi-bin/prom.fcgi" \
    </dev/null 2>>"$T/prom.err" | tr -d '\r' | sed '1,/^$/d' >"$T/metrics"
}
prom_m
check "/metrics says M's Kad is open" grep -qx 'muleteer_kad_state{state="open"} 1' "$T/metrics"
check "/metrics counts M's contacts" grep -Eq '^muleteer_kad_contacts [1-9]' "$T/metrics"
check "/metrics says M is not UDP-firewalled" grep -qx 'muleteer_kad_udp_firewalled 0' "$T/metrics"
check "/metrics counts the firewall checks M answered" \
  grep -Eq '^muleteer_kad_firewall_checks_answered_total [1-9]' "$T/metrics"
if command -v promtool >/dev/null; then
  check "promtool check metrics accepts them" promtool check metrics <"$T/metrics"
else
  ok "promtool check metrics accepts them # SKIP promtool is not installed"
fi

# 3. amuled B bootstraps from M: its nodes.dat (version 2) lists only M.
python3 - "$M_ID" "$T/b/nodes.dat" <<'EOP'
import os, struct, sys
idhex, path = sys.argv[1], sys.argv[2]
os.makedirs(os.path.dirname(path), exist_ok=True)
words = [int(idhex[i:i + 8], 16) for i in range(0, 32, 8)]
ip = (100 << 24) | (64 << 16) | (2 << 8) | 1
entry = struct.pack('<4I', *words) + struct.pack('<IHHB', ip, 4663, 4662, 8) + struct.pack('<IIB', 0, 0, 0)
open(path, 'wb').write(struct.pack('<III', 0, 2, 1) + entry)
EOP
check "amuled B starts with M in its nodes.dat" amule_kad_start b
if eventually 90 amule_kad_connected b; then
  ok "amuled B connects to Kad by bootstrapping from M"
else
  not_ok "amuled B connects to Kad by bootstrapping from M"; diag "$(amule_kad_status b)"
fi
# (B takes M from its nodes.dat and asks it KADEMLIA2_REQ, which names no
# sender: M does not learn B until B says hello, which aMule 2.3.3 did not
# do within minutes. B's connection came through M's answer alone.)

# 3b. Keywords. md4 WORD: the MD4 digest of WORD in hex (hashlib has no
# MD4 where OpenSSL 3 leaves it out). KM: S's keyword; Q's id starts with
# its first byte.
md4() {
  python3 - "$1" <<'EOP'
import struct, sys
def md4(m):
    M = 0xffffffff
    rol = lambda x, n: ((x << n) | (x >> (32 - n))) & M
    F = lambda x, y, z: (x & y) | (~x & z)
    G = lambda x, y, z: (x & y) | (x & z) | (y & z)
    H = lambda x, y, z: x ^ y ^ z
    n = len(m) * 8
    m = m + b'\x80'
    m += b'\x00' * ((56 - len(m)) % 64) + struct.pack('<Q', n)
    h = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476]
    rounds = ((F, range(16), (3, 7, 11, 19), 0),
              (G, (0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), (3, 5, 9, 13), 0x5a827999),
              (H, (0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15), (3, 9, 11, 15), 0x6ed9eba1))
    for off in range(0, len(m), 64):
        X = struct.unpack('<16I', m[off:off + 64])
        A, B, C, D = h
        for fn, order, sh, k in rounds:
            for i, j in enumerate(order):
                t = (A + (fn(B, C, D) & M) + X[j] + k) & M
                A, B, C, D = D, rol(t, sh[i % 4]), B, C
        h = [(x + y) & M for x, y in zip(h, (A, B, C, D))]
    return struct.pack('<4I', *h).hex()
print(md4(sys.argv[1].encode()))
EOP
}
KM=kwmule$$
KM_MD4=$(md4 "$KM")
check "MD4 as Kad hashes keywords (ed2k-protocol.md 11.2)" test "$(md4 ubuntu)" = a5d7852a264d406b2d682a4aa88fb6d1
mkdir -p "$T/q" "$T/s/share"
printf '%s%s\n' "${KM_MD4:0:2}" "$(md4 "q$$" | cut -c3-32)" >"$T/q/kad_id"
head -c 300000 /dev/urandom >"$T/s/share/$KM release.bin"
check "muleteerd Q starts with an id near the keywords" mule_kad_start q
# (S on TCP 4670: the download side takes a source on a reserved address
# with its own TCP port for itself, and every node here uses 100.64/10.)
start_s() {
  MULE_WRAP="ip netns exec $NS-s" start_mule s "$T/s" 4670 "server_autoconnect = no" \
    "shared_dirs = $T/s/share"
}
check "muleteerd S starts sharing a file" start_s
for x in q s; do mcli "$T/$x" kad bootstrap 100.64.1.1:4672 >/dev/null 2>&1; done
check "Q connects to Kad through A" eventually 60 kad_connected q
check "S connects to Kad through A" eventually 60 kad_connected s
q_indexed() { [ "$(json_num "$(kad_json q)" indexed_keywords)" -ge "${1:-1}" ] 2>/dev/null; }
if eventually 120 q_indexed 1; then
  ok "S publishes its keywords and Q (near them) stores them"
else
  not_ok "S publishes its keywords and Q (near them) stores them"; diag "$(kad_json s)" "$(kad_json q)"
fi
amule_cmd_ns() {
  ip netns exec "$NS-$1" timeout 30 amulecmd -h 127.0.0.1 -p 4712 -P "$AMULE_PASSWORD" -c "$2" 2>/dev/null
}
amule_kad_finds() {
  AMULE_SEARCH=$(amule_cmd_ns a "search kad $1")
  sleep 8
  AMULE_RESULTS=$(amule_cmd_ns a results)
  grep -qF "$1" <<<"$AMULE_RESULTS"
}
# (aMule asks in a search only contacts whose address it verified
# (RoutingBin.cpp GetClosestTo), and takes the HELLO_RES_ACK that verifies
# one only when it carries the verify key aMule handed out: Q's ack is
# obfuscated with that key, ed2k-protocol.md §9.4.)
if eventually 60 amule_kad_finds "$KM"; then
  ok "amuled A's Kad search finds the file S published (answered by Q)"
else
  not_ok "amuled A's Kad search finds the file S published (answered by Q)"
  diag "${AMULE_SEARCH:-}" "${AMULE_RESULTS:-}" \
    "Q's datagrams: $(grep -c 'datagram 0x' "$T/q/muleteerd.log"), from A:" \
    "$(grep -E 'datagram 0x(21|33|3b) .*100\.64\.1\.1' "$T/q/muleteerd.log" | tail -n 20)"
fi

# M's keyword search finds S's file where S published it (Q), merged into
# the search's results with the origin kad.
mule_kad_finds() {
  MULE_CLI_TIMEOUT=60 mcli "$T/m" search --wait 40 "$KM" >"$T/m-search.out" 2>&1
  grep -qF "$KM release.bin" "$T/m-search.out"
}
if eventually 120 mule_kad_finds; then
  ok "M's keyword search finds S's file over Kad"
else
  not_ok "M's keyword search finds S's file over Kad"; diag "$(cat "$T/m-search.out")" "$(kad_json m)"
fi
sid=$(sed -n 's/^search \([0-9]*\):.*/\1/p' "$T/m-search.out" | head -n 1)
origins_kad() { mcli "$T/m" --json search-results "$1" | tr -d ' \n' | grep -q '"origins":\["kad"\]'; }
check "the result's origins say kad" origins_kad "${sid:-0}"

# M downloads that file with no server and no source in the link: the Kad
# source search finds S (S published itself as a source of its file).
link=$(grep -o 'ed2k://|file|[^ ]*|/' "$T/m-search.out" | head -n 1)
check "the Kad result carries an ed2k link" test -n "$link"
mcli "$T/m" add "$link" >/dev/null 2>&1
complete_m() { [ -f "$T/m/incoming/$KM release.bin" ]; }
if eventually 180 complete_m; then
  ok "M downloads S's file from Kad-found sources only"
else
  not_ok "M downloads S's file from Kad-found sources only"; diag "$(mcli "$T/m" downloads)" "$(kad_json m)"
fi
check "the downloaded file is identical" cmp -s "$T/m/incoming/$KM release.bin" "$T/s/share/$KM release.bin"

# 3c. amuled A shares a file and publishes it to Kad: its keyword (a word
# whose MD4 starts with Q's first byte) and its source (the file's bytes
# chosen so its ed2k hash starts with that byte too: aMule stores only
# within the search tolerance, and Q is the node there). aMule publishes a
# shared file's keywords and source on its publish timer once Kad is
# connected and it is not firewalled (A said open in 2c). M's Kad keyword
# search finds it (origin kad), M's source search for its hash finds A,
# and M downloads it from A alone (no server anywhere in this test).
A_FILE=$(python3 - "${KM_MD4:0:2}" "kwamule$$" "$T/a/Incoming" <<'EOP'
import os, struct, sys
want, stem, outdir = int(sys.argv[1], 16), sys.argv[2], sys.argv[3]
M = 0xffffffff
rol = lambda x, n: ((x << n) | (x >> (32 - n))) & M
F = lambda x, y, z: (x & y) | (~x & z)
G = lambda x, y, z: (x & y) | (x & z) | (y & z)
H = lambda x, y, z: x ^ y ^ z
ROUNDS = ((F, range(16), (3, 7, 11, 19), 0),
          (G, (0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), (3, 5, 9, 13), 0x5a827999),
          (H, (0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15), (3, 9, 11, 15), 0x6ed9eba1))
def block(h, blk):
    X = struct.unpack('<16I', blk)
    A, B, C, D = h
    for fn, order, sh, k in ROUNDS:
        for i, j in enumerate(order):
            t = (A + (fn(B, C, D) & M) + X[j] + k) & M
            A, B, C, D = D, rol(t, sh[i % 4]), B, C
    return [(x + y) & M for x, y in zip(h, (A, B, C, D))]
def md4(m, h=(0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476), done=0):
    n = (done + len(m)) * 8
    m = m + b'\x80' + b'\x00' * ((55 - len(m)) % 64) + struct.pack('<Q', n)
    h = list(h)
    for off in range(0, len(m), 64):
        h = block(h, m[off:off + 64])
    return struct.pack('<4I', *h)
i = 0
while md4(('%s%d' % (stem, i)).encode())[0] != want:
    i += 1
word = '%s%d' % (stem, i)
body = os.urandom(64 * 3000)  # under one ed2k part: the hash is the MD4
h = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476]
for off in range(0, len(body), 64):
    h = block(h, body[off:off + 64])
c = 0
while md4(struct.pack('<Q', c), h, len(body))[0] != want:
    c += 1
name = word + ' data.bin'
with open(os.path.join(outdir, name), 'wb') as f:
    f.write(body + struct.pack('<Q', c))
print(word, md4(body + struct.pack('<Q', c)).hex())
EOP
)
KA=${A_FILE% *}
KA_HASH=${A_FILE#* }
check "a file for A whose keyword and hash start with Q's byte" \
  test -f "$T/a/Incoming/$KA data.bin" -a "${KA_HASH:0:2}" = "${KM_MD4:0:2}"
amule_cmd_ns a "reload shared" >/dev/null
a_shares() { amule_cmd_ns a "show shared" | grep -qi "$KA_HASH"; }
check "amuled A shares it (hash $KA_HASH)" eventually 60 a_shares
q_has() { [ "$(json_num "$(kad_json q)" "$1")" -ge "$2" ] 2>/dev/null; }
q_kw0=$(json_num "$(kad_json q)" indexed_keywords)
q_src0=$(json_num "$(kad_json q)" indexed_sources)
if eventually 240 q_has indexed_keywords $((${q_kw0:-0} + 1)); then
  ok "amuled A publishes the file's keyword and Q stores it"
else
  not_ok "amuled A publishes the file's keyword and Q stores it"; diag "$(kad_json q)"
fi
if eventually 240 q_has indexed_sources $((${q_src0:-0} + 1)); then
  ok "amuled A publishes itself as the file's source and Q stores it"
else
  not_ok "amuled A publishes itself as the file's source and Q stores it"; diag "$(kad_json q)"
fi
mule_kad_finds_a() {
  MULE_CLI_TIMEOUT=60 mcli "$T/m" search --wait 40 "$KA" >"$T/m-search-a.out" 2>&1
  grep -qF "$KA data.bin" "$T/m-search-a.out"
}
if eventually 120 mule_kad_finds_a; then
  ok "M's keyword search finds amuled A's file over Kad"
else
  not_ok "M's keyword search finds amuled A's file over Kad"; diag "$(cat "$T/m-search-a.out")"
fi
sid_a=$(sed -n 's/^search \([0-9]*\):.*/\1/p' "$T/m-search-a.out" | head -n 1)
check "that result's origins say kad" origins_kad "${sid_a:-0}"
link_a=$(grep -o 'ed2k://|file|[^ ]*|/' "$T/m-search-a.out" | grep -i "$KA_HASH" | head -n 1)
check "the result names A's hash" test -n "$link_a"
check "M knows no server" grep -q '^no servers' <<<"$(mcli "$T/m" servers 2>&1)"
found0=$(json_num "$(kad_json m)" sources_found)
mcli "$T/m" add "$link_a" >/dev/null 2>&1
m_found_a() {
  [ "$(json_num "$(kad_json m)" sources_found)" -gt "${found0:-0}" ] 2>/dev/null &&
    grep -qE "Kad: [0-9]+ source\(s\) for $KA data.bin: [1-9]" "$T/m/muleteerd.log"
}
if eventually 120 m_found_a; then
  ok "M's Kad source search for the hash finds amuled A"
else
  not_ok "M's Kad source search for the hash finds amuled A"; diag "$(kad_json m)" "$(grep 'Kad: .*source' "$T/m/muleteerd.log" | tail -n 5)"
fi
complete_a() { [ -f "$T/m/incoming/$KA data.bin" ]; }
if eventually 180 complete_a; then
  ok "M downloads amuled A's file from Kad-found sources only"
else
  not_ok "M downloads amuled A's file from Kad-found sources only"; diag "$(mcli "$T/m" downloads)"
fi
check "the file from A is identical" cmp -s "$T/m/incoming/$KA data.bin" "$T/a/Incoming/$KA data.bin"

# 4. nodes.dat: M saves its contacts on exit (version 2, 34-byte entries).
kill -TERM "${MULE_PID[m]}"
timeout 30 tail --pid="${MULE_PID[m]}" -f /dev/null
wait "${MULE_PID[m]}" 2>/dev/null
size=$(stat -c %s "$T/m/nodes.dat" 2>/dev/null || echo 0)
check "M saved nodes.dat with its contacts" test "$size" -ge $((12 + 34 * 2))
check "nodes.dat is version 2" test "$(od -An -tu4 -N8 "$T/m/nodes.dat" | tr -s ' ')" = " 0 2"
check "M kept its Kad id" test "$(tr -d '\n' <"$T/m/kad_id")" = "$M_ID"

# 5. A new Muleteer P joins from M's saved nodes.dat (muleteer kad import).
check "muleteerd P starts in its namespace" mule_kad_start p
out=$(mcli "$T/p" kad import "$T/m/nodes.dat" 2>&1)
check "muleteer kad import adds the file's contacts" grep -qE '^[1-9][0-9]* new contact' <<<"$out"
if eventually 60 kad_connected p; then
  ok "P connects to Kad through the imported contacts"
else
  not_ok "P connects to Kad through the imported contacts"; diag "$out" "$(kad_json p)"
fi
finish
