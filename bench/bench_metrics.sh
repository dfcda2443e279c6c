#!/usr/bin/env bash
# bench_metrics.sh: /api/metrics (metrics.fcgi) through lighttpd with 30
# days of 15-second samples of 3 nodes (518,400 samples and their rollups),
# every range of the dashboard (the route aMuTorrent's UI polls) and of
# speed-history, stats and history, under wrk with one client, beside the
# reference of the same lighttpd serving the same body as a static file,
# interleaved in the same run. Prints the plans of the all-nodes charts
# (which must use an index), the time of the first answer (rendered) and
# of the second (kept by the program), and what was measured; target:
# p99 < 10 ms.
#
#   bench/bench_metrics.sh [SECONDS [ROUNDS]]
#       SECONDS a measurement (default 5), ROUNDS of interleaved
#       measurements (default 3; medians are printed).
#   BENCH_CASES="route?query ..." measures those instead of the default set.
# Starts its own instance with run.sh (existing build: set MULETEER_BUILD
# to one configured without sanitizers) in a temporary directory. Needs wrk
# and jq.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/tools/lib.sh"
SECS=${1:-5}
ROUNDS=${2:-3}
BUILD=${MULETEER_BUILD:-$ROOT/build}
TARGET_MS=10

for p in wrk jq; do
  command -v "$p" >/dev/null || { echo "bench_metrics.sh: install $p" >&2; exit 1; }
done
if grep -q __asan_init "$BUILD/cgi-bin/metrics.fcgi" 2>/dev/null; then
  echo "# note: $BUILD was configured with --enable-sanitizers: figures are low"
fi

VAR=$(mktemp -d /tmp/mt-bench.XXXXXX); chmod 0755 "$VAR"
PORT=$(free_port)
RUNSH=
cleanup() {
  if [ "${broke:-0}" != 0 ] && [ -f "$VAR.log" ]; then
    echo "# the stack's last words:"; tail -n 15 "$VAR.log" "$VAR"/log/*.log 2>/dev/null | sed 's/^/#   /'
  fi
  if [ -n "$RUNSH" ]; then kill -TERM "$RUNSH" 2>/dev/null || true; wait "$RUNSH" 2>/dev/null || true; fi
  "$ROOT/tools/pgcluster.sh" stop "$VAR" immediate >/dev/null 2>&1 || true
  rm -rf "$VAR" "$VAR.log"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

KEY="bench$RANDOM$RANDOM$RANDOM"
cat >"$VAR/muleteer.conf" <<EOF2
node_name = bench-live
state_dir = $VAR
log_file = $VAR/log/muleteerd.log
tcp_port = $((PORT + 1))
udp_port = $((PORT + 2))
kad_nodes_url =
api_key = $KEY
server_autoconnect = no
rescan_interval = 0
sample_interval = 3600
EOF2
chmod 0600 "$VAR/muleteer.conf"; chown_service "$VAR/muleteer.conf"
MULETEER_VAR=$VAR MULETEER_HTTP_PORT=$PORT MULETEER_BUILD=$BUILD MULETEER_SKIP_BUILD=1 \
  "$ROOT/run.sh" >"$VAR.log" 2>&1 &
RUNSH=$!
for _ in $(seq 1 900); do grep -q 'Press Ctrl-C' "$VAR.log" 2>/dev/null && break; sleep 0.1; done
grep -q 'Press Ctrl-C' "$VAR.log" || { cat "$VAR.log"; exit 1; }
DB=$(sed -n 's/^database = //p' "$VAR/muleteer.conf" | tail -n 1)
sql() { as_service_user psql "$DB" -XAtq -v ON_ERROR_STOP=1 "$@"; }

echo "# $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) (figures need an idle machine)"
echo "# PostgreSQL $(sql -c 'SHOW server_version'), $(lighttpd -v 2>&1 | head -n 1)"

# ---- the data: 30 days of 15 s samples of 3 nodes, ending now ----
# One INSERT per node (the rollup trigger runs once per statement); the
# totals are the running sum of rate x interval.
t0=$(date +%s.%N)
for node in bench-a bench-b bench-c; do
  sql -c "INSERT INTO transfer_samples (node, sampled_at, interval_ms, dl_rate, ul_rate, dl_total,
                                      ul_total, active_transfers, connected_sources)
          SELECT '$node', t, 15000, dl, ul, sum(dl * 15) OVER (ORDER BY k), sum(ul * 15) OVER (ORDER BY k), 3, 40
            FROM (SELECT k, to_timestamp((extract(epoch FROM now())::bigint / 15 - k) * 15) AS t,
                         (200000 + 150000 * sin(k * 15 * 2 * pi() / 86400) + (k * 7919) % 50000)::bigint AS dl,
                         (40000 + 20000 * cos(k * 15 * 2 * pi() / 86400) + (k * 104729) % 9000)::bigint AS ul
                    FROM generate_series(172799::bigint, 0, -1) AS k) s
           ORDER BY k DESC"
done
sql -c "VACUUM ANALYZE transfer_samples" -c "VACUUM ANALYZE transfer_rollups"
echo "# $(sql -c "SELECT count(*) FROM transfer_samples") samples, $(sql -c "SELECT count(*) FROM transfer_rollups") rollups written in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }') s"

# ---- the plans of the all-nodes charts (cgi-bin/metrics/query.c) ----
plan() { # NAME SQL
  local p; p=$(sql -c "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) $2")
  local scan; scan=$(grep -oE '(Index Only Scan|Index Scan|Bitmap Index Scan|Seq Scan)( using [a-z_]+)? on [a-z_]+' <<<"$p" | sort -u | paste -sd ';')
  printf '# plan %-30s %s; %s\n' "$1" "$scan" "$(grep -o 'Execution Time: .*' <<<"$p")"
  if grep -q 'Seq Scan' <<<"$scan"; then echo "# ... MISSED: no index"; fail=1; fi
}
fail=0
FROM30=$(( ($(date +%s) - 30 * 86400 - 1) / 3600 * 3600 ))
FROM30H=$(( ($(date +%s) - 30 * 86400 - 1) / 21600 * 21600 ))
FROM24=$(( ($(date +%s) - 86400 - 1) / 15 * 15 ))
roll() { echo "SELECT g, sum(dl), sum(ul), max(dp), max(up) FROM (SELECT extract(epoch FROM bucket_start)::bigint / $3 * $3 AS g, sum(dl_bytes) AS dl, sum(ul_bytes) AS ul, sum(dl_peak) AS dp, sum(ul_peak) AS up FROM transfer_rollups WHERE resolution_s = $2 AND bucket_start >= to_timestamp($1) GROUP BY bucket_start) x GROUP BY g ORDER BY g"; }
plan "30d speed, all nodes" "$(roll "$FROM30" 3600 3600)"
plan "30d history, all nodes" "$(roll "$FROM30H" 21600 21600)"
plan "24h speed (raw), all nodes" "SELECT sampled_at, interval_ms, dl_rate, ul_rate FROM transfer_samples WHERE sampled_at > to_timestamp($FROM24)"

# ---- the measurements ----
API="http://127.0.0.1:$PORT/api/metrics"
wrk_run() { # URL
  local out; out=$(wrk -t1 -c1 -d"${SECS}s" --latency -H "X-API-Key: $KEY" "$1")
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0;
                     if (v ~ /m$/) return v * 60000; if (v ~ /s$/) return v * 1000; return v }
    /^ +50%/ { m = ms($2) }
    /^ +99%/ { p = ms($2) }
    /Requests\/sec/ { r = $2 }
    /Non-2xx/ { e += $NF }
    /Socket errors/ { e += 1 }
    END { printf "%.0f %.3f %.3f %d\n", r, m, p, e }' <<<"$out"
}
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

CASES=${BENCH_CASES:-"dashboard?range=24h dashboard?range=7d dashboard?range=30d speed-history?range=24h
       history?range=30d stats?range=30d dashboard?range=30d&node=bench-b"}
declare -A RPS P50 P99 ERR SIZE
i=0
for c in $CASES; do
  i=$((i + 1))
  # the first request renders the answer (the program keeps it for the
  # next ones, until the rows or the window change): its time once
  t=$(curl -fsS -w '%{time_total}' -o "$VAR/www/m$i.json" -H "X-API-Key: $KEY" "$API/$c")
  t2=$(curl -fsS -w '%{time_total}' -o /dev/null -H "X-API-Key: $KEY" "$API/$c")
  chmod 0644 "$VAR/www/m$i.json"
  SIZE[$c]=$(stat -c %s "$VAR/www/m$i.json")
  echo "# $c: $(jq -c '[(.speedData // .).data // empty | length] + [(.historicalData.data // empty | length)]' "$VAR/www/m$i.json") buckets, ${SIZE[$c]} bytes; rendered in $(awk -v t="$t" 'BEGIN { printf "%.1f", t * 1000 }') ms, kept answer $(awk -v t="$t2" 'BEGIN { printf "%.1f", t * 1000 }') ms (curl, once)"
done
for ((r = 1; r <= ROUNDS; r++)); do
  i=0
  for c in $CASES; do
    i=$((i + 1))
    for kind in metrics static; do
      url="$API/$c"; [ $kind = static ] && url="http://127.0.0.1:$PORT/m$i.json"
      read -r rps p50 p99 err <<<"$(wrk_run "$url")"
      RPS[$kind $c]+="$rps "; P50[$kind $c]+="$p50 "; P99[$kind $c]+="$p99 "
      ERR[$kind $c]=$(( ${ERR[$kind $c]:-0} + err ))
    done
  done
done

echo
echo "wrk -t1 -c1, ${SECS} s x $ROUNDS rounds interleaved, medians; static = the same lighttpd sending the same bytes from a file"
printf '%-32s %9s %9s %9s %9s | %9s %9s %9s  %s\n' route bytes req/s p50_ms p99_ms st_req/s st_p50 st_p99 target
for c in $CASES; do
  p99=$(median <<<"${P99[metrics $c]}")
  verdict=ok
  awk -v p="$p99" -v t="$TARGET_MS" 'BEGIN { exit !(p < t) }' || { verdict="MISSED (p99 >= $TARGET_MS ms)"; fail=1; }
  [ "${ERR[metrics $c]}" = 0 ] || { verdict="ERRORS (${ERR[metrics $c]})"; fail=1; broke=1; }
  printf '%-32s %9s %9s %9s %9s | %9s %9s %9s  %s\n' "$c" "${SIZE[$c]}" \
    "$(median <<<"${RPS[metrics $c]}")" "$(median <<<"${P50[metrics $c]}")" "$p99" \
    "$(median <<<"${RPS[static $c]}")" "$(median <<<"${P50[static $c]}")" "$(median <<<"${P99[static $c]}")" "$verdict"
done
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $fail
