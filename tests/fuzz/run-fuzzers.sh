#!/bin/sh
# run-fuzzers.sh BUILDDIR SECONDS: runs every libFuzzer target built in
# BUILDDIR (configured with --enable-fuzzers) for SECONDS each, starting
# from its checked-in corpus, and prints TAP.
builddir=${1:?builddir}
secs=${2:-20}
srcdir=$(cd "$(dirname "$0")/../.." && pwd)
n=0; rc=0
for t in "$builddir"/tests/fuzz/fuzz_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t"); name=${name#fuzz_}
  n=$((n + 1))
  work=$(mktemp -d)
  cp -r "$srcdir/tests/fuzz/corpus/$name/." "$work/" 2>/dev/null
  if "$t" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix="$builddir/fuzz-$name-" "$work" >"$builddir/fuzz-$name.log" 2>&1; then
    echo "ok $n - fuzz $name for ${secs}s"
  else
    echo "not ok $n - fuzz $name (see $builddir/fuzz-$name.log)"
    tail -n 30 "$builddir/fuzz-$name.log" | sed 's/^/# /'
    rc=1
  fi
  rm -rf "$work"
done
echo "1..$n"
exit $rc
