# mule.sh: sourced by integration tests that run muleteerd directly (no
# run.sh, no database), one state directory per daemon.
#   start_mule NAME DIR TCP_PORT [CONF-LINE...]  start it in its own session;
#                                  MULE_PID[NAME] and MULE_DIR[NAME] hold its
#                                  pid and state directory
#   mcli DIR ARGS...                the muleteer CLI on that daemon's socket
#   json_num JSON KEY               the first number under KEY
# MULE_LOG_LEVEL (default debug), MULE_CLI_TIMEOUT (default 10),
# MULE_FILTER_LAN (default no) and MULE_SAVE_INTERVAL (default 1) tune them;
# MULE_DATABASE, a libpq connection string, gives the daemon a database;
# MULE_WRAP, a command that execs its arguments (e.g. "prlimit --nofile=128"),
# starts the daemon through it.

CLI="$MT_BUILDDIR/bin/muleteer"
declare -A MULE_PID=() MULE_DIR=()

start_mule() {
  local name=$1 dir=$2 tcp=$3; shift 3
  mkdir -p "$dir"
  {
    echo "state_dir = $dir"
    echo "database = ${MULE_DATABASE:-host=$dir/no-database dbname=none}"
    echo "log_file = $dir/muleteerd.log"
    echo "log_level = ${MULE_LOG_LEVEL:-debug}"
    echo "nickname = mule-$name"
    echo "tcp_port = $tcp"
    echo "udp_port = $((tcp + 1))"
    echo "filter_lan = ${MULE_FILTER_LAN:-no}"
    echo "save_interval = ${MULE_SAVE_INTERVAL:-1}"
    echo "rescan_interval = 0"
    # no nodes.dat from the Internet on a first start, unless the test sets one
    printf '%s\n' "$@" | grep -q '^kad_nodes_url' || echo "kad_nodes_url ="
    printf '%s\n' "$@"
  } >"$dir/muleteer.conf"
  # shellcheck disable=SC2086 # MULE_WRAP is a command line
  setsid ${MULE_WRAP:-} "$MT_BUILDDIR/bin/muleteerd" -c "$dir/muleteer.conf" 2>>"$dir/stderr" &
  MULE_PID[$name]=$!
  MULE_DIR[$name]=$dir
  CLEANUP_PIDS+=("$!")
  if ! eventually 20 "$CLI" --socket "$dir/run/muleteerd.sock" ping >/dev/null 2>&1; then
    # say why in the test's log: the directory is gone after the run
    diag "muleteerd $name did not start:" "$(tail -n 5 "$dir/stderr" "$dir/muleteerd.log" 2>&1)"
    return 1
  fi
}

mcli() { local dir=$1; shift; "$CLI" --socket "$dir/run/muleteerd.sock" --timeout "${MULE_CLI_TIMEOUT:-10}" "$@"; }

json_num() { sed -n "s/.*\"$2\": *\([0-9]*\).*/\1/p" <<<"$1" | head -n 1; }
