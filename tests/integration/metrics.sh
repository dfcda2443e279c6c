#!/usr/bin/env bash
# metrics.sh: aMuTorrent's charts, /api/metrics/{speed-history, history,
# stats, dashboard} (metrics.fcgi, docs/web-api.md), through lighttpd on
# the real stack. Samples of two nodes are written with the daemon's own
# INSERT (taken from daemon/store/download_tables.c, with chosen times),
# over 24 hours, 7 and 30 days, with an idle sample, a gap and a counter
# reset; every range is checked bucket by bucket and total by total, for
# one node and all nodes added up, beside the running daemon's own idle
# samples. Every route refuses a request without credentials and with a
# wrong key; bad parameters are 400s naming them. TAP.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
trap cleanup EXIT

command -v jq >/dev/null || { echo "Bail out! jq is not installed (run.sh check installs it)"; exit 1; }

mk_tmpdir T
MP=$(free_port); HP=$(free_port)
VAR="$T/var"
mkdir -p "$VAR"
PASS="mx-pass-$RANDOM$RANDOM"
KEY="mxkey$RANDOM$RANDOM$RANDOM"
LIVE=mx-live
cat >"$VAR/muleteer.conf" <<EOF2
node_name = $LIVE
state_dir = $VAR
log_file = $VAR/log/muleteerd.log
tcp_port = $MP
udp_port = $((MP + 1))
web_username = admin
web_password = $PASS
api_key = $KEY
sample_interval = 1
EOF2
chmod 0600 "$VAR/muleteer.conf"
chown_service "$VAR/muleteer.conf" 2>/dev/null || true
if ! start_runsh "$VAR" "$T/runsh.out" MULETEER_HTTP_PORT="$HP"; then
  not_ok "run.sh starts the stack"; diag "$(tail -n 20 "$T/runsh.out")"; finish; exit 1
fi
DB=$(conf_key "$VAR" database)
BASE="http://127.0.0.1:$HP/api/metrics"
PSQL() { as_service_user psql "$DB" -XAtq -v ON_ERROR_STOP=1 "$@" 2>>"$T/psql.err"; }

# get PATH [curl args...]: GET $BASE/PATH with the API key unless curl
# args are given; sets CODE and BODY.
get() {
  local path=$1; shift
  [ $# -gt 0 ] || set -- -H "X-API-Key: $KEY"
  CODE=$(curl -sS -o "$T/body" -w '%{http_code}' "$@" "$BASE/$path")
  BODY=$(cat "$T/body")
}
is() {
  if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; diag "got:  $2" "want: $3"; fi
}

# ---- the samples ----
# T0: a 6-hour edge 12 to 18 hours ago; D7 = T0 - 3 days, D30 = T0 - 20
# days. Times below are seconds after T0. The live daemon's own samples
# are all after T0 + 2 h: the all-nodes charts are compared before that.
NOW=$(date +%s)
T0=$(( (NOW - 43200) / 21600 * 21600 ))
D7=$((T0 - 259200)); D30=$((T0 - 1728000))
INSERT=$(sed -n '/"INSERT INTO transfer_samples (node, sampled_at, interval_ms/,/DO NOTHING"/p' \
  "$MT_SRCDIR/daemon/store/download_tables.c" | sed 's/^[^"]*"//; s/"[^"]*$//' | tr -d '\n')
check "the daemon's sample INSERT is found in its source" \
  eval '[[ "$INSERT" == "INSERT INTO transfer_samples"*"ON CONFLICT (node, sampled_at) DO NOTHING" ]]'
# feed NODE AT IV_MS DL_RATE UL_RATE DL_BYTES UL_BYTES: one sample as the
# daemon writes it (its totals: the node's last ones plus the bytes).
feed() { printf "EXECUTE feed('%s', '%s', %s, %s, %s, %s, %s, 0, 0);\n" "$@"; }
{
  echo "PREPARE feed AS $INSERT;"
  feed fa $((T0 - 40 * 86400)) 15000 999 99 14985 1485        # older than 30 days
  feed fa $((D30 + 21600)) 3600000 10 1 36000 3600            # hourly samples
  feed fa $((D30 + 25200)) 3600000 20 2 72000 7200
  feed fa $((D7 + 1800)) 60000 100 10 6000 600                # first after 17 days
  feed fa $((D7 + 5400)) 60000 200 20 12000 1200              # after a gap of an hour
  feed fa $((D7 + 5460)) 60000 300 30 18007 1800
  feed fa $((T0 + 15)) 15000 100 10 1500 150
  feed fa $((T0 + 30)) 15000 200 20 3007 300
  feed fa $((T0 + 45)) 15000 0 0 0 0                          # running, idle
  feed fa $((T0 + 60)) 15000 400 40 6000 600
  feed fa $((T0 + 3615)) 15000 1000 100 15007 1500            # after a gap: rate x interval
  # a counter that went down (another daemon of the same name): rate x interval
  echo "INSERT INTO transfer_samples (node, sampled_at, interval_ms, dl_rate, ul_rate, dl_total, ul_total)
        VALUES ('fa', to_timestamp($((T0 + 3630))), 15000, 2000, 200, 5, 5);"
  feed fa $((T0 + 3645)) 15000 1 0 15 0                       # counted from the reset
  feed fb $((T0 + 30)) 15000 50 5 750 75
  feed fb $((T0 + 45)) 15000 60 6 900 90
} >"$T/feed.sql"
check "the samples are written" PSQL -f "$T/feed.sql"
is "... 15 samples of fa and fb" "$(PSQL -c "SELECT count(*) FROM transfer_samples WHERE node IN ('fa', 'fb')")" 15

# rel KIND: the last body's data as [seconds after T0, uploadSpeed,
# downloadSpeed(, uploadedDelta, downloadedDelta)], before T0 + 2 h.
rel() {
  local f='[(.timestamp / 1000 - $t0), .uploadSpeed, .downloadSpeed]'
  [ "$1" = history ] && f='[(.timestamp / 1000 - $t0), .uploadSpeed, .downloadSpeed, .uploadedDelta, .downloadedDelta]'
  jq -c --argjson t0 "$T0" "[.data[] | select(.timestamp < (\$t0 + 7200) * 1000) | $f]" <<<"$BODY"
}
stats6() { jq -c '[.totalUploaded, .totalDownloaded, .avgUploadSpeed, .avgDownloadSpeed, .peakUploadSpeed, .peakDownloadSpeed]' <<<"$BODY"; }

# ---- one node: node=fa ----
get "speed-history?range=24h&node=fa"
is "24h speed, fa: 15 s buckets from the raw samples, the idle one with zeros, none while stopped" \
  "$CODE $(jq -r .range <<<"$BODY") $(rel speed)" \
  "200 24h [[0,10,100],[15,20,200],[30,0,0],[45,40,400],[3600,100,1000],[3615,200,2000],[3630,0,1]]"
get "history?range=24h&node=fa"
is "24h history, fa: 15-minute buckets; the gap and the reset count rate x interval" \
  "$CODE $(rel history)" "200 [[0,1,11,1050,10507],[3600,5,50,4500,45015]]"
get "stats?range=24h&node=fa"
is "24h stats, fa: totals, averages over the buckets present, peaks" \
  "$CODE $(jq -r .range <<<"$BODY") $(stats6)" "200 24h [5550,55522,3,30,200,2000]"
get "speed-history?range=7d&node=fa"
is "7d speed, fa: 15-minute buckets" "$CODE $(rel speed)" \
  "200 [[-258300,0,6],[-254700,1,13],[-253800,2,20],[0,1,11],[3600,5,50]]"
get "history?range=7d&node=fa"
is "7d history, fa: 2-hour buckets of the hourly rollups" "$CODE $(rel history)" \
  "200 [[-259200,0,5,3600,36007],[0,0,7,5550,55522]]"
get "stats?range=7d&node=fa"
is "7d stats, fa" "$CODE $(stats6)" "200 [9150,91529,0,6,200,2000]"
get "speed-history?range=30d&node=fa"
is "30d speed, fa: hourly buckets; nothing older than 30 days" "$CODE $(rel speed)" \
  "200 [[-1710000,1,10],[-1706400,2,20],[-259200,0,1],[-255600,0,8],[0,0,2],[3600,1,12]]"
get "history?range=30d&node=fa"
is "30d history, fa: 6-hour buckets" "$CODE $(rel history)" \
  "200 [[-1728000,0,1,3600,36000],[-1706400,0,3,7200,72000],[-259200,0,1,3600,36007],[0,0,2,5550,55522]]"
get "stats?range=30d&node=fa"
is "30d stats, fa" "$CODE $(stats6)" "200 [19950,199529,0,2,200,2000]"
get "stats?range=30d&node=nosuch"
is "an unknown node: no buckets, zeros" "$CODE $(stats6)" "200 [0,0,0,0,0,0]"

# ---- all nodes (the default): fa, fb and the live daemon ----
get "speed-history?range=24h"
is "24h speed, all nodes added up" "$CODE $(rel speed)" \
  "200 [[0,10,100],[15,25,250],[30,6,60],[45,40,400],[3600,100,1000],[3615,200,2000],[3630,0,1]]"
get "history?range=24h"
is "24h history, all nodes" "$CODE $(rel history)" "200 [[0,1,13,1215,12157],[3600,5,50,4500,45015]]"
get "speed-history?range=7d"
is "7d speed, all nodes" "$CODE $(rel speed)" \
  "200 [[-258300,0,6],[-254700,1,13],[-253800,2,20],[0,1,13],[3600,5,50]]"
get "history?range=7d"
is "7d history, all nodes" "$CODE $(rel history)" "200 [[-259200,0,5,3600,36007],[0,0,7,5715,57172]]"
get "speed-history?range=30d"
is "30d speed, all nodes" "$CODE $(rel speed)" \
  "200 [[-1710000,1,10],[-1706400,2,20],[-259200,0,1],[-255600,0,8],[0,0,3],[3600,1,12]]"
get "history?range=30d"
is "30d history, all nodes" "$CODE $(rel history)" \
  "200 [[-1728000,0,1,3600,36000],[-1706400,0,3,7200,72000],[-259200,0,1,3600,36007],[0,0,2,5715,57172]]"

# The dashboard, as aMuTorrent's UI reads it. The live daemon's idle
# buckets count in the averages: they are checked against the buckets of
# the same answer.
for r in 24h:5715:57172:200:2000:900 7d:9315:93179:200:2000:7200 30d:20115:201179:206:2060:21600; do
  IFS=: read -r name tu td pu pd res <<<"$r"
  get "dashboard?range=$name"
  n=$(jq '.historicalData.data | length' <<<"$BODY")
  is "dashboard $name: speedData, historicalData, historicalStats with the ed2k breakdown" \
    "$CODE $(jq -c '[.speedData.range, .historicalData.range, .historicalStats.range,
                      (.historicalStats | [.totalUploaded, .totalDownloaded, .peakUploadSpeed, .peakDownloadSpeed]),
                      (.historicalStats.ed2k | [.totalUploaded, .totalDownloaded]),
                      .historicalStats.bittorrent.totalDownloaded]' <<<"$BODY")" \
    "200 [\"$name\",\"$name\",\"$name\",[$tu,$td,$pu,$pd],[$tu,$td],0]"
  is "dashboard $name: averages over the buckets present ($n)" \
    "$(jq -c '.historicalStats | [.avgUploadSpeed, .avgDownloadSpeed]' <<<"$BODY")" \
    "[$((tu / (n * res))),$((td / (n * res)))]"
  is "dashboard $name: every bucket has the ed2k figures and zero bittorrent ones" \
    "$(jq '[.speedData.data[] | select(.ed2kDownloadSpeed != .downloadSpeed or .ed2kUploadSpeed != .uploadSpeed
                                       or .bittorrentDownloadSpeed != 0)] +
           [.historicalData.data[] | select(.ed2kDownloadedDelta != .downloadedDelta
                                            or .ed2kUploadedDelta != .uploadedDelta
                                            or .bittorrentUploadedDelta != 0)] | length' <<<"$BODY")" 0
done
get "dashboard?range=24h&node=fa"
is "dashboard with node=: that node's charts and stats" \
  "$CODE $(jq -c '[(.speedData.data | length), (.historicalData.data | length),
                   .historicalStats.totalDownloaded, .historicalStats.avgDownloadSpeed]' <<<"$BODY")" \
  "200 [7,2,55522,30]"

# ---- the live daemon: running and idle, its buckets are there, zeros ----
live_buckets() {
  get "speed-history?range=24h&node=$LIVE"
  [ "$(jq '.data | length' <<<"$BODY")" -ge 3 ]
}
check "the running daemon's own samples reach the 24h chart" eventually 60 live_buckets
is "... every 15 s bucket since it started, with zeros" \
  "$(jq -c '[.data | (map(.uploadSpeed + .downloadSpeed) | add),
                     ([range(1; length) as $i | .[$i].timestamp - .[$i - 1].timestamp] | unique)]' <<<"$BODY")" \
  "[0,[15000]]"

# ---- kept answers: a change to the samples shows at the next request ----
# (each program keeps a rendered answer until metrics_changes, sql/027,
# says its rows changed; a large one as a file lighttpd sends)
get "dashboard?range=24h&node=fd"
is "a node without samples: no buckets" \
  "$CODE $(jq -c '[(.speedData.data | length), .historicalStats.totalDownloaded]' <<<"$BODY")" "200 [0,0]"
PSQL -c "INSERT INTO transfer_samples (node, sampled_at, interval_ms, dl_rate, ul_rate, dl_total, ul_total)
         SELECT 'fd', to_timestamp($((T0 + 7200)) + 15 * k), 15000, 1000, 100, 15000 * k, 1500 * k
           FROM generate_series(1, 300) k" >/dev/null
get "dashboard?range=24h&node=fd"
is "... its 300 samples written: 300 buckets at the next request" \
  "$CODE $(jq -c '[(.speedData.data | length), (.speedData.data | map(.downloadSpeed) | unique),
                   .historicalStats.totalDownloaded]' <<<"$BODY")" "200 [300,[1000],4500000]"
FIRST=$BODY
check "a large answer (over 32 KiB) was handed to lighttpd as a file (tmp/bodies)" \
  eval '[ "${#FIRST}" -gt 32768 ] && ls "$VAR/tmp/bodies" | grep -q "^body-"'
get "dashboard?range=24h&node=fd"
check "... and the same answer is sent again, whole" [ "$BODY" = "$FIRST" ]
PSQL -c "DELETE FROM transfer_samples WHERE node = 'fd' AND sampled_at > to_timestamp($((T0 + 7200 + 15 * 150)))" >/dev/null
get "dashboard?range=24h&node=fd"
is "samples deleted: their buckets are gone at the next request" \
  "$CODE $(jq -c '.speedData.data | length' <<<"$BODY")" "200 150"
get "stats?range=24h&node=fd"
is "... the stats still count the rollups of all 300" "$CODE $(jq -c .totalDownloaded <<<"$BODY")" "200 4500000"
PSQL -c "DELETE FROM transfer_rollups WHERE node = 'fd'" >/dev/null
get "stats?range=24h&node=fd"
is "rollups deleted: the stats are zero at the next request" \
  "$CODE $(jq -c .totalDownloaded <<<"$BODY")" "200 0"

# ---- parameters ----
for q in "range=1h" "range=" "range=24H" "range=24h&range=7d" "range=7d%20"; do
  get "history?$q"
  is "range: $q is a 400 naming range" \
    "$CODE $(jq -c '[.error.code, .error.parameter]' <<<"$BODY")" '400 ["bad_parameter","range"]'
done
get "speed-history?node="
is "an empty node= is a 400 naming node" "$CODE $(jq -c .error.parameter <<<"$BODY")" '400 "node"'
get "speed-history"
is "no range: 24h" "$CODE $(jq -r .range <<<"$BODY")" "200 24h"
get "nosuch"
is "an unknown route: 404 JSON" "$CODE $(jq -r .error.code <<<"$BODY")" "404 not_found"
CODE=$(curl -sS -o /dev/null -w '%{http_code}' -d x=1 -H "X-API-Key: $KEY" "$BASE/stats")
is "POST: 405" "$CODE" 405

# ---- credentials ----
for route in speed-history history stats dashboard; do
  get "$route?range=7d" -H "X-Nothing: 1"
  is "$route without credentials: 401 JSON" "$CODE $(jq -r .error.code <<<"$BODY")" "401 unauthorized"
  get "$route?range=7d" -H "X-API-Key: x$KEY"
  is "$route with a wrong X-API-Key: 401" "$CODE $(jq -r .error.code <<<"$BODY")" "401 unauthorized"
  get "$route?range=7d" -H "Authorization: Bearer ${KEY}x"
  is "$route with a wrong Bearer key: 401" "$CODE" 401
  get "$route?range=7d" -u "admin:x$PASS"
  is "$route with a wrong password: 401" "$CODE" 401
  get "$route?range=7d" -H "Authorization: Bearer $KEY"
  is "$route with the key as Bearer: 200" "$CODE" 200
done
get "stats?range=7d" -u "admin:$PASS"
is "HTTP Basic with the web password: 200" "$CODE" 200
curl -sS -c "$T/jar" --data-urlencode username=admin --data-urlencode "password=$PASS" \
  "http://127.0.0.1:$HP/api/v2/auth/login" >/dev/null
get "stats?range=7d" -b "$T/jar"
is "a session cookie from /api/v2/auth/login: 200" "$CODE" 200

stop_runsh "$RUNSH_PID" || not_ok "run.sh stops"
finish
