#!/bin/bash
# cluster.sh: two daemons (node-a, node-b) on one PostgreSQL, and the
# command relay between them (docs/cluster.md): the CLI with node A's
# configuration sends add and status to node B through the database and B
# does them; a repeated key is one add; B killed with kill -9 is refused
# as offline within its heartbeat window; B back works again; a PostgreSQL
# restart in between loses nothing. And /api/v2 across nodes, served by
# node A's qbit.fcgi: node B's download listed with its node, paused
# through node A, an add with node=node-b landing on B, one without a
# node on the node with the most room for its category, B's rows refused
# as offline once B is killed. TAP output.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/mule.sh"
trap cleanup EXIT
PSQL() { as_service_user psql "$DB" -XAtq -c "$1" 2>/dev/null; }

mk_tmpdir PG
private_pg "$PG"
mk_tmpdir T
AP=$(free_port); BP=$(free_port)
KEY="clusterkey$RANDOM$RANDOM$RANDOM"
SHM=$(mktemp -d /dev/shm/mt-it-cluster.XXXXXX); CLEANUP_DIRS+=("$SHM")
MULE_DATABASE=$DB start_mule A "$T/a" "$AP" "node_name = node-a" "status_interval = 1" \
  "api_key = $KEY" "download_roots = $SHM"
MULE_DATABASE=$DB start_mule B "$T/b" "$BP" "node_name = node-b" "status_interval = 1"
check "both daemons start" eval 'mcli "$T/a" ping >/dev/null && mcli "$T/b" ping >/dev/null'

# the CLI of node A's configuration: its own socket, its database
acli() { MULETEER_CONF="$T/a/muleteer.conf" "$CLI" --socket "$T/a/run/muleteerd.sock" --timeout 10 "$@"; }
heartbeats() { [ "$(PSQL "SELECT count(*) FROM daemon_status WHERE heartbeat > now() - interval '3 s'")" = 2 ]; }
check "both nodes write their heartbeat" eventually 20 heartbeats

out=$(acli --node node-b --json status 2>&1)
check "status for node-b comes from node-b's daemon" grep -q '"node": *"node-b"' <<<"$out" || diag "$out"
out=$(acli --node node-a --json status 2>&1)
check "status for the local node comes from the socket" grep -q '"node": *"node-a"' <<<"$out"
check "... without a row in the commands table" [ "$(PSQL "SELECT count(*) FROM commands WHERE node = 'node-a'")" = 0 ]

H1=0123456789abcdef0123456789abcde1
H2=0123456789abcdef0123456789abcde2
L1="ed2k://|file|one.bin|1000000|$H1|/"
L2="ed2k://|file|two.bin|2000000|$H2|/"
out=$(acli --node node-b --key add-one add "$L1" 2>&1); rc=$?
check "add through the database succeeds" [ "$rc" = 0 ] || diag "$out"
has() { mcli "$T/b" --json downloads | grep -q "$1"; }
check "node-b has the download" has "$H1"
check "node-a does not" eval '! mcli "$T/a" --json downloads | grep -q "$H1"'
out=$(acli --node node-b --key add-one add "$L1" 2>&1); rc=$?
check "the same add with the same key answers as the first" [ "$rc" = 0 ] || diag "$out"
check "... and is one row, run once" [ "$(PSQL "SELECT count(*) || ':' || min(state) FROM commands WHERE client_key = 'add-one'")" = "1:done" ]
out=$(acli --node node-b add "$L1" 2>&1); rc=$?
check "the same add with a new key is a second command: node-b refuses the duplicate" \
  eval '[ "$rc" = 1 ] && grep -qi "already" <<<"$out"' || diag "$out"
out=$(acli --node node-b call kad-import '{"source": "/etc/hostname"}' 2>&1); rc=$?
check "a command that reads the node's files is not run for another node" \
  eval '[ "$rc" = 1 ] && grep -q "cannot be sent to another node" <<<"$out"' || diag "$out"
out=$(acli --node node-z status 2>&1); rc=$?
check "an unknown node is refused at once" eval '[ "$rc" = 3 ] && grep -q "no node named" <<<"$out"' || diag "$out"

# ---- /api/v2 of node A (a lighttpd running its qbit.fcgi) ----
HP=$(free_port)
cat >"$T/lighttpd.conf" <<EOF
server.modules = ( "mod_fastcgi" )
server.bind = "127.0.0.1"
server.port = $HP
server.document-root = "$T"
server.errorlog = "$T/lighttpd-error.log"
fastcgi.server = ( "/api/v2/" => ((
  "bin-path" => "$MT_BUILDDIR/cgi-bin/qbit.fcgi",
  "socket" => "$T/qbit.sock",
  "check-local" => "disable",
  "min-procs" => 1, "max-procs" => 1,
  "bin-environment" => ( "MULETEER_CONF" => "$T/a/muleteer.conf" ),
)) )
EOF
lighttpd -D -f "$T/lighttpd.conf" >"$T/lighttpd.log" 2>&1 &
CLEANUP_PIDS+=("$!")
API="http://127.0.0.1:$HP/api/v2"
# req METHOD PATH [curl args...]: sets CODE and BODY.
req() {
  local m=$1 p=$2; shift 2
  CODE=$(curl -sS -m 20 -H "Authorization: Bearer $KEY" -X "$m" -o "$T/body" -w '%{http_code}' "$@" "$API/$p")
  BODY=$(cat "$T/body" 2>/dev/null)
}
jqt() { jq -e "$@" <<<"$BODY" >/dev/null 2>&1; }
up() { req GET app/version; [ "$CODE" = 200 ]; }
check "node A's qbit.fcgi answers" eventually 20 up
HH1=${H1}00000000
listed_b() { req GET torrents/info; jqt --arg h "$HH1" 'any(.[]; .hash == $h and .node == "node-b")'; }
check "torrents/info of node A lists node-b's download, with node \"node-b\"" eventually 10 listed_b || diag "$BODY"
req GET "torrents/info?node=node-a"
check "... not with node=node-a" jqt --arg h "$HH1" '[.[] | select(.hash == $h)] | length == 0'
req GET "torrents/info?node=node-b"
check "... and with node=node-b, every row node-b's" \
  jqt --arg h "$HH1" 'any(.[]; .hash == $h) and all(.[]; .node == "node-b")'
req GET "torrents/properties?hash=$HH1"
check "torrents/properties of node-b's download through node A" \
  eval '[ "$CODE" = 200 ] && jqt ".name == \"one.bin\""' || diag "$CODE $BODY"
req POST torrents/pause --data-urlencode "hashes=$HH1"
check "pause through node A: 200" [ "$CODE" = 200 ] || diag "$CODE $BODY"
state_b() { PSQL "SELECT state FROM downloads WHERE node = 'node-b' AND hash = '$H1'"; }
paused_b() { [ "$(state_b)" = paused ]; }
check "... node-b paused it" eventually 10 paused_b || diag "$(state_b)"
stopped_b() { req GET "torrents/info?node=node-b"; jqt --arg h "$HH1" 'any(.[]; .hash == $h and .state == "stoppedDL")'; }
check "... and torrents/info of node A shows it stopped" eventually 10 stopped_b || diag "$BODY"
H3=0123456789abcdef0123456789abcde3
req POST torrents/add --data-urlencode "urls=ed2k://|file|three.bin|3000000|$H3|/" --data-urlencode node=node-b
check "add with node=node-b: Ok." eval '[ "$CODE" = 200 ] && [ "$BODY" = Ok. ]' || diag "$CODE $BODY"
check "... the download is node-b's, not node-a's" \
  [ "$(PSQL "SELECT string_agg(node, ',') FROM downloads WHERE hash = '$H3'")" = node-b ]
req POST torrents/resume --data-urlencode "hashes=$HH1"
resumed_b() { [ "$(state_b)" != paused ]; }
check "resume through node A resumes it on node-b" eval '[ "$CODE" = 200 ] && eventually 10 resumed_b'
# where an add without a node goes: the live node with the most bytes free
# in the category's path (daemon_status.free_space); node-a keeps category
# "big" on another file system (a tmpfs), node-b under its incoming_dir
req POST torrents/createCategory --data-urlencode category=big --data-urlencode "savePath=$SHM/big" \
  --data-urlencode node=node-a
check "createCategory with node=node-a: 200" [ "$CODE" = 200 ] || diag "$CODE $BODY"
req POST torrents/createCategory --data-urlencode category=big --data-urlencode node=node-b
check "createCategory with node=node-b: 200, the category is node-b's" \
  eval '[ "$CODE" = 200 ] && [ "$(PSQL "SELECT count(*) FROM categories WHERE node = '"'node-b'"' AND name = '"'big'"'")" = 1 ]' \
  || diag "$CODE $BODY"
space_known() { [ "$(PSQL "SELECT count(*) FROM daemon_status WHERE free_space ? 'big' AND (free_space ->> '')::bigint > 0")" = 2 ]; }
check "both heartbeats carry the free space of incoming_dir and of the category" eventually 10 space_known
roomiest() { PSQL "SELECT node FROM daemon_status ORDER BY (free_space ->> 'big')::bigint DESC LIMIT 1"; }
want=$(roomiest)
H4=0123456789abcdef0123456789abcde4
req POST torrents/add --data-urlencode "urls=ed2k://|file|four.bin|4000000|$H4|/" --data-urlencode category=big
got=$(PSQL "SELECT string_agg(node, ',') FROM downloads WHERE hash = '$H4'")
check "an add without a node goes to the node with the most room for its category ($want)" \
  eval '[ "$CODE" = 200 ] && [ -n "$want" ] && [ "$got" = "$want" ] && [ "$want" = "$(roomiest)" ]' \
  || diag "$CODE $BODY got=$got" "$(PSQL "SELECT node, free_space FROM daemon_status")"

# kill -9 of node-b: refused as offline within its heartbeat window (3 s)
kill -9 "${MULE_PID[B]}"; wait "${MULE_PID[B]}" 2>/dev/null
killed=$(date +%s)
# (a command sent while the heartbeat is still fresh waits for its answer:
# a short timeout for these probes)
offline() { acli --timeout 1 --node node-b status 2>&1 | grep -q 'node "node-b" is offline'; }
check "node-b killed: the CLI says it is offline" eventually 10 offline
check "... within the heartbeat window (3 s, and a second of slack)" [ $(( $(date +%s) - killed )) -le 5 ]
t0=$(date +%s%N)
acli --node node-b status >/dev/null 2>&1; rc=$?
t1=$(date +%s%N)
check "... at once (no wait for the timeout), exit status 3" eval '[ "$rc" = 3 ] && [ $(( (t1 - t0) / 1000000 )) -lt 2000 ]'
req POST torrents/pause --data-urlencode "hashes=$HH1"
check "pause of node-b's download through node A: 503 naming node-b offline" \
  eval '[ "$CODE" = 503 ] && grep -q "node \"node-b\" is offline" <<<"$BODY"' || diag "$CODE $BODY"
req GET torrents/info
check "torrents/info of node A still answers, node-b's rows included" \
  eval '[ "$CODE" = 200 ] && jqt --arg h "$HH1" "any(.[]; .hash == \$h and .node == \"node-b\")"'

# node-b back: works again, and still has the download
MULE_DATABASE=$DB start_mule B "$T/b" "$BP" "node_name = node-b" "status_interval = 1"
back() { acli --node node-b --json status 2>/dev/null | grep -q '"node": *"node-b"'; }
check "node-b back: commands reach it again" eventually 20 back

# PostgreSQL restarts: nothing is lost; a retried add with its key is one add
done_before=$(PSQL "SELECT count(*) FROM commands WHERE state = 'done'")
"$PGC" stop "$PG" >/dev/null
sleep 1
"$PGC" start "$PG" >/dev/null
add_two() { acli --node node-b --key add-two add "$L2" >/dev/null 2>&1; }
check "after a PostgreSQL restart an add reaches node-b (retried with its key)" eventually 30 add_two
check "node-b has both downloads" eval 'has "$H1" && has "$H2"'
check "the answered commands are all still there" \
  [ "$(PSQL "SELECT count(*) >= $done_before FROM commands WHERE state = 'done'")" = t ]
check "the retried add is one row" [ "$(PSQL "SELECT count(*) FROM commands WHERE client_key = 'add-two'")" = 1 ]
out=$(acli --node node-b --json downloads 2>&1)
check "downloads of node-b through the database list both" eval 'grep -q "$H1" <<<"$out" && grep -q "$H2" <<<"$out"'
grep -q "$H2" <<<"$out" || diag "$out" "$(PSQL "SELECT id, command, state, error, created_at, claimed_at, done_at FROM commands ORDER BY id")" "$(grep -i "relay\|database" "$T/b/muleteerd.log" | tail -n 8)"
check "node-b's relay logged its reconnection" grep -q "listening for node node-b's commands again" "$T/b/muleteerd.log"
finish
