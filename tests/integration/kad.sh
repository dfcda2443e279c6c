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
# Muleteer P joins through that file (muleteer kad import). TAP.
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

# amule_kad_start NAME: amuled with Kad on, in namespace $NS-NAME, in
# $T/NAME (a nodes.dat there is its bootstrap list). Ports are the same in
# every namespace: TCP 4662, UDP 4672, EC 4712 (on the namespace's loopback).
amule_kad_start() {
  local n=$1 d=$T/$1
  mkdir -p "$d/Incoming" "$d/Temp"
  cat >"$d/amule.conf" <<EOC
[eMule]
Nick=mt-kad-$n
Port=4662
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
kad_connected() { [ "$(kad_state "$1")" = connected ]; }
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

for n in a:1 m:2 n:3 b:4 p:5; do
  if ! node_ns "${n%%:*}" "${n##*:}"; then
    not_ok "namespace ${n%%:*} is set up"; finish; exit 1
  fi
done

check "muleteerd M starts in its namespace" mule_kad_start m
check "muleteerd N starts in its namespace" mule_kad_start n
check "amuled A starts with Kad on" amule_kad_start a
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
check "M says connected" test "$(kad_state m)" = connected
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
