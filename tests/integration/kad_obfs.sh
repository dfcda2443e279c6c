#!/usr/bin/env bash
# kad_obfs.sh: Kad UDP obfuscation (ed2k-protocol.md §9.4) between
# Muleteer and real amuled 2.3.3, with obfuscation on (aMule's
# IsClientCryptLayerSupported/IsCryptLayerRequested). As kad.sh, every node
# runs in a network namespace this test creates (a bridge namespace, one
# veth and one 100.64.N.1 address per node) and deletes at the end. A
# sniffer on M's port of the bridge (a packet socket, in the bridge
# namespace) records every UDP datagram to and from Muleteer M. M
# bootstraps from amuled A and verifies it; A connects to Kad through M;
# Muleteer N, which knows only A, is handed M by A's answer to its lookup
# and verifies M. On the wire, every Kad datagram between M and A or N is
# obfuscated except M's plain bootstrap requests (a node known by address
# only) and A's answers to them (aMule answers a plain request plain),
# and both sides read each other: M's kad status counts the
# obfuscated datagrams in and out. TAP.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/mule.sh"

NS=mtkob$$
NS_LIST=()
SNIFF_PID=
ns_cleanup() {
  [ -n "$SNIFF_PID" ] && kill "$SNIFF_PID" 2>/dev/null
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

# node_ns NAME N: namespace $NS-NAME with 100.64.N.1/16 on a veth whose
# other end, v-NAME, is a port of the bridge.
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

# amule_kad_start NAME: amuled with Kad and obfuscation on, in namespace
# $NS-NAME (TCP 4662, UDP 4672, EC 4712 on the namespace's loopback).
amule_kad_start() {
  local n=$1 d=$T/$1
  mkdir -p "$d/Incoming" "$d/Temp"
  cat >"$d/amule.conf" <<EOC
[eMule]
Nick=mt-kob-$n
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
[Obfuscation]
IsClientCryptLayerSupported=1
IsCryptLayerRequested=1
IsClientCryptLayerRequired=0
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
amule_kad_status() {
  ip netns exec "$NS-$1" timeout 20 amulecmd -h 127.0.0.1 -p 4712 -P "$AMULE_PASSWORD" \
    -c status 2>/dev/null | grep 'Kad:'
}
amule_kad_connected() { amule_kad_status "$1" | grep -q 'Kad: Connected'; }

mule_kad_start() {
  MULE_WRAP="ip netns exec $NS-$1" start_mule "$1" "$T/$1" 4662 "server_autoconnect = no" \
    "obfuscation_support = yes" "obfuscation_request = yes"
}
kad_json() { mcli "$T/$1" --json kad status --contacts 2>/dev/null; }
kad_id() { kad_json "$1" | sed -n 's/.*"id": *"\([0-9a-f]\{32\}\)".*/\1/p' | head -n 1; }
has_contact() {
  local j; j=$(kad_json "$1" | tr -d '\n ')
  grep -qE "\{[^}]*$2[^}]*\"verified\":true" <<<"$j"
}

for n in a:1 m:2 n:3; do
  if ! node_ns "${n%%:*}" "${n##*:}"; then
    not_ok "namespace ${n%%:*} is set up"; finish; exit 1
  fi
done

# The sniffer: one line per UDP datagram seen on M's bridge port,
# "SRC:SPORT DST:DPORT FIRST-BYTE SECOND-BYTE" in hex, for at most 300 s.
ip netns exec "$NS-br" timeout 300 python3 -u - vm >"$T/wire.txt" 2>"$T/sniff.err" <<'EOP' &
import socket, struct, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
s.bind((sys.argv[1], 0))
while True:
    f = s.recv(65535)
    if len(f) < 14 + 20 + 8 + 2 or f[12:14] != b"\x08\x00" or f[14 + 9] != 17:
        continue
    ihl = (f[14] & 15) * 4
    u = 14 + ihl
    sport, dport = struct.unpack("!HH", f[u:u + 4])
    p = f[u + 8:]
    if len(p) < 2:
        continue
    print("%s:%d %s:%d %02x %02x" % (socket.inet_ntoa(f[26:30]), sport, socket.inet_ntoa(f[30:34]),
                                     dport, p[0], p[1]))
EOP
SNIFF_PID=$!
sleep 1
check "the sniffer runs on M's bridge port" kill -0 "$SNIFF_PID"

check "muleteerd M starts (obfuscation on)" mule_kad_start m
check "muleteerd N starts (obfuscation on)" mule_kad_start n
check "amuled A starts with Kad and obfuscation on" amule_kad_start a
M_ID=$(kad_id m)

# 1. M bootstraps from A and verifies it; A connects through M.
mcli "$T/m" kad bootstrap 100.64.1.1:4672 >/dev/null 2>&1
if eventually 60 has_contact m 100.64.1.1; then
  ok "M holds amuled A as a verified contact"
else
  not_ok "M holds amuled A as a verified contact"; diag "$(kad_json m)"
fi
if eventually 60 amule_kad_connected a; then
  ok "amuled A connects to Kad through M alone"
else
  not_ok "amuled A connects to Kad through M alone"; diag "$(amule_kad_status a)"
fi

# 2. N, which knows only A, is handed M by A and verifies it.
mcli "$T/n" kad bootstrap 100.64.1.1:4672 >/dev/null 2>&1
if eventually 60 has_contact n "$M_ID"; then
  ok "amuled A hands M's contact to N, and N verifies it"
else
  not_ok "amuled A hands M's contact to N, and N verifies it"; diag "$(kad_json n)"
fi
check "M learns N through N's hello" eventually 30 has_contact m 100.64.3.1

# 3. The wire and the counters.
sleep 2
M=100.64.2.1:4663
A=100.64.1.1:4672
NN=100.64.3.1:4663
kad_plain() { grep -E "^$1 $2 (e4|e5) " "$T/wire.txt"; }
kad_all() { grep -E "^$1 $2 " "$T/wire.txt"; }
diag "datagrams M->A $(kad_all $M $A | wc -l), A->M $(kad_all $A $M | wc -l), M->N $(kad_all $M $NN | wc -l), N->M $(kad_all $NN $M | wc -l)"
check "M sent A obfuscated datagrams" test "$(kad_all $M $A | wc -l)" -gt "$(kad_plain $M $A | wc -l)"
check "M sent A nothing plain but bootstrap requests" \
  test -z "$(kad_plain $M $A | grep -v ' e4 01$')"
check "amuled A sent M obfuscated datagrams" test "$(kad_all $A $M | wc -l)" -gt "$(kad_plain $A $M | wc -l)"
# (and KADEMLIA_FIREWALLED_ACK_RES, 0x59: aMule sends that ack of a
# firewall check's connect-back with no key, plain, whenever it sends it)
check "amuled A sent M nothing plain but its answer to the plain bootstrap request" \
  test -z "$(kad_plain $A $M | grep -vE ' e[45] (09|59)$')"
diag "plain: $(kad_plain '[0-9.:]*' '[0-9.:]*' | tr '\n' ';')"
check "M and N exchanged obfuscated datagrams only" \
  eval 'test "$(kad_all $M $NN | wc -l)" -gt 0 && test "$(kad_all $NN $M | wc -l)" -gt 0 &&
        test -z "$(kad_plain $M $NN)$(kad_plain $NN $M)"'
j=$(kad_json m)
diag "M: obfuscated in $(json_num "$j" obfuscated_in), out $(json_num "$j" obfuscated_out), malformed $(json_num "$j" malformed)"
check "M counts obfuscated datagrams in" test "$(json_num "$j" obfuscated_in)" -gt 0
check "M counts obfuscated datagrams out" test "$(json_num "$j" obfuscated_out)" -gt 0
check "M found no obfuscated datagram it could not read" test "$(json_num "$j" malformed)" = 0

finish
