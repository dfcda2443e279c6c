#!/usr/bin/env bash
# qbit_large.sh: torrents/info of a list large enough to be sent by
# lighttpd from a file (X-Sendfile, cgi-bin/common/cgifile.c), rendered
# from the rows each FastCGI process keeps (cgi-bin/qbit/rowcache.c): the
# same rows and bytes as small answers, a large page sent as byte ranges
# of the list's file, a changed row shows at once, filters and sorting
# still apply, and the files are removed. TAP output.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
trap cleanup EXIT

N=120
mk_tmpdir V
P=$(free_port)
if start_runsh "$V" "$V.out" MULETEER_HTTP_PORT="$P" MULETEER_TCP_PORT=$((P + 1)) \
     MULETEER_UDP_PORT=$((P + 2)); then
  ok "run.sh starts everything"
else
  not_ok "run.sh starts everything"; diag "$(tail -n 20 "$V.out")"
  finish; exit 1
fi
API="http://127.0.0.1:$P/api/v2"
AUTH="Authorization: Bearer $(conf_key "$V" api_key)"
DB=$(conf_key "$V" database)
NODE=$(conf_key "$V" node_name)
BODIES="$V/tmp/bodies"
get() { curl -fsS -H "$AUTH" "$API/$1"; }

# N downloads added on the control socket, a third of them stopped
for ((i = 1; i <= N; i++)); do
  printf '{"id": %d, "cmd": "add", "args": {"link": "ed2k://|file|Large.List.E%03d.mkv|%d|%032x|/"%s}}\n' \
    "$i" "$i" $((1000000 + i)) "$i" "$( ((i % 3 == 0)) && echo ', "stopped": true, "category": "tv"')"
done >"$V.add"
as_service_user socat -t 30 - "UNIX-CONNECT:$V/run/muleteerd.sock" <"$V.add" >"$V.added"
rows() { [ "$(as_service_user psql "$DB" -XAtq -c "SELECT count(*) FROM downloads WHERE node = '$NODE'")" = "$N" ]; }
check "$N downloads added and in the table" eventually 20 rows

hdrs=$(curl -fsS -H "$AUTH" -D - -o "$V.full" "$API/torrents/info")
len=$(stat -c %s "$V.full")
check "torrents/info lists $N rows in a large answer (> 64 KiB)" \
  eval '[ "$(jq length "$V.full")" = "$N" ] && [ "$len" -gt 65536 ]'
check "it was sent from a file under tmp/bodies" eval 'ls "$BODIES"/body-*.json >/dev/null 2>&1'
check "with the right Content-Length, no X-Sendfile and no ETag for the client" \
  eval 'echo "$hdrs" | grep -qi "^content-length: $len" && ! echo "$hdrs" | grep -qi "^x-sendfile" &&
        ! echo "$hdrs" | grep -qi "^etag" && echo "$hdrs" | grep -qi "^content-type: application/json"'

later=$(date -u -d '+1 hour' '+%a, %d %b %Y %H:%M:%S GMT')
code=$(curl -s -o "$V.cond" -w '%{http_code}' -H "$AUTH" -H "If-Modified-Since: $later" \
  -H 'If-None-Match: *' "$API/torrents/info")
check "conditional headers never make it a 304: the whole list again" \
  eval '[ "$code" = 200 ] && [ "$(jq length "$V.cond")" = "$N" ]'

# small answers (sent inline) carry the same bytes as the slices of the
# large one (fetched again together: some fields count seconds)
same_bytes() { # QUERY: its rows are, byte for byte, in a full list fetched with it
  local i
  for i in 1 2 3 4 5; do
    get "torrents/info" >"$V.now"; get "$1" >"$V.part"
    [ "$(jq length "$V.part")" -ge 1 ] && grep -qF "$(sed "s/^\[//; s/\]\$//" "$V.part")" "$V.now" &&
      return 0
  done
  return 1
}
check "a small slice is byte for byte the same rows as the large answer" \
  eval 'same_bytes "torrents/info?limit=5&offset=7" &&
        [ "$(jq -c "[.[7:12][] | del(.time_active, .seeding_time)]" "$V.now")" = "$(jq -c "[.[] | del(.time_active, .seeding_time)]" "$V.part")" ]'
check "hashes= selects one row, the same bytes as in the list" \
  eval 'same_bytes "torrents/info?hashes=$(printf "%032x" 5)" && [ "$(jq length "$V.part")" = 1 ]'
get "torrents/info?sort=name&reverse=true" >"$V.sorted"
check "sort=name&reverse=true: the same rows, names descending" \
  eval '[ "$(jq -r ".[].name" "$V.sorted")" = "$(jq -r ".[].name" "$V.full" | sort -r)" ]'
get "torrents/info?category=tv" >"$V.tv"
check "category=tv: the stopped third" \
  eval '[ "$(jq length "$V.tv")" = $((N / 3)) ] && [ "$(jq -r "[.[].state] | unique | .[]" "$V.tv")" = stoppedDL ]'
# a large page is sent by lighttpd as byte ranges of the whole list's file
# (X-Sendfile2): the same bytes, the right length, no header of ours
large_page() { # the page's rows are, byte for byte, in a full list fetched with it
  local i
  for i in 1 2 3 4 5; do
    get "torrents/info" >"$V.now"; get "torrents/info?offset=1&limit=1000" >"$V.part"
    sed "s/^\[//; s/\]\$//" "$V.part" >"$V.rows" # a pattern file: too long for an argument
    grep -qF -f "$V.rows" "$V.now" && return 0
  done
  return 1
}
check "offset=1: a large page, byte for byte the list without its first row" \
  eval 'large_page && [ "$(jq length "$V.part")" = $((N - 1)) ] &&
        [ "$(jq -r ".[0].hash" "$V.part")" = "$(jq -r ".[1].hash" "$V.now")" ]'
hdrs=$(curl -fsS -H "$AUTH" -D - -o "$V.page" "$API/torrents/info?offset=1&limit=1001")
check "sent whole: the right Content-Length, no X-Sendfile2 for the client" \
  eval 'echo "$hdrs" | grep -qi "^content-length: $(stat -c %s "$V.page")" && ! echo "$hdrs" | grep -qi "^x-sendfile"'

# a row written by the daemon shows in the next answer (its version moved)
h=$(printf '%032x' 1)
as_service_user psql "$DB" -XAtq -c "UPDATE downloads SET uploaded_bytes = 4242, dl_speed = 777
  WHERE node = '$NODE' AND hash = '$h'" >/dev/null
sleep 1.1 # past the one-second answer cache
get "torrents/info" >"$V.full2"
check "a changed row shows at once in the large answer, the others unchanged" \
  eval '[ "$(jq ".[] | select(.hash == \"${h}00000000\") | [.uploaded, .dlspeed] | @csv" "$V.full2")" = "\"4242,777\"" ] &&
        [ "$(jq -c "[.[] | select(.hash != \"${h}00000000\") | del(.time_active, .last_activity, .added_on)]" "$V.full")" = \
          "$(jq -c "[.[] | select(.hash != \"${h}00000000\") | del(.time_active, .last_activity, .added_on)]" "$V.full2")" ]'

# the answer files are removed once released (each query has its own)
for i in $(seq 1 20); do get "torrents/info?limit=$((1000 + i))" >/dev/null; done
sleep 0.5
get "torrents/info?limit=2000" >/dev/null
n=$(find "$BODIES" -name 'body-*.json' | wc -l)
check "the answer files are removed once released ($n left for 4 processes of 8 answers)" [ "$n" -le 36 ]

stop_runsh "$RUNSH_PID"
finish
