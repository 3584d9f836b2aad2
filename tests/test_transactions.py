"""MULTI/EXEC/DISCARD: the proxy queues the block and sends it whole to the
one pnode of its vnode at EXEC. The same scenarios directly against
redis-server and through ringproxy give the same replies; a block the
proxy must refuse (keys on several vnodes, a write on an ro vnode, a
command refused while queueing, DISCARD, a client gone) applies nothing."""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
import redis  # noqa: E402
from proxytest import (Cluster, Err, RawClient, RedisServer, Status, assert_err,  # noqa: E402
                       check, encode_all, eq, get_nodes, lazy, run, set_data)


def setup():
    cl = Cluster(n=2, vnodes=64, config={"hash-tags": "yes"}, start=False)
    tags = ["t%d" % i for i in range(300)]
    nodes = get_nodes(cl.ring, tags)
    vnode = {t: o["vnode"] for t, o in nodes.items()}
    pnode = {t: o["pnode"] for t, o in nodes.items()}
    ro = vnode[tags[0]]
    set_data(cl.ring, [ro], "ro")
    cl.ro_tag = tags[0]
    cl.ro_vnode = ro
    rw = [t for t in tags if vnode[t] != ro]
    cl.tag = rw[0]
    # A tag on another vnode of the same pnode, and one on the other pnode.
    cl.same_pnode = next(t for t in rw if vnode[t] != vnode[cl.tag] and pnode[t] == pnode[cl.tag])
    cl.other_pnode = next(t for t in rw if pnode[t] != pnode[cl.tag])
    cl.start_proxy()
    cl.direct = RedisServer()
    return cl


cluster = lazy(setup)


def flush(cl):
    for s in cl.servers + [cl.direct]:
        c = s.client()
        c.flushall()
        c.close()


def on_pnodes(cl, key):
    """key's value on every pnode (the proxy must have put it on none or one)."""
    out = []
    for s in cl.servers:
        c = s.client()
        out.append(c.get(key))
        c.close()
    return out


def both(cl, cmds):
    """The replies to the pipelined cmds directly and through the proxy."""
    flush(cl)
    got = []
    for port in (cl.direct.port, cl.proxy.port):
        r = RawClient(port)
        r.send(encode_all(cmds))
        got.append(r.replies(len(cmds)))
        r.close()
    return got


def same(cl, cmds, what):
    direct, proxied = both(cl, cmds)
    eq(proxied, direct, what)
    return proxied


def test_the_issues_example_applies_once_as_redis():
    cl = cluster()
    k = "{%s}x" % cl.tag
    got = same(cl, [("MULTI",), ("INCR", k), ("INCR", k), ("EXEC",), ("GET", k)],
               "MULTI INCR INCR EXEC GET")
    eq(got, [Status("OK"), Status("QUEUED"), Status("QUEUED"), [1, 2], b"2"], "replies")


def test_inline_commands_as_redis():
    cl = cluster()
    k = "{%s}x" % cl.tag
    got = []
    for port in (cl.direct.port, cl.proxy.port):
        flush(cl)
        r = RawClient(port)
        r.send(("WATCH %s\r\nMULTI\r\nINCR %s\r\nPING\r\nEXEC\r\nGET %s\r\n" % (k, k, k)).encode())
        got.append(r.replies(6))
        r.close()
    eq(got[1], got[0], "inline WATCH, MULTI, EXEC")
    eq(got[1][4], [1, Status("PONG")], "EXEC")


def test_multi_key_commands_in_a_block_as_redis():
    cl = cluster()
    t, o = cl.tag, cl.other_pnode
    many = ["{%s}m%d" % (t, i) for i in range(300)]
    got = same(cl, [("MULTI",), ("MSET",) + tuple(x for k in many for x in (k, "v")),
                    ("MGET", many[0], many[-1]), ("DEL", many[1], many[2]), ("EXEC",)],
               "MSET, MGET, DEL of one vnode in a block")
    eq(got[4][1:], [[b"v", b"v"], 2], "EXEC")
    # The 300th key on another vnode: the whole block is refused.
    bad = many[:299] + ["{%s}m" % o]
    r = cl.raw()
    r.send(encode_all([("MULTI",), ("MSET",) + tuple(x for k in bad for x in (k, "w")), ("EXEC",)]))
    assert_err(r.replies(3)[2], "CROSSSLOT Keys in request don't hash to the same vnode",
               "a key past the 256th on another vnode")
    eq(on_pnodes(cl, many[0]), [b"v" if s is cl.server_for(t) else None
                                for s in cl.servers], "nothing applied")
    r.close()


def test_keys_on_several_vnodes_apply_nothing():
    cl = cluster()
    for tag in (cl.same_pnode, cl.other_pnode):
        flush(cl)
        a, b = "{%s}x" % cl.tag, "{%s}y" % tag
        r = cl.raw()
        r.send(encode_all([("MULTI",), ("INCR", a), ("INCR", b), ("EXEC",)]))
        got = r.replies(4)
        eq(got[:3], [Status("OK"), Status("QUEUED"), Status("QUEUED")], "queued")
        assert_err(got[3], "CROSSSLOT Keys in request don't hash to the same vnode",
                   "EXEC over two vnodes")
        eq(on_pnodes(cl, a) + on_pnodes(cl, b), [None] * 4, "applied on no pnode")
        eq(r.call("INCR", a), 1, "the client is usable afterwards, outside MULTI")
        r.close()


def test_a_write_on_an_ro_vnode_applies_nothing():
    cl = cluster()
    flush(cl)
    k = "{%s}x" % cl.ro_tag
    r = cl.raw()
    r.send(encode_all([("MULTI",), ("GET", k), ("SET", k, "v"), ("EXEC",)]))
    got = r.replies(4)
    assert_err(got[3], "READONLY vnode %d is read-only (resharding)" % cl.ro_vnode,
               "EXEC writing to an ro vnode")
    eq(on_pnodes(cl, k), [None, None], "applied on no pnode")
    # Reads alone are served there, as outside MULTI.
    r.send(encode_all([("MULTI",), ("GET", k), ("EXEC",)]))
    eq(r.replies(3)[2], [None], "a read-only block on an ro vnode")
    r.close()


def test_queue_time_errors_abort_as_redis():
    cl = cluster()
    k = "{%s}x" % cl.tag
    got = same(cl, [("MULTI",), ("SET", k, "1"), ("NOSUCHCMD", "a"), ("INCR",),
                    ("EXEC",), ("GET", k)], "queue-time errors")
    eq(got[4], Err("EXECABORT Transaction discarded because of previous errors."), "EXEC")
    eq(got[5], None, "nothing applied")
    eq(on_pnodes(cl, k), [None, None], "on no pnode")


def test_misplaced_control_commands_as_redis():
    cl = cluster()
    k = "{%s}x" % cl.tag
    got = same(cl, [("EXEC",), ("DISCARD",), ("MULTI",), ("MULTI",), ("SET", k, "1"),
                    ("EXEC",), ("GET", k)], "EXEC/DISCARD without MULTI, nested MULTI")
    eq(got[:4], [Err("ERR EXEC without MULTI"), Err("ERR DISCARD without MULTI"), Status("OK"),
                 Err("ERR MULTI calls can not be nested")], "errors")
    eq(got[5:], [[Status("OK")], b"1"], "a nested MULTI does not abort")


def test_discard_and_reset_apply_nothing():
    cl = cluster()
    k = "{%s}x" % cl.tag
    got = same(cl, [("MULTI",), ("SET", k, "1"), ("DISCARD",), ("GET", k), ("EXEC",),
                    ("MULTI",), ("SET", k, "2"), ("RESET",), ("GET", k), ("EXEC",)],
               "DISCARD, RESET")
    eq(got[2:5], [Status("OK"), None, Err("ERR EXEC without MULTI")], "DISCARD")
    eq(got[7:], [Status("RESET"), None, Err("ERR EXEC without MULTI")], "RESET")


def test_empty_block_and_proxy_answered_commands_as_redis():
    cl = cluster()
    k = "{%s}x" % cl.tag
    got = same(cl, [("MULTI",), ("EXEC",),
                    ("MULTI",), ("PING",), ("ECHO", "hi"), ("SET", k, "v"), ("PING", "p"),
                    ("EXEC",)], "empty block, PING and ECHO inside MULTI")
    eq(got[1], [], "empty EXEC")
    eq(got[7], [Status("PONG"), b"hi", Status("OK"), b"p"], "EXEC")
    # A keyless block of PINGs goes to one pnode.
    got = same(cl, [("MULTI",), ("PING",), ("EXEC",)], "only PING")
    eq(got[2], [Status("PONG")], "PING block")


def test_commands_about_the_proxy_connection_abort_the_block():
    # CLIENT, INFO, SELECT... are answered by the proxy, not the pnode: they
    # cannot run inside the pnode's EXEC, so queueing them is refused.
    cl = cluster()
    flush(cl)
    k = "{%s}x" % cl.tag
    r = cl.raw()
    r.send(encode_all([("MULTI",), ("SET", k, "1"), ("CLIENT", "SETNAME", "n"), ("INFO",),
                       ("EXEC",), ("CLIENT", "GETNAME")]))
    got = r.replies(6)
    eq(got[2:4], [Err("ERR command 'CLIENT' is not supported by ringproxy inside MULTI"),
                  Err("ERR command 'INFO' is not supported by ringproxy inside MULTI")],
       "refused while queueing")
    eq(got[4], Err("EXECABORT Transaction discarded because of previous errors."), "EXEC")
    eq(got[5], None, "the name was not set")
    eq(on_pnodes(cl, k), [None, None], "nothing applied")
    r.close()


def test_pipelined_commands_after_exec_keep_their_order():
    cl = cluster()
    k, y = "{%s}x" % cl.tag, "{%s}y" % cl.tag
    o = "{%s}o" % cl.other_pnode
    cmds = [("SET", y, "before")]
    for i in range(20):
        cmds += [("MULTI",), ("INCR", k), ("GET", y), ("EXEC",), ("INCR", o), ("GET", k)]
    got = same(cl, cmds, "pipelined transactions and plain commands on another pnode")
    eq(got[-3:], [[20, b"before"], 20, b"20"], "every block applied once, in order")


def test_redis_py_pipeline_as_redis():
    cl = cluster()
    k, h = "{%s}s" % cl.tag, "{%s}h" % cl.tag
    results = []
    for make in (lambda: cl.direct.client(), lambda: cl.client()):
        flush(cl)
        c = make()
        p = c.pipeline()  # transactional by default
        p.set(k, "v").incr(k).hset(h, "f", "1").lpush(k, "x").get(k)
        res = p.execute(raise_on_error=False)
        results.append([("error", str(x)) if isinstance(x, Exception) else x for x in res])
        c.close()
    eq(results[1], results[0], "pipeline().execute() through the proxy")
    check(results[1][1][0] == "error" and "not an integer" in results[1][1][1],
          "INCR of a string fails inside EXEC's array: %r" % (results[1],))
    check(results[1][3][0] == "error" and results[1][3][1].startswith("WRONGTYPE"),
          "WRONGTYPE inside EXEC's array: %r" % (results[1],))


def test_a_client_gone_inside_multi_applies_nothing():
    cl = cluster()
    flush(cl)
    k = "{%s}x" % cl.tag
    r = cl.raw()
    r.send(encode_all([("MULTI",), ("SET", k, "1"), ("SET", k + "2", "1")]))
    eq(r.replies(3), [Status("OK"), Status("QUEUED"), Status("QUEUED")], "queued")
    r.close()
    # Whatever the proxy would do, it does on its next loop turns.
    c = cl.client()
    for _ in range(5):
        c.ping()
        time.sleep(0.05)
    c.close()
    eq(on_pnodes(cl, k) + on_pnodes(cl, k + "2"), [None] * 4, "applied on no pnode")


def test_concurrent_transactions_are_not_interleaved():
    cl = cluster()
    flush(cl)
    k = "{%s}n" % cl.tag
    errors = []

    def worker():
        try:
            r = cl.raw()
            for _ in range(150):
                r.send(encode_all([("MULTI",), ("INCR", k), ("INCR", k), ("EXEC",)]))
                got = r.replies(4)[3]
                if not (isinstance(got, list) and len(got) == 2 and got[1] == got[0] + 1):
                    errors.append(got)
                    break
            r.close()
        except Exception as e:  # reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    check(not any(t.is_alive() for t in threads), "workers finished")
    eq(errors, [], "every EXEC gave [n, n+1]")
    eq(cl.client().get(k), b"900", "every block applied once")


if __name__ == "__main__":
    run(globals())
