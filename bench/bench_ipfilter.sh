#!/usr/bin/env bash
# bench_ipfilter.sh: memory and lookup time of the IP filter
# (lib/util/ipfilter.c) for a list of 500,000 ranges, beside two references
# doing the same work in the same run: a linear scan of the same ranges
# (bench/ipfilter_bench, on fewer addresses: it is slow) and Python's
# bisect over the same ranges (the same addresses as the binary search).
#
# Usage: bench/bench_ipfilter.sh [BUILDDIR]   (default build/)
#   MT_BENCH_RANGES   ranges in the list (default 500000)
#   MT_BENCH_LOOKUPS  lookups by binary search and by bisect (default 2000000)
#   MT_BENCH_SCANS    lookups by linear scan (default 2000)
# The list is written to a temporary directory (removed afterwards) as a
# mix of ipfilter.dat lines (levels 0-126: all kept at the default filter
# level) and .p2p lines, one disjoint range in each 1/N of the address
# space, in random order: N ranges to sort, all of them kept. Build without sanitizers for
# figures that mean something:
#   mkdir build-bench && cd build-bench && ../configure && make bench/ipfilter_bench
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
builddir=${1:-${MT_BUILDDIR:-$ROOT/build}}
ranges=${MT_BENCH_RANGES:-500000}
lookups=${MT_BENCH_LOOKUPS:-2000000}
scans=${MT_BENCH_SCANS:-2000}
prog=$builddir/bench/ipfilter_bench
if [ ! -x "$prog" ]; then
  echo "bench_ipfilter.sh: $prog not found: run 'make bench/ipfilter_bench' in $builddir" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 - "$ranges" "$tmp/list.dat" <<'PY'
import random, sys
n, path = int(sys.argv[1]), sys.argv[2]
r = random.Random(1)
q = lambda v: "%d.%d.%d.%d" % (v >> 24, v >> 16 & 255, v >> 8 & 255, v & 255)
with open(path, "w") as f:
    f.write("# bench list\n")
    step = 2**32 // n
    order = list(range(n))
    r.shuffle(order)  # unsorted, as real lists may be
    for i in order:
        s = i * step + r.randrange(step // 4)
        e = s + r.randrange(step // 2)
        if i % 4 == 3:
            f.write("entry %d:%s-%s\n" % (i, q(s), q(e)))
        else:
            f.write("%s - %s , %03d , entry %d\n" % (q(s), q(e), r.randrange(127), i))
PY
echo "# $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== Muleteer (lib/util/ipfilter.c), with the linear-scan reference"
/usr/bin/time -f "peak RSS of the whole program: %M KiB" "$prog" "$tmp/list.dat" "$lookups" "$scans"

echo "== reference: Python bisect over the same kept ranges, the same addresses"
python3 - "$tmp/list.dat" "$lookups" <<'PY'
import bisect, re, sys, time
path, lookups = sys.argv[1], int(sys.argv[2])
ip = lambda s: int.from_bytes(bytes(int(x) for x in s.split(".")), "big")
t0 = time.perf_counter()
rs = []
for line in open(path):
    line = line.strip()
    if not line or line[0] == "#":
        continue
    m = re.match(r"^([\d.]+)\s*-\s*([\d.]+)\s*,\s*(\d+)", line)
    if m:
        if int(m.group(3)) < 127:
            rs.append((ip(m.group(1)), ip(m.group(2))))
        continue
    a, b = line.rsplit(":", 1)[1].split("-")
    rs.append((ip(a), ip(b)))
rs.sort()
merged = []
for s, e in rs:
    if merged and s <= merged[-1][1] + 1:
        if e > merged[-1][1]:
            merged[-1][1] = e
    else:
        merged.append([s, e])
starts = [m[0] for m in merged]
ends = [m[1] for m in merged]
del rs, merged
t_load = time.perf_counter() - t0
mem = sys.getsizeof(starts) + sys.getsizeof(ends) + sum(map(sys.getsizeof, starts)) + sum(map(sys.getsizeof, ends))
print("list: %d merged ranges kept; load %.3f s; %.1f MiB in the two lists of ints (%.1f bytes per range)" %
      (len(starts), t_load, mem / 1048576, mem / max(len(starts), 1)))
x, hits = 2463534242, 0
t0 = time.perf_counter()
for _ in range(lookups):
    x ^= (x << 13) & 0xffffffff; x ^= x >> 17; x ^= (x << 5) & 0xffffffff
    i = bisect.bisect_right(starts, x)
    hits += i > 0 and x <= ends[i - 1]
t = time.perf_counter() - t0
print("bisect: %d lookups in %.3f s: %.0f ns per lookup (%d blocked)" % (lookups, t, t * 1e9 / lookups, hits))
PY
