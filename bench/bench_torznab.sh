#!/usr/bin/env bash
# bench_torznab.sh: the Torznab indexer (docs/torznab.md) through run.sh's
# lighttpd and torznab.fcgi, against the eD2K server fixture:
#   - time to first byte of a cold tvsearch (a new eD2K search each time:
#     the daemon asks the server, the results reach PostgreSQL, NOTIFY
#     wakes the program, which answers 3 s after the last new result);
#   - time to first byte of the same request repeated (the cache);
#   - t=caps requests/s beside the same lighttpd serving a static file of
#     the same size, interleaved (static, caps, static, caps...) so that
#     both see the same machine; medians of the rounds.
# Muleteer shares the files it searches for (named like episodes) and
# publishes them on the fixture itself: no amuled needed. Starts its own
# instance with run.sh (existing build) in a temporary directory and stops
# it afterwards.
#
#   bench/bench_torznab.sh [ROUNDS] [SECONDS]   (5 cold searches and wrk
#                                                rounds, 5 s per wrk run)
# Needs wrk (Debian package wrk). Targets (issue 15): cold first answer
# within 20 s, cached repeat under 20 ms.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${MULETEER_BUILD:-$ROOT/build}
. "$ROOT/bench/bench_lib.sh"
ROUNDS=${1:-5}
SECS=${2:-5}
bench_require wrk curl
bench_require_build bin/muleteerd bin/muleteer tests/fixtures/ed2k_server cgi-bin/torznab.fcgi
trap cleanup EXIT

mk_tmpdir T
pick_ports SP 5; pick_ports MP 2; pick_ports HP 1
"$BUILD/tests/fixtures/ed2k_server" --port "$SP" --name bench-fixture --highid-all \
  --log "$T/server.log" &
CLEANUP_PIDS+=("$!")
eventually 10 grep -qs listening "$T/server.log" || { echo "the server fixture did not start" >&2; exit 1; }

VAR="$T/var"
mkdir -p "$VAR/share"
for ((e = 1; e <= ROUNDS + 1; e++)); do
  head -c 1200000 /dev/urandom >"$VAR/share/Bench.Show.S01E$(printf %02d "$e").720p.mkv"
done
KEY="benchkey$RANDOM$RANDOM"
cat >"$VAR/muleteer.conf" <<EOF
node_name = bench-node
state_dir = $VAR
log_file = $VAR/log/muleteerd.log
tcp_port = $MP
udp_port = $((MP + 1))
kad_nodes_url =
api_key = $KEY
servers = 127.0.0.1:$SP
shared_dirs = $VAR/share
filter_lan = no
torznab_min_size_tv = 1
EOF
chmod 0600 "$VAR/muleteer.conf"
chown_service "$VAR/muleteer.conf" 2>/dev/null || true
chown_service "$VAR/share" 2>/dev/null || true
start_runsh "$VAR" "$T/runsh.out" MULETEER_HTTP_PORT="$HP" ||
  { tail -n 20 "$T/runsh.out" >&2; exit 1; }
IDX="http://127.0.0.1:$HP/indexer/muleteer/api"
offered() { grep -qE "offer conn=[0-9]+ id=[0-9]* files=$((ROUNDS + 1))" "$T/server.log"; }
eventually 120 offered || { echo "muleteerd did not publish its files on the fixture" >&2; exit 1; }

# ttfb QUERY: milliseconds to the first byte of the answer; the answer must
# hold an item.
ttfb() {
  local out
  out=$(curl -sS -o "$T/body" -w '%{http_code} %{time_starttransfer}' "$IDX?$1&apikey=$KEY")
  [ "${out%% *}" = 200 ] && grep -q '<item>' "$T/body" ||
    { echo "no result for $1: $(head -c 300 "$T/body")" >&2; exit 1; }
  awk -v t="${out#* }" 'BEGIN { printf "%.1f\n", t * 1000 }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

: >"$T/cold"; : >"$T/cached"
for ((e = 1; e <= ROUNDS; e++)); do
  q="t=tvsearch&q=Bench+Show&season=1&ep=$e&cat=5030,5040"
  ttfb "$q" >>"$T/cold"
  for _ in 1 2 3 4; do ttfb "$q" >>"$T/cached"; done
done

# caps beside a static file of the same bytes, interleaved
curl -sS -o "$VAR/www/caps.xml" "$IDX?t=caps&apikey=$KEY"
rps() { wrk -t2 -c16 -d"${SECS}s" "$@" | awk '/Requests\/sec/ { print $2 }'; }
: >"$T/static"; : >"$T/caps"
for ((r = 1; r <= ROUNDS; r++)); do
  rps "http://127.0.0.1:$HP/caps.xml" >>"$T/static"
  rps "$IDX?t=caps&apikey=$KEY" >>"$T/caps"
done

echo "Torznab indexer, run.sh's lighttpd + torznab.fcgi, the server fixture on loopback:"
printf '  %-58s %9s ms (median of %d; %s)\n' "tvsearch, cold (a new eD2K search), time to first byte" \
  "$(median <"$T/cold")" "$ROUNDS" "$(tr '\n' ' ' <"$T/cold" | sed 's/ $//')"
printf '  %-58s %9s ms (median of %d)\n' "tvsearch, cached repeat, time to first byte" \
  "$(median <"$T/cached")" "$(wc -l <"$T/cached")"
printf '  %-58s %9s req/s (median of %d, wrk -t2 -c16 %ss)\n' "lighttpd static file, $(stat -c %s "$VAR/www/caps.xml") bytes (reference)" \
  "$(median <"$T/static")" "$ROUNDS" "$SECS"
printf '  %-58s %9s req/s (median of %d, interleaved with the above)\n' "torznab.fcgi t=caps, the same bytes" \
  "$(median <"$T/caps")" "$ROUNDS"
echo "  targets: cold within 20000 ms, cached under 20 ms"
stop_runsh "$RUNSH_PID" || true
