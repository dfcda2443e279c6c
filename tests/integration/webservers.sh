#!/usr/bin/env bash
# webservers.sh: the FastCGI programs behind nginx (spawn-fcgi) and Apache
# (mod_proxy_fcgi, mod_fcgid and plain CGI), set up as README.md says, next
# to a running Muleteer: the qBittorrent API, Torznab, /metrics, the
# web API's auth, metrics, config and history programs, and the WebSocket
# behind nginx and Apache (mod_proxy_wstunnel) as docs/websocket.md says.
# TAP output.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
trap cleanup EXIT

QBIT="$MT_BUILDDIR/cgi-bin/qbit.fcgi"
TORZNAB="$MT_BUILDDIR/cgi-bin/torznab.fcgi"
PROM="$MT_BUILDDIR/cgi-bin/prom.fcgi"
AUTH="$MT_BUILDDIR/cgi-bin/auth.fcgi"
METRICS="$MT_BUILDDIR/cgi-bin/metrics.fcgi"
CONFIG="$MT_BUILDDIR/cgi-bin/config.fcgi"
HISTORY="$MT_BUILDDIR/cgi-bin/history.fcgi"
mk_tmpdir A
PA=$(free_port)
if start_runsh "$A" "$A.out" MULETEER_HTTP_PORT="$PA" MULETEER_TCP_PORT=$((PA + 1)) MULETEER_UDP_PORT=$((PA + 2)); then
  ok "Muleteer runs (run.sh)"
else
  not_ok "Muleteer runs (run.sh)"; diag "$(tail -n 20 "$A.out")"; finish; exit 1
fi

KEY=$(conf_key "$A" api_key)
PASS=$(head -n 1 "$A/web-password")
# answers URL: the program answered (403 without a login, as qBittorrent).
answers() { case $(curl -s -o /dev/null -w '%{http_code}' "$1") in 200|403) return 0 ;; esac; return 1; }

# expect_api NAME BASE [login]: the answers every set-up must give; the
# Authorization header must reach the program (Apache: CGIPassAuth). With
# "login", the program can also reach PostgreSQL: a login gives a cookie
# that works.
expect_api() {
  local name=$1 base=$2 out
  out=$(curl -s -w ' %{http_code}' "$base/api/v2/app/version")
  check "$name: no login, 403" [ "$out" = "Forbidden 403" ]
  out=$(curl -s -w ' %{http_code}' -H "Authorization: Bearer $KEY" "$base/api/v2/app/version")
  check "$name: GET app/version with the API key" [ "$out" = "v5.0.0 200" ]
  out=$(curl -s -w ' %{http_code}' -H "Authorization: Bearer $KEY" "$base/api/v2/app/nothing")
  check "$name: unknown path is 404" [ "$out" = "Not Found 404" ]
  out=$(curl -s -w ' %{http_code}' -d 'x=%zz' "$base/api/v2/app/webapiVersion")
  check "$name: malformed body is 400" [ "$out" = "Bad Request 400" ]
  out=$(curl -s -H "Authorization: Bearer $KEY" "$base/api/v2/app/buildInfo")
  check "$name: buildInfo JSON" eval 'echo "$out" | grep -q "\"bitness\":64"'
  if [ "${3:-}" = login ]; then
    local jar; jar=$(mktemp "$A/jar.XXXXXX")
    out=$(curl -s -c "$jar" --data-urlencode username=admin --data-urlencode "password=$PASS" \
      "$base/api/v2/auth/login")
    check "$name: auth/login answers Ok." [ "$out" = "Ok." ]
    out=$(curl -s -b "$jar" "$base/api/v2/torrents/categories")
    check "$name: the session cookie works" [ "$out" = "{}" ]
  fi
}

# expect_torznab NAME BASE: the Torznab indexer answers caps with the key
# (as XML), 401 without it and 404 for another indexer name.
expect_torznab() {
  local name=$1 base=$2 out
  out=$(curl -s -w ' %{http_code}' "$base/indexer/muleteer/api?t=caps&apikey=$KEY")
  check "$name: Torznab caps with the key" eval 'grep -q "<caps>" <<<"$out" && [ "${out##* }" = 200 ]'
  out=$(curl -s -w ' %{http_code}' "$base/indexer/muleteer/api?t=caps")
  check "$name: Torznab without a key: 401, code 100" \
    eval 'grep -q "<error code=\"100\"" <<<"$out" && [ "${out##* }" = 401 ]'
  out=$(curl -s -w ' %{http_code}' -H "X-API-Key: $KEY" "$base/indexer/other/api?t=caps")
  check "$name: Torznab, another indexer name: 404" [ "${out##* }" = 404 ]
}

# expect_prom NAME BASE: /metrics answers from loopback without a key in
# the Prometheus text format (the program's own request counters in it),
# 404 beside it.
expect_prom() {
  local name=$1 base=$2 out
  out=$(curl -s -w '\n%{http_code} %{content_type}' "$base/metrics")
  check "$name: /metrics, 200 in the Prometheus text format" eval \
    '[ "$(tail -n 1 <<<"$out")" = "200 text/plain; version=0.0.4; charset=utf-8" ] &&
     grep -q "^muleteer_up " <<<"$out" && grep -q "^# TYPE muleteer_http_requests_total counter" <<<"$out"'
}

# expect_auth NAME BASE [login]: the web API's sessions and accounts
# answer on both of their mounts: /api/auth/status (public) and /api/users
# (401 without credentials). With "login", the program can also reach
# PostgreSQL: a login gives an amule.sid cookie that /api/auth/status
# recognises, and /api/users answers the API key.
expect_auth() {
  local name=$1 base=$2 out sid
  out=$(curl -s -w ' %{http_code}' "$base/api/auth/status")
  check "$name: /api/auth/status is public" \
    eval 'grep -q "\"authEnabled\":true" <<<"$out" && [ "${out##* }" = 200 ]'
  out=$(curl -s -w ' %{http_code}' -X DELETE "$base/api/users/7")
  check "$name: DELETE /api/users/<id> without credentials: 401" \
    eval 'grep -q "\"unauthorized\"" <<<"$out" && [ "${out##* }" = 401 ]'
  [ "${3:-}" = login ] || return 0
  out=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
    --data "{\"username\":\"admin\",\"password\":\"$PASS\"}" "$base/api/auth/login" | tr -d '\r')
  sid=$(sed -n 's/^[Ss]et-[Cc]ookie: amule\.sid=\([^;]*\);.*/\1/p' <<<"$out")
  check "$name: /api/auth/login sets amule.sid" [ -n "$sid" ]
  out=$(curl -s -b "amule.sid=$sid" "$base/api/auth/status")
  check "$name: /api/auth/status knows the session" grep -q '"authenticated":true' <<<"$out"
  out=$(curl -s -w ' %{http_code}' -H "X-API-Key: $KEY" "$base/api/users")
  check "$name: /api/users with the API key" [ "$out" = '{"users":[]} 200' ]
}

# expect_metrics NAME BASE [db]: the charts answer 401 without the key,
# and a bad range is a 400 naming it; with the key, the chart when the
# program can reach PostgreSQL ("db"), else 503 as JSON.
expect_metrics() {
  local name=$1 base=$2 out
  out=$(curl -s -w ' %{http_code}' -H "X-API-Key: $KEY" "$base/api/metrics/stats?range=7d")
  if [ "${3:-}" = db ]; then
    check "$name: metrics stats with the key" eval 'grep -q "^{\"range\":\"7d\"" <<<"$out" && [ "${out##* }" = 200 ]'
  else
    check "$name: metrics with the key, no PostgreSQL for this user: 503 JSON" \
      eval 'grep -q "\"code\":\"unavailable\"" <<<"$out" && [ "${out##* }" = 503 ]'
  fi
  out=$(curl -s -w ' %{http_code}' "$base/api/metrics/dashboard")
  check "$name: metrics without a key: 401" [ "${out##* }" = 401 ]
  out=$(curl -s -w ' %{http_code}' -H "Authorization: Bearer $KEY" "$base/api/metrics/history?range=1h")
  check "$name: metrics, a bad range: 400 naming it" \
    eval 'grep -q "\"parameter\":\"range\"" <<<"$out" && [ "${out##* }" = 400 ]'
}

# expect_config NAME BASE [db]: /api/config answers 401 (JSON) without
# credentials, /api/config/status is public JSON; with the key, the
# settings in force when the program can reach the daemon ("db": it runs
# as the muleteer user), else 503 as JSON.
expect_config() {
  local name=$1 base=$2 out
  out=$(curl -s -w ' %{http_code}' "$base/api/config")
  check "$name: /api/config without credentials: 401" \
    eval 'grep -q "\"unauthorized\"" <<<"$out" && [ "${out##* }" = 401 ]'
  out=$(curl -s -w ' %{http_code}' "$base/api/config/status")
  check "$name: /api/config/status is public JSON" \
    eval 'grep -q "\"firstRun\":false" <<<"$out" && [ "${out##* }" = 200 ]'
  out=$(curl -s -w ' %{http_code}' -H "X-API-Key: $KEY" "$base/api/config")
  if [ "${3:-}" = db ]; then
    check "$name: /api/config with the key: the settings" \
      eval 'grep -q "\"maxDownload\":" <<<"$out" && [ "${out##* }" = 200 ]'
  else
    check "$name: /api/config with the key, no daemon for this user: 503 JSON" \
      eval 'grep -q "\"error\":" <<<"$out" && [ "${out##* }" = 503 ]'
  fi
}

# expect_history NAME BASE [db]: /api/history answers 401 without
# credentials and a 400 naming a bad parameter; with the key, a page when
# the program can reach PostgreSQL ("db"), else 503 as JSON.
expect_history() {
  local name=$1 base=$2 out
  out=$(curl -s -w ' %{http_code}' "$base/api/history?limit=1")
  check "$name: /api/history without credentials: 401" \
    eval 'grep -q "\"unauthorized\"" <<<"$out" && [ "${out##* }" = 401 ]'
  out=$(curl -s -w ' %{http_code}' -H "X-API-Key: $KEY" "$base/api/history?limit=0")
  check "$name: /api/history, a bad limit: 400 naming it" \
    eval 'grep -q "\"parameter\":\"limit\"" <<<"$out" && [ "${out##* }" = 400 ]'
  out=$(curl -s -w ' %{http_code}' -H "Authorization: Bearer $KEY" "$base/api/history/stats")
  if [ "${3:-}" = db ]; then
    check "$name: /api/history/stats with the key: JSON counts" \
      eval 'grep -q "^{\"total\":" <<<"$out" && [ "${out##* }" = 200 ]'
  else
    check "$name: /api/history with the key, no PostgreSQL for this user: 503 JSON" \
      eval 'grep -q "\"code\":\"unavailable\"" <<<"$out" && [ "${out##* }" = 503 ]'
  fi
}

# ---- spawn-fcgi: the program as the muleteer user on a socket for www-data ----
mk_tmpdir S
install -d -o "$MULETEER_USER" -g www-data -m 0750 "$S/run"
MULETEER_CONF="$A/muleteer.conf" spawn-fcgi -u "$MULETEER_USER" -g "$MULETEER_USER" \
  -s "$S/run/qbit.sock" -U "$MULETEER_USER" -G www-data -M 0660 -P "$S/spawn.pid" -- "$QBIT" >/dev/null
CLEANUP_PIDS+=("$(cat "$S/spawn.pid")")
check "spawn-fcgi starts qbit.fcgi as $MULETEER_USER" \
  eval '[ "$(ps -o user= -p "$(cat "$S/spawn.pid")")" = "$MULETEER_USER" ]'
MULETEER_CONF="$A/muleteer.conf" spawn-fcgi -u "$MULETEER_USER" -g "$MULETEER_USER" \
  -s "$S/run/torznab.sock" -U "$MULETEER_USER" -G www-data -M 0660 -P "$S/spawn-tz.pid" -- "$TORZNAB" >/dev/null
CLEANUP_PIDS+=("$(cat "$S/spawn-tz.pid")")
MULETEER_CONF="$A/muleteer.conf" spawn-fcgi -u "$MULETEER_USER" -g "$MULETEER_USER" \
  -s "$S/run/prom.sock" -U "$MULETEER_USER" -G www-data -M 0660 -P "$S/spawn-prom.pid" -- "$PROM" >/dev/null
CLEANUP_PIDS+=("$(cat "$S/spawn-prom.pid")")
MULETEER_CONF="$A/muleteer.conf" spawn-fcgi -u "$MULETEER_USER" -g "$MULETEER_USER" \
  -s "$S/run/auth.sock" -U "$MULETEER_USER" -G www-data -M 0660 -P "$S/spawn-auth.pid" -- "$AUTH" >/dev/null
CLEANUP_PIDS+=("$(cat "$S/spawn-auth.pid")")
MULETEER_CONF="$A/muleteer.conf" spawn-fcgi -u "$MULETEER_USER" -g "$MULETEER_USER" \
  -s "$S/run/metrics.sock" -U "$MULETEER_USER" -G www-data -M 0660 -P "$S/spawn-mx.pid" -- "$METRICS" >/dev/null
CLEANUP_PIDS+=("$(cat "$S/spawn-mx.pid")")
MULETEER_CONF="$A/muleteer.conf" spawn-fcgi -u "$MULETEER_USER" -g "$MULETEER_USER" \
  -s "$S/run/config.sock" -U "$MULETEER_USER" -G www-data -M 0660 -P "$S/spawn-cfg.pid" -- "$CONFIG" >/dev/null
CLEANUP_PIDS+=("$(cat "$S/spawn-cfg.pid")")
MULETEER_CONF="$A/muleteer.conf" spawn-fcgi -u "$MULETEER_USER" -g "$MULETEER_USER" \
  -s "$S/run/history.sock" -U "$MULETEER_USER" -G www-data -M 0660 -P "$S/spawn-hist.pid" -- "$HISTORY" >/dev/null
CLEANUP_PIDS+=("$(cat "$S/spawn-hist.pid")")

# ---- muleteer-ws on a socket the web server's group may use ----
mk_tmpdir W
install -d -o "$MULETEER_USER" -g www-data -m 2750 "$W/run"
{ cat "$A/muleteer.conf"; echo "control_socket = $A/run/muleteerd.sock"; echo "ws_socket = $W/run/ws.sock"; } \
  >"$W/ws.conf"
chown "$MULETEER_USER" "$W/ws.conf"; chmod 0600 "$W/ws.conf"
as_service_user "$MT_BUILDDIR/bin/muleteer-ws" -c "$W/ws.conf" 2>"$W/ws.log" &
CLEANUP_PIDS+=("$!")
check "muleteer-ws listens for the web servers" eventually 10 test -S "$W/run/ws.sock"
PY=
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import websockets' 2>/dev/null; then PY=$p; break; fi
done
# expect_ws NAME URL: a WebSocket there gets muleteer-ws's snapshot
expect_ws() {
  check "$1: the WebSocket at $2" env WS_URL="$2" API_KEY="$KEY" STAGE=probe \
    timeout 30 "${PY:-python3}" "$MT_SRCDIR/tests/integration/ws_client.py"
}

# ---- nginx ----
mk_tmpdir N
PN=$(free_port)
cat >"$N/nginx.conf" <<EOF
daemon off;
user www-data;
pid $N/nginx.pid;
error_log $N/error.log;
events {}
http {
  access_log off;
  client_body_temp_path $N/body;
  fastcgi_temp_path $N/fastcgi;
  proxy_temp_path $N/proxy;
  uwsgi_temp_path $N/uwsgi;
  scgi_temp_path $N/scgi;
  server {
    listen 127.0.0.1:$PN;
    location /api/v2/ {
      include /etc/nginx/fastcgi_params;
      fastcgi_pass unix:$S/run/qbit.sock;
    }
    location /indexer/ {
      include /etc/nginx/fastcgi_params;
      fastcgi_pass unix:$S/run/torznab.sock;
      fastcgi_read_timeout 60s;
    }
    location = /metrics {
      include /etc/nginx/fastcgi_params;
      fastcgi_pass unix:$S/run/prom.sock;
    }
    location /api/auth/ {
      include /etc/nginx/fastcgi_params;
      fastcgi_pass unix:$S/run/auth.sock;
    }
    location /api/users {
      include /etc/nginx/fastcgi_params;
      fastcgi_pass unix:$S/run/auth.sock;
    }
    location /api/metrics/ {
      include /etc/nginx/fastcgi_params;
      fastcgi_pass unix:$S/run/metrics.sock;
    }
    location ~ ^/api/(config|version|item/) {
      include /etc/nginx/fastcgi_params;
      fastcgi_pass unix:$S/run/config.sock;
    }
    location /api/history {
      include /etc/nginx/fastcgi_params;
      fastcgi_pass unix:$S/run/history.sock;
    }
    location /ws {
      proxy_pass http://unix:$W/run/ws.sock;
      proxy_http_version 1.1;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_set_header X-Forwarded-For \$remote_addr;
      proxy_read_timeout 1h;
    }
  }
}
EOF
setsid nginx -c "$N/nginx.conf" 2>"$N/stderr" &
CLEANUP_PIDS+=("$!")
if eventually 10 answers "http://127.0.0.1:$PN/api/v2/app/version"; then
  ok "nginx starts"
  expect_api "nginx + spawn-fcgi" "http://127.0.0.1:$PN" login
  expect_torznab "nginx + spawn-fcgi" "http://127.0.0.1:$PN"
  expect_prom "nginx + spawn-fcgi" "http://127.0.0.1:$PN"
  expect_auth "nginx + spawn-fcgi" "http://127.0.0.1:$PN" login
  expect_metrics "nginx + spawn-fcgi" "http://127.0.0.1:$PN" db
  expect_config "nginx + spawn-fcgi" "http://127.0.0.1:$PN" db
  expect_history "nginx + spawn-fcgi" "http://127.0.0.1:$PN" db
  expect_ws "nginx" "ws://127.0.0.1:$PN/ws"
else
  not_ok "nginx starts"; diag "$(cat "$N/stderr" "$N/error.log" 2>/dev/null | tail -n 10)"
fi

# ---- Apache ----
# start_apache DIR PORT MPM EXTRA-CONFIG: a foreground Apache on PORT.
start_apache() {
  local d=$1 port=$2 mpm=$3 extra=$4
  mkdir -p "$d/fcgid"; chown www-data "$d/fcgid"
  cat >"$d/httpd.conf" <<EOF
ServerRoot /etc/apache2
DefaultRuntimeDir $d
PidFile $d/httpd.pid
ErrorLog $d/error.log
Listen 127.0.0.1:$port
User www-data
Group www-data
ServerName localhost
DocumentRoot $d
LoadModule mpm_${mpm}_module /usr/lib/apache2/modules/mod_mpm_${mpm}.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
$extra
EOF
  # Its own session: on shutdown Apache signals its whole process group.
  setsid apache2 -f "$d/httpd.conf" -DFOREGROUND 2>"$d/stderr" &
  CLEANUP_PIDS+=("$!")
  eventually 10 answers "http://127.0.0.1:$port/api/v2/app/version"
}

mk_tmpdir AP
PP=$(free_port)
if start_apache "$AP" "$PP" event "
LoadModule proxy_module /usr/lib/apache2/modules/mod_proxy.so
LoadModule proxy_fcgi_module /usr/lib/apache2/modules/mod_proxy_fcgi.so
ProxyPass /api/v2/ unix:$S/run/qbit.sock|fcgi://localhost/api/v2/
<Location /api/v2/>
    CGIPassAuth On
</Location>
ProxyPass /indexer/ unix:$S/run/torznab.sock|fcgi://localhost/indexer/ timeout=60
ProxyPass /metrics unix:$S/run/prom.sock|fcgi://localhost/metrics
ProxyPass /api/auth/ unix:$S/run/auth.sock|fcgi://localhost/api/auth/
ProxyPass /api/users unix:$S/run/auth.sock|fcgi://localhost/api/users
ProxyPass /api/metrics/ unix:$S/run/metrics.sock|fcgi://localhost/api/metrics/
<Location /api/metrics/>
    CGIPassAuth On
</Location>
ProxyPassMatch ^(/api/(config|version|item/).*)$ unix:$S/run/config.sock|fcgi://localhost\$1
<LocationMatch ^/api/(config|version|item/)>
    CGIPassAuth On
</LocationMatch>
ProxyPass /api/history unix:$S/run/history.sock|fcgi://localhost/api/history
<Location /api/history>
    CGIPassAuth On
</Location>
LoadModule proxy_wstunnel_module /usr/lib/apache2/modules/mod_proxy_wstunnel.so
LoadModule rewrite_module /usr/lib/apache2/modules/mod_rewrite.so
ProxyPass /ws unix:$W/run/ws.sock|ws://localhost/ws
RewriteEngine on
RewriteCond %{HTTP:Upgrade} =websocket [NC]
RewriteRule ^/$ unix:$W/run/ws.sock|ws://localhost/ [P,L]"; then
  ok "Apache with mod_proxy_fcgi starts"
  expect_api "Apache mod_proxy_fcgi" "http://127.0.0.1:$PP" login
  expect_torznab "Apache mod_proxy_fcgi" "http://127.0.0.1:$PP"
  expect_metrics "Apache mod_proxy_fcgi" "http://127.0.0.1:$PP" db
  expect_auth "Apache mod_proxy_fcgi" "http://127.0.0.1:$PP" login
  expect_prom "Apache mod_proxy_fcgi" "http://127.0.0.1:$PP"
  expect_config "Apache mod_proxy_fcgi" "http://127.0.0.1:$PP" db
  expect_history "Apache mod_proxy_fcgi" "http://127.0.0.1:$PP" db
  expect_ws "Apache mod_proxy_wstunnel" "ws://127.0.0.1:$PP/ws"
  expect_ws "Apache mod_proxy_wstunnel, / with an upgrade" "ws://127.0.0.1:$PP/"
else
  not_ok "Apache with mod_proxy_fcgi starts"; diag "$(tail -n 10 "$AP/error.log" "$AP/stderr" 2>/dev/null)"
fi
kill -TERM "$(cat "$AP/httpd.pid" 2>/dev/null)" 2>/dev/null

# mod_fcgid and mod_cgi run the program as www-data: give it a readable
# copy of the configuration, as README.md says (chgrp www-data, 0640).
mk_tmpdir C
cp "$A/muleteer.conf" "$C/muleteer.conf"
chgrp www-data "$C/muleteer.conf"; chmod 0640 "$C/muleteer.conf"
for handler in fcgid-script cgi-script; do
  mk_tmpdir AF
  PF=$(free_port)
  if start_apache "$AF" "$PF" prefork "
LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so
LoadModule env_module /usr/lib/apache2/modules/mod_env.so
LoadModule cgi_module /usr/lib/apache2/modules/mod_cgi.so
LoadModule fcgid_module /usr/lib/apache2/modules/mod_fcgid.so
FcgidIPCDir $AF/fcgid
FcgidProcessTableFile $AF/fcgid_shm
FcgidInitialEnv MULETEER_CONF $C/muleteer.conf
SetEnv MULETEER_CONF $C/muleteer.conf
ScriptAlias /api/v2/ $QBIT/
<Location /api/v2/>
    SetHandler $handler
    Options +ExecCGI
    CGIPassAuth On
</Location>
ScriptAlias /indexer/ $TORZNAB/
<Location /indexer/>
    SetHandler $handler
    Options +ExecCGI
</Location>
ScriptAlias /metrics $PROM
<Location /metrics>
    SetHandler $handler
    Options +ExecCGI
</Location>
ScriptAlias /api/auth/ $AUTH/
ScriptAlias /api/users $AUTH
<LocationMatch \"^/api/(auth/|users)\">
    SetHandler $handler
    Options +ExecCGI
    CGIPassAuth On
</LocationMatch>
ScriptAlias /api/metrics/ $METRICS/
<Location /api/metrics/>
    SetHandler $handler
    Options +ExecCGI
    CGIPassAuth On
</Location>
ScriptAlias /api/history $HISTORY/api/history
<Location /api/history>
    SetHandler $handler
    Options +ExecCGI
    CGIPassAuth On
</Location>
ScriptAliasMatch ^/api/((config|version|item/).*)\$ $CONFIG/api/\$1
<LocationMatch ^/api/(config|version|item/)>
    SetHandler $handler
    Options +ExecCGI
    CGIPassAuth On
</LocationMatch>
FcgidIOTimeout 60"; then
    ok "Apache with $handler starts"
    expect_api "Apache $handler" "http://127.0.0.1:$PF"
    expect_torznab "Apache $handler" "http://127.0.0.1:$PF"
    expect_prom "Apache $handler" "http://127.0.0.1:$PF"
    expect_auth "Apache $handler" "http://127.0.0.1:$PF"
    expect_metrics "Apache $handler" "http://127.0.0.1:$PF"
    expect_config "Apache $handler" "http://127.0.0.1:$PF"
    expect_history "Apache $handler" "http://127.0.0.1:$PF"
  else
    not_ok "Apache with $handler starts"; diag "$(tail -n 10 "$AF/error.log" "$AF/stderr" 2>/dev/null)"
  fi
  kill -TERM "$(cat "$AF/httpd.pid" 2>/dev/null)" 2>/dev/null
done

check "SIGTERM stops run.sh" stop_runsh "$RUNSH_PID"
finish
