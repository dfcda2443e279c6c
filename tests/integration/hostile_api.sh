#!/usr/bin/env bash
# hostile_api.sh: the control socket and /api/v2 driven as a careless or
# hostile client would, through the real stack (run.sh: PostgreSQL,
# muleteerd, lighttpd and qbit.fcgi): invalid UTF-8 in every kind of
# parameter, a categories file poisoned by an older version, a request too
# long for a control line, a daemon that stops answering while other
# routes must not wait, and a user without access to the control socket.
# TAP.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
trap cleanup EXIT

CLI="$MT_BUILDDIR/bin/muleteer"
PROCS=3

mk_tmpdir T
VAR="$T/var"
mkdir -p "$VAR"
# ---- state written by an older version that let invalid UTF-8 through:
# overlong '/', a surrogate, a priority out of range ----
printf '[
 {"name":"good","incoming_path":"%s/incoming/good","priority":1,"colour":255,"comment":"fine","created":1795000000},
 {"name":"badpath","incoming_path":"/tmp/mt-x\xed\xa0\x80","priority":0,"colour":0,"comment":"","created":1795000000},
 {"name":"badcomment","incoming_path":"%s/incoming/bc","priority":0,"colour":0,"comment":"a\xc0\xafb","created":1795000000},
 {"name":"badprio","incoming_path":"%s/incoming/bp","priority":100000,"colour":0,"comment":"","created":99999999999999}
]\n' "$VAR" "$VAR" "$VAR" >"$VAR/categories.json"

HP=$(free_port)
if ! start_runsh "$VAR" "$T/runsh.out" MULETEER_HTTP_PORT="$HP" MULETEER_TCP_PORT=$((HP + 1)) \
     MULETEER_UDP_PORT=$((HP + 2)) MULETEER_FCGI_PROCS=$PROCS; then
  not_ok "run.sh starts the stack"; diag "$(tail -n 20 "$T/runsh.out")"; finish; exit 1
fi
API="http://127.0.0.1:$HP/api/v2"
AUTH="Authorization: Bearer $(conf_key "$VAR" api_key)"
SOCK="$VAR/run/muleteerd.sock"
LOG="$VAR/log/muleteerd.log"

# req METHOD PATH [curl args...]: sets CODE, BODY and SECS (at most 30 s).
req() {
  local m=$1 p=$2; shift 2
  local out
  out=$(curl -sS -m 30 -H "$AUTH" -X "$m" -o "$T/body" -w '%{http_code} %{time_total}' "$@" "$API/$p")
  CODE=${out%% *} SECS=${out#* } BODY=$(cat "$T/body" 2>/dev/null)
}
is() { [ "$CODE" = "$1" ] && [ "$BODY" = "$2" ]; }
quick() { awk -v s="$SECS" -v max="$1" 'BEGIN { exit !(s < max) }'; }
cats() { curl -sS -m 10 -H "$AUTH" "$API/torrents/categories"; }

# ---- lighttpd runs several qbit.fcgi processes ----
LPID=$(pgrep -P "$RUNSH_PID" -x lighttpd | head -n 1)
nprocs() { ps -o comm= --ppid "${LPID:-0}" | grep -c '^qbit.fcgi$'; }
check "lighttpd runs MULETEER_FCGI_PROCS=$PROCS qbit.fcgi processes (ps)" eval '[ "$(nprocs)" = $PROCS ]'
diag "$(ps -o pid=,comm= --ppid "${LPID:-0}")"

# ---- poisoned categories.json: loaded, repaired, every row in PostgreSQL ----
all_four() { cats | jq -e 'has("good") and has("badpath") and has("badcomment") and has("badprio")' >/dev/null 2>&1; }
check "a categories file with invalid UTF-8 and bad numbers: every category reaches torrents/categories" \
  eventually 15 all_four
check "the bad incoming path was replaced by the default one, the others kept" \
  eval 'cats | jq -e --arg v "$VAR" '"'"'.badpath.savePath == ($v + "/incoming/badpath")
    and .good.savePath == ($v + "/incoming/good") and .badcomment.savePath == ($v + "/incoming/bc")'"'"' >/dev/null'
check "the daemon says which categories it repaired" \
  eval 'grep -q "\"badpath\": its incoming path" "$LOG" && grep -q "\"badcomment\": its comment" "$LOG"'
check "no database job failed" eval '! grep -q "job failed" "$LOG"'

# ---- invalid UTF-8 in parameters: 400 Bad Request, on every path ----
# lighttpd itself refuses the bytes C0, C1 and F5-FF in a URL (its own 400
# page); everything else reaches qbit, which answers qBittorrent's 400.
url_400() {
  case $1 in
    %C0*) [ "$CODE" = 400 ] ;;
    *) is 400 "Bad Request" ;;
  esac
}
for bad in %C0%AF %ED%A0%80 %F4%90%80%80; do
  req GET "torrents/info?category=$bad"
  check "torrents/info?category=$bad: 400 Bad Request (was 503)" url_400 "$bad"
  req GET "torrents/info?filter=all&x$bad=1"
  check "a parameter name with $bad: 400" url_400 "$bad"
  req POST torrents/createCategory -H 'Content-Type: application/x-www-form-urlencoded' \
    --data-binary "category=evil&savePath=/tmp/mt-evil$bad"
  check "createCategory with savePath=...$bad (url-encoded): 400" is 400 "Bad Request"
  raw=$(printf "${bad//%/\\x}")
  printf -- '--XyZ\r\nContent-Disposition: form-data; name="category"\r\n\r\nevil%s\r\n--XyZ--\r\n' "$raw" >"$T/mp"
  req POST torrents/createCategory -H 'Content-Type: multipart/form-data; boundary=XyZ' --data-binary @"$T/mp"
  check "createCategory with the raw bytes of $bad in a multipart part: 400" is 400 "Bad Request"
  req POST torrents/editCategory -H 'Content-Type: application/x-www-form-urlencoded' \
    --data-binary "category=good&savePath=/tmp/mt-evil$bad"
  check "editCategory with savePath=...$bad: 400" is 400 "Bad Request"
done
req GET "torrents/info?category=caf%C3%A9"
check "valid UTF-8 still works (category=café: [])" is 200 "[]"
check "no category named evil was created" eval '! cats | jq -e "has(\"evil\")" >/dev/null'

# ---- the daemon refuses such strings itself, naming the argument ----
reply=$(printf '{"id":1,"cmd":"category-add","args":{"name":"evil","incoming_path":"/tmp/mt-evil\xed\xa0\x80"}}\n{"id":2,"cmd":"category-add","args":{"name":"evil","comment":"\xc0\xaf"}}\n' |
        socat -t 3 - "UNIX-CONNECT:$SOCK")
check "control socket: invalid_args naming incoming_path, with the id" \
  grep -qF '{"id":1,"error":{"code":"invalid_args","message":"incoming_path: invalid UTF-8"}}' <<<"$reply"
check "control socket: invalid_args naming comment" \
  grep -qF '{"id":2,"error":{"code":"invalid_args","message":"comment: invalid UTF-8"}}' <<<"$reply"
out=$("$CLI" --socket "$SOCK" call category-add "$(printf '{"name":"evil","incoming_path":"/tmp/\xf4\x90\x80\x80"}')" 2>&1); rc=$?
check "the CLI refuses it at once (exit 1, the argument named)" \
  eval '[ $rc = 1 ] && grep -q "incoming_path: invalid UTF-8" <<<"$out"'

# ---- categories keep working afterwards ----
req POST torrents/createCategory --data-urlencode category=after --data-urlencode savePath=
check "createCategory after the attacks: 200" is 200 ""
check "torrents/categories lists the new one and the old ones" \
  eval 'cats | jq -e "has(\"after\") and has(\"good\") and has(\"badpath\") and (keys | length) == 5" >/dev/null'
check "still no database job failed" eval '! grep -q "job failed" "$LOG"'

# ---- a request too long for a control line: 400 at once, not 503 after 10 s ----
LONG=$(head -c 70000 /dev/zero | tr '\0' a)
req POST torrents/createCategory --data-urlencode category=long --data-urlencode "savePath=/tmp/$LONG"
check "createCategory with a 70 kB savePath: 400 Bad Request" is 400 "Bad Request"
check "... answered at once (${SECS}s)" quick 3
t0=$(date +%s%N)
out=$("$CLI" --socket "$SOCK" call category-add "{\"name\":\"long\",\"incoming_path\":\"/$LONG\"}" 2>&1); rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "the CLI: exit 1 with line_too_long at once (${ms} ms)" \
  eval '[ $rc = 1 ] && grep -q "longer than 65535 bytes" <<<"$out" && [ $ms -lt 3000 ]'
# An id-less error (the daemon could not read the line) ends nothing else:
reply=$(printf '{"id":1,"cmd":"ping","args":{"a":"\xff"}}\n{"id":2,"cmd":"ping"}\n' | socat -t 3 - "UNIX-CONNECT:$SOCK")
check "a line that is not UTF-8 at all: parse_error without an id, the next line answered" \
  eval 'grep -q "{\"id\":null,\"error\":{\"code\":\"parse_error\"" <<<"$reply" && grep -qF "{\"id\":2,\"result\":{\"pong\":true}}" <<<"$reply"'

# ---- a daemon that stops answering holds only the request waiting on it ----
DPID=$("$CLI" --socket "$SOCK" --json status | jq -r .pid)
kill -STOP "$DPID"
curl -sS -m 30 -H "$AUTH" -o /dev/null -w '%{http_code}' --data-urlencode category=held \
  "$API/torrents/createCategory" >"$T/held.code" 2>/dev/null &
HELD=$!
CLEANUP_PIDS+=("$HELD")
sleep 1
slow_others=0
for i in 1 2 3; do
  req GET app/version
  { is 200 v5.0.0 && quick 2; } || slow_others=1
  req GET "torrents/info?filter=all"
  { [ "$CODE" = 200 ] && quick 2; } || slow_others=1
done
check "while a request waits on a stopped daemon, app/version and torrents/info answer within 2 s" \
  [ "$slow_others" = 0 ]
check "... and that request is still waiting" kill -0 "$HELD"
kill -CONT "$DPID"
wait "$HELD" 2>/dev/null
check "once the daemon runs again the held request ends (200, or 503 after its 10 s)" \
  grep -qE '^(200|503)$' "$T/held.code"
out=$("$CLI" --socket "$SOCK" ping 2>&1)
check "the daemon answers again" [ "$out" = pong ]

# ---- a user who may not use the control socket ----
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$CLI" --socket "$SOCK" ping 2>&1); rc=$?
check "as a user without access: a permission error naming the socket, exit 4" \
  eval '[ $rc = 4 ] && grep -qF "permission denied on the control socket $SOCK" <<<"$out" &&
        ! grep -q "not running" <<<"$out"'
out=$("$CLI" --socket "$T/nosuch.sock" ping 2>&1); rc=$?
check "no socket at all: still \"muleteerd is not running\", exit 3" \
  eval '[ $rc = 3 ] && grep -q "muleteerd is not running" <<<"$out"'

stop_runsh "$RUNSH_PID"
finish
