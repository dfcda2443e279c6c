#!/usr/bin/env python3
"""ws_client.py: the WebSocket side of websocket.sh. Drives muleteer-ws
through lighttpd with python3-websockets and prints one line per check,
"ok DESC" or "not ok DESC" (websocket.sh turns them into TAP).

Environment: WS_URL (ws://127.0.0.1:PORT), SID (an amule.sid session),
API_KEY, CLI (the muleteer binary), CTL (the control socket), STAGE
(the checks to run: "main" or "logout")."""
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time

import websockets

URL = os.environ["WS_URL"]
SID = os.environ.get("SID", "")
OUT = []


def check(desc, cond, info=""):
    print(("ok " if cond else "not ok ") + desc, flush=True)
    if not cond and info:
        for line in str(info).splitlines()[:20]:
            print("# " + line, flush=True)


def cookie(sid=SID):
    return {"Cookie": "amule.sid=" + sid}


async def recv_json(ws, timeout=5.0):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def recv_until(ws, pred, timeout=5.0, seen=None):
    """Messages until one satisfies pred (returned); the others go to seen."""
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return None
        try:
            m = await recv_json(ws, left)
        except asyncio.TimeoutError:
            return None
        if pred(m):
            return m
        if seen is not None:
            seen.append(m)


async def close_code(url, headers, send=None, timeout=5.0):
    """Connects, optionally sends, and returns the code the server closed with."""
    try:
        async with websockets.connect(url, extra_headers=headers, max_size=None) as ws:
            if send is not None:
                await ws.send(send)
            while True:
                await asyncio.wait_for(ws.recv(), timeout)
    except websockets.ConnectionClosed as e:
        return e.code
    except Exception as e:  # noqa: BLE001 (the check reports it)
        return repr(e)


def is_delta(m):
    return m.get("type") == "batch-update" and "delta" in m.get("data", {})


def items_of(m):
    return m["data"].get("items", [])


def added_of(m):
    """The items a batch-update brings: a snapshot's, or a delta's added."""
    d = m.get("data", {})
    return d["delta"].get("added", []) if "delta" in d else d.get("items", [])


class Stream:
    """Follows one client's batch-update stream: the items as the UI
    would hold them, and every sequence number seen."""

    def __init__(self):
        self.items = {}
        self.last_seq = 0
        self.seq_ok = True
        self.seqs = []

    def apply(self, m):
        if m.get("type") != "batch-update":
            return
        d = m["data"]
        if "items" in d:
            self.items = {i["instanceId"] + ":" + i["hash"]: i for i in d["items"]}
            if "seq" in d:
                self.last_seq = d["seq"]
                self.seqs.append(("snapshot", d["seq"]))
            return
        delta = d["delta"]
        if "seq" in delta:
            if self.last_seq > 0 and delta["seq"] != self.last_seq + 1:
                self.seq_ok = False
            self.last_seq = delta["seq"]
            self.seqs.append(("delta", delta["seq"]))
        for i in delta.get("added", []):
            self.items[i["instanceId"] + ":" + i["hash"]] = i
        for k in delta.get("removed", []):
            self.items.pop(k, None)
        for p in delta.get("changed", []):
            k = p["instanceId"] + ":" + p["hash"]
            if k in self.items:
                self.items[k].update(p)

    def item(self, h):
        for k, v in self.items.items():
            if v["hash"] == h:
                return v
        return None


async def search_end(ws, timeout, seen=None):
    """The last search-results before search-lock false, and that
    search-lock (None for either not seen within timeout)."""
    res, end = None, time.monotonic() + timeout
    while True:
        m = await recv_until(ws, lambda x: x.get("type") in ("search-results", "search-lock"),
                             end - time.monotonic(), seen)
        if m is None or (m["type"] == "search-lock" and not m["locked"]):
            return res, m
        if m["type"] == "search-results":
            res = m


async def reply(ws, stream, type_, timeout=5.0):
    """The next message of type_, applying every batch-update on the way."""
    seen = []
    m = await recv_until(ws, lambda x: x.get("type") == type_, timeout, seen)
    for s in seen:
        stream.apply(s)
    return m, seen


def daemon_events(ctl, events, action, timeout=3.0):
    """Subscribes on the control socket, runs action, returns the event lines."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(ctl)
    s.sendall((json.dumps({"id": 1, "cmd": "subscribe", "args": {"events": events}}) + "\n").encode())
    f = s.makefile("r")
    first = json.loads(f.readline())
    action()
    s.settimeout(timeout)
    lines = []
    try:
        while True:
            line = f.readline()
            if not line:
                break
            lines.append(json.loads(line))
            if any(x.get("event") == events[-1] for x in lines):
                break
    except (socket.timeout, OSError):
        pass
    s.close()
    return first, lines


HASH1 = "0123456789abcdef0123456789abcd01"
HASH2 = "0123456789abcdef0123456789abcd02"
LINK1 = "ed2k://|file|ws-one.bin|20000000|%s|/" % HASH1
LINK2 = "ed2k://|file|ws-two.bin|3000000|%s|/" % HASH2
HASH3 = "0123456789abcdef0123456789abcd03"
LINK3 = "ed2k://|file|ws-three.bin|4000000|%s|/" % HASH3


async def main_checks():
    cli = os.environ["CLI"]
    ctl = os.environ["CTL"]

    # --- authentication on the upgrade
    code = await close_code(URL + "/ws", {})
    check("no session: closed with 1008", code == 1008, code)
    code = await close_code(URL + "/ws", cookie("f" * 64))
    check("an unknown session: closed with 1008", code == 1008, code)

    async with websockets.connect(URL + "/ws", extra_headers=cookie(), max_size=None) as a, \
            websockets.connect(URL + "/", extra_headers={"X-API-Key": os.environ["API_KEY"]},
                               max_size=None) as b:
        sa, sb = Stream(), Stream()
        first = [await recv_json(a) for _ in range(3)]
        check("session: connected, then search-lock, then a snapshot",
              [m.get("type") for m in first] == ["connected", "search-lock", "batch-update"], first)
        snap = first[2]
        sa.apply(snap)
        inst = snap["data"]["stats"]["instances"]
        check("the snapshot: seq, items, one instance of type amule with the eD2K and Kad status",
              isinstance(snap["data"].get("seq"), int) and snap["data"]["seq"] > 0 and
              len(inst) == 1 and list(inst.values())[0]["type"] == "amule" and
              "ed2k" in list(inst.values())[0]["networkStatus"] and
              "kad" in list(inst.values())[0]["networkStatus"] and
              items_of(snap) == [], snap)
        iid = list(inst.keys())[0]
        m = await recv_until(b, lambda x: x.get("type") == "batch-update" and "items" in x["data"])
        check("the API key on / with an upgrade: accepted, a snapshot", m is not None, m)
        if m:
            sb.apply(m)

        # --- add: the broadcast comes before the reply, to both clients
        t0 = time.monotonic()
        await a.send(json.dumps({"action": "addEd2kLinks", "links": [LINK1], "categoryName": "Default"}))
        m, seen = await reply(a, sa, "ed2k-added")
        check("addEd2kLinks: ed2k-added with success", m is not None and
              m["results"] == [{"link": LINK1, "success": True}], m)
        check("addEd2kLinks: a batch-update with the new item came first (a snapshot: it is most items)",
              any(s.get("type") == "batch-update" and any(i["hash"] == HASH1 for i in added_of(s))
                  for s in seen), seen)
        it = sa.item(HASH1)
        check("the item has the fields the UI reads",
              it is not None and it["instanceId"] == iid and it["name"] == "ws-one.bin" and
              it["size"] == 20000000 and it["progress"] == "0.00" and it["status"] == "active" and
              it["downloading"] is True and isinstance(it["sources"], dict) and
              isinstance(it["peers"], list) and "partStatus" in it and it["category"] == "Default", it)
        m = await recv_until(b, lambda x: x.get("type") == "batch-update" and
                             any(i["hash"] == HASH1 for i in added_of(x)), 2.0)
        check("the other client got the new item within a second of the action",
              m is not None and time.monotonic() - t0 < 2.0, m)
        if m:
            sb.apply(m)

        # a change made in the daemon by someone else (the CLI): pushed by the event stream
        t0 = time.monotonic()
        subprocess.run([cli, "--socket", ctl, "add", LINK3], check=False, capture_output=True)
        m = await recv_until(a, lambda x: x.get("type") == "batch-update" and
                             any(i["hash"] == HASH3 for i in added_of(x)), 3.0)
        dt = time.monotonic() - t0
        if m:
            sa.apply(m)
        check("a download added with the CLI reaches the client within a second (%.2f s)" % dt,
              m is not None and dt < 1.0, m)
        t0 = time.monotonic()
        subprocess.run([cli, "--socket", ctl, "delete", HASH3], check=False, capture_output=True)
        m = await recv_until(a, lambda x: is_delta(x) and iid + ":" + HASH3 in x["data"]["delta"]["removed"], 3.0)
        dt = time.monotonic() - t0
        if m:
            sa.apply(m)
        check("... and its deletion too (%.2f s)" % dt, m is not None and dt < 1.0, m)

        await a.send(json.dumps({"action": "addEd2kLink", "link": LINK2}))
        m, _ = await reply(a, sa, "ed2k-added")
        check("addEd2kLink (the older list): ed2k-added", m is not None and m["results"][0]["success"], m)
        await a.send(json.dumps({"action": "addEd2kLinks", "links": ["ed2k://|file|x|0|zz|/"]}))
        m, _ = await reply(a, sa, "ed2k-added")
        check("a bad link: success false with the daemon's reason",
              m is not None and m["results"][0]["success"] is False and m["results"][0]["error"], m)

        # --- pause and resume, batched and singly
        items = [{"fileHash": HASH1, "clientType": "amule", "fileName": "ws-one.bin", "instanceId": iid}]
        await a.send(json.dumps({"action": "batchPause", "items": items}))
        m, _ = await reply(a, sa, "batch-pause-complete")
        check("batchPause: batch-pause-complete, success for the file",
              m is not None and m["results"][0]["fileHash"] == HASH1 and m["results"][0]["success"] is True
              and m["results"][0]["instanceId"] == iid, m)
        check("batchPause: the item's status is paused", (sa.item(HASH1) or {}).get("status") == "paused",
              sa.item(HASH1))
        await a.send(json.dumps({"action": "batchResume", "items": items}))
        m, _ = await reply(a, sa, "batch-resume-complete")
        check("batchResume: batch-resume-complete, the item active again",
              m is not None and m["results"][0]["success"] and sa.item(HASH1)["status"] == "active", m)
        await a.send(json.dumps({"action": "batchStop", "items": items}))
        m, _ = await reply(a, sa, "batch-stop-complete")
        check("batchStop: batch-stop-complete, the item paused",
              m is not None and m["results"][0]["success"] and sa.item(HASH1)["status"] == "paused", m)
        await a.send(json.dumps({"action": "resumeDownload", "fileHash": HASH1.upper()}))
        m, _ = await reply(a, sa, "success")
        check("resumeDownload (the older list): success, the item active",
              m is not None and sa.item(HASH1)["status"] == "active", m)
        await a.send(json.dumps({"action": "pauseDownload", "fileHash": HASH2}))
        m, _ = await reply(a, sa, "success")
        check("pauseDownload (the older list): success", m is not None, m)
        await a.send(json.dumps({"action": "pauseDownload", "fileHash": "f" * 32}))
        m, _ = await reply(a, sa, "error")
        check("pauseDownload of an unknown file: an error naming it",
              m is not None and "f" * 32 in m["message"], m)

        # --- the older list's reads
        await a.send(json.dumps({"action": "getDownloads"}))
        m, _ = await reply(a, sa, "downloads-update")
        check("getDownloads: downloads-update with both files, the second paused",
              m is not None and {i["hash"] for i in m["data"]} == {HASH1, HASH2} and
              [i["status"] for i in m["data"] if i["hash"] == HASH2] == ["paused"], m)
        await a.send(json.dumps({"action": "getStats"}))
        m, _ = await reply(a, sa, "stats-update")
        check("getStats: stats-update with the instance",
              m is not None and iid in m["data"]["instances"] and iid in m["data"]["instanceSpeeds"], m)

        # --- categories: a change in the daemon reaches both clients
        await a.send(json.dumps({"action": "getCategories"}))
        m, _ = await reply(a, sa, "categories-update")
        check("getCategories: categories-update, Default first",
              m is not None and m["data"][0]["title"] == "Default" and iid in m["clientDefaultPaths"], m)
        subprocess.run([cli, "--socket", ctl, "call", "category-add", json.dumps({"name": "wstv"})],
                       check=False, capture_output=True)
        ma, _ = await reply(a, sa, "categories-update", 3.0)
        mb, _ = await reply(b, sb, "categories-update", 3.0)
        check("a category added in the daemon: categories-update to both clients",
              ma is not None and mb is not None and
              any(c["title"] == "wstv" for c in ma["data"]) and any(c["title"] == "wstv" for c in mb["data"]),
              [ma, mb])

        # --- deltas keep counting; a snapshot on request
        await a.send(json.dumps({"action": "requestFullSnapshot"}))
        m, _ = await reply(a, sa, "batch-update")
        while m is not None and "items" not in m["data"]:
            sa.apply(m)
            m, _ = await reply(a, sa, "batch-update")
        check("requestFullSnapshot: a snapshot with the items and the current seq",
              m is not None and {i["hash"] for i in items_of(m)} == {HASH1, HASH2} and
              m["data"]["seq"] == sa.last_seq, m)
        if m:
            sa.apply(m)
        # the 3-second cycle sends deltas (stats) without anything changing
        m = await recv_until(a, is_delta, 5.0)
        check("the periodic delta arrives within the 3 s cycle", m is not None, m)
        if m:
            sa.apply(m)
        check("sequence numbers rise by one on every delta", sa.seq_ok and len(sa.seqs) >= 5, sa.seqs)

        # --- bad input: an error each, the connection stays
        for frame, want in [("not json", "Invalid JSON"), ('{"action":"nope"}', "Unknown action: nope"),
                            ('{"noaction":1}', "Missing action"),
                            ('{"action":"batchPause","items":"x"}', "items: an array of items expected"),
                            ('{"action":"pauseDownload","fileHash":5}', "fileHash: 32 hex digits expected")]:
            await a.send(frame)
            m, _ = await reply(a, sa, "error")
            check("bad input %r: error %r" % (frame[:30], want), m is not None and m["message"] == want, m)
        burst = [json.dumps({"action": "getCategories"})] * 300
        for f in burst:
            await a.send(f)
        errors, answers = 0, 0
        end = time.monotonic() + 5
        while answers + errors < 300 and time.monotonic() < end:
            try:
                m = await recv_json(a, 2.0)
            except asyncio.TimeoutError:
                break
            if m.get("type") == "error" and "slow down" in m.get("message", ""):
                errors += 1
            elif m.get("type") == "categories-update":
                answers += 1
        check("a flood of actions: the excess gets errors, the rest answers", errors > 0 and answers >= 50,
              (errors, answers))
        await asyncio.sleep(2)  # the bucket fills again (20 actions a second)
        code = await close_code(URL + "/ws", cookie(), send="x" * 70000)
        check("a frame over ws_max_frame: closed with 1009", code == 1009, code)
        await a.send(json.dumps({"action": "getStats"}))
        m, _ = await reply(a, sa, "stats-update")
        check("after all that the connection still answers", m is not None, m)

        # --- the server connection and a search, results pushed to both clients
        sp = int(os.environ["SERVER_PORT"])
        st = None
        for _ in range(50):
            await a.send(json.dumps({"action": "getStats"}))
            m, _ = await reply(a, sa, "stats-update")
            st = m["data"]["instances"][iid]["networkStatus"]["ed2k"] if m else None
            if st and st["connected"]:
                break
            await asyncio.sleep(0.2)
        check("networkStatus.ed2k: connected to the fixture, High ID, its address",
              st is not None and st["connected"] and st["status"] == "green" and st["text"] == "High ID" and
              st["serverAddress"] == "127.0.0.1:%d" % sp, st)
        kad = ctl_call("kad-status", {})
        ks = m["data"]["instances"][iid]["networkStatus"]["kad"] if m else None
        want = {"connected (open)": ("green", "Connected", True), "connected (firewalled)": ("yellow", "Firewalled", True),
                "connecting": ("yellow", "Connecting", False)}.get(
            (kad or {}).get("state"), ("red", "Disconnected", False))
        check("networkStatus.kad follows the daemon's kad-status (%s)" % (kad or {}).get("state"),
              ks is not None and (ks["status"], ks["text"], ks["connected"]) == want, (kad, ks))
        await a.send(json.dumps({"action": "search", "query": "anything", "type": "global", "extension": None}))
        seen = []
        lock_on = await recv_until(a, lambda x: x.get("type") == "search-lock", 5.0, seen)
        # results are pushed as they come (docs/websocket.md): the last
        # search-results before search-lock false is the final list
        res, lock_off = await search_end(a, 30.0, seen)
        for x in seen:
            sa.apply(x)
        check("search: search-lock true, search-results, search-lock false",
              lock_on is not None and lock_on["locked"] is True and res is not None and
              lock_off is not None and lock_off["locked"] is False, [lock_on, res, lock_off])
        data = res["data"] if res else []
        check("search-results: the fixture's six results as SearchResult, most sources first",
              len(data) == 6 and all(set(["fileHash", "fileName", "fileSize", "sourceCount"]) <= set(r)
                                     for r in data) and
              all(r["fileHash"].startswith("bd" * 15) for r in data) and res["instanceId"] == iid and
              [r["sourceCount"] for r in data] == sorted([r["sourceCount"] for r in data], reverse=True), res)
        check("search-results: each says where it was found (origins, Muleteer's own: the connected server)",
              len(data) == 6 and all(isinstance(r.get("origins"), list) and "server" in r["origins"] and
                                     set(r["origins"]) <= {"server", "udp", "kad"} for r in data), data)
        rb, _ = await search_end(b, 5.0)
        check("search-results reach the other client", rb is not None and len(rb["data"]) == 6, rb)
        await a.send(json.dumps({"action": "search", "query": "   ", "type": "global"}))
        m, _ = await reply(a, sa, "error")
        check("search without words: an error", m is not None and "empty" in m["message"], m)
        # aMuTorrent's UI locks its search form itself when it sends a
        # search; only search-lock false unlocks it after a refused one
        lock, _ = await reply(a, sa, "search-lock", 3.0)
        check("a search the daemon refuses: the error, then search-lock false (the UI leaves Searching...)",
              m is not None and m["message"].startswith("Search failed: ") and
              lock is not None and lock["locked"] is False, [m, lock])
        await a.send(json.dumps({"action": "getPreviousSearchResults"}))
        m, _ = await reply(a, sa, "previous-search-results")
        check("getPreviousSearchResults: the same results", m is not None and m["data"] == data, m)
        hits = [r["fileHash"] for r in data]
        await a.send(json.dumps({"action": "batchDownloadSearchResults", "fileHashes": hits[:1] + ["e" * 32],
                                 "categoryName": "Default"}))
        m, _ = await reply(a, sa, "batch-download-complete")
        check("batchDownloadSearchResults: the result downloads, an unknown hash fails",
              m is not None and [r["success"] for r in m["results"]] == [True, False] and
              sa.item(hits[0]) is not None and sa.item(hits[0])["size"] == data[0]["fileSize"], m)
        await a.send(json.dumps({"action": "download", "fileHash": hits[1]}))
        m, _ = await reply(a, sa, "success")
        check("download (the older list): success, the item there", m is not None and sa.item(hits[1]) is not None, m)
        found = [{"fileHash": h, "instanceId": iid} for h in hits[:2]]
        await a.send(json.dumps({"action": "batchDelete", "items": found, "deleteFiles": False}))
        m, _ = await reply(a, sa, "batch-delete-complete")
        check("the downloads from the search deleted again",
              m is not None and sa.item(hits[0]) is None and sa.item(hits[1]) is None, m)

        # --- categories from the WebSocket: broadcast to both clients
        await a.send(json.dumps({"action": "createCategory", "title": "wsmovies", "path": "",
                                 "comment": "films", "color": "#ff8000", "priority": 1,
                                 "pathMappings": None}))
        m, seen = await reply(a, sa, "category-created")
        cat = [c for s in seen if s.get("type") == "categories-update" for c in s["data"]
               if c["title"] == "wsmovies"]
        check("createCategory: categories-update with it (colour, comment, priority), then category-created",
              m is not None and m["success"] and cat and cat[-1]["hexColor"] == "#ff8000" and
              cat[-1]["comment"] == "films" and cat[-1]["priority"] == 1, [m, cat])
        mb, _ = await reply(b, sb, "categories-update", 3.0)
        check("createCategory: the other client hears it too",
              mb is not None and any(c["title"] == "wsmovies" for c in mb["data"]), mb)
        await a.send(json.dumps({"action": "updateCategory", "name": "wsmovies", "title": "wsfilms",
                                 "path": "", "comment": "f2", "color": "#0000ff", "priority": 2}))
        m, seen = await reply(a, sa, "category-updated")
        cat = [c for s in seen if s.get("type") == "categories-update" for c in s["data"]
               if c["title"] == "wsfilms"]
        check("updateCategory: renamed, its colour and priority changed",
              m is not None and cat and cat[-1]["hexColor"] == "#0000ff" and cat[-1]["priority"] == 2, [m, seen])
        await a.send(json.dumps({"action": "batchSetFileCategory", "items": items, "categoryName": "wsfilms",
                                 "moveFiles": False}))
        m, _ = await reply(a, sa, "batch-category-changed")
        check("batchSetFileCategory: batch-category-changed, the item's category",
              m is not None and m["results"][0]["success"] and sa.item(HASH1)["category"] == "wsfilms" and
              sa.item(HASH1)["categoryId"] > 0, [m, sa.item(HASH1)])
        await a.send(json.dumps({"action": "batchSetFileCategory", "items": items, "categoryName": "wsnew"}))
        m, seen = await reply(a, sa, "batch-category-changed")
        check("batchSetFileCategory to a new name: the category is made and broadcast",
              m is not None and m["results"][0]["success"] and sa.item(HASH1)["category"] == "wsnew" and
              any(s.get("type") == "categories-update" and any(c["title"] == "wsnew" for c in s["data"])
                  for s in seen), m)
        await a.send(json.dumps({"action": "setFileCategory", "fileHash": HASH1, "categoryId": 0}))
        m, _ = await reply(a, sa, "batch-category-changed")
        check("setFileCategory (the older list) to 0: Default",
              m is not None and sa.item(HASH1)["category"] == "Default", sa.item(HASH1))
        await a.send(json.dumps({"action": "deleteCategory", "name": "wsnew"}))
        m, seen = await reply(a, sa, "category-deleted")
        check("deleteCategory: gone from the broadcast list",
              m is not None and any(s.get("type") == "categories-update" and
                                    not any(c["title"] == "wsnew" for c in s["data"]) for s in seen), m)
        await a.send(json.dumps({"action": "createCategory", "category": {"title": "wsold", "color": 255}}))
        m, _ = await reply(a, sa, "category-created")
        check("createCategory (the older list's form)", m is not None and m["success"], m)
        await a.send(json.dumps({"action": "deleteCategory", "name": "Default"}))
        m, _ = await reply(a, sa, "error")
        check("deleteCategory Default: refused", m is not None, m)

        # --- servers
        port = int(os.environ["FREE_PORT"])
        await a.send(json.dumps({"action": "serverDoAction", "ip": "127.0.0.1", "port": port,
                                 "serverAction": "connect"}))
        m, _ = await reply(a, sa, "server-action")
        check("serverDoAction connect: server-action true", m is not None and m["data"] is True and
              m["instanceId"] == iid, m)
        await a.send(json.dumps({"action": "getServersList"}))
        m, _ = await reply(a, sa, "servers-update")
        check("getServersList: servers-update with EC_TAG_SERVER an array holding it",
              m is not None and isinstance(m["data"]["EC_TAG_SERVER"], list) and
              any(x["_value"] == "127.0.0.1:%d" % port for x in m["data"]["EC_TAG_SERVER"]), m)
        await a.send(json.dumps({"action": "disconnectServer"}))
        m, _ = await reply(a, sa, "server-action")
        check("disconnectServer (the older list): server-action true", m is not None and m["data"] is True, m)
        await a.send(json.dumps({"action": "serverDoAction", "ip": "127.0.0.1", "port": port,
                                 "serverAction": "remove"}))
        m, _ = await reply(a, sa, "server-action")
        await a.send(json.dumps({"action": "getServers"}))
        m2, _ = await reply(a, sa, "servers-update")
        check("serverDoAction remove: gone from getServers (the older list's array)",
              m is not None and m["data"] is True and m2 is not None and isinstance(m2["data"], list) and
              not any(x["_value"] == "127.0.0.1:%d" % port for x in m2["data"]), [m, m2])
        await a.send(json.dumps({"action": "removeServer", "serverAddress": "127.0.0.1:%d" % port}))
        m, seen = await reply(a, sa, "server-action")
        check("removeServer of an unknown server: an error and server-action false",
              m is not None and m["data"] is False and any(s.get("type") == "error" for s in seen), [m, seen])
        await a.send(json.dumps({"action": "getServerInfo"}))
        m, _ = await reply(a, sa, "server-info-update")
        check("getServerInfo: server-info-update with the text", m is not None and
              isinstance(m["data"]["EC_TAG_STRING"], str), m)

        # --- logs, rename, shared files, segment data
        await a.send(json.dumps({"action": "getLog"}))
        m, _ = await reply(a, sa, "log-update")
        check("getLog: log-update with the daemon's log lines",
              m is not None and "muleteerd" in m["data"]["EC_TAG_STRING"] and m["instanceId"] == iid, m)
        await a.send(json.dumps({"action": "getAppLog", "limit": 2000, "minLevel": "warn"}))
        m, _ = await reply(a, sa, "app-log-update")
        check("getAppLog with minLevel warn: only warnings and errors",
              m is not None and all(e["level"] in ("warn", "error") for e in m["data"]) and
              isinstance(m["sources"], list), m)
        await a.send(json.dumps({"action": "getAppLog"}))
        m, _ = await reply(a, sa, "app-log-update")
        check("getAppLog: entries with ts, level, source, message",
              m is not None and len(m["data"]) > 0 and
              all(set(e) == {"ts", "level", "source", "message"} for e in m["data"]), m)
        await a.send(json.dumps({"action": "setFileRatingComment", "fileHash": HASH1, "comment": "fine copy",
                                 "rating": 4, "instanceId": iid}))
        m, _ = await reply(a, sa, "rating-comment-complete")
        check("setFileRatingComment: rating-comment-complete, the item's comment and rating",
              m is not None and m["success"] and sa.item(HASH1)["comment"] == "fine copy" and
              sa.item(HASH1)["rating"] == 4, [m, sa.item(HASH1)])
        await a.send(json.dumps({"action": "setFileRatingComment", "fileHash": HASH1, "comment": "x",
                                 "rating": 9}))
        m, _ = await reply(a, sa, "error")
        check("setFileRatingComment with rating 9: an error", m is not None and "rating" in m["message"], m)
        await a.send(json.dumps({"action": "renameFile", "fileHash": HASH1, "newName": "ws-renamed.bin",
                                 "instanceId": iid}))
        m, _ = await reply(a, sa, "rename-complete")
        check("renameFile: rename-complete, the item's new name",
              m is not None and m["success"] and sa.item(HASH1)["name"] == "ws-renamed.bin", [m, sa.item(HASH1)])
        await a.send(json.dumps({"action": "renameFile", "fileHash": HASH1, "newName": "a/b"}))
        m, _ = await reply(a, sa, "rename-complete")
        check("renameFile with a slash: success false with the reason",
              m is not None and m["success"] is False and m["error"], m)
        await a.send(json.dumps({"action": "refreshSharedFiles"}))
        m, _ = await reply(a, sa, "shared-files-refreshed")
        check("refreshSharedFiles: shared-files-refreshed", m is not None and m["message"], m)
        await a.send(json.dumps({"action": "reloadSharedFiles"}))
        m, _ = await reply(a, sa, "shared-files-refreshed")
        check("reloadSharedFiles (the older list): shared-files-refreshed", m is not None, m)
        await a.send(json.dumps({"action": "subscribe", "channel": "segmentData"}))
        m = await recv_until(a, lambda x: is_delta(x) and "seq" not in x["data"]["delta"], 5.0)
        if m:
            sa.apply(m)
        check("subscribe segmentData: an unnumbered delta with each download's gapStatus",
              m is not None and sa.item(HASH1).get("gapStatus") == [0, 19999999] and
              sa.item(HASH2).get("gapStatus") == [0, 2999999] and "reqStatus" in sa.item(HASH1), m)
        await a.send(json.dumps({"action": "unsubscribe", "channel": "segmentData"}))
        await a.send(json.dumps({"action": "getStats"}))
        m, seen = await reply(a, sa, "stats-update")
        check("unsubscribe segmentData: accepted without an error",
              m is not None and not any(s.get("type") == "error" for s in seen), seen)

        # --- the older list's shared files and uploads, the stats tree, delete permissions
        shared = None
        for _ in range(50):
            await a.send(json.dumps({"action": "getShared"}))
            m, _ = await reply(a, sa, "shared-update")
            shared = m["data"] if m else None
            if shared and any(f.get("fileName") == "ws-shared.bin" for f in shared):
                break
            await asyncio.sleep(0.2)
        check("getShared: shared-update with the file in the incoming directory",
              shared is not None and any(f.get("fileName") == "ws-shared.bin" and f["fileSize"] == 5000 and
                                         len(f["fileHash"]) == 32 for f in shared), shared)
        await a.send(json.dumps({"action": "getUploadingQueue"}))
        m, _ = await reply(a, sa, "uploads-update")
        check("getUploadingQueue: uploads-update, a list", m is not None and isinstance(m["data"], list), m)
        await a.send(json.dumps({"action": "getStatsTree"}))
        m, _ = await reply(a, sa, "stats-tree-update")
        nodes = m["data"]["EC_TAG_STATTREE_NODE"] if m else []
        check("getStatsTree: stats-tree-update, labels with placeholders and values",
              m is not None and m["instanceId"] == iid and
              any(n["_value"].startswith("Uptime") and "EC_TAG_STAT_NODE_VALUE" in n for n in nodes) and
              any(n["_value"] == "Transfer" and len(n["EC_TAG_STATTREE_NODE"]) == 4 for n in nodes), m)
        await a.send(json.dumps({"action": "checkDeletePermissions", "source": "downloads",
                                 "items": [{"fileHash": HASH1, "instanceId": iid},
                                           {"fileHash": "c" * 32, "instanceId": iid}]}))
        m, _ = await reply(a, sa, "delete-permissions")
        check("checkDeletePermissions: ok for a download, not_found for an unknown hash",
              m is not None and [(r["canDelete"], r["reason"]) for r in m["results"]] ==
              [(True, "ok"), (False, "not_found")] and m["isDocker"] is False, m)

        # --- moves: where a download completes
        dest = os.environ["VAR"] + "/incoming/wsmoved"
        await a.send(json.dumps({"action": "checkMoveToPermissions", "items": items, "destPath": dest}))
        m, _ = await reply(a, sa, "move-to-permissions")
        check("checkMoveToPermissions: canMove for a known download",
              m is not None and m["canMove"] is True and m["destPath"] == dest and
              m["results"][0]["reason"] == "ok", m)
        await a.send(json.dumps({"action": "checkMovePermissions", "items": items, "categoryName": "nosuch"}))
        m, _ = await reply(a, sa, "move-permissions")
        check("checkMovePermissions to an unknown category: canMove false, destError",
              m is not None and m["canMove"] is False and m["destError"], m)
        await a.send(json.dumps({"action": "batchMoveFiles", "items": items, "destPath": dest}))
        m, _ = await reply(a, sa, "batch-move-complete")
        check("batchMoveFiles: batch-move-complete, the directory made",
              m is not None and m["results"][0]["success"] and os.path.isdir(dest), m)
        await a.send(json.dumps({"action": "batchMoveFiles", "items": items, "destPath": "/etc"}))
        m, _ = await reply(a, sa, "batch-move-complete")
        check("batchMoveFiles outside the allowed directories: refused with the daemon's reason",
              m is not None and m["results"][0]["success"] is False and "location" in m["results"][0]["error"], m)

        # --- delete
        await a.send(json.dumps({"action": "batchDelete", "items": items, "deleteFiles": False,
                                 "source": "downloads"}))
        m, seen = await reply(a, sa, "batch-delete-complete")
        check("batchDelete: batch-delete-complete, the item removed by a delta",
              m is not None and m["results"][0]["success"] and sa.item(HASH1) is None and
              any(is_delta(s) and iid + ":" + HASH1 in s["data"]["delta"]["removed"] for s in seen), m)
        await a.send(json.dumps({"action": "delete", "fileHash": HASH2}))
        m, _ = await reply(a, sa, "success")
        check("delete (the older list): success, no items left", m is not None and sa.items == {}, sa.items)

    # --- the daemon's own stream: subscribe on the control socket
    def add():
        subprocess.run([cli, "--socket", ctl, "add", LINK1], check=False, capture_output=True)
    first, lines = daemon_events(ctl, ["dl_added"], add)
    check("control socket: subscribe answers the events in force",
          first.get("result", {}).get("subscribed") == ["dl_added"], first)
    check("control socket: dl_added streams as a line with the download",
          any(x.get("event") == "dl_added" and x["data"]["hash"] == HASH1 for x in lines), lines)


async def slow_checks():
    """A client that sends and never reads, straight on muleteer-ws's socket
    (lighttpd in between would buffer for it): it must be dropped, and
    the others keep being served."""
    path = os.environ["WS_SOCK"]
    async with websockets.connect(URL + "/ws", extra_headers=cookie(), max_size=None) as good:
        await recv_until(good, lambda x: x.get("type") == "batch-update", 5.0)
        slow = await websockets.unix_connect(path, "ws://localhost/ws", extra_headers=cookie(),
                                             max_queue=1, read_limit=1024, max_size=None)
        frame = json.dumps({"action": "nope"})
        sent = 0
        try:
            for _ in range(40000):
                await asyncio.wait_for(slow.send(frame), 5)
                sent += 1
        except (websockets.ConnectionClosed, asyncio.TimeoutError, OSError):
            pass
        await asyncio.sleep(1)
        got, code = 0, None
        try:
            while True:
                await asyncio.wait_for(slow.recv(), 5)
                got += 1
        except websockets.ConnectionClosed as e:
            code = e.code
        except asyncio.TimeoutError:
            code = "still open"
        check("a client that never reads is dropped (its answers cut short)",
              code == 1006 and got < sent, (code, got, sent))
        await good.send(json.dumps({"action": "getStats"}))
        m = await recv_until(good, lambda x: x.get("type") == "stats-update", 5.0)
        check("the other client is still served", m is not None, m)


async def probe():
    """Exit status only: a snapshot arrives at URL with the API key
    (webservers.sh, behind nginx and Apache)."""
    async with websockets.connect(URL, extra_headers={"X-API-Key": os.environ["API_KEY"]},
                                  max_size=None) as ws:
        m = await recv_until(ws, lambda x: x.get("type") == "batch-update" and "items" in x["data"], 5.0)
    if m is None:
        sys.exit(1)


async def logout_checks():
    async with websockets.connect(URL + "/ws", extra_headers=cookie(), max_size=None) as ws:
        await recv_until(ws, lambda x: x.get("type") == "batch-update", 5.0)
        subprocess.run(os.environ["LOGOUT"], shell=True, check=False)
        t0 = time.monotonic()
        code = None
        try:
            while time.monotonic() - t0 < 10:
                await asyncio.wait_for(ws.recv(), 10)
        except websockets.ConnectionClosed as e:
            code = (e.code, e.reason)
        except asyncio.TimeoutError:
            pass
        check("logout: the open socket is closed with 4001 Session expired within ws_session_check",
              code == (4001, "Session expired") and time.monotonic() - t0 < 5, code)
    code = await close_code(URL + "/ws", cookie())
    check("after logout the session no longer opens a socket (1008)", code == 1008, code)


def hashes_in(m):
    """Every download hash a message names (items, patches, removed keys)."""
    out = set()
    if m.get("type") == "downloads-update":
        return {i["hash"] for i in m["data"]}
    if m.get("type") != "batch-update":
        return out
    d = m["data"]
    for i in d.get("items", []):
        out.add(i["hash"])
    delta = d.get("delta", {})
    for i in delta.get("added", []) + delta.get("changed", []):
        out.add(i["hash"])
    for k in delta.get("removed", []):
        out.add(k.rsplit(":", 1)[-1])
    return out


async def drain(ws, stream, secs, seen):
    """Every message for secs seconds, applied to stream, kept in seen."""
    end = time.monotonic() + secs
    while time.monotonic() < end:
        try:
            m = await recv_json(ws, end - time.monotonic())
        except asyncio.TimeoutError:
            break
        stream.apply(m)
        seen.append(m)


HASH4 = "0123456789abcdef0123456789abcd04"
HASH5 = "0123456789abcdef0123456789abcd05"
LINK4 = "ed2k://|file|ws-admin.bin|5000000|%s|/" % HASH4
LINK5 = "ed2k://|file|ws-bob.bin|6000000|%s|/" % HASH5


async def owner_checks():
    """Own downloads: bob lacks view_all_downloads and edit_all_downloads,
    carol has view_all_downloads only (SID_BOB, SID_CAROL)."""
    cli, ctl = os.environ["CLI"], os.environ["CTL"]
    async with websockets.connect(URL + "/ws", extra_headers=cookie(), max_size=None) as a, \
            websockets.connect(URL + "/ws", extra_headers=cookie(os.environ["SID_BOB"]), max_size=None) as b, \
            websockets.connect(URL + "/ws", extra_headers=cookie(os.environ["SID_CAROL"]), max_size=None) as c:
        sa, sb, sc = Stream(), Stream(), Stream()
        ma, mb, mc = [], [], []
        for ws, st, seen in ((a, sa, ma), (b, sb, mb), (c, sc, mc)):
            await drain(ws, st, 1.0, seen)
        iid = next(iter(next(m for m in ma if m.get("type") == "batch-update")["data"]["stats"]["instances"]))
        # the UI's own frames: addEd2kLinks from the admin and from bob
        await a.send(json.dumps({"action": "addEd2kLinks", "links": [LINK4], "categoryName": "Default"}))
        m, seen = await reply(a, sa, "ed2k-added")
        ma += seen
        await b.send(json.dumps({"action": "addEd2kLinks", "links": [LINK5], "categoryName": "Default"}))
        m2, seen = await reply(b, sb, "ed2k-added")
        mb += seen
        check("two accounts add a download each",
              m is not None and m["results"][0]["success"] and m2 is not None and m2["results"][0]["success"],
              [m, m2])
        for ws, st, seen in ((a, sa, ma), (b, sb, mb), (c, sc, mc)):
            await drain(ws, st, 1.5, seen)
        got_a, got_b, got_c = sa.item(HASH4), sa.item(HASH5), sb.item(HASH5)
        check("the admin sees both, ownedByMe true on each",
              got_a is not None and got_b is not None and got_a["ownedByMe"] is True and
              got_b["ownedByMe"] is True, [got_a, got_b])
        check("bob (no view_all_downloads) sees his own download, ownedByMe true",
              got_c is not None and got_c["ownedByMe"] is True, sb.items)
        check("bob is never told of the admin's download (snapshots, deltas)",
              sb.item(HASH4) is None and not any(HASH4 in hashes_in(x) for x in mb), sb.items)
        ca, cb = sc.item(HASH4), sc.item(HASH5)
        check("carol (view_all_downloads) sees both, ownedByMe false on the others' downloads",
              ca is not None and cb is not None and ca["ownedByMe"] is False and cb["ownedByMe"] is False,
              [ca, cb])
        await b.send(json.dumps({"action": "getDownloads"}))
        m, _ = await reply(b, sb, "downloads-update")
        check("getDownloads to bob: only his own", m is not None and [i["hash"] for i in m["data"]] == [HASH5], m)
        await b.send(json.dumps({"action": "requestFullSnapshot"}))
        m, _ = await reply(b, sb, "batch-update")
        check("requestFullSnapshot to bob: only his own, with the current seq",
              m is not None and [i["hash"] for i in m["data"]["items"]] == [HASH5] and
              m["data"]["seq"] >= sa.last_seq, m)
        # the UI's batchPause frame naming both: the other's is skipped
        items = [{"fileHash": h, "clientType": "amule", "fileName": "x", "instanceId": iid} for h in (HASH4, HASH5)]
        await b.send(json.dumps({"action": "batchPause", "items": items}))
        m, seen = await reply(b, sb, "batch-pause-complete")
        mb += seen
        res = m["results"] if m else []
        check("bob's batchPause of both: the admin's refused (denied), his own paused",
              [(r["fileHash"], r["success"], r.get("denied", False)) for r in res] ==
              [(HASH4, False, True), (HASH5, True, False)], m)
        await b.send(json.dumps({"action": "checkDeletePermissions", "items": items}))
        m, _ = await reply(b, sb, "delete-permissions")
        check("checkDeletePermissions from bob: the admin's download not_found, his own ok",
              m is not None and [(r["canDelete"], r["reason"]) for r in m["results"]] ==
              [(False, "not_found"), (True, "ok")], m)
        await drain(a, sa, 1.0, ma)
        check("the admin's download was not paused", sa.item(HASH4) is not None and
              sa.item(HASH4)["status"] != "paused" and sa.item(HASH5)["status"] == "paused",
              [sa.item(HASH4), sa.item(HASH5)])
        await c.send(json.dumps({"action": "batchDelete", "items": items[:1], "deleteFiles": False,
                                 "source": "downloads"}))
        m, _ = await reply(c, sc, "batch-delete-complete")
        check("carol (no edit_all_downloads) may not delete the admin's download: Permission denied",
              m is not None and m["results"][0]["success"] is False and
              m["results"][0]["error"] == "Permission denied", m)
        await c.send(json.dumps({"action": "renameFile", "fileHash": HASH4, "newName": "carol.bin",
                                 "instanceId": iid}))
        m, _ = await reply(c, sc, "rename-complete")
        check("carol's renameFile of the admin's download: rename-complete, success false",
              m is not None and m["success"] is False and m["error"] == "Permission denied", m)
        await c.send(json.dumps({"action": "batchSetFileCategory", "items": items[:1],
                                 "categoryName": "Default", "moveFiles": False}))
        m, _ = await reply(c, sc, "batch-category-changed")
        check("carol's batchSetFileCategory of the admin's download: denied",
              m is not None and m["results"][0]["success"] is False and m["results"][0].get("denied"), m)
        await drain(b, sb, 0.5, mb)
        check("still nothing of the admin's download reached bob", not any(HASH4 in hashes_in(x) for x in mb))
        await a.send(json.dumps({"action": "batchDelete", "items": items, "deleteFiles": False}))
        m, seen = await reply(a, sa, "batch-delete-complete")
        await drain(b, sb, 1.0, mb)
        check("the admin deletes both: bob's disappears from his stream",
              m is not None and all(r["success"] for r in m["results"]) and sb.items == {}, sb.items)


PART = 9728000
BLOCK = 184320


def ctl_call(cmd, args):
    """One control command through the CLI; its result, or None."""
    r = subprocess.run([os.environ["CLI"], "--socket", os.environ["CTL"], "--json", "call", cmd, json.dumps(args)],
                       capture_output=True, text=True, timeout=20)
    try:
        return json.loads(r.stdout) if r.returncode == 0 else None
    except ValueError:
        return None


def ranges_ok(flat, size):
    """aMule's flat ranges: pairs of inclusive ends, ascending, disjoint,
    inside the file."""
    if not isinstance(flat, list) or len(flat) % 2 or not all(isinstance(x, int) for x in flat):
        return False
    last = -1
    for s, e in zip(flat[::2], flat[1::2]):
        if not (last < s <= e < size):
            return False
        last = e
    return True


def blocks_ok(flat, size):
    """Requested ranges start and end on 184,320-byte steps counted from
    the start of their part (or at the part's or the file's end)."""
    for s, e in zip(flat[::2], flat[1::2]):
        end = e + 1
        if (s % PART) % BLOCK or not ((end % PART) % BLOCK == 0 or end % PART == 0 or end == size):
            return False
    return True


def gaps_of_met(path, size):
    """The gaps of a part file's metadata: the complement of its filled
    ranges, as aMule's flat ranges with inclusive ends."""
    with open(path) as f:
        filled = json.load(f).get("filled", [])
    out, at = [], 0
    for s, e in sorted(filled):
        if s > at:
            out += [at, s - 1]
        at = max(at, e)
    if at < size:
        out += [at, size - 1]
    return out


def segment_patch(m, h):
    if not is_delta(m) or "seq" in m["data"]["delta"]:
        return None
    return next((p for p in m["data"]["delta"].get("changed", []) if p.get("hash") == h), None)


async def segment_checks():
    """A download from amuled: partStatus, reqStatus and gapStatus (checked
    against its part file) and directory; then dave, who has neither
    view_shared nor view_uploads, while a small download finishes."""
    big, small = os.environ["BIG_MD4"], os.environ["SMALL_MD4"]
    size = int(os.environ["BIG_SIZE"])
    cat_dir = os.environ["CAT_DIR"]
    async with websockets.connect(URL + "/ws", extra_headers=cookie(), max_size=None) as a:
        sa, ma = Stream(), []
        await drain(a, sa, 1.0, ma)
        await a.send(json.dumps({"action": "subscribe", "channel": "segmentData"}))
        cat = ctl_call("category-add", {"name": "wsdir", "incoming_path": cat_dir})
        r = ctl_call("add", {"link": os.environ["BIG_LINK"], "category": "wsdir"})
        check("segments: the download from amuled is added in a category", cat is not None and r is not None, r)
        # follow it until its source is counted on every part, blocks were
        # asked for and 2 MB arrived
        reqs, dirs, end = [], set(), time.monotonic() + 90
        while time.monotonic() < end:
            try:
                m = await recv_json(a, end - time.monotonic())
            except asyncio.TimeoutError:
                break
            sa.apply(m)
            p = segment_patch(m, big)
            if p is not None and p.get("reqStatus"):
                reqs.append(p["reqStatus"])
            it = sa.item(big)
            if it is not None and it.get("downloading") is True:
                dirs.add(it.get("directory"))
            if it is not None and it.get("partStatus") == [1, 1, 1] and reqs and \
                    int(it.get("sizeDownloaded", 0)) > 2000000:
                break
        it = sa.item(big) or {}
        check("partStatus: one count per part, amuled (a complete source) on each", it.get("partStatus") == [1, 1, 1],
              {k: it.get(k) for k in ("partStatus", "sizeDownloaded", "sources")})
        check("directory of an active download: its category's incoming directory, all along", dirs == {cat_dir},
              dirs)
        check("reqStatus while it downloads: ranges asked of amuled, inclusive ends, in the file, on block steps",
              len(reqs) > 0 and all(ranges_ok(x, size) and blocks_ok(x, size) for x in reqs), reqs[:5])
        # paused, the data stands still: gapStatus must be the part file's
        # gaps once its metadata is saved (every save_interval)
        ctl_call("pause", {"hash": big})
        met = os.path.join(os.environ["TEMP_DIR"], big + ".part.met")
        gap, want, req, end = None, None, None, time.monotonic() + 40
        while time.monotonic() < end:
            await asyncio.sleep(1.0)
            await a.send(json.dumps({"action": "subscribe", "channel": "segmentData"}))
            seen = []
            m = await recv_until(a, lambda x: segment_patch(x, big) is not None, 5.0, seen)
            for x in seen:
                sa.apply(x)
            if m is None:
                continue
            p = segment_patch(m, big)
            gap, req = p.get("gapStatus"), p.get("reqStatus")
            try:
                want = gaps_of_met(met, size)
            except (OSError, ValueError):
                continue
            if gap == want and req == []:
                break
        check("gapStatus of the paused download: exactly the gaps its part file lists",
              gap == want and ranges_ok(gap, size) and 0 < sum(e - s + 1 for s, e in zip(gap[::2], gap[1::2])) < size,
              {"gapStatus": gap, "part file": want})
        check("reqStatus once paused: nothing asked", req == [], req)
        await dave_checks(a, sa, ma, big, small)
        ctl_call("delete", {"hash": big})


async def dave_checks(a, sa, ma, big, small):
    """dave follows while a small download finishes: a shared file he may
    not see."""
    async with websockets.connect(URL + "/ws", extra_headers=cookie(os.environ["SID_DAVE"]), max_size=None) as d:
        sd, md = Stream(), []
        await drain(d, sd, 1.0, md)
        r = ctl_call("add", {"link": os.environ["SMALL_LINK"]})
        done, end = False, time.monotonic() + 60
        while time.monotonic() < end and not done:
            await drain(a, sa, 0.5, ma)
            await drain(d, sd, 0.5, md)
            s_it = sa.item(small)
            done = s_it is not None and s_it.get("downloading") is False
        await drain(d, sd, 2.0, md)
        check("the small download finished: a shared file to the admin", done, sa.item(small))
        leaked = [x for x in md if x.get("type") == "batch-update" and any(
            i.get("hash") == small and i.get("downloading") is False
            for i in added_of(x) + (x["data"]["delta"].get("changed", []) if is_delta(x) else []))]
        check("dave (no view_shared) got no message of the finished file, and it left his list",
              r is not None and not leaked and sd.item(small) is None and sd.item(big) is not None,
              {"leaked": leaked[:2], "dave's": list(sd.items)})
        await d.send(json.dumps({"action": "requestFullSnapshot"}))
        m, _ = await reply(d, sd, "batch-update")
        hs = [i["hash"] for i in items_of(m)] if m is not None and "items" in m["data"] else []
        check("dave's snapshot: the download, no shared file", big in hs and small not in hs and
              not any(i.get("downloading") is False for i in items_of(m)), hs)
        await d.send(json.dumps({"action": "getDownloads"}))
        m, _ = await reply(d, sd, "downloads-update")
        check("dave's getDownloads: no shared file", m is not None and big in [i["hash"] for i in m["data"]] and
              not any(i.get("downloading") is False for i in m["data"]), m and [i["hash"] for i in m["data"]])
        for action, what in (("getShared", "shared files"), ("refreshSharedFiles", "a rescan"),
                             ("getUploadingQueue", "uploads")):
            await d.send(json.dumps({"action": action}))
            m = await recv_until(d, lambda x: x.get("type") != "batch-update", 5.0)
            check("dave's %s (no %s): an error" % (action, "view_uploads" if "Upload" in action else "view_shared"),
                  m is not None and m.get("type") == "error" and m.get("message"), m)
        iid = next(iter(sa.items.values()))["instanceId"]
        items = [{"fileHash": h, "clientType": "amule", "fileName": "x", "instanceId": iid} for h in (small, big)]
        await d.send(json.dumps({"action": "checkDeletePermissions", "items": items}))
        m, _ = await reply(d, sd, "delete-permissions")
        check("dave's checkDeletePermissions: the finished file not_found, the download known",
              m is not None and [r["reason"] for r in m["results"]] == ["not_found", "ok"], m)
        await a.send(json.dumps({"action": "getShared"}))
        m, _ = await reply(a, sa, "shared-update")
        check("the admin's getShared lists the finished file", m is not None and small in json.dumps(m).lower(), m)


async def answered_within(ws, type_, secs):
    """(the next message of type_, seconds it took), or (None, secs)."""
    t0 = time.monotonic()
    m = await recv_until(ws, lambda x: x.get("type") == type_, secs)
    return m, time.monotonic() - t0


async def async_checks():
    """A daemon that does not answer (SIGSTOP for STALL_S seconds, then
    SIGCONT) holds back only the actions that need it: another client's
    action on what muleteer-ws knows, and its pings, are answered at once;
    the stuck client's later actions keep their order; a client that
    floods while the daemon is stuck is told so at once; a client closed
    while its call waits costs nothing. Then a search whose results are
    pushed before it ends."""
    dpid = int(os.environ["DAEMON_PID"])
    stall = 3.0
    hdr = cookie()
    # more connections at once than actions may run at once: each one's
    # authentication is a task too, and none is refused for it
    many = await asyncio.gather(*[websockets.connect(URL + "/ws", extra_headers=hdr, max_size=None)
                                  for _ in range(80)], return_exceptions=True)
    opened = [x for x in many if not isinstance(x, BaseException)]
    snaps = await asyncio.gather(*[recv_until(x, lambda m: m.get("type") == "batch-update", 15.0)
                                   for x in opened], return_exceptions=True)
    got = sum(isinstance(m, dict) for m in snaps)
    check("80 clients connecting at once all get their snapshot", len(opened) == 80 and got == 80,
          (len(opened), got, [x.close_code for x in opened if x.close_code is not None][:5]))
    await asyncio.gather(*[x.close() for x in opened])
    async with websockets.connect(URL + "/ws", extra_headers=hdr, max_size=None) as a, \
            websockets.connect(URL + "/ws", extra_headers=hdr, max_size=None) as b, \
            websockets.connect(URL + "/ws", extra_headers=hdr, max_size=None) as d:
        for ws in (a, b, d):
            await recv_until(ws, lambda x: x.get("type") == "batch-update", 5.0)
        os.kill(dpid, signal.SIGSTOP)
        stopped_at = time.monotonic()
        try:
            # a: an action that needs the daemon, then one that does not
            await a.send(json.dumps({"action": "getServersList"}))
            await a.send(json.dumps({"action": "getPreviousSearchResults"}))
            # c: a newcomer, with the same, gone before the daemon answers
            try:
                c = await asyncio.wait_for(websockets.connect(URL + "/ws", extra_headers=hdr, max_size=None), 1.0)
                await c.send(json.dumps({"action": "getServerInfo"}))
                await c.send(json.dumps({"action": "getServersList"}))
                await asyncio.wait_for(c.close(), 1.0)
                c_ok = True
            except (asyncio.TimeoutError, OSError, websockets.WebSocketException):
                c_ok = False
            check("a new client is let in (and leaves) while another's daemon call waits", c_ok)
            await asyncio.sleep(0.3)
            # b: answered while a's call waits
            await b.send(json.dumps({"action": "getPreviousSearchResults"}))
            m, took = await answered_within(b, "previous-search-results", stall - 0.8)
            check("while another client's daemon call waits, an action on what muleteer-ws knows "
                  "is answered at once", m is not None and took < 1.0, (m is not None, took))
            t0 = time.monotonic()
            try:
                await asyncio.wait_for(await b.ping(), stall - 1.5)
                pong = time.monotonic() - t0
            except asyncio.TimeoutError:
                pong = None
            check("... and a ping", pong is not None and pong < 1.0, pong)
            # d: a burst of daemon actions fills its queue (a burst's worth);
            # the next ones are refused at once, not queued
            for _ in range(100):
                await d.send(json.dumps({"action": "getServersList"}))
            await asyncio.sleep(1.0)  # the action bucket refills (20 a second)
            for _ in range(10):
                await d.send(json.dumps({"action": "getServersList"}))
            refused = await recv_until(d, lambda x: x.get("type") == "error" and "waiting" in x.get("message", ""),
                                       max(0.1, stall - (time.monotonic() - stopped_at) - 0.2))
            check("a client whose queue is full is refused at once (error), while the daemon is stuck",
                  refused is not None, refused)
            early = await recv_until(a, lambda x: x.get("type") in ("servers-update", "previous-search-results"),
                                     0.2)
            check("the stuck client's actions wait for the daemon", early is None, early)
        finally:
            left = stall - (time.monotonic() - stopped_at)
            if left > 0:
                await asyncio.sleep(left)
            os.kill(dpid, signal.SIGCONT)
        first = await recv_until(a, lambda x: x.get("type") in ("servers-update", "previous-search-results"), 15.0)
        second = await recv_until(a, lambda x: x.get("type") in ("servers-update", "previous-search-results"), 5.0)
        check("after the daemon answers, the stuck client's answers come in the order it asked",
              first is not None and second is not None and first["type"] == "servers-update" and
              second["type"] == "previous-search-results", [first and first["type"], second and second["type"]])
        got = 0
        while await recv_until(d, lambda x: x.get("type") == "servers-update", 5.0) is not None:
            got += 1
            if got == 100:
                break
        check("the flooding client's queued actions are all answered afterwards", got == 100, got)
        e = await websockets.connect(URL + "/ws", extra_headers=hdr, max_size=None)
        m = await recv_until(e, lambda x: x.get("type") == "batch-update", 10.0)
        check("muleteer-ws serves a new client after the closed one's call ended", m is not None)
        await e.close()

        # --- search results pushed as they come: a global search gets the
        # connected fixture's page over TCP at once, the second fixture's
        # answer over UDP (the same six files: their counts add up) a moment
        # later, and ends 15 s after its last request
        link = "ed2k://|server|127.0.0.1|%s|/" % os.environ["SERVER2_PORT"]
        await a.send(json.dumps({"action": "addEd2kLinks", "links": [link], "categoryName": "Default"}))
        m = await recv_until(a, lambda x: x.get("type") == "ed2k-added", 5.0)
        check("a second server fixture added (addEd2kLinks with a server link)",
              m is not None and m["results"][0]["success"], m)
        t0 = time.monotonic()
        await a.send(json.dumps({"action": "search", "query": "pushed early", "type": "global", "extension": None}))
        lock_on = await recv_until(a, lambda x: x.get("type") == "search-lock", 5.0)
        pushes, lock_off = [], None
        while lock_off is None and time.monotonic() - t0 < 45:
            m = await recv_until(a, lambda x: x.get("type") in ("search-results", "search-lock"),
                                 45 - (time.monotonic() - t0))
            if m is None:
                break
            if m["type"] == "search-lock":
                lock_off = m
            else:
                pushes.append((time.monotonic() - t0, m))
        t_end = time.monotonic() - t0
        first = pushes[0] if pushes else (None, None)
        check("search: results pushed before the search ends (search-results within 5 s, "
              "seconds before search-lock false)",
              lock_on is not None and lock_on["locked"] and first[1] is not None and
              len(first[1]["data"]) == 6 and first[0] < 5.0 and lock_off is not None and
              not lock_off["locked"] and t_end > first[0] + 3,
              ([t for t, _ in pushes], t_end))
        both = [t for t, x in pushes if x["data"] and all(r["sourceCount"] == 2 for r in x["data"])]
        check("... pushed again when the second server's answer adds to them (sources 2), before the end",
              both and both[0] < t_end - 3 and pushes[0][1]["data"][0]["sourceCount"] == 1,
              [(t, [r["sourceCount"] for r in x["data"]]) for t, x in pushes])
        check("... the final search-results just before search-lock false",
              pushes and pushes[-1][0] > t_end - 3 and len(pushes[-1][1]["data"]) == 6,
              [t for t, _ in pushes])


if __name__ == "__main__":
    stage = os.environ.get("STAGE", "main")
    try:
        asyncio.run({"main": main_checks, "slow": slow_checks, "logout": logout_checks, "owners": owner_checks,
                     "segments": segment_checks, "async": async_checks,
                     "probe": probe}[stage]())
    except Exception as e:  # noqa: BLE001
        import traceback
        check("the client ran to its end", False, traceback.format_exc())
        sys.exit(1)
