# bench_lib.sh: what bench_transfer.sh and bench_memory.sh share: the build
# they use, ports, muleteerd instances, and the CPU time and memory of a
# process from /proc. Source it (bash) after setting BUILD; it sources the
# integration-test kits (tests/integration/lib.sh for clean-up by PID and
# temporary dirs, amule.sh for amuled) and needs MT_SRCDIR/MT_BUILDDIR,
# which it sets.

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export MT_SRCDIR=$BENCH_ROOT MT_BUILDDIR=$BUILD
. "$BENCH_ROOT/tests/integration/lib.sh"
. "$BENCH_ROOT/tests/integration/amule.sh"

# mk_tmpdir NAME: lib.sh's, with a prefix of our own (mt-bench, not the
# integration tests' mt-it, which test runs may clear).
mk_tmpdir() {
  local d; d=$(mktemp -d "${TMPDIR:-/tmp}/mt-bench.XXXXXX")
  chmod 0755 "$d"
  CLEANUP_DIRS+=("$d")
  printf -v "$1" '%s' "$d"
}

CLI="$BUILD/bin/muleteer"
CLK_TCK=$(getconf CLK_TCK)
declare -gA MULE_PID=() MULE_DIR=() CPU_DONE=()

# bench_require PROG...: exits with a message naming the missing programs.
bench_require() {
  local p missing=()
  for p in "$@"; do command -v "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} = 0 ] && return 0
  echo "$(basename "$0"): not installed: ${missing[*]} (Debian: amule-daemon amule-utils" \
       "rhash iproute2)" >&2
  exit 1
}

# bench_require_build FILE...: the build's programs, relative to BUILD.
bench_require_build() {
  local f
  for f in "$@"; do
    if [ ! -x "$BUILD/$f" ]; then
      echo "$(basename "$0"): $BUILD/$f is missing: run 'make bench-programs' in $BUILD" >&2
      exit 1
    fi
  done
  if grep -q __asan_init "$BUILD/bin/muleteerd" 2>/dev/null; then
    echo "# note: $BUILD was configured with --enable-sanitizers: Muleteer's CPU and memory"
    echo "#   figures are inflated; build without (see the head of this script)"
  fi
}

# pick_ports VAR COUNT: the first of COUNT consecutive ports that are free
# (TCP and UDP) and that no other pick_ports took: muleteerd uses 2 (TCP,
# UDP), amuled 4 (TCP, UDP, EC, and TCP + 3 for its server-UDP socket), the
# server fixture 5 (TCP, and TCP + 4 for UDP).
declare -gA _TAKEN=()
pick_ports() {
  local p i ok
  while :; do
    p=$(free_port); ok=1
    for ((i = 0; i < $2; i++)); do
      if [ -n "${_TAKEN[$((p + i))]:-}" ] || port_in_use $((p + i)) tcp ||
         port_in_use $((p + i)) udp; then ok=0; break; fi
    done
    [ $ok = 1 ] && break
  done
  for ((i = 0; i < $2; i++)); do _TAKEN[$((p + i))]=1; done
  printf -v "$1" '%s' "$p"
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# cpu_ticks PID: user + system clock ticks the process has used so far (0
# when it is gone). The command name may hold spaces: count from its ')'.
cpu_ticks() {
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
  s=${s##*) }
  # shellcheck disable=SC2086 # split into the fields
  set -- $s
  echo $(( ${12} + ${13} ))
}

# proc_kib PID FIELD: a /proc/PID/status field in KiB (VmRSS, VmHWM).
proc_kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null; }

# pss_kib PID...: the proportional set size of the processes together, in
# KiB (shared pages counted once over their sharers: PostgreSQL's shared
# buffers once for the whole cluster).
pss_kib() {
  local p t=0 v
  for p in "$@"; do
    v=$(awk '$1 == "Pss:" { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null)
    t=$((t + ${v:-0}))
  done
  echo "$t"
}

# pg_pids DIR: the PIDs of the PostgreSQL cluster in DIR (tools/pgcluster.sh):
# the postmaster and its children.
pg_pids() {
  local pm; pm=$(head -n 1 "$1/pg/data/postmaster.pid" 2>/dev/null) || return 0
  echo "$pm" $(pgrep -P "$pm")
}

# cpu_of NAME: ticks used by the muleteerd or amuled called NAME, summed
# over its restarts (CPU_DONE keeps what the stopped processes used).
cpu_of() {
  local pid=${MULE_PID[$1]:-${AMULE_PID[$1]:-}}
  local t=0
  [ -n "$pid" ] && t=$(cpu_ticks "$pid")
  echo $(( ${CPU_DONE[$1]:-0} + t ))
}
ticks_s() { awk -v t="$1" -v h="$CLK_TCK" 'BEGIN { printf "%.1f", t / h }'; }

# amule_stop from amule.sh, keeping the CPU time of the process it stops
# (read just before: a restart in amule_wait_complete stops it this way).
eval "$(declare -f amule_stop | sed '1s/^amule_stop/_amule_stop_orig/')"
amule_stop() {
  local pid=${AMULE_PID[$1]:-}
  [ -n "$pid" ] && CPU_DONE[$1]=$(( ${CPU_DONE[$1]:-0} + $(cpu_ticks "$pid") ))
  _amule_stop_orig "$@"
}

# start_mule NAME DIR TCP_PORT [CONF-LINE...]: muleteerd with its own state
# directory and no database (none is needed to transfer; its writer queues
# and drops the oldest jobs, max 10,000) unless MULE_DATABASE holds a
# conninfo, in its own session; true once it answers on its control socket.
start_mule() {
  local name=$1 dir=$2 tcp=$3; shift 3
  mkdir -p "$dir"
  {
    echo "state_dir = $dir"
    echo "database = ${MULE_DATABASE:-host=$dir/no-database dbname=none}"
    echo "log_file = $dir/muleteerd.log"
    echo "log_level = ${MULE_LOG_LEVEL:-info}"
    echo "nickname = mule-$name"
    echo "tcp_port = $tcp"
    echo "udp_port = $((tcp + 1))"
    echo "filter_lan = no"
    echo "rescan_interval = 0"
    # no nodes.dat from the Internet on a first start, unless the test sets one
    printf '%s\n' "$@" | grep -q '^kad_nodes_url' || echo "kad_nodes_url ="
    printf '%s\n' "$@"
  } >"$dir/muleteer.conf"
  setsid "$BUILD/bin/muleteerd" -c "$dir/muleteer.conf" 2>>"$dir/stderr" </dev/null &
  MULE_PID[$name]=$!
  MULE_DIR[$name]=$dir
  CLEANUP_PIDS+=("$!")
  eventually 15 "$CLI" --socket "$dir/run/muleteerd.sock" ping >/dev/null 2>&1
}

# mcli NAME ARGS...: the muleteer client on NAME's control socket.
mcli() { local n=$1; shift; "$CLI" --socket "${MULE_DIR[$n]}/run/muleteerd.sock" --timeout 20 "$@"; }

# stop_mule NAME: SIGTERM by PID, SIGKILL after 30 s; keeps its CPU time.
stop_mule() {
  local n=$1 pid=${MULE_PID[$1]:-} i
  [ -n "$pid" ] || return 0
  CPU_DONE[$n]=$(( ${CPU_DONE[$n]:-0} + $(cpu_ticks "$pid") ))
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && { echo "# muleteerd $n ignored SIGTERM for 30 s: SIGKILL"; kill -KILL "$pid"; }
  wait "$pid" 2>/dev/null
  MULE_PID[$n]=
}

stop_all_mules() { local n; for n in "${!MULE_PID[@]}"; do stop_mule "$n"; done; }

# json_num JSON KEY: the first number for "KEY" in the client's JSON.
json_num() { sed -n "s/.*\"$2\": *\([0-9]*\).*/\1/p" <<<"$1" | head -n 1; }
