#!/usr/bin/env python3
"""kadnet.py: reads and drives a network of Muleteer Kad nodes through their
control sockets, for kad_multi.sh and bench/bench_kad.sh.

  kadnet.py tables SOCK...      per node: its id, contacts, how many of the
                                other nodes' ids its table holds, and how
                                many of the K nodes closest to its own id;
                                last line "min F mean F kmin F kmean F"
                                (fractions, over the nodes)
  kadnet.py lookups [--retry] N SOCK...
                                N node lookups (kad-lookup) for random ids,
                                from nodes taken in turn, one at a time; each
                                compared with the K nodes truly closest to
                                the target (XOR, over every listed node's id
                                but the asker's); prints one line per lookup
                                then a summary line. --retry: a lookup in
                                which a request timed out (a loaded machine
                                can hold a datagram past the 3 s Kad allows)
                                is made again, twice at most, and counted
  kadnet.py lookup SOCK TARGET  one lookup, its answer as JSON
  kadnet.py has SOCK ID         exit 0 when SOCK's table holds ID

Every wait is bounded (a lookup: 40 s). Standard library only."""
import json
import random
import socket
import statistics
import sys
import time

K = 10


def call(sock, cmd, args=None, timeout=20.0):
    """One request on the control socket; the result, or raises."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(sock)
        s.sendall((json.dumps({"id": 1, "cmd": cmd, "args": args or {}}) + "\n").encode())
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(1 << 16)
            if not chunk:
                raise RuntimeError("%s: connection closed" % sock)
            buf += chunk
    finally:
        s.close()
    reply = json.loads(buf)
    if "error" in reply:
        raise RuntimeError("%s %s: %s" % (sock, cmd, reply["error"]["message"]))
    return reply["result"]


def status(sock):
    return call(sock, "kad-status", {"contacts": True})


def tables(socks):
    st = [status(s) for s in socks]
    ids = [x["id"] for x in st]
    fracs, kfracs = [], []
    for s, x in zip(socks, st):
        known = {c["id"] for c in x.get("contact_list", [])}
        others = sorted((i for i in ids if i != x["id"]), key=lambda i: dist(i, x["id"]))
        f = sum(1 for i in others if i in known) / max(1, len(others))
        kf = sum(1 for i in others[:K] if i in known) / max(1, len(others[:K]))
        fracs.append(f)
        kfracs.append(kf)
        print("%s id %s contacts %d verified %d knows %.2f of the others, %.2f of its K closest" %
              (s, x["id"], x["contacts"], x["verified"], f, kf))
    print("min %.2f mean %.2f kmin %.2f kmean %.2f" %
          (min(fracs), statistics.mean(fracs), min(kfracs), statistics.mean(kfracs)))


def lookup(sock, target, limit=40.0):
    r = call(sock, "kad-lookup", {"target": target})
    end = time.monotonic() + limit
    while r["state"] == "running" and time.monotonic() < end:
        time.sleep(0.05)
        r = call(sock, "kad-lookup", {"lookup": r["lookup"]})
    return r


def dist(a, b):
    return int(a, 16) ^ int(b, 16)


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def lookups(n, socks, retry):
    ids = [status(s)["id"] for s in socks]
    rnd = random.Random()
    ms, reqs, tos, hits, firsts, retried = [], [], [], [], 0, 0
    for i in range(n):
        who = i % len(socks)
        target = "%032x" % rnd.getrandbits(128)
        r = lookup(socks[who], target)
        for _ in range(2 if retry else 0):
            if r["timeouts"] == 0:
                break
            retried += 1
            r = lookup(socks[who], target)
        others = sorted((x for j, x in enumerate(ids) if j != who), key=lambda x: dist(x, target))
        truth = others[:K]
        got = [c["id"] for c in r["closest"]]
        hit = len(set(got) & set(truth))
        firsts += bool(got) and got[0] == truth[0]
        ms.append(r["elapsed_ms"])
        reqs.append(r["requests"])
        tos.append(r["timeouts"])
        hits.append(hit / len(truth))
        print("lookup %d from node %d for %s: %s in %d ms, %d requests, %d timeouts, "
              "%d of the %d closest" % (i, who, target, r["state"], r["elapsed_ms"],
                                        r["requests"], r["timeouts"], hit, len(truth)))
    print("summary lookups %d latency_ms_median %d latency_ms_p90 %d requests_median %d "
          "requests_p90 %d requests_mean %.1f timeouts_total %d with_timeouts %d "
          "closest_found_mean %.2f nearest_found %d retried %d" %
          (n, statistics.median(ms), pct(ms, 90), statistics.median(reqs), pct(reqs, 90),
           statistics.mean(reqs), sum(tos), sum(1 for t in tos if t > 0), statistics.mean(hits),
           firsts, retried))


def main(av):
    if len(av) >= 2 and av[0] == "tables":
        tables(av[1:])
    elif len(av) >= 4 and av[0] == "lookups" and av[1] == "--retry":
        lookups(int(av[2]), av[3:], True)
    elif len(av) >= 3 and av[0] == "lookups":
        lookups(int(av[1]), av[2:], False)
    elif len(av) == 3 and av[0] == "lookup":
        print(json.dumps(lookup(av[1], av[2])))
    elif len(av) == 3 and av[0] == "has":
        return 0 if any(c["id"] == av[2] for c in status(av[1]).get("contact_list", [])) else 1
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
