#!/usr/bin/env bash
# bans.sh: a login ban refuses every request from the banned address,
# through the real stack (run.sh: PostgreSQL, muleteerd, lighttpd and
# cgi-bin/qbit): a session opened before the ban, the API key and HTTP
# Basic all get qBittorrent's 403 for a banned address on every route
# until the ban (a short web_ban_duration) ends, and work again afterwards;
# another address is not affected. TAP.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
trap cleanup EXIT

BAN=12
mk_tmpdir T
HP=$(free_port); MP=$(free_port)
VAR="$T/var"
mkdir -p "$VAR"
PASS="ban-pass-$RANDOM$RANDOM"
KEY="bankey$RANDOM$RANDOM$RANDOM"
cat >"$VAR/muleteer.conf" <<EOF
node_name = ban-node
state_dir = $VAR
log_file = $VAR/log/muleteerd.log
tcp_port = $MP
udp_port = $((MP + 1))
server_autoconnect = no
web_username = admin
web_password = $PASS
api_key = $KEY
web_max_auth_failures = 5
web_ban_duration = $BAN
EOF
chmod 0600 "$VAR/muleteer.conf"
chown_service "$VAR/muleteer.conf" 2>/dev/null || true
if ! start_runsh "$VAR" "$T/runsh.out" MULETEER_HTTP_PORT="$HP"; then
  not_ok "run.sh starts the stack"; diag "$(tail -n 20 "$T/runsh.out")"; finish; exit 1
fi
API="http://127.0.0.1:$HP/api/v2"
JAR="$T/cookies"
BANNED="Your IP address has been banned after too many failed authentication attempts."

# call PATH [curl args...]: sets CODE and BODY; no cookie unless given.
call() {
  local p=$1; shift
  CODE=$(curl -sS -o "$T/body" -w '%{http_code}' "$@" "$API/$p")
  BODY=$(cat "$T/body")
}
is() { [ "$CODE" = "$1" ] && [ "$BODY" = "$2" ]; }
session() { call "$1" -b "$JAR" "${@:2}"; }
apikey() { call "$1" -H "Authorization: Bearer $KEY" "${@:2}"; }
session_ok() { session app/version && is 200 v5.0.0; }
apikey_ok() { apikey app/version && is 200 v5.0.0; }

call auth/login -c "$JAR" --data-urlencode username=admin --data-urlencode "password=$PASS"
check "a login opens a session" is 200 Ok.
check "the session works" session_ok
check "the API key works" apikey_ok

for i in 1 2 3 4 5; do
  call auth/login --data-urlencode username=admin --data-urlencode "password=wrong$i"
  [ "$BODY" = Fails. ] || break
done
check "five wrong passwords from the same address: Fails. each time" is 200 Fails.
call auth/login --data-urlencode username=admin --data-urlencode "password=$PASS"
check "the address is banned: even the right password gets 403" is 403 "$BANNED"

refused=""
for p in app/version torrents/info torrents/categories sync/maindata nosuch/route; do
  session "$p"; is 403 "$BANNED" || refused="$refused [session $p: $CODE $BODY]"
  apikey "$p"; is 403 "$BANNED" || refused="$refused [api key $p: $CODE $BODY]"
  call "$p" -u "admin:$PASS"; is 403 "$BANNED" || refused="$refused [basic $p: $CODE $BODY]"
done
check "while banned, the session, the API key and Basic get the ban's 403 on every route (not so:)" \
  [ -z "$refused" ]
[ -n "$refused" ] && diag "$refused"
session torrents/createCategory --data-urlencode category=while-banned
check "... a change through the session is refused too" is 403 "$BANNED"
apikey torrents/createCategory --data-urlencode category=while-banned-key
check "... and through the API key" is 403 "$BANNED"
session auth/login --data-urlencode username=admin --data-urlencode "password=$PASS"
check "... login with the session cookie is refused, not Ok." is 403 "$BANNED"
call app/version -H "Authorization: Bearer $KEY" --interface 127.0.0.2
check "another address still gets in with the API key" is 200 v5.0.0
call app/version -b "$JAR" --interface 127.0.0.2
check "... and with the session" is 200 v5.0.0
sleep 3
check "still refused a few seconds later (the ban lasts ${BAN} s)" \
  eval 'session app/version && is 403 "$BANNED" && apikey app/version && is 403 "$BANNED"'

check "when the ban ends, the session works again" eventually $((BAN + 10)) session_ok
check "... and the API key" apikey_ok
session torrents/categories
check "... and nothing was created while banned" \
  eval '[ "$CODE" = 200 ] && jq -e "has(\"while-banned\") or has(\"while-banned-key\") | not" <<<"$BODY" >/dev/null'

stop_runsh "$RUNSH_PID" || not_ok "run.sh stops"
finish
