"""Pipelining: 1,000 mixed requests across pnodes come back in order with
the right values; many clients pipelining at once each get their own
replies; frames split byte by byte and large values come through whole."""

import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from proxytest import (Cluster, Err, Status, check, encode, encode_all, eq,  # noqa: E402
                       lazy, run)

cluster = lazy(lambda: Cluster(n=3, vnodes=1024))


class Model:
    """What Redis answers, for the commands the mixed pipeline uses."""

    def __init__(self, rnd, ns):
        self.rnd = rnd
        self.ns = ns
        self.strs, self.ctrs, self.hashes = {}, {}, {}
        self.lists, self.sets, self.zsets = {}, {}, {}

    def key(self, kind):
        return "%s:%s:%d" % (self.ns, kind, self.rnd.randrange(40))

    def step(self):
        r = self.rnd
        op = r.randrange(16)
        if op == 0:
            k, v = self.key("s"), "val%d" % r.randrange(10 ** 6)
            self.strs[k] = v.encode()
            return ("SET", k, v), Status("OK")
        if op == 1:
            k = self.key("s")
            return ("GET", k), self.strs.get(k)
        if op == 2:
            k = self.key("c")
            self.ctrs[k] = self.ctrs.get(k, 0) + 1
            return ("INCR", k), self.ctrs[k]
        if op == 3:
            k, n = self.key("c"), r.randrange(-50, 50)
            self.ctrs[k] = self.ctrs.get(k, 0) + n
            return ("INCRBY", k, n), self.ctrs[k]
        if op == 4:
            k, f, v = self.key("h"), "f%d" % r.randrange(5), "hv%d" % r.randrange(99)
            h = self.hashes.setdefault(k, {})
            new = f not in h
            h[f] = v.encode()
            return ("HSET", k, f, v), int(new)
        if op == 5:
            k, f = self.key("h"), "f%d" % r.randrange(5)
            return ("HGET", k, f), self.hashes.get(k, {}).get(f)
        if op == 6:
            k, v = self.key("l"), "e%d" % r.randrange(99)
            lst = self.lists.setdefault(k, [])
            lst.insert(0, v.encode())
            return ("LPUSH", k, v), len(lst)
        if op == 7:
            k, v = self.key("l"), "e%d" % r.randrange(99)
            lst = self.lists.setdefault(k, [])
            lst.append(v.encode())
            return ("RPUSH", k, v), len(lst)
        if op == 8:
            k = self.key("l")
            return ("LRANGE", k, 0, -1), list(self.lists.get(k, []))
        if op == 9:
            k, m = self.key("t"), "m%d" % r.randrange(10)
            st = self.sets.setdefault(k, set())
            new = m not in st
            st.add(m)
            return ("SADD", k, m), int(new)
        if op == 10:
            k = self.key("t")
            return ("SCARD", k), len(self.sets.get(k, ()))
        if op == 11:
            k, m, sc = self.key("z"), "m%d" % r.randrange(10), r.randrange(1000)
            z = self.zsets.setdefault(k, {})
            new = m not in z
            z[m] = sc
            return ("ZADD", k, sc, m), int(new)
        if op == 12:
            k, m = self.key("z"), "m%d" % r.randrange(10)
            sc = self.zsets.get(k, {}).get(m)
            return ("ZSCORE", k, m), None if sc is None else str(sc).encode()
        if op == 13:
            k = self.key("s")
            return ("EXISTS", k), int(k in self.strs)
        if op == 14:
            k = self.key("s")
            return ("STRLEN", k), len(self.strs.get(k, b""))
        ks = [self.key("s") for _ in range(r.randrange(1, 6))]
        return ("MGET",) + tuple(ks), [self.strs.get(k) for k in ks]


def mixed(ns, n, seed):
    m = Model(random.Random(seed), ns)
    return [m.step() for _ in range(n)]


def check_pipeline(c, reqs, send):
    """Sends reqs' commands with send(bytes), then checks every reply."""
    send(encode_all(cmd for cmd, _ in reqs))
    got = c.replies(len(reqs))
    for i, ((cmd, want), g) in enumerate(zip(reqs, got)):
        eq(g, want, "reply %d to %r" % (i, cmd))


def in_pieces(c, size):
    def send(data):
        for i in range(0, len(data), size):
            c.send(data[i:i + size])
    return send


def test_pipeline_1000_mixed_requests_in_order():
    cl = cluster()
    c = cl.raw()
    check_pipeline(c, mixed("mix", 1000, 1), c.send)
    # The requests went to every pnode, not just one.
    used = [s for s in cl.servers if s.client().dbsize() > 0]
    eq(len(used), len(cl.servers), "pnodes that received keys")
    c.close()


def test_pipeline_sent_in_several_writes_before_reading():
    cl = cluster()
    c = cl.raw()
    # Cut at odd places so frames straddle writes.
    check_pipeline(c, mixed("mix2", 1000, 2), in_pieces(c, 977))
    c.close()


def test_byte_by_byte_pipeline():
    cl = cluster()
    reqs = mixed("bytes", 40, 3)
    c = cl.raw()
    check(len(encode_all(cmd for cmd, _ in reqs)) < 4000,
          "pipeline too long for a byte-by-byte test")
    check_pipeline(c, reqs, lambda data: c.send_slowly(data, chunk=1, pause=0.0005))
    c.close()


def test_every_split_point_of_one_command():
    cl = cluster()
    c = cl.raw()
    data = encode("SET", "split:key", "split-value") + encode("GET", "split:key")
    for cut in range(1, len(data)):
        c.send(data[:cut])
        # Give the proxy a chance to read the partial frame on its own.
        if cut % 7 == 0:
            time.sleep(0.002)
        c.send(data[cut:])
        eq(c.replies(2), [Status("OK"), b"split-value"], "split at byte %d" % cut)
    c.close()


def concurrent_clients(cl, nclients, nreqs, tag):
    """nclients threads each pipeline nreqs mixed requests on their own
    connection; each must get exactly its own replies."""
    results = {}

    def worker(n):
        try:
            reqs = mixed("%s%d" % (tag, n), nreqs, 100 + n)
            c = cl.raw()
            in_pieces(c, 4096)(encode_all(cmd for cmd, _ in reqs))
            got = c.replies(len(reqs))
            c.close()
            results[n] = [(i, cmd, want, g) for i, ((cmd, want), g)
                          in enumerate(zip(reqs, got)) if g != want][:3]
        except Exception as e:
            results[n] = ["exception %r" % e]

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(nclients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(40)
    for n in range(nclients):
        check(n in results, "client %d did not finish" % n)
        eq(results[n], [], "mismatched replies of client %d" % n)


def test_many_clients_pipelining_concurrently():
    concurrent_clients(cluster(), 8, 500, "cc")


def test_large_values():
    cl = cluster()
    c = cl.client()
    big = bytes(range(256)) * 4096 * 2        # 2 MiB, every byte value
    pipe = c.pipeline(transaction=False)
    pipe.set("big:1", big)
    pipe.get("big:1")
    pipe.set("big:2", big[::-1])
    pipe.get("big:2")
    pipe.strlen("big:1")
    res = pipe.execute()
    eq(res[0], True, "SET big:1")
    check(res[1] == big, "GET big:1 came back different (%d bytes)" % len(res[1] or b""))
    check(res[3] == big[::-1], "GET big:2 came back different")
    eq(res[4], len(big), "STRLEN big:1")
    huge = os.urandom(32 << 20)
    eq(c.set("big:3", huge), True, "SET of 32 MiB")
    check(c.get("big:3") == huge, "GET of 32 MiB came back different")
    eq(cl.server_for("big:1").client().strlen("big:1"), len(big),
       "big:1 on its pnode")
    c.close()


def test_replies_in_order_when_a_slow_pnode_answers_last():
    # A slow request (a big value) to one pnode followed by fast ones to
    # others: the fast replies must wait for it.
    cl = cluster()
    by = {}
    for i in range(200):
        k = "ord:%d" % i
        by.setdefault(cl.server_for(k).pnode, k)
        if len(by) == len(cl.servers):
            break
    keys = list(by.values())
    big = b"x" * (4 << 20)
    c = cl.raw()
    reqs = [("SET", keys[0], big)] + [("SET", k, k) for k in keys[1:]] + \
           [("GET", k) for k in keys[1:]] + [("STRLEN", keys[0])]
    c.send(encode_all(reqs))
    want = [Status("OK")] * len(keys) + [k.encode() for k in keys[1:]] + [len(big)]
    eq(c.replies(len(reqs)), want, "replies in request order")
    c.close()


def test_error_replies_from_pnodes_keep_their_place():
    cl = cluster()
    c = cl.raw()
    c.call("DEL", "wt:list")
    c.call("LPUSH", "wt:list", "x")
    reqs = []
    for i in range(200):
        reqs.append(("INCR", "wt:list") if i % 3 == 0 else ("SET", "wt:%d" % i, i))
    c.send(encode_all(reqs))
    for i, g in enumerate(c.replies(len(reqs))):
        if i % 3 == 0:
            check(isinstance(g, Err) and g.startswith("WRONGTYPE"), "reply %d: %r" % (i, g))
        else:
            eq(g, Status("OK"), "reply %d" % i)
    c.close()


def test_clients_leaving_with_replies_in_flight_do_not_disturb_others():
    # Clients that close with many replies outstanding share the pnode
    # connections with a client that stays: its replies must stay its own.
    cl = cluster()
    big = b"b" * 100000
    setup = cl.client()
    for s in range(20):
        setup.set("left:%d" % s, big)
    setup.close()
    stayer = cl.raw()
    for rnd in range(10):
        leaver = cl.raw()
        leaver.send(encode_all(("GET", "left:%d" % (i % 20)) for i in range(300)))
        leaver.close()
        reqs = [("SET", "stay:%d" % i, "%d-%d" % (rnd, i)) for i in range(20)] + \
               [("GET", "stay:%d" % i) for i in range(20)]
        stayer.send(encode_all(reqs))
        want = [Status("OK")] * 20 + [("%d-%d" % (rnd, i)).encode() for i in range(20)]
        eq(stayer.replies(len(reqs)), want, "the staying client's replies, round %d" % rnd)
    check(cl.proxy.alive(), "ringproxy exited")
    stayer.close()


def test_replies_made_by_the_proxy_wait_for_earlier_pnode_replies():
    # PING, ECHO, RING, refusals and arity errors are answered by the proxy
    # itself; they must still come back after the slower pnode replies
    # requested before them.
    cl = cluster()
    c = cl.raw()
    big = b"s" * (4 << 20)
    reqs = [("SET", "local:big", big), ("PING",), ("GET", "local:big"), ("ECHO", "e1"),
            ("GET", "local:none"), ("MONITOR",), ("STRLEN", "local:big"), ("GET",),
            ("SELECT", "0"), ("RING", "NODE", "local:big"), ("PING", "p2")]
    c.send(encode_all(reqs))
    got = c.replies(len(reqs))
    eq(got[0], Status("OK"), "SET")
    eq(got[1], Status("PONG"), "PING")
    check(got[2] == big, "GET of the big value")
    eq(got[3], b"e1", "ECHO")
    eq(got[4], None, "GET of a missing key")
    check(isinstance(got[5], Err) and "not supported" in got[5], "MONITOR: %r" % (got[5],))
    eq(got[6], len(big), "STRLEN")
    check(isinstance(got[7], Err) and "wrong number" in got[7], "GET without a key: %r" % (got[7],))
    eq(got[8], Status("OK"), "SELECT 0")
    check(isinstance(got[9], list) and len(got[9]) == 3, "RING NODE: %r" % (got[9],))
    eq(got[10], b"p2", "PING with a message")
    c.close()


def test_more_worker_threads_and_many_connections():
    cl = Cluster(n=3, vnodes=1024, threads=4)
    conns = [cl.raw() for _ in range(300)]
    for n, c in enumerate(conns):
        c.send(encode("SET", "conn:%d" % n, n) + encode("GET", "conn:%d" % n))
    for n, c in enumerate(conns):
        eq(c.replies(2), [Status("OK"), str(n).encode()], "connection %d" % n)
        c.close()
    concurrent_clients(cl, 16, 400, "t4c")
    cl.proxy.stop()


def test_clients_share_the_pnode_connections():
    # Each worker keeps backend-connections connections to each pnode, no
    # matter how many clients it serves.
    for per_worker in (1, 2):
        cl = Cluster(n=2, vnodes=256, threads=2, config={"backend-connections": per_worker})
        clients = [cl.raw() for _ in range(40)]
        for n, c in enumerate(clients):
            c.send(encode_all(("SET", "share:%d:%d" % (n, i), i) for i in range(20)))
        for c in clients:
            eq(c.replies(20), [Status("OK")] * 20, "SET replies")
        for s in cl.servers:
            d = s.client()
            mine = d.client_id()
            n = len([x for x in d.client_list() if int(x["id"]) != mine])
            d.close()
            check(1 <= n <= 2 * per_worker,
                  "%s has %d connections from the proxy for 40 clients "
                  "(2 workers x backend-connections %d)" % (s.pnode, n, per_worker))
        for c in clients:
            c.close()
        cl.proxy.stop()


run(globals())
