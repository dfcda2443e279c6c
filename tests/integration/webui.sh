#!/usr/bin/env bash
# webui.sh: Muleteer's web page in a real browser (Debian's headless
# chromium, driven over the DevTools protocol by webui.py) on the real
# stack (run.sh: PostgreSQL, muleteerd, lighttpd, the FastCGI programs)
# with a real amuled seeding two files: login, the header, a download from
# amuled rising in the table fed over /ws, links added and paused from the
# page and seen in the daemon, a search on the server fixture finding
# amuled's second file and downloading it, shared files, servers (the
# fixture listed; one added and removed), the log, categories (created,
# edited, removed), the page reconnecting when muleteer-ws restarts, the
# charts, the history's filter, settings, users, no console errors; the
# priority set from the table and the detail panel, each row's parts map,
# the upload queue (two more muleteerd downloading from this one's single
# slot), a server.met imported from a URL (served by a local HTTP server)
# and the page falling back to polling when the browser cannot reach /ws;
# a search on the page finding, over Kad, a file two more muleteerd on
# loopback (Kad on, filter_lan = no, bootstrapped by UDP port) publish,
# its "Found by" saying Kad.
# Screenshots of every view at desktop and phone width go to
# $MT_BUILDDIR/tests/screenshots/. TAP output.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/amule.sh"
. "$MT_SRCDIR/tests/integration/mule.sh"
trap 'amule_stop_all; cleanup' EXIT

PY=/usr/bin/python3   # Debian's, with python3-websockets
for prog in chromium amuled rhash; do
  command -v "$prog" >/dev/null || { echo "Bail out! $prog is not installed (./run.sh check installs it)"; exit 1; }
done
"$PY" -c 'import websockets' 2>/dev/null || { echo "Bail out! python3-websockets is not installed (./run.sh check installs it)"; exit 1; }

mk_tmpdir T
SP=$(free_port); SEEDP=$(free_port); HP=$(free_port); MP=$(free_port)

# ---- the Kad side, started first (it connects and publishes while the
# rest starts): two muleteerd on loopback with no server, KH holding what
# KS, sharing a file, publishes. Kad between daemons on 127.0.0.1 works
# with filter_lan = no (mule.sh's default, the stack's conf below): the
# address caps then take each UDP port as its own node (routing.c), and
# the few nodes here stay far below the limits per address (kad.c).
KSP=$(free_port); KHP=$(free_port)
KADNAME="webkad$$.bin"     # one keyword, webkad$$ (the extension is dropped)
mkdir -p "$T/ks/share"
head -c 200000 /dev/urandom >"$T/ks/share/$KADNAME"
KADMD4=$(rhash --printf '%{ed2k}' "$T/ks/share/$KADNAME")
MULE_LOG_LEVEL=info
kad_side=0
if start_mule KH "$T/kh" "$KHP" "server_autoconnect = no" &&
   start_mule KS "$T/ks" "$KSP" "server_autoconnect = no" "shared_dirs = $T/ks/share" &&
   mcli "$T/ks" kad bootstrap "127.0.0.1:$((KHP + 1))" >/dev/null; then
  kad_side=1
fi
check "two muleteerd on loopback start a Kad network" test "$kad_side" = 1

# ---- the eD2K side: a server fixture and amuled sharing a file ----
"$MT_BUILDDIR/tests/fixtures/ed2k_server" --port "$SP" --name webui-fixture --highid-all \
  --log "$T/server.log" &
CLEANUP_PIDS+=("$!")
eventually 10 grep -qs listening "$T/server.log" || { not_ok "the server fixture starts"; finish; exit 1; }
# 24 MB: amuled's ~0.33 MB/s upload leaves more than a minute to watch the progress
FILE="webui-seed-$$.bin"
head -c 24000000 /dev/urandom >"$T/$FILE"
MD4=$(rhash --printf '%{ed2k}' "$T/$FILE")
amule_start SEED "$T/seed" "$SEEDP" $((SEEDP + 1)) $((SEEDP + 2)) "$SP"
check "amuled shares the file" eval 'amule_share SEED "$T/$FILE"'
LINK="ed2k://|file|$FILE|24000000|$MD4|/|sources,127.0.0.1:$SEEDP|/"
# a second file amuled shares: published to the server, found by a search on the page
NAME3="webui-found-$$.bin"
head -c 300000 /dev/urandom >"$T/$NAME3"
MD4_3=$(rhash --printf '%{ed2k}' "$T/$NAME3")
check "amuled shares a second file" eval 'amule_share SEED "$T/$NAME3"'
# a file nobody has: stays stalled, is paused and deleted from the page
NAME2="webui-nobody-$$.iso"
MD4_2=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' | cut -c1-32)
LINK2="ed2k://|file|$NAME2|1000000|$MD4_2|/"
# a link added from the command line while the page polls
NAME4="webui-polled-$$.bin"
MD4_4=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' | cut -c1-32)
LINK4="ed2k://|file|$NAME4|2000000|$MD4_4|/"

# a server.met of two servers (ST_SERVERNAME tags), served over HTTP on
# loopback for the page's "Import" (ed2k-protocol.md 8.1)
mkdir -p "$T/www"
met_server() {   # IP4 PORT NAME: one entry
  local a b c d; IFS=. read -r a b c d <<<"$1"
  printf "\\\\x%02x\\\\x%02x\\\\x%02x\\\\x%02x\\\\x%02x\\\\x%02x\\\\x01\\\\x00\\\\x00\\\\x00\\\\x02\\\\x01\\\\x00\\\\x01\\\\x%02x\\\\x00%s" \
    "$a" "$b" "$c" "$d" $(($2 & 255)) $(($2 >> 8)) "${#3}" "$3"
}
printf "\xe0\x02\x00\x00\x00$(met_server 127.0.0.31 4671 webui-met-one)$(met_server 127.0.0.32 4672 webui-met-two)" \
  >"$T/www/server.met"
WWWP=$(free_port)
"$PY" -m http.server "$WWWP" --bind 127.0.0.1 --directory "$T/www" >"$T/www.log" 2>&1 &
CLEANUP_PIDS+=("$!")
check "a local HTTP server serves the server.met" eventually 10 curl -fso /dev/null "http://127.0.0.1:$WWWP/server.met"

# a file this Muleteer shares, for the upload queue: one slot at 10 KiB/s
# (the alternative limit too) holds 8 MB for longer than the test runs
mkdir -p "$T/share"
NAME5="webui-upload-$$.bin"
head -c 8000000 /dev/urandom >"$T/share/$NAME5"
MD4_5=$(rhash --printf '%{ed2k}' "$T/share/$NAME5")

# ---- Muleteer through run.sh ----
VAR="$T/var"
mkdir -p "$VAR"
PASS="webui-pass-$RANDOM$RANDOM"
cat >"$VAR/muleteer.conf" <<CONF
node_name = webui-node
state_dir = $VAR
log_file = $VAR/log/muleteerd.log
log_level = info
tcp_port = $MP
udp_port = $((MP + 1))
web_username = admin
web_password = $PASS
servers = 127.0.0.1:$SP
filter_lan = no
shared_dirs = $T/share
upload_slots = 1
max_upload = 10
alt_max_upload = 10
CONF
chmod 0600 "$VAR/muleteer.conf"
chown_service "$VAR/muleteer.conf" 2>/dev/null || true
if ! start_runsh "$VAR" "$T/runsh.out" MULETEER_HTTP_PORT="$HP"; then
  not_ok "run.sh starts the stack"; diag "$(tail -n 20 "$T/runsh.out")"; finish; exit 1
fi
check "run.sh prints the web page's URL" grep -q "Web page: *http://127.0.0.1:$HP/" "$T/runsh.out"
check "lighttpd serves the page's modules as JavaScript, no-cache, with a CSP" eval '
  curl -sSI "http://127.0.0.1:$HP/js/app.js" >"$T/h" &&
  grep -qi "^Content-Type: text/javascript" "$T/h" && grep -qi "^Cache-Control: no-cache" "$T/h" &&
  grep -qi "^Content-Security-Policy: default-src '"'"'self'"'"'" "$T/h"'
check "the page references nothing outside the host" eval '! grep -rEq "(src|href)=\"(https?:)?//" "$MT_SRCDIR/www"'

# two more muleteerd download the shared file from it: the first gets the
# one slot, the second waits in the queue
SOCK="$VAR/run/muleteerd.sock"
shared5() { "$CLI" --socket "$SOCK" shared 2>/dev/null | grep -q "$NAME5"; }
check "Muleteer shares the file for the upload queue" eventually 60 shared5
Q1P=$(free_port); Q2P=$(free_port)
MULE_LOG_LEVEL=info
LINK5="ed2k://|file|$NAME5|8000000|$MD4_5|/|sources,127.0.0.1:$MP|/"
if start_mule Q1 "$T/q1" "$Q1P" && mcli "$T/q1" add "$LINK5" >/dev/null; then
  granted() { grep -q "gave us an upload slot" "$T/q1/muleteerd.log"; }
  check "a first peer gets the upload slot" eventually 60 granted
  start_mule Q2 "$T/q2" "$Q2P" && mcli "$T/q2" add "$LINK5" >/dev/null
  waits() { "$CLI" --socket "$SOCK" --json uploads | grep -q '"rank": *1'; }
  check "a second one waits in the queue (the daemon's uploads: waiting)" eventually 60 waits
else
  not_ok "two peers download from Muleteer"
fi

# the stack's daemon joins the Kad side (its Kad is on, filter_lan = no);
# KH holds KS's keyword once KS published (20 s after it connected, kad.c
# PUBLISH_AFTER)
kad_joined() { "$CLI" --socket "$SOCK" --json kad status 2>/dev/null | grep -q '"state": *"connected'; }
kad_holds() { [ "$(json_num "$(mcli "$T/kh" --json kad status 2>/dev/null)" indexed_keywords)" -ge 1 ] 2>/dev/null; }
if [ "$kad_side" = 1 ]; then
  "$CLI" --socket "$SOCK" kad bootstrap "127.0.0.1:$((KHP + 1))" >/dev/null
  check "the stack's muleteerd joins the Kad side (kad bootstrap 127.0.0.1:UDP)" eventually 30 kad_joined
  check "the Kad side holds the sharer's keyword" eventually 60 kad_holds
fi

SHOTS="$MT_BUILDDIR/tests/screenshots"
mkdir -p "$SHOTS"
rm -f "$SHOTS"/webui-*.png
while read -r kind desc; do
  case "$kind" in
    ok) ok "$desc" ;;
    not-ok) not_ok "$desc" ;;
    *) diag "$desc" ;;
  esac
done < <(MT_URL="http://127.0.0.1:$HP/" MT_PASS="$PASS" MT_CLI="$MT_BUILDDIR/bin/muleteer" \
  MT_SOCK="$VAR/run/muleteerd.sock" MT_LINK="$LINK" MT_MD4="$MD4" MT_LINK2="$LINK2" MT_MD4_2="$MD4_2" \
  MT_NAME2="$NAME2" MT_MD4_3="$MD4_3" MT_NAME3="$NAME3" MT_LINK4="$LINK4" MT_MD4_4="$MD4_4" MT_NAME5="$NAME5" \
  MT_KAD_NAME="$KADNAME" MT_KAD_MD4="$KADMD4" MT_MET_URL="http://127.0.0.1:$WWWP/server.met" MT_SERVER_LOG="$T/server.log" MT_WS_CONF="$VAR/muleteer.conf" MT_SHOTS="$SHOTS" MT_CHROMIUM_TAG="webui$$" PYTHONDONTWRITEBYTECODE=1 timeout 660 "$PY" "$MT_SRCDIR/tests/integration/webui.py" 2>"$T/webui.err"
  echo "diag webui.py exited with status $?")
[ -s "$T/webui.err" ] && diag "$(tail -n 20 "$T/webui.err")"
n=$(ls "$SHOTS"/webui-*.png 2>/dev/null | wc -l)
check "screenshots of 13 views at 2 widths are in $SHOTS ($n)" [ "$n" -eq 26 ]
check "no chromium is left running" eval '! pgrep -f "mt-chromium\.webui$$\." >/dev/null'

stop_runsh "$RUNSH_PID"
finish
