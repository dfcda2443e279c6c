#!/usr/bin/env bash
# portmap.sh: port forwarding against a real IGD. Three network namespaces
# this test creates and deletes, pass or fail: a LAN one where muleteerd
# runs (192.168.77.2), a router one where Debian's miniupnpd (nftables
# backend, UPnP IGD and NAT-PMP) forwards between the LAN and the WAN, and
# a WAN one (11.77.0.2; miniupnpd refuses to map behind a private or
# reserved external address, and these namespaces reach nothing else).
# Muleteer maps its TCP and UDP ports with UPnP, then NAT-PMP, then auto
# against a router without UPnP: status (and daemon_status, in a private
# PostgreSQL cluster) shows the mapping, miniupnpd's lease file and nftables
# hold it, a TCP connection from the WAN to the router's address reaches
# muleteerd, and the mappings are gone after the daemon stops. Without a
# router, status says why and when it retries. config-set switches the
# method and turns it off while the daemon runs. TAP.
# shellcheck disable=SC2016 # the checks are eval'd on purpose
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/mule.sh"

NS=mtpm$$
NS_LIST=()
ns_cleanup() {
  cleanup
  local n
  for n in "${NS_LIST[@]}"; do ip netns del "$n" 2>/dev/null || true; done
}
trap ns_cleanup EXIT

for c in miniupnpd nft; do
  if ! command -v "$c" >/dev/null && [ ! -x "/usr/sbin/$c" ]; then
    echo "1..0 # SKIP $c is not installed (miniupnpd-nftables, nftables)"; exit 0
  fi
done
MINIUPNPD=$(command -v miniupnpd || echo /usr/sbin/miniupnpd)
NFT=$(command -v nft || echo /usr/sbin/nft)
if ! ip netns add "$NS-lan" 2>/dev/null; then
  echo "1..0 # SKIP cannot create network namespaces here (needs root or CAP_NET_ADMIN)"; exit 0
fi
NS_LIST+=("$NS-lan")
for n in rtr wan; do
  ip netns add "$NS-$n" || { echo "1..0 # SKIP cannot create network namespaces"; exit 0; }
  NS_LIST+=("$NS-$n")
done
for n in lan rtr wan; do ip -n "$NS-$n" link set lo up; done
ip -n "$NS-lan" link add eth0 type veth peer name lan0 netns "$NS-rtr"
ip -n "$NS-wan" link add eth0 type veth peer name wan0 netns "$NS-rtr"
ip -n "$NS-lan" addr add 192.168.77.2/24 dev eth0
ip -n "$NS-lan" link set eth0 up
ip -n "$NS-lan" route add default via 192.168.77.1
ip -n "$NS-rtr" addr add 192.168.77.1/24 dev lan0
ip -n "$NS-rtr" addr add 11.77.0.1/24 dev wan0
ip -n "$NS-rtr" link set lan0 up
ip -n "$NS-rtr" link set wan0 up
ip -n "$NS-wan" addr add 11.77.0.2/24 dev eth0
ip -n "$NS-wan" link set eth0 up
ip netns exec "$NS-rtr" sysctl -qw net.ipv4.ip_forward=1
# The router's firewall: what miniupnpd's nft_init.sh sets up (its default
# table and chains), with the LAN masqueraded.
ip netns exec "$NS-rtr" "$NFT" -f - <<'EON'
table inet filter {
  chain forward {
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    iifname "lan0" accept
    jump miniupnpd
  }
  chain miniupnpd { }
  chain prerouting {
    type nat hook prerouting priority -100; policy accept;
    jump prerouting_miniupnpd
  }
  chain postrouting {
    type nat hook postrouting priority 100; policy accept;
    oifname "wan0" masquerade
    jump postrouting_miniupnpd
  }
  chain prerouting_miniupnpd { }
  chain postrouting_miniupnpd { }
}
EON

mk_tmpdir PG
private_pg "$PG"
mk_tmpdir T
LEASES=$T/upnp.leases
IGD_PID=

# igd_start UPNP(yes|no): miniupnpd in the router namespace, in the
# foreground of its own session (-d), NAT-PMP always on.
igd_start() {
  cat >"$T/miniupnpd.conf" <<EOC
ext_ifname=wan0
listening_ip=lan0
port=0
enable_upnp=$1
enable_natpmp=yes
secure_mode=yes
lease_file=$LEASES
uuid=6d1a0f3e-2b7c-4e5d-9a8b-1c2d3e4f5a6b
allow 1024-65535 192.168.77.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
EOC
  ip netns exec "$NS-rtr" setsid "$MINIUPNPD" -f "$T/miniupnpd.conf" -d -P "$T/miniupnpd.pid" \
    >>"$T/miniupnpd.log" 2>&1 </dev/null &
  IGD_PID=$!
  CLEANUP_PIDS+=("$IGD_PID")
  eventually 10 grep -q 'Listening for NAT-PMP' "$T/miniupnpd.log"
}
igd_stop() {
  kill -TERM "$IGD_PID" 2>/dev/null
  local i
  for i in $(seq 1 50); do kill -0 "$IGD_PID" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$IGD_PID" 2>/dev/null
}

# mule_up NAME METHOD: muleteerd in the LAN namespace, TCP 4662, UDP 4663,
# writing its status into the private cluster as node pm-NAME.
mule_up() {
  MULE_DATABASE=$DB MULE_WRAP="ip netns exec $NS-lan" start_mule "$1" "$T/$1" 4662 \
    "server_autoconnect = no" "kad = no" "node_name = pm-$1" "status_interval = 1" \
    "port_forwarding = $2" "port_forwarding_lease = 600"
}
PSQL() { as_service_user psql "$DB" -XAtq -c "$1" 2>/dev/null; }
# db_pf NAME: the node's port forwarding columns in daemon_status.
db_pf() {
  PSQL "SELECT port_forwarding, coalesce(port_forwarding_method, '-'),
               coalesce(port_forwarding_address, '-'), coalesce(port_forwarding_error, '-')
        FROM daemon_status WHERE node = 'pm-$1'"
}
db_pf_is() { [ "$(db_pf "$1" | cut -d'|' -f1-3)" = "$2" ]; }
# mule_down NAME: SIGTERM, and the daemon's exit awaited (10 s at most).
mule_down() {
  local p=${MULE_PID[$1]} i
  kill -TERM "$p" 2>/dev/null
  for i in $(seq 1 100); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
  return 1
}
pf_json() { mcli "$T/$1" --json status 2>/dev/null | jq -c '.port_forwarding'; }
pf_is() { # NAME STATE [METHOD]
  local j; j=$(pf_json "$1")
  [ "$(jq -r .state <<<"$j")" = "$2" ] && { [ -z "${3:-}" ] || [ "$(jq -r .method <<<"$j")" = "$3" ]; }
}
# leased PROTO PORT: miniupnpd's lease file holds PROTO:PORT:192.168.77.2:PORT.
leased() { grep -q "^$1:$2:192.168.77.2:$2:" "$LEASES" 2>/dev/null; }
# dnat PORT: the router's prerouting chain sends PORT to the LAN address.
dnat() {
  ip netns exec "$NS-rtr" "$NFT" list chain inet filter prerouting_miniupnpd 2>/dev/null |
    grep -q "dport $1 dnat ip to 192.168.77.2:$1"
}
no_dnat() { ! dnat 4662 && ! dnat 4663; }
# wan_connect NAME: a TCP connection from the WAN to the router's 4662 is
# accepted, and daemon NAME logs it as an incoming peer from the WAN.
wan_connect() {
  ip netns exec "$NS-wan" timeout 5 bash -c 'exec 3<>/dev/tcp/11.77.0.1/4662' 2>/dev/null &&
    eventually 5 grep -q '(11.77.0.2:0): incoming connection' "$T/$1/muleteerd.log"
}

if ! igd_start yes; then
  diag "miniupnpd did not start:" "$(tail -n 5 "$T/miniupnpd.log")"
  not_ok "miniupnpd runs as the router"; finish; exit
fi

# -------------------------------------------------------------- UPnP IGD
if mule_up u upnp && eventually 20 pf_is u mapped upnp; then
  ok "UPnP: status says mapped by upnp"
else
  not_ok "UPnP: status says mapped by upnp"; diag "$(pf_json u)" "$(tail -n 5 "$T/miniupnpd.log")"
fi
j=$(pf_json u)
check "UPnP: status gives the router's external address and both ports" \
  test "$(jq -r '.external_ip, (.ports | map("\(.protocol) \(.port) \(.external_port)") | join(","))' <<<"$j" | tr '\n' ' ')" \
  = "11.77.0.1 tcp 4662 4662,udp 4663 4663 "
check "UPnP: the lease asked for is granted and renewed at half of it" \
  test "$(jq -r '.lease' <<<"$j")" = 600 -a "$(jq -r '.next_in' <<<"$j")" -le 300 -a "$(jq -r '.next_in' <<<"$j")" -ge 290
check "UPnP: miniupnpd's lease file holds TCP 4662 and UDP 4663 to Muleteer, named Muleteer" \
  eval 'leased TCP 4662 && leased UDP 4663 && grep -q "^TCP:4662:.*:Muleteer$" "$LEASES"'
check "UPnP: the router forwards both ports (nftables)" eval 'dnat 4662 && dnat 4663'
check "UPnP: a TCP connection from the WAN to 11.77.0.1:4662 reaches muleteerd" wan_connect u
check "UPnP: muleteer status prints the mapping" \
  eval 'mcli "$T/u" status | grep -q "^port forwarding: mapped by upnp on 11.77.0.1: TCP 4662, UDP 4663 (lease 600 s)"'
check "UPnP: daemon_status has the state, the method and the address" \
  eventually 10 db_pf_is u "mapped|upnp|11.77.0.1"
# ------------------------------------------ changed while the daemon runs
setpf() { mcli "$T/u" --json call config-set "{\"port_forwarding\": \"$1\"}" >/dev/null 2>&1; }
check "config-set port_forwarding natpmp: the UPnP mappings go, NAT-PMP maps" \
  eval 'setpf natpmp && eventually 20 pf_is u mapped natpmp && grep -q "upnp mappings removed" "$T/u/muleteerd.log" && dnat 4662'
bad=$(mcli "$T/u" --json call config-set '{"port_forwarding": "pcp"}' 2>&1)
check "config-set refuses an unknown method" grep -q 'expected off, upnp, natpmp or auto' <<<"$bad"
check "config-set port_forwarding off: the mappings are removed" \
  eval 'setpf off && eventually 10 pf_is u off && ! leased TCP 4662 && ! leased UDP 4663 && no_dnat'
check "config-set port_forwarding upnp: mapped again" \
  eval 'setpf upnp && eventually 20 pf_is u mapped upnp && dnat 4662 && grep -q "^port_forwarding = upnp" "$T/u/muleteer.conf"'
check "UPnP: muleteerd stops" mule_down u
check "UPnP: the mappings are removed at stop" \
  eval '! leased TCP 4662 && ! leased UDP 4663 && no_dnat'
check "UPnP: the daemon's last daemon_status row says off" db_pf_is u "off|-|-"

# -------------------------------------------------------------- NAT-PMP
if mule_up n natpmp && eventually 20 pf_is n mapped natpmp; then
  ok "NAT-PMP: status says mapped by natpmp"
else
  not_ok "NAT-PMP: status says mapped by natpmp"; diag "$(pf_json n)"
fi
j=$(pf_json n)
check "NAT-PMP: status gives the public address and both ports" \
  test "$(jq -r '.external_ip, (.ports | map("\(.protocol) \(.external_port)") | join(","))' <<<"$j" | tr '\n' ' ')" \
  = "11.77.0.1 tcp 4662,udp 4663 "
check "NAT-PMP: the router forwards both ports" eval 'dnat 4662 && dnat 4663 && leased TCP 4662 && leased UDP 4663'
check "NAT-PMP: a TCP connection from the WAN reaches muleteerd" wan_connect n
check "NAT-PMP: muleteerd stops" mule_down n
check "NAT-PMP: the mappings are removed at stop" eval '! leased TCP 4662 && ! leased UDP 4663 && no_dnat'

# -------------------------------------- auto, on a router without UPnP
igd_stop
if igd_start no && mule_up a auto && eventually 30 pf_is a mapped natpmp; then
  ok "auto: UPnP finds no IGD, NAT-PMP maps"
else
  not_ok "auto: UPnP finds no IGD, NAT-PMP maps"; diag "$(pf_json a)"
fi
check "auto: the forwarding works" eval 'dnat 4662 && wan_connect a'
check "auto: muleteerd stops" mule_down a
check "auto: the mappings are removed at stop" no_dnat

# ---------------------------------------------------- no router at all
igd_stop
if mule_up x auto && eventually 40 pf_is x retrying; then
  ok "no router: status says retrying"
else
  not_ok "no router: status says retrying"
fi
j=$(pf_json x)
check "no router: the last error names the method and the retry is scheduled" \
  eval '[ "$(jq -r .error <<<"$j")" != null ] && jq -r .error <<<"$j" | grep -q "^natpmp: " && [ "$(jq -r .next_in <<<"$j")" -le 15 ]'
diag "no router: $(jq -r .error <<<"$j")"
check "no router: daemon_status has the state and the last error" \
  eval 'eventually 10 db_pf_is x "retrying|-|-" && db_pf x | cut -d"|" -f4 | grep -q "^natpmp: "'
check "no router: muleteerd stops at once" mule_down x

finish
