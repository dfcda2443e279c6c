#!/usr/bin/env bash
# websocket.sh: aMuTorrent's WebSocket protocol (docs/websocket.md)
# through run.sh's lighttpd and muleteer-ws, with a real WebSocket client
# (python3-websockets, tests/integration/ws_client.py): the upgrade
# refused without a session (1008) and accepted with one or the API key,
# at /ws and at / with an upgrade; the snapshot, then numbered deltas as
# downloads are added, paused, resumed and deleted; a category made in the
# daemon reaching two clients; every action built, from both lists; bad
# frames, a flood, an over-long frame; logout closing the socket (4001);
# the daemon's `subscribe` stream; a download from a real amuled with its
# segment data (partStatus, reqStatus, gapStatus against the part file)
# and directory; an account without view_shared and view_uploads; a
# stopped daemon holding back only the actions that need it; search
# results pushed before the search ends. TAP.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/amule.sh"
trap 'amule_stop_all; cleanup' EXIT
for prog in amuled rhash; do
  command -v "$prog" >/dev/null || { echo "Bail out! $prog is not installed (./run.sh check installs it)"; exit 1; }
done

command -v jq >/dev/null || { echo "Bail out! jq is not installed (run.sh check installs it)"; exit 1; }
# Debian's python3-websockets is in /usr/bin/python3's path, which may not
# be the first python3 on PATH
PY=
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import websockets' 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || { echo "Bail out! python3-websockets is not installed (run.sh check installs it)"; exit 1; }

mk_tmpdir T
HP=$(free_port); MP=$(free_port)
# the server fixture answers every search with its six hostile names
start_server_fixture SP "$T/server.log" --name ws-fixture --highid-all --hostile-names ||
  { echo "Bail out! the server fixture did not start"; exit 1; }
# amuled seeding a file of three parts (24 MB: its ~0.33 MB/s upload
# leaves a minute to watch the download) and a small one, started now so
# that it is up when the segment checks run
SEEDP=$(free_port)
BIG="ws-seed-$$.bin"; head -c 24000000 /dev/urandom >"$T/$BIG"
BIG_MD4=$(rhash --printf '%{ed2k}' "$T/$BIG" | tr 'A-F' 'a-f')
SMALL="ws-small-$$.bin"; head -c 300000 /dev/urandom >"$T/$SMALL"
SMALL_MD4=$(rhash --printf '%{ed2k}' "$T/$SMALL" | tr 'A-F' 'a-f')
amule_start SEED "$T/seed" "$SEEDP" $((SEEDP + 1)) $((SEEDP + 2)) "$SP"
VAR="$T/var"
mkdir -p "$VAR"
PASS="ws-pass-$RANDOM$RANDOM"
KEY="wskey$RANDOM$RANDOM$RANDOM"
cat >"$VAR/muleteer.conf" <<CONF
node_name = ws-node
state_dir = $VAR
log_file = $VAR/log/muleteerd.log
tcp_port = $MP
udp_port = $((MP + 1))
web_username = admin
web_password = $PASS
api_key = $KEY
servers = 127.0.0.1:$SP
ws_session_check = 1
filter_lan = no
kad_nodes_url =
CONF
chmod 0600 "$VAR/muleteer.conf"
chown_service "$VAR/muleteer.conf" 2>/dev/null || true
if ! start_runsh "$VAR" "$T/runsh.out" MULETEER_HTTP_PORT="$HP"; then
  not_ok "run.sh starts the stack"; diag "$(tail -n 20 "$T/runsh.out")"; finish; exit 1
fi
ok "run.sh starts the stack with muleteer-ws"
BASE="http://127.0.0.1:$HP"
# a file to share: the incoming directory is shared
head -c 5000 /dev/urandom >"$VAR/incoming/ws-shared.bin"
chown_service "$VAR/incoming/ws-shared.bin" 2>/dev/null || true
CTL="$VAR/run/muleteerd.sock"

# login: the amule.sid of a new session
login() {
  curl -sS -D - -o /dev/null -H 'Content-Type: application/json' \
    --data "$(jq -nc --arg p "$PASS" '{username: "admin", password: $p}')" "$BASE/api/auth/login" |
    tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: amule\.sid=\([^;]*\);.*/\1/p' | head -n 1
}
SID=$(login)
check "login gives an amule.sid session" test -n "$SID"

# plain HTTP on /ws: muleteer-ws speaks WebSocket only; / without an
# upgrade is not sent to it
check "GET /ws without an upgrade: 400" \
  test "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/ws")" = 400
check "GET / without an upgrade stays lighttpd's" \
  test "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/")" != 400

# run_client STAGE [ENV=VALUE...]: the Python client's lines as TAP points
run_client() {
  local stage=$1 line; shift
  while IFS= read -r line; do
    case "$line" in
      "ok "*) ok "${line#ok }" ;;
      "not ok "*) not_ok "${line#not ok }" ;;
      *) echo "$line" ;;
    esac
  done < <(env WS_URL="ws://127.0.0.1:$HP" SID="$SID" FREE_PORT="$(free_port)" SERVER_PORT="$SP" VAR="$VAR" API_KEY="$KEY" CLI="$MT_BUILDDIR/bin/muleteer" \
             CTL="$CTL" STAGE="$stage" "$@" timeout "${CLIENT_TIMEOUT:-120}" "$PY" "$MT_SRCDIR/tests/integration/ws_client.py" 2>&1)
}
run_client main

# muleteer-ws and the daemon are unharmed
ws_runs() { pgrep -f -- "$MT_BUILDDIR/bin/muleteer-ws -c $VAR" >/dev/null; }
daemon_answers() { "$MT_BUILDDIR/bin/muleteer" --socket "$CTL" ping >/dev/null; }
check "muleteer-ws still runs" ws_runs
check "the daemon still answers" daemon_answers

# own downloads (docs/websocket.md): bob has neither view_all_downloads
# nor edit_all_downloads, carol view_all_downloads only
U() { as_service_user env MULETEER_CONF="$VAR/muleteer.conf" "$MT_BUILDDIR/bin/muleteer" user "$@"; }
echo bob-pw | U add bob --caps add_downloads,pause_resume,remove_downloads,rename_files,assign_categories >/dev/null 2>&1
check "muleteer user add bob (no view_all_downloads, edit_all_downloads)" [ $? = 0 ]
echo carol-pw | U add carol --caps view_all_downloads,add_downloads,pause_resume,remove_downloads,rename_files,assign_categories >/dev/null 2>&1
check "muleteer user add carol (view_all_downloads, no edit_all_downloads)" [ $? = 0 ]
login_as() {
  curl -sS -D - -o /dev/null -H 'Content-Type: application/json' \
    --data "$(jq -nc --arg u "$1" --arg p "$2" '{username: $u, password: $p}')" "$BASE/api/auth/login" |
    tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: amule\.sid=\([^;]*\);.*/\1/p' | head -n 1
}
SID_BOB=$(login_as bob bob-pw); SID_CAROL=$(login_as carol carol-pw)
check "bob and carol log in" test -n "$SID_BOB" -a -n "$SID_CAROL"
run_client owners SID_BOB="$SID_BOB" SID_CAROL="$SID_CAROL"

# segment data and directory of a download from amuled; dave has neither
# view_shared nor view_uploads
check "amuled shares the files" eval 'amule_share SEED "$T/$BIG" && amule_share SEED "$T/$SMALL"'
echo dave-pw | U add dave --caps view_all_downloads,add_downloads,pause_resume,remove_downloads >/dev/null 2>&1
check "muleteer user add dave (no view_shared, view_uploads)" [ $? = 0 ]
SID_DAVE=$(login_as dave dave-pw)
check "dave logs in" test -n "$SID_DAVE"
mkdir -p "$VAR/incoming/wsdir-in"
chown_service "$VAR/incoming/wsdir-in" 2>/dev/null || true
CLIENT_TIMEOUT=240 run_client segments SID_DAVE="$SID_DAVE" TEMP_DIR="$VAR/temp" CAT_DIR="$VAR/incoming/wsdir-in" \
  INCOMING="$VAR/incoming" BIG_MD4="$BIG_MD4" BIG_SIZE=24000000 SMALL_MD4="$SMALL_MD4" \
  BIG_LINK="ed2k://|file|$BIG|24000000|$BIG_MD4|/|sources,127.0.0.1:$SEEDP|/" \
  SMALL_LINK="ed2k://|file|$SMALL|300000|$SMALL_MD4|/|sources,127.0.0.1:$SEEDP|/"
amule_stop_all >/dev/null 2>&1
# ---- batchSetPriority, Muleteer's own action: the daemon's `priority`,
# gated as the batch actions are (bob lacks edit_all_downloads)
PRIO_HASH=0123456789abcdef0123456789abcd0f
M() { "$MT_BUILDDIR/bin/muleteer" --socket "$CTL" --timeout 5 "$@"; }
prio_of() { M --json downloads | jq -r --arg h "$PRIO_HASH" '.downloads[] | select(.hash == $h) | .priority'; }
M add "ed2k://|file|ws-prio.bin|7000000|$PRIO_HASH|/" >/dev/null
check "a download to set the priority of (normal)" [ "$(prio_of)" = normal ]
while IFS= read -r line; do
  case "$line" in
    "ok "*) ok "${line#ok }" ;;
    "not ok "*) not_ok "${line#not ok }" ;;
    *) echo "$line" ;;
  esac
done < <(env WS_URL="ws://127.0.0.1:$HP" SID="$SID" SID_BOB="$SID_BOB" H="$PRIO_HASH" CLI="$MT_BUILDDIR/bin/muleteer" CTL="$CTL" \
  PYTHONPATH="$MT_SRCDIR/tests/integration" PYTHONDONTWRITEBYTECODE=1 timeout 60 "$PY" - <<'PYEOF' 2>&1
import asyncio, json, os, subprocess
import websockets
from ws_client import URL, Stream, check, cookie, drain, reply

H = os.environ["H"]


async def prio():
    async with websockets.connect(URL + "/ws", extra_headers=cookie(), max_size=None) as a, \
            websockets.connect(URL + "/ws", extra_headers=cookie(os.environ["SID_BOB"]), max_size=None) as b:
        sa, sb = Stream(), Stream()
        # the download just added reaches the stream with the next delta
        # (within the 3 s cycle at the latest): wait for it, bounded
        for _ in range(16):
            await drain(a, sa, 0.5, [])
            if sa.item(H) is not None:
                break
        await drain(b, sb, 0.5, [])
        check("the download is normal in the stream (downloadPriority 1)",
              sa.item(H) is not None and sa.item(H)["downloadPriority"] == 1, sa.item(H))
        await a.send(json.dumps({"action": "batchSetPriority", "items": [{"fileHash": H.upper()}],
                                 "priority": "high"}))
        m, _ = await reply(a, sa, "batch-priority-complete")
        check("batchSetPriority high: batch-priority-complete, success",
              m is not None and [(r["fileHash"], r["success"]) for r in m["results"]] == [(H, True)], m)
        check("and the delta before it carries downloadPriority 2",
              sa.item(H) is not None and sa.item(H)["downloadPriority"] == 2, sa.item(H))
        out = subprocess.run([os.environ["CLI"], "--socket", os.environ["CTL"], "--json", "downloads"],
                             capture_output=True, text=True, timeout=10).stdout
        d = [x for x in json.loads(out)["downloads"] if x["hash"] == H]
        check("and the daemon has it high", d and d[0]["priority"] == "high", d)
        await b.send(json.dumps({"action": "batchSetPriority", "items": [{"fileHash": H}], "priority": "low"}))
        m, _ = await reply(b, sb, "batch-priority-complete")
        check("bob's batchSetPriority of the admin's download: denied",
              m is not None and m["results"][0]["success"] is False and m["results"][0].get("denied"), m)
        await a.send(json.dumps({"action": "batchSetPriority", "items": [{"fileHash": H}], "priority": "urgent"}))
        m, _ = await reply(a, sa, "error")
        check("an unknown priority: error \"priority: low, normal or high expected\"",
              m is not None and m["message"] == "priority: low, normal or high expected", m)
        await a.send(json.dumps({"action": "batchSetPriority", "items": [{"fileHash": H}], "priority": "low"}))
        m, _ = await reply(a, sa, "batch-priority-complete")
        check("batchSetPriority low: success, downloadPriority 0",
              m is not None and m["results"][0]["success"] and sa.item(H)["downloadPriority"] == 0, m)

try:
    asyncio.run(prio())
except Exception as e:  # noqa: BLE001 (the check reports it)
    check("the priority client ran to its end", False, repr(e))
PYEOF
)
check "the daemon has it low (after high, and bob's refused change)" [ "$(prio_of)" = low ]
M delete "$PRIO_HASH" >/dev/null

run_client slow WS_SOCK="$VAR/run/ws.sock"
check "muleteer-ws logged the dropped client" grep -q 'dropping a client.*send queue is full' "$VAR/log/muleteer-ws.log"

run_client logout LOGOUT="curl -s -o /dev/null -b amule.sid=$SID --data '' $BASE/api/auth/logout"

# --- blocking work off muleteer-ws's loop, and search results pushed as
# they come (ws_client.py's async stage): the daemon stopped (SIGSTOP)
# for 3 s, then continued
DPID=
for p in $(pgrep -f -- "bin/muleteerd -c $VAR/muleteer.conf"); do
  [ "$(cat "/proc/$p/comm" 2>/dev/null)" = muleteerd ] && DPID=$p
done
if [ -z "$DPID" ]; then
  not_ok "the daemon's process is found"
else
  SID=$(login)
  # a second server for the search, the same six names (their counts add up)
  start_server_fixture SP2 "$T/server2.log" --name ws-fixture-2 --hostile-names ||
    not_ok "the second server fixture starts"
  run_client async DAEMON_PID="$DPID" SERVER2_PORT="${SP2:-0}"
  kill -CONT "$DPID" 2>/dev/null
  check "muleteer-ws still runs after a client closed while its daemon call waited" ws_runs
  check "the daemon answers again" daemon_answers
fi

stop_runsh "$RUNSH_PID" || not_ok "run.sh stops"
# after the stop: LeakSanitizer reports at exit
if grep -q 'Sanitizer\|runtime error' "$VAR/log/muleteer-ws.log" 2>/dev/null; then
  not_ok "muleteer-ws ran clean under the sanitizers"
  diag "$(grep -A8 'Sanitizer\|runtime error' "$VAR/log/muleteer-ws.log" | head -n 40)"
else
  ok "muleteer-ws ran clean under the sanitizers"
fi
# no daemon call or query outside a task, no lock misuse (ws/task.c)
check "muleteer-ws reported no broken invariant" sh -c "! grep -q 'BUG: ' '$VAR/log/muleteer-ws.log'"

finish
