#!/usr/bin/env bash
# bench_kad.sh: Muleteer's Kad in a network of NODES muleteerd (default 50),
# each in a network namespace of its own on one bridge (tests/integration/
# kadnet.sh: on plain 127/8 every node is 127.0.0.1 to the others, and
# Kad's limits per source address would throttle them as one peer). Prints:
#   - bootstrap: every node asks node 0; seconds until every node is
#     connected, and until the tables converge: each node knows at least 9
#     of the 10 nodes closest to its own id (Kademlia's invariant; a table
#     need not hold every node), or BENCH_CONVERGE seconds (default 240)
#     pass; what share of all the other nodes the tables hold is printed
#     too; then BENCH_SETTLE seconds (default 60) more, for the contacts to
#     be verified (a node names only verified contacts in its answers)
#   - lookups: LOOKUPS node lookups (default 100, kad-lookup) for random
#     ids from the nodes in turn, one at a time: latency (median, p90, the
#     daemon's own clock from start to "no closer contact can turn up"),
#     KADEMLIA2_REQs sent per lookup (median, p90, mean; each answered
#     request is one KADEMLIA2_RES back), and how many of the K=10 nodes
#     truly closest to the target (XOR over all nodes' ids) each found.
#     Reference, computed in the same run: a lookup that must hear from the
#     K closest sends at least min(K, NODES-1) requests; Kademlia's bound,
#     log2(NODES) rounds of alpha=3 requests, is printed beside it. A
#     request unanswered for 3 s is a timeout and costs a lookup 3 to 4 s:
#     the nodes' neighbour (ARP) entries are pinned (kadnet_pin), because
#     with 50 namespaces resolving each other on a loaded two-core machine
#     the kernel held datagrams for seconds: a third of the lookups then
#     timed out, which measured ARP, not Kad (BENCH_PIN=0 shows it).
#   - memory per routing-table contact: one more node, alone (no
#     bootstrap), imports a nodes.dat of CONTACTS contacts (default 25000,
#     the 1 MiB import limit allows 30,000) spread over every distance from
#     its id (so that its table, which splits only near its id, keeps as
#     many as it can); its RSS before and after, and the contacts its table
#     took, are printed, and their ratio.
#   - memory per indexed publish: the same node is sent PUBLISHES keyword
#     publishes (default 15000; the index keeps at most 20,000 entries,
#     300 per keyword) by a script in another namespace, 10 files a
#     datagram, from 40 addresses (Kad allows 30 datagrams a second from
#     one); its RSS before and after and the entries indexed, and their
#     ratio.
# RSS is read from /proc/PID/status (VmRSS, KiB pages): read the counts
# beside it, and expect a few KiB of noise. amuled is not run: amulecmd
# cannot start a lookup for a given id nor count its packets, so there is
# no like-for-like reference to print.
#
#   bench/bench_kad.sh [NODES [LOOKUPS [CONTACTS [PUBLISHES]]]]
# Needs root (network namespaces), iproute2 and python3. Uses the build in
# MULETEER_BUILD (default ./build; configure one without sanitizers for
# figures that mean something). Bounded: every wait has a limit; at 50
# nodes a run takes about five minutes on two cores.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${MULETEER_BUILD:-$ROOT/build}
NODES=${1:-50}
LOOKUPS=${2:-100}
CONTACTS=${3:-25000}
PUBLISHES=${4:-15000}
CONVERGE=${BENCH_CONVERGE:-240}
SETTLE=${BENCH_SETTLE:-60}
. "$ROOT/bench/bench_lib.sh"
. "$ROOT/tests/integration/kadnet.sh"
KADNET="python3 $ROOT/tests/integration/kadnet.py"

[ "$(id -u)" = 0 ] || { echo "bench_kad.sh: needs root (network namespaces)" >&2; exit 1; }
bench_require ip python3
bench_require_build bin/muleteerd bin/muleteer
set +e # the waits below test and report
trap 'cleanup; kadnet_down' EXIT
NS=mtkb$$
kadnet_up "$NS" || { echo "bench_kad.sh: cannot create network namespaces" >&2; exit 1; }
mk_tmpdir T

# node_start NAME: muleteerd NAME in namespace $NS-NAME, TCP 4662, UDP 4663,
# Kad on, no server, no database, little logging.
node_start() {
  local n=$1 d=$T/$1
  mkdir -p "$d"
  cat >"$d/muleteer.conf" <<EOC
state_dir = $d
database = host=$d/no-database dbname=none
log_file = $d/muleteerd.log
log_level = warn
nickname = mule-$n
tcp_port = 4662
udp_port = 4663
filter_lan = no
rescan_interval = 0
server_autoconnect = no
EOC
  setsid ip netns exec "$NS-$n" "$BUILD/bin/muleteerd" -c "$d/muleteer.conf" \
    2>>"$d/stderr" </dev/null &
  MULE_PID[$n]=$!
  MULE_DIR[$n]=$d
  CLEANUP_PIDS+=("$!")
}
sock() { echo "$T/$1/run/muleteerd.sock"; }
up() { "$CLI" --socket "$(sock "$1")" ping >/dev/null 2>&1; }
kstat() { "$CLI" --socket "$(sock "$1")" --timeout 20 --json kad status 2>/dev/null; }
connected() { kstat "$1" | grep -q '"state": *"connected'; }

SOCKS=()
t0=$(now)
for ((i = 0; i < NODES; i++)); do
  kadnet_node "n$i" "$i" || { echo "bench_kad.sh: namespace n$i failed" >&2; exit 1; }
  node_start "n$i"
  SOCKS+=("$(sock "n$i")")
done
for ((i = 0; i < NODES; i++)); do
  eventually 60 up "n$i" || { echo "bench_kad.sh: muleteerd n$i did not start" >&2; exit 1; }
done
if [ "${BENCH_PIN:-1}" = 1 ]; then
  pins=(); for ((i = 0; i < NODES; i++)); do pins+=("n$i:$i"); done
  kadnet_pin "${pins[@]}" || exit 1
  echo "neighbours pinned: no ARP between the nodes"
fi
echo "nodes: $NODES muleteerd started in $(elapsed "$t0" "$(now)") s ($BUILD)"

# Bootstrap and convergence.
t0=$(now)
for ((i = 1; i < NODES; i++)); do
  "$CLI" --socket "$(sock "n$i")" kad bootstrap "$(kadnet_ip 0):4663" >/dev/null
done
all_connected() { local i; for ((i = 0; i < NODES; i++)); do connected "n$i" || return 1; done; }
if eventually 120 all_connected; then
  echo "bootstrap: every node connected after $(elapsed "$t0" "$(now)") s"
else
  echo "bootstrap: not every node connected within 120 s"; exit 1
fi
converged() {
  TABLES=$($KADNET tables "${SOCKS[@]}" 2>&1 | tail -n 1)
  awk '$1 == "min" { exit !($6 >= 0.9) }' <<<"$TABLES"
}
if eventually "$CONVERGE" converged; then
  echo "convergence: every node knows >= 9 of its 10 closest after $(elapsed "$t0" "$(now)") s" \
    "(share of the others held: $TABLES)"
else
  echo "convergence: not within $CONVERGE s; measuring anyway ($TABLES)"
fi
sleep "$SETTLE"
converged
echo "after $SETTLE s more: $TABLES"

# Lookups.
OUT=$($KADNET lookups "$LOOKUPS" "${SOCKS[@]}" 2>&1) || { echo "$OUT" | tail -n 5; exit 1; }
S=$(grep '^summary' <<<"$OUT")
f() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' <<<"$S"; }
echo "lookups: $(f lookups) for random ids: latency median $(f latency_ms_median) ms, p90" \
  "$(f latency_ms_p90) ms; KADEMLIA2_REQ per lookup median $(f requests_median), p90" \
  "$(f requests_p90), mean $(f requests_mean) (answers: as many less $(f timeouts_total)" \
  "timeouts in all, in $(f with_timeouts) lookups); found $(f closest_found_mean) of the 10 truly closest on average," \
  "the nearest itself in $(f nearest_found) lookups"
awk -v n="$NODES" 'BEGIN { k = n - 1 < 10 ? n - 1 : 10; l = log(n) / log(2);
  printf "reference: at least %d requests to hear from the K closest; Kademlia bound log2(%d) = %.1f rounds, x alpha 3 = %.0f requests\n", k, n, l, 3 * l }'

# Memory per routing-table contact: one more node, alone.
M=n$NODES
kadnet_node "$M" "$NODES" || exit 1
node_start "$M"
eventually 60 up "$M" || { echo "bench_kad.sh: muleteerd $M did not start" >&2; exit 1; }
MID=$(kstat "$M" | sed -n 's/.*"id": *"\([0-9a-f]\{32\}\)".*/\1/p' | head -n 1)
python3 - "$MID" "$CONTACTS" "$T/contacts.dat" <<'EOP'
import random, struct, sys
me, n, path = int(sys.argv[1], 16), int(sys.argv[2]), sys.argv[3]
rnd = random.Random(1)
out = [struct.pack('<III', 0, 2, n)]
for i in range(n):
    e = rnd.randrange(8, 128)                    # the distance's top bit
    d = (1 << e) | rnd.getrandbits(e)
    h = '%032x' % (me ^ d)
    words = [int(h[j:j + 8], 16) for j in range(0, 32, 8)]
    ip = (100 << 24) | (65 << 16) | i            # 100.65/16: reserved, not routed here
    out.append(struct.pack('<4I', *words) + struct.pack('<IHHB', ip, 4663, 4662, 8) +
               struct.pack('<IIB', 0, 0, 0))
open(path, 'wb').write(b''.join(out))
EOP
sleep 2
PID=${MULE_PID[$M]}
rss0=$(proc_kib "$PID" VmRSS); c0=$(json_num "$(kstat "$M")" contacts)
"$CLI" --socket "$(sock "$M")" kad import "$T/contacts.dat" >/dev/null
sleep 1
rss1=$(proc_kib "$PID" VmRSS); c1=$(json_num "$(kstat "$M")" contacts)
awk -v a="$rss0" -v b="$rss1" -v c0="$c0" -v c1="$c1" -v n="$CONTACTS" 'BEGIN {
  printf "memory per contact: %d contacts imported, the table took %d (from %d); RSS %d -> %d KiB: %.0f bytes per contact\n",
    n, c1 - c0, c0, a, b, (c1 > c0) ? (b - a) * 1024 / (c1 - c0) : 0 }'

# Memory per indexed publish: PUBLISHES keyword entries sent to M from a
# namespace with 40 addresses, 100 keywords, 10 files a datagram.
P=pub
kadnet_node "$P" $((NODES + 1)) || exit 1
for ((a = 1; a <= 40; a++)); do ip -n "$NS-$P" addr add "100.64.250.$a/16" dev eth0; done
sleep 1
x0=$(kstat "$M"); rss0=$(proc_kib "$PID" VmRSS)
ip netns exec "$NS-$P" python3 - "$(kadnet_ip "$NODES")" "$PUBLISHES" <<'EOP'
import random, socket, struct, sys, time
to, n = (sys.argv[1], 4663), int(sys.argv[2])
rnd = random.Random(2)
socks = []
for a in range(1, 41):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('100.64.250.%d' % a, 4700))
    s.setblocking(False)
    socks.append(s)
keywords = [rnd.getrandbits(128).to_bytes(16, 'little') for _ in range(100)]
def tag_str(tid, v):
    return struct.pack('<BHB', 0x02, 1, tid) + struct.pack('<H', len(v)) + v
def tag_u32(tid, v):
    return struct.pack('<BHB', 0x03, 1, tid) + struct.pack('<I', v)
sent = 0
i = 0
while sent < n:
    kw = keywords[i % len(keywords)]
    files = b''
    count = min(10, n - sent)
    for _ in range(count):
        name = ('bench file %d.bin' % sent).encode()
        files += rnd.getrandbits(128).to_bytes(16, 'little') + b'\x02' + tag_str(0x01, name) + \
            tag_u32(0x02, 1000 + sent)
        sent += 1
    socks[i % len(socks)].sendto(b'\xe4\x43' + kw + struct.pack('<H', count) + files, to)
    i += 1
    time.sleep(0.0015)                           # 40 addresses: ~17 a second each
time.sleep(2)
EOP
x1=$(kstat "$M"); rss1=$(proc_kib "$PID" VmRSS)
k0=$(json_num "$x0" indexed_keywords); k1=$(json_num "$x1" indexed_keywords)
st=$(( $(json_num "$x1" publishes_stored) - $(json_num "$x0" publishes_stored) ))
awk -v a="$rss0" -v b="$rss1" -v k0="$k0" -v k1="$k1" -v n="$PUBLISHES" -v st="$st" 'BEGIN {
  printf "memory per publish: %d keyword publishes sent, %d stored, the index holds %d (from %d); RSS %d -> %d KiB: %.0f bytes per indexed publish\n",
    n, st, k1, k0, a, b, (k1 > k0) ? (b - a) * 1024 / (k1 - k0) : 0 }'
