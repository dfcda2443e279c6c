#!/bin/bash
# server_backoff.sh: eD2K servers that hang up on Muleteer must not cause a
# connection storm. Three server fixtures (tests/fixtures/ed2k_server
# --drop) and three muleteerds without a database, side by side for about
# 80 s: a static server that closes every connection right after the login
# answer (Muleteer backs off exponentially; a login alone does not reset
# it), a server that closes on the first OP_GETSOURCES (the download is not
# asked for again in the next session, which then lasts), and a listed
# server that drops every login (counted as failing and dropped from the
# list after server_max_failures). TAP output.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/mule.sh"
trap cleanup EXIT

WATCH=80          # seconds each daemon is watched
MAX_CONNECTIONS=5 # at most this many connections to the dropping server in that time
MAX_LOG_LINES=80  # the daemon's log for that time (info level)

mk_tmpdir T
start_server_fixture D1P "$T/d1.log" --name drop-after-login --highid-all --drop after-login ||
  { not_ok "server fixture d1 starts"; finish; exit 1; }
start_server_fixture D2P "$T/d2.log" --name drop-on-getsources --highid-all --drop on-getsources ||
  { not_ok "server fixture d2 starts"; finish; exit 1; }
start_server_fixture D3P "$T/d3.log" --name drop-listed --highid-all --drop after-login ||
  { not_ok "server fixture d3 starts"; finish; exit 1; }
SP=$(free_port); GP=$(free_port); LP=$(free_port)

MULE_LOG_LEVEL=info
# S: the dropping server is its only server, static (never leaves the list).
start_mule S "$T/s" "$SP" "servers = 127.0.0.1:$D1P"
t_s=$(date +%s)
# G: one download, then the server that hangs up on OP_GETSOURCES.
start_mule G "$T/g" "$GP" "servers = 127.0.0.1:$D2P" "server_autoconnect = no"
mcli "$T/g" add "ed2k://|file|wanted.bin|3000000|0123456789abcdef0123456789abcdef|/" >/dev/null
mcli "$T/g" connect >/dev/null
t_g=$(date +%s)
# L: a server from the list (not static) that drops every login; no UDP
# status, whose answers would clear its failures.
start_mule L "$T/l" "$LP" "server_autoconnect = no" "server_max_failures = 3" "server_udp_status = no"
mcli "$T/l" servers add "127.0.0.1:$D3P" >/dev/null
mcli "$T/l" connect >/dev/null

listed() { mcli "$T/l" --json servers | grep -q "\"port\": *$D3P,"; }
check "a listed server that drops every login counts as failing and leaves the list" \
  eventually 60 eval '! listed'
check "the log says so" grep -q "dropping 127.0.0.1:$D3P after 3 failures" "$T/l/muleteerd.log"
n3=$(grep -c "login conn=" "$T/d3.log")
check "after its 3 failures it is not tried again ($n3 logins)" [ "$n3" -le 3 ]

# Watch S and G for WATCH seconds from their start.
sleep $(( t_s + WATCH - $(date +%s) ))
logins=$(grep -c "login conn=" "$T/d1.log")
diag "$logins connection(s) with a login to the server that drops after the login, in ${WATCH}s"
check "Muleteer kept trying the static server" [ "$logins" -ge 3 ]
check "but connected at most $MAX_CONNECTIONS times in ${WATCH}s" [ "$logins" -le "$MAX_CONNECTIONS" ]
# the pauses between connections grow (timestamps of the fixture's log)
gaps=$(grep " connect conn=" "$T/d1.log" | sed 's/^[^T]*T\([0-9:.]*\)Z.*/\1/' |
  awk -F: '{ t = $1 * 3600 + $2 * 60 + $3; if (NR > 1) { g = t - p; if (g < 0) g += 86400; printf "%.1f ", g } p = t }')
diag "pauses between connections: $gaps"
growing() {
  local prev=0 g
  for g in $gaps; do
    awk -v g="$g" -v p="$prev" 'BEGIN { exit !(g > p) }' || return 1
    prev=$g
  done
}
check "the pauses grow" growing
lines=$(wc -l <"$T/s/muleteerd.log")
diag "$lines log lines"
check "the daemon's log is not flooded (at most $MAX_LOG_LINES lines in ${WATCH}s)" [ "$lines" -le "$MAX_LOG_LINES" ]
nlog=$(grep -c "counted as a failure" "$T/s/muleteerd.log")
check "the log says the server failed, at most once per attempt ($nlog)" \
  eval '[ "$nlog" -ge 2 ] && [ "$nlog" -le "$logins" ]'
static_failing() {
  mcli "$T/s" --json servers | tr -d '\n ' | grep -q "\"port\":$D1P,[^}]*\"failures\":[2-9][^}]*\"is_static\":true"
}
check "the static server stays in the list, its failures counted" static_failing
retry=$(json_num "$(mcli "$T/s" --json server)" retry_in)
check "the server command says when the next attempt is ($retry s)" [ -n "$retry" ]

sleep $(( t_g + WATCH - $(date +%s) ))
asked=$(grep -c "drop conn=.*mode=on-getsources" "$T/d2.log")
glogins=$(grep -c "login conn=" "$T/d2.log")
diag "$glogins login(s), $asked hung up on OP_GETSOURCES, in ${WATCH}s"
check "the download was asked for once, not again in each new session" [ "$asked" = 1 ]
check "so Muleteer reconnected once or twice, not in a loop" [ "$glogins" -le 3 ]
check "and the new session lasts" eval \
  'mcli "$T/g" --json server | grep -q "\"state\": *\"connected\""'

for n in S G L; do
  kill -TERM "${MULE_PID[$n]}"
  wait "${MULE_PID[$n]}"; rc=$?
  check "Muleteer $n stops cleanly on SIGTERM" [ "$rc" = 0 ]
done
bad=$(grep -lE 'AddressSanitizer|LeakSanitizer|runtime error:' "$T"/s/stderr "$T"/g/stderr "$T"/l/stderr 2>/dev/null || true)
check "no sanitizer reports" [ -z "$bad" ]
[ -n "$bad" ] && diag "$(cat $bad | head -40)"
finish
