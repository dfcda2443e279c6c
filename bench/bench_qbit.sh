#!/usr/bin/env bash
# bench_qbit.sh: /api/v2/torrents/info through lighttpd and qbit.fcgi with
# 1,000 and 10,000 downloads that the daemon itself holds, under wrk
# (requests/s and p99 latency), beside the reference of the same lighttpd
# serving the same JSON body as a static file, in the same run.
#
#   bench/bench_qbit.sh [SECONDS [ROUNDS [COUNTS]]]
#       SECONDS a measurement (default 5), ROUNDS of interleaved
#       measurements (default 3; the median is printed), COUNTS the
#       download counts (default "1000 10000").
#   BENCH_HOLD=SECONDS keeps the stack up that long after seeding (and
#   prints how to reach it), for profiling by hand.
#   BENCH_CONNS=N runs wrk with N connections instead of 8 (-t2, or -t1
#   for one), to tell the answer's own latency from the queueing of a
#   loaded machine.
# Starts its own instance with run.sh (existing build: set MULETEER_BUILD
# to one configured without sanitizers) in a temporary directory. Needs wrk.
#
# The downloads are the daemon's own, so its start-up and periodic syncs
# keep them: a fifth are finished downloads (finished.json, written before
# the daemon starts; their files are absent, so they list as missingFiles),
# the rest are added on the control socket (part files; a fifth of those
# stopped, two thirds in a category, half tagged). What is measured, each
# round in this order, wrk -t2 -c8 (or BENCH_CONNS), requests carrying a
# session cookie as Sonarr's do:
#   static    lighttpd sending the same bytes from a file (the reference)
#   cached    torrents/info, the same URL over and over (the one-second
#             answer cache hits)
#   uncached  torrents/info with a different `limit` (larger than the list)
#             on every request: every request misses the cache, as an Arr
#             polling every few seconds does
#   changing  uncached, while a tenth of the rows are written every second
#             (as the daemon's writer does for transferring downloads),
#             beside static measured at the same time
# Each line shows the median of ROUNDS and the rows and body bytes served
# (checked once per phase with curl; wrk's bytes read per request, headers
# included, are shown too). The machine's other load makes single runs
# noisy: compare the medians, and the ratio of the same round.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/tools/lib.sh"
SECS=${1:-5}
ROUNDS=${2:-3}
COUNTS=${3:-"1000 10000"}
BUILD=${MULETEER_BUILD:-$ROOT/build}
NODE=bench
CONNS=${BENCH_CONNS:-8}
THREADS=2; [ "$CONNS" -ge 2 ] || THREADS=1

if ! command -v wrk >/dev/null; then
  [ "$(id -u)" = 0 ] || { echo "bench_qbit.sh: install wrk" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null
fi
command -v jq >/dev/null || { echo "bench_qbit.sh: install jq" >&2; exit 1; }
if grep -q __asan_init "$BUILD/bin/muleteerd" 2>/dev/null; then
  echo "# note: $BUILD was configured with --enable-sanitizers: figures are low"
fi

VAR=$(mktemp -d /tmp/mt-bench.XXXXXX); chmod 0755 "$VAR"
PORT=$(free_port)
CHANGER=
stop_stack() {
  if [ -n "${RUNSH:-}" ]; then
    kill -TERM "$RUNSH" 2>/dev/null || true
    wait "$RUNSH" 2>/dev/null || true
  fi
  RUNSH=
}
cleanup() {
  [ -n "$CHANGER" ] && kill "$CHANGER" 2>/dev/null
  stop_stack
  "$ROOT/tools/pgcluster.sh" stop "$VAR" immediate >/dev/null 2>&1 || true
  rm -rf "$VAR" "$VAR.log" "$VAR.lua"
}
trap cleanup EXIT
PASS="bench-$RANDOM$RANDOM"
mkdir -p "$VAR"
cat >"$VAR/muleteer.conf" <<EOF
node_name = $NODE
state_dir = $VAR
log_file = $VAR/log/muleteerd.log
tcp_port = $((PORT + 1))
udp_port = $((PORT + 2))
kad_nodes_url =
web_username = admin
web_password = $(printf '%s\n' "$PASS" | "$BUILD/bin/muleteer" hash-password)
server_autoconnect = no
rescan_interval = 0
EOF
chmod 0600 "$VAR/muleteer.conf"; chown_service "$VAR/muleteer.conf"
API="http://127.0.0.1:$PORT/api/v2"
SOCK="$VAR/run/muleteerd.sock"

start_stack() {
  : >"$VAR.log"
  MULETEER_VAR=$VAR MULETEER_HTTP_PORT=$PORT MULETEER_BUILD=$BUILD MULETEER_SKIP_BUILD=1 \
    "$ROOT/run.sh" >"$VAR.log" 2>&1 &
  RUNSH=$!
  for _ in $(seq 1 600); do grep -q 'Press Ctrl-C' "$VAR.log" 2>/dev/null && break; sleep 0.1; done
  grep -q 'Press Ctrl-C' "$VAR.log" || { cat "$VAR.log"; exit 1; }
  DB=$(sed -n 's/^database = //p' "$VAR/muleteer.conf" | tail -n 1)
  SID=$(curl -sS -D - -o /dev/null --data-urlencode username=admin --data-urlencode "password=$PASS" \
    "$API/auth/login" | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: SID=\([^;]*\);.*/\1/p')
  [ -n "$SID" ] || { echo "bench_qbit.sh: login failed" >&2; exit 1; }
}

sql() { as_service_user psql "$DB" -XAtq -c "$1"; }
hash_of() { printf 'be%030x' "$1"; }

# finished_json N: finished.json with the finished fifth of N downloads.
finished_json() {
  local now; now=$(date +%s)
  awk -v n="$1" -v now="$now" -v var="$VAR" '
    BEGIN { printf "{\"version\": 1, \"imported\": true, \"finished\": [" ; first = 1 }
    $1 % 5 == 4 {
      i = $1
      printf "%s{\"hash\": \"%s\", \"name\": \"Some.Show.S01E%d.720p.WEB-DL [group].mkv\",", first ? "" : ",", $2, i
      printf " \"size\": %d, \"category\": %s, \"tags\": [%s], \"priority\": %d,", 734003200 + i,
             i % 3 == 0 ? "null" : "\"tv-sonarr\"", i % 2 == 0 ? "\"sonarr\"" : "", (i % 3) - 1
      printf " \"added_at\": %d, \"completed_at\": %d, \"last_activity\": %d,", now - 86400 - i, now - i, now - i
      printf " \"save_path\": \"%s/incoming/tv-sonarr\", \"content_path\": \"%s/incoming/tv-sonarr/Some.Show.S01E%d.mkv\",", var, var, i
      printf " \"added_by\": \"sonarr\", \"added_via\": \"api-v2\", \"downloaded\": %d, \"uploaded\": %d}", 734003200 + i, i * 1000
      first = 0
    }
    END { print "]}" }' < <(for ((i = 1; i <= $1; i++)); do echo "$i $(hash_of "$i")"; done)
}

# add_active N: the other downloads of N, added on the control socket in
# one pipelined connection (those already there answer "exists").
add_active() {
  local i
  for ((i = 1; i <= $1; i++)); do
    ((i % 5 == 4)) && continue
    printf '{"id": %d, "cmd": "add", "args": {"link": "ed2k://|file|Some.Show.S01E%d.720p.WEB-DL [group].mkv|%d|%s|/", "added_by": "sonarr", "added_via": "api-v2", "priority": "%s"%s%s%s}}\n' \
      "$i" "$i" $((734003200 + i)) "$(hash_of "$i")" \
      "$(case $((i % 3)) in 0) echo low ;; 1) echo normal ;; *) echo high ;; esac)" \
      "$( ((i % 3 == 0)) || echo ', "category": "tv-sonarr"')" \
      "$( ((i % 2 == 0)) && echo ', "tags": ["sonarr"]')" \
      "$( ((i % 5 == 3)) && echo ', "stopped": true')"
  done >"$VAR/add.jsonl"
  as_service_user socat -t 120 - "UNIX-CONNECT:$SOCK" <"$VAR/add.jsonl" >"$VAR/add.out"
  local bad; bad=$(grep '"error": *{' "$VAR/add.out" | grep -v '"exists"' | head -n 3 || true)
  [ -z "$bad" ] || { echo "bench_qbit.sh: add failed: $bad" >&2; exit 1; }
  [ "$(wc -l <"$VAR/add.out")" = "$(wc -l <"$VAR/add.jsonl")" ] ||
    { echo "bench_qbit.sh: $(wc -l <"$VAR/add.out") answers to $(wc -l <"$VAR/add.jsonl") adds" >&2; exit 1; }
}

# seed N: the daemon restarted with N downloads, all of them in the table.
seed() {
  stop_stack
  finished_json "$1" >"$VAR/finished.json"; chown_service "$VAR/finished.json"
  start_stack
  add_active "$1"
  local c=0
  for _ in $(seq 1 300); do
    c=$(sql "SELECT count(*) FROM downloads WHERE node = '$NODE'")
    [ "$c" = "$1" ] && break
    sleep 0.2
  done
  [ "$c" = "$1" ] || { echo "bench_qbit.sh: $c rows in the table, not $1" >&2; exit 1; }
  sql "ANALYZE downloads" >/dev/null
  sleep 2 # a full second tick of the daemon's writer with nothing new
}

# changer_start: a tenth of the rows written every second, as the daemon's
# writer does for the downloads that transfer.
changer_start() {
  local n=$1
  ( while :; do
      sql "UPDATE downloads SET dl_speed = (dl_speed + 1000) % 5000000,
             uploaded_bytes = uploaded_bytes + 1000, last_activity = now(), updated_at = now()
           WHERE node = '$NODE' AND hash IN (SELECT hash FROM downloads WHERE node = '$NODE'
             ORDER BY md5(hash || (extract(epoch FROM now())::bigint / 1)::text) LIMIT $((n / 10)))" \
        >/dev/null 2>&1 || true
      sleep 1
    done ) &
  CHANGER=$!
}
changer_stop() { kill "$CHANGER" 2>/dev/null; wait "$CHANGER" 2>/dev/null || true; CHANGER=; }

# wrk_run URL [LUA]: "req/s p99_ms bytes_per_request errors".
wrk_run() {
  local out args=(-t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency -H "Cookie: SID=$SID")
  [ $# -gt 1 ] && args+=(-s "$2")
  out=$(wrk "${args[@]}" "$1")
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0;
                     if (v ~ /m$/) return v * 60000; if (v ~ /s$/) return v * 1000; return v }
    function by(v) { if (v ~ /GB$/) return v * 1073741824; if (v ~ /MB$/) return v * 1048576;
                     if (v ~ /KB$/) return v * 1024; return v + 0 }
    / requests in / { n = $1; b = by($5) }
    /Requests\/sec/ { r = $2 }
    /^ +99%/ { p = ms($2) }
    /Non-2xx/ { e += $NF }
    /Socket errors/ { e += 1 }
    END { printf "%s %.2f %.0f %d\n", r, p, (n > 0 ? b / n : 0), e }' <<<"$out"
}

cat >"$VAR.lua" <<'EOF'
-- every request a new `limit` larger than any list: the whole list, and a
-- key the answer cache has never seen
local counter = 0
local id = 0
local ids = 0
function setup(thread) ids = ids + 1; thread:set("id", ids) end
function init(args) id = wrk.thread:get("id") end
function request()
  counter = counter + 1
  return wrk.format(nil, wrk.path .. "?limit=" .. (1000000000 + id * 100000000 + counter))
end
EOF
chmod 0644 "$VAR.lua"

median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A RPS P99 BPR ERR
record() { # KIND "rps p99 bpr err"
  local r p b e; read -r r p b e <<<"$2"
  RPS[$1]+="$r "; P99[$1]+="$p "; BPR[$1]="$b"; ERR[$1]=$(( ${ERR[$1]:-0} + e ))
}

echo "torrents/info through lighttpd 1.4 + qbit.fcgi vs the same lighttpd's static file;"
echo "wrk -t$THREADS -c$CONNS --latency, ${SECS}s a run, $ROUNDS interleaved rounds, medians; $(nproc) CPUs shared"
printf '  %-6s %-38s %9s %9s %6s %10s %10s %7s\n' rows what "req/s" "p99 ms" ratio "body B" "wrk B/req" errors
for n in $COUNTS; do
  seed "$n"
  curl -fsS -H "Cookie: SID=$SID" "$API/torrents/info" >"$VAR/www/info-$n.json"
  rows=$(jq length "$VAR/www/info-$n.json")
  bytes=$(stat -c %s "$VAR/www/info-$n.json")
  urows=$(curl -fsS -H "Cookie: SID=$SID" "$API/torrents/info?limit=1999999999" | jq length)
  [ "$rows" = "$n" ] && [ "$urows" = "$n" ] ||
    { echo "bench_qbit.sh: torrents/info lists $rows (uncached $urows), not $n" >&2; exit 1; }
  chmod 0644 "$VAR/www/info-$n.json"
  if [ -n "${BENCH_HOLD:-}" ]; then # for profiling: keep the stack up
    echo "held: VAR=$VAR DB='$DB' SID=$SID API=$API"; sleep "$BENCH_HOLD"
  fi
  unset RPS P99 BPR ERR; declare -A RPS P99 BPR ERR
  for ((round = 1; round <= ROUNDS; round++)); do
    record static "$(wrk_run "http://127.0.0.1:$PORT/info-$n.json")"
    record cached "$(wrk_run "$API/torrents/info")"
    record uncached "$(wrk_run "$API/torrents/info" "$VAR.lua")"
    changer_start "$n"
    sleep 1
    record changing "$(wrk_run "$API/torrents/info" "$VAR.lua")"
    record static_changing "$(wrk_run "http://127.0.0.1:$PORT/info-$n.json")"
    changer_stop
  done
  crows=$(curl -fsS -H "Cookie: SID=$SID" "$API/torrents/info?limit=1999999998" | jq length)
  for k in static cached uncached static_changing changing; do
    ref=static; [ "$k" = changing ] && ref=static_changing
    r=$(median <<<"${RPS[$k]}"); p=$(median <<<"${P99[$k]}"); s=$(median <<<"${RPS[$ref]}")
    case $k in
      static) what="lighttpd static file (reference)"; rr=$rows ;;
      static_changing) what="static file, rows being written"; rr=$rows ;;
      cached) what="torrents/info, cache hits"; rr=$rows ;;
      uncached) what="torrents/info, uncached"; rr=$urows ;;
      changing) what="torrents/info, uncached, rows written"; rr=$crows ;;
    esac
    awk -v n="$rr" -v w="$what" -v r="$r" -v p="$p" -v s="$s" -v b="$bytes" -v wb="${BPR[$k]}" -v e="${ERR[$k]}" \
      'BEGIN { printf "  %-6s %-38s %9.0f %9.2f %6.2f %10d %10d %7d\n", n, w, r, p, r / s, b, wb, e }'
    echo "         runs: req/s ${RPS[$k]}| p99 ${P99[$k]}"
  done
done
