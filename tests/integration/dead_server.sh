#!/usr/bin/env bash
# dead_server.sh: a server connection that dies silently -- the route to
# the server goes away, no FIN, no RST -- is noticed within
# server_dead_timeout, and Muleteer moves on to the next server. Muleteer
# and a near server fixture run in one network namespace, a far fixture in
# another, joined by a veth pair with 10.213.7.0/24 addresses; the test
# creates both namespaces and deletes them at the end (nothing touches the
# machine's own interfaces). Needs root for `ip netns`. TAP output.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/mule.sh"

NSM=mt-dead-m$$   # Muleteer and the near server
NSF=mt-dead-f$$   # the far server
remove_ns() { ip netns del "$NSM" 2>/dev/null; ip netns del "$NSF" 2>/dev/null; true; }
trap 'cleanup; remove_ns' EXIT
# nsx NS CMD...: CMD in namespace NS. nsenter only switches the network
# namespace (`ip netns exec` and `ip -n` also remount /sys, which fails in
# a chroot).
# (Background services are started with nsenter itself, so that $! is
# their PID.)
nsx() { local ns=$1; shift; nsenter --no-fork --net="/run/netns/$ns" "$@"; }

if [ "$(id -u)" != 0 ] || ! ip netns add "$NSM" 2>/dev/null || ! nsx "$NSM" true 2>/dev/null; then
  echo "1..0 # SKIP network namespaces need root"
  exit 0
fi
ip netns add "$NSF"
ip link add "vm$$" type veth peer name "vf$$"
ip link set "vm$$" netns "$NSM"
ip link set "vf$$" netns "$NSF"
nsx "$NSM" ip addr add 10.213.7.1/24 dev "vm$$"
nsx "$NSF" ip addr add 10.213.7.2/24 dev "vf$$"
for ns in "$NSM" "$NSF"; do nsx "$ns" ip link set lo up; done
nsx "$NSM" ip link set "vm$$" up
nsx "$NSF" ip link set "vf$$" up
check "the namespaces and their link are up" eval \
  'nsx "$NSM" ip -br addr show "vm$$" | grep -q "10.213.7.1/24" && nsx "$NSF" ip -br link show "vf$$" | grep -q UP'

mk_tmpdir T
FIX="$MT_BUILDDIR/tests/fixtures/ed2k_server"
FARP=$(free_port); NEARP=$(free_port); MP=$(free_port)
nsenter --no-fork --net="/run/netns/$NSF" "$FIX" --port "$FARP" --bind 10.213.7.2 --name far --highid-all --log "$T/far.log" &
CLEANUP_PIDS+=("$!")
nsenter --no-fork --net="/run/netns/$NSM" "$FIX" --port "$NEARP" --name near --highid-all --log "$T/near.log" &
CLEANUP_PIDS+=("$!")
for f in far near; do
  eventually 10 grep -qs listening "$T/$f.log" || { not_ok "fixture $f starts"; finish; exit 1; }
done

# Muleteer in its namespace; its control socket is a file, reachable from here.
mkdir -p "$T/m"
cat >"$T/m/muleteer.conf" <<EOF
state_dir = $T/m
database = host=$T/m/no-database dbname=none
log_file = $T/m/muleteerd.log
log_level = debug
tcp_port = $MP
udp_port = $((MP + 1))
filter_lan = no
server_autoconnect = no
server_keepalive = 2
kad_nodes_url =
server_dead_timeout = 6
server_max_failures = 0
servers = 127.0.0.1:$NEARP
EOF
nsenter --no-fork --net="/run/netns/$NSM" setsid "$MT_BUILDDIR/bin/muleteerd" -c "$T/m/muleteer.conf" 2>>"$T/m/stderr" &
MPID=$!
CLEANUP_PIDS+=("$MPID")
check "Muleteer starts in its namespace" eventually 20 mcli "$T/m" ping

mcli "$T/m" servers add "10.213.7.2:$FARP" --priority high >/dev/null
mcli "$T/m" connect >/dev/null
on() { mcli "$T/m" --json server | tr -d '\n ' | grep -q "\"state\":\"connected\".*\"port\":$1\|\"port\":$1.*\"state\":\"connected\""; }
check "automatic mode picks the far server first (high priority)" eventually 20 on "$FARP"

# The far side goes away under the connection. A permanent neighbour
# entry keeps the kernel from answering "no route to host" once ARP fails:
# the packets just vanish, as behind a router that lost the server.
mac=$(nsx "$NSF" ip -br link show "vf$$" | awk '{ print $3 }')
nsx "$NSM" ip neigh replace 10.213.7.2 lladdr "$mac" dev "vm$$" nud permanent
nsx "$NSF" ip link set "vf$$" down
t0=$(date +%s)
check "the silent dead connection is noticed and Muleteer moves to the near server" eventually 40 on "$NEARP"
took=$(( $(date +%s) - t0 ))
diag "noticed and reconnected after ${took}s (server_keepalive 2 s, server_dead_timeout 6 s)"
check "it took about server_dead_timeout, not TCP's default of many minutes" [ "$took" -le 30 ]
check "the log says why the far server was dropped: a timeout" \
  grep -qE "server 10.213.7.2:$FARP: Connection timed out" "$T/m/muleteerd.log"

kill -TERM "$MPID"; wait "$MPID"; rc=$?
check "Muleteer stops cleanly" [ "$rc" = 0 ]
bad=$(grep -lE 'AddressSanitizer|LeakSanitizer|runtime error:' "$T/m/stderr" 2>/dev/null || true)
check "no sanitizer reports" [ -z "$bad" ]
remove_ns
check "the namespaces are gone" eval '! ip netns list | grep -q "mt-dead-[mf]$$"'
finish
