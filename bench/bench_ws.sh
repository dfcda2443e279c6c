#!/usr/bin/env bash
# bench_ws.sh: muleteer-ws, the WebSocket, under load: CLIENTS clients
# connected through lighttpd while CHANGES of DOWNLOADS downloads are
# paused or resumed every second. Prints the memory of muleteer-ws per
# idle client, the CPU of muleteer-ws and muleteerd, and the latency from
# a change in the daemon to its batch-update at each client (median,
# p99). Issue targets: p99 under 1 s, under 50 kB per idle client.
#
#   bench/bench_ws.sh [CLIENTS [DOWNLOADS [CHANGES [SECONDS]]]]
#       defaults 200, 1000, 100, 10
# Starts its own instance with run.sh (existing build: set MULETEER_BUILD
# to one configured without sanitizers) in a temporary directory. Needs
# python3-websockets.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/tools/lib.sh"
CLIENTS=${1:-200}; DOWNLOADS=${2:-1000}; CHANGES=${3:-100}; SECONDS_=${4:-10}
BUILD=${MULETEER_BUILD:-$ROOT/build}
PY=
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import websockets' 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || { echo "bench_ws.sh: install python3-websockets" >&2; exit 1; }
if grep -q __asan_init "$BUILD/bin/muleteer-ws" 2>/dev/null; then
  echo "# note: $BUILD was configured with --enable-sanitizers: figures are high"
fi

VAR=$(mktemp -d /tmp/mt-bench.XXXXXX); chmod 0755 "$VAR"
PORT=$(free_port); MP=$(free_port)
RUNSH=
cleanup() {
  if [ -n "$RUNSH" ]; then kill -TERM "$RUNSH" 2>/dev/null || true; wait "$RUNSH" 2>/dev/null || true; fi
  "$ROOT/tools/pgcluster.sh" stop "$VAR" immediate >/dev/null 2>&1 || true
  rm -rf "$VAR" "$VAR.log"
}
trap cleanup EXIT
KEY="benchkey$RANDOM$RANDOM$RANDOM"
cat >"$VAR/muleteer.conf" <<CONF
node_name = bench
state_dir = $VAR
log_file = $VAR/log/muleteerd.log
tcp_port = $MP
udp_port = $((MP + 1))
kad_nodes_url =
web_password = x
api_key = $KEY
server_autoconnect = no
ws_max_clients = $((CLIENTS + 10))
CONF
chmod 0600 "$VAR/muleteer.conf"; chown_service "$VAR/muleteer.conf" 2>/dev/null || true
# lighttpd's default connection limit is below a thousand descriptors
ulimit -n 8192 2>/dev/null || true
MULETEER_VAR="$VAR" MULETEER_BUILD="$BUILD" MULETEER_SKIP_BUILD=1 MULETEER_HTTP_PORT="$PORT" \
  setsid "$ROOT/run.sh" >"$VAR.log" 2>&1 &
RUNSH=$!
for _ in $(seq 1 600); do grep -q 'Press Ctrl-C' "$VAR.log" 2>/dev/null && break; sleep 0.1; done
grep -q 'Press Ctrl-C' "$VAR.log" || { tail -n 20 "$VAR.log"; exit 1; }
WS_PID=$(pgrep -f -- "$BUILD/bin/muleteer-ws -c $VAR" | head -n 1)
DAEMON_PID=$(pgrep -f -- "$BUILD/bin/muleteerd -c $VAR" | head -n 1)
WS_URL="ws://127.0.0.1:$PORT/ws" API_KEY="$KEY" CTL="$VAR/run/muleteerd.sock" CLIENTS=$CLIENTS \
  DOWNLOADS=$DOWNLOADS CHANGES=$CHANGES SECONDS=$SECONDS_ WS_PID=$WS_PID DAEMON_PID=$DAEMON_PID \
  "$PY" "$ROOT/bench/bench_ws.py"
