#!/usr/bin/env bash
# bench_memory.sh: resident memory of muleteerd beside amuled 2.3.3, each
# sharing the same 10,000 small files and holding 1,000 downloads (links
# to files nobody has, no sources). Target: muleteerd at most half of
# amuled.
#
# Each daemon first hashes the files once (they go into its shared
# directory: muleteerd's shared_dirs, then `muleteer rescan`; amuled's
# Incoming, then `reload shared`), and is stopped. Then, MT_BENCH_ROUNDS
# times, each daemon in turn is started afresh (its files are known; no
# listing is asked of it before the reading (start: VmRSS 2 s after the
# start, while it loads its known files): amuled's EC listings of
# 10,000 files grow it by tens of MiB), given the 1,000 links (`muleteer
# add`; `amulecmd add`, one connection), and after MT_BENCH_SETTLE seconds
# VmRSS, VmHWM (peak) and PSS are read from /proc; its shared files and
# downloads are counted only after that. muleteerd runs with its
# PostgreSQL (a private cluster): the table shows it alone and with the
# cluster's PSS added (shared buffers counted once); the medians of the
# rounds are printed, and the ratio targets judged on them both ways.
#
# Usage: bench/bench_memory.sh [BUILDDIR]   (default: build/)
#   MT_BENCH_FILES      shared files (default 10000), 4 KiB of random data each
#   MT_BENCH_DOWNLOADS  downloads (default 1000), 100 MiB each
#   MT_BENCH_SETTLE     seconds to wait before reading (default 15)
#   MT_BENCH_ROUNDS     interleaved fresh starts of each daemon (default 3)
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
ROUNDS=${MT_BENCH_ROUNDS:-3}
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
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
declare -A RSS0=() RSS=() HWM=() PSS=() PGPSS=() NSH=() NDL=()
add_fig() { eval "$1[$2]+=\"$3 \""; } # ARRAY KEY VALUE: a round's figure

# ---- phase 1: each daemon hashes the files once ----
pick_ports MP 2
mkdir -p "$W/mule/share"
MULE_CONF=("shared_dirs = $W/mule/share")
start_mule M "$W/mule" "$MP" "${MULE_CONF[@]}" ||
  { echo "muleteerd did not start: $(cat "$W/mule/stderr")"; exit 1; }
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
echo "# muleteerd: $NFILES files hashed in $(( $(date +%s) - t0 )) s"
stop_all_mules

pick_ports AP 4
mkdir -p "$W/amule"
amule_start AM "$W/amule" "$AP" $((AP + 1)) $((AP + 2)) || { echo "amuled did not start"; exit 1; }
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
echo "# amuled: $NFILES files hashed in $(( $(date +%s) - t0 )) s"
amule_stop AM >/dev/null 2>&1

# ---- phase 2: fresh starts, interleaved ----
mk_tmpdir PGW
private_pg "$PGW"
mule_round() {
  rm -rf "$W/mule/temp"
  MULE_DATABASE=$DB start_mule M "$W/mule" "$MP" "${MULE_CONF[@]}" ||
    { echo "muleteerd did not start: $(cat "$W/mule/stderr")"; exit 1; }
  sleep 2
  add_fig RSS0 M "$(proc_kib "${MULE_PID[M]}" VmRSS)"
  # its status (no listing) says when the known files are shared again
  eventually 300 mule_shared || echo "# muleteerd shares $(mule_nshared) files only"
  local link
  while read -r link; do mcli M add "$link" >/dev/null || echo "# muleteer add failed: $link"; done <"$W/links"
  sleep "$SETTLE"
  local pid=${MULE_PID[M]}
  add_fig RSS M "$(proc_kib "$pid" VmRSS)"; add_fig HWM M "$(proc_kib "$pid" VmHWM)"
  add_fig PSS M "$(pss_kib "$pid")"
  # shellcheck disable=SC2046 # one PID a word
  add_fig PGPSS M "$(pss_kib $(pg_pids "$PGW"))"
  local st; st=$(mcli M --json status)
  add_fig NSH M "$(json_num "$st" shared_files)"; add_fig NDL M "$(json_num "$st" downloads)"
  stop_all_mules
}
amule_ndl() { AMULE_CMD_TIMEOUT=60 amule_cmd AM show dl | grep -c 'missing-[0-9]*\.bin'; }
# amule_relaunch: amuled again on its directory; it loads its known files
# before it answers on EC (a minute or more for 10,000), so it is given
# up to 600 s (amule.sh's launch waits 30 s).
amule_relaunch() {
  local d=${AMULE_DIR[AM]} t0; t0=$(date +%s)
  setsid amuled -c "$d" -o >>"$d/amuled.log" 2>&1 </dev/null &
  AMULE_PID[AM]=$!
  CLEANUP_PIDS+=("$!")
  eventually 600 _amule_ready AM || return 1
  echo "# amuled answers $(( $(date +%s) - t0 )) s after its start"
}
amule_round() {
  rm -rf "$W/amule/Temp"; mkdir -p "$W/amule/Temp"
  amule_relaunch || { echo "amuled did not start"; exit 1; }
  sleep 2
  add_fig RSS0 AM "$(proc_kib "${AMULE_PID[AM]}" VmRSS)"
  # amulecmd reads commands from its standard input: one connection for all
  sed 's/^/add /' "$W/links" | timeout 600 amulecmd -h 127.0.0.1 -p "${AMULE_EC[AM]}" \
    -P "$AMULE_PASSWORD" >/dev/null 2>&1
  sleep "$SETTLE"
  local pid=${AMULE_PID[AM]}
  add_fig RSS AM "$(proc_kib "$pid" VmRSS)"; add_fig HWM AM "$(proc_kib "$pid" VmHWM)"
  add_fig PSS AM "$(pss_kib "$pid")"; add_fig PGPSS AM 0
  # counted after the reading: these listings grow amuled
  add_fig NSH AM "$(amule_nshared)"; add_fig NDL AM "$(amule_ndl)"
  amule_stop AM >/dev/null 2>&1
}
for r in $(seq 1 "$ROUNDS"); do
  echo "# round $r: muleteerd, then amuled, each started afresh"
  mule_round
  amule_round
done

echo
echo "Resident memory, $(date -u +%Y-%m-%dT%H:%MZ), medians of $ROUNDS interleaved fresh starts (KiB figures of each round after '|')"
printf '%-26s %8s %10s %10s %10s %10s %10s\n' daemon shared downloads "start MiB" "VmRSS MiB" "VmHWM MiB" "PSS MiB"
for d in M AM; do
  name=muleteerd; [ "$d" = AM ] && name=amuled
  printf '%-26s %8s %10s %10s %10s %10s %10s\n' "$name" "$(median <<<"${NSH[$d]}")" "$(median <<<"${NDL[$d]}")" \
    "$(kib_mib "$(median <<<"${RSS0[$d]}")")" "$(kib_mib "$(median <<<"${RSS[$d]}")")" \
    "$(kib_mib "$(median <<<"${HWM[$d]}")")" "$(kib_mib "$(median <<<"${PSS[$d]}")")"
  echo "    | VmRSS ${RSS[$d]}| VmHWM ${HWM[$d]}"
done
pgm=$(median <<<"${PGPSS[M]}")
printf '%-26s %8s %10s %10s %10s %10s %10s\n' "its PostgreSQL (PSS)" "" "" "" "" "" "$(kib_mib "$pgm")"
echo "    | PSS ${PGPSS[M]}"
awk -v mr="$(median <<<"${RSS[M]}")" -v ar="$(median <<<"${RSS[AM]}")" -v mh="$(median <<<"${HWM[M]}")" \
    -v ah="$(median <<<"${HWM[AM]}")" -v mp="$(median <<<"${PSS[M]}")" -v ap="$(median <<<"${PSS[AM]}")" -v pg="$pgm" 'BEGIN {
  printf "ratio muleteerd/amuled: VmRSS %.2f, VmHWM %.2f (target <= 0.50): %s\n", mr / ar, mh / ah,
         (mr / ar <= 0.5 && mh / ah <= 0.5) ? "MET" : "NOT MET"
  printf "ratio (muleteerd + its PostgreSQL)/amuled, PSS: %.2f (target <= 0.50): %s\n", (mp + pg) / ap,
         ((mp + pg) / ap <= 0.5) ? "MET" : "NOT MET" }'
