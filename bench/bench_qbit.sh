#!/usr/bin/env bash
# bench_qbit.sh: /api/v2/torrents/info through lighttpd and qbit.fcgi with
# 1,000 and 10,000 downloads in PostgreSQL, under wrk (requests/s and p99
# latency), beside the reference of the same lighttpd serving the same JSON
# body as a static file, in the same run. Requests carry a session cookie,
# as Sonarr's do. Target (issue 7): at 1,000 downloads at least half the
# static file's requests/s, p99 under 20 ms.
#
#   bench/bench_qbit.sh [SECONDS]      (default 10 per measurement)
# Starts its own instance with run.sh (existing build; use a build
# configured without sanitizers) in a temporary directory. Needs wrk.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/tools/lib.sh"
SECS=${1:-10}
BUILD=${MULETEER_BUILD:-$ROOT/build}

if ! command -v wrk >/dev/null; then
  [ "$(id -u)" = 0 ] || { echo "bench_qbit.sh: install wrk" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null
fi

VAR=$(mktemp -d /tmp/mt-bench.XXXXXX); chmod 0755 "$VAR"
PORT=$(free_port)
cleanup() {
  [ -n "${RUNSH:-}" ] && kill -TERM "$RUNSH" 2>/dev/null && wait "$RUNSH" 2>/dev/null
  "$ROOT/tools/pgcluster.sh" stop "$VAR" immediate >/dev/null 2>&1 || true
  rm -rf "$VAR" "$VAR.log"
}
trap cleanup EXIT
PASS="bench-$RANDOM$RANDOM"
mkdir -p "$VAR"
cat >"$VAR/muleteer.conf" <<EOF
node_name = bench
state_dir = $VAR
log_file = $VAR/log/muleteerd.log
tcp_port = $((PORT + 1))
udp_port = $((PORT + 2))
web_username = admin
web_password = $(printf '%s\n' "$PASS" | "$BUILD/bin/muleteer" hash-password)
server_autoconnect = no
EOF
chmod 0600 "$VAR/muleteer.conf"; chown_service "$VAR/muleteer.conf"
MULETEER_VAR=$VAR MULETEER_HTTP_PORT=$PORT MULETEER_BUILD=$BUILD MULETEER_SKIP_BUILD=1 \
  "$ROOT/run.sh" >"$VAR.log" 2>&1 &
RUNSH=$!
for _ in $(seq 1 300); do grep -q 'Press Ctrl-C' "$VAR.log" 2>/dev/null && break; sleep 0.1; done
grep -q 'Press Ctrl-C' "$VAR.log" || { cat "$VAR.log"; exit 1; }
DB=$(sed -n 's/^database = //p' "$VAR/muleteer.conf" | tail -n 1)
API="http://127.0.0.1:$PORT/api/v2"
SID=$(curl -sS -D - -o /dev/null --data-urlencode username=admin --data-urlencode "password=$PASS" \
  "$API/auth/login" | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: SID=\([^;]*\);.*/\1/p')
[ -n "$SID" ] || { echo "bench_qbit.sh: login failed" >&2; exit 1; }

# fill N: N downloads of the node, in a mix of states, as the daemon writes them.
fill() {
  as_service_user psql "$DB" -XAtq -c "
    DELETE FROM downloads WHERE node = 'bench';
    INSERT INTO downloads (node, hash, name, size, category, priority, state, done_bytes,
                           verified_bytes, uploaded_bytes, dl_speed, ul_speed, sources,
                           complete_sources, transferring_sources, save_path, content_path,
                           tags, completed_at)
    SELECT 'bench', md5('bench' || i), 'Some.Show.S01E' || i || '.720p.WEB-DL [group].mkv',
           734003200 + i, CASE WHEN i % 3 = 0 THEN NULL ELSE 'tv-sonarr' END, (i % 3) - 1,
           (ARRAY['downloading','stalled','queued','paused','completed'])[1 + i % 5],
           CASE WHEN i % 5 = 4 THEN 734003200 + i ELSE (i * 9728000::bigint) % 734003200 END,
           0, i * 1000, CASE WHEN i % 5 = 0 THEN 50000 ELSE 0 END, 0, i % 20, i % 7, i % 3,
           '$VAR/incoming/tv-sonarr', '$VAR/incoming/tv-sonarr/Some.Show.S01E' || i || '.mkv',
           CASE WHEN i % 2 = 0 THEN ARRAY['sonarr'] ELSE '{}' END,
           CASE WHEN i % 5 = 4 THEN now() END
    FROM generate_series(1, $1) i;
    ANALYZE downloads;" >/dev/null
}

# measure URL [HEADER]: "req/s p99" from wrk.
measure() {
  local out
  if [ $# -gt 1 ]; then
    out=$(wrk -t2 -c8 -d"${SECS}s" --latency -H "$2" "$1")
  else
    out=$(wrk -t2 -c8 -d"${SECS}s" --latency "$1")
  fi
  awk '/Requests\/sec/ { r = $2 } /^ +99%/ { p = $2 } END { print r, p }' <<<"$out"
}

echo "torrents/info through lighttpd, wrk -t2 -c8 --latency, ${SECS}s each, same lighttpd:"
printf '  %-9s %-34s %12s %10s %10s\n' downloads what "req/s" p99 body
for n in 1000 10000; do
  fill "$n"
  curl -fsS -H "Cookie: SID=$SID" "$API/torrents/info" >"$VAR/www/info-$n.json"
  bytes=$(stat -c %s "$VAR/www/info-$n.json")
  read -r srps sp99 <<<"$(measure "http://127.0.0.1:$PORT/info-$n.json")"
  read -r qrps qp99 <<<"$(measure "$API/torrents/info" "Cookie: SID=$SID")"
  printf '  %-9s %-34s %12s %10s %10s\n' "$n" "lighttpd static file (reference)" "$srps" "$sp99" "$bytes"
  printf '  %-9s %-34s %12s %10s %10s\n' "$n" "qbit.fcgi torrents/info" "$qrps" "$qp99" "$bytes"
  awk -v q="$qrps" -v s="$srps" -v n="$n" 'BEGIN { printf "  %-9s ratio %.2f of the static file\n", n, q / s }'
done
