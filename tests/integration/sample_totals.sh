#!/usr/bin/env bash
# sample_totals.sh: the node's transfer totals against real downloads. The
# real stack (run.sh: PostgreSQL, muleteerd, lighttpd) downloads a file of
# known size from a real amuled 2.3.3, then a second one under its own
# download rate limit (a connection with its own token bucket besides the
# peers' group); after each, every total of what was received must be the
# files' sizes plus the protocol around them (under 5 %): the peers' bytes
# (metrics command, /metrics), the samples (transfer_samples: dl_total, and
# rate x interval), the rollups of every resolution (transfer_rollups),
# /api/metrics/stats?range=24h and the 24-hour speed chart. TAP output.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/amule.sh"
. "$MT_SRCDIR/tests/integration/mule.sh"
trap 'amule_stop_all; cleanup' EXIT

command -v jq >/dev/null || { echo "Bail out! jq is not installed (run.sh check installs it)"; exit 1; }
PSQL() { as_service_user psql "$DB" -XAtq -c "$1" 2>/dev/null; }

mk_tmpdir T
SP=$(free_port); SEEDP=$(free_port); HP=$(free_port); MP=$(free_port)

# ---- the eD2K side: a server fixture and amuled sharing two files ----
"$MT_BUILDDIR/tests/fixtures/ed2k_server" --port "$SP" --name totals-fixture --highid-all \
  --log "$T/server.log" &
CLEANUP_PIDS+=("$!")
eventually 10 grep -qs listening "$T/server.log" || { not_ok "the server fixture starts"; finish; exit 1; }
FILE="totals-$$.bin" N=12000000
FILE2="totals-limited-$$.bin" N2=3000000 LIMIT=100000
head -c $N /dev/urandom >"$T/$FILE"
head -c $N2 /dev/urandom >"$T/$FILE2"
MD4=$(rhash --printf '%{ed2k}' "$T/$FILE")
MD4_2=$(rhash --printf '%{ed2k}' "$T/$FILE2")
amule_start SEED "$T/seed" "$SEEDP" $((SEEDP + 1)) $((SEEDP + 2)) "$SP"
check "amuled shares the files" eval 'amule_share SEED "$T/$FILE" && amule_share SEED "$T/$FILE2"'

# ---- Muleteer through run.sh ----
VAR="$T/var"
mkdir -p "$VAR"
KEY="totalskey$RANDOM$RANDOM$RANDOM"
NODE="totals-node"
cat >"$VAR/muleteer.conf" <<CONF
node_name = $NODE
state_dir = $VAR
log_file = $VAR/log/muleteerd.log
tcp_port = $MP
udp_port = $((MP + 1))
web_password = totals-pass-$RANDOM$RANDOM
api_key = $KEY
servers = 127.0.0.1:$SP
filter_lan = no
metrics_allow = loopback
CONF
chmod 0600 "$VAR/muleteer.conf"
chown_service "$VAR/muleteer.conf" 2>/dev/null || true
if ! start_runsh "$VAR" "$T/runsh.out" MULETEER_HTTP_PORT="$HP"; then
  not_ok "run.sh starts the stack"; diag "$(tail -n 20 "$T/runsh.out")"; finish; exit 1
fi
DB=$(conf_key "$VAR" database)
SOCK="$VAR/run/muleteerd.sock"
B() { "$CLI" --socket "$SOCK" --json call "$1" "${2:-{\}}"; }
api() { curl -sS -H "X-API-Key: $KEY" "http://127.0.0.1:$HP$1"; }
link() { echo "ed2k://|file|$1|$2|$3|/|sources,127.0.0.1:$SEEDP|/"; }

# totals WANT WHAT: after a download, every total against WANT bytes
# received (WHAT names the files in the test points)
totals() {
  local want=$1 what=$2 peer_in since
  # the download is over: a sample taken from now on has all its bytes
  peer_in=$(B metrics | jq -r .traffic.peer.in)
  since=$(PSQL "SELECT now()")
  sampled() { [ "$(PSQL "SELECT count(*) FROM transfer_samples WHERE sampled_at > '$since'")" -gt 0 ]; }
  check "$what: a sample is taken after it" eventually 40 sampled
  local s_total s_rate s_peak r stats st_dl speed sp_dl sp_max prom p_peer p_pay
  s_total=$(PSQL "SELECT coalesce(max(dl_total), 0) FROM transfer_samples WHERE node = '$NODE'")
  s_rate=$(PSQL "SELECT coalesce(sum(round(dl_rate::numeric * interval_ms / 1000)), 0)::bigint
                   FROM transfer_samples WHERE node = '$NODE'")
  s_peak=$(PSQL "SELECT coalesce(max(dl_rate), 0) FROM transfer_samples WHERE node = '$NODE'")
  r=$(PSQL "SELECT string_agg(resolution_s || ':' || s, ',' ORDER BY resolution_s)
              FROM (SELECT resolution_s, sum(dl_bytes) AS s FROM transfer_rollups
                     WHERE node = '$NODE' GROUP BY 1) x")
  stats=$(api "/api/metrics/stats?range=24h")
  st_dl=$(jq -r .totalDownloaded <<<"$stats")
  speed=$(api "/api/metrics/speed-history?range=24h")
  sp_dl=$(jq '[.data[].downloadSpeed] | add * 15' <<<"$speed")
  sp_max=$(jq '[.data[].downloadSpeed] | max' <<<"$speed")
  prom=$(curl -sS "http://127.0.0.1:$HP/metrics")
  p_peer=$(awk '$1 == "muleteer_channel_bytes_total{direction=\"in\",channel=\"peer\"}" { print $2 }' <<<"$prom")
  p_pay=$(awk '$1 == "muleteer_transfer_bytes_total{direction=\"in\",part=\"payload\"}" { print $2 }' <<<"$prom")
  diag "$what: $want bytes of files; peers' bytes in $peer_in (/metrics $p_peer, payload $p_pay)" \
    "samples: dl_total $s_total, rate x interval $s_rate, fastest $s_peak B/s" \
    "rollups' dl_bytes by resolution: $r" \
    "stats 24h: totalDownloaded $st_dl, peakDownloadSpeed $(jq -r .peakDownloadSpeed <<<"$stats");" \
    "speed chart 24h: $sp_dl bytes, fastest bucket $sp_max B/s"
  # within V: want <= V <= want x 1.05 (the files, and the protocol around them)
  within() { awk -v v="$1" -v n="$want" 'BEGIN { exit !(v + 0 >= n && v + 0 <= n * 1.05) }'; }
  check "$what: the peers' bytes in (metrics command) are the files' bytes plus under 5 %" within "$peer_in"
  check "$what: /metrics' peer bytes in likewise" within "$p_peer"
  check "$what: the samples' dl_total likewise" within "$s_total"
  check "$what: the samples' rate x interval likewise" within "$s_rate"
  local res v
  for res in 60 900 3600 21600; do
    v=$(tr ',' '\n' <<<"$r" | sed -n "s/^$res://p")
    check "$what: the $res-second rollups' dl_bytes likewise" within "${v:-0}"
  done
  check "$what: /api/metrics/stats?range=24h totalDownloaded likewise" within "$st_dl"
  check "$what: the 24-hour speed chart's bytes likewise" within "$sp_dl"
  # (a bucket's speed is its bytes over 15 s: a sample of 15.1 s is 1 % more)
  check "$what: no bucket of the speed chart is faster than the fastest sample (2 %)" \
    awk -v c="$sp_max" -v p="$s_peak" 'BEGIN { exit !(c <= p * 1.02) }'
}

# ---- a download of N bytes, no limit ----
"$CLI" --socket "$SOCK" add "$(link "$FILE" $N "$MD4")" >/dev/null
complete() { [ -f "$VAR/incoming/$1" ]; }
if eventually 240 complete "$FILE"; then ok "the download of $N bytes from amuled completes"; else
  not_ok "the download of $N bytes from amuled completes"; diag "$("$CLI" --socket "$SOCK" downloads 2>&1)"; fi
check "the file is amuled's, byte for byte" cmp -s "$VAR/incoming/$FILE" "$T/$FILE"
totals $N "the first download"

# ---- a download of N2 bytes under its own rate limit ----
B add "{\"link\": \"$(link "$FILE2" $N2 "$MD4_2")\", \"stopped\": true}" >/dev/null
check "the second download's own limit is set" eval \
  'B rate-limits "{\"hash\": \"$MD4_2\", \"dl_limit\": $LIMIT}" >/dev/null'
B resume "{\"hash\": \"$MD4_2\"}" >/dev/null
t0=$(date +%s)
if eventually 120 complete "$FILE2"; then ok "the limited download of $N2 bytes completes"; else
  not_ok "the limited download of $N2 bytes completes"; diag "$("$CLI" --socket "$SOCK" downloads 2>&1)"; fi
took=$(($(date +%s) - t0))
# 30 s at the limit; without it amuled sends 3 MB in about 8 s
check "under its limit: it took $took s, more than 15" [ "$took" -gt 15 ]
check "the file is amuled's, byte for byte" cmp -s "$VAR/incoming/$FILE2" "$T/$FILE2"
totals $((N + N2)) "both downloads"

stop_runsh "$RUNSH_PID" || diag "run.sh did not stop"
finish
