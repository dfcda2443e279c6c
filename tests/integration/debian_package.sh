#!/usr/bin/env bash
# debian_package.sh: the Debian package, as an administrator gets it. It is
# built from a copy of the tree with `dpkg-buildpackage -us -uc -b`,
# lintian finds no error in it, and it installs (dpkg -i, then apt-get -f
# install for its dependencies) into a fresh Debian 12 root made with
# debootstrap, where muleteerd runs, muleteer-setup sets up the system
# PostgreSQL and the installed daemon starts with the configuration it
# wrote (run directly: no systemd in a chroot). Every step is bounded;
# nothing is cached outside the test's directory. Slow (a build and a
# debootstrap): needs root, debhelper, lintian and debootstrap.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
trap 'umount_root; cleanup' EXIT

for t in dpkg-buildpackage dh lintian debootstrap; do
  command -v "$t" >/dev/null || { echo "1..0 # SKIP $t not installed"; exit 0; }
done
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (debootstrap, chroot)"; exit 0; }

mk_tmpdir T
SRC="$T/muleteer-0.1.0"
ROOT="$T/root"
MIRROR=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
: "${MIRROR:=http://deb.debian.org/debian}"
MOUNTED=()
# umount_root: first stops, by PID, every process whose root is the
# test's root, then unmounts what the test mounted there.
umount_root() {
  local m i p
  [ -n "${ROOT:-}" ] && [ -d "$ROOT" ] || return 0
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$ROOT" ] && kill -KILL "${p#/proc/}" 2>/dev/null
  done
  for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do umount -l "${MOUNTED[$i]}" 2>/dev/null || true; done
  MOUNTED=()
}
in_root() { timeout 300 chroot "$ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
secs() { echo $(( $(date +%s) - $1 )); }

# ---- the package ----
t0=$(date +%s)
mkdir -p "$SRC"
(cd "$MT_SRCDIR" && git ls-files -co --exclude-standard 2>/dev/null || find . -type f ! -path './build/*' ! -path './var/*' ! -path './.git/*') |
  grep -v -e '^build/' -e '^var/' | (cd "$MT_SRCDIR" && tar -cf - -T -) | tar -xf - -C "$SRC"
if (cd "$SRC" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES DEB_BUILD_OPTIONS="parallel=2 nocheck" timeout 1800 nice dpkg-buildpackage -us -uc -b) >"$T/build.log" 2>&1; then
  ok "dpkg-buildpackage -us -uc -b builds the package ($(secs "$t0") s)"
else
  not_ok "dpkg-buildpackage -us -uc -b builds the package"; diag "$(tail -n 20 "$T/build.log")"; finish; exit 1
fi
DEB=$(ls "$T"/muleteer_*_*.deb | head -n 1)
timeout 600 lintian "$DEB" >"$T/lintian.log" 2>&1
check "lintian finds no error" test -z "$(grep '^E:' "$T/lintian.log")"
grep '^E:' "$T/lintian.log" | head -n 10 | while read -r l; do diag "$l"; done
for f in /usr/bin/muleteerd /usr/sbin/muleteer-setup /usr/libexec/muleteer/qbit.fcgi \
         /usr/share/muleteer/www/index.html /lib/systemd/system/muleteerd.service; do
  check "the package has $f" bash -c "dpkg-deb -c '$DEB' | grep ' \\.$f\$' >/dev/null"
done

# ---- a fresh Debian 12 ----
t0=$(date +%s)
if timeout 1200 nice debootstrap --variant=minbase bookworm "$ROOT" "$MIRROR" >"$T/debootstrap.log" 2>&1; then
  ok "debootstrap makes a Debian 12 root ($(secs "$t0") s)"
else
  not_ok "debootstrap makes a Debian 12 root"; diag "$(tail -n 10 "$T/debootstrap.log")"; finish; exit 1
fi
# A proc of its own and a tmpfs for PostgreSQL's shared memory: nothing of
# the host's file systems is mounted into the root (the clean-up deletes it).
mount -t proc proc "$ROOT/proc" && MOUNTED+=("$ROOT/proc")
mkdir -p "$ROOT/dev/shm" && mount -t tmpfs -o size=64m tmpfs "$ROOT/dev/shm" && MOUNTED+=("$ROOT/dev/shm")
# No service starts by itself inside the root.
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"; chmod +x "$ROOT/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"

t0=$(date +%s)
cp "$DEB" "$ROOT/tmp/"
in_root dpkg -i "/tmp/$(basename "$DEB")" >"$T/dpkg.log" 2>&1
if in_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >"$T/apt.log" 2>&1 &&
   in_root env DEBIAN_FRONTEND=noninteractive apt-get -f install -y -q --no-install-recommends >>"$T/apt.log" 2>&1 &&
   in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql lighttpd >>"$T/apt.log" 2>&1 &&
   in_root dpkg-query -W -f='${Status}' muleteer | grep -q 'install ok installed'; then
  ok "dpkg -i and apt-get -f install install it with its dependencies ($(secs "$t0") s)"
else
  not_ok "dpkg -i and apt-get -f install install it with its dependencies"
  diag "$(tail -n 15 "$T/dpkg.log" "$T/apt.log")"; finish; exit 1
fi
quiet() { "$@" >/dev/null 2>&1; }
check "it created the system user muleteer" quiet in_root getent passwd muleteer
check "muleteerd --version runs there" quiet in_root muleteerd --version

# ---- the system PostgreSQL, muleteer-setup, the daemon ----
in_root pg_ctlcluster 15 main start >"$T/pg.log" 2>&1
check "the system PostgreSQL starts" quiet in_root runuser -u postgres -- psql -XAtqc 'SELECT 1'
if in_root muleteer-setup >"$T/setup.log" 2>&1 && in_root muleteer-setup >>"$T/setup.log" 2>&1; then
  ok "muleteer-setup sets up the system PostgreSQL (twice)"
else
  not_ok "muleteer-setup sets up the system PostgreSQL (twice)"; diag "$(tail -n 15 "$T/setup.log")"
fi
check "the schema belongs to muleteer" test "$(in_root runuser -u postgres -- psql -XAtq -d muleteer \
  -c "SELECT tableowner FROM pg_tables WHERE tablename = 'downloads'")" = muleteer
PORT=$(free_port)
printf 'tcp_port = %s\nudp_port = %s\nkad_nodes_url =\nserver_autoconnect = no\n' \
  $((PORT + 1)) $((PORT + 2)) >>"$ROOT/etc/muleteer/muleteer.conf"
chroot "$ROOT" runuser -u muleteer -- /usr/bin/muleteerd -c /etc/muleteer/muleteer.conf >"$T/daemon.out" 2>&1 &
DPID=$!
status_ok() { in_root runuser -u muleteer -- muleteer -s /var/lib/muleteer/run/muleteerd.sock status >/dev/null 2>&1; }
if eventually 30 status_ok; then ok "the installed daemon starts there and answers muleteer status"
else not_ok "the installed daemon starts there and answers muleteer status"
     diag "$(tail -n 10 "$T/daemon.out" "$ROOT/var/log/muleteer/muleteerd.log" 2>/dev/null)"; fi

# ---- Debian's lighttpd with the package's example, as www-data ----
# The programs reach PostgreSQL as muleteer_web by peer with the map of
# docs/install.md, and read muleteer.conf as members of the group muleteer.
PGC=/etc/postgresql/15/main
printf 'muleteer muleteer muleteer\nmuleteer www-data muleteer_web\n' >>"$ROOT$PGC/pg_ident.conf"
sed -i '0,/^local[[:space:]]\+all[[:space:]]\+all[[:space:]]\+peer/s//local muleteer all peer map=muleteer\n&/' \
  "$ROOT$PGC/pg_hba.conf"
in_root pg_ctlcluster 15 main reload >/dev/null 2>&1
quiet in_root adduser www-data muleteer
cp "$ROOT/usr/share/muleteer/examples/lighttpd-muleteer.conf" "$ROOT/etc/lighttpd/conf-available/50-muleteer.conf"
quiet in_root lighty-enable-mod muleteer
printf 'server.port := %s\nserver.bind := "127.0.0.1"\n' $((PORT + 3)) >"$ROOT/etc/lighttpd/conf-enabled/99-test.conf"
install -d -o "$(in_root id -u www-data)" -g "$(in_root id -g www-data)" "$ROOT/run/lighttpd"
chroot "$ROOT" lighttpd -D -f /etc/lighttpd/lighttpd.conf >"$T/lighttpd.out" 2>&1 &
HPID=$!
URL="http://127.0.0.1:$((PORT + 3))/api/v2"
PASS=$(head -n 1 "$ROOT/etc/muleteer/web-password")
login() { curl -s -m 10 -c "$T/cookies" -o "$T/login.out" --data-urlencode username=admin \
            --data-urlencode "password=$PASS" "$URL/auth/login" && [ "$(cat "$T/login.out")" = Ok. ]; }
if eventually 30 login; then ok "lighttpd with the example: qbit.fcgi logs in (a session written as muleteer_web)"
else not_ok "lighttpd with the example: qbit.fcgi logs in (a session written as muleteer_web)"
     diag "$(cat "$T/login.out" 2>/dev/null; tail -n 10 "$T/lighttpd.out" "$ROOT/var/log/lighttpd/error.log" 2>/dev/null)"; fi
check "the session is in PostgreSQL" test "$(in_root runuser -u postgres -- psql -XAtq \
  -d muleteer -c "SELECT count(*) > 0 FROM web_sessions WHERE username = 'admin'")" = t
check "torrents/info answers through it" \
  test "$(curl -s -m 10 -b "$T/cookies" "$URL/torrents/info")" = "[]"
kill -TERM "$HPID" 2>/dev/null
eventually 10 bash -c "! kill -0 $HPID 2>/dev/null" || true

kill -TERM "$DPID" 2>/dev/null
eventually 10 bash -c "! kill -0 $DPID 2>/dev/null" || true
in_root pg_ctlcluster 15 main stop -m fast >/dev/null 2>&1 || true
sleep 1
umount_root
finish
