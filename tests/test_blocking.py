"""Blocking commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BZPOPMIN/MAX,
BLMPOP, BZMPOP, XREAD/XREADGROUP BLOCK) run on a pnode connection dedicated to the client while it
blocks: other clients are served meanwhile, results and timeouts are as
directly against redis-server, and a client that goes away while blocked
takes its connection with it."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from proxytest import (Cluster, Err, RawClient, RedisServer, Status, check,  # noqa: E402
                       encode_all, eq, get_nodes, lazy, run, wait_until)


def setup():
    # One worker and one shared connection per pnode: a blocked shared
    # connection would stall everyone.
    cl = Cluster(n=2, vnodes=64, config={"hash-tags": "yes", "backend-connections": 1},
                 threads=1)
    tags = ["b%d" % i for i in range(200)]
    nodes = get_nodes(cl.ring, tags)
    cl.tag = tags[0]
    cl.other = next(t for t in tags if nodes[t]["vnode"] != nodes[cl.tag]["vnode"])
    cl.direct = RedisServer()
    return cl


cluster = lazy(setup)


def flush(cl):
    for s in cl.servers + [cl.direct]:
        c = s.client()
        c.flushall()
        c.close()


def same(cl, cmds, what):
    out = []
    for port in (cl.direct.port, cl.proxy.port):
        flush(cl)
        r = RawClient(port)
        r.send(encode_all(cmds))
        out.append(r.replies(len(cmds)))
        r.close()
    eq(out[1], out[0], what)
    return out[1]


def dedicated(cl):
    return cl.proxy.metrics()[("ringproxy_dedicated_connections", "")]


def test_every_blocking_command_with_data_as_redis():
    cl = cluster()
    t = cl.tag
    a, b, z = "{%s}a" % t, "{%s}b" % t, "{%s}z" % t
    got = same(cl, [("RPUSH", a, "1", "2", "3", "4", "5", "6"), ("ZADD", z, "1", "m1", "2", "m2",
                                                                 "3", "m3", "4", "m4"),
                    ("BLPOP", b, a, "1"), ("BRPOP", a, "1"), ("BLMOVE", a, b, "LEFT", "RIGHT", "1"),
                    ("BRPOPLPUSH", a, b, "1"), ("BLMPOP", "1", "2", b, a, "LEFT", "COUNT", "2"),
                    ("BZPOPMIN", z, "1"), ("BZPOPMAX", z, "1"), ("BZMPOP", "1", "1", z, "MIN"),
                    ("LRANGE", b, "0", "-1")], "blocking commands with data")
    eq(got[2], [a.encode(), b"1"], "BLPOP")


def test_timeouts_as_redis():
    cl = cluster()
    e = "{%s}empty" % cl.tag
    start = time.monotonic()
    got = same(cl, [("BLPOP", e, "0.2"), ("BZPOPMIN", e, "0.1"), ("BLMPOP", "0.1", "1", e, "LEFT"),
                    ("BLPOP", e, "-1"), ("BLPOP", e, "x")], "timeouts and bad timeouts")
    eq(got[:3], [None, None, None], "timed out")
    check(isinstance(got[3], Err) and isinstance(got[4], Err), "bad timeouts: %r" % (got,))
    check(time.monotonic() - start >= 0.4, "the timeouts were waited for")


def test_others_are_served_while_a_client_blocks():
    cl = cluster()
    flush(cl)
    q, k = "{%s}q" % cl.tag, "{%s}k" % cl.tag
    other = cl.client()
    other.set(k, "v")
    base = dedicated(cl)
    blocked = cl.raw()
    blocked.send(encode_all([("BLPOP", q, "2")]))
    wait_until(lambda: dedicated(cl) == base + 1, 5, "the blocking client's connection")
    start = time.monotonic()
    eq(other.get(k), b"v", "GET on the same pnode while BLPOP blocks")
    check(time.monotonic() - start < 1.0, "GET answered at once")
    eq(other.rpush(q, "x"), 1, "RPUSH")
    eq(blocked.reply(), [q.encode(), b"x"], "BLPOP woken by RPUSH")
    blocked.close()
    other.close()


def test_xread_block_waits_on_its_own_connection_as_redis():
    cl = cluster()
    s = "{%s}s" % cl.tag
    got = same(cl, [("XADD", s, "1-1", "f", "v"), ("XREAD", "BLOCK", "100", "STREAMS", s, "$"),
                    ("XREAD", "BLOCK", "100", "STREAMS", s, "0"),
                    ("XGROUP", "CREATE", s, "g", "$"),
                    ("XREADGROUP", "GROUP", "g", "c", "BLOCK", "100", "STREAMS", s, ">")],
               "XREAD/XREADGROUP BLOCK timing out and with data")
    eq(got[1], None, "XREAD BLOCK timed out")
    eq(got[4], None, "XREADGROUP BLOCK timed out")
    flush(cl)
    other = cl.client()
    base = dedicated(cl)
    blocked = cl.raw()
    blocked.send(encode_all([("XREAD", "BLOCK", "3000", "STREAMS", s, "$")]))
    wait_until(lambda: dedicated(cl) == base + 1, 5, "the blocking client's connection")
    eq(other.xadd(s, {"f": "w"}, id="5-1"), b"5-1", "XADD while XREAD blocks")
    eq(blocked.reply(), [[s.encode(), [[b"5-1", [b"f", b"w"]]]]], "XREAD woken by XADD")
    blocked.close()
    other.close()


def test_the_clients_own_pipeline_keeps_its_order():
    cl = cluster()
    q = "{%s}q" % cl.tag
    got = same(cl, [("BLPOP", q, "0.3"), ("RPUSH", q, "x"), ("BLPOP", q, "1"), ("LLEN", q)],
               "BLPOP timing out before the RPUSH behind it")
    eq(got, [None, 1, [q.encode(), b"x"], 0], "replies")


def test_keys_on_several_vnodes_are_refused():
    cl = cluster()
    c = cl.raw()
    r = c.call("BLPOP", "{%s}a" % cl.tag, "{%s}b" % cl.other, "1")
    eq(r, Err("CROSSSLOT Keys in request don't hash to the same vnode"), "BLPOP over two vnodes")
    eq(c.call("PING"), Status("PONG"), "the client goes on")
    c.close()


def test_a_client_gone_while_blocked_leaves_no_connection_and_pops_nothing():
    cl = cluster()
    flush(cl)
    q = "{%s}gone" % cl.tag
    base = dedicated(cl)
    c = cl.raw()
    c.send(encode_all([("BLPOP", q, "0")]))
    wait_until(lambda: dedicated(cl) == base + 1, 5, "the blocking client's connection")
    c.close()
    wait_until(lambda: dedicated(cl) == base, 5, "its dedicated connection closed")
    d = cl.client()

    def unblocked():
        n = 0
        for s in cl.servers:
            sc = s.client()
            n += sc.info("clients")["blocked_clients"]
            sc.close()
        return n == 0
    wait_until(unblocked, 5, "no client blocked on the pnodes")
    d.rpush(q, "x")
    eq(d.llen(q), 1, "the element was not popped for a client that is gone")
    d.close()


def test_a_lost_dedicated_connection_is_replaced():
    cl = cluster()
    flush(cl)
    q = "{%s}lost" % cl.tag
    c = cl.raw()
    c.send(encode_all([("BLPOP", q, "0")]))
    killed = 0

    def kill_blocked():
        nonlocal killed
        for s in cl.servers:
            sc = s.client()
            for cli in sc.client_list():
                if cli.get("cmd") == "blpop":
                    killed += sc.client_kill_filter(_id=cli["id"])
            sc.close()
        return killed > 0
    wait_until(kill_blocked, 5, "the blocked connection on its pnode")
    r = c.reply()
    check(isinstance(r, Err) and r.startswith("ERR pnode "), "BLPOP on a lost connection: %r" % (r,))
    d = cl.client()
    d.rpush(q, "x")
    eq(c.call("BLPOP", q, "1"), [q.encode(), b"x"], "BLPOP on a new connection")
    c.close()
    d.close()


if __name__ == "__main__":
    run(globals())
