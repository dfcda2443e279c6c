#!/usr/bin/env bash
# run.sh: Muleteer's two-command set-up. `./run.sh` installs what is
# missing, builds, starts PostgreSQL, muleteerd and lighttpd and stays in the
# foreground until Ctrl-C; `./run.sh check` does the same set-up and then
# runs every test, ending with the line "N passed, M failed".
#
# Environment (all optional):
#   MULETEER_VAR        state directory (default: var/ beside this script)
#   MULETEER_HTTP_PORT  HTTP port (8080); MULETEER_HTTP_BIND address (127.0.0.1)
#   MULETEER_TCP_PORT   eD2K TCP port (4662); MULETEER_UDP_PORT eD2K UDP port (4672)
#   MULETEER_KAD_NODES_URL  kad_nodes_url, when set (empty: no nodes.dat fetched
#                       on a first start; the tests set it so)
#   MULETEER_FCGI_PROCS processes lighttpd runs of each FastCGI program (4)
#   MULETEER_DB         libpq connection string of another PostgreSQL to use
#                       instead of the private cluster in $MULETEER_VAR/pg
#   MULETEER_BUILD      build directory (default: build/ beside this script)
#   MULETEER_CONFIGURE_FLAGS  extra ./configure flags (CI: --enable-werror
#                       --enable-sanitizers); a change reconfigures
#   MULETEER_FUZZ_SECONDS  seconds per fuzz target in `check` (default 15; 0: no
#                       libFuzzer run, the corpora are still replayed)
#   MULETEER_SKIP_BUILD=1  use the existing build (no package or build step)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$ROOT/tools/lib.sh"

MODE=${1:-run}
case "$MODE" in
  run|check) ;;
  -h|--help|help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: ./run.sh [check]" >&2; exit 2 ;;
esac

VAR=${MULETEER_VAR:-$ROOT/var}
mkdir -p "$VAR"
VAR=$(cd "$VAR" && pwd)
BUILD=${MULETEER_BUILD:-$ROOT/build}
HTTP_PORT=${MULETEER_HTTP_PORT:-8080}
HTTP_BIND=${MULETEER_HTTP_BIND:-127.0.0.1}
FCGI_PROCS=${MULETEER_FCGI_PROCS:-4}
CONF="$VAR/muleteer.conf"

say() { printf '==> %s\n' "$*"; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

valid_port() { [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge 1 ] && [ "$1" -le 65535 ]; }
valid_port "$HTTP_PORT" || die "MULETEER_HTTP_PORT must be a port number (1-65535), not \"$HTTP_PORT\""
[[ "$FCGI_PROCS" =~ ^[0-9]+$ ]] && [ "$FCGI_PROCS" -ge 1 ] && [ "$FCGI_PROCS" -le 64 ] ||
  die "MULETEER_FCGI_PROCS must be a number of processes (1-64), not \"$FCGI_PROCS\""
for v in MULETEER_TCP_PORT MULETEER_UDP_PORT; do
  if [ -n "${!v:-}" ] && ! valid_port "${!v}"; then die "$v must be a port number (1-65535), not \"${!v}\""; fi
done

# ---------------------------------------------------------------- packages
RUN_PKGS="build-essential autoconf automake pkg-config libfcgi-dev libjson-c-dev
  libxml2-dev libpq-dev check libevent-dev nettle-dev libgmp-dev zlib1g-dev libcurl4-openssl-dev postgresql
  postgresql-client lighttpd curl iproute2 procps libwebsockets-dev libminiupnpc-dev libnatpmp-dev"
CHECK_PKGS="rhash clang libclang-rt-dev socat amule-daemon amule-utils nginx-light spawn-fcgi apache2
  libapache2-mod-fcgid jq libxml2-utils prometheus python3 chromium python3-websockets fonts-dejavu-core
  miniupnpd-nftables miniupnpc natpmpc nftables debhelper lintian debootstrap fakeroot"

install_packages() {
  local want="$RUN_PKGS" missing=() p
  [ "$MODE" = check ] && want="$want $CHECK_PKGS"
  for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    die "missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})"
  fi
  say "installing packages: ${missing[*]}"
  # Keep the packages' own services (lighttpd on port 80, the system
  # PostgreSQL cluster) from starting: Muleteer runs its own instances.
  local policy=/usr/sbin/policy-rc.d added_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; added_policy=1
  fi
  mkdir -p "$VAR/log"
  local log="$VAR/log/apt.log"
  if ! { DEBIAN_FRONTEND=noninteractive apt-get update -q &&
         DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    [ $added_policy = 1 ] && rm -f "$policy"
    tail -n 20 "$log" >&2
    die "package installation failed (full log: $log)"
  fi
  [ $added_policy = 1 ] && rm -f "$policy"
  return 0
}

# ------------------------------------------------------------------- build
build() {
  local flags=${MULETEER_CONFIGURE_FLAGS:-}
  if [ ! -x "$ROOT/configure" ] || [ "$ROOT/configure.ac" -nt "$ROOT/configure" ]; then
    say "generating configure"
    (cd "$ROOT" && ./autogen.sh) >"$VAR/autogen.log" 2>&1 || { tail -n 20 "$VAR/autogen.log" >&2; die "autogen.sh failed"; }
  fi
  mkdir -p "$BUILD"
  if [ ! -f "$BUILD/config.status" ] || [ "$(cat "$BUILD/.configure-flags" 2>/dev/null)" != "$flags" ]; then
    say "configuring${flags:+ ($flags)}"
    # shellcheck disable=SC2086
    (cd "$BUILD" && "$ROOT/configure" $flags) >"$BUILD/configure.out" 2>&1 ||
      { tail -n 20 "$BUILD/configure.out" >&2; die "configure failed (see $BUILD/config.log)"; }
    printf '%s' "$flags" >"$BUILD/.configure-flags"
  fi
  say "building"
  make -C "$BUILD" -j"$(nproc)" >"$BUILD/make.out" 2>&1 ||
    { grep -E 'error|Error' "$BUILD/make.out" | head -n 30 >&2; die "build failed (full output: $BUILD/make.out)"; }
}

# -------------------------------------------------------- state and config
PG_STARTED=0
prepare_state() {
  ensure_service_user
  make_traversable "$VAR"
  make_traversable "$BUILD"
  make_traversable "$ROOT"
  mkdir -p "$VAR/run" "$VAR/log" "$VAR/www" "$VAR/tmp"
  chmod 0750 "$VAR" "$VAR/run"
  chown_service "$VAR" "$VAR/run" "$VAR/log" "$VAR/www" "$VAR/tmp"
  install_www
}

# install_www: the web page's files (www/) into $VAR/www, lighttpd's
# document root, replacing what an earlier version put there (files of
# other names are left alone). Readable by the service user, not writable.
install_www() {
  [ -d "$ROOT/www" ] || return 0
  (cd "$ROOT/www" && find . -type d -exec mkdir -p "$VAR/www/{}" \; &&
     find . -type f -exec cp -f {} "$VAR/www/{}" \;)
  find "$VAR/www" -type d -exec chmod 0755 {} + && find "$VAR/www" -type f -exec chmod 0644 {} +
}

# set_key KEY VALUE: sets KEY in muleteer.conf, replacing its line.
set_key() {
  local tmp="$CONF.tmp.$$"
  awk -v k="$1" -v v="$2" '
    BEGIN { done = 0 }
    $0 ~ "^[ \t]*" k "[ \t]*=" { if (!done) print k " = " v; done = 1; next }
    { print }
    END { if (!done) print k " = " v }' "$CONF" >"$tmp"
  chmod 0600 "$tmp"; chown_service "$tmp"
  mv "$tmp" "$CONF"
}

get_key() { sed -n "s/^[ \t]*$1[ \t]*=[ \t]*//p" "$CONF" | tail -n 1; }

# The Torznab indexer's name: torznab_name, else its default.
indexer_name() { local n; n=$(get_key torznab_name); echo "${n:-muleteer}"; }

random_token() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

# The first web password in clear, for the banner (like Jenkins'
# initialAdminPassword); muleteer.conf only holds its PBKDF2 hash.
# `muleteer passwd` removes it.
PWFILE="$VAR/web-password"

write_config() {
  if [ ! -f "$CONF" ]; then
    say "writing $CONF with new credentials"
    local pw hash
    pw=$(random_token 12)
    hash=$(printf '%s\n' "$pw" | "$BUILD/bin/muleteer" hash-password) && [ -n "$hash" ] ||
      die "could not hash the web password with $BUILD/bin/muleteer hash-password"
    (umask 077; printf '%s\n' "$pw" >"$PWFILE")
    chown_service "$PWFILE"
    (umask 077
     cat >"$CONF" <<CONF
# muleteer.conf: written by run.sh on first run; keys are documented in
# docs/configuration.md. run.sh sets "database" on every start (set
# MULETEER_DB to use another PostgreSQL) and the ports when MULETEER_*_PORT
# are set; edit the rest freely.
node_name = $(hostname 2>/dev/null || echo muleteer)
state_dir = $VAR
log_file = $VAR/log/muleteerd.log
log_level = info
tcp_port = ${MULETEER_TCP_PORT:-4662}
udp_port = ${MULETEER_UDP_PORT:-4672}
web_username = admin
web_password = $hash
api_key = $(random_token 16)
CONF
    )
    chown_service "$CONF"
  fi
  [ -n "${MULETEER_TCP_PORT:-}" ] && set_key tcp_port "$MULETEER_TCP_PORT"
  [ -n "${MULETEER_UDP_PORT:-}" ] && set_key udp_port "$MULETEER_UDP_PORT"
  # set, even empty (the tests: no nodes.dat from the Internet)
  [ -n "${MULETEER_KAD_NODES_URL+set}" ] && set_key kad_nodes_url "$MULETEER_KAD_NODES_URL"
  set_key database "$DB"
  # The daemon must accept what we wrote before anything starts.
  as_service_user "$BUILD/bin/muleteerd" -c "$CONF" --check-config >/dev/null ||
    die "$CONF is not valid (see the message above)"
}

setup_database() {
  if [ -n "${MULETEER_DB:-}" ]; then
    DB=$MULETEER_DB
    say "using the PostgreSQL given in MULETEER_DB"
  else
    if ! "$ROOT/tools/pgcluster.sh" status "$VAR" 2>/dev/null; then
      if [ ! -f "$VAR/pg/data/PG_VERSION" ]; then
        say "initialising the database (private PostgreSQL cluster in $VAR/pg)"
        "$ROOT/tools/pgcluster.sh" init "$VAR"
      fi
      say "starting PostgreSQL"
      "$ROOT/tools/pgcluster.sh" start "$VAR"
      PG_STARTED=1
    fi
    "$ROOT/tools/pgcluster.sh" createdb "$VAR" muleteer
    DB=$("$ROOT/tools/pgcluster.sh" conninfo "$VAR")
  fi
}

migrate() {
  say "applying database migrations"
  as_service_user "$BUILD/bin/muleteerd" -c "$CONF" --migrate | sed 's/^/    /' ||
    die "database migration failed"
}

# ---------------------------------------------------------------- services
DAEMON_PID=""
HTTPD_PID=""
WS_PID=""
STOPPING=0

ctl_socket() { local s; s=$(get_key control_socket); echo "${s:-$VAR/run/muleteerd.sock}"; }

# banner_password: the password for the banner: the first one, kept in
# $PWFILE; a plain-text web_password of an older or hand-edited file; or
# word that it was changed.
banner_password() {
  local p
  if [ -f "$PWFILE" ]; then head -n 1 "$PWFILE"; return; fi
  p=$(get_key web_password)
  case "$p" in
    'pbkdf2-sha256$'*) echo "(changed with muleteer passwd; not shown)" ;;
    *) echo "$p" ;;
  esac
}

# start_daemon, start_httpd: start the service and wait until it answers;
# 1 (after showing the end of its logs) when it does not within 10 s. The
# first start dies on that; the supervisor counts it as one more crash.
start_daemon() {
  local -a su; read -r -a su <<<"$(service_prefix)"
  "${su[@]}" "$BUILD/bin/muleteerd" -c "$CONF" 2>>"$VAR/log/muleteerd.stderr" &
  DAEMON_PID=$!
  local i
  for i in $(seq 1 100); do
    if "$BUILD/bin/muleteer" --socket "$(ctl_socket)" --timeout 2 ping >/dev/null 2>&1; then return 0; fi
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.1
  done
  tail -n 5 "$VAR/log/muleteerd.log" "$VAR/log/muleteerd.stderr" >&2 2>/dev/null || true
  echo "run.sh: muleteerd did not start (logs in $VAR/log/)" >&2
  return 1
}

# start_ws: muleteer-ws, the WebSocket server lighttpd forwards /ws to;
# it is up once its socket (ws_socket) exists.
ws_socket() { local s; s=$(get_key ws_socket); echo "${s:-$VAR/run/ws.sock}"; }
start_ws() {
  local -a su; read -r -a su <<<"$(service_prefix)"
  "${su[@]}" "$BUILD/bin/muleteer-ws" -c "$CONF" 2>>"$VAR/log/muleteer-ws.log" &
  WS_PID=$!
  local i
  for i in $(seq 1 100); do
    [ -S "$(ws_socket)" ] && return 0
    kill -0 "$WS_PID" 2>/dev/null || break
    sleep 0.1
  done
  tail -n 5 "$VAR/log/muleteer-ws.log" >&2 2>/dev/null || true
  echo "run.sh: muleteer-ws did not start (logs in $VAR/log/)" >&2
  return 1
}

start_httpd() {
  local -a su; read -r -a su <<<"$(service_prefix)"
  MULETEER_VAR=$VAR MULETEER_CGI_DIR=$BUILD/cgi-bin MULETEER_HTTP_PORT=$HTTP_PORT \
    MULETEER_HTTP_BIND=$HTTP_BIND MULETEER_FCGI_PROCS=$FCGI_PROCS \
    "${su[@]}" lighttpd -D -f "$ROOT/lighttpd.conf" \
    2>>"$VAR/log/lighttpd.stderr" &
  HTTPD_PID=$!
  local i
  for i in $(seq 1 100); do
    # qbit answers: 403 (not logged in, as qBittorrent) means it runs
    case $(curl -s -o /dev/null -w '%{http_code}' "http://$HTTP_BIND:$HTTP_PORT/api/v2/app/version") in
      200|403) return 0 ;;
    esac
    kill -0 "$HTTPD_PID" 2>/dev/null || break
    sleep 0.1
  done
  tail -n 5 "$VAR/log/lighttpd-error.log" "$VAR/log/lighttpd.stderr" >&2 2>/dev/null || true
  echo "run.sh: lighttpd did not start (logs in $VAR/log/)" >&2
  return 1
}

stop_pid() { # stop_pid PID NAME: SIGTERM, wait up to 10 s, then SIGKILL
  local pid=$1 i
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "run.sh: $2 did not stop in 10 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

stop_all() {
  trap - INT TERM
  STOPPING=1
  say "stopping"
  stop_pid "$HTTPD_PID" lighttpd
  stop_pid "$WS_PID" muleteer-ws
  stop_pid "$DAEMON_PID" muleteerd
  if [ "$PG_STARTED" = 1 ]; then
    "$ROOT/tools/pgcluster.sh" stop "$VAR" fast || true
  fi
  say "stopped"
}

on_signal() { STOPPING=1; }

run_foreground() {
  if [ -S "$(ctl_socket)" ] && "$BUILD/bin/muleteer" --socket "$(ctl_socket)" --timeout 2 ping >/dev/null 2>&1; then
    die "Muleteer is already running with state directory $VAR (stop it first, or set MULETEER_VAR)"
  fi
  if port_in_use "$HTTP_PORT" tcp; then
    die "port $HTTP_PORT is already in use; set MULETEER_HTTP_PORT to another port"
  fi
  trap on_signal INT TERM
  trap 'stop_all' EXIT
  say "starting muleteerd"
  start_daemon || exit 1
  say "starting muleteer-ws"
  start_ws || exit 1
  say "starting lighttpd on http://$HTTP_BIND:$HTTP_PORT/"
  start_httpd || exit 1

  local cli="$BUILD/bin/muleteer"
  [ "$VAR" != "$ROOT/var" ] && cli="MULETEER_VAR=$VAR $cli"
  cat <<EOF

Muleteer is running.
  Web page:         http://$HTTP_BIND:$HTTP_PORT/   (sign in as $(get_key web_username), the password below)
  qBittorrent API:  http://$HTTP_BIND:$HTTP_PORT/api/v2/   (Sonarr/Radarr download client)
  Torznab indexer:  http://$HTTP_BIND:$HTTP_PORT/indexer/$(indexer_name)/   (Sonarr/Radarr/Prowlarr, the API key)
  Prometheus:       http://$HTTP_BIND:$HTTP_PORT/metrics   (loopback, or the API key: metrics_allow)
  Charts:           http://$HTTP_BIND:$HTTP_PORT/api/metrics/dashboard?range=24h   (aMuTorrent's web API, the API key)
  WebSocket:        ws://$HTTP_BIND:$HTTP_PORT/ws   (aMuTorrent's real-time protocol, after /api/auth/login)
  Username:         any (sonarr, radarr...: downloads are attributed to it)
  Password:         $(banner_password)
  API key:          $(get_key api_key)
  Command line:     $cli status
  Logs:             $VAR/log/
Press Ctrl-C to stop.
EOF

  supervise
  exit 0
}

# supervise: until Ctrl-C/SIGTERM, restarts a service that died: at most 5
# restarts in any 60 s, however far apart the crashes are; a sixth crash
# within a minute gives up and stops everything. Every command here runs
# under set -e, so each one that may fail is tested (if, ||): an untested
# failure would stop the whole stack.
supervise() {
  local restarts=() recent=() now t rc
  while [ "$STOPPING" = 0 ]; do
    sleep 1 &
    wait $! 2>/dev/null || true
    [ "$STOPPING" = 0 ] || break
    now=$(date +%s)
    if ! kill -0 "$DAEMON_PID" 2>/dev/null || ! kill -0 "$HTTPD_PID" 2>/dev/null ||
       ! kill -0 "$WS_PID" 2>/dev/null ||
       { [ "$PG_STARTED" = 1 ] && ! "$ROOT/tools/pgcluster.sh" status "$VAR"; }; then
      # the restarts of the last minute, and this one
      recent=()
      for t in ${restarts[@]+"${restarts[@]}"}; do
        if [ $((now - t)) -lt 60 ]; then recent+=("$t"); fi
      done
      restarts=(${recent[@]+"${recent[@]}"} "$now")
      if [ ${#restarts[@]} -gt 5 ]; then
        echo "run.sh: services keep dying; giving up (logs in $VAR/log/)" >&2
        exit 1
      fi
    fi
    if [ "$PG_STARTED" = 1 ] && ! "$ROOT/tools/pgcluster.sh" status "$VAR"; then
      say "PostgreSQL stopped; starting it again"
      "$ROOT/tools/pgcluster.sh" start "$VAR" || true
    fi
    # a service that fails to come back is found dead on the next round
    # and counted again
    if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
      rc=0; wait "$DAEMON_PID" 2>/dev/null || rc=$?
      say "muleteerd exited (status $rc); starting it again"
      start_daemon || true
    fi
    if ! kill -0 "$WS_PID" 2>/dev/null; then
      rc=0; wait "$WS_PID" 2>/dev/null || rc=$?
      say "muleteer-ws exited (status $rc); starting it again"
      start_ws || true
    fi
    if ! kill -0 "$HTTPD_PID" 2>/dev/null; then
      rc=0; wait "$HTTPD_PID" 2>/dev/null || rc=$?
      say "lighttpd exited (status $rc); starting it again"
      start_httpd || true
    fi
  done
}

# ------------------------------------------------------------------- tests
# count_results DIR: sums the per-test-point results of automake's .trs
# files under DIR into PASSED and FAILED (SKIP counts as failed: a skipped
# test proves nothing).
count_results() {
  local p f
  p=$(find "$1" -name '*.trs' -exec grep -h '^:test-result:' {} + 2>/dev/null | grep -cE ':test-result: (PASS|XFAIL)' || true)
  f=$(find "$1" -name '*.trs' -exec grep -h '^:test-result:' {} + 2>/dev/null | grep -cE ':test-result: (FAIL|XPASS|ERROR|SKIP)' || true)
  PASSED=$((PASSED + p)); FAILED=$((FAILED + f))
}

run_checks() {
  PASSED=0; FAILED=0
  if [ "$PG_STARTED" = 1 ]; then "$ROOT/tools/pgcluster.sh" stop "$VAR" fast; PG_STARTED=0; fi
  say "running the test suite"
  find "$BUILD" -name '*.trs' -delete 2>/dev/null || true
  make -C "$BUILD" -j"$(nproc)" check || true
  count_results "$BUILD"

  local secs=${MULETEER_FUZZ_SECONDS:-15}
  if [ "$secs" -gt 0 ]; then
    local fz="$ROOT/build-fuzz"
    say "building the libFuzzer targets (clang)"
    mkdir -p "$fz"
    if [ ! -f "$fz/config.status" ]; then
      (cd "$fz" && CC=clang "$ROOT/configure" --enable-fuzzers --enable-sanitizers) >"$fz/configure.out" 2>&1 ||
        { tail -n 20 "$fz/configure.out"; FAILED=$((FAILED + 1)); }
    fi
    if make -C "$fz" -j"$(nproc)" check TESTS= >"$fz/make.out" 2>&1; then
      say "fuzzing each target for ${secs}s"
      local out; out=$("$ROOT/tests/fuzz/run-fuzzers.sh" "$fz" "$secs" || true)
      echo "$out"
      PASSED=$((PASSED + $(echo "$out" | grep -c '^ok ' || true)))
      FAILED=$((FAILED + $(echo "$out" | grep -c '^not ok ' || true)))
    else
      grep -E 'error' "$fz/make.out" | head -n 20
      echo "not ok - building the fuzz targets failed (see $fz/make.out)"
      FAILED=$((FAILED + 1))
    fi
  fi
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" = 0 ]
}

# -------------------------------------------------------------------- main
if [ "${MULETEER_SKIP_BUILD:-0}" != 1 ]; then
  install_packages
  build
fi
[ -x "$BUILD/bin/muleteerd" ] || die "no build in $BUILD (run ./run.sh without MULETEER_SKIP_BUILD)"
prepare_state
setup_database
write_config
migrate

if [ "$MODE" = check ]; then
  trap 'if [ "$PG_STARTED" = 1 ]; then "$ROOT/tools/pgcluster.sh" stop "$VAR" fast || true; fi' EXIT
  run_checks
else
  run_foreground
fi
