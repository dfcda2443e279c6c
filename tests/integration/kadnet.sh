# kadnet.sh: a private network for many Kad nodes, sourced by kad_multi.sh
# and bench/bench_kad.sh. Each node runs in a network namespace of its own
# with one address, 100.64.H.L/16 (H.L its number: H = N / 200, L = N % 200
# + 1), on a veth to a bridge in one more namespace. Why not plain loopback:
# muleteerd binds no address, so on 127/8 every node is 127.0.0.1 to the
# others, and Kad's limits per source address (30 datagrams a second, one
# large answer per 10 s to an unverified address; kad.c flooded(),
# may_answer_big()) would throttle the whole network as if it were one
# peer. 100.64/10 is reserved: with filter_lan = no, Kad takes it as it
# takes LAN addresses (no /24 caps, no search tolerance).
# kadnet_pin saves the nodes from ARP: with 50 namespaces resolving each
# other on a loaded two-core machine, the kernel held datagrams for seconds
# (a third of bench_kad.sh's lookups timed out; none once pinned).
#   kadnet_up PREFIX            the bridge namespace PREFIX-br
#   kadnet_node NAME N          namespace PREFIX-NAME, address kadnet_ip N
#   kadnet_ip N                 prints node N's address
#   kadnet_pin NAME:N...        gives each listed node a permanent neighbour
#                               entry for every other (no ARP between them)
#   kadnet_down                 deletes every namespace made (by name)
# Needs root (or CAP_NET_ADMIN) and iproute2; kadnet_up fails without.

KADNET_PREFIX=
KADNET_LIST=()

kadnet_up() {
  KADNET_PREFIX=$1
  ip netns add "$1-br" 2>/dev/null || return 1
  KADNET_LIST+=("$1-br")
  ip -n "$1-br" link set lo up &&
    ip -n "$1-br" link add br0 type bridge &&
    ip -n "$1-br" link set br0 up
}

kadnet_ip() { echo "100.64.$(($1 / 200)).$(($1 % 200 + 1))"; }

kadnet_node() {
  local ns=$KADNET_PREFIX-$1
  ip netns add "$ns" || return 1
  KADNET_LIST+=("$ns")
  ip -n "$ns" link set lo up &&
    ip -n "$ns" link add eth0 type veth peer name "v$1" netns "$KADNET_PREFIX-br" &&
    ip -n "$ns" addr add "$(kadnet_ip "$2")/16" dev eth0 &&
    ip -n "$ns" link set eth0 up &&
    ip -n "$KADNET_PREFIX-br" link set "v$1" master br0 &&
    ip -n "$KADNET_PREFIX-br" link set "v$1" up
}

kadnet_pin() {
  local spec name n mac batch
  declare -A macs=()
  for spec in "$@"; do
    name=${spec%%:*}
    macs[$spec]=$(ip -n "$KADNET_PREFIX-$name" -o link show eth0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
  done
  for spec in "$@"; do
    batch=
    for n in "$@"; do
      [ "$n" = "$spec" ] && continue
      batch+="neigh replace $(kadnet_ip "${n##*:}") lladdr ${macs[$n]} dev eth0 nud permanent"$'\n'
    done
    ip -n "$KADNET_PREFIX-${spec%%:*}" -batch - <<<"$batch" || return 1
  done
}

kadnet_down() {
  local n
  for n in "${KADNET_LIST[@]}"; do ip netns del "$n" 2>/dev/null || true; done
  KADNET_LIST=()
}
