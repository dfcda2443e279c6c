#!/usr/bin/env bash
# bench_history.sh: /api/history (docs/web-api.md) through run.sh's
# lighttpd and history.fcgi over one million history rows: a filtered page
# (a search over file name, hash and user name, a status, newest first,
# 50 rows, with its total; the search "title 1234" holds a word every row
# has, the hard case for trigrams; a second page searches a rare word) under wrk with one client, beside the same
# lighttpd serving a static file of the same bytes, interleaved (static,
# page, static, page...) so that both see the same machine; medians of the
# rounds of the p50 and p99 latency and requests/s; the same page also
# with several clients at once. Also, once, the
# unfiltered first page (its total from history_counts) and the CSV export of
# the filtered rows. Prints the rows in the table and the bytes of each
# answer. Starts its own instance with run.sh (existing build) in a
# temporary directory and stops it afterwards.
#
#   bench/bench_history.sh [ROUNDS] [SECONDS] [ROWS]   (5 rounds, 5 s, 1000000)
#   BENCH_CLIENTS: the clients of the concurrent run of the page (4).
# Needs wrk (Debian package wrk). Target (issue 16): the page under 20 ms
# p99.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${MULETEER_BUILD:-$ROOT/build}
. "$ROOT/bench/bench_lib.sh"
ROUNDS=${1:-5}
SECS=${2:-5}
ROWS=${3:-1000000}
LOAD_CLIENTS=${BENCH_CLIENTS:-4}
bench_require wrk curl
bench_require_build bin/muleteerd bin/muleteer cgi-bin/history.fcgi
trap cleanup EXIT

mk_tmpdir T
pick_ports MP 2; pick_ports HP 1
VAR="$T/var"
mkdir -p "$VAR"
KEY="benchkey$RANDOM$RANDOM"
cat >"$VAR/muleteer.conf" <<EOF
node_name = bench-node
state_dir = $VAR
log_file = $VAR/log/muleteerd.log
tcp_port = $MP
udp_port = $((MP + 1))
kad_nodes_url =
api_key = $KEY
server_autoconnect = no
EOF
chmod 0600 "$VAR/muleteer.conf"
chown_service "$VAR/muleteer.conf" 2>/dev/null || true
start_runsh "$VAR" "$T/runsh.out" MULETEER_HTTP_PORT="$HP" ||
  { tail -n 20 "$T/runsh.out" >&2; exit 1; }
DB=$(conf_key "$VAR" database)
Q() { as_service_user psql "$DB" -XAtq -v ON_ERROR_STOP=1 -c "$1"; }

# ROWS rows over two years: 20,011 titles (the search "title 1234" finds
# title 1234 and 12340-12349: about 0.05 % of the rows), seven statuses
# weighted toward completed, six categories, 40 users.
t0=$(now)
Q "INSERT INTO history (node, hash, name, size, category, status, started_at, completed_at,
     downloaded_bytes, uploaded_bytes, added_by, added_via)
   SELECT 'bench-node', md5('h' || i),
     'Title ' || (i % 20011) || ' ' || substr(md5('n' || i), 1, 8) || '.S01E' || (i % 30) || '.720p.mkv',
     1000000 + i, (ARRAY['tv', 'movies', 'music', 'linux', 'books', NULL])[1 + i % 6],
     (ARRAY['completed', 'completed', 'completed', 'deleted', 'stopped', 'failed', 'downloading'])[1 + i % 7],
     timestamptz '2025-01-01' + i * interval '1 minute',
     CASE WHEN i % 7 < 3 THEN timestamptz '2025-01-01' + i * interval '1 minute' + interval '1 hour' END,
     1000000 + i, (i % 5) * 1000000, 'user' || (i % 40), 'native'
   FROM generate_series(1, $ROWS) i" >/dev/null
Q "ANALYZE history" >/dev/null
NROWS=$(Q "SELECT count(*) FROM history")
echo "# $NROWS history rows written in $(elapsed "$t0" "$(now)") s"

# BENCH_EXPLAIN=1: the plans of the page's two statements, as
# history.fcgi sends them (cgi-bin/history/query.c).
if [ "${BENCH_EXPLAIN:-0}" = 1 ]; then
  W="WHERE node = 'bench-node' AND (name || E'\\n' || hash || E'\\n' || added_by) ILIKE '%title 1234%' AND status = 'completed'"
  Q "EXPLAIN ANALYZE SELECT count(*) FROM history $W"
  Q "EXPLAIN ANALYZE SELECT hash, name FROM history $W ORDER BY started_at DESC, id DESC LIMIT 50 OFFSET 0"
fi

H="http://127.0.0.1:$HP"
PAGE="$H/api/history?limit=50&offset=0&sortBy=started_at&sortDir=desc&search=title%201234&status=completed"
WORD=$(Q "SELECT substr(md5('n' || 777777), 1, 6)")
PAGE2="$H/api/history?limit=50&offset=0&sortBy=started_at&sortDir=desc&search=$WORD"
ALL="$H/api/history?limit=50"
CSV="$H/api/history/export?format=csv&search=title%201234&status=completed"
fetch() { curl -sS -o "$2" -w '%{http_code} %{time_total}' -H "X-API-Key: $KEY" "$1"; }
out=$(fetch "$PAGE" "$VAR/www/page.json")
[ "${out%% *}" = 200 ] || { echo "the page failed: $(head -c 300 "$VAR/www/page.json")" >&2; exit 1; }
matched=$(sed -n 's/.*"total":\([0-9]*\).*/\1/p' "$VAR/www/page.json")

# ms: a wrk latency ("812.00us", "1.20ms", "1.02s") in milliseconds.
ms() {
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v !~ /ms$/ && v ~ /s$/) n *= 1000
                         printf "%.2f", n }'
}
# run URL [HEADER [CLIENTS]]: one wrk run over one connection (or
# CLIENTS, on two threads): "p50 p99 req/s".
run() {
  local o c=${3:-1} t=1
  [ "$c" -gt 1 ] && t=2
  o=$(wrk -t"$t" -c"$c" -d"${SECS}s" --latency ${2:+-H "$2"} "$1")
  if grep -q 'Non-2xx' <<<"$o"; then echo "wrk saw errors on $1" >&2; exit 1; fi
  echo "$(ms "$(awk '$1 == "50%" { print $2 }' <<<"$o")")" \
       "$(ms "$(awk '$1 == "99%" { print $2 }' <<<"$o")")" \
       "$(awk '/Requests\/sec/ { print $2 }' <<<"$o")"
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -v c="$1" '{ print $c }' "$2" | median; }
: >"$T/static"; : >"$T/page"; : >"$T/page2"; : >"$T/load"
for ((r = 1; r <= ROUNDS; r++)); do
  run "$H/page.json" >>"$T/static"
  run "$PAGE" "X-API-Key: $KEY" >>"$T/page"
  run "$PAGE2" "X-API-Key: $KEY" >>"$T/page2"
  run "$PAGE" "X-API-Key: $KEY" "$LOAD_CLIENTS" >>"$T/load"
done
out=$(fetch "$PAGE2" "$T/page2.json")
matched2=$(sed -n 's/.*"total":\([0-9]*\).*/\1/p' "$T/page2.json")

once_ms() { awk -v t="${1#* }" 'BEGIN { printf "%.1f", t * 1000 }'; }
all_ms=$(once_ms "$(fetch "$ALL" "$T/all.json")")
csv_ms=$(once_ms "$(fetch "$CSV" "$T/export.csv")")

echo "/api/history, run.sh's lighttpd + history.fcgi, $NROWS rows; one client (wrk -t1 -c1, ${SECS} s), $ROUNDS interleaved rounds, medians:"
printf '  %-66s p50 %6s ms  p99 %6s ms  %8s req/s\n' \
  "lighttpd static file, $(stat -c %s "$VAR/www/page.json") bytes (reference)" \
  "$(col 1 "$T/static")" "$(col 2 "$T/static")" "$(col 3 "$T/static")"
printf '  %-66s p50 %6s ms  p99 %6s ms  %8s req/s\n' \
  "page: search + status, newest 50 of $matched matches, the same bytes" \
  "$(col 1 "$T/page")" "$(col 2 "$T/page")" "$(col 3 "$T/page")"
printf '  %-66s p50 %6s ms  p99 %6s ms  %8s req/s\n' \
  "page: search \"$WORD\" (a rare word), $matched2 matches, $(stat -c %s "$T/page2.json") bytes" \
  "$(col 1 "$T/page2")" "$(col 2 "$T/page2")" "$(col 3 "$T/page2")"
printf '  %-66s p50 %6s ms  p99 %6s ms  %8s req/s\n' \
  "page: search + status, $LOAD_CLIENTS clients at once (wrk -t2 -c$LOAD_CLIENTS)" \
  "$(col 1 "$T/load")" "$(col 2 "$T/load")" "$(col 3 "$T/load")"
echo "  page p99 per round (ms): $(awk '{ print $2 }' "$T/page" | tr '\n' ' ')"
printf '  %-66s %8s ms (once, curl)\n' "unfiltered first page, $(stat -c %s "$T/all.json") bytes (total: history_counts)" "$all_ms"
printf '  %-66s %8s ms (once, curl)\n' "CSV export of the $matched matches, $(stat -c %s "$T/export.csv") bytes" "$csv_ms"
echo "  target: the page under 20 ms p99"
stop_runsh "$RUNSH_PID" || true
