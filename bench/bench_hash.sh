#!/bin/sh
# bench_hash.sh: times Muleteer's ed2k + AICH hasher against `rhash --ed2k
# --aich` on the same file, checks they agree and prints MB/s side by side.
#
# Usage: bench/bench_hash.sh [BUILDDIR]   (run from anywhere)
#   MT_BENCH_SIZE_MB  file size in MiB (default 512)
#   MT_HASHFILE       the ed2k_hashfile program (default BUILDDIR/bench/ed2k_hashfile)
# The file lives in a temporary directory that is removed afterwards. Each
# tool runs twice on a warm cache; the faster run counts. Build without
# --enable-sanitizers for meaningful figures.
set -eu

builddir=${1:-${MT_BUILDDIR:-.}}
size_mb=${MT_BENCH_SIZE_MB:-512}
prog=${MT_HASHFILE:-$builddir/bench/ed2k_hashfile}

if [ ! -x "$prog" ]; then
  echo "bench_hash.sh: $prog not found: run 'make bench/ed2k_hashfile' in the build" \
       "directory, or set MT_HASHFILE" >&2
  exit 1
fi
if ! command -v rhash >/dev/null 2>&1; then
  echo "bench_hash.sh: rhash not found (on Debian: apt-get install rhash)" >&2
  exit 1
fi
if grep -q __asan_init "$prog" 2>/dev/null; then
  echo "# note: $prog was built with sanitizers; its figure will be low" >&2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench_hash.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
file=$tmp/data.bin
bytes=$((size_mb * 1024 * 1024))
echo "# creating a $size_mb MiB file of random data in $tmp"
head -c "$bytes" /dev/urandom >"$file"
cat "$file" >/dev/null # warm the page cache

now_ns() { date +%s%N; }

# best_of_two CMD...: runs CMD twice, stores its output in $out and the
# faster wall time in nanoseconds in $best.
best_of_two() {
  best=0
  for run in 1 2; do
    t0=$(now_ns)
    out=$("$@")
    t1=$(now_ns)
    dt=$((t1 - t0))
    if [ "$best" -eq 0 ] || [ "$dt" -lt "$best" ]; then best=$dt; fi
  done
}

best_of_two "$prog" "$file"
ours_out=$out
ours_ns=$best
best_of_two rhash --ed2k --aich --printf='%{ed2k} %{aich}\n' "$file"
rhash_out=$out
rhash_ns=$best

ours=$(echo "$ours_out" | awk '{print tolower($1) " " tolower($2)}')
theirs=$(echo "$rhash_out" | awk '{print tolower($1) " " tolower($2)}')
if [ "$ours" != "$theirs" ]; then
  echo "MISMATCH: muleteer \"$ours\", rhash \"$theirs\"" >&2
  exit 1
fi

mbps() { awk -v b="$bytes" -v ns="$1" 'BEGIN { printf "%.1f", b / 1e6 / (ns / 1e9) }'; }
secs() { awk -v ns="$1" 'BEGIN { printf "%.3f", ns / 1e9 }'; }
echo "# ed2k+AICH of $size_mb MiB: both give $ours"
printf '%-10s %10s %10s\n' tool seconds MB/s
printf '%-10s %10s %10s\n' muleteer "$(secs "$ours_ns")" "$(mbps "$ours_ns")"
printf '%-10s %10s %10s\n' rhash "$(secs "$rhash_ns")" "$(mbps "$rhash_ns")"
