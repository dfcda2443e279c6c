# amule.sh: runs real amuled 2.3.3 (amule-daemon, amulecmd from amule-utils)
# headless in integration tests; source it after tests/integration/lib.sh.
#
# Each amuled has a NAME (a shell word: A, B, seeder...) and its own config
# dir. Its PID goes into lib.sh's CLEANUP_PIDS as well, so lib.sh's cleanup
# stops it pass or fail; amule_stop_all stops every one gracefully first.
# Facts this relies on: ../../../shared/amule-testing.md.
#
#   amule_start NAME DIR TCP_PORT UDP_PORT EC_PORT [SERVER_PORT]
#   amule_cmd NAME CMD...            amulecmd -c "CMD..." (output on stdout)
#   amule_share NAME FILE            copy into Incoming, reload, wait; sets
#                                    AMULE_HASH to the hash amuled lists
#   amule_hash NAME FILE_NAME        prints the hash "show shared" lists
#   amule_add NAME LINK              add an ed2k link
#   amule_connected NAME             true when logged in to an eD2K server
#   amule_progress NAME HASH|NAME    prints the percent "show dl" shows
#   amule_is_complete NAME FILE_NAME in Incoming, and Complete in "show dl"
#   amule_wait_complete NAME FILE_NAME TIMEOUT [PEER...]
#                                    waits for Incoming/FILE_NAME; on a stall
#                                    restarts the PEERs and NAME
#   amule_restart NAME...            stop, start again on the same dirs, each
#                                    logged in before the next starts
#   amule_stop NAME                  SIGTERM by PID, SIGKILL after 20 s
#   amule_stop_all                   amule_stop for every running one
# Tunables: AMULE_STALL_SECS (40: no progress -> restart), AMULE_RECVQ_SECS
# (5: one socket keeps the same non-zero Recv-Q -> restart),
# AMULE_MAX_RESTARTS (8 amuled restarts per amule_wait_complete, then it
# gives up).

AMULE_PASSWORD=muleteer-test
AMULE_PASSWORD_MD5=$(printf '%s' "$AMULE_PASSWORD" | md5sum | cut -d' ' -f1)
AMULE_STALL_SECS=${AMULE_STALL_SECS:-40}
AMULE_RECVQ_SECS=${AMULE_RECVQ_SECS:-5}
AMULE_MAX_RESTARTS=${AMULE_MAX_RESTARTS:-8}
AMULE_COMPLETING_SECS=${AMULE_COMPLETING_SECS:-60}
AMULE_RESTARTS=0
AMULE_HASH=
declare -gA AMULE_DIR=() AMULE_PID=() AMULE_EC=() AMULE_TCP=() AMULE_UDP=() AMULE_SERVER=() AMULE_EXTRA_CONF=() AMULE_SERVER_MET=()

# _amule_userhash NAME: 32 hex digits, fixed per NAME, with the eMule marker
# bytes (5 = 0x0e, 14 = 0x6f) amuled sets anyway. A fixed hash per peer
# avoids amuled's 2-hour ban of an (IP, port) that shows several hashes.
_amule_userhash() {
  local h; h=$(printf 'muleteer-amule-%s' "$1" | md5sum | cut -c1-32)
  echo "${h:0:10}0e${h:12:16}6f${h:30:2}"
}

# _amule_write_config NAME: amule.conf (only the keys that matter),
# preferences.dat (version 0x14 + user hash, read by amuled at start) and
# staticservers.dat naming the fixture as localhost:PORT (amuled refuses a
# literal 127.x server but accepts a host name, as a dynamic-IP server).
_amule_write_config() {
  local n=$1 d=${AMULE_DIR[$1]} srv=${AMULE_SERVER[$1]} ed2k=0 auto=0
  [ -n "$srv" ] && { ed2k=1; auto=1; }
  mkdir -p "$d/Incoming" "$d/Temp"
  # The URLs point at a closed loopback port: nothing may leave loopback,
  # even if amuled decides to fetch a list.
  cat >"$d/amule.conf" <<EOF
[eMule]
Nick=mt-$n
Port=${AMULE_TCP[$n]}
UDPPort=${AMULE_UDP[$n]}
UDPEnable=1
Address=127.0.0.1
TempDir=$d/Temp
IncomingDir=$d/Incoming
OSDirectory=$d
ConnectToKad=0
ConnectToED2K=$ed2k
Autoconnect=$auto
Reconnect=1
AutoConnectStaticOnly=0
Serverlist=0
AddServerListFromServer=0
AddServerListFromClient=0
SmartIdCheck=0
FilterLanIPs=0
ParanoidFiltering=0
IPFilterAutoLoad=0
IPFilterURL=http://127.0.0.1:9/ipfilter.dat
Ed2kServersUrl=http://127.0.0.1:9/server.met
KadNodesUrl=http://127.0.0.1:9/nodes.dat
GeoIPEnabled=0
UPnPEnabled=0
NewVersionCheck=0
MaxUpload=65534
MaxDownload=0
CheckDiskspace=0
[ExternalConnect]
AcceptExternalConnections=1
ECAddress=127.0.0.1
ECPort=${AMULE_EC[$n]}
ECPassword=$AMULE_PASSWORD_MD5
UPnPECEnabled=0
[WebServer]
Enabled=0
EOF
  # AMULE_EXTRA_CONF[NAME]: more amule.conf lines (sections included), e.g.
  # an [Obfuscation] section with IsClientCryptLayerRequired=1.
  [ -n "${AMULE_EXTRA_CONF[$n]:-}" ] && printf '%s\n' "${AMULE_EXTRA_CONF[$n]}" >>"$d/amule.conf"
  local h; h=$(_amule_userhash "$n")
  printf "\\x14$(echo "$h" | sed 's/../\\x&/g')" >"$d/preferences.dat"
  # AMULE_SERVER_MET[NAME]: a server.met to start with (the fixture's
  # --server-met: the obfuscation port and flags amuled needs before it
  # connects obfuscated, or at all when it requires obfuscation).
  [ -n "${AMULE_SERVER_MET[$n]:-}" ] && cp "${AMULE_SERVER_MET[$n]}" "$d/server.met"
  if [ -n "$srv" ]; then
    echo "localhost:$srv,2,Muleteer fixture" >"$d/staticservers.dat"
  else
    rm -f "$d/staticservers.dat"
  fi
}

# _amule_listening PORT: amuled's TCP port is bound.
_amule_listening() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

_amule_drop_cleanup_pid() {
  local p keep=()
  for p in "${CLEANUP_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  CLEANUP_PIDS=("${keep[@]}")
}

# _amule_launch NAME: starts amuled on its existing dir in its own session;
# true once it listens on its TCP port and amulecmd gets an answer. A port
# still held (TIME_WAIT after a restart) makes it retry a few times.
# amule_start does not wait for the server login; amule_restart does.
_amule_launch() {
  local n=$1 d=${AMULE_DIR[$1]} try pid
  for try in 1 2 3 4 5; do
    setsid amuled -c "$d" -o >>"$d/amuled.log" 2>&1 </dev/null &
    pid=$!
    AMULE_PID[$n]=$pid
    CLEANUP_PIDS+=("$pid")
    if eventually 30 _amule_ready "$n"; then
      return 0
    fi
    diag "amuled $n (pid $pid) did not come up (try $try); retrying"
    amule_stop "$n" >/dev/null 2>&1
    sleep 2
  done
  return 1
}

_amule_ready() {
  kill -0 "${AMULE_PID[$1]}" 2>/dev/null || return 1
  _amule_listening "${AMULE_TCP[$1]}" || return 1
  amule_cmd "$1" status 2>/dev/null | grep -q 'eD2k:'
}

# amule_start NAME DIR TCP_PORT UDP_PORT EC_PORT [SERVER_PORT]: writes the
# configuration into DIR and starts amuled; its PID is in AMULE_PID[NAME].
amule_start() {
  local n=$1
  AMULE_DIR[$n]=$2 AMULE_TCP[$n]=$3 AMULE_UDP[$n]=$4 AMULE_EC[$n]=$5 AMULE_SERVER[$n]=${6:-}
  _amule_write_config "$n"
  _amule_launch "$n"
}

# amule_cmd NAME CMD...: runs one amulecmd command (AMULE_CMD_TIMEOUT s at
# most, 20 by default).
amule_cmd() {
  local n=$1; shift
  timeout "${AMULE_CMD_TIMEOUT:-20}" amulecmd -h 127.0.0.1 -p "${AMULE_EC[$n]}" -P "$AMULE_PASSWORD" -c "$*" 2>&1
}

# amule_hash NAME FILE_NAME: the hash (upper case) "show shared" lists for a
# file of that name, or nothing.
amule_hash() {
  amule_cmd "$1" show shared | awk -v f="/$2" \
    '$1 == ">" && length($2) == 32 && substr($0, length($0) - length(f) + 1) == f { print $2; exit }'
}

# amule_share NAME FILE: copies FILE into NAME's Incoming dir (unless the
# same bytes are there already), reloads the shared files and waits (60 s)
# until amuled lists it with its hash, which it leaves in AMULE_HASH.
# Offers: amuled sends OP_OFFERFILES at most once a minute, the first time
# about 61 s after it starts (not at login: its republish timer starts on
# its first tick), so a server learns of shared files a minute after start
# at the earliest. amule_start keeps what is in DIR/Incoming already.
amule_share() {
  local n=$1 f=$2 base; base=$(basename "$2")
  local dst=${AMULE_DIR[$n]}/Incoming/$base
  cmp -s "$f" "$dst" || cp "$f" "$dst" || return 1
  amule_cmd "$n" reload shared >/dev/null
  AMULE_HASH=
  _amule_hashed() { AMULE_HASH=$(amule_hash "$1" "$2"); [ -n "$AMULE_HASH" ]; }
  eventually 60 _amule_hashed "$n" "$base"
}

# amule_search_download NAME WORDS FILE_NAME: a local search on amuled's
# server ("search local WORDS"), then "download N" of the result named
# FILE_NAME ("results" lists "N.    name   size  sources", from 0).
# amulecmd takes "download N" only in the session that listed the results,
# so both go to one amulecmd on its stdin. AMULE_RESULTS keeps the listing.
amule_search_download() {
  local n=$1 words=$2 file=$3 num
  AMULE_RESULTS=
  amule_cmd "$n" search local "$words" >/dev/null
  _amule_result() { AMULE_RESULTS=$(amule_cmd "$1" results); grep -qF "$2" <<<"$AMULE_RESULTS"; }
  eventually 30 _amule_result "$n" "$file" || return 1
  num=$(grep -F "$file" <<<"$AMULE_RESULTS" | head -n 1 | grep -oE '^ *[0-9]+\.' | grep -oE '[0-9]+')
  [ -n "$num" ] || return 1
  printf 'results\ndownload %s\nquit\n' "$num" |
    timeout "${AMULE_CMD_TIMEOUT:-20}" amulecmd -h 127.0.0.1 -p "${AMULE_EC[$n]}" -P "$AMULE_PASSWORD" 2>&1 |
    grep -qF "Download File: $num $file"
}

# amule_add NAME LINK
amule_add() { amule_cmd "$1" add "$2" | grep -qiE 'succe|added'; }

# amule_connected NAME: logged in to an eD2K server ("Connected to ... with
# HighID|LowID" in status).
amule_connected() { amule_cmd "$1" status | grep -q 'eD2k: Connected to'; }

# _amule_dl_line NAME KEY: the status line "show dl" prints under the
# download whose first line contains KEY (hash or file name, any case):
# " [12.3%]    1/   1 (01) - Downloading - 001.part.met - ...".
_amule_dl_line() {
  amule_cmd "$1" show dl | awk -v k="$2" '
    index(tolower($0), tolower(k)) { want = 1; next }
    want { print; exit }'
}

# amule_progress NAME KEY: percent done ("12.3") of that download, or
# nothing when amuled does not list it.
amule_progress() {
  _amule_dl_line "$1" "$2" | sed -n 's/.*\[\([0-9.]*\)%\].*/\1/p'
}

# amule_is_complete NAME FILE_NAME: the file is in NAME's Incoming dir and
# amuled lists it as Complete (or no longer lists it). amuled moves the
# .part file there by rename, Temp and Incoming being in the same dir.
amule_is_complete() {
  [ -f "${AMULE_DIR[$1]}/Incoming/$2" ] || return 1
  local line; line=$(_amule_dl_line "$1" "$2")
  [ -z "$line" ] || [[ "$line" == *" - Complete - "* ]]
}

# amule_stop NAME: SIGTERM by PID, wait up to 20 s, then SIGKILL (and
# return 1: it did not stop cleanly).
amule_stop() {
  local n=$1 pid=${AMULE_PID[$1]:-} i rc=0
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null
  kill -CONT "$pid" 2>/dev/null # in case a test stopped it to fake a stall
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    diag "amuled $n (pid $pid) ignored SIGTERM for 20 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null
    rc=1
  fi
  wait "$pid" 2>/dev/null
  _amule_drop_cleanup_pid "$pid"
  AMULE_PID[$n]=
  return $rc
}

# amule_stop_all: SIGTERM to every running amuled at once, then amule_stop
# (wait, SIGKILL after 20 s) for each.
amule_stop_all() {
  local n
  for n in "${!AMULE_PID[@]}"; do
    [ -n "${AMULE_PID[$n]}" ] && kill -TERM "${AMULE_PID[$n]}" 2>/dev/null
  done
  local rc=0
  for n in "${!AMULE_PID[@]}"; do amule_stop "$n" || rc=1; done
  return $rc
}

# amule_restart NAME...: stops them (together) and starts them again on
# the same dirs, in the order given (they keep their .part files, shared
# files and user hash); with a server, each is logged in again before the
# next one starts.
amule_restart() {
  local n
  for n in "$@"; do
    AMULE_RESTARTS=$((AMULE_RESTARTS + 1))
    [ -n "${AMULE_PID[$n]:-}" ] && kill -TERM "${AMULE_PID[$n]}" 2>/dev/null
  done
  for n in "$@"; do amule_stop "$n"; done
  for n in "$@"; do
    _amule_launch "$n" || return 1
    [ -z "${AMULE_SERVER[$n]}" ] || eventually 30 amule_connected "$n" || return 1
  done
}

# _amule_stuck_socket NAME...: sets _AMULE_STUCK to "NAME RECVQ LOCAL PEER"
# (else empty; call it directly, not in $(...), to keep its samples) for the first
# TCP socket of one of those amuleds whose Recv-Q stayed the same non-zero
# value for AMULE_RECVQ_SECS: amuled lost its read wake-up. A connection the
# peer closed (CLOSE-WAIT) counts only with data besides the FIN (Recv-Q
# 1): amuled leaves closed connections, such as a server's port check,
# unread in CLOSE-WAIT for minutes, and that is no stall.
# Keeps its samples in _AMULE_RQ (key -> "value since").
declare -gA _AMULE_RQ=()
_AMULE_STUCK=
_amule_stuck_socket() {
  local now n pid line k snap
  local -A cur=()
  _AMULE_STUCK=
  now=$(date +%s)
  snap=$(ss -Htnp 2>/dev/null)
  for n in "$@"; do
    pid=${AMULE_PID[$n]:-}
    [ -n "$pid" ] || continue
    # ss columns: State Recv-Q Send-Q Local Peer Process
    while read -r k line; do
      [ -n "$k" ] && cur["$n $line"]=$k
    done < <(grep "pid=$pid," <<<"$snap" |
             awk '$1 != "LISTEN" && ($2 > 1 || ($2 == 1 && $1 != "CLOSE-WAIT")) { print $2, $4, $5 }')
  done
  for k in "${!_AMULE_RQ[@]}"; do
    [ "${cur[$k]:-}" = "${_AMULE_RQ[$k]%% *}" ] || unset "_AMULE_RQ[$k]"
  done
  for k in "${!cur[@]}"; do
    [ -n "${_AMULE_RQ[$k]:-}" ] || _AMULE_RQ[$k]="${cur[$k]} $now"
    if [ $((now - ${_AMULE_RQ[$k]#* })) -ge "$AMULE_RECVQ_SECS" ]; then
      _AMULE_STUCK="${k%% *} ${cur[$k]} ${k#* }"
      return 0
    fi
  done
  return 1
}

# _amule_sockets NAME...: their TCP sockets (ss), one TAP comment each.
_amule_sockets() {
  local n pid
  for n in "$@"; do
    pid=${AMULE_PID[$n]:-}
    [ -n "$pid" ] || continue
    ss -Htnp 2>/dev/null | grep "pid=$pid," | awk -v n="$n" '{print "#   " n ": " $1, $2, $3, $4, $5}'
  done
}

# amule_wait_complete NAME FILE_NAME TIMEOUT [PEER...]: waits until
# FILE_NAME is complete in NAME's Incoming dir (amuled moves it there from
# Temp when done). Stalls (amule-testing.md) are handled: when a socket of
# NAME or of a PEER keeps unread data and the download stands still, both
# for AMULE_RECVQ_SECS, or NAME makes no progress for AMULE_STALL_SECS,
# the PEERs are restarted, then NAME, each
# waiting for its login. Both sides: a restarted downloader asks the server
# for sources at login (instead of in ~30 minutes), and an uploader that
# saw its downloader vanish holds the dead connection for a while and does
# not answer a new callback. (With the fixture, use --keep-offers: amuled
# offers its files only ~61 s after it starts.) Each restart is a TAP
# comment, with the amuleds' sockets as ss showed them.
amule_wait_complete() {
  local n=$1 file=$2 timeout=$3; shift 3
  local peers=("$@")
  local end=$(( $(date +%s) + timeout )) last="" last_change stuck p why completing_since=
  local restarts0=$AMULE_RESTARTS
  last_change=$(date +%s)
  _AMULE_RQ=()
  while [ "$(date +%s)" -lt "$end" ]; do
    if [ $((AMULE_RESTARTS - restarts0)) -ge "$AMULE_MAX_RESTARTS" ]; then
      diag "giving up on $file after $((AMULE_RESTARTS - restarts0)) amuled restarts"
      return 1
    fi
    # Sockets first: cheap, and amulecmd may hang on a wedged amuled.
    _amule_stuck_socket "$n" "${peers[@]}"; stuck=$_AMULE_STUCK
    AMULE_CMD_TIMEOUT=8 amule_is_complete "$n" "$file" && return 0
    p=$(AMULE_CMD_TIMEOUT=8 amule_progress "$n" "$file")
    # 100% is the completion itself (hash check, move): not a stall, unless
    # amuled stays "Completing" for AMULE_COMPLETING_SECS (seen under load
    # in CI; a restart makes it check the file again and finish).
    if [ "$p" = 100.0 ]; then
      [ -n "$completing_since" ] || completing_since=$(date +%s)
      [ $(( $(date +%s) - completing_since )) -lt "$AMULE_COMPLETING_SECS" ] && last_change=$(date +%s)
      last=$p
    elif [ "$p" != "$last" ]; then last=$p; last_change=$(date +%s); completing_since=; fi
    why=
    # A stuck socket is a stall once the download stands still as well: an
    # uploader may leave a request unread for a while as it sends.
    if [ -n "$stuck" ] && [ $(( $(date +%s) - last_change )) -ge "$AMULE_RECVQ_SECS" ]; then
      why="amuled ${stuck%% *} has a socket stuck with unread data (Recv-Q, local, peer: ${stuck#* })"
    elif [ $(( $(date +%s) - last_change )) -ge "$AMULE_STALL_SECS" ]; then
      why="no progress on $file for $AMULE_STALL_SECS s"
    fi
    if [ -n "$why" ]; then
      diag "stall at ${last:-?}%: $why; restarting ${peers[*]} $n"
      _amule_sockets "$n" "${peers[@]}"
      amule_restart "${peers[@]}" "$n" || return 1
      last_change=$(date +%s); _AMULE_RQ=(); completing_since=
    fi
    sleep 2
  done
  return 1
}
