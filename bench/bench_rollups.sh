#!/usr/bin/env bash
# bench_rollups.sh: the 30-day transfer chart from Muleteer's rollups
# (report_chart, sql/006_rollups_reporting.sql) beside the same chart
# aggregated from raw samples in the same database: 30 days at Muleteer's
# 15 s (the reference the targets use) and at 3 s (864,000 rows, what
# aMuTorrent keeps), one node and all nodes together. Checks that both
# give the same bytes and tells whether the targets are met: the chart in
# at most 10 ms and at least 50 x faster than the raw 15 s aggregation
# (medians of interleaved runs), the all-nodes chart in 10 ms too. Also the daemon's write cost: its sample INSERT with the
# rollup trigger beside the same INSERT into a copy of the table without
# it, and one multi-row upsert of 1,000 download rows (daemon/store/download_tables.c)
# beside 1,000 single-row UPDATEs.
#
# Usage: bench/bench_rollups.sh [BUILDDIR]   (default build/; needs bin/muleteerd)
#   MT_BENCH_RUNS   runs of each query (default 5), interleaved; the targets
#                   are judged on the medians (the best run is printed too),
#                   timed by psql's \timing, so they include the round trip
#                   over the Unix socket
# A private PostgreSQL cluster (tools/pgcluster.sh, shared_buffers 64MB)
# lives in a temporary directory and is stopped and removed afterwards.
# Other busy processes spoil the figures: the load average is printed.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
builddir=${1:-${MT_BUILDDIR:-$ROOT/build}}
runs=${MT_BENCH_RUNS:-5}
daemon=$builddir/bin/muleteerd
TARGET_MS=10
TARGET_X=50
. "$ROOT/tools/lib.sh"

if [ ! -x "$daemon" ]; then
  echo "bench_rollups.sh: $daemon not found: build Muleteer first (make), or give the build directory" >&2
  exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench_rollups.XXXXXX")
chmod 0755 "$tmp"
cleanup() {
  "$ROOT/tools/pgcluster.sh" stop "$tmp" immediate >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "# $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) (figures need an idle machine)"
"$ROOT/tools/pgcluster.sh" init "$tmp" >/dev/null
"$ROOT/tools/pgcluster.sh" start "$tmp" >/dev/null
"$ROOT/tools/pgcluster.sh" createdb "$tmp" muleteer >/dev/null
db=$("$ROOT/tools/pgcluster.sh" conninfo "$tmp")
printf 'database = %s\n' "$db" >"$tmp/muleteer.conf"
chmod 0644 "$tmp/muleteer.conf"
as_service_user "$daemon" -c "$tmp/muleteer.conf" --migrate | sed 's/^/# /'
echo "# PostgreSQL $(as_service_user psql "$db" -XAtqc 'SHOW server_version')"

Q() { as_service_user psql "$db" -XAtq -v ON_ERROR_STOP=1 "$@"; }
# timed FILE: runs the SQL file with \timing; prints the milliseconds of
# each statement, one a line.
timed() {
  chmod 0644 "$1"
  { printf '\\timing on\n\\o /dev/null\n'; cat "$1"; } >"$1.t"
  chmod 0644 "$1.t"
  Q -f "$1.t" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'
}
# best_median: "best median" of the numbers on stdin.
best_median() {
  sort -g | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
                                       printf "%.3f %.3f\n", v[1], m }'
}
# sum: the sum of the numbers on stdin.
sum() { awk '{ s += $1 } END { printf "%.3f\n", s }'; }

# ---- the data: 30 days ending at the start of this hour ----
# Speeds follow the day (a sine) with noise; the totals are the running sum
# of rate x interval, so rollups and raw aggregation must agree exactly.
Q -c "CREATE TABLE bench_range AS SELECT date_trunc('hour', now()) - interval '30 days' AS t_from,
                                         date_trunc('hour', now()) AS t_to"
gen_sql() { # NODE STEP_S FIRST LAST
  cat <<SQL
INSERT INTO transfer_samples (node, sampled_at, interval_ms, dl_rate, ul_rate, dl_total, ul_total,
                              active_transfers, connected_sources)
SELECT '$1', t, $2 * 1000, dl, ul,
       sum(dl * $2) OVER (ORDER BY k), sum(ul * $2) OVER (ORDER BY k), 3, 40
  FROM (SELECT k, r.t_from + k * interval '$2 s' AS t,
               (200000 + 150000 * sin(k * $2 * 2 * pi() / 86400) + (k * 7919) % 50000)::bigint AS dl,
               (40000 + 20000 * cos(k * $2 * 2 * pi() / 86400) + (k * 104729) % 9000)::bigint AS ul
          FROM bench_range r, generate_series($3::bigint, $4) AS k) s
 ORDER BY k;
SQL
}
n3=$((30 * 86400 / 3)); n15=$((30 * 86400 / 15)); tail_n=2000
gen_sql amutorrent-3s 3 1 "$n3" >"$tmp/gen3.sql"
bulk3=$(timed "$tmp/gen3.sql")
# The 15 s node: all but the last $tail_n samples in one statement; those
# are written one by one below, as the daemon writes them.
gen_sql muleteer-15s 15 1 $((n15 - tail_n)) >"$tmp/gen15.sql"
bulk15=$(timed "$tmp/gen15.sql")
Q -c "VACUUM ANALYZE"

# ---- write cost: the daemon's sample INSERT, one statement per sample ----
# daemon/store/download_tables.c sample_job_run, with the values inlined (to_timestamp of
# the epoch, as the daemon sends it). The reference is the same statement
# on a copy of transfer_samples holding the same rows, without the trigger.
Q -c "CREATE TABLE plain_samples (LIKE transfer_samples INCLUDING ALL);
      INSERT INTO plain_samples SELECT * FROM transfer_samples WHERE node = 'muleteer-15s'"
Q -c "VACUUM ANALYZE plain_samples"
sample_sql() { # TABLE FIRST LAST
  Q -c "SELECT format('INSERT INTO $1 (node, sampled_at, interval_ms, dl_rate, ul_rate, dl_total,'
                      ' ul_total, active_transfers, connected_sources)'
                      ' SELECT %L, to_timestamp(%s::double precision), %s, %s, %s,'
                      '  COALESCE(last.dl_total, 0) + %s::bigint, COALESCE(last.ul_total, 0) + %s::bigint, %s, %s'
                      ' FROM (SELECT 1) AS one LEFT JOIN LATERAL (SELECT dl_total, ul_total FROM $1'
                      '  WHERE node = %L ORDER BY sampled_at DESC LIMIT 1) AS last ON true'
                      ' ON CONFLICT (node, sampled_at) DO NOTHING;',
                      'muleteer-15s', extract(epoch FROM r.t_from + k * interval '15 s'), 15000,
                      200000 + k % 1000, 40000, (200000 + k % 1000) * 15, 600000, 3, 40, 'muleteer-15s')
                 FROM bench_range r, generate_series($2::bigint, $3) AS k"
}
chunk=$((tail_n / 4))
: >"$tmp/ins_trigger.ms"; : >"$tmp/ins_plain.ms"
for c in 0 1 2 3; do
  first=$((n15 - tail_n + 1 + c * chunk)); last=$((first + chunk - 1))
  sample_sql transfer_samples "$first" "$last" >"$tmp/ins_t.sql"
  sample_sql plain_samples "$first" "$last" >"$tmp/ins_p.sql"
  timed "$tmp/ins_t.sql" | sum >>"$tmp/ins_trigger.ms"
  timed "$tmp/ins_p.sql" | sum >>"$tmp/ins_plain.ms"
done
per_sample() { awk -v c="$chunk" '{ printf "%.1f\n", $1 * 1000 / c }' "$1" | best_median; }
read -r ins_t ins_t_med < <(per_sample "$tmp/ins_trigger.ms")
read -r ins_p ins_p_med < <(per_sample "$tmp/ins_plain.ms")
Q -c "VACUUM ANALYZE"

# ---- the 30-day chart, 1-hour buckets ----
Q -c "SELECT count(*) FROM transfer_samples" >"$tmp/nrows"
# chart_q NODE, raw_q NODE: the chart from the rollups, and the same chart
# aggregated from the raw rows with the rollups' bucket rule.
chart_q() {
  echo "SELECT * FROM report_chart('$1', (SELECT t_from FROM bench_range), (SELECT t_to FROM bench_range))"
}
raw_q() {
  cat <<SQL
SELECT date_bin('1 hour', sampled_at - interval '1 microsecond', timestamptz 'epoch') AS bucket_start,
       sum(dl_rate * interval_ms / 1000) AS dl_bytes, sum(ul_rate * interval_ms / 1000) AS ul_bytes,
       max(dl_rate) AS dl_peak, max(ul_rate) AS ul_peak, count(*) AS samples
  FROM transfer_samples
 WHERE node = '$1' AND sampled_at > (SELECT t_from FROM bench_range)
   AND sampled_at <= (SELECT t_to FROM bench_range)
 GROUP BY 1 ORDER BY 1
SQL
}
# One file of interleaved runs: each run times every query once, in turn,
# so that a burst of other load spoils all of them alike; the first run of
# a round warms the caches and two rounds are made, only the second kept.
kinds="c3 r3 c15 r15 call rall"
for r in $(seq 0 "$runs"); do
  echo "$(chart_q amutorrent-3s);"; echo "$(raw_q amutorrent-3s);"
  echo "$(chart_q muleteer-15s);"; echo "$(raw_q muleteer-15s);"
  echo "$(chart_q NULL | sed "s/'NULL'/NULL/");"; echo "$(raw_q ALL | sed "s/node = 'ALL' AND //");"
done >"$tmp/charts.sql"
for round in 1 2; do timed "$tmp/charts.sql" >"$tmp/charts.ms"; done
i=0
for k in $kinds; do
  # the times of query k in each run but the first (the warm-up)
  awk -v k=$i -v n=6 'NR > n && (NR - 1) % n == k' "$tmp/charts.ms" >"$tmp/$k.ms"
  i=$((i + 1))
done
read -r c3 c3m < <(best_median <"$tmp/c3.ms")
read -r r3 r3m < <(best_median <"$tmp/r3.ms")
read -r c15 c15m < <(best_median <"$tmp/c15.ms")
read -r r15 r15m < <(best_median <"$tmp/r15.ms")
read -r call callm < <(best_median <"$tmp/call.ms")
read -r rall rallm < <(best_median <"$tmp/rall.ms")

# Both ways must draw the same chart (the last tail_n samples of the 15 s
# node were written with other speeds, so only the 3 s node is compared).
same=$(Q -c "SELECT count(*) FROM ($(chart_q amutorrent-3s)) c
             FULL JOIN ($(raw_q amutorrent-3s)) r USING (bucket_start)
             WHERE (c.dl_bytes, c.ul_bytes, c.dl_peak, c.ul_peak, c.samples)
                   IS DISTINCT FROM (r.dl_bytes, r.ul_bytes, r.dl_peak, r.ul_peak, r.samples)")
read -r points res < <(Q -c "SELECT count(*) || ' ' || min(resolution_s) FROM ($(chart_q amutorrent-3s)) c")
if [ "$same" != 0 ]; then
  echo "MISMATCH: the rollup chart and the raw aggregation differ in $same of 720 buckets" >&2
  exit 1
fi

# ---- 1,000 download rows in one upsert (daemon/store/download_tables.c ROWS_SQL) ----
rows_json() { # ROUND: a JSON array of 1,000 download rows
  Q -c "SELECT json_agg(json_build_object('hash', md5('f' || i), 'name', 'file ' || i || '.bin',
          'size', 700000000 + i, 'category', CASE WHEN i % 3 = 0 THEN 'video' END, 'priority', 0,
          'state', 'downloading', 'done_bytes', i * 1000 + $1 * 7, 'verified_bytes', i * 1000,
          'dl_speed', 1000 + $1 + i, 'sources', 10, 'complete_sources', 2, 'transferring_sources', 1,
          'added_at', 1700000000, 'completed_at', 0, 'save_path', '/var/incoming',
          'content_path', '/var/incoming/file ' || i || '.bin', 'error', NULL, 'added_by', 'admin',
          'added_via', 'api-v2')) FROM generate_series(1, 1000) AS i"
}
upsert_sql() { # ROUND
  local json; json=$(rows_json "$1")
  cat <<SQL
INSERT INTO downloads (node, hash, name, size, category, priority, state, done_bytes,
 verified_bytes, dl_speed, sources, complete_sources, transferring_sources, added_at,
 completed_at, save_path, content_path, error, added_by, added_via, updated_at)
 SELECT 'bench', hash, name, size, category, priority, state, done_bytes, verified_bytes,
  dl_speed, sources, complete_sources, transferring_sources, to_timestamp(added_at),
  to_timestamp(NULLIF(completed_at, 0)), save_path, content_path, error, added_by,
  added_via, now()
 FROM json_to_recordset('$json'::json) AS x(hash text, name text, size bigint, category text,
  priority smallint, state text, done_bytes bigint, verified_bytes bigint,
  dl_speed bigint, sources int, complete_sources int, transferring_sources int,
  added_at bigint, completed_at bigint, save_path text, content_path text, error text,
  added_by text, added_via text)
 ON CONFLICT (node, hash) DO UPDATE SET name = EXCLUDED.name, size = EXCLUDED.size,
  category = EXCLUDED.category, priority = EXCLUDED.priority, state = EXCLUDED.state,
  done_bytes = EXCLUDED.done_bytes, verified_bytes = EXCLUDED.verified_bytes,
  dl_speed = EXCLUDED.dl_speed, sources = EXCLUDED.sources,
  complete_sources = EXCLUDED.complete_sources,
  transferring_sources = EXCLUDED.transferring_sources, added_at = EXCLUDED.added_at,
  completed_at = EXCLUDED.completed_at, save_path = EXCLUDED.save_path,
  content_path = EXCLUDED.content_path, error = EXCLUDED.error,
  added_by = EXCLUDED.added_by, added_via = EXCLUDED.added_via, updated_at = now();
SQL
}
upsert_sql 0 >"$tmp/up0.sql"
timed "$tmp/up0.sql" >/dev/null   # the first write inserts the rows
: >"$tmp/up.sql"
for r in $(seq 1 "$runs"); do upsert_sql "$r" >>"$tmp/up.sql"; done
read -r up upm < <(timed "$tmp/up.sql" | best_median)
: >"$tmp/single.ms"
for r in $(seq 1 "$runs"); do
  Q -c "SELECT 'BEGIN;' UNION ALL
        (SELECT format('UPDATE downloads SET done_bytes = %s, dl_speed = %s, updated_at = now()'
                       ' WHERE node = %L AND hash = %L;', i * 1000 + $r * 11, 2000 + i, 'bench', md5('f' || i))
           FROM generate_series(1, 1000) AS i)
        UNION ALL SELECT 'COMMIT;'" >"$tmp/single.sql"
  timed "$tmp/single.sql" | sum >>"$tmp/single.ms"
done
read -r single singlem < <(best_median <"$tmp/single.ms")

# ---- report ----
awk -v n="$(cat "$tmp/nrows")" -v b3="$(echo "$bulk3" | head -n 1)" -v b15="$(echo "$bulk15" | head -n 1)" \
    -v n3="$n3" -v n15="$((n15 - tail_n))" 'BEGIN {
  printf "# %d samples in transfer_samples: %d at 3 s (generated and written in one INSERT with the trigger: %.1f s, %.1f us/sample),\n",
         n, n3, b3 / 1000, b3 * 1000 / n3
  printf "#   %d at 15 s (one INSERT: %.1f s) + the ones written one by one below\n", n15 + 2000, b15 / 1000 }'
echo "# 30-day chart: $points buckets of $res s; rollups and raw rows give the same bytes and peaks"
echo "# $runs interleaved runs of each query (after a warm-up run and a warm-up round)"
printf '%-60s %9s %9s\n' "" "best ms" "median ms"
printf '%-60s %9s %9s\n' "chart from rollups (report_chart), 15 s node" "$c15" "$c15m"
printf '%-60s %9s %9s\n' "same chart from $n15 raw 15 s rows (reference)" "$r15" "$r15m"
printf '%-60s %9s %9s\n' "chart from rollups, all nodes (report_chart NULL)" "$call" "$callm"
printf '%-60s %9s %9s\n' "same chart from the raw rows of all nodes (reference)" "$rall" "$rallm"
printf '%-60s %9s %9s\n' "chart from rollups (report_chart), 3 s node" "$c3" "$c3m"
printf '%-60s %9s %9s\n' "same chart from $n3 raw 3 s rows (aMuTorrent)" "$r3" "$r3m"
echo "# write cost per sample (daemon's INSERT, one statement each, $tail_n samples in chunks of $chunk)"
printf '%-52s %9s %9s\n' "" "best us" "median us"
printf '%-52s %9s %9s\n' "INSERT with the rollup trigger" "$ins_t" "$ins_t_med"
printf '%-52s %9s %9s\n' "same INSERT, table without the trigger (reference)" "$ins_p" "$ins_p_med"
echo "# 1,000 download rows"
printf '%-52s %9s %9s\n' "" "best ms" "median ms"
printf '%-52s %9s %9s\n' "one json_to_recordset upsert (store/download_tables.c)" "$up" "$upm"
printf '%-52s %9s %9s\n' "1,000 single-row UPDATEs, one transaction (reference)" "$single" "$singlem"
awk -v c="$c15m" -v r="$r15m" -v ca="$callm" -v ra="$rallm" -v tm="$TARGET_MS" -v tx="$TARGET_X" \
    -v it="$ins_t_med" -v ip="$ins_p_med" 'BEGIN {
  printf "30-day chart from rollups, median: %.2f ms (target <= %d ms): %s\n", c, tm, (c <= tm ? "MET" : "MISSED")
  printf "raw 15 s aggregation / rollups, medians: %.0f x (target >= %d x): %s\n", r / c, tx, (r / c >= tx ? "MET" : "MISSED")
  printf "all nodes, median: %.2f ms (target <= %d ms): %s; raw / rollups %.0f x\n", ca, tm, (ca <= tm ? "MET" : "MISSED"), ra / ca
  printf "# the rollup trigger adds %.0f us to each sample the daemon writes\n", it - ip
}'
