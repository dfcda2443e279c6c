#!/usr/bin/env bash
# save_paths.sh: a category's save path stays inside incoming_dir and
# download_roots, through the real stack (run.sh: PostgreSQL, muleteerd,
# lighttpd and cgi-bin/qbit): /api/v2's createCategory and editCategory
# answer 409 to paths outside (absolute, "..", a link pointing out) and
# create nothing; a path inside a configured root works; the control
# socket names the argument; a category saved outside the roots by an older
# version is kept without its path; and a completed download is not moved
# through a link swapped in after its category was made. TAP.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/mule.sh"
trap cleanup EXIT

mk_tmpdir T
HP=$(free_port); MP=$(free_port); AP=$(free_port)
VAR="$T/var"
MEDIA="$T/media"
OUT="$T/outside"
mkdir -p "$VAR" "$MEDIA" "$OUT"
chown_service "$MEDIA" 2>/dev/null || true
chmod 0777 "$OUT" # writable by the service: only the confinement keeps files out
KEY="pathkey$RANDOM$RANDOM$RANDOM"
cat >"$VAR/muleteer.conf" <<EOF
node_name = paths-node
state_dir = $VAR
log_file = $VAR/log/muleteerd.log
log_level = debug
tcp_port = $MP
udp_port = $((MP + 1))
web_username = admin
web_password = paths-pass
api_key = $KEY
filter_lan = no
server_autoconnect = no
download_roots = $MEDIA
EOF
chmod 0600 "$VAR/muleteer.conf"
chown_service "$VAR/muleteer.conf" 2>/dev/null || true
# a category saved by an older version with a path outside the roots
LEGACY="/tmp/mt-legacy-$$-$RANDOM"
cat >"$VAR/categories.json" <<EOF
[ { "name": "legacy", "incoming_path": "$LEGACY/films", "priority": 0, "colour": 0,
    "comment": "", "created": 1700000000 } ]
EOF
chmod 0600 "$VAR/categories.json"
chown_service "$VAR/categories.json" 2>/dev/null || true

if ! start_runsh "$VAR" "$T/runsh.out" MULETEER_HTTP_PORT="$HP"; then
  not_ok "run.sh starts the stack"; diag "$(tail -n 20 "$T/runsh.out")"; finish; exit 1
fi
API="http://127.0.0.1:$HP/api/v2"
SOCK="$VAR/run/muleteerd.sock"
# req METHOD PATH [curl args...]: sets CODE and BODY (API key auth).
req() {
  local m=$1 p=$2; shift 2
  CODE=$(curl -sS -H "Authorization: Bearer $KEY" -X "$m" -o "$T/body" -w '%{http_code}' "$@" "$API/$p")
  BODY=$(cat "$T/body")
}
is() { [ "$CODE" = "$1" ] && [ "$BODY" = "$2" ]; }
cats() { req GET torrents/categories; }
save_path_is() { cats; jq -e --arg c "$1" --arg p "$2" '.[$c].savePath == $p' <<<"$BODY" >/dev/null; }
no_category() { cats; jq -e --arg c "$1" 'has($c) | not' <<<"$BODY" >/dev/null; }

# ---- an old category outside the roots: kept, its path not used ----
check "a category saved outside the roots is kept, with incoming_dir as its path" \
  eventually 10 save_path_is legacy "$VAR/incoming"
check "... the daemon says so in its log" \
  grep -q "categories: \"legacy\": incoming_path: $LEGACY/films is outside" "$VAR/log/muleteerd.log"
check "... and nothing was made there" [ ! -e "$LEGACY" ]

# ---- createCategory and editCategory: paths outside the roots ----
TAG="mt-attack-$$-$RANDOM"
mkdir -p "$VAR/incoming"
ln -s "$OUT" "$VAR/incoming/escape"
# savePath|where it would have been made
attacks=(
  "/tmp/$TAG-a|/tmp/$TAG-a"
  "../../../../tmp/$TAG-b|/tmp/$TAG-b"
  "/dev/shm/$TAG-c|/dev/shm/$TAG-c"
  "$VAR/incoming/../../outside/$TAG-d|$OUT/$TAG-d"
  "escape/$TAG-e|$OUT/$TAG-e"
)
# the relative attack really points at /tmp from the incoming directory
check "../../../../tmp from the incoming directory is /tmp" \
  [ "$(realpath -m "$VAR/incoming/../../../../tmp")" = /tmp ]
n=0
for a in "${attacks[@]}"; do
  n=$((n + 1))
  sp=${a%%|*} where=${a#*|}
  req POST torrents/createCategory --data-urlencode "category=evil$n" --data-urlencode "savePath=$sp"
  check "createCategory savePath=$sp: 409 Unable to create category" is 409 "Unable to create category"
  check "... nothing made at $where, no category" eval '[ ! -e "$where" ] && no_category evil$n'
done
req POST torrents/createCategory --data-urlencode category=tv --data-urlencode savePath=tv
check "createCategory with a relative savePath inside incoming: 200" is 200 ""
check "... its directory is under incoming_dir" eval '[ -d "$VAR/incoming/tv" ] && save_path_is tv "$VAR/incoming/tv"'
n=0
for a in "${attacks[@]}"; do
  n=$((n + 1))
  sp=${a%%|*} where=${a#*|}
  req POST torrents/editCategory --data-urlencode category=tv --data-urlencode "savePath=$sp"
  check "editCategory savePath=$sp: 409 Unable to edit category" is 409 "Unable to edit category"
  check "... nothing made at $where, the path unchanged" eval '[ ! -e "$where" ] && save_path_is tv "$VAR/incoming/tv"'
done

# ---- a path inside a configured root works ----
req POST torrents/createCategory --data-urlencode category=films --data-urlencode "savePath=$MEDIA/films"
check "createCategory with a savePath in download_roots: 200" is 200 ""
check "... the directory is made and listed" eval '[ -d "$MEDIA/films" ] && save_path_is films "$MEDIA/films"'
req POST torrents/editCategory --data-urlencode category=tv --data-urlencode "savePath=$MEDIA//series/./uk/"
check "editCategory to a path in download_roots: 200" is 200 ""
check "... normalized, made and listed" eval '[ -d "$MEDIA/series/uk" ] && save_path_is tv "$MEDIA/series/uk"'

# ---- the control socket names the argument ----
out=$(mcli "$VAR" category add evil-cli --path "/tmp/$TAG-f" 2>&1); rc=$?
check "category add outside the roots: refused, naming incoming_path" \
  eval '[ $rc = 1 ] && grep -q "incoming_path: /tmp/$TAG-f is outside" <<<"$out" && [ ! -e "/tmp/$TAG-f" ]'
out=$(mcli "$VAR" --json call category-edit '{"name": "films", "incoming_path": "/dev/shm/'"$TAG"'-g"}')
check "category-edit outside the roots: invalid_args naming incoming_path" \
  eval 'jq -e ".error.code == \"invalid_args\" and (.error.message | startswith(\"incoming_path: \"))" <<<"$out" >/dev/null &&
        [ ! -e "/dev/shm/$TAG-g" ]'

# ---- a completed download is not moved through a link swapped in later ----
mkdir -p "$T/a/share"
head -c 700000 /dev/urandom >"$T/a/share/swapped.bin"
H=$(rhash --printf '%{ed2k}' "$T/a/share/swapped.bin")
start_mule A "$T/a" "$AP" "shared_dirs = $T/a/share"
a_shares() { mcli "$T/a" shared | grep -q swapped.bin; }
check "a second daemon shares a file" eventually 30 a_shares
req POST torrents/createCategory --data-urlencode category=swap --data-urlencode savePath=swap
check "category swap, in incoming" eval '[ "$CODE" = 200 ] && [ -d "$VAR/incoming/swap" ]'
rmdir "$VAR/incoming/swap" && ln -s "$OUT" "$VAR/incoming/swap"
mcli "$VAR" add --category swap "ed2k://|file|swapped.bin|700000|$H|/|sources,127.0.0.1:$AP|/" >/dev/null
landed() { [ -f "$VAR/incoming/swapped.bin" ] || [ -f "$OUT/swapped.bin" ]; }
check "the download completes" eventually 90 landed
check "... into incoming_dir, not through the link out of the roots" \
  eval '[ -f "$VAR/incoming/swapped.bin" ] && [ ! -e "$OUT/swapped.bin" ]'
check "... and the daemon says why" \
  grep -q "categories: \"swap\": incoming_path: .* is outside .*; its completed downloads go to $VAR/incoming" \
  "$VAR/log/muleteerd.log"

stop_runsh "$RUNSH_PID" || not_ok "run.sh stops"
finish
