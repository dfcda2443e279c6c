# lib.sh: shell functions shared by run.sh, tools/pgcluster.sh and the
# integration tests. Source it; it defines functions and MULETEER_USER only.
#
# As root, Muleteer's services (PostgreSQL, muleteerd, lighttpd and the
# FastCGI programs) run as an unprivileged system user, MULETEER_USER
# (default "muleteer"): initdb refuses root, and network daemons have no
# business running as root. As any other user they run as that user.

MULETEER_USER=${MULETEER_USER:-muleteer}

# ensure_service_user: creates the system user when running as root.
ensure_service_user() {
  [ "$(id -u)" = 0 ] || return 0
  if ! id "$MULETEER_USER" >/dev/null 2>&1; then
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin "$MULETEER_USER"
  fi
}

# make_traversable DIR: lets the service user reach DIR, giving search
# permission (o+x, nothing becomes readable) to each ancestor that lacks it,
# and saying so.
make_traversable() {
  [ "$(id -u)" = 0 ] || return 0
  # From the root down, so only the directories that really block are changed.
  _path=""
  _rest=${1#/}
  while [ -n "$_rest" ]; do
    _part=${_rest%%/*}
    if [ "$_part" = "$_rest" ]; then _rest=""; else _rest=${_rest#*/}; fi
    [ -n "$_part" ] || continue
    _path="$_path/$_part"
    if ! as_service_user test -x "$_path" 2>/dev/null; then
      echo "note: giving user $MULETEER_USER search permission on $_path (chmod o+x)" >&2
      chmod o+x "$_path"
    fi
  done
}

# as_service_user CMD...: runs CMD as the service user (as ourselves when
# not root). setpriv execs CMD in place, so "$!" after "as_service_user CMD &"
# is CMD's own PID and signals reach it directly.
as_service_user() {
  if [ "$(id -u)" = 0 ]; then
    setpriv --reuid="$MULETEER_USER" --regid="$MULETEER_USER" --init-groups -- "$@"
  else
    "$@"
  fi
}

# service_prefix: prints nothing, or the setpriv command line that runs a
# command as the service user, for "${prefix[@]}" CMD & in bash, so that $!
# is the service's own PID (a function run in the background would be a
# subshell, and signalling it would orphan the service).
service_prefix() {
  if [ "$(id -u)" = 0 ]; then
    echo "setpriv --reuid=$MULETEER_USER --regid=$MULETEER_USER --init-groups --"
  fi
}

# chown_service DIR...: gives DIRs to the service user when root.
chown_service() {
  [ "$(id -u)" = 0 ] || return 0
  chown "$MULETEER_USER:" "$@"
}

# port_in_use PORT [tcp|udp]: true when something listens on PORT.
port_in_use() {
  if [ "${2:-tcp}" = udp ]; then
    ss -Hlun "sport = :$1" 2>/dev/null | grep -q .
  else
    ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
  fi
}

# free_port: prints a port P for a test such that P to P+4 (a daemon takes
# its UDP port next to its TCP port, the server fixture P+4) are free for
# TCP and UDP. It is picked below the kernel's range of ephemeral ports, so
# no outgoing connection takes it before the test binds it, and reserved
# (a directory under $TMPDIR/mt-ports, forgotten after three hours) so
# that tests running side by side never pick the same one.
free_port() {
  local low=32768 hi dir=${TMPDIR:-/tmp}/mt-ports p i used
  read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
  hi=$((low - 8))
  [ "$hi" -gt 11000 ] || hi=32760
  mkdir -p "$dir" 2>/dev/null
  find "$dir" -mindepth 1 -maxdepth 1 -mmin +180 -exec rmdir {} + 2>/dev/null
  while :; do
    p=$(( 10240 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % (hi - 10240) ))
    used=0
    for i in 0 1 2 3 4; do
      if [ -e "$dir/$((p + i))" ] || ss -Han "sport = :$((p + i))" 2>/dev/null | grep -q .; then
        used=1; break
      fi
    done
    [ "$used" = 0 ] || continue
    mkdir "$dir/$p" 2>/dev/null || continue # another test took it just now
    for i in 1 2 3 4; do mkdir "$dir/$((p + i))" 2>/dev/null; done
    echo "$p"; return 0
  done
}
