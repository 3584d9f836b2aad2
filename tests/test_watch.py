"""WATCH/UNWATCH on a pnode connection dedicated to the client: the
optimistic-lock patterns give the same results through ringproxy as
directly against redis-server; WATCH across vnodes, or of other keys than
the block's, fails cleanly; a lost WATCH connection fails EXEC."""

import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
import redis  # noqa: E402
from proxytest import (Cluster, Err, RawClient, RedisServer, Status, assert_err,  # noqa: E402
                       check, eq, get_nodes, lazy, run, wait_until)

CROSS = "CROSSSLOT Keys in request don't hash to the same vnode"


def setup():
    cl = Cluster(n=2, vnodes=64, config={"hash-tags": "yes"})
    tags = ["w%d" % i for i in range(200)]
    nodes = get_nodes(cl.ring, tags)
    cl.tag = tags[0]
    cl.other = next(t for t in tags if nodes[t]["vnode"] != nodes[cl.tag]["vnode"])
    cl.direct = RedisServer()
    return cl


cluster = lazy(setup)


def targets(cl):
    return [("direct", cl.direct.port), ("proxy", cl.proxy.port)]


def flush(cl):
    for s in cl.servers + [cl.direct]:
        c = s.client()
        c.flushall()
        c.close()


def scenario(cl, steps):
    """steps: [(client index, command tuple)], run in order on two raw
    clients; the replies, directly and through the proxy."""
    out = []
    for _, port in targets(cl):
        flush(cl)
        cs = [RawClient(port), RawClient(port)]
        out.append([cs[i].call(*cmd) for i, cmd in steps])
        for c in cs:
            c.close()
    return out


def same(cl, steps, what):
    direct, proxied = scenario(cl, steps)
    eq(proxied, direct, what)
    return proxied


def dedicated(cl):
    return cl.proxy.metrics()[("ringproxy_dedicated_connections", "")]


def test_a_key_changed_after_watch_makes_exec_nil():
    cl = cluster()
    k = "{%s}k" % cl.tag
    got = same(cl, [(0, ("SET", k, "1")), (0, ("WATCH", k)), (0, ("GET", k)),
                    (1, ("SET", k, "other")), (0, ("MULTI",)), (0, ("SET", k, "mine")),
                    (0, ("EXEC",)), (0, ("GET", k)),
                    # The WATCH ended with EXEC: the next block applies.
                    (0, ("MULTI",)), (0, ("SET", k, "mine")), (0, ("EXEC",)), (1, ("GET", k))],
               "WATCH, a change by another client, EXEC")
    eq(got[6], None, "EXEC after the watched key changed")
    eq(got[10:], [[Status("OK")], b"mine"], "the next block")


def test_the_clients_own_write_and_an_untouched_key():
    cl = cluster()
    k, j = "{%s}k" % cl.tag, "{%s}j" % cl.tag
    got = same(cl, [(0, ("WATCH", k, j)), (1, ("SET", "{%s}z" % cl.tag, "x")), (0, ("MULTI",)),
                    (0, ("INCR", k)), (0, ("EXEC",)),
                    (0, ("WATCH", k)), (0, ("SET", k, "5")), (0, ("MULTI",)), (0, ("INCR", k)),
                    (0, ("EXEC",)), (0, ("GET", k))], "own writes to a watched key")
    eq(got[4], [1], "untouched watched keys")
    eq(got[9], None, "the client's own write also breaks its WATCH")


def test_discard_unwatch_and_reset_end_the_watch():
    cl = cluster()
    k = "{%s}k" % cl.tag
    steps = []
    for end in (("DISCARD",), ("UNWATCH",), ("RESET",)):
        pre = [(0, ("MULTI",))] if end == ("DISCARD",) else []
        steps += [(0, ("WATCH", k))] + pre + [(0, end), (1, ("INCR", k)), (0, ("MULTI",)),
                                              (0, ("INCR", k)), (0, ("EXEC",))]
    got = same(cl, steps, "DISCARD, UNWATCH, RESET")
    eq([x for x in got if isinstance(x, list)], [[2], [4], [6]], "every EXEC applied")


def test_watch_inside_multi_and_unwatch_inside_multi_as_redis():
    cl = cluster()
    k = "{%s}k" % cl.tag
    got = same(cl, [(0, ("MULTI",)), (0, ("WATCH", k)), (0, ("UNWATCH",)), (0, ("INCR", k)),
                    (0, ("EXEC",))], "WATCH and UNWATCH inside MULTI")
    eq(got[1], Err("ERR WATCH inside MULTI is not allowed"), "WATCH inside MULTI")
    eq(got[4], [Status("OK"), 1], "EXEC")


def test_watch_across_vnodes_fails_cleanly():
    cl = cluster()
    flush(cl)
    k, o = "{%s}k" % cl.tag, "{%s}o" % cl.other
    c = cl.raw()
    assert_err(c.call("WATCH", k, o), CROSS, "WATCH over two vnodes")
    eq(c.call("WATCH", k), Status("OK"), "WATCH")
    assert_err(c.call("WATCH", o), CROSS + " as the WATCHed keys", "a second vnode")
    eq(c.call("MULTI"), Status("OK"), "MULTI")
    eq(c.call("SET", o, "1"), Status("QUEUED"), "SET")
    assert_err(c.call("EXEC"), CROSS + " as the WATCHed keys", "EXEC on another vnode")
    d = cl.client()
    eq(d.get(o), None, "nothing applied")
    # The WATCH is over: a block on the other vnode now runs.
    c.call("MULTI")
    c.call("SET", o, "2")
    eq(c.call("EXEC"), [Status("OK")], "next EXEC")
    eq(d.get(o), b"2", "applied")
    c.close()
    d.close()


def test_redis_py_transaction_retries_as_redis():
    cl = cluster()
    k = "{%s}counter" % cl.tag
    results = []
    for name, port in targets(cl):
        flush(cl)
        c = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)
        other = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)
        calls = []

        def fn(pipe):
            v = int(pipe.get(k) or 0)
            calls.append(v)
            if len(calls) == 1:
                other.set(k, 100)   # a concurrent change: this attempt must fail
            pipe.multi()
            pipe.set(k, v + 1)

        c.transaction(fn, k)
        results.append((calls, c.get(k)))
        c.close()
        other.close()
    eq(results[1], results[0], "r.transaction() through the proxy")
    eq(results[1], ([0, 100], b"101"), "one retry after the change")


def test_a_lost_watch_connection_fails_exec_and_applies_nothing():
    cl = cluster()
    flush(cl)
    k = "{%s}k" % cl.tag
    c = cl.raw()
    eq(c.call("WATCH", k), Status("OK"), "WATCH")
    # Kill the pnode's connection of the proxy that last ran WATCH.
    killed = 0
    for s in cl.servers:
        sc = s.client()
        for cli in sc.client_list():
            if cli.get("cmd") == "watch":
                killed += sc.client_kill_filter(_id=cli["id"])
        sc.close()
    eq(killed, 1, "WATCH connections killed on the pnodes")
    c.call("MULTI")
    c.call("SET", k, "v")
    r = c.call("EXEC")
    check(isinstance(r, Err), "EXEC on a lost WATCH connection: %r" % (r,))
    d = cl.client()
    eq(d.get(k), None, "nothing applied")
    c.close()
    d.close()


def test_dedicated_connections_are_counted_and_closed_with_their_client():
    cl = cluster()
    base = dedicated(cl)
    c = cl.raw()
    c.call("WATCH", "{%s}k" % cl.tag)
    eq(dedicated(cl), base + 1, "ringproxy_dedicated_connections while watching")
    c.close()
    wait_until(lambda: dedicated(cl) == base, 5, "the dedicated connection closed")


def test_the_limit_refuses_with_a_clear_error():
    cl = cluster()
    p = Cluster(n=1, vnodes=8, config={"max-dedicated-connections": 1}, servers=[cl.servers[0]])
    a, b = p.raw(), p.raw()
    eq(a.call("WATCH", "x"), Status("OK"), "the first WATCH")
    assert_err(b.call("WATCH", "y"), "ERR max-dedicated-connections (1) reached: blocking "
               "commands and WATCH need a pnode connection of their own", "over the limit")
    eq(b.call("PING"), Status("PONG"), "the refused client goes on")
    a.close()
    b.close()


if __name__ == "__main__":
    run(globals())
