#!/usr/bin/env python3
"""bench_ws.py: the measuring side of bench_ws.sh. Adds DOWNLOADS downloads
through the control socket, connects CLIENTS WebSocket clients through
lighttpd, then for SECONDS pauses or resumes CHANGES downloads a second
(pipelined on one control connection) and records, for each change, the
time until each client's batch-update shows it. Prints the figures."""
import asyncio
import json
import os
import socket
import statistics
import sys
import time

import websockets

URL, KEY, CTL = os.environ["WS_URL"], os.environ["API_KEY"], os.environ["CTL"]
CLIENTS, DOWNLOADS = int(os.environ["CLIENTS"]), int(os.environ["DOWNLOADS"])
CHANGES, SECONDS = int(os.environ["CHANGES"]), int(os.environ["SECONDS"])
WS_PID, D_PID = int(os.environ["WS_PID"]), int(os.environ["DAEMON_PID"])


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Ctl:
    """Pipelined requests, on a new connection each time (the daemon
    closes one idle for 10 s)."""
    def __init__(self):
        self.n = 0

    def pipeline(self, cmds):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(CTL)
        self.f = self.s.makefile("r")
        out = []
        for cmd, args in cmds:
            self.n += 1
            out.append(json.dumps({"id": self.n, "cmd": cmd, "args": args}))
        self.s.sendall(("\n".join(out) + "\n").encode())
        for _ in cmds:
            self.f.readline()
        self.s.close()


def h(i):
    return "%032x" % (0xbe000000000000000000000000000000 + i)


pending = {}      # hash -> (time of the change, wanted status)
latencies = []


async def client(i, ready):
    async with websockets.connect(URL, extra_headers={"X-API-Key": KEY}, max_size=None,
                                  max_queue=None) as ws:
        status = {}
        ready.append(i)
        try:
            while True:
                m = json.loads(await ws.recv())
                if m.get("type") != "batch-update":
                    continue
                now = time.monotonic()
                d = m["data"]
                changed = d["items"] if "items" in d else d["delta"].get("changed", []) + d["delta"].get("added", [])
                for it in changed:
                    if "status" in it:
                        p = pending.get(it["hash"])
                        if p and it["status"] == p[1] and status.get(it["hash"]) != it["status"]:
                            latencies.append(now - p[0])
                        status[it["hash"]] = it["status"]
        except (websockets.ConnectionClosed, asyncio.CancelledError):
            return


async def main():
    ctl = Ctl()
    for k in range(0, DOWNLOADS, 200):
        ctl.pipeline([("add", {"link": "ed2k://|file|bench-%d.bin|%d|%s|/" % (i, 10000000 + i, h(i))})
                      for i in range(k, min(k + 200, DOWNLOADS))])
    await asyncio.sleep(2)
    # one client first: the item cache is made once, whatever the clients
    ready = []
    tasks = [asyncio.create_task(client(0, ready))]
    while not ready:
        await asyncio.sleep(0.1)
    await asyncio.sleep(4)
    rss0 = rss_kb(WS_PID)
    tasks += [asyncio.create_task(client(i, ready)) for i in range(1, CLIENTS)]
    t0 = time.monotonic()
    while len(ready) < CLIENTS and time.monotonic() - t0 < 60:
        await asyncio.sleep(0.1)
    await asyncio.sleep(4)  # the snapshots delivered, queues empty
    rss1 = rss_kb(WS_PID)
    c_ws, c_d, t_start = cpu_s(WS_PID), cpu_s(D_PID), time.monotonic()
    paused = set()
    nxt = 0
    for sec in range(SECONDS):
        batch = []
        for _ in range(CHANGES):
            i = nxt % DOWNLOADS
            nxt += 1
            hh = h(i)
            cmd = "resume" if hh in paused else "pause"
            (paused.discard if hh in paused else paused.add)(hh)
            pending[hh] = (time.monotonic(), "active" if cmd == "resume" else "paused")
            batch.append((cmd, {"hash": hh}))
        ctl.pipeline(batch)
        await asyncio.sleep(max(0, sec + 1 - (time.monotonic() - t_start)))
    await asyncio.sleep(3)
    wall = time.monotonic() - t_start
    c_ws, c_d = cpu_s(WS_PID) - c_ws, cpu_s(D_PID) - c_d
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    lat = sorted(latencies)
    want = CHANGES * SECONDS * CLIENTS
    print("clients %d, downloads %d, %d changes/s for %d s" % (CLIENTS, DOWNLOADS, CHANGES, SECONDS))
    print("muleteer-ws RSS: %d KiB with one client, %d KiB with %d: %.1f KiB per idle client"
          % (rss0, rss1, CLIENTS, (rss1 - rss0) / max(1, CLIENTS - 1)))
    print("CPU over %.1f s: muleteer-ws %.1f%%, muleteerd %.1f%%" % (wall, 100 * c_ws / wall, 100 * c_d / wall))
    if lat:
        print("latency change -> client: median %.0f ms, p99 %.0f ms, max %.0f ms (%d of %d seen)"
              % (1000 * statistics.median(lat), 1000 * lat[int(0.99 * (len(lat) - 1))], 1000 * lat[-1],
                 len(lat), want))
    else:
        print("no change seen")
        sys.exit(1)


asyncio.run(main())
