#!/usr/bin/env bash
# install.sh: a real installation from the build tree. `make install` into
# a prefix of its own has every program, migration, web page file, example
# and unit (dist/installcheck.sh), the programs run, the systemd units pass
# `systemd-analyze verify`; muleteer-setup, run twice on a private
# PostgreSQL cluster, creates the owner, web and reporting roles with their
# privileges, the database, its schema and muleteer.conf, and the installed
# muleteerd starts with that configuration. TAP output.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
trap cleanup EXIT

mk_tmpdir T
P="$T/usr"

# ---- make install ----
if nice make -C "$MT_BUILDDIR" install prefix="$P" sysconfdir="$T/etc" localstatedir="$T/var" \
     >"$T/install.log" 2>&1; then
  ok "make install into a prefix"
else
  not_ok "make install into a prefix"; diag "$(tail -n 20 "$T/install.log")"; finish; exit 1
fi
if sh "$MT_SRCDIR/dist/installcheck.sh" "" "$P/bin" "$P/sbin" "$P/libexec/muleteer" \
     "$P/share/muleteer" "$P/lib/systemd/system" "$MT_SRCDIR" >"$T/installcheck.log" 2>&1; then
  ok "the installed tree is complete and its programs run ($(tail -n 1 "$T/installcheck.log"))"
else
  not_ok "the installed tree is complete and its programs run"; diag "$(grep '^not ok' "$T/installcheck.log")"
fi

# ---- systemd units ----
unit_has() { grep -qx "$2" "$P/lib/systemd/system/$1"; }
sandboxed() {
  local l
  for l in User=muleteer ProtectSystem=strict PrivateTmp=yes NoNewPrivileges=yes ProtectHome=yes \
           Restart=on-failure "ReadWritePaths=/var/lib/muleteer /var/log/muleteer"; do
    unit_has "$1" "$l" || return 1
  done
}
for u in muleteerd.service muleteer-ws.service; do
  out=$(systemd-analyze verify "$P/lib/systemd/system/$u" 2>&1); rc=$?
  check "systemd-analyze verify $u is clean" test "$rc" = 0 -a -z "$out"
  [ -z "$out" ] || diag "$out"
  check "$u is sandboxed" sandboxed "$u"
done
check "muleteerd.service: Unix, IPv4, IPv6 and netlink sockets only" \
  unit_has muleteerd.service "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK"

# ---- muleteer-setup on an existing PostgreSQL ----
"$MT_SRCDIR/tools/pgcluster.sh" init "$T" >/dev/null && "$MT_SRCDIR/tools/pgcluster.sh" start "$T" >/dev/null
CLEANUP_PG+=("$T")
PGH="$T/pg"
ADMIN="host=$PGH dbname=postgres user=muleteer"      # the cluster's superuser
CONF="$T/etc/muleteer/muleteer.conf"
setup() {
  "$P/sbin/muleteer-setup" --admin "$ADMIN" --admin-user - --run-as - --dbname mt_setup \
    --owner mt_owner --web-role mt_web --database "host=$PGH dbname=mt_setup user=mt_owner" \
    --conf "$CONF" --state-dir "$T/state" --log-file "$T/log/muleteerd.log" "$@"
}
# q ROLE SQL: one value, as ROLE in the new database.
q() { as_service_user psql "host=$PGH dbname=mt_setup user=$1" -XAtq -c "$2" 2>&1; }

if setup >"$T/setup1.log" 2>&1; then ok "muleteer-setup on an existing PostgreSQL"
else not_ok "muleteer-setup on an existing PostgreSQL"; diag "$(tail -n 20 "$T/setup1.log")"; fi
check "it wrote muleteer.conf with the database and credentials" \
  grep -qx "database = host=$PGH dbname=mt_setup user=mt_owner" "$CONF"
check "muleteer.conf is not world-readable" test "$(stat -c %a "$CONF")" = 640
check "and the first web password" test -s "$T/etc/muleteer/web-password"
cp "$CONF" "$T/conf.first"
if setup >"$T/setup2.log" 2>&1; then ok "muleteer-setup again succeeds (idempotent)"
else not_ok "muleteer-setup again succeeds (idempotent)"; diag "$(tail -n 20 "$T/setup2.log")"; fi
check "the second run keeps muleteer.conf" cmp -s "$CONF" "$T/conf.first"

check "the schema is migrated, owned by the owner role" \
  test "$(q mt_owner "SELECT tableowner FROM pg_tables WHERE tablename = 'downloads'")" = mt_owner
latest=$(ls "$MT_SRCDIR"/sql/[0-9]*.sql | sed 's|.*/0*\([0-9]*\)_.*|\1|' | sort -n | tail -n 1)
check "every migration is applied" \
  test "$(q mt_owner "SELECT max(version) FROM schema_migrations")" = "$latest"
check "the web role reads the downloads" test "$(q mt_web "SELECT count(*) FROM downloads")" = 0
check "the web role writes the sessions" \
  test "$(q mt_web "SELECT has_table_privilege('web_sessions', 'INSERT, UPDATE, DELETE')")" = t
check "the web role changes no schema" \
  q mt_web "CREATE TABLE web_made (x int)" | grep -q "permission denied"
check "the web role cannot drop a table" q mt_web "DROP TABLE downloads" | grep -q "must be owner"
check "the reporting role reads the report views" \
  test "$(q mt_owner "SELECT has_table_privilege('muleteer_report', 'report_transfer_daily', 'SELECT')")" = t
check "the reporting role does not read the downloads nor the web users" \
  test "$(q mt_owner "SELECT has_table_privilege('muleteer_report', 'downloads', 'SELECT')
                        OR has_table_privilege('muleteer_report', 'web_users', 'SELECT')")" = f
check "the reporting role writes nothing" \
  test "$(q mt_owner "SELECT has_table_privilege('muleteer_report', 'history', 'INSERT')")" = f

# ---- the installed daemon runs with that configuration ----
PORT=$(free_port)
cat >>"$CONF" <<EOF
tcp_port = $((PORT + 1))
udp_port = $((PORT + 2))
kad_nodes_url =
server_autoconnect = no
EOF
as_service_user "$P/bin/muleteerd" -c "$CONF" >"$T/daemon.out" 2>&1 &
CLEANUP_PIDS+=("$!")
status_ok() { as_service_user "$P/bin/muleteer" -s "$T/state/run/muleteerd.sock" status >"$T/status.out" 2>&1; }
if eventually 30 status_ok; then ok "the installed muleteerd starts and answers muleteer status"
else not_ok "the installed muleteerd starts and answers muleteer status"
     diag "$(tail -n 10 "$T/daemon.out" "$T/log/muleteerd.log" 2>/dev/null)"; fi

finish
