#!/usr/bin/env bash
# bench_transfer.sh: eD2K transfers on loopback, Muleteer beside amuled
# 2.3.3 in the same run:
#   (a) amuled -> Muleteer    muleteerd A downloads from an amuled seeder
#                             given as the link's source
#   (b) Muleteer -> amuled    amuled DL downloads from A, a LowID of the
#                             server fixture (DL's callback request is
#                             relayed to A, which connects out to DL)
#   (c) amuled -> amuled      the reference: DL downloads from the amuled
#                             seeder, also a LowID, through the fixture
#   (d) Muleteer -> Muleteer  1 GiB between two muleteerds, no limits
# (a)-(c) move different random files of MT_BENCH_SIZE bytes (so that no
# download finds a second source). For each: the wall time from the add to
# the complete file in the downloader's incoming directory (its change
# time: both move the file there by rename after their final hash check,
# which is thus included), MB/s (10^6 bytes), and the same from the first
# bytes received (what the downloader shows, polled every 1 s (muleteerd)
# or 2 s (amuled)): the time before it is finding the source, which for
# amuled includes its server's source exchange and callback, not transfer
# speed (the reference (c) spent about 55 s there), the CPU seconds each side
# used meanwhile (utime + stime from /proc/PID/stat, summed over restarts),
# and stalls. amuled 2.3.3 stalls on loopback (../shared/amule-testing.md):
# as tests/integration/amule.sh does, a stall (no progress for 40 s, or an
# amuled socket keeping the same unread data for 5 s) restarts the amuleds
# involved; the restarts are counted, and their time is in the figure.
# Muleteer's own recoveries (its log's "no data from ..." lines) are counted
# too. The files are compared with the originals after the timing.
#
# Usage: bench/bench_transfer.sh [BUILDDIR]   (default: build/)
#   MT_BENCH_SIZE     bytes of the (a)-(c) files (default 30000000)
#   MT_BENCH_BIG      bytes of the (d) file (default 1073741824)
#   MT_BENCH_ONLY     the scenarios to run, e.g. "d" (default abcd)
#   MT_BENCH_TIMEOUT  seconds each transfer may take (default 1200)
#   MT_BENCH_KEEP=1   keep the temporary directory and its logs
# Takes about 10 minutes, most of it at amuled's upload ceiling (about
# 0.33 MB/s). Needs amuled, amulecmd, rhash, ss. Everything lives in a
# temporary directory; every process started is stopped by PID at the end,
# pass or fail. Sanitizer builds distort the figures; build one without:
#   mkdir build-bench && cd build-bench && ../configure && make && make bench-programs
set -u
BUILD=$(cd "${1:-${MULETEER_BUILD:-$(dirname "$0")/../build}}" && pwd) || exit 1
. "$(dirname "$0")/bench_lib.sh"

SIZE=${MT_BENCH_SIZE:-30000000}
BIG=${MT_BENCH_BIG:-1073741824}
ONLY=${MT_BENCH_ONLY:-abcd}
TIMEOUT=${MT_BENCH_TIMEOUT:-1200}
want() { [[ "$ONLY" == *"$1"* ]]; }

bench_require amuled amulecmd rhash ss
bench_require_build bin/muleteerd bin/muleteer tests/fixtures/ed2k_server

on_exit() {
  stop_all_mules >/dev/null 2>&1
  amule_stop_all >/dev/null 2>&1
  [ "${MT_BENCH_KEEP:-0}" = 1 ] && MT_KEEP_TEST_DIRS=1
  cleanup
}
trap on_exit EXIT
trap 'exit 130' INT TERM

mk_tmpdir W
echo "# bench_transfer: build $BUILD, work dir $W, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
declare -a ROWS=()

# FIRST_AT FILE: when the downloader first showed bytes of FILE (kept in
# a file: the pollers run in command substitutions).
first_seen() { [ -f "$W/first.$1" ] || now >"$W/first.$1"; }
first_at() { cat "$W/first.$1" 2>/dev/null; }
# amule_progress from amule.sh, noting the first progress above 0
eval "$(declare -f amule_progress | sed '1s/^amule_progress/_amule_progress_orig/')"
amule_progress() {
  local p; p=$(_amule_progress_orig "$@")
  if [ -n "$p" ] && awk -v p="$p" 'BEGIN { exit !(p > 0) }'; then first_seen "$2"; fi
  echo "$p"
}

# add_row SCENARIO BYTES T0 T1 UP_NAME UP_TICKS DOWN_NAME DOWN_TICKS STALLS CHECK FILE
add_row() {
  local mbps t1st mbps1
  mbps=$(awk -v b="$2" -v a="$3" -v c="$4" 'BEGIN { printf "%.2f", b / 1e6 / (c - a) }')
  t1st=$(first_at "${11}"); t1st=${t1st:-$3}
  mbps1=$(awk -v b="$2" -v a="$t1st" -v c="$4" 'BEGIN { printf "%.2f", b / 1e6 / (c - a) }')
  ROWS+=("$(printf '%-26s %8.1f %8s %8s %8s %8s %16s %16s  %-22s %s' "$1" \
    "$(awk -v b="$2" 'BEGIN { print b / 1e6 }')" "$(elapsed "$3" "$4")" "$mbps" \
    "$(elapsed "$t1st" "$4")" "$mbps1" \
    "$5 $(ticks_s "$6")" "$7 $(ticks_s "$8")" "$9" "${10}")")
}
failed_row() { ROWS+=("$(printf '%-26s %s' "$1" "FAILED: $2")"); }

# stalls RESTARTS AMULEDS: "N stalls" from the amuled restarts counted, each
# stall restarting AMULEDS amuleds.
stalls() { echo "$(( $1 / $2 )) stalls"; }

# done_time FILE: the change time of FILE (set when it was renamed into
# the incoming directory), in seconds since the epoch.
done_time() { stat -c '%.9Z' "$1"; }

# mule_timeouts NAME: how often NAME's log says a source stopped sending.
mule_timeouts() {
  grep -cE 'no data from .* reconnecting|gave a slot but no data' "${MULE_DIR[$1]}/muleteerd.log" 2>/dev/null
}

# mule_wait_complete NAME FILE TIMEOUT [AMULED...]: waits for FILE in
# muleteerd NAME's incoming dir. With amuleds (the uploaders), a stall
# restarts them as amule_wait_complete does: no progress for
# AMULE_STALL_SECS, or one of their sockets keeps unread data for
# AMULE_RECVQ_SECS while nothing moves.
mule_wait_complete() {
  local n=$1 file=$2 timeout=$3; shift 3
  local peers=("$@") end=$(( $(date +%s) + timeout )) last="" last_change d stuck why
  last_change=$(date +%s)
  _AMULE_RQ=()
  while [ "$(date +%s)" -lt "$end" ]; do
    [ -f "${MULE_DIR[$n]}/incoming/$file" ] && return 0
    stuck=
    if [ ${#peers[@]} -gt 0 ]; then _amule_stuck_socket "${peers[@]}"; stuck=$_AMULE_STUCK; fi
    d=$(json_num "$(mcli "$n" --json downloads 2>/dev/null)" "done")
    [ "${d:-0}" -gt 0 ] && first_seen "$file"
    if [ "$d" != "$last" ]; then last=$d; last_change=$(date +%s); fi
    why=
    if [ -n "$stuck" ] && [ $(( $(date +%s) - last_change )) -ge "$AMULE_RECVQ_SECS" ]; then
      why="amuled ${stuck%% *} has a socket stuck with unread data (${stuck#* })"
    elif [ $(( $(date +%s) - last_change )) -ge "$AMULE_STALL_SECS" ]; then
      why="no progress for $AMULE_STALL_SECS s"
    fi
    if [ -n "$why" ] && [ ${#peers[@]} -gt 0 ]; then
      diag "stall at ${last:-0} bytes: $why; restarting ${peers[*]}"
      amule_restart "${peers[@]}" || return 1
      last_change=$(date +%s); _AMULE_RQ=()
    fi
    sleep 1
  done
  return 1
}

# ---- files ----
if want a || want b || want c; then
  for f in x y z; do head -c "$SIZE" /dev/urandom >"$W/$f.bin"; done
  XH=$(rhash --printf '%{ed2k}' "$W/x.bin")
  YH=$(rhash --printf '%{ed2k}' "$W/y.bin")
  ZH=$(rhash --printf '%{ed2k}' "$W/z.bin")
fi

# ---- (a)-(c): the fixture, the amuled seeder SEED (x for (a), z for
# (c)), the amuled downloader DL and muleteerd A (shares y) ----
if want a || want b || want c; then
  pick_ports SP 5; pick_ports SEEDP 4; pick_ports DLP 4; pick_ports AP 2
  # HighIDs without the port check (aMule refuses a third client from one
  # IP, and every peer and the check come from 127.0.0.1), except the two
  # uploaders that are reached by callback.
  setsid "$BUILD/tests/fixtures/ed2k_server" --port "$SP" --name "bench fixture" --highid-all \
    --lowid-port "$AP" --lowid-port "$SEEDP" --keep-offers --log "$W/server.log" \
    </dev/null 2>"$W/server.err" &
  CLEANUP_PIDS+=("$!")
  eventually 10 grep -qs "listening port=$SP " "$W/server.log" ||
    { echo "the server fixture did not start: $(cat "$W/server.err")"; exit 1; }

  mkdir -p "$W/seed/Incoming" "$W/a/share"
  cp "$W/x.bin" "$W/z.bin" "$W/seed/Incoming/"
  cp "$W/y.bin" "$W/a/share/"
  amule_start SEED "$W/seed" "$SEEDP" $((SEEDP + 1)) $((SEEDP + 2)) "$SP" ||
    { echo "amuled SEED did not start"; exit 1; }
  T_SEED=$(date +%s)
  amule_start DL "$W/dl" "$DLP" $((DLP + 1)) $((DLP + 2)) "$SP" ||
    { echo "amuled DL did not start"; exit 1; }
  start_mule A "$W/a" "$AP" "shared_dirs = $W/a/share" "servers = 127.0.0.1:$SP" ||
    { echo "muleteerd A did not start: $(cat "$W/a/stderr")"; exit 1; }
  seed_hashed() { [ "$(amule_hash SEED x.bin)" != "" ] && [ "$(amule_hash SEED z.bin)" != "" ]; }
  eventually 120 seed_hashed || { echo "amuled SEED did not share the files"; exit 1; }
  [ "$(amule_hash SEED x.bin | tr A-F a-f)" = "$XH" ] || { echo "amuled's hash differs from rhash's"; exit 1; }
  a_ready() { mcli A --json server | grep -q '"lowid": *true' && mcli A shared | grep -q y.bin; }
  eventually 60 a_ready || { echo "muleteerd A is not a LowID sharing y.bin"; exit 1; }
  eventually 60 amule_connected DL || { echo "amuled DL did not log in"; exit 1; }
fi

# ---- (a) amuled -> Muleteer ----
if want a; then
  echo "# (a) amuled SEED -> muleteerd A, $SIZE bytes"
  r0=$AMULE_RESTARTS; m0=$(mule_timeouts A); cs=$(cpu_of SEED); ca=$(cpu_of A); t0=$(now)
  mcli A add "ed2k://|file|x.bin|$SIZE|$XH|/|sources,127.0.0.1:$SEEDP|/" >/dev/null
  if mule_wait_complete A x.bin "$TIMEOUT" SEED; then
    t1=$(done_time "$W/a/incoming/x.bin")
    ok=$(cmp -s "$W/x.bin" "$W/a/incoming/x.bin" && echo "bytes ok" || echo "BYTES DIFFER")
    add_row "(a) amuled -> Muleteer" "$SIZE" "$t0" "$t1" amuled $(( $(cpu_of SEED) - cs )) \
      muleteerd $(( $(cpu_of A) - ca )) \
      "$(stalls $((AMULE_RESTARTS - r0)) 1), $(( $(mule_timeouts A) - m0 )) mt" "$ok" x.bin
  else
    failed_row "(a) amuled -> Muleteer" "not complete after $TIMEOUT s"
  fi
fi

# ---- (b) Muleteer -> amuled ----
if want b; then
  echo "# (b) muleteerd A (LowID) -> amuled DL, $SIZE bytes"
  r0=$AMULE_RESTARTS; ca=$(cpu_of A); cd=$(cpu_of DL); t0=$(now)
  amule_add DL "ed2k://|file|y.bin|$SIZE|$YH|/"
  if amule_wait_complete DL y.bin "$TIMEOUT"; then
    t1=$(done_time "$W/dl/Incoming/y.bin")
    ok=$(cmp -s "$W/y.bin" "$W/dl/Incoming/y.bin" && echo "bytes ok" || echo "BYTES DIFFER")
    add_row "(b) Muleteer -> amuled" "$SIZE" "$t0" "$t1" muleteerd $(( $(cpu_of A) - ca )) \
      amuled $(( $(cpu_of DL) - cd )) "$(stalls $((AMULE_RESTARTS - r0)) 1)" "$ok" y.bin
  else
    failed_row "(b) Muleteer -> amuled" "not complete after $TIMEOUT s"
  fi
fi

# ---- (c) amuled -> amuled, the reference ----
if want c; then
  # amuled offers its files about 61 s after it starts (amule_fixture.sh).
  seed_offered() {
    local c; c=$(sed -n "s/.* login conn=\([0-9]*\) .* port=$SEEDP .*/\1/p" "$W/server.log" | tail -n 1)
    [ -n "$c" ] && grep -qE "offer conn=$c id=[0-9]+ files=[0-9]+ total=2$|login conn=$c .*kept=2" "$W/server.log"
  }
  eventually $((T_SEED + 150 - $(date +%s))) seed_offered ||
    echo "# the seeder's offer did not reach the fixture; trying anyway"
  echo "# (c) amuled SEED (LowID) -> amuled DL, $SIZE bytes"
  r0=$AMULE_RESTARTS; cs=$(cpu_of SEED); cd=$(cpu_of DL); t0=$(now)
  amule_add DL "ed2k://|file|z.bin|$SIZE|$ZH|/"
  if amule_wait_complete DL z.bin "$TIMEOUT" SEED; then
    t1=$(done_time "$W/dl/Incoming/z.bin")
    ok=$(cmp -s "$W/z.bin" "$W/dl/Incoming/z.bin" && echo "bytes ok" || echo "BYTES DIFFER")
    add_row "(c) amuled -> amuled (ref)" "$SIZE" "$t0" "$t1" amuled $(( $(cpu_of SEED) - cs )) \
      amuled $(( $(cpu_of DL) - cd )) "$(stalls $((AMULE_RESTARTS - r0)) 2)" "$ok" z.bin
  else
    failed_row "(c) amuled -> amuled" "not complete after $TIMEOUT s"
  fi
fi

# The amuleds and A are done: stop them, so that (d) has the machine.
stop_all_mules
amule_stop_all >/dev/null 2>&1

# ---- (d) Muleteer -> Muleteer, 1 GiB, no limits ----
if want d; then
  pick_ports M1P 2; pick_ports M2P 2
  mkdir -p "$W/m1/share"
  head -c "$BIG" /dev/urandom >"$W/m1/share/big.bin"
  BH=$(rhash --printf '%{ed2k}' "$W/m1/share/big.bin")
  start_mule M1 "$W/m1" "$M1P" "shared_dirs = $W/m1/share" || { echo "muleteerd M1 did not start"; exit 1; }
  start_mule M2 "$W/m2" "$M2P" || { echo "muleteerd M2 did not start"; exit 1; }
  m1_shares() { mcli M1 shared | grep -q "$BH"; }
  eventually 300 m1_shares || { echo "muleteerd M1 does not share big.bin"; exit 1; }
  echo "# (d) muleteerd M1 -> muleteerd M2, $BIG bytes, no limits"
  m0=$(mule_timeouts M2); c1=$(cpu_of M1); c2=$(cpu_of M2); t0=$(now)
  mcli M2 add "ed2k://|file|big.bin|$BIG|$BH|/|sources,127.0.0.1:$M1P|/" >/dev/null
  if mule_wait_complete M2 big.bin "$TIMEOUT"; then
    t1=$(done_time "$W/m2/incoming/big.bin")
    u=$(( $(cpu_of M1) - c1 )); d=$(( $(cpu_of M2) - c2 ))
    ok=$(cmp -s "$W/m1/share/big.bin" "$W/m2/incoming/big.bin" && echo "bytes ok" || echo "BYTES DIFFER")
    add_row "(d) Muleteer -> Muleteer" "$BIG" "$t0" "$t1" muleteerd "$u" muleteerd "$d" \
      "$(( $(mule_timeouts M2) - m0 )) mt" "$ok" big.bin
  else
    failed_row "(d) Muleteer -> Muleteer" "not complete after $TIMEOUT s"
  fi
  stop_all_mules
fi

echo
echo "Transfers on loopback, $(date -u +%Y-%m-%dT%H:%MZ); time from the add to the file in"
echo "the incoming dir, and from the first bytes received (1st: the transfer itself, without"
echo "finding the source); CPU seconds of each process meanwhile; stalls: amuled stalls (each"
echo "restarts the amuleds involved), mt: Muleteer's own source timeouts. One run each: the"
echo "amuled runs take minutes at its upload ceiling"
printf '%-26s %8s %8s %8s %8s %8s %16s %16s  %-22s %s\n' scenario MB seconds MB/s "s 1st" "MB/s 1st" \
  "uploader CPU s" "downloader CPU s" stalls check
printf '%s\n' "${ROWS[@]}"
