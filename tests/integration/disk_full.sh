#!/usr/bin/env bash
# disk_full.sh: a full disk is an error the user sees, and goes away by
# itself. The whole stack (run.sh: PostgreSQL, muleteerd, lighttpd with
# /api/v2) downloads from a real amuled, with temp_dir and incoming_dir on
# small tmpfs mounts the test makes (and unmounts at the end) and fills
# with ballast:
#   (1) an add into a full temporary directory is refused with no_space
#       (/api/v2: Fails.) and leaves nothing behind;
#   (2) a completed file that does not fit into the incoming directory
#       (another file system: a copy) stays in the temporary one, in the
#       error state, and is moved once there is room, with its finished
#       record and history row;
#   (3) a download whose temporary directory fills up goes to the error
#       state, with the reason, on the control socket, the CLI, the
#       downloads table and /api/v2 (state error, the reason in comment);
#       its transfers stop (no log flood, no CPU, no data taken), and once
#       the ballast goes it resumes and completes, byte for byte.
# Needs root (mount). TAP output.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/amule.sh"

MOUNTS=()
unmount_all() { local m; for m in "${MOUNTS[@]}"; do umount -l "$m" 2>/dev/null; done; true; }
trap 'amule_stop_all; cleanup_all' EXIT
cleanup_all() { local p; for p in "${CLEANUP_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done; unmount_all; cleanup; }

mk_tmpdir T
TEMP="$T/temp-fs" INC="$T/incoming-fs"
mkdir -p "$TEMP" "$INC"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=4m,mode=0750 tmpfs "$TEMP" 2>/dev/null; then
  echo "1..0 # SKIP mounting a tmpfs needs root"
  exit 0
fi
MOUNTS+=("$TEMP")
mount -t tmpfs -o size=8m,mode=0750 tmpfs "$INC" && MOUNTS+=("$INC")
ensure_service_user
chown_service "$TEMP" "$INC"
check "temp_dir and incoming_dir are small tmpfs mounts" eval \
  '[ "$(stat -f -c %T "$TEMP")" = tmpfs ] && [ "$(stat -f -c %T "$INC")" = tmpfs ]'

# ---- amuled sharing two files, through a server fixture ----
SP=$(free_port); SEEDP=$(free_port); HP=$(free_port); MP=$(free_port)
"$MT_BUILDDIR/tests/fixtures/ed2k_server" --port "$SP" --name full-fixture --highid-all \
  --log "$T/server.log" &
CLEANUP_PIDS+=("$!")
eventually 10 grep -qs listening "$T/server.log" || { not_ok "the server fixture starts"; finish; exit 1; }
SIZE=3000000
head -c $SIZE /dev/urandom >"$T/one.bin"
head -c $SIZE /dev/urandom >"$T/two.bin"
ONE=$(rhash --printf '%{ed2k}' "$T/one.bin") TWO=$(rhash --printf '%{ed2k}' "$T/two.bin")
amule_start SEED "$T/seed" "$SEEDP" $((SEEDP + 1)) $((SEEDP + 2)) "$SP"
check "amuled shares two files" eval 'amule_share SEED "$T/one.bin" && amule_share SEED "$T/two.bin"'

# ---- Muleteer through run.sh ----
VAR="$T/var"
mkdir -p "$VAR"
KEY="fullkey$RANDOM$RANDOM$RANDOM"
cat >"$VAR/muleteer.conf" <<EOF
node_name = full-node
state_dir = $VAR
log_file = $VAR/log/muleteerd.log
log_level = info
tcp_port = $MP
udp_port = $((MP + 1))
api_key = $KEY
servers = 127.0.0.1:$SP
filter_lan = no
temp_dir = $TEMP
incoming_dir = $INC
save_interval = 1
status_interval = 1
max_ratio = 0
EOF
chmod 0600 "$VAR/muleteer.conf"
chown_service "$VAR/muleteer.conf"
if ! start_runsh "$VAR" "$T/runsh.out" MULETEER_HTTP_PORT="$HP"; then
  not_ok "run.sh starts the stack"; diag "$(tail -n 20 "$T/runsh.out")"; finish; exit 1
fi
DB=$(conf_key "$VAR" database)
LOG="$VAR/log/muleteerd.log"
PSQL() { as_service_user psql "$DB" -XAtq -c "$1" 2>/dev/null; }
mcli() { "$MT_BUILDDIR/bin/muleteer" --socket "$VAR/run/muleteerd.sock" --timeout 10 "$@"; }
J() { local a=${2-}; [ -n "$a" ] || a='{}'; mcli --json call "$1" "$a"; }
dl_of() { J downloads | jq -c --arg h "$1" '.downloads[] | select(.hash == $h)'; }
# api PATH [curl args...]: GET /api/v2/PATH with the API key; sets CODE, BODY
api() {
  local p=$1; shift
  CODE=$(curl -sS -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer $KEY" "$@" \
    "http://127.0.0.1:$HP/api/v2/$p")
  BODY=$(cat "$T/body")
}
info_of() { api "torrents/info?hashes=${1}00000000"; jq -c '.[0]' <<<"$BODY"; }
row() { PSQL "SELECT $2 FROM downloads WHERE node = 'full-node' AND hash = '$1'"; }
hist() { PSQL "SELECT string_agg(status, ',' ORDER BY id) FROM history WHERE node = 'full-node' AND hash = '$1'"; }
PID=$(J status | jq .pid)
cpu() { awk '{ print $14 + $15 }' "/proc/$PID/stat"; }
HZ=$(getconf CLK_TCK)
link() { echo "ed2k://|file|$1.bin|$SIZE|$2|/|sources,127.0.0.1:$SEEDP|/"; }

# quiet_for SECS HASH: over SECS seconds in the error state the daemon
# writes a line or two at most, uses little CPU and takes no data
quiet_for() {
  local l0 c0 d0 l1 c1 d1
  l0=$(wc -l <"$LOG") c0=$(cpu) d0=$(dl_of "$2" | jq .done)
  sleep "$1"
  l1=$(wc -l <"$LOG") c1=$(cpu) d1=$(dl_of "$2" | jq .done)
  QUIET="$((l1 - l0)) log lines, $((c1 - c0)) CPU ticks, done $d0 -> $d1 in $1 s"
  [ $((l1 - l0)) -le 3 ] && [ $((c1 - c0)) -le $(($1 * HZ / 4)) ] && [ "$d0" = "$d1" ]
}
is_error() { dl_of "$1" | jq -e '.state == "error" and (.error | contains("No space left on device"))' >/dev/null; }
row_error() { [ "$(row "$1" "state || ':' || (error LIKE '%No space left on device%')")" = error:true ]; }
api_error() { info_of "$1" | jq -e '.state == "error" and (.comment | contains("No space left on device"))' >/dev/null; }
# finished HASH NAME: complete, identical, listed as finished (record, row,
# /api/v2 without an error), and history says completed, not failed
finished() {
  local h=$1 n=$2
  fin() { J downloads | jq -e --arg h "$h" --arg p "$INC/$n.bin" \
    '.finished | map(select(.hash == $h and .content_path == $p and .state == "completed")) | length == 1' >/dev/null; }
  check "($3) the file is identical to amuled's" cmp -s "$INC/$n.bin" "$T/$n.bin"
  check "($3) its finished record" eventually 10 fin
  check "($3) its row: completed, with its path" eventually 10 eval \
    '[ "$(row "$h" "state || '"':'"' || content_path")" = "completed:$INC/$n.bin" ]'
  check "($3) history: completed (a pause, not a failure)" eventually 10 eval '[ "$(hist "$h")" = completed ]'
  api_done() { info_of "$h" | jq -e '.state == "stoppedUP" and .comment == "" and .progress == 1' >/dev/null; }
  if eventually 10 api_done; then ok "($3) /api/v2: completed (stoppedUP), no error left"; else
    not_ok "($3) /api/v2: completed (stoppedUP), no error left"; diag "$(info_of "$h")"; fi
}

# ---- (1) an add into a full temporary directory ----
dd if=/dev/zero of="$TEMP/ballast" bs=64k 2>/dev/null   # until the disk is full
out=$(J add "{\"link\": \"$(link one "$ONE")\"}")
check "(1) an add into a full temp_dir is refused: no_space, with the reason" eval \
  'jq -e ".error.code == \"no_space\" and (.error.message | contains(\"No space left on device\"))" <<<"$out" >/dev/null'
api torrents/add --data-urlencode "urls=$(link one "$ONE")"
check "(1) /api/v2 torrents/add answers Fails., as qBittorrent does when it cannot add" \
  [ "$CODE $BODY" = "200 Fails." ]
check "(1) nothing is left behind: no download, no file" eval \
  '[ "$(J downloads | jq ".downloads | length")" = 0 ] && [ "$(ls -A "$TEMP")" = ballast ]'
rm -f "$TEMP/ballast"

# ---- (2) the incoming directory is full when the file is complete ----
# (another file system: the move is a copy) room for about 1 MB of 3
dd if=/dev/zero of="$INC/ballast" bs=1M count=7 2>/dev/null
out=$(mcli add "$(link one "$ONE")")
check "(2) a download is added" grep -q "$ONE" <<<"$out"
move_error() { is_error "$ONE" && dl_of "$ONE" | jq -e '.progress == 1' >/dev/null; }
if eventually 120 move_error; then ok "(2) the move into a full incoming_dir fails into the error state, with the reason"; else
  not_ok "(2) the move into a full incoming_dir fails into the error state, with the reason"; diag "$(dl_of "$ONE")" "$(tail -n 5 "$LOG")"; fi
check "(2) the downloads row: state error, the reason in error" eventually 10 row_error "$ONE"
check "(2) /api/v2 torrents/info: state error, the reason in comment" eventually 10 api_error "$ONE"
check "(2) the file stays in temp_dir, nothing half-copied in incoming_dir" eval \
  '[ -f "$TEMP/$ONE.part" ] && [ "$(ls -A "$INC")" = ballast ]'
check "(2) quiet meanwhile: $(quiet_for 8 "$ONE" >/dev/null; echo "$QUIET")" quiet_for 8 "$ONE"
rm -f "$INC/ballast"
done_one() { [ -f "$INC/one.bin" ]; }
if eventually 150 done_one; then ok "(2) with room again the move is retried and completes"; else
  not_ok "(2) with room again the move is retried and completes"; diag "$(dl_of "$ONE")" "$(tail -n 8 "$LOG")"; fi
check "(2) its temporary files are gone" eval '[ -z "$(ls -A "$TEMP")" ]'
finished "$ONE" one 2

# ---- (3) the temporary directory fills up during a download ----
# (had (2) failed, its download would keep the seeder's one conversation)
[ -f "$INC/one.bin" ] || mcli delete "$ONE" >/dev/null 2>&1
# room for about 1.2 MB of the 3 MB file
head -c $((4 * 1024 * 1024 - 1200000)) /dev/zero >"$TEMP/ballast"
out=$(mcli add "$(link two "$TWO")")
check "(3) a second download is added" grep -q "$TWO" <<<"$out"
if eventually 120 is_error "$TWO"; then ok "(3) the full disk puts it in the error state, with the reason"; else
  not_ok "(3) the full disk puts it in the error state, with the reason"; diag "$(dl_of "$TWO")" "$(tail -n 5 "$LOG")"; fi
check "(3) muleteer downloads shows the state and the reason" eval \
  'mcli downloads | grep "$TWO" | grep -q " error " && mcli downloads | grep -q "error: .*No space left on device"'
check "(3) the downloads row: state error, the reason in error" eventually 10 row_error "$TWO"
check "(3) /api/v2 torrents/info: state error, the reason in comment" eventually 10 api_error "$TWO"
api "torrents/info?filter=errored"
check "(3) ... listed by filter=errored" eval \
  'jq -e --arg h "${TWO}00000000" "map(.hash) == [\$h]" <<<"$BODY" >/dev/null'
check "(3) its transfers stop: $(quiet_for 8 "$TWO" >/dev/null; echo "$QUIET")" quiet_for 8 "$TWO"
check "(3) the disk error is logged once" [ "$(grep -c "$TWO.*No space left on device; " "$LOG")" = 1 ]
check "(3) the metadata on the full disk is still valid" eval \
  'jq -e --arg h "$TWO" ".hash == \$h and .size == $SIZE" "$TEMP/$TWO.part.met" >/dev/null'
rm -f "$TEMP/ballast"
done_two() { [ -f "$INC/two.bin" ]; }
if eventually 150 done_two; then ok "(3) with room again it resumes by itself and completes"; else
  not_ok "(3) with room again it resumes by itself and completes"; diag "$(dl_of "$TWO")" "$(tail -n 8 "$LOG")"; fi
finished "$TWO" two 3

bad=$(grep -lE 'AddressSanitizer|LeakSanitizer|runtime error:' "$VAR"/log/* 2>/dev/null || true)
check "no sanitizer reports" [ -z "$bad" ]
finish
