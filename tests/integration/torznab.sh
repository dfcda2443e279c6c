#!/usr/bin/env bash
# torznab.sh: the Torznab indexer (/indexer/<name>/api, docs/torznab.md) as
# Sonarr, Radarr and Prowlarr use it (../shared/arr-contract.md §2), on the
# real stack: run.sh brings up PostgreSQL, muleteerd and lighttpd with
# torznab.fcgi; the eD2K server fixture (with its hostile names) and a real
# amuled sharing files named like TV episodes and movies answer the
# searches. Caps, every error case, tvsearch and movie finding the right
# file, the cache and paging, concurrent identical searches, the empty-query
# feed, hostile names, a stopped daemon, and the magnet of a result grabbed
# through /api/v2/torrents/add until the download completes. Every answer
# is parsed with libxml2 (xmllint). TAP.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/amule.sh"
trap 'amule_stop_all; cleanup' EXIT

# xmllint (libxml2-utils, installed by run.sh check) parses every answer
command -v xmllint >/dev/null || { echo "1..1"; echo "not ok 1 - xmllint (libxml2-utils) is installed"; exit 1; }

PSQL() { as_service_user psql "$DB" -XAtq -c "$1" 2>/dev/null; }

mk_tmpdir T
SP=$(free_port); SEEDP=$(free_port); HP=$(free_port); MP=$(free_port)

# ---- the eD2K side: the server fixture and amuled sharing the files ----
"$MT_BUILDDIR/tests/fixtures/ed2k_server" --port "$SP" --name torznab-fixture --highid-all \
  --hostile-names --log "$T/server.log" &
CLEANUP_PIDS+=("$!")
eventually 10 grep -qs listening "$T/server.log" || { not_ok "the server fixture starts"; finish; exit 1; }
S=$$
EP3="Test.Show.S01E03.720p-$S.mkv"          # the episode Sonarr wants
EP4="Test.Show.S01E04.1080p-$S.mkv"
SAMPLE="Test.Show.S01E03.sample-$S.mkv"      # big enough, but a sample
SMALL="Test.Show.S01E05.720p-$S.mkv"         # under torznab_min_size_tv
MOVIE="Some.Movie.2019.1080p-$S.mkv"
MOVIE_OLD="Some.Movie.2018.1080p-$S.mkv"
HOSTILE="Hostile & <Show> \"q\" 'x'.S02E01-$S.mkv"
mkdir -p "$T/files"
for f in "$EP3" "$EP4" "$SAMPLE" "$MOVIE" "$MOVIE_OLD" "$HOSTILE"; do
  head -c 2500000 /dev/urandom >"$T/files/$f"
done
head -c 400000 /dev/urandom >"$T/files/$SMALL"
MD4=$(rhash --printf '%{ed2k}' "$T/files/$EP3")
SIZE=$(stat -c %s "$T/files/$EP3")
amule_start SEED "$T/seed" "$SEEDP" $((SEEDP + 1)) $((SEEDP + 2)) "$SP"
shared=0
for f in "$T"/files/*; do amule_share SEED "$f" && shared=$((shared + 1)); done
check "amuled shares the 7 files" [ "$shared" = 7 ]
check "amuled logs in to the server fixture" eventually 60 amule_connected SEED

# ---- Muleteer through run.sh ----
VAR="$T/var"
mkdir -p "$VAR"
PASS="tz-pass-$RANDOM$RANDOM"
KEY="tzkey$RANDOM$RANDOM$RANDOM"
cat >"$VAR/muleteer.conf" <<EOF
node_name = tz-node
state_dir = $VAR
log_file = $VAR/log/muleteerd.log
log_level = debug
tcp_port = $MP
udp_port = $((MP + 1))
web_username = sonarr
web_password = $PASS
api_key = $KEY
servers = 127.0.0.1:$SP
filter_lan = no
torznab_name = mule-test
torznab_search_timeout = 20
torznab_cache_time = 600
torznab_min_size_tv = 1
torznab_min_size_movie = 2
EOF
chmod 0600 "$VAR/muleteer.conf"
chown_service "$VAR/muleteer.conf" 2>/dev/null || true
if ! start_runsh "$VAR" "$T/runsh.out" MULETEER_HTTP_PORT="$HP"; then
  not_ok "run.sh starts the stack"; diag "$(tail -n 20 "$T/runsh.out")"; finish; exit 1
fi
DB=$(conf_key "$VAR" database)
BASE="http://127.0.0.1:$HP"
IDX="$BASE/indexer/mule-test/api"
ALL_WELL_FORMED=1

# tz QUERY [curl args...]: GET $IDX?QUERY; sets CODE, BODY, MS (time to the
# answer) and CTYPE; every body must be well-formed XML.
tz() { tzurl "$IDX?$1" "${@:2}"; }
tzurl() {
  local url=$1; shift
  local out
  out=$(curl -sS -o "$T/body" -w '%{http_code} %{time_total} %{content_type}' "$@" "$url")
  CODE=${out%% *}
  local rest=${out#* }
  MS=$(awk -v t="${rest%% *}" 'BEGIN { printf "%d", t * 1000 }')
  CTYPE=${rest#* }
  BODY=$(cat "$T/body")
  if ! xmllint --noout "$T/body" 2>/dev/null; then
    ALL_WELL_FORMED=0
    diag "not well-formed XML from $url:" "$(head -c 600 "$T/body")"
  fi
}
# x XPATH: the string value of XPATH in the last body (torznab:attr is
# matched by local-name(): xmllint --xpath binds no prefix).
x() {
  xmllint --xpath "$1" - 2>/dev/null <<<"$BODY" || true
}
err_is() { # err_is STATUS CODE
  [ "$CODE" = "$1" ] && [ "$(x 'string(/error/@code)')" = "$2" ]
}
items() { x 'count(/rss/channel/item)'; }
has_title() { [ "$(x "count(/rss/channel/item[title='$1'])")" -ge 1 ] 2>/dev/null; }
n_searches() { PSQL "SELECT count(*) FROM searches WHERE node = 'tz-node'"; }

# ================================================================= caps
tz "t=caps&apikey=$KEY"
check "caps: 200, application/rss+xml, root <caps>" \
  eval '[ "$CODE" = 200 ] && [[ "$CTYPE" == application/rss+xml* ]] && [ "$(x "name(/*)")" = caps ]'
check "caps: limits default=100 max=100" \
  eval '[ "$(x "string(/caps/limits/@default)")" = 100 ] && [ "$(x "string(/caps/limits/@max)")" = 100 ]'
check "caps: search q, tv-search q,season,ep, movie-search q,year, all available" eval '
  [ "$(x "string(/caps/searching/search/@supportedParams)")" = q ] &&
  [ "$(x "string(/caps/searching/tv-search/@supportedParams)")" = q,season,ep ] &&
  [ "$(x "string(/caps/searching/movie-search/@supportedParams)")" = q,year ] &&
  [ "$(x "count(/caps/searching/*[@available=\"yes\"])")" = 3 ]'
caps_cats() {
  local c
  [ "$(x "count(/caps/categories/category)")" = 6 ] || return 1
  for c in 2000 3000 4000 5000 7000 8000; do [ "$(x "count(/caps/categories/category[@id=$c])")" = 1 ] || return 1; done
  for c in 2030 2040 2045; do [ "$(x "count(/caps/categories/category[@id=2000]/subcat[@id=$c])")" = 1 ] || return 1; done
  for c in 5030 5040 5045; do [ "$(x "count(/caps/categories/category[@id=5000]/subcat[@id=$c])")" = 1 ] || return 1; done
}
check "caps: categories 2000 3000 4000 5000 7000 8000, TV and Movies with SD/HD/UHD" caps_cats
tzurl "$BASE/indexer/amule/api?t=caps&apikey=$PASS"
check "/indexer/amule/api answers caps, with the web password as the key" \
  eval '[ "$CODE" = 200 ] && [ "$(x "name(/*)")" = caps ]'
tzurl "$BASE/indexer/emulebb/api?t=caps" -H "X-API-Key: $KEY"
check "/indexer/emulebb/api answers caps, with the key in X-API-Key" \
  eval '[ "$CODE" = 200 ] && [ "$(x "name(/*)")" = caps ]'

# =============================================================== errors
tz "t=caps"
check "no key: 401, code 100" err_is 401 100
tz "t=caps&apikey=wrong$KEY"
check "a wrong key: 401, code 100" err_is 401 100
tz "t=caps" -H "X-API-Key: nope"
check "a wrong X-API-Key: 401, code 100" err_is 401 100
tz "t=bogus&apikey=$KEY"
check "an unknown t: 400, code 202 No such function" \
  eval 'err_is 400 202 && grep -q "No such function" <<<"$BODY"'
tz "t=search&q=a&Q=b&apikey=$KEY"
check "a parameter given twice (q and Q): 400, code 201" err_is 400 201
tz "t=tvsearch&q=x&ep=3&apikey=$KEY"
check "ep without season: 400, code 200 Missing parameter" err_is 400 200
tz "t=search&q=x&limit=101&apikey=$KEY"
check "limit=101: 400, code 201" err_is 400 201
tz "t=search&q=x&offset=-1&apikey=$KEY"
check "offset=-1: 400, code 201" err_is 400 201
tz "t=tvsearch&q=x&season=1&ep=x&apikey=$KEY"
check "ep=x: 400, code 201" err_is 400 201
tz "t=search&q=%zz&apikey=$KEY"
check "a bad percent-escape: 400, code 201" err_is 400 201
# Encoded control characters and bytes never valid in UTF-8 reach the
# program (lighttpd.conf: url-normalize off) and get a Torznab <error>,
# never lighttpd's HTML page.
for bad in "q=a%00b" "q=a%01b" "q=a%0d%0ab" "q=a%7fb" "q=%ff" "q=%c0%af" "q=%f5%80%80%80" "x=%00"; do
  tz "t=search&$bad&apikey=$KEY"
  check "$bad: 400, code 201, Torznab XML" eval \
    'err_is 400 201 && grep -q "^application/rss+xml" <<<"$CTYPE"'
done
tz "t=search&q=%c3%28&apikey=$KEY"
check "invalid UTF-8 (%c3%28): 400, code 201" err_is 400 201
tz "t=search&q=%ed%a0%80&apikey=$KEY"
check "a UTF-8 surrogate: 400, code 201" err_is 400 201
tzurl "$BASE/indexer/someone-else/api?t=caps&apikey=$KEY"
check "another indexer name: 404, code 300" err_is 404 300
tzurl "$IDX?t=caps&apikey=$KEY" -d ""
check "POST: 405, an <error>" eval '[ "$CODE" = 405 ] && [ "$(x "name(/*)")" = error ]'
check "the key never reaches lighttpd's access log" eval '! grep -qF "$KEY" "$VAR/log/lighttpd-access.log"'

# ============================================================ searching
amuled_offered() { grep -qE "offer conn=1 id=[0-9]* files=7" "$T/server.log"; }
check "amuled has published its 7 files on the server" eventually 150 amuled_offered
check "muleteerd is connected to the server" eventually 60 \
  eval '"$MT_BUILDDIR/bin/muleteer" --socket "$VAR/run/muleteerd.sock" --json status | jq -e ".server.state == \"connected\"" >/dev/null'

before=$(n_searches)
tz "t=tvsearch&q=Test+Show&season=1&ep=3&cat=5030,5040&extended=1&offset=0&limit=100&tvdbid=1&apikey=$KEY"
COLD_MS=$MS
check "tvsearch q season ep: 200 within 20 s (${COLD_MS} ms)" eval '[ "$CODE" = 200 ] && [ "$MS" -lt 20500 ]'
check "... RSS 2.0 with the torznab namespace" eval '[ "$(x "string(/rss/@version)")" = 2.0 ] &&
  grep -qF "xmlns:torznab=\"http://torznab.com/schemas/2015/feed\"" <<<"$BODY"'
check "... finds $EP3, and only it (no S01E04, no sample, no small file)" eval \
  '[ "$(items)" = 1 ] && has_title "$EP3"'
MAGNET="magnet:?xt=urn:btih:${MD4}00000000&xt=urn:ed2k:$MD4&xl=$SIZE&dn=$(jq -rn --arg s "$EP3" '$s|@uri')&tr=udp%3A%2F%2Ftracker.muleteer.invalid%3A6969%2Fannounce"
check "... its enclosure is the magnet, of the magnet type" eval '
  [ "$(x "string(/rss/channel/item[1]/enclosure/@url)")" = "$MAGNET" ] &&
  [ "$(x "string(/rss/channel/item[1]/enclosure/@type)")" = "application/x-bittorrent;x-scheme-handler/magnet" ] &&
  [ "$(x "string(/rss/channel/item[1]/enclosure/@length)")" = "$SIZE" ]'
attr() { x "string(/rss/channel/item[1]/*[local-name()='attr' and @name='$1']/@value)"; }
check "... torznab:attr magneturl is the magnet" eval '[ "$(attr magneturl)" = "$MAGNET" ]'
check "... torznab:attr infohash is the 40-hex btih, size the size" \
  eval '[ "$(attr infohash)" = "${MD4}00000000" ] && [ "$(attr size)" = "$SIZE" ]'
check "... seeders >= 1 and peers >= 1 (amuled is a source)" \
  eval '[ "$(attr seeders)" -ge 1 ] && [ "$(attr peers)" -ge 1 ]'
check "... categories 5000 and 5040, as elements and as attrs" eval '
  [ "$(x "string(/rss/channel/item[1]/category[1])")" = 5000 ] &&
  [ "$(x "string(/rss/channel/item[1]/category[2])")" = 5040 ] &&
  [ "$(x "count(/rss/channel/item[1]/*[local-name()=\"attr\" and @name=\"category\"])")" = 2 ]'
check "... guid urn:ed2k:<md4>, an RFC 822 pubDate, size" eval '
  [ "$(x "string(/rss/channel/item[1]/guid)")" = "urn:ed2k:$MD4" ] &&
  date -d "$(x "string(/rss/channel/item[1]/pubDate)")" +%s >/dev/null 2>&1 &&
  x "string(/rss/channel/item[1]/pubDate)" | grep -qE "^[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} \+0000$" &&
  [ "$(x "string(/rss/channel/item[1]/size)")" = "$SIZE" ]'
check "... one new search was asked of the daemon" eval '[ "$(n_searches)" = $((before + 1)) ]'
check "... the result's origin is kept: the server (search_results.origins)" eval \
  '[ "$(PSQL "SELECT origins FROM search_results WHERE hash = '"'"'$MD4'"'"' LIMIT 1")" = "{server}" ]'
tz "t=tvsearch&q=Test+Show&season=1&ep=3&cat=5030,5040&extended=1&offset=0&limit=100&apikey=$KEY"
CACHED_MS=$MS
check "the same request again: answered from the cache (${CACHED_MS} ms, no new search)" \
  eval '[ "$CODE" = 200 ] && [ "$(items)" = 1 ] && has_title "$EP3" && [ "$(n_searches)" = $((before + 1)) ] && [ "$MS" -lt 1000 ]'

tz "t=movie&q=Some+Movie&year=2019&cat=2000,2040&imdbid=123&apikey=$KEY"
check "movie q year: finds $MOVIE and not the 2018 one, categories 2000 and 2040" eval '
  [ "$CODE" = 200 ] && [ "$(items)" = 1 ] && has_title "$MOVIE" &&
  [ "$(x "string(/rss/channel/item[1]/category[2])")" = 2040 ]'

# paging over a cached set: t=search without categories keeps every file
tz "t=search&q=Test+Show&limit=2&apikey=$KEY"
p0=$(x 'string(/rss/channel/item[1]/guid)')$(x 'string(/rss/channel/item[2]/guid)')
n0=$(items)
searches_now=$(n_searches)
tz "t=search&q=Test+Show&limit=2&offset=2&apikey=$KEY"
p1=$(x 'string(/rss/channel/item[1]/guid)')
check "paging: limit=2 gives 2 items, offset=2 others, from the cache (no new search)" \
  eval '[ "$n0" = 2 ] && [ "$CODE" = 200 ] && [ "$(items)" -ge 1 ] && [ -n "$p1" ] &&
        ! grep -qF "$p1" <<<"$p0" && [ "$(n_searches)" = "$searches_now" ]'
tz "t=search&q=Never+Searched+Before&offset=100&apikey=$KEY"
check "offset > 0 of a search never made: an empty feed, no network search" \
  eval '[ "$CODE" = 200 ] && [ "$(items)" = 0 ] && [ "$(n_searches)" = "$searches_now" ]'

# concurrent identical searches share one network search
Q="t=tvsearch&q=Test+Show&season=1&ep=4&apikey=$KEY"
curl -sS -o "$T/c1" "$IDX?$Q" & c1=$!
curl -sS -o "$T/c2" "$IDX?$Q" & c2=$!
wait "$c1" "$c2"
check "two identical searches at once: both find S01E04, one search row" eval '
  grep -qF "$EP4" "$T/c1" && grep -qF "$EP4" "$T/c2" &&
  xmllint --noout "$T/c1" "$T/c2" 2>/dev/null &&
  [ "$(PSQL "SELECT count(*) FROM searches WHERE normalized LIKE '"'"'%S01E04%'"'"'")" = 1 ]'

# hostile names: amuled's file with & < quotes, the fixture's six
tz "t=search&q=Hostile&apikey=$KEY"
hostile_ok() {
  [ "$CODE" = 200 ] &&
  [ "$(xmllint --xpath 'string(/rss/channel/item[contains(title, "Hostile")]/title)' "$T/body" 2>/dev/null)" = "$HOSTILE" ] &&
  grep -qF "Hostile &amp; &lt;Show&gt;" "$T/body"
}
check "a name with & < \" ' comes back intact (escaped) in a well-formed feed" hostile_ok
check "the fixture's hostile names (paths, CR LF, control bytes, invalid UTF-8) are in it, well formed" \
  eval '[ "$(items)" -ge 6 ] && [ "$ALL_WELL_FORMED" = 1 ]'

# the empty query (RSS sync, Test button) answers what is known
tz "t=tvsearch&cat=5030,5040&extended=1&offset=0&limit=100&apikey=$KEY"
check "tvsearch without q: recent TV results, not empty, video only" eval '
  [ "$CODE" = 200 ] && [ "$(items)" -ge 2 ] && has_title "$EP3" && ! has_title "$MOVIE" && ! has_title "$SAMPLE"'
tz "t=movie&cat=2000,2010,2020,2030,2040,2045,2050,2060&extended=1&offset=0&limit=100&apikey=$KEY"
check "movie without q: not empty" eval '[ "$CODE" = 200 ] && [ "$(items)" -ge 1 ] && has_title "$MOVIE"'

# a daemon that does not answer: 503 code 900, the cache still answers
DPID=$("$MT_BUILDDIR/bin/muleteer" --socket "$VAR/run/muleteerd.sock" --json status | jq -r .pid)
kill -STOP "$DPID"
tz "t=search&q=Not+Cached+Yet&apikey=$KEY"
check "a stopped daemon and nothing cached: 503, code 900" err_is 503 900
tz "t=movie&q=Some+Movie&year=2019&cat=2000,2040&apikey=$KEY"
check "... while a cached search still answers 200" eval '[ "$CODE" = 200 ] && has_title "$MOVIE"'
kill -CONT "$DPID"

# =============================================== grab: the magnet, as Sonarr
API="$BASE/api/v2"
code=$(curl -sS -o "$T/add" -w '%{http_code}' -H "Authorization: Bearer $KEY" \
  --data-urlencode "urls=$MAGNET" --data-urlencode category=tv-sonarr "$API/torrents/add")
check "the feed's magnet, posted to /api/v2/torrents/add: 200 Ok." eval '[ "$code" = 200 ] && [ "$(cat "$T/add")" = Ok. ]'
info() { curl -sS -H "Authorization: Bearer $KEY" "$API/torrents/info?hashes=${MD4}00000000"; }
check "torrents/info lists it under the same 40-hex hash" eventually 5 \
  eval 'info | jq -e --arg h "${MD4}00000000" ".[0].hash == \$h" >/dev/null'
done_() { info | jq -e '.[0].progress == 1' >/dev/null; }
if eventually 300 done_; then
  CONTENT=$(info | jq -r '.[0].content_path')
  check "the download completes: the same bytes as amuled's file" cmp -s "$CONTENT" "$T/files/$EP3"
else
  not_ok "the download completes"
  diag "$(info)"
fi
tz "t=tvsearch&cat=5030,5040&apikey=$KEY"
check "the finished download is in the empty-query feed" eval '[ "$CODE" = 200 ] && has_title "$EP3"'

# no network: disconnected, the server list empty
CLI=("$MT_BUILDDIR/bin/muleteer" --socket "$VAR/run/muleteerd.sock")
"${CLI[@]}" call disconnect '{}' >/dev/null 2>&1
"${CLI[@]}" call server-remove "{\"address\":\"127.0.0.1\",\"port\":$SP}" >/dev/null 2>&1
tz "t=search&q=Nothing+Cached+Here&apikey=$KEY"
check "no server to ask and nothing cached: 503, code 900" err_is 503 900
tz "t=tvsearch&q=Test+Show&season=1&ep=3&cat=5030,5040&apikey=$KEY"
check "... while a cached search still answers 200" eval '[ "$CODE" = 200 ] && has_title "$EP3"'

check "every answer was well-formed XML (libxml2)" [ "$ALL_WELL_FORMED" = 1 ]
diag "tvsearch cold: ${COLD_MS} ms, cached repeat: ${CACHED_MS} ms"

stop_runsh "$RUNSH_PID"
finish
