# lib.sh: TAP output and process clean-up for the integration tests, which
# run the real stack (PostgreSQL, muleteerd, lighttpd, the FastCGI
# programs) through run.sh in temporary directories. Source it.

: "${MT_SRCDIR:?run the integration tests through make check}"
: "${MT_BUILDDIR:?run the integration tests through make check}"
. "$MT_SRCDIR/tools/lib.sh"

TAP_N=0
TAP_FAILED=0
CLEANUP_DIRS=()
CLEANUP_PIDS=()
CLEANUP_PG=()

ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $*"; }
not_ok() { TAP_N=$((TAP_N + 1)); TAP_FAILED=$((TAP_FAILED + 1)); echo "not ok $TAP_N - $*"; }
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }

# check DESC CMD...: one test point, passing when CMD succeeds.
check() {
  local desc=$1; shift
  if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# eventually SECONDS CMD...: retries CMD every 0.2 s until it succeeds.
eventually() {
  local secs=$1; shift
  local end=$(( $(date +%s) + secs ))
  while :; do
    "$@" && return 0
    [ "$(date +%s)" -ge "$end" ] && return 1
    sleep 0.2
  done
}

# mk_tmpdir NAME: sets the variable NAME to a new temporary directory
# (removed at exit) that the service user can reach. (Not a $(...)
# function: the clean-up list must be kept by this shell.)
mk_tmpdir() {
  local d; d=$(mktemp -d /tmp/mt-it.XXXXXX)
  chmod 0755 "$d"
  CLEANUP_DIRS+=("$d")
  printf -v "$1" '%s' "$d"
}

# start_runsh VAR LOG [ENV=VALUE...]: starts ./run.sh in the background in
# its own session with MULETEER_VAR=VAR (and the given variables), using the
# existing build; sets RUNSH_PID. Waits until it says it is running.
start_runsh() {
  local var=$1 log=$2; shift 2
  env MULETEER_VAR="$var" MULETEER_BUILD="$MT_BUILDDIR" MULETEER_SKIP_BUILD=1 \
    MULETEER_KAD_NODES_URL= "$@" \
    setsid "$MT_SRCDIR/run.sh" >"$log" 2>&1 &
  RUNSH_PID=$!
  CLEANUP_PIDS+=("$RUNSH_PID")
  eventually 90 grep -q 'Press Ctrl-C to stop' "$log"
}

# stop_runsh PID: SIGTERM, then waits for run.sh to stop everything.
stop_runsh() {
  kill -TERM "$1" 2>/dev/null || return 1
  local i
  for i in $(seq 1 300); do
    kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null; return 0; }
    sleep 0.1
  done
  return 1
}

# processes_of DIR: PIDs of processes whose command line mentions DIR.
processes_of() { pgrep -f -- "$1" || true; }

# private_pg DIR: a private PostgreSQL cluster in DIR (stopped at exit) with
# a database "muleteer"; sets DB to its conninfo. $PGC is the script.
PGC="$MT_SRCDIR/tools/pgcluster.sh"
private_pg() {
  "$PGC" init "$1" >/dev/null && "$PGC" start "$1" >/dev/null && "$PGC" createdb "$1" muleteer >/dev/null
  CLEANUP_PG+=("$1")
  DB=$("$PGC" conninfo "$1")
}

# start_server_fixture VAR LOG [ARGS...]: starts the eD2K server fixture on
# a free port (in VAR) logging to LOG, and waits until it listens. A port
# taken between free_port and the bind (another test running beside) makes
# it try again with another, three times at most; the fixture's last words
# go to the test's log when it never listens.
start_server_fixture() {
  local var=$1 log=$2 try port pid; shift 2
  for try in 1 2 3; do
    port=$(free_port)
    "$MT_BUILDDIR/tests/fixtures/ed2k_server" --port "$port" --log "$log" "$@" &
    pid=$!
    if eventually 10 grep -qs listening "$log"; then
      CLEANUP_PIDS+=("$pid")
      printf -v "$var" '%s' "$port"
      return 0
    fi
    diag "the server fixture did not listen on $port (try $try):" "$(tail -n 3 "$log" 2>/dev/null)"
    kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    rm -f "$log"
  done
  return 1
}

conf_key() { sed -n "s/^[ \t]*$2[ \t]*=[ \t]*//p" "$1/muleteer.conf" | tail -n 1; }

cleanup() {
  local p d
  for p in "${CLEANUP_PIDS[@]}"; do
    kill -TERM "$p" 2>/dev/null || true
  done
  sleep 1
  for p in "${CLEANUP_PIDS[@]}"; do
    kill -KILL "$p" 2>/dev/null || true
  done
  for d in "${CLEANUP_PG[@]}" "${CLEANUP_DIRS[@]}"; do
    "$MT_SRCDIR/tools/pgcluster.sh" stop "$d" immediate >/dev/null 2>&1 || true
  done
  for d in "${CLEANUP_DIRS[@]}"; do
    # Anything still running from a test directory is stopped by PID.
    for p in $(processes_of "$d"); do kill -KILL "$p" 2>/dev/null || true; done
    # MT_KEEP_TEST_DIRS=1 keeps them (logs!) for debugging a failure.
    if [ "${MT_KEEP_TEST_DIRS:-0}" = 1 ]; then echo "# kept $d" >&2; else rm -rf "$d" "$d".*; fi
  done
}

finish() {
  echo "1..$TAP_N"
  [ "$TAP_FAILED" = 0 ]
}
