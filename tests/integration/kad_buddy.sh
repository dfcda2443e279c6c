#!/usr/bin/env bash
# kad_buddy.sh: Kad buddies between Muleteer nodes, each in a network
# namespace this test creates (the pattern of kad.sh) and deletes at the
# end. O and X are open; F drops incoming TCP SYNs to its port (nftables in
# its namespace), so its firewall check finds it firewalled. F then looks
# for a buddy (FINDBUDDY_REQ to the nodes closest to its id's complement),
# an open node answers, F connects to it and both say so in kad status.
# Until its check is over F may not connect out on TCP either: a node
# whose check of F came after F connected to it would otherwise answer
# over F's own connection (firewall.c reuses a ready connection). Y is a
# third open node, so that O and X each get two connect-backs. F connects
# out only once its check's requests have expired, for the same reason
# (a pending connect-back is acked over the first connection from F).
# TAP.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/mule.sh"

NS=mtkbd$$
NS_LIST=()
ns_cleanup() {
  cleanup
  local n
  for n in "${NS_LIST[@]}"; do ip netns del "$n" 2>/dev/null || true; done
}
trap ns_cleanup EXIT

NFT=$(command -v nft || echo /usr/sbin/nft)
if [ ! -x "$NFT" ]; then
  echo "1..0 # SKIP nft is not installed"; exit 0
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
    ip -n "$ns" link add eth0 type veth peer name "bd$1" netns "$NS-br" &&
    ip -n "$ns" addr add "100.64.$2.1/16" dev eth0 &&
    ip -n "$ns" link set eth0 up &&
    ip -n "$NS-br" link set "bd$1" master br0 &&
    ip -n "$NS-br" link set "bd$1" up
}

mk_tmpdir T
mule_kad_start() {
  MULE_WRAP="ip netns exec $NS-$1" start_mule "$1" "$T/$1" 4662 "server_autoconnect = no"
}
kad_json() { mcli "$T/$1" --json kad status 2>/dev/null | tr -d ' \n'; }
kad_state_is() { kad_json "$1" | grep -q "\"state\":\"connected($2)\""; }
buddy_is() { kad_json "$1" | grep -q "\"buddy\":{\"state\":\"connected\",\"role\":\"$2\""; }

for n in o:1 x:2 y:4 f:3; do
  if ! node_ns "${n%%:*}" "${n##*:}"; then
    not_ok "namespace ${n%%:*} is set up"; finish; exit 1
  fi
done
# F: incoming connections to its TCP port dropped (outgoing ones work).
if ip netns exec "$NS-f" "$NFT" -f - <<'EON'
table inet mtbuddy {
  chain input {
    type filter hook input priority 0; policy accept;
    tcp dport 4662 tcp flags & (syn | ack) == syn drop
  }
}
EON
then ok "F's namespace drops incoming TCP SYNs to 4662"
else not_ok "F's namespace drops incoming TCP SYNs to 4662"; finish; exit 1
fi
check "muleteerd O starts" mule_kad_start o
check "muleteerd X starts" mule_kad_start x
check "muleteerd Y starts" mule_kad_start y
check "muleteerd F starts" mule_kad_start f
for n in x y f; do mcli "$T/$n" kad bootstrap 100.64.1.1:4663 >/dev/null 2>&1; done
sleep 5
for n in o y f; do mcli "$T/$n" kad bootstrap 100.64.2.1:4663 >/dev/null 2>&1; done
for n in o x f; do mcli "$T/$n" kad bootstrap 100.64.4.1:4663 >/dev/null 2>&1; done

# Two open nodes are enough for F (a node that asked F first may still
# want a second connect-back: firewall.c counts one per address and round).
two_open() {
  local n c=0
  for n in o x y; do kad_state_is "$n" open && c=$((c + 1)); done
  [ "$c" -ge 2 ]
}
if eventually 120 two_open; then
  ok "two of O, X, Y say connected (open)"
else
  not_ok "two of O, X, Y say connected (open)"; diag "$(kad_json o)" "$(kad_json x)" "$(kad_json y)"
fi
if eventually 120 kad_state_is f firewalled; then
  ok "F says connected (firewalled)"
else
  not_ok "F says connected (firewalled)"; diag "$(kad_json f)"
fi
checked() { kad_json f | grep -q '"firewall_checks_answered":[1-9]'; }
check "F has answered others' checks" eventually 60 checked
# F's check ran against open nodes that could not reach it: F stays
# firewalled even once it connects out (to its buddy): only a connection
# the checker opened counts (firewall.c)
if ! kad_state_is f firewalled; then
  not_ok "F is still firewalled once its check ran"
  diag "$(kad_json f | grep -o '"firewalled".*"udp_checks_answered":[0-9]*')" \
    "$(grep -iE 'firewall|connect-back|fwtcp' "$T/f/muleteerd.log" | tail -n 20)"
  finish; exit 1
fi
if eventually 300 buddy_is f ours; then
  ok "F has a buddy"
else
  not_ok "F has a buddy"; diag "$(kad_json f)"
fi
serving() { buddy_is o theirs || buddy_is x theirs || buddy_is y theirs; }
if eventually 30 serving; then
  ok "an open node is F's buddy"
else
  not_ok "an open node is F's buddy"; diag "$(kad_json o)" "$(kad_json x)" "$(kad_json y)"
fi
if kad_state_is f firewalled; then ok "F still says firewalled, its buddy connected"; else
  not_ok "F still says firewalled, its buddy connected"; diag "$(kad_json f)"
fi

finish
