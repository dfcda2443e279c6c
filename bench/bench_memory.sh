#!/usr/bin/env bash
# bench_memory.sh: resident memory of muleteerd beside amuled 2.3.3, each
# sharing the same 10,000 small files and holding 1,000 downloads (links
# to files nobody has, no sources). Target: muleteerd at most half of
# amuled.
#
# For each daemon: VmRSS once started with nothing (baseline), then the
# files are put into its shared directory (muleteerd: shared_dirs, then
# `muleteer rescan`; amuled: Incoming, then `reload shared`) and it is
# given time to hash them until it lists them all (the shared-file count of
# `muleteer status`; `amulecmd show shared`), then the 1,000 links are added (`muleteer add`,
# `amulecmd add`), and after MT_BENCH_SETTLE seconds VmRSS and VmHWM (peak)
# are read from /proc/PID/status. muleteerd runs without a database, as
# in the transfer tests: its writer then keeps up to 10,000 pending jobs,
# which the table reports (the memory they hold is counted).
#
# Usage: bench/bench_memory.sh [BUILDDIR]   (default: build/)
#   MT_BENCH_FILES      shared files (default 10000), 4 KiB of random data each
#   MT_BENCH_DOWNLOADS  downloads (default 1000), 100 MiB each
#   MT_BENCH_SETTLE     seconds to wait before reading (default 15)
#   MT_BENCH_KEEP=1     keep the temporary directory
# Needs amuled and amulecmd. Everything lives in a temporary directory;
# both daemons are stopped by PID at the end, pass or fail. A sanitizer
# build multiplies Muleteer's memory; build one without:
#   mkdir build-bench && cd build-bench && ../configure && make && make bench-programs
set -u
BUILD=$(cd "${1:-${MULETEER_BUILD:-$(dirname "$0")/../build}}" && pwd) || exit 1
. "$(dirname "$0")/bench_lib.sh"

NFILES=${MT_BENCH_FILES:-10000}
NDL=${MT_BENCH_DOWNLOADS:-1000}
SETTLE=${MT_BENCH_SETTLE:-15}
DLSIZE=104857600

bench_require amuled amulecmd ss
bench_require_build bin/muleteerd bin/muleteer

on_exit() {
  stop_all_mules >/dev/null 2>&1
  amule_stop_all >/dev/null 2>&1
  [ "${MT_BENCH_KEEP:-0}" = 1 ] && MT_KEEP_TEST_DIRS=1
  cleanup
}
trap on_exit EXIT
trap 'exit 130' INT TERM

mk_tmpdir W
echo "# bench_memory: build $BUILD, work dir $W, $NFILES files, $NDL downloads"
mkdir -p "$W/files"
# One stream cut into files: distinct contents, so distinct hashes.
head -c $((NFILES * 4096)) /dev/urandom |
  (cd "$W/files" && split -b 4096 -a 6 -d --additional-suffix=.bin - f)
[ "$(find "$W/files" -type f | wc -l)" = "$NFILES" ] || { echo "could not create the files"; exit 1; }
# The links: names and hashes that exist nowhere.
for i in $(seq 1 "$NDL"); do
  h=$(printf 'muleteer-bench-missing-%d' "$i" | md5sum | cut -c1-32)
  echo "ed2k://|file|missing-$i.bin|$DLSIZE|$h|/"
done >"$W/links"

kib_mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
declare -A RSS0=() RSS=() HWM=()

# ---- muleteerd ----
pick_ports MP 2
mkdir -p "$W/mule/share"
start_mule M "$W/mule" "$MP" "shared_dirs = $W/mule/share" ||
  { echo "muleteerd did not start: $(cat "$W/mule/stderr")"; exit 1; }
sleep 2
RSS0[M]=$(proc_kib "${MULE_PID[M]}" VmRSS)
cp -al "$W/files/." "$W/mule/share/"
t0=$(date +%s)
mcli M rescan >/dev/null
# `muleteer shared` would list them, but its reply cannot exceed the control
# protocol's 64 KiB (about 600 files); the status has the count.
mule_nshared() { json_num "$(mcli M --json status)" shared_files; }
mule_shared() { [ "$(mule_nshared)" -ge "$NFILES" ]; }
if ! eventually 900 mule_shared; then
  echo "muleteerd shares $(mule_nshared) of $NFILES files after 900 s"; exit 1
fi
echo "# muleteerd: $NFILES files listed after $(( $(date +%s) - t0 )) s; adding $NDL links"
t0=$(date +%s)
while read -r link; do mcli M add "$link" >/dev/null || echo "# muleteer add failed: $link"; done <"$W/links"
n=$(json_num "$(mcli M --json status)" downloads)
echo "# muleteerd: $n downloads after $(( $(date +%s) - t0 )) s; waiting ${SETTLE} s"
sleep "$SETTLE"
RSS[M]=$(proc_kib "${MULE_PID[M]}" VmRSS); HWM[M]=$(proc_kib "${MULE_PID[M]}" VmHWM)
st=$(mcli M --json status)
MQ="$(json_num "$st" queued) database jobs queued, $(json_num "$st" jobs_dropped) dropped"
M_SHARED=$(json_num "$st" shared_files); M_DL=$(json_num "$st" downloads)
stop_all_mules

# ---- amuled ----
pick_ports AP 4
mkdir -p "$W/amule"
amule_start AM "$W/amule" "$AP" $((AP + 1)) $((AP + 2)) || { echo "amuled did not start"; exit 1; }
sleep 2
RSS0[AM]=$(proc_kib "${AMULE_PID[AM]}" VmRSS)
cp -al "$W/files/." "$W/amule/Incoming/"
t0=$(date +%s)
amule_cmd AM reload shared >/dev/null
amule_nshared() {
  AMULE_CMD_TIMEOUT=60 amule_cmd AM show shared | awk '$1 == ">" && length($2) == 32 { n++ } END { print n + 0 }'
}
amule_shared() { [ "$(amule_nshared)" -ge "$NFILES" ]; }
if ! eventually 1800 amule_shared; then
  echo "amuled lists $(amule_nshared) of $NFILES files after 1800 s"; exit 1
fi
echo "# amuled: $NFILES files listed after $(( $(date +%s) - t0 )) s; adding $NDL links"
t0=$(date +%s)
# amulecmd reads commands from its standard input: one connection for all.
sed 's/^/add /' "$W/links" | timeout 600 amulecmd -h 127.0.0.1 -p "${AMULE_EC[AM]}" \
  -P "$AMULE_PASSWORD" >/dev/null 2>&1
amule_ndl() { AMULE_CMD_TIMEOUT=60 amule_cmd AM show dl | grep -c 'missing-[0-9]*\.bin'; }
n=$(amule_ndl)
if [ "$n" -lt "$NDL" ]; then
  echo "# amuled took $n links from amulecmd's input; adding the others one by one"
  have=$(AMULE_CMD_TIMEOUT=60 amule_cmd AM show dl)
  while read -r link; do
    name=$(cut -d'|' -f3 <<<"$link")
    grep -qF " $name" <<<"$have" || amule_add AM "$link"
  done <"$W/links"
  n=$(amule_ndl)
fi
echo "# amuled: $n downloads after $(( $(date +%s) - t0 )) s; waiting ${SETTLE} s"
sleep "$SETTLE"
RSS[AM]=$(proc_kib "${AMULE_PID[AM]}" VmRSS); HWM[AM]=$(proc_kib "${AMULE_PID[AM]}" VmHWM)
A_SHARED=$(amule_nshared); A_DL=$(amule_ndl)
amule_stop_all >/dev/null 2>&1

echo
echo "Resident memory, $(date -u +%Y-%m-%dT%H:%MZ): empty, then with the shared files and downloads"
printf '%-10s %8s %10s %12s %12s %12s\n' daemon shared downloads "empty MiB" "VmRSS MiB" "VmHWM MiB"
printf '%-10s %8s %10s %12s %12s %12s\n' muleteerd "$M_SHARED" "$M_DL" "$(kib_mib "${RSS0[M]}")" \
  "$(kib_mib "${RSS[M]}")" "$(kib_mib "${HWM[M]}")"
printf '%-10s %8s %10s %12s %12s %12s\n' amuled "$A_SHARED" "$A_DL" "$(kib_mib "${RSS0[AM]}")" \
  "$(kib_mib "${RSS[AM]}")" "$(kib_mib "${HWM[AM]}")"
awk -v mr="${RSS[M]}" -v ar="${RSS[AM]}" -v mh="${HWM[M]}" -v ah="${HWM[AM]}" 'BEGIN {
  printf "ratio muleteerd/amuled: VmRSS %.2f, VmHWM %.2f (target <= 0.50): %s\n", mr / ar, mh / ah,
         (mr / ar <= 0.5 && mh / ah <= 0.5) ? "MET" : "NOT MET" }'
echo "# muleteerd ran without a database: $MQ"
