#!/bin/sh
# pgcluster.sh: a private PostgreSQL cluster in a directory, on a Unix socket
# only, used by run.sh and by the tests. As root the cluster runs as an
# unprivileged system user (MULETEER_USER, default "muleteer"), created if
# missing, because initdb and postgres refuse to run as root.
#
#   pgcluster.sh init DIR      create DIR/pg (data in DIR/pg/data, socket in DIR/pg)
#   pgcluster.sh start DIR     start it (log in DIR/log/postgresql.log); waits until ready
#   pgcluster.sh stop DIR [MODE]   stop it (MODE fast (default) or immediate)
#   pgcluster.sh status DIR    exit 0 if running
#   pgcluster.sh conninfo DIR  print the libpq connection string
#   pgcluster.sh createdb DIR NAME   create database NAME if missing
set -eu

. "$(dirname "$0")/lib.sh"
cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 init|start|stop|status|conninfo|createdb DIR" >&2; exit 2; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
pgdir="$dir/pg"
data="$pgdir/data"

pgbin() {
  for d in "$(pg_config --bindir 2>/dev/null || true)" $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
  done
  echo "pgcluster.sh: PostgreSQL server programs not found (apt-get install postgresql)" >&2
  exit 1
}
bin=$(pgbin)

sock_check() {
  s="$pgdir/.s.PGSQL.5432"
  if [ ${#s} -gt 100 ]; then
    echo "pgcluster.sh: $pgdir is too long a path for a Unix socket (${#s} > 100 bytes); use a shorter MULETEER_VAR" >&2
    exit 1
  fi
}

case "$cmd" in
init)
  ensure_service_user
  make_traversable "$dir"
  sock_check
  if [ -f "$data/PG_VERSION" ]; then exit 0; fi
  mkdir -p "$pgdir" "$dir/log"
  chown_service "$pgdir" "$dir/log"
  chmod 0700 "$pgdir"
  as_service_user "$bin/initdb" -D "$data" -U muleteer --auth=trust -E UTF8 --no-locale >"$dir/log/initdb.log" 2>&1 || {
    echo "pgcluster.sh: initdb failed; see $dir/log/initdb.log" >&2; tail -n 5 "$dir/log/initdb.log" >&2; exit 1; }
  cat >>"$data/postgresql.conf" <<CONF
# Added by pgcluster.sh: Unix socket only, inside the state directory.
listen_addresses = ''
unix_socket_directories = '$pgdir'
unix_socket_permissions = 0770
port = 5432
max_connections = 100
shared_buffers = 64MB
log_timezone = 'UTC'
timezone = 'UTC'
CONF
  ;;
start)
  ensure_service_user
  make_traversable "$dir"
  sock_check
  [ -f "$data/PG_VERSION" ] || { echo "pgcluster.sh: no cluster in $pgdir (run init first)" >&2; exit 1; }
  if as_service_user "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then exit 0; fi
  mkdir -p "$dir/log"; chown_service "$dir/log"
  as_service_user "$bin/pg_ctl" -D "$data" -l "$dir/log/postgresql.log" -w -t 60 start >/dev/null || {
    echo "pgcluster.sh: PostgreSQL did not start; see $dir/log/postgresql.log" >&2
    tail -n 5 "$dir/log/postgresql.log" >&2; exit 1; }
  ;;
stop)
  mode=${3:-fast}
  [ -f "$data/PG_VERSION" ] || exit 0
  if as_service_user "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_service_user "$bin/pg_ctl" -D "$data" -m "$mode" -w -t 60 stop >/dev/null
  fi
  ;;
status)
  [ -f "$data/PG_VERSION" ] && as_service_user "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1
  ;;
conninfo)
  echo "host=$pgdir dbname=muleteer user=muleteer"
  ;;
createdb)
  name=${3:?database name}
  exists=$(as_service_user "$bin/psql" -h "$pgdir" -U muleteer -d postgres -XAtq \
             -c "SELECT 1 FROM pg_database WHERE datname = '$name'")
  [ "$exists" = 1 ] || as_service_user "$bin/createdb" -h "$pgdir" -U muleteer "$name"
  ;;
*)
  echo "pgcluster.sh: unknown command $cmd" >&2; exit 2 ;;
esac
