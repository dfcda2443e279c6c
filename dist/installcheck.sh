#!/bin/sh
# installcheck.sh: checks an installed tree (make installcheck, and
# tests/integration/install.sh): every program, migration, web page file,
# example and unit is there, and the programs run (--version, --help).
# Prints TAP; exits 1 when a check failed.
#   installcheck.sh DESTDIR BINDIR SBINDIR PKGLIBEXECDIR PKGDATADIR UNITDIR SRCDIR
set -u
D=$1 bindir=$2 sbindir=$3 libexec=$4 data=$5 units=$6 src=$7
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }
check() { desc=$1; shift; if "$@" >/dev/null 2>&1; then ok "$desc"; else not_ok "$desc"; fi; }

for p in muleteerd muleteer muleteer-ws; do check "$bindir/$p installed" test -x "$D$bindir/$p"; done
check "muleteer-setup installed" test -x "$D$sbindir/muleteer-setup"
check "muleteer-setup --help" "$D$sbindir/muleteer-setup" --help
check "muleteerd --version" "$D$bindir/muleteerd" --version
check "muleteer --help" "$D$bindir/muleteer" --help
check "muleteer-ws --help" "$D$bindir/muleteer-ws" --help
# The FastCGI programs: every *.fcgi the build made.
for f in $(cd "$src/cgi-bin" && ls -d */ | tr -d /); do
  [ "$f" = common ] && continue
  check "$f.fcgi installed" test -x "$D$libexec/$f.fcgi"
done
for m in "$src"/sql/[0-9]*.sql; do
  check "migration $(basename "$m")" cmp "$m" "$D$data/sql/$(basename "$m")"
done
while read -r f; do
  case "$f" in ''|'#'*) continue ;; esac
  check "web page $f" cmp "$src/$f" "$D$data/$f"
done <"$src/dist/www.list"
# Every file of www/ is listed in dist/www.list.
missing=$(cd "$src" && find www -type f | sort | while read -r f; do
  grep -qxF "$f" dist/www.list || echo "$f"; done)
check "dist/www.list lists all of www/${missing:+ (missing: $missing)}" test -z "$missing"
check "lighttpd.conf example" test -f "$D$data/examples/lighttpd.conf"
check "lighttpd example for Debian's lighttpd" test -f "$D$data/examples/lighttpd-muleteer.conf"
check "muleteer.conf example" test -f "$D$data/examples/muleteer.conf.example"
if [ -n "$units" ]; then
  for u in muleteerd.service muleteer-ws.service; do
    check "unit $u" test -f "$D$units/$u"
    check "unit $u names the installed program" grep -q "^ExecStart=$bindir/" "$D$units/$u"
  done
fi
echo "1..$n"
exit $failed
