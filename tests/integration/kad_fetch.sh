#!/usr/bin/env bash
# kad_fetch.sh: nodes.dat from a URL. Two muleteerds, B and C, meet over
# Kad on loopback and C saves B in its nodes.dat (Muleteer's own writer);
# a local HTTP server serves that file. D imports it with `muleteer kad
# import URL`, E with `muleteer add 'ed2k://|nodeslist|URL|/'` (add also
# takes serverlist and server links to the server list), and A, on
# a first start with no contacts, from kad_nodes_url. A 404, a body over
# the 1 MiB bound and a body that is no nodes.dat are refused with a clear
# error, and D keeps running. TAP.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/mule.sh"
trap cleanup EXIT

command -v jq >/dev/null || { echo "Bail out! jq is not installed (run.sh check installs it)"; exit 1; }
mk_tmpdir T
BP=$(free_port); CP=$(free_port); DP=$(free_port); EP=$(free_port); AP=$(free_port)
WP=$(free_port)
contacts() { mcli "$T/$1" --json kad status 2>/dev/null | jq -r '.contacts'; }
has_contacts() { [ "$(contacts "$1")" -ge "$2" ] 2>/dev/null; }

# ---- a nodes.dat written by Muleteer: C bootstraps from B, then stops ----
start_mule B "$T/b" "$BP" "server_autoconnect = no" || { finish; exit 1; }
start_mule C "$T/c" "$CP" "server_autoconnect = no" || { finish; exit 1; }
mcli "$T/c" kad bootstrap "127.0.0.1:$((BP + 1))" >/dev/null
check "C learns B over Kad (bootstrap on loopback)" eventually 30 has_contacts c 1
kill -TERM "${MULE_PID[C]}"; wait "${MULE_PID[C]}"
mkdir -p "$T/www"
cp "$T/c/nodes.dat" "$T/www/nodes.dat" 2>/dev/null
check "C saved nodes.dat on exit" test -s "$T/www/nodes.dat"
head -c $((2 * 1024 * 1024)) /dev/zero >"$T/www/huge.dat"
printf 'this is not a nodes.dat\n' >"$T/www/junk.dat"
(cd "$T/www" && exec python3 -m http.server --bind 127.0.0.1 "$WP" >"$T/http.log" 2>&1) &
CLEANUP_PIDS+=("$!")
URL="http://127.0.0.1:$WP"
web_up() { curl -sf -o /dev/null "$URL/nodes.dat"; }
check "a local HTTP server serves nodes.dat" eventually 10 web_up

# ---- muleteer kad import URL ----
start_mule D "$T/d" "$DP" "server_autoconnect = no" || { finish; exit 1; }
check "D starts with no contacts (kad_nodes_url is empty in tests)" \
  eval '[ "$(contacts d)" = 0 ] && ! grep -q "fetching nodes.dat" "$T/d/muleteerd.log"'
out=$(mcli "$T/d" kad import "$URL/nodes.dat" 2>&1); rc=$?
check "kad import URL fetches and imports the nodes.dat" \
  eval '[ $rc = 0 ] && grep -qE "^1 new contact\(s\) of 1 from $URL/nodes.dat; 1 in the table" <<<"$out"'
[ $rc = 0 ] || diag "$out"
check "... the contact is B" eval \
  "mcli '$T/d' --json kad status --contacts | jq -e '.contact_list | any(.udp_port == $((BP + 1)))' >/dev/null"
check "... and kad status lists the import as done" eval \
  "mcli '$T/d' --json kad status | jq -e '.imports[0] | .url == \"$URL/nodes.dat\" and .state == \"done\" and .added == 1' >/dev/null"

# ---- bad URLs and bodies: clear errors, D keeps running ----
out=$(mcli "$T/d" kad import "$URL/missing.dat" 2>&1); rc=$?
check "a 404 is a clear error" eval '[ $rc = 1 ] && grep -q "cannot fetch $URL/missing.dat: HTTP status 404" <<<"$out"'
out=$(mcli "$T/d" kad import "$URL/huge.dat" 2>&1); rc=$?
check "a body over 1 MiB is refused" eval '[ $rc = 1 ] && grep -q "cannot fetch $URL/huge.dat: the file is too big" <<<"$out"'
out=$(mcli "$T/d" kad import "$URL/junk.dat" 2>&1); rc=$?
check "a body that is no nodes.dat is refused" eval '[ $rc = 1 ] && grep -q "$URL/junk.dat is not a nodes.dat" <<<"$out"'
out=$(mcli "$T/d" kad import 'ed2k://|nodeslist|ftp://127.0.0.1/nodes.dat|/' 2>&1); rc=$?
check "a nodeslist link to another scheme is refused" eval '[ $rc = 1 ] && grep -q "must start with http:// or https://" <<<"$out"'
check "D keeps running, its contact kept" eval 'mcli "$T/d" ping >/dev/null && [ "$(contacts d)" = 1 ]'

# ---- muleteer add 'ed2k://|nodeslist|URL|/' ----
start_mule E "$T/e" "$EP" "server_autoconnect = no" || { finish; exit 1; }
out=$(mcli "$T/e" add "ed2k://|nodeslist|$URL/nodes.dat|/" 2>&1); rc=$?
check "add with an ed2k nodeslist link imports its nodes.dat" \
  eval '[ $rc = 0 ] && grep -qE "^1 new contact\(s\) of 1 from $URL/nodes.dat" <<<"$out"'
[ $rc = 0 ] || diag "$out"
check "... and adds no download" eval \
  "mcli '$T/e' --json downloads | jq -e '.downloads | length == 0' >/dev/null"
out=$(mcli "$T/e" add "ed2k://|serverlist|$URL/missing.met|/" 2>&1); rc=$?
check "add with a serverlist link goes to the server list's import (here a 404)" \
  eval '[ $rc = 1 ] && grep -q "cannot fetch $URL/missing.met: HTTP status 404" <<<"$out"'
out=$(mcli "$T/e" add "ed2k://|server|127.0.0.1|$BP|/" 2>&1); rc=$?
check "add with a server link adds the server" eval \
  "[ $rc = 0 ] && mcli '$T/e' --json servers | jq -e '.servers | any(.port == $BP)' >/dev/null"

# ---- a first start with no saved contacts: kad_nodes_url ----
start_mule A "$T/a" "$AP" "server_autoconnect = no" "kad_nodes_url = $URL/nodes.dat" ||
  { finish; exit 1; }
check "A, with no saved contacts, bootstraps from kad_nodes_url" eventually 15 has_contacts a 1
check "... and says so" grep -q "no saved contacts; bootstrapping from kad_nodes_url" "$T/a/muleteerd.log"
check "A verifies B (Kad connected)" eventually 60 eval \
  "mcli '$T/a' --json kad status | jq -e '.verified >= 1' >/dev/null"
kill -TERM "${MULE_PID[A]}"; wait "${MULE_PID[A]}"
start_mule A "$T/a" "$AP" "server_autoconnect = no" "kad_nodes_url = $URL/missing.dat" ||
  { finish; exit 1; }
check "restarted with saved contacts, A does not fetch kad_nodes_url" eval \
  '[ "$(grep -c "fetching nodes.dat" "$T/a/muleteerd.log")" = 1 ] && has_contacts a 1'

# ---- clean stops, no sanitizer reports ----
for n in A B D E; do
  kill -TERM "${MULE_PID[$n]}"
  wait "${MULE_PID[$n]}"; rc=$?
  check "Muleteer $n stops cleanly on SIGTERM" [ "$rc" = 0 ]
done
bad=$(grep -lE 'AddressSanitizer|LeakSanitizer|runtime error:' "$T"/*/stderr 2>/dev/null || true)
check "no sanitizer reports" [ -z "$bad" ]
[ -n "$bad" ] && diag "$(cat $bad | head -40)"
finish
