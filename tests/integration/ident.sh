#!/usr/bin/env bash
# ident.sh: who a web caller is, and what the running programs notice,
# through the real stack (run.sh: PostgreSQL, muleteerd, lighttpd and
# cgi-bin/qbit): any user name logs in with the web password and the
# downloads it adds are attributed to that name in history (sonarr and
# radarr side by side, HTTP Basic and the API key too); a wrong password
# still Fails. and still leads to a ban; torrents/info sorts names in
# qBittorrent's natural order; a password changed by `muleteer passwd`
# works at once, with no restart of lighttpd or the FastCGI programs. TAP.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
trap cleanup EXIT

CLI="$MT_BUILDDIR/bin/muleteer"
BAN=10
mk_tmpdir T
HP=$(free_port); MP=$(free_port)
VAR="$T/var"
mkdir -p "$VAR"
PASS="id-pass-$RANDOM$RANDOM"
KEY="idkey$RANDOM$RANDOM$RANDOM"
cat >"$VAR/muleteer.conf" <<EOF
node_name = id-node
state_dir = $VAR
log_file = $VAR/log/muleteerd.log
tcp_port = $MP
udp_port = $((MP + 1))
server_autoconnect = no
web_username = admin
web_password = $PASS
api_key = $KEY
web_max_auth_failures = 3
web_ban_duration = $BAN
EOF
chmod 0600 "$VAR/muleteer.conf"
chown_service "$VAR/muleteer.conf" 2>/dev/null || true
if ! start_runsh "$VAR" "$T/runsh.out" MULETEER_HTTP_PORT="$HP"; then
  not_ok "run.sh starts the stack"; diag "$(tail -n 20 "$T/runsh.out")"; finish; exit 1
fi
DB=$(conf_key "$VAR" database)
API="http://127.0.0.1:$HP/api/v2"
PSQL() { as_service_user psql "$DB" -XAtq -c "$1" 2>/dev/null; }
BANNED="Your IP address has been banned after too many failed authentication attempts."

# call PATH [curl args...]: sets CODE and BODY; no cookie unless given.
call() {
  local p=$1; shift
  CODE=$(curl -sS -o "$T/body" -w '%{http_code}' "$@" "$API/$p")
  BODY=$(cat "$T/body")
}
is() { [ "$CODE" = "$1" ] && [ "$BODY" = "$2" ]; }
# login JAR USER PASSWORD [curl args...]
login() { call auth/login -c "$1" --data-urlencode "username=$2" --data-urlencode "password=$3" "${@:4}"; }
md4() { printf '%032x' "$1"; }
# link NAME N: an eD2K link to a file that nobody shares (it stays queued).
link() { echo "ed2k://|file|$1|$((1000000 + $2))|$(md4 "$2")|/"; }
# added_by N: the attribution of download N's history row.
added_by() { PSQL "SELECT string_agg(added_by, ',') FROM history WHERE node = 'id-node' AND hash = '$(md4 "$1")'"; }
added_by_is() { [ "$(added_by "$1")" = "$2" ]; }

# ---------------------------------------------------- any user name
login "$T/sonarr" sonarr "$PASS"
check "login as sonarr (web_username is admin): Ok." is 200 Ok.
login "$T/radarr" radarr "$PASS"
check "login as radarr in a second session: Ok." is 200 Ok.
check "each session remembers its name" \
  [ "$(PSQL "SELECT string_agg(username, ',' ORDER BY username) FROM web_sessions")" = radarr,sonarr ]
login "$T/wrong" sonarr "not-$PASS"
check "a wrong password: Fails." is 200 Fails.
login "$T/wrong" admin ""
check "an empty password: Fails." is 200 Fails.

call torrents/add -b "$T/sonarr" --data-urlencode "urls=$(link Show.S01E01.mkv 101)" --data-urlencode paused=true
check "sonarr's session adds a download" is 200 Ok.
call torrents/add -b "$T/radarr" --data-urlencode "urls=$(link Film.2024.mkv 102)" --data-urlencode paused=true
check "radarr's session adds a download" is 200 Ok.
call torrents/add -u "lidarr:$PASS" --data-urlencode "urls=$(link Album.flac 103)" --data-urlencode paused=true
check "HTTP Basic as lidarr adds a download" is 200 Ok.
call torrents/add -H "Authorization: Bearer $KEY" --data-urlencode "urls=$(link Key.bin 104)" \
  --data-urlencode paused=true
check "the API key adds a download" is 200 Ok.
check "history: the download sonarr added is sonarr's" eventually 10 added_by_is 101 sonarr
check "history: the download radarr added is radarr's" eventually 10 added_by_is 102 radarr
check "history: Basic as lidarr is lidarr's" eventually 10 added_by_is 103 lidarr
check "history: the API key's is api's" eventually 10 added_by_is 104 api
check "torrents/info lists them to either session" \
  eval 'call torrents/info -b "$T/radarr" && [ "$CODE" = 200 ] && [ "$(jq length <<<"$BODY")" = 4 ]'

# ----------------------------------------------------- natural order
NAT_NAMES=(Show.Episode.10.mkv apple.bin show.episode.2.mkv Banana.bin Show.Episode.1.mkv)
n=200
for name in "${NAT_NAMES[@]}"; do
  n=$((n + 1))
  call torrents/add -b "$T/sonarr" --data-urlencode "urls=$(link "$name" $n)" \
    --data-urlencode category=natural --data-urlencode paused=true
  [ "$CODE" = 200 ] || diag "adding $name: $CODE $BODY"
done
names() { call "torrents/info?category=natural&sort=name$1" -b "$T/sonarr" && jq -r 'map(.name) | join(" ")' <<<"$BODY"; }
WANT="apple.bin Banana.bin Show.Episode.1.mkv show.episode.2.mkv Show.Episode.10.mkv"
check "sort=name: natural order, case ignored (bytewise would be Banana, Show...1, ...10, apple, show...2)" \
  eventually 10 eval '[ "$(names "")" = "$WANT" ]'
[ "$(names "")" = "$WANT" ] || diag "got: $(names "")"
check "sort=name&reverse=true: the same, reversed" \
  [ "$(names "&reverse=true")" = "Show.Episode.10.mkv show.episode.2.mkv Show.Episode.1.mkv Banana.bin apple.bin" ]
check "sort=name with limit and offset pages through that order" \
  [ "$(names "&limit=2&offset=2")" = "Show.Episode.1.mkv show.episode.2.mkv" ]
check "a number column still sorts as numbers (sort=size)" \
  eval 'call "torrents/info?category=natural&sort=size" -b "$T/sonarr" &&
        [ "$(jq -r "map(.size) | join(\" \")" <<<"$BODY")" = "1000201 1000202 1000203 1000204 1000205" ]'

# ----------------------------------- muleteer passwd, without a restart
# tree PID: PID and every process below it, as "pid:command", sorted.
tree() {
  local p c
  echo "$1:$(ps -o comm= -p "$1" 2>/dev/null)"
  for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do tree "$c"; done
}
# stack: the long-lived servers of the stack (run.sh's own `sleep`s come
# and go).
stack() { tree "$RUNSH_PID" | grep -E ':(muleteerd|lighttpd|.*\.fcgi)$' | sort | tr '\n' ' '; }
before_pids=$(stack)
NEW="new-pass-$RANDOM$RANDOM"
out=$(echo "$NEW" | MULETEER_VAR=$VAR "$CLI" passwd 2>&1); rc=$?
check "muleteer passwd changes the web password" [ "$rc" = 0 ]
[ "$rc" = 0 ] || diag "$out"
login "$T/old" sonarr "$PASS"
check "right after: the old password Fails." is 200 Fails.
login "$T/new" sonarr "$NEW"
check "... and the new one logs in" is 200 Ok.
call app/version -u "radarr:$NEW"
check "... also over HTTP Basic" is 200 v5.0.0
call app/version -u "radarr:$PASS"
check "... where the old one is refused" is 403 Forbidden
after_pids=$(stack)
check "no process was restarted (lighttpd, the FastCGI programs, the daemon)" \
  eval 'grep -q "qbit" <<<"$before_pids" && grep -q lighttpd <<<"$before_pids" &&
        [ "$before_pids" = "$after_pids" ]'
[ "$before_pids" = "$after_pids" ] || diag "before: $before_pids" "after: $after_pids"
check "the sessions opened before stay open" \
  eval 'call app/version -b "$T/sonarr" && is 200 v5.0.0'

# ------------------------------------------------------ the ban stays
for i in 1 2 3; do
  login "$T/ban" "anyone$i" "wrong$i" --interface 127.0.0.2
  [ "$BODY" = Fails. ] || break
done
check "three wrong passwords from 127.0.0.2, whatever the name: Fails. each" is 200 Fails.
login "$T/ban" sonarr "$NEW" --interface 127.0.0.2
check "127.0.0.2 is banned: the right password gets the ban's 403" is 403 "$BANNED"
login "$T/ok" radarr "$NEW"
check "127.0.0.1 still logs in" is 200 Ok.
check "when the ban ends, 127.0.0.2 logs in again" \
  eventually $((BAN + 10)) eval 'login "$T/ban" sonarr "$NEW" --interface 127.0.0.2 && is 200 Ok.'

stop_runsh "$RUNSH_PID" || not_ok "run.sh stops"
finish
