#!/usr/bin/env bash
# schedule.sh: the alternative speed limits on a schedule, on the real
# stack (run.sh: PostgreSQL, muleteerd, lighttpd, qbit.fcgi, config.fcgi)
# in a time zone of its own (schedule_timezone, a POSIX TZ string 5:30
# ahead of UTC): a rule set through app/setPreferences to start at the
# next minute switches the mode on at that boundary, a manual switch holds
# until the next boundary, which switches it off; app/preferences,
# /api/config and the CLI show the schedule; a refused rule changes
# nothing. A download's own limits set from the CLI are what
# torrents/downloadLimit and torrents/info answer (their enforcement on a
# real transfer is qbit_actions.sh's). TAP.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
trap cleanup EXIT

CLI="$MT_BUILDDIR/bin/muleteer"
ZONE="IST-5:30"
mk_tmpdir T
HP=$(free_port); MP=$(free_port)
VAR="$T/var"
mkdir -p "$VAR"
KEY="schedkey$RANDOM$RANDOM$RANDOM"
cat >"$VAR/muleteer.conf" <<EOF
node_name = sched-node
state_dir = $VAR
log_file = $VAR/log/muleteerd.log
tcp_port = $MP
udp_port = $((MP + 1))
web_password = sched-pass-$RANDOM$RANDOM
api_key = $KEY
server_autoconnect = no
kad = no
schedule_timezone = $ZONE
EOF
chmod 0600 "$VAR/muleteer.conf"
chown_service "$VAR/muleteer.conf" 2>/dev/null || true
if ! start_runsh "$VAR" "$T/runsh.out" MULETEER_HTTP_PORT="$HP"; then
  not_ok "run.sh starts the stack"; diag "$(tail -n 20 "$T/runsh.out")"; finish; exit 1
fi
BASE="http://127.0.0.1:$HP"
API="$BASE/api/v2"
AUTH="Authorization: Bearer $KEY"
mcli() { "$CLI" --socket "$VAR/run/muleteerd.sock" --timeout 10 "$@"; }

# req METHOD PATH [curl args...]: sets CODE and BODY.
req() {
  local m=$1 p=$2; shift 2
  CODE=$(curl -sS -m 30 -H "$AUTH" -X "$m" -o "$T/body" -w '%{http_code}' "$@" "$API/$p")
  BODY=$(cat "$T/body" 2>/dev/null)
}
is() { [ "$CODE" = "$1" ] && [ "$BODY" = "$2" ]; }
jqt() { [ "$CODE" = 200 ] && jq -e "$@" <<<"$BODY" >/dev/null 2>&1; }
mode_is() { req GET transfer/speedLimitsMode; is 200 "$1"; }
limits() { mcli --json call limits; }

# ============================================================ defaults
req GET app/preferences
check "app/preferences: qBittorrent's scheduler defaults (off, 08:00-20:00 every day)" \
  jqt '.scheduler_enabled == false and .schedule_from_hour == 8 and .schedule_from_min == 0
       and .schedule_to_hour == 20 and .schedule_to_min == 0 and .scheduler_days == 0'
check "the daemon runs in the zone configured" grep -q "local time zone: $ZONE" "$VAR/log/muleteerd.log"
check "muleteer schedule: off" eval 'mcli schedule | grep -q "^schedule: *off"'

# =============================================== a rule from the next minute
# Not in the last seconds of a minute: the rule must start after it is set.
while [ "$(date +%S)" -ge 55 ]; do sleep 1; done
NOW=$(date +%s)
START=$(( (NOW / 60 + 1) * 60 ))   # the next minute, in any zone of whole minutes
END=$((START + 60))
SH=$(TZ=$ZONE date -d "@$START" +%-H); SM=$(TZ=$ZONE date -d "@$START" +%-M)
EH=$(TZ=$ZONE date -d "@$END" +%-H); EM=$(TZ=$ZONE date -d "@$END" +%-M)
RULE=$(printf '%02d:%02d-%02d:%02d every' "$SH" "$SM" "$EH" "$EM")
diag "rule $RULE in $ZONE: from $(date -u -d "@$START" +%T) UTC"
req POST app/setPreferences --data-urlencode \
  "json={\"scheduler_enabled\":true,\"schedule_from_hour\":$SH,\"schedule_from_min\":$SM,\"schedule_to_hour\":$EH,\"schedule_to_min\":$EM,\"scheduler_days\":0}"
check "setPreferences with the scheduler keys: 200" is 200 ""
req GET app/preferences
check "app/preferences shows the schedule set" \
  jqt --argjson sh "$SH" --argjson sm "$SM" --argjson eh "$EH" --argjson em "$EM" \
  '.scheduler_enabled == true and .schedule_from_hour == $sh and .schedule_from_min == $sm
   and .schedule_to_hour == $eh and .schedule_to_min == $em and .scheduler_days == 0'
check "the configuration file keeps it" \
  eval 'grep -q "^scheduler_enabled *= *yes" "$VAR/muleteer.conf" && grep -q "^schedule *= *\"\\?$RULE" "$VAR/muleteer.conf"'
check "before the boundary the normal limits stay in force" mode_is 0
check "the daemon's timer is set to the boundary" \
  eval 'limits | jq -e --argjson s "$START" ".scheduler_enabled and (.schedule_active | not) and .schedule_next == \$s" >/dev/null'
check "muleteer schedule: on, the rule" eval 'mcli schedule | grep -q "^rules: *$RULE"'

if eventually 75 mode_is 1; then
  AT=$(date +%s)
  ok "at the boundary the alternative limits come into force"
  check "... within 3 s of it, not before" eval '[ "$AT" -ge "$START" ] && [ "$AT" -le $((START + 3)) ]'
else
  not_ok "at the boundary the alternative limits come into force"; diag "$(tail -n 5 "$VAR/log/muleteerd.log")"
fi
check "the switch is logged" grep -q "schedule: alternative speed limits on" "$VAR/log/muleteerd.log"
req GET transfer/downloadLimit
check "transfer/downloadLimit: the alternative limit (10 KiB/s)" is 200 10240
check "limits: the schedule active, its next boundary the rule's end" \
  eval 'limits | jq -e --argjson e "$END" ".schedule_active and .alt_mode and .schedule_next == \$e" >/dev/null'

# ============================ a manual switch holds until the next boundary
req POST transfer/toggleSpeedLimitsMode -d ""
check "toggleSpeedLimitsMode switches them off by hand" mode_is 0
sleep 3
check "... and the schedule leaves that alone until its next boundary" mode_is 0
req POST transfer/toggleSpeedLimitsMode -d ""
check "switched on by hand again" mode_is 1
if eventually 75 mode_is 0; then
  AT=$(date +%s)
  ok "at the rule's end the schedule switches them off"
  check "... at the boundary" eval '[ "$AT" -ge "$END" ] && [ "$AT" -le $((END + 3)) ]'
else
  not_ok "at the rule's end the schedule switches them off"
fi

# ====================================================== the config API
cfg() {
  CODE=$(curl -sS -m 30 -H "X-API-Key: $KEY" -X "$1" -o "$T/body" -w '%{http_code}' \
    ${2:+-H 'Content-Type: application/json' --data-binary "$2"} "$BASE/api/config")
  BODY=$(cat "$T/body" 2>/dev/null)
}
cfg GET
check "GET /api/config: schedulerEnabled, schedule and the zone" \
  jqt --arg r "$RULE" --arg z "$ZONE" '.schedulerEnabled == true and .schedule == $r and .readOnly.scheduleTimezone == $z'
cfg PATCH '{"schedule": "25:00-26:00 every"}'
check "PATCH /api/config with a malformed rule: 400 naming schedule" \
  eval '[ "$CODE" = 400 ] && jq -e ".error.parameter == \"schedule\"" <<<"$BODY" >/dev/null'
cfg PATCH '{"schedule": "22:00-06:00 weekdays; 09:00-17:00 sat,sun", "schedulerEnabled": false}'
check "PATCH /api/config: several rules, the scheduler off" \
  jqt '.schedule == "22:00-06:00 weekdays; 09:00-17:00 sat,sun" and .schedulerEnabled == false'
req GET app/preferences
check "app/preferences shows the first rule (22:00-06:00 weekdays: days 1)" \
  jqt '.scheduler_enabled == false and .schedule_from_hour == 22 and .schedule_to_hour == 6 and .scheduler_days == 1'
check "the scheduler off: limits says so" eval 'limits | jq -e "(.scheduler_enabled | not) and .schedule_next == 0" >/dev/null'
check "muleteer schedule on with a bad rule: refused, nothing changes" \
  eval '! mcli schedule on "8-9 every" 2>/dev/null && limits | jq -e ".scheduler_enabled | not" >/dev/null'

# ====================================== a download's own limits, CLI side
GHOST=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
req POST torrents/add --data-urlencode "urls=ed2k://|file|ghost-$$.bin|3000000|$GHOST|/" --data-urlencode paused=true
check "a download is added" is 200 Ok.
check "muleteer limit HASH --down 20 --up 5" eval 'mcli limit "$GHOST" --down 20 --up 5 | grep -q "download limit: 20 KiB/s"'
# the getters read the database, which the daemon updates within a second
dl_ok() { req GET "torrents/downloadLimit?hashes=${GHOST}00000000"; jqt --arg h "${GHOST}00000000" '.[$h] == 20480'; }
check "torrents/downloadLimit: 20480 for it" eventually 10 dl_ok
up_ok() { req GET "torrents/uploadLimit?hashes=${GHOST}00000000"; jqt --arg h "${GHOST}00000000" '.[$h] == 5120'; }
check "torrents/uploadLimit: 5120" eventually 10 up_ok
info_ok() { req GET "torrents/info?hashes=${GHOST}00000000"; jqt '.[0].dl_limit == 20480 and .[0].up_limit == 5120'; }
check "torrents/info: dl_limit and up_limit" eventually 10 info_ok
check "muleteer limit HASH: shows them" eval 'mcli limit "$GHOST" | grep -q "upload limit: *5 KiB/s"'
check "muleteer limit with a bad value: usage error" eval '! mcli limit "$GHOST" --down -1 2>/dev/null'

finish
