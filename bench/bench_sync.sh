#!/usr/bin/env bash
# bench_sync.sh: what sync/maindata's rid deltas cost with 1,000 downloads
# polled every 1.5 s (qBittorrent's refresh_interval) by 3 clients, each
# following its own rids, while ACTIVE of the downloads change every
# second; beside the reference of the same clients always asking for
# everything (rid=0: a full update per poll, what every poll cost before
# deltas). Runs alternate (full, delta, full, delta...); the figures are
# the medians over the runs of: answers, latency median and p99 (curl),
# bytes per answer, CPU ms per answer of the qbit.fcgi processes and of
# PostgreSQL, WAL bytes per answer, and the sync tables' size at the end.
#
#   bench/bench_sync.sh [SECONDS] [ROUNDS] [ACTIVE]   (default 30 2 50)
# Starts its own instance with run.sh (existing build; use a build
# configured without sanitizers: MULETEER_BUILD=dir) in a temporary
# directory. The downloads are real (added through torrents/add; no
# server, so they stay stalled); the changes every second are an UPDATE of
# ACTIVE rows' speed and progress, as the daemon's per-second sync writes
# the rows of downloads that receive data.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/tools/lib.sh"
SECS=${1:-30}
ROUNDS=${2:-2}
ACTIVE=${3:-50}
N=1000
CLIENTS=3
BUILD=${MULETEER_BUILD:-$ROOT/build}
command -v jq >/dev/null || { echo "bench_sync.sh: install jq" >&2; exit 1; }
grep -q __asan_init "$BUILD/cgi-bin/qbit.fcgi" 2>/dev/null &&
  echo "# note: $BUILD was configured with --enable-sanitizers: CPU figures are inflated"

VAR=$(mktemp -d /tmp/mt-bench.XXXXXX); chmod 0755 "$VAR"
PORT=$(free_port)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "${RUNSH:-}" ] && kill -TERM "$RUNSH" 2>/dev/null && wait "$RUNSH" 2>/dev/null
  "$ROOT/tools/pgcluster.sh" stop "$VAR" immediate >/dev/null 2>&1 || true
  rm -rf "$VAR" "$VAR.log"
}
trap cleanup EXIT
cat >"$VAR/muleteer.conf" <<EOF
node_name = bench
state_dir = $VAR
log_file = $VAR/log/muleteerd.log
tcp_port = $((PORT + 1))
udp_port = $((PORT + 2))
kad_nodes_url =
api_key = benchkey$RANDOM$RANDOM$RANDOM
server_autoconnect = no
EOF
chmod 0600 "$VAR/muleteer.conf"; chown_service "$VAR/muleteer.conf"
MULETEER_VAR=$VAR MULETEER_HTTP_PORT=$PORT MULETEER_BUILD=$BUILD MULETEER_SKIP_BUILD=1 \
  "$ROOT/run.sh" >"$VAR.log" 2>&1 &
RUNSH=$!
for _ in $(seq 1 300); do grep -q 'Press Ctrl-C' "$VAR.log" 2>/dev/null && break; sleep 0.1; done
grep -q 'Press Ctrl-C' "$VAR.log" || { cat "$VAR.log"; exit 1; }
DB=$(sed -n 's/^database = //p' "$VAR/muleteer.conf" | tail -n 1)
KEY=$(sed -n 's/^api_key = //p' "$VAR/muleteer.conf" | tail -n 1)
API="http://127.0.0.1:$PORT/api/v2"
AUTH="Authorization: Bearer $KEY"
PSQL() { as_service_user psql "$DB" -XAtq -c "$1"; }
# descendants PID: every process below PID.
descendants() { local c; for c in $(pgrep -P "$1"); do echo "$c"; descendants "$c"; done; }
LIGHTTPD=
for p in $(descendants "$RUNSH"); do
  [ "$(cat "/proc/$p/comm" 2>/dev/null)" = lighttpd ] && LIGHTTPD=$p
done
POSTMASTER=$(head -n 1 "$VAR/pg/data/postmaster.pid")
[ -n "$LIGHTTPD" ] && [ -n "$POSTMASTER" ] || { echo "bench_sync.sh: no lighttpd or PostgreSQL" >&2; exit 1; }

# ---- N real downloads, in batches of 100 links ----
for b in $(seq 0 $((N / 100 - 1))); do
  urls=$(for i in $(seq $((b * 100 + 1)) $((b * 100 + 100))); do
    printf 'ed2k://|file|Some.Show.S01E%04d.720p.WEB-DL.mkv|%d|%s|/\n' "$i" $((734003200 + i)) \
      "$(printf 'bench-%d' "$i" | md5sum | cut -c1-32)"
  done)
  curl -fsS -m 120 -H "$AUTH" --data-urlencode "urls=$urls" "$API/torrents/add" >/dev/null
done
for _ in $(seq 1 120); do
  [ "$(PSQL "SELECT count(*) FROM downloads WHERE node = 'bench'")" = $N ] && break; sleep 0.5
done
ROWS=$(PSQL "SELECT count(*) FROM downloads WHERE node = 'bench'")
FULL_BYTES=$(curl -fsS -H "$AUTH" "$API/sync/maindata?rid=0" | wc -c)

# churn: every second ACTIVE rows change speed and progress
churn() {
  while :; do
    PSQL "UPDATE downloads SET dl_speed = 1000 + (random() * 100000)::bigint,
            done_bytes = least(done_bytes + 10000, size - 1), updated_at = now()
          WHERE node = 'bench' AND hash IN (SELECT hash FROM downloads WHERE node = 'bench'
                                           ORDER BY hash LIMIT $ACTIVE)" >/dev/null
    sleep 1
  done
}

# client OUT MODE: polls every 1.5 s for SECS; MODE full (rid=0 each time)
# or delta (the rid of the previous answer); one line per answer:
# "seconds bytes full_update".
client() {
  local out=$1 mode=$2 rid=0 end=$(( $(date +%s) + SECS )) body t
  sleep "0.$((RANDOM % 10))"
  while [ "$(date +%s)" -lt "$end" ]; do
    t=$(curl -fsS -m 30 -H "$AUTH" -o "$out.body" -w '%{time_total}' "$API/sync/maindata?rid=$rid")
    body=$(jq -c '{rid, f: (.full_update // false)}' "$out.body")
    echo "$t $(stat -c %s "$out.body") $(jq -r .f <<<"$body")" >>"$out"
    [ "$mode" = delta ] && rid=$(jq -r .rid <<<"$body")
    sleep 1.5
  done
}

# cpu_ms PARENT [NAME]: CPU time (user + system, ms) of PARENT's live
# children (named NAME): the qbit.fcgi processes under lighttpd, the
# PostgreSQL backends and workers under the postmaster (the daemon's and
# the FastCGI programs' sessions are long-lived; the churn's are not).
cpu_ms() {
  local p total=0
  for p in $(pgrep -P "$1" ${2:+-x "$2"}); do
    total=$(( total + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0) ))
  done
  echo $(( total * 1000 / $(getconf CLK_TCK) ))
}
wal() { PSQL "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn"; }

# run MODE: one measurement of SECS; prints "answers fulls p50_ms p99_ms
# bytes_per_delta fcgi_ms_per_s pg_ms_per_s wal_bytes_per_s" (MODE idle:
# no clients, the background of the churn and the daemon).
run() {
  local mode=$1 d c f0 p0 w0 t0 f1 p1 w1 t1
  d=$(mktemp -d "$VAR/run.XXXX")
  f0=$(cpu_ms "$LIGHTTPD" qbit.fcgi); p0=$(cpu_ms "$POSTMASTER"); w0=$(wal); t0=$(date +%s%N)
  if [ "$mode" = idle ]; then
    sleep "$SECS"; echo "0 0 0" >"$d/c1"
  else
    for c in $(seq 1 $CLIENTS); do client "$d/c$c" "$mode" & PIDS+=("$!"); done
    wait "${PIDS[@]: -$CLIENTS}"
  fi
  f1=$(cpu_ms "$LIGHTTPD" qbit.fcgi); p1=$(cpu_ms "$POSTMASTER"); w1=$(wal); t1=$(date +%s%N)
  sort -n "$d"/c? | awk -v fc=$((f1 - f0)) -v pc=$((p1 - p0)) -v w=$((w1 - w0)) \
                       -v s=$(( (t1 - t0) / 1000000 )) -v mode="$mode" '
    { t[NR] = $1 * 1000; if ($3 == "true") fulls++; else { b += $2; deltas++ } }
    END {
      n = mode == "idle" ? 0 : NR
      printf "%d %d %.1f %.1f %d %.0f %.0f %.0f\n", n, fulls, n ? t[int((n + 1) / 2)] : 0,
             n ? t[int(n * 0.99 + 0.999)] : 0, deltas ? b / deltas : 0,
             fc * 1000 / s, pc * 1000 / s, w * 1000 / s
    }'
}

churn & CHURN=$!; PIDS+=("$CHURN")
sleep 2
for r in $(seq 1 "$ROUNDS"); do
  run idle >>"$VAR/idle"
  run full >>"$VAR/full"
  run delta >>"$VAR/delta"
done
kill "$CHURN" 2>/dev/null || true
SIZE=$(PSQL "SELECT pg_size_pretty(pg_total_relation_size('sync_rids') + pg_total_relation_size('sync_torrents'))")
VERSIONS=$(PSQL "SELECT count(*) FROM sync_torrents")
KEPT=$(PSQL "SELECT count(*) FROM sync_rids")

# median of column K over the runs of a file
med() { cut -d' ' -f"$2" "$1" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo "sync/maindata, $ROWS downloads ($ACTIVE changing every second), $CLIENTS clients every 1.5 s,"
echo "${SECS}s runs, medians of $ROUNDS interleaved runs; a full update is $FULL_BYTES bytes."
echo "bytes/answer: the deltas' (a client's first answer is a full update); CPU and WAL per"
echo "second of the run, the idle line being the churn and the daemon alone:"
printf '  %-30s %7s %5s %7s %7s %10s %10s %10s %10s\n' what answers fulls "p50 ms" "p99 ms" \
  "bytes/ans" "fcgi ms/s" "pg ms/s" "WAL kB/s"
for m in idle full delta; do
  case $m in
    idle) label="no polls (background)" ;;
    full) label="rid=0 every poll (reference)" ;;
    delta) label="rid deltas" ;;
  esac
  printf '  %-30s %7s %5s %7s %7s %10s %10s %10s %10s\n' "$label" "$(med "$VAR/$m" 1)" \
    "$(med "$VAR/$m" 2)" "$(med "$VAR/$m" 3)" "$(med "$VAR/$m" 4)" \
    "$([ $m = full ] && echo "$FULL_BYTES" || med "$VAR/$m" 5)" "$(med "$VAR/$m" 6)" \
    "$(med "$VAR/$m" 7)" "$(( $(med "$VAR/$m" 8) / 1024 ))"
done
echo "  stored at the end: $KEPT rids, $VERSIONS torrent versions, $SIZE (sync_rids + sync_torrents)"
