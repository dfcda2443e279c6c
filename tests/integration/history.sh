#!/usr/bin/env bash
# history.sh: /api/history (cgi-bin/history, docs/web-api.md) on the real
# stack: run.sh brings up PostgreSQL, muleteerd and lighttpd with
# history.fcgi; history rows are written into the daemon's database. List,
# sort, filter, search (case-insensitive over file name, hash and user
# name; % and _ as plain characters), paging, the 10,000 newest, stats,
# one hash, delete, the CSV export (RFC 4180, formulas defused, parsed
# back with Python's csv module), injection attempts in search and sortBy
# changing nothing, and every route refusing a request without
# credentials or with a wrong key. TAP.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
trap cleanup EXIT

command -v jq >/dev/null || { echo "Bail out! jq is not installed (run.sh check installs it)"; exit 1; }
command -v python3 >/dev/null || { echo "Bail out! python3 is not installed (run.sh check installs it)"; exit 1; }

mk_tmpdir T
HP=$(free_port); MP=$(free_port)
VAR="$T/var"
mkdir -p "$VAR"
PASS="hist-pass-$RANDOM$RANDOM"
KEY="histkey$RANDOM$RANDOM$RANDOM"
cat >"$VAR/muleteer.conf" <<EOF2
node_name = hist-node
state_dir = $VAR
log_file = $VAR/log/muleteerd.log
tcp_port = $MP
udp_port = $((MP + 1))
web_username = admin
web_password = $PASS
api_key = $KEY
server_autoconnect = no
EOF2
chmod 0600 "$VAR/muleteer.conf"
chown_service "$VAR/muleteer.conf" 2>/dev/null || true
# The large export's memory checks read peak RSS: AddressSanitizer (a
# --enable-sanitizers build) would keep up to 256 MiB of freed memory in
# its quarantine and count it; a small quarantine leaves the live memory.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1"; export ASAN_OPTIONS
if ! start_runsh "$VAR" "$T/runsh.out" MULETEER_HTTP_PORT="$HP"; then
  not_ok "run.sh starts the stack"; diag "$(tail -n 20 "$T/runsh.out")"; finish; exit 1
fi
DB=$(conf_key "$VAR" database)
Q() { as_service_user psql "$DB" -XAtq -v ON_ERROR_STOP=1 -c "$1" 2>>"$T/psql.err"; }
BASE="http://127.0.0.1:$HP/api/history"
AUTH="X-API-Key: $KEY"

# req METHOD PATH [curl args...]: sets CODE, CTYPE and BODY (the answer
# is also in $T/body).
req() {
  local m=$1 p=$2; shift 2
  local out
  out=$(curl -sS -m 30 -X "$m" -o "$T/body" -w '%{http_code} %{content_type}' "$@" "$BASE$p")
  CODE=${out%% *} CTYPE=${out#* } BODY=$(cat "$T/body" 2>/dev/null)
}
get() { req GET "$1" -H "$AUTH" "${@:2}"; }
jqt() { [ "$CODE" = 200 ] && jq -e "$@" <<<"$BODY" >/dev/null 2>&1; }
bad_param() { [ "$CODE" = 400 ] && jq -e --arg p "$1" '.error.code == "bad_parameter" and .error.parameter == $p' <<<"$BODY" >/dev/null; }
rows() { Q "SELECT count(*) FROM history"; }

# ---------------------------------------------------------------- rows
# 3,000 fillers (a CSV large enough to leave as a file), then the rows the
# checks name, newer than every filler. One hash has two rows (downloaded
# twice); another node's row of that hash must never be touched.
H2=$(printf 'ab%030d' 2)
HX=$(printf 'cd%030d' 7)
Q "INSERT INTO history (node, hash, name, size, category, status, started_at, completed_at,
     downloaded_bytes, uploaded_bytes, added_by, added_via)
   SELECT 'hist-node', md5('f' || i), 'filler-' || i || '.bin', 1000 + i, 'misc',
     CASE WHEN i % 2 = 0 THEN 'completed' ELSE 'stopped' END,
     timestamptz '2026-01-01' + i * interval '1 minute', NULL, 500, 0, 'api', 'api-v2'
   FROM generate_series(1, 3000) i"
Q "INSERT INTO history (node, hash, name, size, category, status, started_at, completed_at,
     deleted_at, downloaded_bytes, uploaded_bytes, added_by, added_via) VALUES
   ('hist-node', md5('a'), 'Debian 12 DVD.iso', 4000000000, 'linux', 'completed',
    '2026-11-01 10:00Z', '2026-11-01 12:00Z', NULL, 4000000000, 8000000000, 'alice', 'native'),
   ('hist-node', md5('b'), 'Song, with \"quotes\".flac', 30000000, 'music', 'completed',
    '2026-11-02 10:00Z', '2026-11-02 10:30Z', NULL, 30000000, 15000000, 'bob', 'native'),
   ('hist-node', md5('c'), '=HYPERLINK(\"http://evil\")', 5000, 'music', 'failed',
    '2026-11-03 10:00Z', NULL, NULL, 100, 0, '@bob', 'native'),
   ('hist-node', md5('d'), 'Sale 100% off_now.zip', 6000, NULL, 'downloading',
    '2026-11-04 10:00Z', NULL, NULL, 0, 0, 'carol', 'native'),
   ('hist-node', md5('e'), 'Sale 1000 offXnow.zip', 7000, NULL, 'deleted',
    '2026-11-05 10:00Z', NULL, '2026-11-05 11:00Z', 10, 0, 'carol', 'native'),
   ('hist-node', '$H2', 'twice.mkv', 8000, 'tv', 'deleted',
    '2026-11-06 10:00Z', NULL, '2026-11-06 11:00Z', 10, 0, 'dave', 'native'),
   ('hist-node', '$H2', 'twice.mkv', 8000, 'tv', 'completed',
    '2026-11-07 10:00Z', '2026-11-07 11:00Z', NULL, 8000, 4000, 'dave', 'native'),
   ('hist-node', '$HX', 'Newest UPPER case.avi', 9000, 'tv', 'stopped',
    '2026-11-08 10:00Z', NULL, NULL, 4500, 0, 'Erin', 'native'),
   ('other-node', '$H2', 'twice.mkv', 8000, 'tv', 'completed',
    '2026-11-09 10:00Z', '2026-11-09 11:00Z', NULL, 8000, 0, 'zed', 'native')"
N=3008
check "the history rows are in the database" [ "$(rows)" = 3009 ]
check "migration 030: the trigram index of the search (pg_trgm)" \
  [ "$(Q "SELECT count(*) FROM pg_indexes WHERE indexname = 'history_search_trgm_idx'")" = 1 ]

# ---------------------------------------------------------------- auth
for r in "GET " "GET /all" "GET /stats" "GET /export?format=csv" "GET /$H2" "DELETE /$H2" \
         "GET /nope"; do
  m=${r%% *} p=${r#* }
  req "$m" "$p"
  check "$m /api/history$p without credentials: 401 JSON" \
    eval '[ "$CODE" = 401 ] && jq -e ".error.code == \"unauthorized\"" <<<"$BODY" >/dev/null'
  req "$m" "$p" -H "X-API-Key: wrong$KEY"
  check "$m /api/history$p with a wrong X-API-Key: 401" [ "$CODE" = 401 ]
  req "$m" "$p" -H "Authorization: Bearer wrong$KEY"
  check "$m /api/history$p with a wrong Bearer key: 401" [ "$CODE" = 401 ]
done
req GET "" -u "admin:wrong$PASS"
check "a wrong password (Basic): 401" [ "$CODE" = 401 ]
check "refused deletes deleted nothing" [ "$(rows)" = 3009 ]
req GET "" -u "admin:$PASS"
check "the web password (Basic) is accepted" [ "$CODE" = 200 ]
sid=$(curl -sS -m 10 -o /dev/null -c - --data-urlencode username=admin --data-urlencode "password=$PASS" \
      "http://127.0.0.1:$HP/api/v2/auth/login" | awk '$6 == "SID" { print $7 }')
req GET "" -b "SID=$sid"
check "a session cookie is accepted" [ "$CODE" = 200 ]

# ---------------------------------------------------------------- list
get ""
check "the default page: 50 entries of $N, trackUsername, application/json" \
  eval 'jqt --argjson n $N ".total == \$n and (.entries | length) == 50 and .trackUsername == true and .limit == 50 and .offset == 0" && [[ "$CTYPE" == application/json* ]]'
check "newest first, every field of an entry" jqt --arg h "$HX" '.entries[0] == {hash: $h,
  filename: "Newest UPPER case.avi", size: 9000, status: "stopped",
  started_at: "2026-11-08T10:00:00.000Z", completed_at: null, deleted_at: null,
  username: "Erin", category: "tv", downloaded: 4500, uploaded: 0, ratio: 0,
  name: "Newest UPPER case.avi", addedAt: "2026-11-08T10:00:00.000Z", completedAt: null,
  clientType: "amule", networkType: "ed2k"}'
check "ratio is uploaded over downloaded" jqt '.entries[1].filename == "twice.mkv" and .entries[1].ratio == 0.5'

get "?sortBy=size&sortDir=asc&limit=3"
check "sortBy=size asc" jqt '[.entries[].size] == [1001, 1002, 1003]'
get "?sortBy=filename&sortDir=desc&limit=2&category=tv"
check "sortBy=filename desc within category=tv" \
  jqt '[.entries[].filename] == ["twice.mkv", "twice.mkv"] and .total == 3'
get "?sortBy=completed_at&sortDir=desc&limit=1"
check "sortBy=completed_at desc: a completed row first (no completion last)" \
  jqt '.entries[0].filename == "twice.mkv" and .entries[0].completed_at == "2026-11-07T11:00:00.000Z"'
get "?sortBy=ratio&sortDir=desc&limit=1"
check "sortBy=ratio desc" jqt '.entries[0].filename == "Debian 12 DVD.iso" and .entries[0].ratio == 2'

get "?status=failed"
check "status=failed" jqt '.total == 1 and .entries[0].status == "failed"'
get "?status=completed&category=music"
check "status and category together" jqt '.total == 1 and (.entries[0].filename | startswith("Song"))'
get "?status=stopped&limit=1"
check "status=stopped counts every such row" jqt '.total == 1501'

# ---------------------------------------------------------------- search
get "?search=debian%2012"
check "search matches the file name, case-insensitively" jqt '.total == 1 and .entries[0].filename == "Debian 12 DVD.iso"'
get "?search=upper%20CASE"
check "search: upper case in the name, lower in the query" jqt '.total == 1'
get "?search=$(echo "${HX:0:14}" | tr a-f A-F)"
check "search matches a piece of the hash, in upper case" jqt --arg h "$HX" '.total == 1 and .entries[0].hash == $h'
get "?search=CAROL"
check "search matches the user name" jqt '.total == 2 and ([.entries[].username] | unique) == ["carol"]'
get "?search=100%25%20off_"
check "% and _ in search are plain characters" jqt '.total == 1 and .entries[0].filename == "Sale 100% off_now.zip"'
get "?search=filler-1999"
check "search with paging metadata" jqt '.total == 1 and .entries[0].filename == "filler-1999.bin"'

# ---------------------------------------------------------------- paging
get "?limit=20&sortBy=size&sortDir=asc"
first20=$(jq -c '[.entries[].hash]' <<<"$BODY")
get "?limit=10&offset=10&sortBy=size&sortDir=asc"
check "offset=10 limit=10 is entries 11 to 20" \
  jqt --argjson a "$first20" '[.entries[].hash] == $a[10:20] and .offset == 10'
get "?limit=500&offset=3000"
check "the last page holds the rest" jqt '(.entries | length) == 8 and .total == 3008'
get "?limit=500"
check "limit=500 is allowed" jqt '(.entries | length) == 500'

# ---------------------------------------------------------------- bad input
for l in 0 501 abc -1 ""; do
  get "?limit=$l"
  check "limit=$l: 400 naming limit" bad_param limit
done
get "?offset=-1"
check "offset=-1: 400 naming offset" bad_param offset
get "?sortDir=up"
check "sortDir=up: 400 naming sortDir" bad_param sortDir
get "?status=missing"
check "an unknown status: 400 naming status" bad_param status
for s in "started_at%3B%20DROP%20TABLE%20history" "id" "1" "(SELECT%201)" "name%20desc%2C%20id"; do
  get "?sortBy=$s"
  check "sortBy=$s: 400 naming sortBy" bad_param sortBy
done
for s in "x'%20OR%20'1'%3D'1" "'%3B%20DROP%20TABLE%20history%3B%20--" "%25'%20OR%20added_by%20LIKE%20'%25"; do
  get "?search=$s"
  check "search=$s matches nothing and fails nothing" jqt '.total == 0 and .entries == []'
done
get "?status=completed'%20OR%20'1'%3D'1"
check "an injection in status: 400" bad_param status
check "the injection attempts changed nothing" [ "$(rows)" = 3009 ]
get "?search=$(head -c 300 /dev/zero | tr '\0' a)"
check "a search over 256 bytes: 400 naming search" bad_param search
get "?search=a%0Ab"
check "a search holding a control character: 400 (lighttpd refuses it first; other servers get the program's)" \
  [ "$CODE" = 400 ]

# ---------------------------------------------------------------- all, stats
get "/all"
check "/all: every row, newest first" \
  jqt --argjson n $N '(.entries | length) == $n and .total == $n and .entries[0].filename == "Newest UPPER case.avi" and .trackUsername == true'
get "/stats"
check "/stats: counts per status" \
  jqt '. == {total: 3008, downloading: 1, completed: 1503, stopped: 1501, deleted: 2, failed: 1, pending: 1502}'

# ---------------------------------------------------------------- one hash, delete
get "/$(echo "$H2" | tr a-f A-F)"
check "GET /<hash>: its latest row (the hash in any case)" \
  jqt --arg h "$H2" '.hash == $h and .status == "completed" and .started_at == "2026-11-07T10:00:00.000Z"'
get "/$(printf 'ef%030d' 9)"
check "GET an unknown hash: 404 JSON" eval '[ "$CODE" = 404 ] && jq -e ".error.code == \"not_found\"" <<<"$BODY" >/dev/null'
get "/xyz"
check "GET a malformed hash: 400 naming hash" bad_param hash
req DELETE "/$(printf 'ef%030d' 9)" -H "$AUTH"
check "DELETE an unknown hash: 404" [ "$CODE" = 404 ]
req DELETE "/$H2" -H "$AUTH"
check "DELETE /<hash>: both rows of this node go" jqt '.success == true and .deleted == 2'
get "/$H2"
check "the hash has no history any more" [ "$CODE" = 404 ]
check "the other node's row of the hash stays" [ "$(Q "SELECT count(*) FROM history WHERE hash = '$H2'")" = 1 ]
req DELETE "/$H2" -H "$AUTH"
check "a second DELETE: 404" [ "$CODE" = 404 ]
get "?limit=1"
check "the total is two less" jqt '.total == 3006'
req PUT "/$HX" -H "$AUTH"
check "PUT: 405 JSON" eval '[ "$CODE" = 405 ] && jq -e .error <<<"$BODY" >/dev/null'

# ---------------------------------------------------------------- CSV
get "/export?format=csv&category=music&sortBy=filename&sortDir=asc"
check "export: text/csv, an attachment" eval '[ "$CODE" = 200 ] && [[ "$CTYPE" == text/csv* ]]'
cp "$T/body" "$T/music.csv"
check "export: the formula quoted and defused, quotes doubled" \
  grep -qF "\"'=HYPERLINK(\"\"http://evil\"\")\",5000,failed," "$T/music.csv"
check "export: the user name starting with @ defused" grep -qF ",\"'@bob\",music," "$T/music.csv"
check "export: three lines, each ending in CRLF" \
  eval '[ "$(tr -cd "\\r" <"$T/music.csv" | wc -c)" = 3 ] && [ "$(grep -c "" "$T/music.csv")" = 3 ]'
csvcheck() {
  python3 - "$1" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8')))
assert rows[0] == ['hash', 'filename', 'size', 'status', 'started_at', 'completed_at',
                   'deleted_at', 'username', 'category', 'downloaded', 'uploaded', 'ratio'], rows[0]
names = [r[1] for r in rows[1:]]
assert names == ["'=HYPERLINK(\"http://evil\")", 'Song, with "quotes".flac'], names
assert all(len(r) == 12 for r in rows)
assert rows[2][7] == 'bob' and rows[2][11] == '0.5'
PY
}
check "export parses back (Python csv): the names, the quoting" csvcheck "$T/music.csv"
get "/export?format=csv&search=x'%20OR%20'1'%3D'1"
check "export with an injection in search: the header alone" \
  eval '[ "$CODE" = 200 ] && [ "$(wc -l <"$T/body")" = 1 ]'
get "/export?format=xml"
check "export format=xml: 400 naming format" bad_param format
get "/export?sortBy=password"
check "export sortBy outside the list: 400" bad_param sortBy
get "/export?format=csv"
check "export of the whole history (sent as a file): every row" \
  eval '[ "$CODE" = 200 ] && [ "$(wc -l <"$T/body")" = 3007 ] && [ "$(tail -c 2 "$T/body" | od -An -c | tr -d " ")" = "\\r\\n" ]'
check "the whole export was handed to lighttpd as a file (tmp/bodies)" \
  eval '[ -n "$(ls -A "$VAR/tmp/bodies" 2>/dev/null)" ]'
check "the exports changed nothing" [ "$(rows)" = 3007 ]

# ---------------------------------------------------------------- a large export
# 200,000 more rows (category bulk; removed again below, so the checks
# after see the rows above). The export must not hold the CSV in memory:
# through lighttpd it goes batch by batch into the body file (X-Sendfile),
# and the peak RSS (VmHWM) of the history.fcgi processes grows by far less
# than the CSV; run as plain CGI (no X-Sendfile) it is streamed, without a
# Content-Length, with as little memory; and a database error half-way
# cuts the stream short (exit status 1), never a whole-looking CSV.
BULK=200000
Q "INSERT INTO history (node, hash, name, size, category, status, started_at, completed_at,
     downloaded_bytes, uploaded_bytes, added_by, added_via)
   SELECT 'hist-node', md5('bulk' || i), 'bulk-' || i || '-' || repeat('x', 100) || '.bin',
     1000 + i, 'bulk', 'completed', timestamptz '2025-01-01' + i * interval '1 second',
     timestamptz '2025-01-02', 1000 + i, 0, 'api', 'api-v2'
   FROM generate_series(1, $BULK) i"
check "the bulk rows are in" [ "$(Q "SELECT count(*) FROM history WHERE category = 'bulk'")" = $BULK ]
hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
HPIDS=$(processes_of "$MT_BUILDDIR/cgi-bin/history.fcgi")
declare -A HWM0
for p in $HPIDS; do HWM0[$p]=$(hwm "$p"); done
out=$(curl -sS -m 300 -o "$T/bulk.csv" -w '%{http_code}' -H "$AUTH" "$BASE/export?format=csv&category=bulk")
CSV_KIB=$(( $(stat -c %s "$T/bulk.csv") / 1024 ))
GROWTH=0
for p in $HPIDS; do
  g=$(( $(hwm "$p") - ${HWM0[$p]} )); [ "$g" -gt "$GROWTH" ] && GROWTH=$g
done
diag "export of $BULK rows through lighttpd: CSV $CSV_KIB KiB; history.fcgi peak RSS grew by $GROWTH KiB (VmHWM before: ${HWM0[*]} KiB)"
check "the large export through lighttpd: 200, every row" \
  eval '[ "$out" = 200 ] && [ "$(wc -l <"$T/bulk.csv")" = $((BULK + 1)) ]'
check "... history.fcgi's peak RSS grew by less than a quarter of the CSV" \
  eval '[ -n "$HPIDS" ] && [ "$CSV_KIB" -gt 20000 ] && [ $((GROWTH * 4)) -lt "$CSV_KIB" ]'

# cgi_export OUT [python]: the bulk export from history.fcgi run as a
# plain CGI program (as the service user, no MULETEER_XSENDFILE_DIR):
# the CGI output into OUT, the exit status into OUT.rc, its log into
# OUT.err, the peak RSS (KiB) into OUT.rss; with python, a database error is provoked half-way:
# once the first 600 KB arrived (the program is blocked writing the rest
# into the pipe, its transaction open), its backend is terminated.
cgi_export() {
  python3 - "$1" "${2:-}" "$MULETEER_USER" "$DB" "$MT_BUILDDIR/cgi-bin/history.fcgi" <<'PY'
import os, resource, subprocess, sys
out, cut, user, db, prog = sys.argv[1:6]
env = {'PATH': os.environ['PATH'], 'MULETEER_CONF': os.environ['VAR'] + '/muleteer.conf',
       'REQUEST_METHOD': 'GET', 'REQUEST_URI': '/api/history/export?format=csv&category=bulk',
       'QUERY_STRING': 'format=csv&category=bulk', 'REMOTE_ADDR': '127.0.0.1',
       'HTTP_X_API_KEY': os.environ['KEY']}
for k in ('ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS'):
    if k in os.environ:
        env[k] = os.environ[k]
setpriv = ['setpriv', '--reuid=' + user, '--regid=' + user, '--init-groups', '--']
p = subprocess.Popen(setpriv + [prog], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                     stderr=open(out + '.err', 'wb'), env=env)
data = b''
if cut:
    while len(data) < 600000:
        b = p.stdout.read(65536)
        if not b:
            break
        data += b
    subprocess.run(setpriv + ['psql', db, '-XAtq', '-c',
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                    "application_name = 'history' AND state = 'idle in transaction' "
                    "AND datname = current_database()"], stdout=subprocess.DEVNULL)
data += p.stdout.read()
rc = p.wait()
open(out, 'wb').write(data)
open(out + '.rc', 'w').write(str(rc))
open(out + '.rss', 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
PY
}
export VAR KEY
cgi_export "$T/cgi.out"
cgi_body_lines() { python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); print(d[d.index(b"\r\n\r\n") + 4:].count(b"\n"))' "$1"; }
CGI_RSS=$(cat "$T/cgi.out.rss")
diag "export of $BULK rows as plain CGI (streamed): peak RSS $CGI_RSS KiB"
check "as plain CGI: 200, streamed (no Content-Length), every row" \
  eval '[ "$(cat "$T/cgi.out.rc")" = 0 ] && head -c 600 "$T/cgi.out" | grep -q "^Status: 200" &&
        ! head -c 600 "$T/cgi.out" | grep -qi "^Content-Length" && [ "$(cgi_body_lines "$T/cgi.out")" = $((BULK + 1)) ]'
check "... the same CSV as through lighttpd" \
  eval 'python3 -c "import sys; d = open(sys.argv[1], \"rb\").read(); sys.exit(d[d.index(b\"\\r\\n\\r\\n\") + 4:] != open(sys.argv[2], \"rb\").read())" "$T/cgi.out" "$T/bulk.csv"'
check "... its peak RSS stays well under the CSV's size" [ $((CGI_RSS * 2)) -lt "$CSV_KIB" ]
cgi_export "$T/cut.out" cut
check "a database error half-way: the stream cut short (exit status 1, rows missing)" \
  eval '[ "$(cat "$T/cut.out.rc")" = 1 ] && [ "$(cgi_body_lines "$T/cut.out")" -lt $((BULK + 1)) ]'
check "... and logged" grep -q "failed half-way" "$T/cut.out.err"

# The streamed path through a FastCGI server: a second, minimal lighttpd
# running history.fcgi without X-Sendfile (as nginx or Apache would),
# passing the answer on as it comes (stream-response-body 2: when the
# client reads slowly, history.fcgi waits).
mkdir -p "$T/plain"; chown_service "$T/plain"
PP=$(free_port)
cat >"$T/plain/lighttpd.conf" <<EOF2
server.modules = ( "mod_fastcgi" )
server.bind = "127.0.0.1"
server.port = $PP
server.document-root = "$T/plain"
server.errorlog = "$T/plain/error.log"
server.stream-response-body = 2
fastcgi.server = ( "/api/history" => ((
  "bin-path" => "$MT_BUILDDIR/cgi-bin/history.fcgi",
  "socket" => "$T/plain/history.sock",
  "check-local" => "disable",
  "min-procs" => 1, "max-procs" => 1,
  "bin-environment" => ( "MULETEER_CONF" => "$VAR/muleteer.conf" ),
)) )
EOF2
as_service_user lighttpd -D -f "$T/plain/lighttpd.conf" 2>"$T/plain.stderr" &
PBASE="http://127.0.0.1:$PP/api/history"
eventually 20 eval '[ "$(curl -s -o /dev/null -w "%{http_code}" -H "$AUTH" "$PBASE/stats")" = 200 ]'
PLAIN_PID=$(processes_of "-f $T/plain/lighttpd.conf" | head -n 1)
CLEANUP_PIDS+=($PLAIN_PID)
# its history.fcgi: the one of this build that is not the stack's
PFCGI=
for p in $(processes_of "$MT_BUILDDIR/cgi-bin/history.fcgi"); do
  [[ " $(echo $HPIDS) " == *" $p "* ]] || PFCGI=$p
done
CLEANUP_PIDS+=($PFCGI)
P_HWM0=$(hwm "$PFCGI")
out=$(curl -sS -m 300 -D "$T/plain.h" -o "$T/plain.csv" -w '%{http_code}' -H "$AUTH" "$PBASE/export?format=csv&category=bulk")
P_GROWTH=$(( $(hwm "$PFCGI") - P_HWM0 ))
diag "export of $BULK rows through FastCGI without X-Sendfile (streamed): history.fcgi peak RSS grew by $P_GROWTH KiB (VmHWM before: $P_HWM0 KiB)"
check "streamed through FastCGI: 200, chunked (no Content-Length), the same CSV" \
  eval '[ "$out" = 200 ] && grep -qi "^Transfer-Encoding: chunked" "$T/plain.h" && ! grep -qi "^Content-Length" "$T/plain.h" && cmp -s "$T/plain.csv" "$T/bulk.csv"'
check "... history.fcgi's peak RSS grew by less than a quarter of the CSV" \
  eval '[ -n "$PFCGI" ] && [ $((P_GROWTH * 4)) -lt "$CSV_KIB" ]'
# A database error half-way: the client reads slowly, so history.fcgi
# waits with its cursor's transaction open; that backend is terminated.
curl -sS -m 300 --limit-rate 200k -o "$T/plaincut.csv" -H "$AUTH" \
  "$PBASE/export?format=csv&category=bulk" 2>"$T/plaincut.err" &
CURL_PID=$!
killed=0
for i in $(seq 1 100); do
  n=$(Q "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
         WHERE application_name = 'history' AND state = 'idle in transaction'
           AND state_change < now() - interval '500 ms' AND datname = current_database()")
  [ "${n:-0}" -gt 0 ] && { killed=1; break; }
  sleep 0.2
done
[ "$killed" = 1 ] || kill "$CURL_PID" 2>/dev/null
wait "$CURL_PID"; crc=$?
diag "curl after the cut: exit status $crc: $(cat "$T/plaincut.err")"
check "a database error half-way through FastCGI: the client's transfer fails, rows missing" \
  eval '[ "$killed" = 1 ] && [ "$crc" != 0 ] && [ "$(wc -l <"$T/plaincut.csv")" -lt $((BULK + 1)) ]'
for p in $PLAIN_PID $PFCGI; do
  kill -TERM "$p" 2>/dev/null
  eventually 10 eval '! kill -0 "$p" 2>/dev/null' || kill -KILL "$p" 2>/dev/null
done
Q "DELETE FROM history WHERE category = 'bulk'"
check "the bulk rows are gone again" [ "$(rows)" = 3007 ]

# ---------------------------------------------------------------- counts
# history_counts (024) against the rows, after inserts, deletes, and an
# UPDATE of statuses as the daemon's transitions make
counts_agree() {
  [ "$(Q "SELECT count(*) FROM (SELECT node, status, coalesce(category, '') AS category, count(*) AS k
                                  FROM history GROUP BY 1, 2, 3) a
          FULL JOIN history_counts c USING (node, status, category)
          WHERE coalesce(a.k, 0) <> coalesce(c.n, 0)")" = 0 ]
}
check "history_counts agrees with the rows" counts_agree
get "?status=stopped&limit=1"
check "the total of a status filter before the UPDATE (the page is kept)" jqt '.total == 1501'
Q "UPDATE history SET status = 'completed' WHERE node = 'hist-node' AND status = 'stopped' AND name LIKE 'filler-1%'"
check "history_counts follows an UPDATE of statuses" counts_agree
get "/stats"
check "/stats after the UPDATE" jqt '.stopped == 1501 - 556 and .completed == 1502 + 556 and .total == 3006'
get "?status=stopped&limit=1"
check "the total of a status filter after the UPDATE" jqt '.total == 945'
Q "UPDATE history SET category = 'tv' WHERE node = 'hist-node' AND name LIKE 'filler-2%'"
check "history_counts follows an UPDATE of categories" counts_agree
TV=$(Q "SELECT count(*) FROM history WHERE node = 'hist-node' AND category = 'tv'")
get "?category=tv&limit=1"
check "the total of a category filter (history_counts) is the rows' count" jqt ".total == $TV"
TVS=$(Q "SELECT count(*) FROM history WHERE node = 'hist-node' AND category = 'tv' AND status = 'completed'")
get "?category=tv&status=completed&limit=1"
check "the total of a category and a status (history_counts) is the rows' count" jqt ".total == $TVS"

# ---------------------------------------------------------------- trackUsername off
echo "track_username = no" >>"$VAR/muleteer.conf"
get "?search=alice"
check "track_username = no: no user names, trackUsername false, not searched" \
  jqt '.trackUsername == false and .total == 0'
get "?search=debian"
check "... and username is null" jqt '.entries[0].username == null'

stop_runsh "$RUNSH_PID"
finish
