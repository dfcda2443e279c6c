#!/usr/bin/env bash
# skeleton.sh: the walking skeleton end to end, as a user runs it: run.sh
# brings up PostgreSQL, muleteerd and lighttpd with the qbit FastCGI
# program; HTTP, the control socket, PostgreSQL outages, bad input, bad
# configuration, restarts and two side-by-side instances. TAP output.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
trap cleanup EXIT

CLI="$MT_BUILDDIR/bin/muleteer"
PSQL() { as_service_user psql "$1" -XAtq -c "$2" 2>/dev/null; }

# ---- instance A: run.sh against an external PostgreSQL (MULETEER_DB) ----
mk_tmpdir EXT
"$MT_SRCDIR/tools/pgcluster.sh" init "$EXT" >/dev/null &&
  "$MT_SRCDIR/tools/pgcluster.sh" start "$EXT" >/dev/null &&
  "$MT_SRCDIR/tools/pgcluster.sh" createdb "$EXT" muleteer >/dev/null
CLEANUP_PG+=("$EXT")
EXT_DB=$("$MT_SRCDIR/tools/pgcluster.sh" conninfo "$EXT")

mk_tmpdir A
PA=$(free_port)
if start_runsh "$A" "$A.out" MULETEER_DB="$EXT_DB" MULETEER_HTTP_PORT="$PA" \
     MULETEER_TCP_PORT=$((PA + 1)) MULETEER_UDP_PORT=$((PA + 2)); then
  ok "run.sh starts everything and says it is running"
else
  not_ok "run.sh starts everything and says it is running"; diag "$(tail -n 20 "$A.out")"
  finish; exit 1
fi
RUNSH_A=$RUNSH_PID
SOCK_A="$A/run/muleteerd.sock"

check "run.sh prints the API URL" grep -q "http://127.0.0.1:$PA/api/v2/" "$A.out"
PASS_A=$(head -n 1 "$A/web-password" 2>/dev/null)
KEY_A=$(conf_key "$A" api_key)
check "run.sh prints the generated password (kept in web-password) and API key" \
  eval '[ ${#PASS_A} -ge 16 ] && [ ${#KEY_A} -ge 32 ] && grep -q "Password: *$PASS_A\$" "$A.out" && grep -q "$KEY_A" "$A.out"'
check "muleteer.conf is mode 0600" eval '[ "$(stat -c %a "$A/muleteer.conf")" = 600 ]'
check "web-password is mode 0600" eval '[ "$(stat -c %a "$A/web-password")" = 600 ]'
check "muleteer.conf holds the password's PBKDF2 string, never the password" \
  eval '[[ "$(conf_key "$A" web_password)" =~ ^pbkdf2-sha256\$100000\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$ ]] &&
        [ -n "$PASS_A" ] && ! grep -qF "$PASS_A" "$A/muleteer.conf"'
check "the configured ports come from MULETEER_*_PORT" \
  eval '[ "$(conf_key "$A" tcp_port)" = $((PA + 1)) ] && [ "$(conf_key "$A" udp_port)" = $((PA + 2)) ]'

# ---- HTTP through lighttpd and the FastCGI program ----
# Every route but auth/login needs a login (403 otherwise, as qBittorrent);
# the API key as a Bearer token is the simplest one. tests/integration/arr.sh
# covers the logins themselves.
AUTH_A="Authorization: Bearer $KEY_A"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PA/api/v2/app/version")
check "without a login /api/v2 answers 403, as qBittorrent" [ "$code" = 403 ]
body=$(curl -fsS -H "$AUTH_A" "http://127.0.0.1:$PA/api/v2/app/version")
check "GET /api/v2/app/version answers v5.0.0" [ "$body" = "v5.0.0" ]
body=$(curl -fsS -H "$AUTH_A" "http://127.0.0.1:$PA/api/v2/app/webapiVersion")
check "GET /api/v2/app/webapiVersion answers a bare N.N.N" [ "$body" = "2.11.2" ]
hdrs=$(curl -sS -H "$AUTH_A" -D - -o /dev/null -d "" "http://127.0.0.1:$PA/api/v2/app/version")
check "POST app/version works too, text/plain like qBittorrent" \
  eval 'echo "$hdrs" | grep -q "^HTTP/1.1 200" && echo "$hdrs" | grep -qi "^content-type: text/plain; charset=UTF-8"'
check "no Server header, as qBittorrent" eval '! echo "$hdrs" | grep -qi "^server:"'
body=$(curl -fsS -H "$AUTH_A" "http://127.0.0.1:$PA/api/v2/app/buildInfo")
check "GET app/buildInfo is JSON with bitness and zlib" \
  eval 'echo "$body" | grep -q "\"bitness\":64" && echo "$body" | grep -q "\"zlib\":\"1\."'
body=$(curl -fsS -H "$AUTH_A" "http://127.0.0.1:$PA/api/v2/app/webapiversion")
check "the all-lowercase alias of an action answers too" [ "$body" = "2.11.2" ]
code=$(curl -s -H "$AUTH_A" -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PA/api/v2/app/webapiVERSION")
check "other spellings are 404 (matching is case-sensitive)" [ "$code" = 404 ]
code=$(curl -s -H "$AUTH_A" -o /dev/null -w '%{http_code}' -X DELETE "http://127.0.0.1:$PA/api/v2/app/version")
check "a method other than GET/POST is a 400, like qBittorrent" [ "$code" = 400 ]

# ---- malformed HTTP ----
out=$(curl -s -H "$AUTH_A" -w ' %{http_code}' "http://127.0.0.1:$PA/api/v2/app/version?name=%zz")
check "a bad percent-escape in the query is a 400 Bad Request" [ "$out" = "Bad Request 400" ]
# What lighttpd's own URL check used to answer with its HTML 400 page now
# reaches qbit (lighttpd.conf): NUL and invalid UTF-8 are qbit's text 400;
# other control characters are just a category that does not exist.
for bad in "%00" "%ff" "%c0%af"; do
  out=$(curl -s -H "$AUTH_A" -w ' %{http_code} %{content_type}' "http://127.0.0.1:$PA/api/v2/torrents/info?category=$bad")
  check "category=$bad is qbit's text 400, not lighttpd's HTML page" \
    [ "$out" = "Bad Request 400 text/plain; charset=UTF-8" ]
done
for bad in "a%01b" "%7f"; do
  out=$(curl -s -H "$AUTH_A" -w ' %{http_code}' "http://127.0.0.1:$PA/api/v2/torrents/info?category=$bad")
  check "category=$bad is an unknown category: [] from qbit" [ "$out" = "[] 200" ]
done
out=$(printf -- '--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue' |
  curl -s -w ' %{http_code}' -H 'Content-Type: multipart/form-data; boundary=XyZ' --data-binary @- \
  "http://127.0.0.1:$PA/api/v2/app/version")
check "a multipart body without its closing boundary is a 400" [ "$out" = "Bad Request 400" ]
head -c $((9 * 1024 * 1024)) /dev/zero >"$A.big"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/x-www-form-urlencoded' \
  --data-binary @"$A.big" "http://127.0.0.1:$PA/api/v2/app/version")
check "a body over http_max_body is a 413" [ "$code" = 413 ]
exec 3<>"/dev/tcp/127.0.0.1/$PA" && printf 'GARBAGE \x01\x02 / HTTP/9.9\r\n\r\n' >&3 && timeout 5 cat <&3 >"$A.raw"; exec 3>&-
check "a garbage request line gets lighttpd's 400" grep -qE '^HTTP/1.[01] 400' "$A.raw"
body=$(curl -fsS -H "$AUTH_A" "http://127.0.0.1:$PA/api/v2/app/version")
check "lighttpd and qbit still answer after the bad requests" [ "$body" = "v5.0.0" ]

# ---- the control socket ----
out=$("$CLI" --socket "$SOCK_A" status)
check "muleteer status answers" eval 'echo "$out" | grep -q "^muleteerd 0.1.0" && echo "$out" | grep -q "database: *connected"'
out=$(MULETEER_VAR=$A "$CLI" --json status)
check "muleteer finds the daemon through MULETEER_VAR; --json prints JSON" \
  eval 'echo "$out" | grep -q "\"tcp_port\": *$((PA + 1))"'
out=$(MULETEER_VAR=/nonexistent "$CLI" status 2>&1); rc=$?
check "muleteer says clearly when no daemon runs (exit 3)" \
  eval '[ $rc = 3 ] && echo "$out" | grep -q "muleteerd is not running"'
replies=$( { printf '{"id":1,"cmd":"nope"}\nnot json\n{"id":2,"cmd":"ping","args":[1]}\n[1,2]\n'
             head -c 70000 /dev/zero | tr '\0' x; printf '\n{"id":3,"cmd":"ping"}\n'; } |
           socat -t 3 - "UNIX-CONNECT:$SOCK_A")
check "unknown command gets an unknown_command error" \
  eval 'echo "$replies" | grep -q "\"id\":1,\"error\":{\"code\":\"unknown_command\""'
check "malformed JSON gets a parse_error" eval 'echo "$replies" | grep -q "\"code\":\"parse_error\""'
check "bad args get an invalid_request error with the id" \
  eval 'echo "$replies" | grep -q "\"id\":2,\"error\":{\"code\":\"invalid_request\""'
check "an over-long line gets a line_too_long error" eval 'echo "$replies" | grep -q "\"code\":\"line_too_long\""'
check "the connection still works after the bad lines" eval 'echo "$replies" | grep -q "\"id\":3,\"result\":{\"pong\":true}"'
check "the daemon still answers other clients" eval '"$CLI" --socket "$SOCK_A" ping >/dev/null'

# ---- daemon_status in PostgreSQL; reload with a shorter interval ----
pid_a=$(MULETEER_VAR=$A "$CLI" --json status | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' | head -1)
echo "status_interval = 1" >>"$A/muleteer.conf"
kill -HUP "$pid_a"
fresh() { [ "$(PSQL "$EXT_DB" "SELECT (now() - heartbeat < interval '2 s' AND stopped_at IS NULL AND pid = $pid_a)::int FROM daemon_status")" = 1 ]; }
check "daemon_status has a fresh heartbeat after SIGHUP set status_interval = 1" eventually 10 fresh
check "daemon_status has the Kad node's state and contacts (none yet)" \
  eval '[ "$(PSQL "$EXT_DB" "SELECT kad_state || kad_contacts FROM daemon_status WHERE pid = $pid_a")" = connecting0 ]'
check "the reload is logged" grep -q "configuration reloaded" "$A/log/muleteerd.log"

# ---- PostgreSQL outage ----
"$MT_SRCDIR/tools/pgcluster.sh" stop "$EXT" fast >/dev/null
down() { "$CLI" --socket "$SOCK_A" status | grep -q "NOT CONNECTED"; }
check "with PostgreSQL stopped, muleteer status answers and says the database is down" eventually 10 down
check "with PostgreSQL stopped, HTTP still answers (the API key needs no database)" \
  eval '[ "$(curl -fsS -H "$AUTH_A" "http://127.0.0.1:$PA/api/v2/app/version")" = v5.0.0 ]'
code=$(curl -s -o /dev/null -w '%{http_code}' -H "$AUTH_A" "http://127.0.0.1:$PA/api/v2/torrents/info")
check "with PostgreSQL stopped, a route that reads it answers 503" [ "$code" = 503 ]
sleep 2
check "the daemon is still running during the outage" kill -0 "$pid_a"
"$MT_SRCDIR/tools/pgcluster.sh" start "$EXT" >/dev/null
up() { "$CLI" --socket "$SOCK_A" status | grep -q "database: *connected"; }
check "after PostgreSQL comes back the daemon reconnects" eventually 20 up
check "and daemon_status is fresh again" eventually 10 fresh

# ---- the server list and searches reach their tables ----
DEADP=$(free_port)
"$CLI" --socket "$SOCK_A" servers add "127.0.0.1:$DEADP" --static --priority high >/dev/null
srv_row() { [ "$(PSQL "$EXT_DB" "SELECT is_static::int || priority FROM servers WHERE address = '127.0.0.1' AND port = $DEADP")" = 1high ]; }
check "a server added with muleteer servers add reaches the servers table" eventually 15 srv_row
"$CLI" --socket "$SOCK_A" search --wait 0 "skeleton probe" >/dev/null
search_row() { [ "$(PSQL "$EXT_DB" "SELECT count(*) FROM searches WHERE expression = 'skeleton probe' AND scope = 'global'")" = 1 ]; }
check "a search is written to the searches table" eventually 15 search_row
"$CLI" --socket "$SOCK_A" servers remove "127.0.0.1:$DEADP" >/dev/null
srv_gone() { [ "$(PSQL "$EXT_DB" "SELECT count(*) FROM servers WHERE port = $DEADP")" = 0 ]; }
check "a removed server leaves the table" eventually 15 srv_gone

# ---- bad configuration ----
printf 'tcp_port = 4662\nno_such_key = 1\n' >"$A/bad.conf"
out=$("$MT_BUILDDIR/bin/muleteerd" -c "$A/bad.conf" --check-config 2>&1); rc=$?
check "muleteerd rejects a bad config naming file, line and key" \
  eval '[ $rc = 1 ] && echo "$out" | grep -q "bad.conf:2: unknown key \"no_such_key\""'
printf 'tcp_port = 99999\n' >"$A/bad.conf"
out=$("$MT_BUILDDIR/bin/muleteerd" -c "$A/bad.conf" 2>&1); rc=$?
check "muleteerd refuses to start with an out-of-range value" \
  eval '[ $rc = 1 ] && echo "$out" | grep -q "bad.conf:1: tcp_port: expected an integer from 1 to 65535"'
cp -p "$A/muleteer.conf" "$A/good.conf"
echo "this line is not a setting" >>"$A/muleteer.conf"
kill -HUP "$pid_a"
reload_refused() { grep -q "keeping the running configuration" "$A/log/muleteerd.log"; }
check "SIGHUP with a broken config keeps the daemon running on the old one" \
  eval 'eventually 5 reload_refused && kill -0 $pid_a && "$CLI" --socket "$SOCK_A" ping >/dev/null'
out=$(MULETEER_CONF="$A/muleteer.conf" REQUEST_METHOD=GET REQUEST_URI=/api/v2/app/version \
      "$MT_BUILDDIR/cgi-bin/qbit.fcgi" 2>/dev/null)
check "qbit answers a broken config with a 500 naming the line" \
  eval 'echo "$out" | grep -q "^Status: 500" && echo "$out" | grep -q "muleteer.conf:[0-9]*: expected \"key = value\""'
cp -p "$A/good.conf" "$A/muleteer.conf"

# ---- kill -9 of the daemon: run.sh starts it again ----
kill -KILL "$pid_a"
restarted() { "$CLI" --socket "$SOCK_A" ping >/dev/null 2>&1; }
check "after kill -9, run.sh restarts muleteerd and it answers" eventually 15 restarted

# ---- instance B side by side: private PostgreSQL cluster under its var ----
mk_tmpdir B
PB=$(free_port)
if start_runsh "$B" "$B.out" MULETEER_HTTP_PORT="$PB" MULETEER_TCP_PORT=$((PB + 1)) MULETEER_UDP_PORT=$((PB + 2)); then
  ok "a second instance starts beside the first"
else
  not_ok "a second instance starts beside the first"; diag "$(tail -n 20 "$B.out")"
fi
RUNSH_B=$RUNSH_PID
check "instance B runs its private cluster on a socket inside its var" test -S "$B/pg/.s.PGSQL.5432"
check "instance B's PostgreSQL listens on no TCP port" \
  eval '! grep -q "listening on IPv" "$B/log/postgresql.log"'
KEY_B=$(conf_key "$B" api_key)
check "both instances answer HTTP" eval '[ "$(curl -fsS -H "Authorization: Bearer $KEY_B" "http://127.0.0.1:$PB/api/v2/app/version")" = v5.0.0 ] &&
  [ "$(curl -fsS -H "$AUTH_A" "http://127.0.0.1:$PA/api/v2/app/version")" = v5.0.0 ]'
check "each CLI reaches its own daemon" eval 'MULETEER_VAR=$B "$CLI" --json status | grep -q "\"tcp_port\": *$((PB + 1))" &&
  MULETEER_VAR=$A "$CLI" --json status | grep -q "\"tcp_port\": *$((PA + 1))"'
out=$(MULETEER_VAR=$B MULETEER_BUILD=$MT_BUILDDIR MULETEER_SKIP_BUILD=1 MULETEER_HTTP_PORT=$(free_port) \
      "$MT_SRCDIR/run.sh" 2>&1); rc=$?
check "run.sh refuses to start a second copy on the same state directory" \
  eval '[ $rc != 0 ] && echo "$out" | grep -q "already running"'

# ---- stop and start again: state is kept ----
started_b=$(PSQL "$("$MT_SRCDIR/tools/pgcluster.sh" conninfo "$B")" "SELECT extract(epoch FROM started_at)::bigint FROM daemon_status" || true)
check "SIGTERM stops run.sh" stop_runsh "$RUNSH_B"
check "every process of instance B is gone" eval '[ -z "$(processes_of "$B")" ]'
check "the daemon logged a clean stop" grep -q "muleteerd stopped" "$B/log/muleteerd.log"
PASS_B=$(head -n 1 "$B/web-password" 2>/dev/null)
HASH_B=$(conf_key "$B" web_password)
sleep 1
if start_runsh "$B" "$B.out2" MULETEER_HTTP_PORT="$PB"; then ok "run.sh starts again on the same state"; else not_ok "run.sh starts again on the same state"; fi
RUNSH_B=$RUNSH_PID
check "the second run keeps the password" \
  eval '[ -n "$PASS_B" ] && [ "$(head -n 1 "$B/web-password")" = "$PASS_B" ] && [ "$(conf_key "$B" web_password)" = "$HASH_B" ] &&
        grep -q "Password: *$PASS_B\$" "$B.out2" && ! grep -q "new credentials" "$B.out2"'
check "the second run applies no migration again" grep -q "(0 migrations applied now)" "$B.out2"
check "the database kept its rows across the restart" \
  eval '[ -n "$started_b" ] && [ "$(PSQL "$("$MT_SRCDIR/tools/pgcluster.sh" conninfo "$B")" "SELECT count(*) FROM schema_migrations")" -ge 1 ]'
check "SIGTERM stops run.sh again" stop_runsh "$RUNSH_B"

# ---- muleteer passwd: a new hash in muleteer.conf, nothing else touched ----
cp -p "$B/muleteer.conf" "$B/conf.before"
owner_b=$(stat -c %U:%G "$B/muleteer.conf")
out=$(echo "a new web password" | MULETEER_VAR=$B "$CLI" passwd 2>&1); rc=$?
check "muleteer passwd succeeds and says where it wrote" eval '[ $rc = 0 ] && echo "$out" | grep -q "changed in $B/muleteer.conf"'
new_hash=$(conf_key "$B" web_password)
check "muleteer passwd writes a new PBKDF2 string to web_password" \
  eval '[ "$new_hash" != "$HASH_B" ] && [[ "$new_hash" =~ ^pbkdf2-sha256\$100000\$ ]] && ! grep -q "a new web password" "$B/muleteer.conf"'
check "muleteer passwd keeps every other line, the mode 0600 and the owner" \
  eval 'diff <(grep -v "^web_password" "$B/conf.before") <(grep -v "^web_password" "$B/muleteer.conf") >/dev/null &&
        [ "$(grep -c "^web_password" "$B/muleteer.conf")" = 1 ] &&
        [ "$(stat -c %a "$B/muleteer.conf")" = 600 ] && [ "$(stat -c %U:%G "$B/muleteer.conf")" = "$owner_b" ] &&
        [ ! -e "$B/muleteer.conf.tmp" ]'
check "muleteer passwd removes web-password" test ! -e "$B/web-password"
out=$(printf '' | MULETEER_VAR=$B "$CLI" passwd 2>&1); rc=$?
check "muleteer passwd without a password changes nothing" \
  eval '[ $rc = 1 ] && [ "$(conf_key "$B" web_password)" = "$new_hash" ]'
if start_runsh "$B" "$B.out3" MULETEER_HTTP_PORT="$PB"; then
  check "after muleteer passwd, the banner says the password was changed" \
    eval 'grep -q "Password: *(changed with muleteer passwd; not shown)" "$B.out3" && [ "$(conf_key "$B" web_password)" = "$new_hash" ]'
  check "SIGTERM stops run.sh a third time" stop_runsh "$RUNSH_PID"
else
  not_ok "run.sh starts after muleteer passwd"; diag "$(tail -n 20 "$B.out3")"
fi
check "SIGTERM stops instance A" stop_runsh "$RUNSH_A"
check "every process of instance A is gone" eval '[ -z "$(processes_of "$A")" ]'

# ---- nothing the sanitizers or the programs complained about ----
bad=$(grep -lE 'AddressSanitizer|LeakSanitizer|runtime error:' "$A"/log/* "$B"/log/* 2>/dev/null || true)
check "no sanitizer reports in any log" [ -z "$bad" ]
[ -n "$bad" ] && diag "$(grep -hE -A5 'AddressSanitizer|LeakSanitizer|runtime error:' $bad | head -40)"

finish
