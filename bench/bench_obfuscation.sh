#!/usr/bin/env bash
# bench_obfuscation.sh: the cost of protocol obfuscation (ed2k-protocol.md
# §9.2, RC4 on both sides) on a Muleteer -> Muleteer transfer on loopback.
# muleteerd M1 shares one file of random data; for each run a fresh
# muleteerd M2 (new state directory, so a new user hash and no partial
# data) downloads it, plain or obfuscated, the two interleaved (plain,
# obfuscated, then obfuscated, plain, ...), with no limits:
#   plain       M2 with obfuscation_request = no, the link's source without
#               crypt options: M2 connects plain
#   obfuscated  the link's source with crypt options 131 (a user hash
#               follows, supported, requested) and M1's user hash: M2
#               connects obfuscated (checked in its log)
# Times: from the first bytes M2 shows to all of them (the transfer; M2 is
# polled every 0.2 s), and from the add to the complete file in M2's
# incoming directory (that includes M2's final hash check of the whole
# file, the same in both modes). Printed: the file size, the median of
# each mode, and the ratio obfuscated / plain (target <= 1.3).
#
# Usage: bench/bench_obfuscation.sh [BUILDDIR]   (default: build/)
#   MT_BENCH_SIZE_MB  MiB of the file (default 256; the issue's figure: 1024)
#   MT_BENCH_RUNS     runs of each mode (default 3)
#   MT_BENCH_TIMEOUT  seconds one transfer may take (default 600)
#   MT_BENCH_KEEP=1   keep the temporary directory and its logs
# Needs rhash. Everything lives in a temporary directory; every process
# started is stopped by PID at the end. Sanitizer builds distort the
# figures; build one without:
#   mkdir build-bench && cd build-bench && ../configure && make && make bench-programs
set -u
BUILD=$(cd "${1:-${MULETEER_BUILD:-$(dirname "$0")/../build}}" && pwd) || exit 1
. "$(dirname "$0")/bench_lib.sh"

SIZE_MB=${MT_BENCH_SIZE_MB:-256}
RUNS=${MT_BENCH_RUNS:-3}
TIMEOUT=${MT_BENCH_TIMEOUT:-600}
SIZE=$((SIZE_MB * 1024 * 1024))
TARGET=1.3

bench_require rhash
bench_require_build bin/muleteerd bin/muleteer
if grep -q __asan_init "$BUILD/bin/muleteerd" 2>/dev/null; then
  echo "# note: $BUILD/bin/muleteerd was built with sanitizers; the figures are distorted" >&2
fi

on_exit() {
  stop_all_mules >/dev/null 2>&1
  [ "${MT_BENCH_KEEP:-0}" = 1 ] && MT_KEEP_TEST_DIRS=1
  cleanup
}
trap on_exit EXIT
trap 'exit 130' INT TERM

mk_tmpdir W
echo "# bench_obfuscation: build $BUILD, work dir $W, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
pick_ports M1P 2
mkdir -p "$W/m1/share"
echo "# creating a $SIZE_MB MiB file of random data"
head -c "$SIZE" /dev/urandom >"$W/m1/share/big.bin"
BH=$(rhash --printf '%{ed2k}' "$W/m1/share/big.bin")
start_mule M1 "$W/m1" "$M1P" "shared_dirs = $W/m1/share" || { echo "muleteerd M1 did not start"; exit 1; }
m1_shares() { mcli M1 shared | grep -q "$BH"; }
eventually 300 m1_shares || { echo "muleteerd M1 does not share big.bin"; exit 1; }
M1_USER=$(cat "$W/m1/userhash")

# one_run MODE N: a fresh M2 downloads the file; sets RES to "TRANSFER
# TOTAL" seconds; false when it failed.
one_run() {
  local mode=$1 n=$2 dir="$W/m2-$1-$2" src conf=() t0 t1="" tend tfirst="" d end
  RES=
  pick_ports M2P 2
  if [ "$mode" = plain ]; then
    src="127.0.0.1:$M1P"; conf=("obfuscation_request = no")
  else
    src="127.0.0.1:$M1P:131:$M1_USER"
  fi
  # debug: the log line that tells an obfuscated connection (both modes)
  MULE_LOG_LEVEL=debug start_mule M2 "$dir" "$M2P" "${conf[@]}" ||
    { echo "# muleteerd M2 did not start: $(cat "$dir/stderr")" >&2; return 1; }
  t0=$(now)
  mcli M2 add "ed2k://|file|big.bin|$SIZE|$BH|/|sources,$src|/" >/dev/null
  end=$(( $(date +%s) + TIMEOUT ))
  tend=""
  while [ "$(date +%s)" -lt "$end" ]; do
    if [ -f "$dir/incoming/big.bin" ]; then
      t1=$(stat -c '%.9Z' "$dir/incoming/big.bin"); [ -n "$tend" ] || tend=$t1; break
    fi
    d=$(json_num "$(mcli M2 --json downloads 2>/dev/null)" "done")
    [ -z "$tfirst" ] && [ "${d:-0}" -gt 0 ] && tfirst=$(now)
    [ -z "$tend" ] && [ "${d:-0}" -ge "$SIZE" ] && tend=$(now)
    sleep 0.2
  done
  local ok=1
  [ -f "$dir/incoming/big.bin" ] || ok=0
  if [ "$ok" = 1 ] && ! cmp -s "$W/m1/share/big.bin" "$dir/incoming/big.bin"; then
    echo "# $mode run $n: BYTES DIFFER" >&2; ok=0
  fi
  local obf=0
  grep -qF "(127.0.0.1:$M1P): obfuscated (outgoing)" "$dir/muleteerd.log" 2>/dev/null && obf=1
  if [ "$mode" = obfuscated ] && [ "$obf" = 0 ]; then echo "# $mode run $n: NOT OBFUSCATED" >&2; ok=0; fi
  if [ "$mode" = plain ] && [ "$obf" = 1 ]; then echo "# $mode run $n: OBFUSCATED" >&2; ok=0; fi
  stop_mule M2
  rm -rf "$dir"
  [ "$ok" = 1 ] || return 1
  tfirst=${tfirst:-$t0}
  RES="$(elapsed "$tfirst" "$tend") $(elapsed "$t0" "$t1")"
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A TR=() TOT=()
for i in $(seq 1 "$RUNS"); do
  if [ $((i % 2)) = 1 ]; then order="plain obfuscated"; else order="obfuscated plain"; fi
  for mode in $order; do
    if one_run "$mode" "$i"; then
      r=$RES
      echo "# run $i $mode: transfer ${r% *} s, add to complete ${r#* } s"
      TR[$mode]+="${r% *}"$'\n'; TOT[$mode]+="${r#* }"$'\n'
    else
      echo "# run $i $mode: FAILED"
    fi
  done
done
stop_all_mules

mp=$(printf '%s' "${TR[plain]:-}" | median); mo=$(printf '%s' "${TR[obfuscated]:-}" | median)
tp=$(printf '%s' "${TOT[plain]:-}" | median); to=$(printf '%s' "${TOT[obfuscated]:-}" | median)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "nan" }'; }
r=$(ratio "$mo" "$mp"); rt=$(ratio "$to" "$tp")
echo
echo "Muleteer -> Muleteer on loopback, $(date -u +%Y-%m-%dT%H:%MZ), file $SIZE bytes ($SIZE_MB MiB),"
echo "medians of $RUNS interleaved runs each, seconds:"
printf '%-28s %10s %12s %8s\n' "" plain obfuscated ratio
printf '%-28s %10s %12s %8s\n' "transfer (first to last byte)" "$mp" "$mo" "$r"
printf '%-28s %10s %12s %8s\n' "add to complete file" "$tp" "$to" "$rt"
if awk -v r="$r" -v t="$TARGET" 'BEGIN { exit !(r + 0 > 0 && r <= t) }'; then
  echo "target met: obfuscated transfer <= ${TARGET}x plain"
else
  echo "target NOT met: obfuscated transfer ratio $r (target <= ${TARGET}x)"
fi
