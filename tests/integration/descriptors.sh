#!/usr/bin/env bash
# descriptors.sh: a daemon that may open only 128 files (ulimit -n 128)
# takes 130 downloads (made-up files of a few MB, no sources), keeps them
# across a restart, and stays quiet and responsive while 5 TCP connections
# come in on its eD2K port: part files borrow their descriptors from a
# small cache instead of holding one each (docs/partfile.md). TAP output.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/mule.sh"
trap cleanup EXIT

MULE_LOG_LEVEL=info
MULE_WRAP="prlimit --nofile=128:128"
N=130

mk_tmpdir T
P=$(free_port)
start_mule A "$T/a" "$P" || { not_ok "muleteerd starts with 128 descriptors"; finish; exit 1; }
PID=${MULE_PID[A]}
check "muleteerd runs with an open file limit of 128" \
  grep -Eq '^Max open files +128 +128 ' "/proc/$PID/limits"

# made-up files of 3 to 4 MB: hash i, size 3,000,000 + i * 7,777
link() { printf 'ed2k://|file|made-up-%03d.bin|%d|%032x|/' "$1" $((3000000 + $1 * 7777)) $((0xbeef0000 + $1)); }
refused=0 first_error=
for i in $(seq 1 $N); do
  if ! out=$(mcli "$T/a" add "$(link "$i")" 2>&1); then
    refused=$((refused + 1))
    [ -n "$first_error" ] || first_error="add $i: $out"
  fi
done
check "all $N adds are taken ($refused refused)" [ "$refused" = 0 ]
[ -n "$first_error" ] && diag "$first_error"
count() { mcli "$T/a" --json downloads | jq '.downloads | length'; }
check "all $N downloads exist" [ "$(count)" = "$N" ]
fds=$(ls "/proc/$PID/fd" | wc -l)
check "the daemon holds a few dozen descriptors with $N downloads ($fds)" [ "$fds" -lt 64 ]

# five connections to the eD2K port, held open; the daemon must go on
# answering without spinning or flooding its log
cpu() { awk '{ print $14 + $15 }' "/proc/$PID/stat"; }
log_bytes() { stat -c %s "$T/a/muleteerd.log"; }
cpu0=$(cpu) log0=$(log_bytes)
conns=()
for i in 1 2 3 4 5; do
  exec {fd}<>"/dev/tcp/127.0.0.1/$P" && conns+=("$fd")
done
check "5 TCP connections reach the eD2K port" [ "${#conns[@]}" = 5 ]
sleep 5
check "the daemon answers while they are open" eval 'mcli "$T/a" ping | grep -q pong'
cpu1=$(cpu) log1=$(log_bytes)
for fd in "${conns[@]}"; do exec {fd}>&-; done
ticks=$((cpu1 - cpu0)) hz=$(getconf CLK_TCK)
check "CPU stays low: $ticks ticks in 5 s (at most a quarter of a core)" [ "$ticks" -le $((5 * hz / 4)) ]
check "the log is not flooded: $((log1 - log0)) bytes in 5 s" [ $((log1 - log0)) -lt 20000 ]
check "the downloads are all still there" [ "$(count)" = "$N" ]

# a restart under the same limit resumes every download
kill -TERM "$PID"; wait "$PID"; rc=$?
check "muleteerd stops cleanly" [ "$rc" = 0 ]
start_mule A "$T/a" "$P" || { not_ok "muleteerd starts again"; finish; exit 1; }
PID=${MULE_PID[A]}
check "after a restart with 128 descriptors all $N downloads are resumed" [ "$(count)" = "$N" ]
check "... none failed to load" eval '! grep -q "cannot resume" "$T/a/muleteerd.log"'
fds=$(ls "/proc/$PID/fd" | wc -l)
check "... and the daemon holds a few dozen descriptors ($fds)" [ "$fds" -lt 64 ]
check "it answers" eval 'mcli "$T/a" ping | grep -q pong'
kill -TERM "$PID"; wait "$PID"; rc=$?
check "muleteerd stops cleanly again" [ "$rc" = 0 ]
bad=$(grep -lE 'AddressSanitizer|LeakSanitizer|runtime error:' "$T/a/stderr" 2>/dev/null || true)
check "no sanitizer reports" [ -z "$bad" ]
[ -n "$bad" ] && diag "$(head -n 40 "$bad")"
finish
