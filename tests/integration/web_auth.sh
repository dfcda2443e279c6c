#!/usr/bin/env bash
# web_auth.sh: the web API's sessions and users (/api/auth/..., /api/users,
# docs/web-api.md) on the real stack: run.sh brings up PostgreSQL,
# muleteerd and lighttpd with auth.fcgi. Login (JSON and form), the
# amule.sid cookie and its lifetime with and without rememberMe, status,
# logout, session expiry, profile (one's own password), users CRUD for
# admins only, a user's capabilities in /api/v2 (no remove_downloads: no
# delete) and Torznab, the download remembering who added it, `muleteer
# user`, the authentication switch-off, and the login throttle (401 with
# retryDelay, then 429 with Retry-After). TAP.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
trap cleanup EXIT

command -v jq >/dev/null || { echo "Bail out! jq is not installed (run.sh check installs it)"; exit 1; }

PSQL() { as_service_user psql "$DB" -XAtq -c "$1" 2>/dev/null; }

mk_tmpdir T
HP=$(free_port); MP=$(free_port)
VAR="$T/var"
mkdir -p "$VAR"
PASS="wa-pass-$RANDOM$RANDOM"
KEY="wakey$RANDOM$RANDOM$RANDOM"
cat >"$VAR/muleteer.conf" <<EOF
node_name = wa-node
state_dir = $VAR
log_file = $VAR/log/muleteerd.log
tcp_port = $MP
udp_port = $((MP + 1))
web_username = admin
web_password = $PASS
api_key = $KEY
web_max_auth_failures = 3
web_ban_duration = 120
server_autoconnect = no
EOF
chmod 0600 "$VAR/muleteer.conf"
chown_service "$VAR/muleteer.conf" 2>/dev/null || true
if ! start_runsh "$VAR" "$T/runsh.out" MULETEER_HTTP_PORT="$HP"; then
  not_ok "run.sh starts the stack"; diag "$(tail -n 20 "$T/runsh.out")"; finish; exit 1
fi
DB=$(conf_key "$VAR" database)
BASE="http://127.0.0.1:$HP"
CLI="$MT_BUILDDIR/bin/muleteer"

# web METHOD PATH [curl args...]: sets CODE, BODY and HEAD (the headers).
web() {
  local m=$1 p=$2; shift 2
  CODE=$(curl -sS -X "$m" -D "$T/head" -o "$T/body" -w '%{http_code}' "$@" "$BASE$p")
  BODY=$(cat "$T/body"); HEAD=$(tr -d '\r' <"$T/head")
}
jqt() { jq -e "$@" <<<"$BODY" >/dev/null 2>&1; }
code() { [ "$CODE" = "$1" ]; }
# sid_of: the amule.sid value of the last answer's Set-Cookie.
sid_of() { sed -n 's/^[Ss]et-[Cc]ookie: amule\.sid=\([^;]*\);.*/\1/p' <<<"$HEAD" | head -n 1; }
cookie_line() { grep -i '^set-cookie: amule\.sid=' <<<"$HEAD" | head -n 1; }
json() { printf '%s' "$1"; }
# life_of SID: the seconds from now to the session's expiry, rounded.
life_of() {
  local h; h=$(printf '%s' "$1" | sha256sum | cut -d' ' -f1)
  PSQL "SELECT round(extract(epoch FROM expires_at - now())) FROM web_sessions WHERE sid_hash = '$h'"
}
near() { [ -n "$1" ] && [ "$1" -ge $(($2 - 60)) ] && [ "$1" -le "$2" ]; }

# ---------------------------------------------------------------- status
web GET /api/auth/status
check "status is public" code 200
check "status: auth on, not logged in, no users" \
  jqt '.authEnabled == true and .authenticated == false and .hasUsers == false and .username == null'
web GET /api/users
check "users without credentials: 401 with the error object" \
  eval 'code 401 && jqt ".error.code == \"unauthorized\" and (.error.message | length > 0)"'

# ----------------------------------------------------------------- login
web POST /api/auth/login -H 'Content-Type: application/json' \
  --data "$(jq -nc --arg p "$PASS" '{username: "admin", password: $p}')"
check "login (JSON): 200 {success, message}" eval 'code 200 && jqt ".success == true and (.message | length > 0)"'
check "the cookie is amule.sid, HttpOnly, SameSite=Lax, 24 h, not Secure over http" \
  eval 'cookie_line | grep -q "Path=/; Max-Age=86400; HttpOnly; SameSite=Lax" && ! cookie_line | grep -qi secure'
ADMIN=$(sid_of)
check "the session lives 24 h in PostgreSQL" near "$(life_of "$ADMIN")" 86400

web POST /api/auth/login --data-urlencode username=admin --data-urlencode "password=$PASS" \
  --data-urlencode rememberMe=true
check "login (form) with rememberMe: 30 days" \
  eval 'code 200 && cookie_line | grep -q "Max-Age=2592000"'
REMEMBER=$(sid_of)
check "the rememberMe session lives 30 days in PostgreSQL" near "$(life_of "$REMEMBER")" 2592000

web POST /api/auth/login -H 'Content-Type: application/json' --data '{"username":"admin"}'
check "login without a password: 400 naming it" \
  eval 'code 400 && jqt ".error.parameter == \"password\""'

web GET /api/auth/status -b "amule.sid=$ADMIN"
check "status with the cookie: the admin with every capability" \
  jqt '.authenticated == true and .username == "admin" and .isAdmin == true and (.capabilities | length == 18)'
web GET /api/auth/status -H "X-API-Key: $KEY"
check "status with the API key: authenticated" jqt '.authenticated == true and .isAdmin == true'

# ----------------------------------------------------------------- users
A=(-b "amule.sid=$ADMIN")
web POST /api/users "${A[@]}" -H 'Content-Type: application/json' \
  --data '{"username":"bob","password":"bob-pw-1","capabilities":["search","add_downloads","pause_resume"]}'
check "an admin creates bob: 201" eval 'code 201 && jqt ".user.username == \"bob\" and .user.isAdmin == false"'
BOB_ID=$(jq -r .user.id <<<"$BODY")
web POST /api/users "${A[@]}" -H 'Content-Type: application/json' \
  --data '{"username":"BOB","password":"x"}'
check "a second bob (any case): 409" code 409
web POST /api/users "${A[@]}" -H 'Content-Type: application/json' \
  --data '{"username":"b o b","password":"x"}'
check "a bad name: 400 naming username" eval 'code 400 && jqt ".error.parameter == \"username\""'
web POST /api/users "${A[@]}" -H 'Content-Type: application/json' \
  --data '{"username":"eve","password":"x","capabilities":["search","fly"]}'
check "an unknown capability: 400 naming capabilities" \
  eval 'code 400 && jqt ".error.parameter == \"capabilities\""'
web POST /api/users "${A[@]}" -H 'Content-Type: application/json' \
  --data '{"username":"eve","password":"x","capabilities":["search","edit_all_downloads"]}'
check "edit_all_downloads without view_all_downloads: 400 naming capabilities" \
  eval 'code 400 && jqt ".error.parameter == \"capabilities\" and (.error.message | test(\"view_all_downloads\"))"'
web POST /api/users "${A[@]}" --data-urlencode username=eve --data-urlencode password=x \
  --data-urlencode capabilities=edit_all_downloads
check "... and as a form: 400 naming capabilities, no account made" \
  eval 'code 400 && jqt ".error.parameter == \"capabilities\"" && [ "$(PSQL "SELECT count(*) FROM web_users WHERE username = '"'eve'"'")" = 0 ]'
web POST /api/users -H "X-API-Key: $KEY" --data-urlencode username=dora \
  --data-urlencode password=dora-pw --data-urlencode capabilities=view_history
check "the API key creates dora with a form" code 201
DORA_ID=$(jq -r .user.id <<<"$BODY")
web GET /api/users "${A[@]}"
check "the list has bob and dora with their capabilities" \
  jqt '(.users | length == 2) and .users[0].username == "bob" and (.users[0].capabilities == ["search","add_downloads","pause_resume"]) and .users[1].capabilities == ["view_history"]'
web PUT "/api/users/$DORA_ID" "${A[@]}" -H 'Content-Type: application/json' \
  --data '{"capabilities":["view_history","view_logs"],"disabled":true}'
check "an admin changes dora" jqt '.user.capabilities == ["view_history","view_logs"] and .user.disabled == true'
web PUT "/api/users/$DORA_ID" "${A[@]}" -H 'Content-Type: application/json' \
  --data '{"capabilities":["view_history","edit_all_downloads"]}'
check "a PUT giving edit_all_downloads without view_all_downloads: 400 naming capabilities" \
  eval 'code 400 && jqt ".error.parameter == \"capabilities\""'
web PUT "/api/users/$DORA_ID" "${A[@]}" -H 'Content-Type: application/json' \
  --data '{"capabilities":["view_all_downloads","edit_all_downloads"]}'
check "... with view_all_downloads: 200" \
  jqt '.user.capabilities == ["view_all_downloads","edit_all_downloads"]'
web PUT "/api/users/$DORA_ID" "${A[@]}" -H 'Content-Type: application/json' \
  --data '{"capabilities":["view_history","view_logs"]}'
web PUT /api/users/999999 "${A[@]}" -H 'Content-Type: application/json' --data '{"disabled":true}'
check "an unknown user: 404" code 404
web PUT /api/users/x1 "${A[@]}" -H 'Content-Type: application/json' --data '{}'
check "a bad id: 400 naming id" eval 'code 400 && jqt ".error.parameter == \"id\""'
web POST /api/auth/login -H 'Content-Type: application/json' --data '{"username":"dora","password":"dora-pw"}'
check "a disabled account cannot log in" code 401

web POST /api/auth/login -H 'Content-Type: application/json' \
  --data '{"username":"Bob","password":"bob-pw-1"}'
check "bob logs in (name in any case)" code 200
BOB=$(sid_of)
web GET /api/auth/status -b "amule.sid=$BOB"
check "status: bob, no admin, his capabilities" \
  jqt '.username == "bob" and .isAdmin == false and .capabilities == ["search","add_downloads","pause_resume"] and .hasUsers == true'
web GET /api/users -b "amule.sid=$BOB"
check "bob may not manage users: 403" eval 'code 403 && jqt ".error.code == \"forbidden\""'
web POST /api/auth/login -H 'Content-Type: application/json' \
  --data '{"username":"bob","password":"'"$PASS"'"}'
check "the admin's password is not bob's" code 401

# -------------------------------------------- capabilities in /api/v2, Torznab
V2="$BASE/api/v2"
MD4=$(printf '%032x' $((RANDOM * RANDOM)))
LINK="ed2k://|file|wa-test-$$.bin|3000000|$MD4|/"
out=$(curl -sS -u bob:bob-pw-1 -w ' %{http_code}' --data-urlencode "urls=$LINK" --data-urlencode stopped=true "$V2/torrents/add")
check "bob adds a download through /api/v2 (Basic)" [ "$out" = "Ok. 200" ]
check "the download remembers bob added it" \
  eventually 10 eval '[ "$(PSQL "SELECT added_by FROM downloads WHERE hash = '"'$MD4'"'")" = bob ]'
out=$(curl -sS -u bob:bob-pw-1 -o /dev/null -w '%{http_code}' --data "hashes=$MD4&deleteFiles=true" "$V2/torrents/delete")
check "bob has no remove_downloads: torrents/delete is 403" [ "$out" = 403 ]
out=$(curl -sS -u bob:bob-pw-1 -o /dev/null -w '%{http_code}' --data "hashes=$MD4&deletefiles=true" "$V2/torrents/delete")
check "... in lower case too" [ "$out" = 403 ]
out=$(curl -sS -u bob:bob-pw-1 -o /dev/null -w '%{http_code}' --data 'json={"dl_limit":1000}' "$V2/app/setPreferences")
check "only admins change preferences: 403 for bob" [ "$out" = 403 ]
out=$(curl -sS -u bob:bob-pw-1 -o /dev/null -w '%{http_code}' --data "limit=1000" "$V2/transfer/setDownloadLimit")
check "... and the global limits" [ "$out" = 403 ]
out=$(curl -sS -u bob:bob-pw-1 -w ' %{http_code}' "$V2/app/preferences" | tail -c 4)
check "bob may read them" [ "$out" = " 200" ]
out=$(curl -sS -u bob:bob-pw-1 -o /dev/null -w '%{http_code}' --data "hashes=$MD4" "$V2/torrents/resume")
check "bob may resume (pause_resume)" [ "$out" = 200 ]
check "the download is still there" [ "$(PSQL "SELECT count(*) FROM downloads WHERE hash = '$MD4'")" = 1 ]
JAR="$T/jar"
curl -sS -c "$JAR" -o /dev/null --data-urlencode username=bob --data-urlencode password=bob-pw-1 "$V2/auth/login"
out=$(curl -sS -b "$JAR" -o /dev/null -w '%{http_code}' --data "hashes=$MD4" "$V2/torrents/delete")
check "bob's /api/v2 session: delete is 403 too" [ "$out" = 403 ]
out=$(curl -sS -u "admin:$PASS" -o /dev/null -w '%{http_code}' --data "hashes=$MD4&deleteFiles=true" "$V2/torrents/delete")
check "the admin deletes it" [ "$out" = 200 ]
out=$(curl -sS -o /dev/null -w '%{http_code}' "$BASE/indexer/muleteer/api?t=caps&apikey=bob-pw-1")
check "Torznab takes bob's password (search)" [ "$out" = 200 ]
web POST "/api/users/$BOB_ID/api-key" "${A[@]}" --data ''
check "an admin gives bob an API key, shown once" eval 'code 200 && jqt ".apiKey | test(\"^[0-9a-f]{64}$\")"'
BOBKEY=$(jq -r .apiKey <<<"$BODY")
check "only its hash is stored" [ "$(PSQL "SELECT count(*) FROM web_users WHERE api_key_hash = '$BOBKEY'")" = 0 ]
web GET /api/auth/status -H "X-API-Key: $BOBKEY"
check "bob's key is bob (X-API-Key)" jqt '.username == "bob" and .isAdmin == false'
out=$(curl -sS -H "Authorization: Bearer $BOBKEY" -w ' %{http_code}' "$V2/app/version")
check "bob's key in /api/v2 (Bearer)" [ "$out" = "v5.0.0 200" ]
out=$(curl -sS -H "Authorization: Bearer $BOBKEY" -o /dev/null -w '%{http_code}' --data "hashes=$MD4" "$V2/torrents/delete")
check "... still without remove_downloads" [ "$out" = 403 ]
out=$(curl -sS -o /dev/null -w '%{http_code}' "$BASE/indexer/muleteer/api?t=caps&apikey=$BOBKEY")
check "Torznab takes bob's API key" [ "$out" = 200 ]
web GET /api/users "${A[@]}"
check "the list says bob has a key" jqt '.users[0].hasApiKey == true and .users[1].hasApiKey == false'
web PUT "/api/users/$BOB_ID" "${A[@]}" -H 'Content-Type: application/json' --data '{"capabilities":["add_downloads"]}'
out=$(curl -sS -o /dev/null -w '%{http_code}' "$BASE/indexer/muleteer/api?t=caps&apikey=bob-pw-1")
check "... not once bob may not search" [ "$out" = 401 ]
out=$(curl -sS -o /dev/null -w '%{http_code}' "$BASE/indexer/muleteer/api?t=caps&apikey=$BOBKEY")
check "... by his key neither" [ "$out" = 401 ]

# --------------------------------------------------------------- profile
web PUT /api/auth/profile -b "amule.sid=$BOB" -H 'Content-Type: application/json' \
  --data '{"currentPassword":"wrong","newPassword":"bob-pw-2"}'
check "profile with a wrong current password: 403" eval 'code 403 && jqt ".success == false"'
web PUT /api/auth/profile -b "amule.sid=$BOB" -H 'Content-Type: application/json' \
  --data '{"currentPassword":"bob-pw-1","newPassword":"bob-pw-2"}'
check "bob changes his password" eval 'code 200 && jqt ".success == true"'
web POST /api/auth/login -H 'Content-Type: application/json' --data '{"username":"bob","password":"bob-pw-1"}'
check "the old password no longer logs in" code 401
web POST /api/auth/login -H 'Content-Type: application/json' --data '{"username":"bob","password":"bob-pw-2"}'
check "the new one does" code 200
web GET /api/auth/status -b "amule.sid=$BOB"
check "the session that changed it lives on" jqt '.authenticated == true and .username == "bob"'
web PUT /api/auth/profile -H 'Content-Type: application/json' --data '{"currentPassword":"a","newPassword":"b"}'
check "profile without a session: 401" code 401
NEWPASS="wa-new-$RANDOM$RANDOM"
web PUT /api/auth/profile -b "amule.sid=$ADMIN" -H 'Content-Type: application/json' \
  --data "$(jq -nc --arg c "$PASS" --arg n "$NEWPASS" '{currentPassword: $c, newPassword: $n}')"
check "the admin changes web_password" eval 'code 200 && jqt ".success == true"'
check "... written hashed into muleteer.conf" grep -q '^web_password = pbkdf2-sha256\$' "$VAR/muleteer.conf"
web POST /api/auth/login -H 'Content-Type: application/json' \
  --data "$(jq -nc --arg p "$NEWPASS" '{username: "admin", password: $p}')"
check "... and the new one logs in" code 200
PASS=$NEWPASS
web PUT /api/auth/profile -H "X-API-Key: $KEY" -H 'Content-Type: application/json' \
  --data '{"currentPassword":"a","newPassword":"b"}'
check "the API key has no password to change: 409" code 409

# ------------------------------------------------ logout, expiry, delete
web POST /api/auth/logout -b "amule.sid=$REMEMBER" --data ''
check "logout: 200 and the cookie cleared" eval 'code 200 && cookie_line | grep -q "amule.sid=; Path=/; Max-Age=0"'
code 200 || diag "$CODE" "$HEAD" "$BODY"
web GET /api/auth/status -b "amule.sid=$REMEMBER"
check "the logged-out session is gone" jqt '.authenticated == false'
h=$(printf '%s' "$ADMIN" | sha256sum | cut -d' ' -f1)
PSQL "UPDATE web_sessions SET expires_at = now() - interval '1 second' WHERE sid_hash = '$h'" >/dev/null
web GET /api/auth/status -b "amule.sid=$ADMIN"
check "an expired session is no session (status)" jqt '.authenticated == false'
web GET /api/users -b "amule.sid=$ADMIN"
check "an expired session is no session (401)" code 401
web DELETE "/api/users/$BOB_ID" -H "X-API-Key: $KEY"
check "the admin deletes bob" eval 'code 200 && jqt ".success == true"'
web GET /api/auth/status -b "amule.sid=$BOB"
check "bob's sessions went with him" jqt '.authenticated == false'
web DELETE "/api/users/$BOB_ID" -H "X-API-Key: $KEY"
check "deleting him again: 404" code 404

# --------------------------------------------------------- muleteer user
U() { as_service_user env MULETEER_CONF="$VAR/muleteer.conf" "$CLI" user "$@"; }
out=$(echo carol-pw | U add carol --caps search,view_history 2>&1); rc=$?
check "muleteer user add carol" [ "$rc" = 0 ]
out=$(U list 2>&1)
check "muleteer user list shows carol and her capabilities" grep -q '^carol .* user search,view_history$' <<<"$out"
out=$(echo x | U add carol 2>&1); rc=$?
check "muleteer user add: an existing name fails (1)" [ "$rc" = 1 ]
out=$(echo x | U add carol --caps flying 2>&1); rc=$?
check "muleteer user add: an unknown capability is a usage error (2)" [ "$rc" = 2 ]
out=$(echo x | U add frank --caps search,edit_all_downloads 2>&1); rc=$?
check "muleteer user add: edit_all_downloads without view_all_downloads is a usage error (2)" \
  eval '[ "$rc" = 2 ] && grep -q "edit_all_downloads requires view_all_downloads" <<<"$out"'
check "... and frank was not added" [ "$(PSQL "SELECT count(*) FROM web_users WHERE username = 'frank'")" = 0 ]
web POST /api/auth/login -H 'Content-Type: application/json' --data '{"username":"carol","password":"carol-pw"}'
check "carol logs in over the web" code 200
CAROL=$(sid_of)
out=$(echo carol-pw-2 | U passwd carol 2>&1); rc=$?
check "muleteer user passwd carol" [ "$rc" = 0 ]
web GET /api/auth/status -b "amule.sid=$CAROL"
check "... ends her sessions" jqt '.authenticated == false'
web POST /api/auth/login -H 'Content-Type: application/json' --data '{"username":"carol","password":"carol-pw-2"}'
check "... and the new password logs in" code 200
CAROLKEY=$(U api-key carol 2>/dev/null)
web GET /api/auth/status -H "X-API-Key: $CAROLKEY"
check "muleteer user api-key carol prints her key" jqt '.username == "carol"'
out=$(U remove carol 2>&1); rc=$?
check "muleteer user remove carol" [ "$rc" = 0 ]
out=$(U list 2>&1)
check "she is gone from the list" eval '! grep -q "^carol " <<<"$out"'
out=$(U remove carol 2>&1); rc=$?
check "removing her again fails (1)" [ "$rc" = 1 ]

# ------------------------------------------------ the switch-off
printf 'web_auth_enabled = no\n' >>"$VAR/muleteer.conf"
web GET /api/auth/status
check "switched off: status says so, and loopback is the admin" \
  jqt '.authEnabled == false and .authenticated == true and .isAdmin == true and .authDisabledFor == "loopback"'
web GET /api/users
check "switched off: /api/users answers loopback without credentials" code 200
out=$(curl -sS -o /dev/null -w '%{http_code}' "$V2/app/version")
check "switched off: /api/v2 still checks" [ "$out" = 403 ]
sed -i '/^web_auth_enabled/d' "$VAR/muleteer.conf"
web GET /api/users
check "switched on again: 401" code 401

# ------------------------------------------------------- throttling
bad() { web POST /api/auth/login -H 'Content-Type: application/json' --data '{"username":"admin","password":"nope"}'; }
bad
check "a failed login: 401 with retryDelay 1000" eval 'code 401 && jqt ".success == false and .retryDelay == 1000"'
bad
check "the second: retryDelay 2000" jqt '.retryDelay == 2000'
bad
check "the third (web_max_auth_failures): 429 with Retry-After" \
  eval 'code 429 && grep -qi "^retry-after: [0-9]" <<<"$HEAD" && jqt ".retryAfter > 100"'
web POST /api/auth/login -H 'Content-Type: application/json' \
  --data "$(jq -nc --arg p "$PASS" '{username: "admin", password: $p}')"
check "while banned, even the right password: 429" code 429

finish
