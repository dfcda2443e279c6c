#!/bin/bash
# servers.sh: Muleteer as an eD2K server client, against the server fixture
# (tests/fixtures/ed2k_server) and a real amuled 2.3.3 on loopback: a
# server.met import, auto-connect, server messages, the server list the
# server sends, UDP status, local and global searches with hostile names,
# and a download of a search result from a LowID amuled through a callback
# the server relays. Then a server that sends garbage. TAP output.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/amule.sh"
. "$MT_SRCDIR/tests/integration/mule.sh"
trap 'amule_stop_all; cleanup' EXIT

mk_tmpdir T
SP=$(free_port); S2P=$(free_port); S3P=$(free_port); SEEDP=$(free_port); AP=$(free_port); BP=$(free_port)
FIX="$MT_BUILDDIR/tests/fixtures/ed2k_server"

# F1: Muleteer A gets a HighID by the port check; amuled is forced LowID.
"$FIX" --port "$SP" --name fixture-one --lowid-port "$SEEDP" --server-list "127.0.0.1:$S2P" \
  --message "ERROR: fixture test error" --hostile-names --page-size 3 --log "$T/f1.log" &
CLEANUP_PIDS+=("$!")
# F2: another server, reached only over UDP by A (global search).
"$FIX" --port "$S2P" --name fixture-two --highid-all --log "$T/f2.log" &
CLEANUP_PIDS+=("$!")
# F3, F4, F5: servers that break the protocol after the login.
"$FIX" --port "$S3P" --name fixture-bad --highid-all --garbage overlong --log "$T/f3.log" &
CLEANUP_PIDS+=("$!")
S4P=$(free_port); S5P=$(free_port)
"$FIX" --port "$S4P" --name fixture-truncated --highid-all --garbage truncated --log "$T/f4.log" &
CLEANUP_PIDS+=("$!")
"$FIX" --port "$S5P" --name fixture-bad-results --highid-all --garbage bad-results --log "$T/f5.log" &
CLEANUP_PIDS+=("$!")
for f in f1 f2 f3 f4 f5; do
  eventually 10 grep -qs listening "$T/$f.log" || { not_ok "server fixture $f starts"; finish; exit 1; }
done

# ---- amuled: a LowID on F1 sharing the file A will search for ----
NEEDLE=needle-$$-$RANDOM.bin
head -c 5000000 /dev/urandom >"$T/$NEEDLE"
amule_start SEED "$T/seed" "$SEEDP" $((SEEDP + 1)) $((SEEDP + 2)) "$SP"
check "amuled shares the file" eval 'amule_share SEED "$T/$NEEDLE"'
NEEDLE_HASH=$(rhash --printf '%{ed2k}' "$T/$NEEDLE")

# ---- Muleteer B: on F2, sharing a file only F2 knows ----
HAY=haystack-$$-$RANDOM.bin
mkdir -p "$T/b/share"
head -c 3000000 /dev/urandom >"$T/b/share/$HAY"
HAY_HASH=$(rhash --printf '%{ed2k}' "$T/b/share/$HAY")
start_mule B "$T/b" "$BP" "shared_dirs = $T/b/share" "servers = 127.0.0.1:$S2P"
b_offered() { grep -q "offer conn=[0-9]* id=[0-9]* files=1" "$T/f2.log"; }
check "Muleteer B publishes its file on F2" eventually 30 b_offered

# ---- Muleteer A: no servers configured; a server.met brings F1 ----
start_mule A "$T/a" "$AP" "server_status_interval = 10" "server_max_failures = 2"
check "Muleteer A starts with an empty server list" eval \
  'mcli "$T/a" servers | grep -q "no servers"'
le16() { printf "\\\\x%02x\\\\x%02x" $(($1 & 255)) $(($1 >> 8)); }
# version 0xE0, 1 server: 127.0.0.1, port, 1 tag: ST_SERVERNAME "fixture-one"
printf "\xe0\x01\x00\x00\x00\x7f\x00\x00\x01$(le16 "$SP")\x01\x00\x00\x00\x02\x01\x00\x01\x0b\x00fixture-one" \
  >"$T/import.met"
out=$(mcli "$T/a" servers import "$T/import.met" 2>&1)
check "servers import reads a server.met file" grep -q "1 new server(s) of 1" <<<"$out"
out=$(mcli "$T/a" servers import "$T/nothing.met" 2>&1); rc=$?
check "a missing server.met is a clear error" eval '[ $rc = 1 ] && grep -q "cannot open" <<<"$out"'
head -c 100 /dev/urandom >"$T/junk.met"
out=$(mcli "$T/a" servers import "$T/junk.met" 2>&1); rc=$?
check "a junk server.met is refused" eval '[ $rc = 1 ]'
out=$(mcli "$T/a" servers add "bad host:4661" 2>&1); rc=$?
check "a bad server address is refused" eval '[ $rc = 1 ] && grep -q "not a server address" <<<"$out"'

# a server.met over HTTP (lighttpd), a serverlist link, a server link
URLP=$(free_port); DEADP=$(free_port); HP=$(free_port)
mkdir -p "$T/www"
printf "\xe0\x01\x00\x00\x00\x7f\x00\x00\x01$(le16 "$URLP")\x00\x00\x00\x00" >"$T/www/server.met"
printf 'server.document-root = "%s"\nserver.port = %s\nserver.bind = "127.0.0.1"\n' "$T/www" "$HP" >"$T/lighttpd.conf"
lighttpd -D -f "$T/lighttpd.conf" >"$T/lighttpd.log" 2>&1 &
CLEANUP_PIDS+=("$!")
eventually 10 curl -fso /dev/null "http://127.0.0.1:$HP/server.met"
out=$(mcli "$T/a" servers import "http://127.0.0.1:$HP/server.met" 2>&1)
check "servers import fetches a server.met over HTTP" grep -q "1 new server(s) of 1" <<<"$out"
out=$(mcli "$T/a" servers import "http://127.0.0.1:$HP/missing.met" 2>&1); rc=$?
check "a URL that answers 404 is a clear error" eval '[ $rc = 1 ] && grep -q "HTTP status 404" <<<"$out"'
out=$(mcli "$T/a" servers import "ed2k://|serverlist|http://127.0.0.1:$HP/server.met|/" 2>&1)
check "an ed2k serverlist link imports the same list (nothing new)" grep -q "0 new server(s) of 1" <<<"$out"
out=$(mcli "$T/a" servers import "ed2k://|server|127.0.0.1|$DEADP|/" 2>&1)
check "an ed2k server link adds a server" grep -q "1 new server(s) of 1" <<<"$out"
check "servers add marks a known server static" eval \
  'mcli "$T/a" servers add "127.0.0.1:$DEADP" --static | grep -q "already listed"'

highid() { mcli "$T/a" --json server | grep -q '"lowid": *false'; }
check "A connects to the imported server by itself, as a HighID" eventually 30 highid
check "A keeps the server's ERROR message" eval \
  'mcli "$T/a" --json server | grep -q "ERROR: fixture test error"'
check "A adds the servers of the server's list" eventually 20 eval \
  'mcli "$T/a" --json servers | grep -q "\"port\": *$S2P"'
pinged() { mcli "$T/a" --json servers | tr -d '\n ' | grep -q "\"port\":$S2P,[^}]*\"ping_ms\":[1-9]"; }
check "A learns F2's status over UDP (ping, users, files)" eventually 40 pinged
named() { mcli "$T/a" --json servers | tr -d '\n ' | grep -q "\"port\":$S2P,[^}]*\"name\":\"fixture-two\""; }
check "and F2's name, asked over UDP as it had none" eventually 20 named
grep -q "udp-stat" "$T/f2.log" || diag "$(tail -5 "$T/f2.log")"
check "A writes its server list to server.met" eventually 15 grep -qa fixture-one "$T/a/server.met"

# ---- searches ----
amule_offered() { grep -q "offer conn=[0-9]* id=[0-9]* files=1" "$T/f1.log"; }
check "amuled publishes its file on F1 (about a minute after its start)" eventually 120 amule_offered
out=$(mcli "$T/a" search --local --wait 30 "${NEEDLE%.bin}" 2>&1)
check "a local search finds amuled's file" grep -qi "$NEEDLE_HASH" <<<"$out"
[ -n "${MT_DEBUG:-}" ] && diag "$out"
check "hostile names are cleaned (no path separators or control characters)" eval \
  '! grep -aE "\.\./|[[:cntrl:]]" <<<"$(grep -v "ed2k://" <<<"$out" | tr -d "\n")"'
check "the server's result pages were all asked for (more results)" eval \
  '[ "$(grep -c "search conn=" "$T/f1.log")" -ge 2 ] || grep -q "page=2" "$T/f1.log"'
out=$(mcli "$T/a" search --wait 40 "${HAY%.bin}" 2>&1)
check "a global search finds a file only F2 knows, over UDP" grep -qi "$HAY_HASH" <<<"$out"
check "F2 answered a UDP search" grep -q "udp-search" "$T/f2.log"
out=$(mcli "$T/a" search "needle AND" 2>&1); rc=$?
check "a malformed expression gets a clear error" eval '[ $rc = 1 ] && [ -n "$out" ]'
out=$(mcli "$T/a" search "type:bogus needle" 2>&1); rc=$?
check "an unknown file type gets a clear error" eval '[ $rc = 1 ] && grep -qi type <<<"$out"'

# ---- dead servers: dropped after server_max_failures, unless static ----
listed() { mcli "$T/a" --json servers | grep -q "\"port\": *$1,"; }
check "a server that never answers the UDP status is dropped" eventually 120 eval '! listed $URLP'
dead_static() { mcli "$T/a" --json servers | tr -d '\n ' | grep -q "\"port\":$DEADP,[^}]*\"failures\":[2-9][^}]*\"is_static\":true"; }
check "a static server that never answers stays, its failures counted" eventually 30 dead_static

# ---- download a search result from the LowID amuled ----
link=$(mcli "$T/a" search --local --wait 30 "${NEEDLE%.bin}" | grep -o "ed2k://|file|[^ ]*" | grep -i "$NEEDLE_HASH" | head -n 1)
check "the search prints a link for the result" [ -n "$link" ]
mcli "$T/a" add "$link" >/dev/null
check "A asks F1 to have the LowID amuled call back" eventually 60 grep -q "callback conn=" "$T/f1.log"
done_a() { [ -f "$T/a/incoming/$NEEDLE" ]; }
if eventually 300 done_a; then ok "A downloads the result from the LowID amuled"; else
  not_ok "A downloads the result from the LowID amuled"
  diag "$(mcli "$T/a" downloads 2>&1; grep -i "callback\|LowID" "$T/a/muleteerd.log" | tail -n 10)"
fi
check "the downloaded file is identical" cmp -s "$T/a/incoming/$NEEDLE" "$T/$NEEDLE"

# ---- sources over UDP from another server ----
mcli "$T/a" add "ed2k://|file|$HAY|3000000|$HAY_HASH|/" >/dev/null
check "A asks F2 for sources over UDP" eventually 30 grep -q "udp-getsources from=.* found=1" "$T/f2.log"
done_hay() { [ -f "$T/a/incoming/$HAY" ]; }
check "A downloads from the source F2 gave over UDP" eventually 60 done_hay
check "that file is identical" cmp -s "$T/a/incoming/$HAY" "$T/b/share/$HAY"

# ---- servers that send garbage ----
mcli "$T/a" connect "127.0.0.1:$S3P" >/dev/null
check "A drops a server that announces a 100 MB packet" eventually 30 grep -q \
  "127.0.0.1:$S3P: protocol error" "$T/a/muleteerd.log"
mcli "$T/a" connect "127.0.0.1:$S4P" >/dev/null
check "A drops a server that sends a truncated OP_IDCHANGE" eventually 30 grep -q \
  "127.0.0.1:$S4P: protocol error" "$T/a/muleteerd.log"
mcli "$T/a" connect "127.0.0.1:$S5P" >/dev/null
check "A ignores a search result packet whose count lies" eventually 30 grep -q \
  "a bad result packet from the server" "$T/a/muleteerd.log"
check "and stays connected to that server" eval 'mcli "$T/a" --json server | grep -q "\"port\": *$S5P" &&
  mcli "$T/a" --json server | grep -q "\"state\": *\"connected\""'
check "A keeps running" mcli "$T/a" ping
mcli "$T/a" connect >/dev/null
check "connect without an address goes back to the best server" eventually 30 highid

# ---- a server with a dynamic IP announces its host name ----
S6P=$(free_port)
"$FIX" --port "$S6P" --name fixture-dynip --highid-all --message "Welcome [emDynIP: localhost]" \
  --log "$T/f6.log" &
CLEANUP_PIDS+=("$!")
eventually 10 grep -qs listening "$T/f6.log"
mcli "$T/a" connect "127.0.0.1:$S6P" >/dev/null
dyn_named() {
  mcli "$T/a" --json servers | tr -d '\n ' | grep -q "\"address\":\"localhost\",\"port\":$S6P,"
}
check "[emDynIP: localhost] turns the entry into localhost:PORT" eventually 20 dyn_named
check "and no entry by IP is left for it" eval \
  '! mcli "$T/a" --json servers | tr -d "\n " | grep -q "\"address\":\"127.0.0.1\",\"port\":$S6P,"'
check "server.met keeps the name (dynip)" eventually 20 grep -q localhost "$T/a/server.met"
mcli "$T/a" disconnect >/dev/null
mcli "$T/a" connect "localhost:$S6P" >/dev/null
dyn_back() { [ "$(grep -c 'login conn=' "$T/f6.log")" -ge 2 ] && mcli "$T/a" --json server | grep -q '"state": *"connected"'; }
check "A connects to it again by that name" eventually 20 dyn_back
mcli "$T/a" connect >/dev/null

# ---- clean stops, no sanitizer reports ----
for n in A B; do
  kill -TERM "${MULE_PID[$n]}"
  wait "${MULE_PID[$n]}"; rc=$?
  check "Muleteer $n stops cleanly on SIGTERM" [ "$rc" = 0 ]
done
# the list comes back from server.met
start_mule A "$T/a" "$AP" "server_autoconnect = no"
out=$(mcli "$T/a" --json servers)
check "after a restart the list is read back from server.met" eval \
  'grep -q "\"name\": *\"fixture-one\"" <<<"$out" && grep -q "\"port\": *$S2P," <<<"$out" &&
   tr -d "\n " <<<"$out" | grep -q "\"port\":$DEADP,[^}]*\"is_static\":true"'
kill -TERM "${MULE_PID[A]}"; wait "${MULE_PID[A]}"
bad=$(grep -lE 'AddressSanitizer|LeakSanitizer|runtime error:' "$T"/a/stderr "$T"/b/stderr 2>/dev/null || true)
check "no sanitizer reports" [ -z "$bad" ]
[ -n "$bad" ] && diag "$(cat $bad | head -40)"
finish
