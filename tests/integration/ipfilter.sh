#!/usr/bin/env bash
# ipfilter.sh: muleteerd M with an IP filter blocking 127.0.0.3, where a
# real amuled 2.3.3 lives (its Address; the server fixture and M are on
# 127.0.0.1, which the filter lets through). A source at 127.0.0.3 is
# dropped, a connection from 127.0.0.3 is refused, and amuled, which finds
# M's file on the server, gets nothing (M, a LowID, does not call it
# back); each is counted, while muleteerd A on 127.0.0.1 downloads from M.
# The list then comes from a local HTTP server (gzip); a failed fetch
# keeps it; an empty list by URL (config-set) lets amuled download the
# file. The control traffic is on Unix sockets, out of the filter. TAP.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/mule.sh"
. "$MT_SRCDIR/tests/integration/amule.sh"
trap 'amule_stop_all; cleanup' EXIT

mk_tmpdir T
MP=$(free_port); AP=$(free_port); S2P=$(free_port); WP=$(free_port)
SIZE=3000000

if ! start_server_fixture SP "$T/server.log" --highid-all --lowid-port "$MP"; then
  not_ok "server fixture starts"; finish; exit 1
fi

mkdir -p "$T/m/share" "$T/www"
head -c "$SIZE" /dev/urandom >"$T/m/share/filtertest.bin"
H=$(rhash --printf '%{ed2k}' "$T/m/share/filtertest.bin")
printf '%s\r\n' '# a list with a comment, CRLF, a bad line and both formats' \
  '127.000.000.003 - 127.0.0.3 , 000 , where amuled lives' \
  'not a range at all' \
  '10.0.0.0 - 10.0.0.255 , 200 , let through: level 200 >= 127' \
  'Some block list:198.51.100.0-198.51.100.255' >"$T/block.dat"
start_mule M "$T/m" "$MP" "shared_dirs = $T/m/share" "servers = 127.0.0.1:$SP" \
  "ipfilter = $T/block.dat" || { finish; exit 1; }
M="$T/m"
J() { mcli "$M" --json ipfilter; }
jm() { J | jq -e "$1" >/dev/null; }
hits() { J | jq -r ".hits.$1"; }

check "the list is loaded: 2 ranges kept of 3 read (one of level 200), 1 bad line" \
  eventually 10 jm '.state == "loaded" and .ranges == 2 and .bad_lines == 1 and .lines == 3'
check "... from the file, at a time" jm ".loaded_from == \"$T/block.dat\" and .loaded_at > 0"
check "muleteer ipfilter prints it" eval "mcli '$M' ipfilter | grep -qF 'ranges: 2 (3 line(s) read, 1 bad'"
lowid() { mcli "$M" --json server | grep -q '"lowid": *true'; }
check "M logs in to the server at 127.0.0.1 (not filtered), a LowID" eventually 30 lowid

# ---- a source at 127.0.0.3 is dropped ----
X=0123456789abcdef0123456789abcdef
mcli "$M" add "ed2k://|file|other.bin|1000|$X|/|sources,127.0.0.3:$AP|/" >/dev/null
dl() { mcli "$1" --json downloads | jq -c --arg h "$2" '.downloads[] | select(.hash == $h)'; }
dropped() { dl "$M" "$X" | jq -e '.sources_dropped.filtered == 1 and .sources.total == 0' >/dev/null; }
check "a link source at 127.0.0.3 is dropped as filtered" eventually 10 dropped
check "... and counted" eval '[ "$(hits sources)" -ge 1 ]'

# ---- a server.met import skips a server at 127.0.0.3 ----
python3 - "$T/import.met" <<'PY'
import struct, sys
# version 0xE0, two servers without tags: 127.0.0.3:4661 and 127.0.0.4:4661
met = b"\xe0" + struct.pack("<I", 2)
for last in (3, 4):
    met += bytes([127, 0, 0, last]) + struct.pack("<HI", 4661, 0)
open(sys.argv[1], "wb").write(met)
PY
out=$(mcli "$M" servers import "$T/import.met" 2>&1)
check "a server.met import skips the filtered server: 1 new of 2" grep -q "1 new server(s) of 2" <<<"$out"
check "... 127.0.0.4 is listed, 127.0.0.3 is not" eval \
  "mcli '$M' servers | grep -q '127.0.0.4:4661' && ! mcli '$M' servers | grep -q '127.0.0.3:4661'"
check "... and counted" eval '[ "$(hits servers)" -ge 1 ]'

# ---- a connection from 127.0.0.3 is refused; one from 127.0.0.1 is not ----
from3() {
  python3 - "$MP" <<'PY'
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.3", 0))
s.settimeout(5)
s.connect(("127.0.0.1", int(sys.argv[1])))
t = time.monotonic()
try:
    closed = s.recv(1) == b""
except (ConnectionResetError, socket.timeout) as e:
    closed = isinstance(e, ConnectionResetError)
sys.exit(0 if closed and time.monotonic() - t < 2 else 1)
PY
}
check "a TCP connection from 127.0.0.3 is closed by M at once" from3
check "... and counted as a peer refused" eval '[ "$(hits peers_in)" -ge 1 ]'
start_mule A "$T/a" "$AP" || { finish; exit 1; }
A="$T/a"
mcli "$A" add "ed2k://|file|filtertest.bin|$SIZE|$H|/|sources,127.0.0.1:$MP|/" >/dev/null
a_complete() { mcli "$A" --json downloads | jq -e --arg h "$H" 'any(.finished[]?; .hash == $h)' >/dev/null; }
check "muleteerd A on 127.0.0.1 downloads the file from M meanwhile" eventually 90 a_complete
check "... bytes identical" cmp -s "$T/m/share/filtertest.bin" "$A/incoming/filtertest.bin"

# ---- amuled finds the file on the server; M does not call it back ----
# amule_start with Address=127.0.0.3: amuled listens and connects from there
AMULE_DIR[S2]=$T/s2 AMULE_TCP[S2]=$S2P AMULE_UDP[S2]=$((S2P + 1)) AMULE_EC[S2]=$((S2P + 2))
AMULE_SERVER[S2]=$SP
_amule_write_config S2
sed -i 's/^Address=127.0.0.1$/Address=127.0.0.3/' "$T/s2/amule.conf"
_amule_launch S2
check "amuled logs in to the server" eventually 60 amule_connected S2
if amule_search_download S2 filtertest filtertest.bin; then
  ok "amuled finds M's file by a search on the server and starts downloading it"
else
  not_ok "amuled finds M's file by a search on the server and starts downloading it"
  diag "$AMULE_RESULTS"
fi
OUT0=$(hits peers_out)
called() { grep -q "callback requested by 127.0.0.3:$S2P" "$M/muleteerd.log" && [ "$(hits peers_out)" -gt "$OUT0" ]; }
if eventually 60 called; then ok "M does not call amuled back at 127.0.0.3, and counts it"; else
  not_ok "M does not call amuled back at 127.0.0.3, and counts it"
  diag "$(grep -E "callback|ipfilter" "$M/muleteerd.log" | tail -n 5)"
fi
check "... amuled has nothing of the file" eval '! amule_is_complete S2 filtertest.bin &&
  [ "$(amule_progress S2 filtertest.bin)" = 0.0 -o -z "$(amule_progress S2 filtertest.bin)" ]'
check "status and metrics show the hits" eval \
  "mcli '$M' --json status | jq -e '.ipfilter.ranges == 2 and .ipfilter.hits >= 3' >/dev/null &&
   mcli '$M' --json call metrics | jq -e '.ipfilter.hits.peers_in >= 1' >/dev/null"

# ---- the list by URL (gzip); a failed fetch keeps it ----
gzip -c "$T/block.dat" >"$T/www/block.dat.gz"
: >"$T/www/empty.dat"
gzip -c "$T/www/empty.dat" >"$T/www/empty.dat.gz"
(cd "$T/www" && exec python3 -m http.server --bind 127.0.0.1 "$WP" >"$T/http.log" 2>&1) &
CLEANUP_PIDS+=("$!")
web_up() { curl -sf -o /dev/null "http://127.0.0.1:$WP/empty.dat"; }
check "a local HTTP server serves the lists" eventually 10 web_up
set_source() {
  sed -i "s|^ipfilter = .*|ipfilter = $1|" "$M/muleteer.conf"
  kill -HUP "${MULE_PID[M]}"
}
LOADS=$(J | jq .loads)
set_source "http://127.0.0.1:$WP/block.dat.gz"
url_loaded() { jm ".loads > $LOADS and .state == \"loaded\" and .loaded_from == \"http://127.0.0.1:$WP/block.dat.gz\" and .ranges == 2"; }
check "SIGHUP with a new source: the gzip list is fetched over HTTP" eventually 15 url_loaded
rm "$T/www/block.dat.gz"
LOADS=$(J | jq .loads)
mcli "$M" ipfilter reload >/dev/null
failed() { jm ".loads > $LOADS and .state == \"failed\" and (.error | test(\"404\")) and .ranges == 2"; }
check "a reload that fails (404) keeps the table in use" eventually 15 failed
check "... which still filters: a connection from 127.0.0.3 is refused" from3

# ---- an empty list: the transfers work ----
LOADS=$(J | jq .loads)
out=$(mcli "$M" --json call config-set "{\"ipfilter\": \"http://127.0.0.1:$WP/empty.dat.gz\"}")
check "config-set ipfilter: taken and written to the file" eval \
  "jq -e '.ipfilter == \"http://127.0.0.1:$WP/empty.dat.gz\" and .saved' <<<'$out' >/dev/null &&
   grep -qx 'ipfilter = http://127.0.0.1:$WP/empty.dat.gz' '$M/muleteer.conf'"
emptied() { jm ".loads > $LOADS and .state == \"loaded\" and .ranges == 0"; }
check "... the empty list by URL replaces the table at once" eventually 15 emptied
bad=$(mcli "$M" --json call config-set '{"ipfilter": "relative.dat"}' 2>&1)
check "config-set refuses a relative path" grep -q "ipfilter: expected an absolute file path" <<<"$bad"
if amule_wait_complete S2 filtertest.bin 300; then
  ok "amuled now downloads the file from M"
  check "... bytes identical" cmp -s "$T/m/share/filtertest.bin" "$T/s2/Incoming/filtertest.bin"
  check "... at 127.0.0.3, the address filtered before" \
    grep -q "upload: slot for mt-S2 (127.0.0.3:$S2P)" "$M/muleteerd.log"
else
  not_ok "amuled now downloads the file from M"
  diag "$(amule_cmd S2 show dl)" "$(grep -E "callback|mt-S2" "$M/muleteerd.log" | tail -n 5)"
fi

finish
