#!/usr/bin/env bash
# prometheus.sh: /metrics (docs/metrics.md) on the real stack: run.sh brings
# up PostgreSQL, muleteerd and lighttpd with prom.fcgi; a second muleteerd
# shares a file through the eD2K server fixture and the stack downloads it.
# Every answer is checked with promtool (Debian's prometheus package); the
# values after adds, a pause, a resume and the real transfer (payload bytes
# against the file's size, overhead, downloads and finished downloads by
# state, the server's HighID), the route families' request counters and
# histograms, OpenMetrics, and who may read it (metrics_allow: loopback,
# key, public). TAP.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/mule.sh"
trap cleanup EXIT

command -v promtool >/dev/null || { echo "Bail out! promtool (package prometheus) is not installed (run.sh check installs it)"; exit 1; }
command -v jq >/dev/null || { echo "Bail out! jq is not installed (run.sh check installs it)"; exit 1; }

mk_tmpdir T
SP=$(free_port); AP=$(free_port); HP=$(free_port); MP=$(free_port)
"$MT_BUILDDIR/tests/fixtures/ed2k_server" --port "$SP" --name prom-fixture --highid-all \
  --log "$T/server.log" &
CLEANUP_PIDS+=("$!")
eventually 10 grep -qs listening "$T/server.log" || { not_ok "the server fixture starts"; finish; exit 1; }

# ---- the seeding daemon ----
mkdir -p "$T/a/share"
FILE="prom-$$.bin"
SIZE=3000000
head -c $SIZE /dev/urandom >"$T/a/share/$FILE"
MD4=$(rhash --printf '%{ed2k}' "$T/a/share/$FILE")
head -c 500000 /dev/urandom >"$T/a/share/other.bin"
MD4B=$(rhash --printf '%{ed2k}' "$T/a/share/other.bin")
start_mule A "$T/a" "$AP" "shared_dirs = $T/a/share" "node_name = prom-a" \
  "servers = 127.0.0.1:$SP" || { not_ok "the seeding daemon starts"; finish; exit 1; }
a_shares() { [ "$(mcli "$T/a" shared | grep -c "$FILE\|other.bin")" = 2 ]; }
check "the seeding daemon shares the files" eventually 30 a_shares

# ---- Muleteer through run.sh, listening on every address ----
# A caller from elsewhere than loopback: prom.fcgi run as a plain CGI
# program with REMOTE_ADDR from the documentation range (192.0.2.0/24,
# never contacted): what a web server tells it of such a caller. No
# address of the machine's own interfaces is used.
OTHER_IP=192.0.2.10
VAR="$T/var"
mkdir -p "$VAR"
KEY="promkey$RANDOM$RANDOM$RANDOM"
cat >"$VAR/muleteer.conf" <<EOF
node_name = prom-node
state_dir = $VAR
log_file = $VAR/log/muleteerd.log
log_level = debug
tcp_port = $MP
udp_port = $((MP + 1))
web_password = prom-pass-$RANDOM$RANDOM
api_key = $KEY
servers = 127.0.0.1:$SP
filter_lan = no
metrics_allow = loopback
EOF
chmod 0600 "$VAR/muleteer.conf"
chown_service "$VAR/muleteer.conf" 2>/dev/null || true
if ! start_runsh "$VAR" "$T/runsh.out" MULETEER_HTTP_PORT="$HP"; then
  not_ok "run.sh starts the stack"; diag "$(tail -n 20 "$T/runsh.out")"; finish; exit 1
fi
SOCK="$VAR/run/muleteerd.sock"
B() { local a=${2-}; [ -n "$a" ] || a="{}"; "$CLI" --socket "$SOCK" --json call "$1" "$a"; }
BASE="http://127.0.0.1:$HP"

# get URL [curl args...]: sets CODE, TYPE and BODY (the answer in $T/metrics)
get() {
  local url=$1; shift
  local out
  out=$(curl -sS -o "$T/metrics" -w '%{http_code} %{content_type}' "$@" "$url") || out="000 -"
  CODE=${out%% *}; TYPE=${out#* }
  BODY=$(cat "$T/metrics")
}
# scrape: GET /metrics from loopback; true when 200
scrape() { get "$BASE/metrics"; [ "$CODE" = 200 ]; }
# m SERIES: the value of the exact series (name and labels as printed)
m() { awk -v s="$1" '$1 == s { print $2; f = 1 } END { if (!f) print "none" }' <<<"$BODY"; }
is_m() { scrape && [ "$(m "$1")" = "$2" ]; }
ge_m() { scrape && awk -v v="$(m "$1")" -v min="$2" 'BEGIN { exit !(v != "none" && v + 0 >= min + 0) }'; }
promtool_ok() {
  local out; out=$(promtool check metrics <"$T/metrics" 2>&1)
  local rc=$?
  [ $rc = 0 ] || diag "promtool: $out"
  return $rc
}
set_allow() { # rewrites metrics_allow in place (owner and mode kept)
  sed "s/^metrics_allow = .*/metrics_allow = $1/" "$VAR/muleteer.conf" >"$T/conf.new"
  cat "$T/conf.new" >"$VAR/muleteer.conf"
}

# ---- the first scrape ----
check "/metrics from loopback without credentials: 200" scrape
check "... in the Prometheus text format" [ "$TYPE" = "text/plain; version=0.0.4; charset=utf-8" ]
check "... that promtool check metrics accepts" promtool_ok
check "muleteer_up 1 and muleteer_info names the node" eval \
  '[ "$(m muleteer_up)" = 1 ] && grep -q "^muleteer_info{node=\"prom-node\",version=\"" <<<"$BODY"'
check "the server connection: connected, HighID (fixture's --highid-all)" eventually 30 eval \
  'is_m muleteer_server_connected 1 && [ "$(m muleteer_server_lowid)" = 0 ] &&
   [ "$(m "muleteer_server_state{state=\"connected\"}")" = 1 ] &&
   [ "$(m "muleteer_server_state{state=\"disconnected\"}")" = 0 ]'
check "the server connection's bytes are counted both ways" eval \
  'ge_m "muleteer_channel_bytes_total{direction=\"in\",channel=\"server\"}" 1 &&
   ge_m "muleteer_channel_bytes_total{direction=\"out\",channel=\"server\"}" 1'
check "no download yet: every state 0" eval \
  'scrape && [ "$(grep -c "^muleteer_downloads{state=\"[a-z]*\"} 0$" <<<"$BODY")" = 8 ]'
check "the database writer is connected, nothing dropped" eventually 20 eval \
  'is_m muleteer_db_connected 1 && [ "$(m "muleteer_db_jobs_total{result=\"dropped\"}")" = 0 ] &&
   [ "$(m "muleteer_db_jobs_total{result=\"done\"}")" -gt 0 ]'

# ---- adds and a pause ----
LINK="ed2k://|file|$FILE|$SIZE|$MD4|/|sources,127.0.0.1:$AP|/"
LINKB="ed2k://|file|other.bin|500000|$MD4B|/|sources,127.0.0.1:$AP|/"
B add "{\"link\": \"$LINK\", \"stopped\": true}" >/dev/null
B add "{\"link\": \"$LINKB\", \"stopped\": true}" >/dev/null
check "two downloads added stopped: muleteer_downloads{state=\"stopped\"} 2" \
  is_m 'muleteer_downloads{state="stopped"}' 2
B resume "{\"hash\": \"$MD4B\"}" >/dev/null
B pause "{\"hash\": \"$MD4B\"}" >/dev/null
check "one paused, one stopped" eval \
  'is_m "muleteer_downloads{state=\"paused\"}" 1 && [ "$(m "muleteer_downloads{state=\"stopped\"}")" = 1 ]'
check "... and promtool still accepts it" promtool_ok
B delete "{\"hash\": \"$MD4B\"}" >/dev/null

# ---- a real transfer ----
before_in=$(scrape && m 'muleteer_transfer_bytes_total{direction="in",part="payload"}')
B resume "{\"hash\": \"$MD4\"}" >/dev/null
done_ok() { is_m 'muleteer_finished_downloads{state="completed"}' 1; }
if eventually 120 done_ok; then ok "the download completes: muleteer_finished_downloads{state=\"completed\"} 1"
else not_ok "the download completes"; diag "$(B downloads)"; fi
pay_in=$(m 'muleteer_transfer_bytes_total{direction="in",part="payload"}')
over_in=$(m 'muleteer_transfer_bytes_total{direction="in",part="overhead"}')
over_out=$(m 'muleteer_transfer_bytes_total{direction="out",part="overhead"}')
peer_in=$(m 'muleteer_channel_bytes_total{direction="in",channel="peer"}')
diag "payload in $pay_in (before $before_in), overhead in $over_in, out $over_out, peer in $peer_in; file $SIZE"
check "payload received: the file's size (at most 5% more for repeated blocks)" \
  awk -v p="$pay_in" -v s=$SIZE 'BEGIN { exit !(p >= s && p <= s * 1.05) }'
check "overhead both ways, and the peer bytes hold payload plus protocol" \
  awk -v o="$over_in" -v u="$over_out" -v p="$pay_in" -v c="$peer_in" \
  'BEGIN { exit !(o > 0 && u > 0 && c > p && c < p * 1.1) }'
bm=$(B metrics)
whole_packets() {
  jq -e '(.traffic.payload.in + .traffic.protocol.in) as $t | $t <= .traffic.peer.in and
    $t >= .traffic.peer.in * 0.99 and .traffic.protocol.out > 0' <<<"$bm" >/dev/null
}
check "payload and protocol received add up to the bytes read from peers" whole_packets
check "no download left active" eval \
  '[ "$(grep -c "^muleteer_downloads{state=\"[a-z]*\"} 0$" <<<"$BODY")" = 8 ]'
check "promtool accepts the answer after the transfer" promtool_ok
check "no broken invariant on the way (muleteer_bugs_total 0)" [ "$(m muleteer_bugs_total)" = 0 ]
check "the IP filter's series: no list, no ranges, no hits" eval \
  '[ "$(m muleteer_ipfilter_ranges)" = 0 ] && [ "$(grep -c "^muleteer_ipfilter_hits_total{kind=\"[a-z_]*\"} 0$" <<<"$BODY")" = 4 ]'
dash_missing=""
for name in $(grep -o 'muleteer_[a-z_]*' "$MT_SRCDIR/docs/grafana-dashboard.json" | sort -u); do
  grep -q "^$name[{ ]" "$T/metrics" || dash_missing="$dash_missing $name"
done
check "every series the Grafana dashboard graphs is in the answer (missing:$dash_missing)" [ -z "$dash_missing" ]
out=$(mcli "$T/a" --json call metrics)
seeder_ok() {
  jq -e --argjson s $SIZE '.traffic.payload.out >= $s and .traffic.payload.out <= $s * 1.05 and
    .traffic.protocol.out > 0 and .traffic.peer.out > .traffic.payload.out and
    .shared_files == 2 and .bugs == 0' <<<"$out" >/dev/null
}
check "the seeder's metrics command: payload sent is the file's size, within its peer bytes" seeder_ok

# ---- the route families' own counters ----
scrape
p0=$(m 'muleteer_http_requests_total{family="prom",code="2xx"}')
q0=$(m 'muleteer_http_requests_total{family="qbit",code="4xx"}'); [ "$q0" = none ] && q0=0
for i in 1 2 3; do curl -s -o /dev/null "$BASE/api/v2/torrents/info"; done
scrape
p1=$(m 'muleteer_http_requests_total{family="prom",code="2xx"}')
q1=$(m 'muleteer_http_requests_total{family="qbit",code="4xx"}')
check "each scrape counts itself (prom, 2xx: $p0 -> $p1)" [ "$p1" = $((p0 + 1)) ]
check "three refused qbit requests count as 4xx ($q0 -> $q1)" [ "$q1" = $((q0 + 3)) ]
hist_ok() {
  local fam=$1 count inf total
  count=$(m "muleteer_http_request_duration_seconds_count{family=\"$fam\"}")
  inf=$(m "muleteer_http_request_duration_seconds_bucket{family=\"$fam\",le=\"+Inf\"}")
  total=$(awk -v f="$fam" '$1 ~ "^muleteer_http_requests_total\\{family=\"" f "\"" { s += $2 } END { print s + 0 }' <<<"$BODY")
  [ "$count" = "$inf" ] && [ "$count" = "$total" ] && [ "$count" -gt 0 ]
}
check "each family's histogram: _count = +Inf bucket = its requests" eval 'hist_ok prom && hist_ok qbit'
slots=$(ls "$VAR/run/metrics" 2>/dev/null | tr '\n' ' ')
check "one slot file per process under var/run/metrics ($slots)" eval \
  '[[ " $slots" == *" prom.0 "* ]] && [[ " $slots" == *" qbit.0 "* ]]'

ms=$(curl -s -o /dev/null -w '%{time_total}' "$BASE/metrics" | awk '{ printf "%.1f", $1 * 1000 }')
diag "a scrape took $ms ms through lighttpd"
# ---- OpenMetrics ----
get "$BASE/metrics" -H 'Accept: application/openmetrics-text; version=1.0.0'
check "Accept openmetrics: its content type, # EOF last, counters' families without _total" eval \
  '[ "$CODE" = 200 ] && [[ "$TYPE" == application/openmetrics-text* ]] &&
   [ "$(tail -n 1 "$T/metrics")" = "# EOF" ] &&
   grep -qx "# TYPE muleteer_transfer_bytes counter" "$T/metrics"'

# ---- who may read it ----
# from_elsewhere [KEY]: /metrics from $OTHER_IP, as CGI (see OTHER_IP);
# CODE from its Status header (200 without one), BODY its body.
from_elsewhere() {
  local out
  out=$(as_service_user env -i PATH="$PATH" MULETEER_CONF="$VAR/muleteer.conf" \
    ${ASAN_OPTIONS:+ASAN_OPTIONS="$ASAN_OPTIONS"} ${UBSAN_OPTIONS:+UBSAN_OPTIONS="$UBSAN_OPTIONS"} \
    GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET REQUEST_URI=/metrics SCRIPT_NAME=/metrics \
    QUERY_STRING= REMOTE_ADDR="$OTHER_IP" SERVER_PROTOCOL=HTTP/1.1 \
    ${1:+HTTP_X_API_KEY="$1"} "$MT_BUILDDIR/cgi-bin/prom.fcgi" </dev/null 2>>"$T/prom-cgi.err" | tr -d '\r')
  CODE=$(sed -n '1,/^$/s/^Status: \([0-9]*\).*/\1/p' <<<"$out")
  [ -n "$CODE" ] || CODE=200
  BODY=$(sed '1,/^$/d' <<<"$out")
}
from_elsewhere
check "loopback mode: from $OTHER_IP without credentials: 401 JSON" eval \
  '[ "$CODE" = 401 ] && jq -e ".error.code" <<<"$BODY" >/dev/null'
from_elsewhere "$KEY"
check "loopback mode: from $OTHER_IP with the API key: 200" eval \
  '[ "$CODE" = 200 ] && grep -q "^muleteer_" <<<"$BODY"'
from_elsewhere "wrong$KEY"
check "loopback mode: from $OTHER_IP with a wrong key: 401" [ "$CODE" = 401 ]
set_allow key
get "$BASE/metrics"
check "key mode: loopback without credentials: 401" [ "$CODE" = 401 ]
get "$BASE/metrics" -H "X-API-Key: wrong$KEY"
check "key mode: a wrong key: 401" [ "$CODE" = 401 ]
get "$BASE/metrics" -H "Authorization: Bearer $KEY"
check "key mode: the API key as Bearer: 200, promtool accepts it" eval '[ "$CODE" = 200 ] && promtool_ok'
set_allow public
from_elsewhere
check "public mode: from $OTHER_IP without credentials: 200" eval \
  '[ "$CODE" = 200 ] && grep -q "^muleteer_" <<<"$BODY"'
get "$BASE/metrics"
check "public mode: without credentials through lighttpd: 200" [ "$CODE" = 200 ]
set_allow sometimes
get "$BASE/metrics"
check "a bad metrics_allow: 500 naming the key" eval \
  '[ "$CODE" = 500 ] && jq -e ".error.message | contains(\"metrics_allow\")" <<<"$BODY" >/dev/null'
set_allow loopback
check "back to loopback: 200 without credentials" scrape
get "$BASE/metricsx"
check "another path under the prefix: 404" [ "$CODE" = 404 ]

stop_runsh "$RUNSH_PID" || diag "run.sh did not stop"
finish
