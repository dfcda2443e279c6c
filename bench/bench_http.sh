#!/usr/bin/env bash
# bench_http.sh: requests per second of /api/v2/app/version through
# lighttpd and qbit.fcgi (authenticated with the API key, which needs no
# database lookup), beside the reference of the same lighttpd serving a
# static file with the same body. Starts its own instance with run.sh
# (existing build) in a temporary directory and stops it afterwards.
#
#   bench/bench_http.sh [SECONDS]      (default 5 per measurement)
# Needs wrk (Debian package wrk); as root it installs it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/tools/lib.sh"
SECS=${1:-5}
BUILD=${MULETEER_BUILD:-$ROOT/build}

for tool in wrk; do
  if ! command -v "$tool" >/dev/null; then
    [ "$(id -u)" = 0 ] || { echo "bench_http.sh: install $tool" >&2; exit 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$tool" >/dev/null
  fi
done

VAR=$(mktemp -d /tmp/mt-bench.XXXXXX); chmod 0755 "$VAR"
PORT=$(free_port)
cleanup() {
  [ -n "${RUNSH:-}" ] && kill -TERM "$RUNSH" 2>/dev/null && wait "$RUNSH" 2>/dev/null
  "$ROOT/tools/pgcluster.sh" stop "$VAR" immediate >/dev/null 2>&1 || true
  rm -rf "$VAR"
}
trap cleanup EXIT
MULETEER_VAR=$VAR MULETEER_HTTP_PORT=$PORT MULETEER_TCP_PORT=$((PORT + 1)) MULETEER_UDP_PORT=$((PORT + 2)) \
  MULETEER_BUILD=$BUILD MULETEER_SKIP_BUILD=1 "$ROOT/run.sh" >"$VAR.log" 2>&1 &
RUNSH=$!
for _ in $(seq 1 300); do grep -q 'Press Ctrl-C' "$VAR.log" 2>/dev/null && break; sleep 0.1; done
grep -q 'Press Ctrl-C' "$VAR.log" || { cat "$VAR.log"; exit 1; }
printf 'v5.0.0' >"$VAR/www/version.txt"

KEY=$(sed -n 's/^api_key = //p' "$VAR/muleteer.conf" | tail -n 1)
rps() { wrk -t2 -c16 -d"${SECS}s" "$@" | awk '/Requests\/sec/ { print $2 }'; }
echo "HTTP, wrk -t2 -c16, ${SECS}s each, same lighttpd:"
printf '  %-44s %10s req/s\n' "lighttpd static file (reference)" "$(rps "http://127.0.0.1:$PORT/version.txt")"
printf '  %-44s %10s req/s\n' "qbit.fcgi /api/v2/app/version" "$(rps -H "Authorization: Bearer $KEY" "http://127.0.0.1:$PORT/api/v2/app/version")"

