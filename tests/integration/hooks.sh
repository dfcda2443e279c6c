#!/usr/bin/env bash
# hooks.sh: hook programs and webhooks (daemon/hooks, docs/hooks.md)
# between two real muleteerds: B downloads a file A shares. B's hook
# program (a script appending its arguments and MULETEER_* environment to
# a file) runs when the download is added and when it completes; a
# webhook receiver (python's http.server on loopback) gets the signed JSON
# POSTs, and a second one that answers 500 first gets the retry. A hook
# that hangs is killed after hook_timeout while the daemon keeps answering
# ping; with one program running at a time and a queue of one, a third
# event is dropped and counted. As root, a third muleteerd C whose
# temp_dir (a small tmpfs the test mounts) fills up during a download runs
# its disk_full hook, once. TAP output.
set -u
. "$MT_SRCDIR/tests/integration/lib.sh"
. "$MT_SRCDIR/tests/integration/mule.sh"
MOUNTS=()
unmount_all() { local m; for m in "${MOUNTS[@]}"; do umount -l "$m" 2>/dev/null; done; true; }
trap 'unmount_all; cleanup' EXIT

command -v jq >/dev/null || { echo "Bail out! jq is not installed (run.sh check installs it)"; exit 1; }
command -v python3 >/dev/null || { echo "Bail out! python3 is not installed"; exit 1; }

mk_tmpdir T
AP=$(free_port); BP=$(free_port); WP=$(free_port)
SECRET="hook-secret-$RANDOM$RANDOM"

# ---- the webhook receiver ----
python3 "$MT_SRCDIR/tests/integration/webhook_receiver.py" "$WP" "$T/webhooks.log" >"$T/receiver.out" 2>&1 &
CLEANUP_PIDS+=("$!")
eventually 10 grep -qs listening "$T/receiver.out" || { not_ok "the webhook receiver starts"; finish; exit 1; }

# ---- the hook programs ----
cat >"$T/hook.sh" <<'EOS'
#!/bin/sh
# appends one line: the arguments, then the environment the daemon gave
out=$(dirname "$0")/hooks.log
{
  printf 'argv'; for a in "$@"; do printf ' [%s]' "$a"; done
  printf ' env [%s] [%s] [%s] [%s] [%s] [%s] [%s] [%s]\n' "$MULETEER_EVENT" "$MULETEER_HASH" \
    "$MULETEER_NAME" "$MULETEER_SIZE" "$MULETEER_PATH" "$MULETEER_CATEGORY" "$MULETEER_ERROR" \
    "$MULETEER_TEST"
} >>"$out"
echo "hook output for $MULETEER_EVENT"
EOS
cat >"$T/hang.sh" <<'EOS'
#!/bin/sh
# never ends by itself: it and its child must be killed
sleep 300 &
echo "$$ $!" >"$(dirname "$0")/hang.pids"
wait
EOS
chmod 0755 "$T/hook.sh" "$T/hang.sh"

# ---- A shares a file; B downloads it with hooks ----
mkdir -p "$T/a/share"
NAME="the file; \$(touch hooks-injected) 'q'.bin"
head -c 1500000 /dev/urandom >"$T/a/share/$NAME"
H=$(rhash --printf '%{ed2k}' "$T/a/share/$NAME")
head -c 3000000 /dev/urandom >"$T/a/share/big.bin"
BIG=$(rhash --printf '%{ed2k}' "$T/a/share/big.bin")
start_mule A "$T/a" "$AP" "shared_dirs = $T/a/share" "kad = no" "server_autoconnect = no"
a_shares() { mcli "$T/a" shared | grep -q "the file" && mcli "$T/a" shared | grep -q "big.bin"; }
check "A shares the file" eventually 30 a_shares
start_mule B "$T/b" "$BP" "kad = no" "server_autoconnect = no" \
  "hook_added = $T/hook.sh added '%n' %h %s" \
  "hook_completed = $T/hook.sh completed %p '%n and %c'" \
  "hook_failed = $T/hang.sh" \
  "hook_disk_full = $T/hook.sh disk_full %r" \
  "hook_timeout = 3" "hook_max_running = 1" "hook_max_queued = 1" \
  "webhook_urls = http://127.0.0.1:$WP/ok, http://127.0.0.1:$WP/flaky" \
  "webhook_secret = $SECRET" "webhook_backoff = 1" "webhook_retries = 3"
check "B starts with hooks and webhooks configured" eval 'mcli "$T/b" ping >/dev/null'

J() { local a=${3-}; [ -n "$a" ] || a='{}'; mcli "$1" --json call "$2" "$a"; }
jqt() { local j=$1; shift; [ -n "$j" ] && jq -e "$@" <<<"$j" >/dev/null 2>&1; }

LINK="ed2k://|file|$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$NAME")|1500000|$H|/|sources,127.0.0.1:$AP|/"
out=$(J "$T/b" add "$(jq -nc --arg l "$LINK" '{link: $l}')")
check "B adds the download" jqt "$out" --arg h "$H" '.hash == $h'

# ---- the program ----
line_of() { grep "^argv \[$1\]" "$T/hooks.log" 2>/dev/null | head -n 1; }
check "the added hook ran" eventually 10 eval '[ -n "$(line_of added)" ]'
want="argv [added] [$NAME] [$H] [1500000] env [added] [$H] [$NAME] [1500000] [$T/b/temp/$H.part] [] [] [0]"
check "added: its arguments (one per word, the name one argument) and environment (the part file)" \
  eval '[ "$(line_of added)" = "$want" ]'
[ "$(line_of added)" = "$want" ] || diag "got: $(line_of added)" "want: $want"
check "no shell ever saw the name" eval '[ ! -e hooks-injected ] && [ ! -e "$T/b/hooks-injected" ]'
completed() { J "$T/b" downloads | jq -e --arg h "$H" 'any(.finished[]; .hash == $h)' >/dev/null; }
check "the download completes" eventually 60 completed
check "the completed hook ran" eventually 10 eval '[ -n "$(line_of completed)" ]'
path=$(line_of completed | sed -n 's/^argv \[completed\] \[\([^]]*\)\].*/\1/p')
check "completed: the path is the complete file, byte for byte" cmp -s "$path" "$T/a/share/$NAME"
want="argv [completed] [$path] [$NAME and ] env [completed] [$H] [$NAME] [1500000] [$path] [] [] [0]"
check "completed: its arguments and environment" eval '[ "$(line_of completed)" = "$want" ]'
[ "$(line_of completed)" = "$want" ] || diag "got: $(line_of completed)" "want: $want"
check "the program's output is in the daemon's log" \
  eventually 5 grep -q "hook completed \[[0-9]*\]: hook output for completed" "$T/b/muleteerd.log"

# ---- the webhooks ----
# posts PATH EVENT STATUS: how many POSTs PATH got for EVENT answered STATUS
posts() { jq -s --arg p "$1" --arg e "$2" --argjson s "$3" \
  '[.[] | select(.path == $p and .event == $e and .status == $s)] | length' "$T/webhooks.log" 2>/dev/null; }
check "/ok got the added and completed events" eventually 15 eval \
  '[ "$(posts /ok added 200)" = 1 ] && [ "$(posts /ok completed 200)" = 1 ]'
body=$(jq -rs '[.[] | select(.path == "/ok" and .event == "completed")][0].body' "$T/webhooks.log")
check "the completed body: event, time, node, download fields" jqt "$body" \
  --arg h "$H" --arg n "$NAME" --arg p "$path" \
  '.event == "completed" and .test == false and (.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T.*Z$")) and
   (.timestamp | type) == "number" and .download.hash == $h and .download.name == $n and
   .download.size == 1500000 and .download.path == $p and .download.category == null and
   .download.error == null'
sig_ok() {
  jq -c 'select(.path == "/ok")' "$T/webhooks.log" | python3 -c '
import hashlib, hmac, json, sys
secret = sys.argv[1].encode()
n = 0
for line in sys.stdin:
    r = json.loads(line)
    want = "sha256=" + hmac.new(secret, r["body"].encode(), hashlib.sha256).hexdigest()
    if r["signature"] != want or r["content_type"] != "application/json":
        sys.exit(1)
    n += 1
sys.exit(0 if n >= 2 else 1)' "$SECRET"
}
check "every POST has Content-Type JSON and a valid X-Muleteer-Signature" sig_ok
check "/flaky answered 500 first, then got the retry" eventually 15 eval \
  '[ "$(posts /flaky added 500)" = 1 ] && [ "$(posts /flaky added 200)" = 1 ] &&
   [ "$(posts /flaky completed 500)" = 1 ] && [ "$(posts /flaky completed 200)" = 1 ]'
out=$(J "$T/b" hooks)
check "hooks: two delivered after a retry each, two to /ok, none failed" jqt "$out" \
  '.webhooks.delivered == 4 and .webhooks.retried == 2 and .webhooks.failed == 0 and
   .programs.succeeded == 2 and .programs.failed == 0'

# ---- a hook that hangs; the queue's bound ----
out=$(J "$T/b" hooks-test '{"event": "failed", "error": "a test failure"}')
check "hooks-test failed: the hanging program starts" jqt "$out" '.program == "started" and .webhooks == 2'
check "it runs" eventually 5 test -s "$T/hang.pids"
out=$(J "$T/b" hooks-test '{"event": "disk_full", "error": "No space left"}')
check "a second event waits (one program at a time)" jqt "$out" '.program == "queued"'
out=$(J "$T/b" hooks-test '{"event": "added"}')
check "a third is dropped (a queue of one)" jqt "$out" '.program == "dropped"'
slow=0
for i in 1 2 3 4 5 6 7 8 9 10; do
  s=$(date +%s%N)
  mcli "$T/b" ping >/dev/null || slow=1
  [ $(( ($(date +%s%N) - s) / 1000000 )) -lt 1000 ] || slow=1
  sleep 0.2
done
check "the daemon answers ping at once while the hook hangs" [ "$slow" = 0 ]
read -r HANG_SH HANG_SLEEP <"$T/hang.pids"
gone() { ! kill -0 "$HANG_SH" 2>/dev/null && ! kill -0 "$HANG_SLEEP" 2>/dev/null; }
check "the hanging hook and its child are killed after hook_timeout" eventually 10 gone
check "the log says it was killed" grep -q "hook failed \[$HANG_SH\]: still running after 3 s: killed" "$T/b/muleteerd.log"
check "then the queued disk_full program runs, marked as a test" eventually 10 eval \
  '[ "$(line_of disk_full)" = "argv [disk_full] [No space left] env [disk_full] [00000000000000000000000000000000] [muleteer-hook-test.bin] [0] [] [] [No space left] [1]" ]'
out=$(J "$T/b" hooks)
check "hooks: one killed, one dropped, nothing running or queued" jqt "$out" \
  '.programs.killed == 1 and .programs.dropped == 1 and .programs.running == 0 and
   .programs.queued == 0 and .programs.succeeded == 3'
check "the webhook of a test event says test: true" eventually 10 eval \
  '[ "$(jq -rs "[.[] | select(.path == \"/ok\" and .event == \"disk_full\")][0].body | fromjson | .test" "$T/webhooks.log")" = true ]'
out=$(J "$T/b" hooks-test '{"event": "nonsense"}')
check "hooks-test refuses an unknown event" jqt "$out" '.error.code == "invalid_args"'
check "the CLI: muleteer hooks" eval 'mcli "$T/b" hooks | grep -q "1 killed, 1 dropped"'

# ---- a full disk (root: a tmpfs) ----
mkdir -p "$T/c-temp"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=2m,mode=0750 tmpfs "$T/c-temp" 2>/dev/null; then
  MOUNTS+=("$T/c-temp")
  head -c $((2 * 1024 * 1024 - 1000000)) /dev/zero >"$T/c-temp/ballast"
  CP=$(free_port)
  start_mule C "$T/c" "$CP" "kad = no" "server_autoconnect = no" "temp_dir = $T/c-temp" \
    "hook_disk_full = $T/hook.sh disk_full %h %r" "hook_failed = $T/hook.sh failed %h %r"
  out=$(J "$T/c" add "$(jq -nc --arg l "ed2k://|file|big.bin|3000000|$BIG|/|sources,127.0.0.1:$AP|/" '{link: $l}')")
  check "C adds a download larger than its temp_dir's room" jqt "$out" --arg h "$BIG" '.hash == $h'
  full_line() { grep "^argv \[disk_full\] \[$BIG\]" "$T/hooks.log" 2>/dev/null; }
  check "the full disk runs the disk_full hook, with the hash and the reason" eventually 60 eval \
    '[ -n "$(full_line)" ]'
  check "its environment: event, hash, name, the part file, the reason" eval \
    'full_line | grep -q "env \[disk_full\] \[$BIG\] \[big.bin\] \[3000000\] \[$T/c-temp/$BIG.part\] \[\] \[[^]]*No space left on device[^]]*\] \[0\]"'
  sleep 2
  check "once, and no failed hook for it" eval \
    '[ "$(full_line | wc -l)" = 1 ] && ! grep -q "^argv \[failed\] \[$BIG\]" "$T/hooks.log"'
else
  ok "# SKIP a full disk needs root (mount)"
  ok "# SKIP a full disk needs root (mount)"
  ok "# SKIP a full disk needs root (mount)"
  ok "# SKIP a full disk needs root (mount)"
fi

check "B stops cleanly" eval 'kill -TERM ${MULE_PID[B]} && eventually 15 eval "! kill -0 ${MULE_PID[B]} 2>/dev/null"'
finish
