#!/usr/bin/env bash
# webcaps.sh: accounts' capabilities where the routes enforce them
# (docs/web-api.md, "Where they are enforced"), on one real stack: run.sh
# brings up PostgreSQL, muleteerd and lighttpd with every FastCGI program.
# alice adds a download; bob, without view_all_downloads, sees it nowhere
# (torrents/info, properties, sync/maindata, history, item detail); carol,
# with view_all_downloads but without edit_all_downloads, sees it but can
# neither pause, resume, delete nor rename it; without clear_history a
# history DELETE is 403, without view_history the history, without
# view_statistics the metrics and /metrics, without view_logs the log;
# settings are the admin's alone; dave with every capability and the
# admin see and do everything; an account's API key carries its
# capabilities. Every refusal answers in its protocol's format: /api/v2 a
# 403 "Forbidden" text, the web API a 403 JSON error object. TAP.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
trap cleanup EXIT

command -v jq >/dev/null || { echo "Bail out! jq is not installed (run.sh check installs it)"; exit 1; }

mk_tmpdir T
HP=$(free_port); MP=$(free_port)
VAR="$T/var"
mkdir -p "$VAR"
PASS="wc-pass-$RANDOM$RANDOM"
KEY="wckey$RANDOM$RANDOM$RANDOM"
cat >"$VAR/muleteer.conf" <<EOF
node_name = wc-node
state_dir = $VAR
log_file = $VAR/log/muleteerd.log
tcp_port = $MP
udp_port = $((MP + 1))
web_username = admin
web_password = $PASS
api_key = $KEY
server_autoconnect = no
metrics_allow = key
EOF
chmod 0600 "$VAR/muleteer.conf"
chown_service "$VAR/muleteer.conf" 2>/dev/null || true
if ! start_runsh "$VAR" "$T/runsh.out" MULETEER_HTTP_PORT="$HP"; then
  not_ok "run.sh starts the stack"; diag "$(tail -n 20 "$T/runsh.out")"; finish; exit 1
fi
DB=$(conf_key "$VAR" database)
BASE="http://127.0.0.1:$HP"
V2="$BASE/api/v2"
CLI="$MT_BUILDDIR/bin/muleteer"
ADMIN=(-H "X-API-Key: $KEY")
PSQL() { as_service_user psql "$DB" -XAtq -c "$1" 2>/dev/null; }
U() { as_service_user env MULETEER_CONF="$VAR/muleteer.conf" "$CLI" user "$@"; }

# req METHOD URL [curl args...]: sets CODE, CTYPE and BODY.
req() {
  local m=$1 u=$2; shift 2
  local out
  out=$(curl -sS -m 30 -X "$m" -o "$T/body" -w '%{http_code} %{content_type}' "$@" "$u")
  CODE=${out%% *} CTYPE=${out#* } BODY=$(cat "$T/body" 2>/dev/null)
}
jqt() { jq -e "$@" <<<"$BODY" >/dev/null 2>&1; }
ok200() { [ "$CODE" = 200 ] && jqt "$@"; }
# qbit_forbidden: /api/v2's refusal, as qBittorrent answers it.
qbit_forbidden() { [ "$CODE" = 403 ] && [ "$BODY" = Forbidden ] && [[ $CTYPE == text/plain* ]]; }
# json_forbidden: the web API's refusal: a 403 JSON error object.
json_forbidden() {
  [ "$CODE" = 403 ] && [[ $CTYPE == application/json* ]] && jqt '.error.code == "forbidden" and (.error.message | length > 0)'
}
md4() { printf '%032x' "$1"; }
link() { echo "ed2k://|file|$1|$((3000000 + $2))|$(md4 "$2")|/"; }
state_of() { PSQL "SELECT state FROM downloads WHERE node = 'wc-node' AND hash = '$1'"; }
exists() { [ "$(PSQL "SELECT count(*) FROM downloads WHERE node = 'wc-node' AND hash = '$1'")" = 1 ]; }
# settle: time for a command that was not sent to have shown if it had been
settle() { sleep 2; }

# --------------------------------------------------------------- accounts
out=$(echo alice-pw | U add alice --caps add_downloads,pause_resume,remove_downloads,rename_files,view_history,clear_history 2>&1)
check "muleteer user add alice" [ $? = 0 ]
out=$(echo bob-pw | U add bob --caps pause_resume,remove_downloads,rename_files,view_history 2>&1)
check "muleteer user add bob (no view_all_downloads, clear_history, view_statistics, view_logs)" [ $? = 0 ]
req POST "$BASE/api/users" "${ADMIN[@]}" -H 'Content-Type: application/json' \
  --data '{"username":"carol","password":"carol-pw","capabilities":["view_all_downloads","pause_resume","remove_downloads","rename_files","view_history"]}'
check "POST /api/users carol (view_all_downloads, no edit_all_downloads)" [ "$CODE" = 201 ]
req POST "$BASE/api/users" "${ADMIN[@]}" --data-urlencode username=dave \
  --data-urlencode password=dave-pw --data-urlencode capabilities=all
check "POST /api/users dave with every capability, no admin" \
  eval '[ "$CODE" = 201 ] && jqt ".user.isAdmin == false and (.user.capabilities | length == 18)"'
out=$(echo erin-pw | U add erin --caps search 2>&1)
check "muleteer user add erin (search alone)" [ $? = 0 ]
BOB_ID=$(PSQL "SELECT id FROM web_users WHERE username = 'bob'")
DAVE_ID=$(PSQL "SELECT id FROM web_users WHERE username = 'dave'")
A=(-u alice:alice-pw); B=(-u bob:bob-pw); C=(-u carol:carol-pw); D=(-u dave:dave-pw); E=(-u erin:erin-pw)

# -------------------------------------------------------------- downloads
MA=$(md4 4101); MY=$(md4 4102)
req POST "$V2/torrents/add" "${A[@]}" --data-urlencode "urls=$(link Alice.File.mkv 4101)"
check "alice adds a download" [ "$CODE $BODY" = "200 Ok." ]
req POST "$V2/torrents/add" "${ADMIN[@]}" --data-urlencode "urls=$(link Admin.File.mkv 4102)"
check "the admin adds one" [ "$CODE $BODY" = "200 Ok." ]
check "both are listed, alice's as hers" \
  eventually 15 eval '[ "$(PSQL "SELECT string_agg(added_by, '"','"' ORDER BY hash) FROM downloads WHERE node = '"'wc-node'"'")" = "alice,api" ]'
check "both have their history row" \
  eventually 15 eval '[ "$(PSQL "SELECT count(DISTINCT hash) FROM history WHERE node = '"'wc-node'"'")" = 2 ]'

hashes() { jq -r '[.[].hash[0:32]] | sort | join(",")' <<<"$BODY"; }
# ------------------------------------------------- what each one may see
req GET "$V2/torrents/info" "${A[@]}"
check "alice's torrents/info: her download alone" eval '[ "$CODE" = 200 ] && [ "$(hashes)" = "$MA" ]'
req GET "$V2/torrents/info" "${B[@]}"
check "bob's torrents/info: nothing (no view_all_downloads)" eval '[ "$CODE" = 200 ] && [ "$BODY" = "[]" ]'
req GET "$V2/torrents/info?sort=name&hashes=$MA|$MY" "${B[@]}"
check "... sorted and by hashes neither" eval '[ "$CODE" = 200 ] && [ "$BODY" = "[]" ]'
req GET "$V2/torrents/info?filter=all&category=" "${B[@]}"
check "... nor filtered" eval '[ "$CODE" = 200 ] && [ "$BODY" = "[]" ]'
req GET "$V2/torrents/info" "${C[@]}"
check "carol's torrents/info: both (view_all_downloads)" \
  eval '[ "$CODE" = 200 ] && [ "$(hashes)" = "$(printf "%s\n" "$MA" "$MY" | sort | paste -sd,)" ]'
req GET "$V2/torrents/info" "${ADMIN[@]}"
check "the admin's: both" eval '[ "$CODE" = 200 ] && [ "$(jq length <<<"$BODY")" = 2 ]'
req GET "$V2/torrents/properties?hash=$MA" "${B[@]}"
check "bob: alice's properties are 404" eval '[ "$CODE $BODY" = "404 Not Found" ]'
req GET "$V2/torrents/files?hash=$MA" "${B[@]}"
check "... her files too" eval '[ "$CODE $BODY" = "404 Not Found" ]'
req GET "$V2/torrents/pieceStates?hash=$MA" "${B[@]}"
check "... and her pieces" eval '[ "$CODE $BODY" = "404 Not Found" ]'
req GET "$V2/torrents/properties?hash=$MA" "${A[@]}"
check "alice reads her properties" ok200 '.save_path != null'

req GET "$V2/sync/maindata?rid=0" "${B[@]}"
check "bob's sync/maindata: a full update without torrents" \
  ok200 '.full_update == true and ((.torrents // {}) | length == 0)'
req GET "$V2/sync/maindata?rid=0" "${A[@]}"
check "alice's: her download alone" ok200 --arg h "$MA" '(.torrents | keys | map(.[0:32])) == [$h]'
ARID=$(jq -r .rid <<<"$BODY")
req GET "$V2/sync/maindata?rid=0" "${D[@]}"
check "dave's: both" ok200 '.torrents | length == 2'

req GET "$BASE/api/history" "${B[@]}"
check "bob's history: none of alice's or the admin's rows" ok200 '.total == 0 and (.entries | length == 0)'
req GET "$BASE/api/history/all" "${B[@]}"
check "... /all neither" ok200 '.entries | length == 0'
req GET "$BASE/api/history/$MA" "${B[@]}"
check "... alice's hash is 404" eval '[ "$CODE" = 404 ] && jqt ".error.code == \"not_found\""'
req GET "$BASE/api/history/stats" "${B[@]}"
check "... stats count nothing" ok200 '.total == 0'
req GET "$BASE/api/history/export?format=csv" "${B[@]}"
check "... the CSV has the header alone" eval '[ "$CODE" = 200 ] && [ "$(wc -l <<<"$BODY")" = 1 ]'
req GET "$BASE/api/history" "${A[@]}"
check "alice's history: her row" ok200 --arg h "$MA" '.total == 1 and .entries[0].hash == $h'
req GET "$BASE/api/history/stats" "${A[@]}"
check "... her stats" ok200 '.total == 1'
req GET "$BASE/api/history" "${C[@]}"
check "carol's history: both" ok200 '.total == 2'
req GET "$BASE/api/history" "${ADMIN[@]}"
check "the admin's: both" ok200 '.total == 2'
req GET "$BASE/api/history" "${D[@]}"
check "dave's: both" ok200 '.total == 2'
# Each history process keeps answered pages until the history changes:
# after the admin's page was kept by every process (8 requests over 4),
# bob's same request still gets his own rows, not the kept page.
for i in 1 2 3 4 5 6 7 8; do req GET "$BASE/api/history?limit=7" "${ADMIN[@]}"; done
check "the admin's page of 7, asked 8 times: both rows" ok200 '.total == 2'
bob_kept_ok=1
for i in 1 2 3 4 5 6 7 8; do
  req GET "$BASE/api/history?limit=7" "${B[@]}"
  ok200 '.total == 0 and (.entries | length == 0)' || bob_kept_ok=0
done
check "bob's same page, 8 times: never the admin's kept answer" [ "$bob_kept_ok" = 1 ]

req GET "$BASE/api/item/detail/$MA" "${B[@]}"
check "bob: alice's item detail is 404" eval '[ "$CODE" = 404 ] && jqt ".error.code == \"not_found\""'
req GET "$BASE/api/item/detail/$MA" "${A[@]}"
check "alice reads her item detail" ok200 --arg h "$MA" '.hash == $h'
req GET "$BASE/api/item/detail/$MY" "${C[@]}"
check "carol reads the admin's" ok200 --arg h "$MY" '.hash == $h'

# ------------------------------------------ what each one may change
S0=$(state_of "$MA")
req POST "$V2/torrents/pause" "${C[@]}" --data "hashes=$MA"
check "carol's pause of alice's download: 200, as for an unknown hash" [ "$CODE" = 200 ]
settle
check "... and it is not paused (no edit_all_downloads)" [ "$(state_of "$MA")" = "$S0" ]
req POST "$V2/torrents/pause" "${C[@]}" --data "hashes=all"
settle
check "... nor by hashes=all" [ "$(state_of "$MA")" = "$S0" ]
req POST "$V2/torrents/pause" "${B[@]}" --data "hashes=$MA"
settle
check "... nor by bob's" [ "$(state_of "$MA")" = "$S0" ]
req POST "$V2/torrents/pause" "${A[@]}" --data "hashes=$MA"
check "alice pauses it" eval '[ "$CODE" = 200 ] && eventually 10 eval "[ \"\$(state_of $MA)\" = paused ]"'
req POST "$V2/torrents/resume" "${C[@]}" --data "hashes=$MA"
settle
check "carol cannot resume it" [ "$(state_of "$MA")" = paused ]
req POST "$V2/torrents/delete" "${C[@]}" --data "hashes=$MA&deleteFiles=true"
check "carol's delete: 200" [ "$CODE" = 200 ]
settle
check "... and it is still there" exists "$MA"
req POST "$V2/torrents/delete" "${B[@]}" --data "hashes=$MA|$MY&deleteFiles=true"
settle
check "bob's delete of both: both still there" eval 'exists "$MA" && exists "$MY"'
req POST "$V2/torrents/rename" "${C[@]}" --data "hash=$MA&name=Carol.mkv"
check "carol renames alice's download (one hash): 403 Forbidden" qbit_forbidden
req POST "$V2/torrents/rename" "${B[@]}" --data "hash=$MA&name=Bob.mkv"
check "bob, who cannot see it: 404" eval '[ "$CODE $BODY" = "404 Not Found" ]'
req POST "$V2/torrents/rename" "${A[@]}" --data "hash=$MA&name=Alice.Renamed.mkv"
check "alice renames it" [ "$CODE" = 200 ]
req POST "$V2/torrents/resume" "${D[@]}" --data "hashes=$MA"
check "dave (edit_all_downloads) resumes it" \
  eval '[ "$CODE" = 200 ] && eventually 10 eval "[ \"\$(state_of $MA)\" != paused ]"'

# -------------------------------------------- capabilities of routes
req DELETE "$BASE/api/history/$MA" "${B[@]}"
check "bob (no clear_history) deletes history: 403 JSON" json_forbidden
req DELETE "$BASE/api/history/$MA" "${C[@]}"
check "... carol neither" json_forbidden
req GET "$BASE/api/history" "${E[@]}"
check "erin (no view_history): the history is 403 JSON" json_forbidden
req GET "$BASE/api/history/$MA" "${E[@]}"
check "... one hash's too" json_forbidden
req GET "$BASE/api/history/export?format=csv" "${E[@]}"
check "... and the CSV" json_forbidden
req DELETE "$BASE/api/history/$MY" "${A[@]}"
check "alice cannot delete the admin's history: 404" eval '[ "$CODE" = 404 ]'
check "... which stays" [ "$(PSQL "SELECT count(*) FROM history WHERE hash = '$MY'")" -ge 1 ]
req DELETE "$BASE/api/history/$MA" "${A[@]}"
check "alice deletes her own" ok200 '.success == true'

for r in stats speed-history history dashboard; do
  req GET "$BASE/api/metrics/$r?range=24h" "${B[@]}"
  check "bob (no view_statistics): /api/metrics/$r is 403 JSON" json_forbidden
done
req GET "$BASE/api/metrics/stats?range=24h" "${D[@]}"
check "dave reads the metrics" ok200 'has("totalUploaded")'
req GET "$BASE/api/metrics/stats?range=24h" "${ADMIN[@]}"
check "the admin too" ok200 'has("totalUploaded")'

req POST "$V2/torrents/deleteTags" "${C[@]}" --data "tags=x"
check "carol (no manage_categories) deletes a tag: 403 Forbidden" qbit_forbidden
req POST "$V2/torrents/createTags" "${D[@]}" --data "tags=x"
check "dave creates one" [ "$CODE" = 200 ]

req GET "$V2/log/main" "${B[@]}"
check "bob (no view_logs): log/main is 403 Forbidden" qbit_forbidden
req GET "$V2/log/peers" "${B[@]}"
check "... log/peers too" qbit_forbidden
req GET "$V2/log/main" "${D[@]}"
check "dave reads the log" ok200 'type == "array"'

req GET "$BASE/api/config" "${D[@]}"
check "GET /api/config: settings are an admin's, 403 JSON for dave" json_forbidden
req PATCH "$BASE/api/config" "${D[@]}" -H 'Content-Type: application/json' --data '{"trackUsername":true}'
check "... PATCH too" json_forbidden
req GET "$BASE/api/config" "${ADMIN[@]}"
check "the admin reads them" [ "$CODE" = 200 ]
req GET "$BASE/api/config/status"
check "/api/config/status stays public" [ "$CODE" = 200 ]

# ----------------------------------------------- an account's API key
req POST "$BASE/api/users/$BOB_ID/api-key" "${ADMIN[@]}" --data ''
BKEY=$(jq -r .apiKey <<<"$BODY")
req POST "$BASE/api/users/$DAVE_ID/api-key" "${ADMIN[@]}" --data ''
DKEY=$(jq -r .apiKey <<<"$BODY")
req GET "$V2/torrents/info" -H "Authorization: Bearer $BKEY"
check "bob's API key sees no download" eval '[ "$CODE" = 200 ] && [ "$BODY" = "[]" ]'
req GET "$BASE/api/history" -H "X-API-Key: $BKEY"
check "... no history of others" ok200 '.total == 0'
req GET "$BASE/api/metrics/stats?range=24h" -H "X-API-Key: $BKEY"
check "... no metrics: 403 JSON" json_forbidden
req GET "$V2/log/main" -H "X-API-Key: $BKEY"
check "... no log: 403 Forbidden" qbit_forbidden
req GET "$BASE/api/metrics/stats?range=24h" -H "X-API-Key: $DKEY"
check "dave's API key reads the metrics" ok200 'has("totalUploaded")'
req GET "$BASE/metrics" -H "X-API-Key: $BKEY"
check "... and no Prometheus /metrics (metrics_allow = key): 403 JSON" json_forbidden
req GET "$BASE/metrics" -H "X-API-Key: $DKEY"
check "dave's key reads /metrics" eval '[ "$CODE" = 200 ] && grep -q "^muleteer_up " <<<"$BODY"'
req GET "$V2/torrents/info" -H "X-API-Key: $DKEY"
check "... and sees both downloads" eval '[ "$CODE" = 200 ] && [ "$(jq length <<<"$BODY")" = 2 ]'

# -------------------------- a download that goes, in alice's sync alone
req POST "$V2/torrents/delete" "${ADMIN[@]}" --data "hashes=$MA&deleteFiles=true"
check "the admin deletes alice's download" eval '[ "$CODE" = 200 ] && eventually 10 eval "! exists $MA"'
req GET "$V2/sync/maindata?rid=$ARID" "${A[@]}"
check "alice's next sync/maindata says it was removed" \
  ok200 --arg h "$MA" '(.torrents_removed // []) | map(.[0:32]) == [$h]'
req GET "$V2/sync/maindata?rid=0" "${B[@]}"
BRID=$(jq -r .rid <<<"$BODY")
req POST "$V2/torrents/delete" "${ADMIN[@]}" --data "hashes=$MY&deleteFiles=true"
check "the admin deletes its own" eval '[ "$CODE" = 200 ] && eventually 10 eval "! exists $MY"'
req GET "$V2/sync/maindata?rid=$BRID" "${B[@]}"
check "bob's sync/maindata never names it" ok200 '(.torrents_removed // []) | length == 0'

finish
