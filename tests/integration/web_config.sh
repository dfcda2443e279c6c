#!/usr/bin/env bash
# web_config.sh: the web API's configuration, status, version and item
# routes (cgi-bin/config, docs/web-api.md) on the real stack: run.sh with
# PostgreSQL, muleteerd, lighttpd and config.fcgi; a real amuled seeding a
# file through the eD2K server fixture. GET /api/config shows no secret;
# PATCH refuses unknown keys and bad values with a 400 naming the key and
# changes nothing then; a PATCH of the download limit holds the download
# to it at once (the daemon's `limits` and the download's rate) and
# survives a restart, as do the other settings; the shared directories
# and the Torznab name change without a restart; the item detail of a real
# download lists its parts, its amuled source and its history; every
# route but the public ones answers 401 without credentials. TAP.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/amule.sh"
trap 'amule_stop_all; cleanup' EXIT

command -v jq >/dev/null || { echo "Bail out! jq is not installed (run.sh check installs it)"; exit 1; }

mk_tmpdir T
SEEDP=$(free_port); HP=$(free_port); MP=$(free_port)
start_server_fixture SP "$T/server.log" --highid-all || { not_ok "the server fixture starts"; finish; exit 1; }

# ---- amuled seeding a file of two parts ----
FILE="config-item-$$.bin"
head -c 12000000 /dev/urandom >"$T/$FILE"
HASH=$(rhash --printf '%{ed2k}' "$T/$FILE")
amule_start SEED "$T/seed" "$SEEDP" $((SEEDP + 1)) $((SEEDP + 2)) "$SP"
check "amuled shares the file" amule_share SEED "$T/$FILE"

# ---- Muleteer through run.sh ----
VAR="$T/var"
mkdir -p "$VAR" "$T/share"
PASS="cfg-pass-$RANDOM$RANDOM"
KEY="cfgkey$RANDOM$RANDOM$RANDOM"
cat >"$VAR/muleteer.conf" <<EOF
node_name = cfg-node
state_dir = $VAR
log_file = $VAR/log/muleteerd.log
tcp_port = $MP
udp_port = $((MP + 1))
web_password = $PASS
api_key = $KEY
servers = 127.0.0.1:$SP
filter_lan = no
torznab_name = cfg-before
EOF
chmod 0600 "$VAR/muleteer.conf"
chown_service "$VAR/muleteer.conf" 2>/dev/null || true
chown_service "$T/share" 2>/dev/null || true
if ! start_runsh "$VAR" "$T/runsh.out" MULETEER_HTTP_PORT="$HP"; then
  not_ok "run.sh starts the stack"; diag "$(tail -n 20 "$T/runsh.out")"; finish; exit 1
fi
BASE="http://127.0.0.1:$HP"
CLI=("$MT_BUILDDIR/bin/muleteer" --socket "$VAR/run/muleteerd.sock")
ctl() { local a='{}'; [ $# -ge 2 ] && a=$2; "${CLI[@]}" --json call "$1" "$a" 2>/dev/null; }

# api METHOD PATH [BODY [CURL ARGS...]]: CODE and BODY of the answer, with
# the API key unless NOKEY=1.
api() {
  local m=$1 p=$2 body=${3:-}; shift 3 2>/dev/null || shift $#
  local auth=(-H "X-API-Key: $KEY")
  [ "${NOKEY:-0}" = 1 ] && auth=()
  local args=(-s -o "$T/body" -w '%{http_code}' -X "$m" "${auth[@]}" "$@")
  if [ -n "$body" ]; then args+=(-H 'Content-Type: application/json' --data-binary "$body")
  elif [ "$m" != GET ]; then args+=(--data-binary ''); fi
  CODE=$(curl "${args[@]}" "$BASE$p")
  BODY=$(cat "$T/body")
}
jqb() { jq -r "$1" <<<"$BODY"; }
bad_param() { [ "$CODE" = 400 ] && [ "$(jqb .error.parameter)" = "$1" ] && [ "$(jqb .error.code)" = bad_parameter ]; }

# ---- credentials ----
for route in "GET /api/config" "PATCH /api/config" "POST /api/version/seen" "GET /api/item/detail/$HASH"; do
  set -- $route
  body='{"maxDownload":1}'; [ "$1" = GET ] && body=
  NOKEY=1 api "$1" "$2" "$body"
  check "$route without credentials: 401 with the JSON error object" \
    eval '[ "$CODE" = 401 ] && [ "$(jqb .error.code)" = unauthorized ]'
  NOKEY=1 api "$1" "$2" "$body" -H "X-API-Key: wrong$KEY"
  check "$route with a wrong key: 401" [ "$CODE" = 401 ]
done
check "no refused PATCH reached the configuration file" eval '! grep -q "^max_download" "$VAR/muleteer.conf"'
NOKEY=1 api GET /api/config/status
check "GET /api/config/status is public: firstRun false" \
  eval '[ "$CODE" = 200 ] && [ "$(jqb .firstRun)" = false ]'
NOKEY=1 api GET /api/version
VERSION=$(jqb .version)
check "GET /api/version is public: the version, lastSeenVersion null" \
  eval '[ "$CODE" = 200 ] && [ -n "$VERSION" ] && [ "$(jqb .lastSeenVersion)" = null ]'
NOKEY=1 api GET /api/config "" -u "admin:$PASS"
check "HTTP Basic with the web password is accepted" [ "$CODE" = 200 ]

# ---- GET /api/config ----
api GET /api/config
check "GET /api/config: 200 with the settings in force" \
  eval '[ "$CODE" = 200 ] && [ "$(jqb .maxDownload)" = 0 ] && [ "$(jqb .uploadSlots)" = 4 ] &&
        [ "$(jqb .torznabName)" = cfg-before ] && [ "$(jqb .serverAutoconnect)" = true ] &&
        [ "$(jqb .readOnly.tcpPort)" = "$MP" ] && [ "$(jqb .trackUsername)" = true ]'
check "GET /api/config holds no secret (password, API key, their names)" \
  eval '! grep -qiE "$PASS|$KEY|web_password|api_key|apiKey|password" "$T/body"'

# ---- PATCH: unknown keys and bad values ----
cp "$VAR/muleteer.conf" "$T/conf.before"
api PATCH /api/config '{"maxDownload":5,"nope":1}'
check "an unknown key: 400 naming it" bad_param nope
api PATCH /api/config '{"apiKey":"x"}'
check "a secret is no setting: 400 naming it" bad_param apiKey
api PATCH /api/config '{"maxDownload":-5}'
check "a negative limit: 400 naming maxDownload" bad_param maxDownload
api PATCH /api/config '{"maxDownload":"fast"}'
check "a limit that is no integer: 400 naming maxDownload" bad_param maxDownload
api PATCH /api/config '{"uploadSlots":1000}'
check "upload slots out of range: 400 naming uploadSlots" bad_param uploadSlots
api PATCH /api/config '{"torznabName":"../x"}'
check "a Torznab name that is no path segment: 400 naming torznabName" bad_param torznabName
api PATCH /api/config '{"sharedDirs":["relative/dir"]}'
check "a relative shared directory: 400 naming sharedDirs" bad_param sharedDirs
api PATCH /api/config '{"serverAutoconnect":"yes"}'
check "a boolean given as a string: 400 naming serverAutoconnect" bad_param serverAutoconnect
api PATCH /api/config '{"hookCompleted":"/bin/echo '"'"'unterminated"}'
check "a hook command with an open quote: 400 naming hookCompleted" bad_param hookCompleted
api PATCH /api/config '{"webhookUrls":"https://ok.example/in file:///etc/passwd"}'
check "a webhook address that is not http(s): 400 naming webhookUrls" bad_param webhookUrls
api PATCH /api/config '{"webhookSecret":"s"}'
check "the webhook secret is no setting: 400 naming it" bad_param webhookSecret
api PATCH /api/config '{"portForwarding":"pcp"}'
check "a port forwarding method that is none of off, upnp, natpmp, auto: 400 naming portForwarding" \
  bad_param portForwarding
api PATCH /api/config '{"categories":[{"name":"tv","colour":1}]}'
check "an unknown category member: 400 naming it" bad_param 'categories[0].colour'
api PATCH /api/config '{"categories":[{"name":"evil","path":"/etc"}]}'
check "a category path outside the roots: 400 naming it" bad_param 'categories[0].path'
# all or nothing: good categories around a bad one, and a setting
api PATCH /api/config '{"maxDownload":7,"categories":[{"name":"good-1","path":"good-1"},{"name":"evil","path":"/etc"},{"name":"good-2"}]}'
check "one bad category among good ones and a setting: 400 naming it" bad_param 'categories[1].path'
cats_cli() { "${CLI[@]}" categories 2>/dev/null; }
check "... no category of it was added (muleteer categories)" \
  eval '! cats_cli | grep -qE "good-1|good-2|evil"'
api GET /api/config
check "... nor in GET /api/config, whose download limit is unchanged" \
  eval '[ "$CODE" = 200 ] && [ "$(jqb "[.categories[].name] | map(select(startswith(\"good-\"))) | length")" = 0 ] &&
        [ "$(jqb .maxDownload)" = 0 ]'
api PATCH /api/config '{"categories":[{"name":"good-1"},{"name":"good-1/x","path":"/etc"}]}'
check "a bad path after a new category: 400 naming it, nothing added" \
  eval 'bad_param "categories[1].path" && ! cats_cli | grep -q good-1'
api PATCH /api/config '{"maxDownload":5'
check "a body that is no JSON: 400" [ "$CODE" = 400 ]
CODE=$(curl -s -o /dev/null -w '%{http_code}' -X PATCH -H "X-API-Key: $KEY" --data 'maxDownload=5' "$BASE/api/config")
check "a form body: 415" [ "$CODE" = 415 ]
check "refused PATCHes changed nothing in the file" cmp -s "$VAR/muleteer.conf" "$T/conf.before"
check "... nor in the daemon" eval '[ "$(ctl limits | jq .download_limit)" = 0 ]'

# ---- PATCH of several categories and a setting: all of them ----
api PATCH /api/config '{"altMaxDownload":33,"categories":[{"name":"good-1","path":"good-1"},{"name":"good-2"}]}'
check "PATCH of two new categories and a setting: 200 with all of them" \
  eval '[ "$CODE" = 200 ] && [ "$(jqb .altMaxDownload)" = 33 ] &&
        [ "$(jqb ".categories[] | select(.name == \"good-1\") | .path")" = "$VAR/incoming/good-1" ] &&
        [ "$(jqb ".categories[] | select(.name == \"good-2\") | .path")" = "$VAR/incoming/good-2" ]'
check "... muleteer categories lists both" eval 'cats_cli | grep -q good-1 && cats_cli | grep -q good-2'

# ---- PATCH of the hooks (docs/hooks.md): saved so that the file reads
# them back whole, in force at once (a test event runs the program) ----
HOOK_OUT="$T/hook.out"
printf '#!/bin/sh\nprintf "%%s|%%s\\n" "$1" "$2" >> "%s"\n' "$HOOK_OUT" > "$T/hook.sh"
chmod 0755 "$T/hook.sh"; chmod 0777 "$T"
HOOK_CMD="\"$T/hook.sh\" %e \"%e %n\""
api PATCH /api/config "$(jq -nc --arg c "$HOOK_CMD" '{hookAdded: $c, hookTimeout: 7, webhookUrls: "http://127.0.0.1:9/in"}')"
check "PATCH hookAdded, hookTimeout, webhookUrls: 200 with them" \
  eval '[ "$CODE" = 200 ] && [ "$(jqb .hookAdded)" = "$HOOK_CMD" ] && [ "$(jqb .hookTimeout)" = 7 ] &&
        [ "$(jqb .webhookUrls)" = "http://127.0.0.1:9/in" ]'
check "... the file holds the command in quotes of its own" \
  grep -qxF "hook_added = \"$HOOK_CMD\"" "$VAR/muleteer.conf"
hook_ran() { grep -qx "added|added web-config-test" "$HOOK_OUT" 2>/dev/null; }
"${CLI[@]}" hooks test added --name web-config-test >/dev/null 2>&1
check "... and the daemon runs it at once (muleteer hooks test added)" eventually 10 hook_ran
api PATCH /api/config '{"hookAdded":"","webhookUrls":""}'
check "PATCH hookAdded and webhookUrls empty: none again" \
  eval '[ "$CODE" = 200 ] && [ "$(jqb .hookAdded)" = "" ] && [ "$(jqb .webhookUrls)" = "" ]'

# ---- PATCH of the download limit: at once, on a real download ----
api PATCH /api/config '{"maxDownload":20}'
check "PATCH maxDownload 20: 200, in force, saved" \
  eval '[ "$CODE" = 200 ] && [ "$(jqb .maxDownload)" = 20 ] && [ "$(jqb .saved)" = true ]'
check "the daemon holds the downloads to 20 KiB/s at once (limits)" \
  eval '[ "$(ctl limits | jq .download_limit)" = 20 ]'
check "the configuration file says max_download = 20" grep -qx 'max_download = 20' "$VAR/muleteer.conf"
ctl add "{\"link\":\"ed2k://|file|$FILE|12000000|$HASH|/|sources,127.0.0.1:$SEEDP|/\"}" >/dev/null
received() { ctl downloads | jq ".downloads[] | select(.hash == \"$HASH\") | .downloaded"; }
started() { r=$(received); [ -n "$r" ] && [ "$r" -gt 0 ]; }
if eventually 90 started; then
  ok "the download from amuled starts"
  sleep 3
  r0=$(received); sleep 10; r1=$(received)
  rate=$(( (r1 - r0) / 10 ))
  diag "download rate under a 20 KiB/s limit: $rate bytes/s"
  check "it receives at most about 20 KiB/s (and something)" eval '[ "$rate" -gt 0 ] && [ "$rate" -le 26000 ]'
else
  not_ok "the download from amuled starts"; diag "$(ctl downloads)"
fi

# ---- the item detail of the download ----
with_source() { api GET "/api/item/detail/${HASH^^}"; [ "$CODE" = 200 ] && [ "$(jqb '.sources | length')" -ge 1 ] && [ "$(jqb '.history | length')" -ge 1 ]; }
eventually 30 with_source
check "item detail: 200, the download (upper-case hash accepted)" \
  eval '[ "$CODE" = 200 ] && [ "$(jqb .hash)" = "$HASH" ] && [ "$(jqb .raw.name)" = "$FILE" ] && [ "$(jqb .active)" = true ]'
check "item detail: its two parts" eval '[ "$(jqb ".parts.states | length")" = 2 ]'
check "item detail: its source is amuled, named with its software and state" \
  eval 'jqb ".sources[0].software" | grep -q "^aMule " && [ -n "$(jqb ".sources[0].state")" ]'
check "item detail: its names and its history row" \
  eval '[ "$(jqb ".names[0]")" = "$FILE" ] && [ "$(jqb ".history[0].status")" = downloading ]'
diag "source: $(jq -c '.sources[0]' <<<"$BODY" 2>/dev/null)"
api GET /api/item/detail/0123456789abcdef0123456789abcdef
check "item detail of an unknown hash: 404" [ "$CODE" = 404 ]
api GET /api/item/detail/not-a-hash
check "item detail of a bad hash: 400 naming it" bad_param hash

# ---- the other settings, at once ----
head -c 300000 /dev/urandom >"$T/share/new-shared-$$.bin"
chown_service "$T/share/new-shared-$$.bin" 2>/dev/null || true
api PATCH /api/config "{\"uploadSlots\":7,\"trackUsername\":false,\"historyRetentionDays\":30,
  \"torznabName\":\"cfg-after\",\"torznabCacheTime\":60,\"maxConnectionsPerIp\":5,
  \"sharedDirs\":[\"$T/share\"],\"categories\":[{\"name\":\"tv\",\"path\":\"tv-files\"}]}"
check "PATCH of several settings and a category: 200 with them" \
  eval '[ "$CODE" = 200 ] && [ "$(jqb .uploadSlots)" = 7 ] && [ "$(jqb .trackUsername)" = false ] &&
        [ "$(jqb .sharedDirs[0])" = "$T/share" ] && [ "$(jqb ".categories[] | select(.name == \"tv\") | .path")" = "$VAR/incoming/tv-files" ]'
check "the daemon uses 7 upload slots at once (settings)" eval '[ "$(ctl settings | jq .upload_slots)" = 7 ]'
is_shared() { ctl shared | jq -e ".files[] | select(.name == \"new-shared-$$.bin\")" >/dev/null; }
check "the new shared directory is scanned without a restart" eventually 30 is_shared
caps() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/indexer/cfg-after/api?t=caps&apikey=$KEY")" = 200 ]; }
check "the indexer answers under its new Torznab name without a restart" caps
check "the file holds the settings" \
  eval 'grep -qx "upload_slots = 7" "$VAR/muleteer.conf" && grep -qx "track_username = no" "$VAR/muleteer.conf" &&
        grep -qx "torznab_name = cfg-after" "$VAR/muleteer.conf"'

# ---- POST /api/config/check-path (aMuTorrent's category form) ----
mkdir -p "$VAR/incoming/cp-dir" "$T/cp-outside"
chown_service "$VAR/incoming/cp-dir" 2>/dev/null || true
ln -s "$T/cp-outside" "$VAR/incoming/cp-link"
cp_is() { # EXISTS READABLE WRITABLE INSIDE: the answer's flags
  [ "$CODE" = 200 ] && [ "$(jqb '[.exists, .readable, .writable, .insideRoots] | map(tostring) | join(" ")')" = "$*" ] &&
    [ "$(jqb .isDocker)" = false ]
}
api POST /api/config/check-path "{\"path\":\" $VAR/incoming/cp-dir \"}"
check "check-path: a directory in incoming exists, may be read and written, is inside the roots" \
  eval 'cp_is true true true true && [ "$(jqb .path)" = "$VAR/incoming/cp-dir" ] && [ "$(jqb .error)" = null ]'
api POST /api/config/check-path '{"path":"cp-dir/../cp-dir"}'
check "check-path: a relative path is under incoming_dir, normalized" \
  eval 'cp_is true true true true && [ "$(jqb .path)" = "$VAR/incoming/cp-dir" ]'
api POST /api/config/check-path '{"path":"cp-new/sub"}'
check "check-path: a missing directory inside the roots: exists false, inside" cp_is false false false true
check "... and nothing was made" [ ! -e "$VAR/incoming/cp-new" ]
echo x >"$VAR/incoming/cp-file"
api POST /api/config/check-path '{"path":"cp-file"}'
check "check-path: a file is no directory" eval 'cp_is false false false true && [ "$(jqb .error)" = "not a directory" ]'
api POST /api/config/check-path "{\"path\":\"$T/cp-outside\"}"
check "check-path as the admin: a directory outside the roots exists but is outside" \
  eval '[ "$(jqb .exists)" = true ] && [ "$(jqb .insideRoots)" = false ] && [ "$(jqb .error)" != null ]'
api POST /api/config/check-path '{"path":"cp-link"}'
check "check-path as the admin: a link inside incoming pointing out is outside" \
  eval '[ "$(jqb .exists)" = true ] && [ "$(jqb .insideRoots)" = false ]'
api POST /api/config/check-path '{}'
check "check-path without a path: 400 naming it" bad_param path
api POST /api/config/check-path '{"path":7}'
check "check-path with a path that is no string: 400 naming it" bad_param path
api POST /api/config/check-path '{"path":"a\u0001b"}'
check "check-path with a control character: 400 naming path" bad_param path
NOKEY=1 api POST /api/config/check-path '{"path":"cp-dir"}'
check "check-path without credentials: 401" [ "$CODE" = 401 ]
# an account that manages categories but is no admin learns nothing
# outside the roots; one that may not manage them is refused
U() { as_service_user env MULETEER_CONF="$VAR/muleteer.conf" "$MT_BUILDDIR/bin/muleteer" user "$@"; }
echo cp-pw | U add cpman --caps manage_categories >/dev/null 2>&1
echo cp-pw | U add cpview --caps view_shared >/dev/null 2>&1
sid_of() {
  curl -sS -D - -o /dev/null -H 'Content-Type: application/json' \
    --data "$(jq -nc --arg u "$1" '{username: $u, password: "cp-pw"}')" "$BASE/api/auth/login" |
    tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: amule\.sid=\([^;]*\);.*/\1/p' | head -n 1
}
SID_MAN=$(sid_of cpman); SID_VIEW=$(sid_of cpview)
check "cpman and cpview log in" test -n "$SID_MAN" -a -n "$SID_VIEW"
NOKEY=1 api POST /api/config/check-path '{"path":"cp-dir"}' -b "amule.sid=$SID_MAN"
check "check-path as a category manager: a directory in incoming is told" cp_is true true true true
for p in "$T/cp-outside" cp-link /etc "$T/cp-outside/../cp-outside"; do
  NOKEY=1 api POST /api/config/check-path "$(jq -nc --arg p "$p" '{path: $p}')" -b "amule.sid=$SID_MAN"
  check "check-path as a category manager: $p outside the roots is not told of" \
    eval 'cp_is false false false false && ! grep -q "cp-outside\|/etc" <<<"$(jqb .error)"'
done
NOKEY=1 api POST /api/config/check-path '{"path":"cp-dir"}' -b "amule.sid=$SID_VIEW"
check "check-path without manage_categories: 403" [ "$CODE" = 403 ]

# ---- version seen ----
api POST /api/version/seen
check "POST /api/version/seen: the version" eval '[ "$CODE" = 200 ] && [ "$(jqb .lastSeenVersion)" = "$VERSION" ]'
NOKEY=1 api GET /api/version
check "GET /api/version then says it was seen" [ "$(jqb .lastSeenVersion)" = "$VERSION" ]

# ---- a restart keeps it all ----
stop_runsh "$RUNSH_PID" || not_ok "run.sh stops"
if ! start_runsh "$VAR" "$T/runsh2.out" MULETEER_HTTP_PORT="$HP"; then
  not_ok "run.sh starts again"; diag "$(tail -n 20 "$T/runsh2.out")"; finish; exit 1
fi
check "after a restart the daemon still holds downloads to 20 KiB/s" \
  eval '[ "$(ctl limits | jq .download_limit)" = 20 ]'
api GET /api/config
check "after a restart GET /api/config shows every change" \
  eval '[ "$(jqb .maxDownload)" = 20 ] && [ "$(jqb .uploadSlots)" = 7 ] && [ "$(jqb .torznabName)" = cfg-after ] &&
        [ "$(jqb .historyRetentionDays)" = 30 ] && [ "$(jqb ".categories[] | select(.name == \"tv\") | .name")" = tv ]'
NOKEY=1 api GET /api/version
check "after a restart lastSeenVersion is kept" [ "$(jqb .lastSeenVersion)" = "$VERSION" ]

stop_runsh "$RUNSH_PID"
finish
