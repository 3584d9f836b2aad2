"""HELLO 3 and RESP3: the same commands on a RESP3 connection straight to a
redis-server and through ringproxy give byte-identical replies, whether
the reply is forwarded from a pnode, merged from several, or built by the
proxy itself. (redis-py 4.3 has no protocol=3, so a raw RESP3 client.)"""

import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from proxytest import Cluster, RawClient, RedisServer, check, encode, eq, lazy, run  # noqa: E402
from resp3client import Resp3Client, decode  # noqa: E402


def setup():
    cl = Cluster(n=2)
    cl.direct = RedisServer()
    per = cl.pnode_keys("r3:", 3)
    cl.keys = [k for group in zip(*per.values()) for k in group]
    return cl


cluster = lazy(setup)


def pair(cl, hello=True):
    """A RESP3 connection to the lone redis-server and one through the proxy."""
    d, p = Resp3Client(cl.direct.port), Resp3Client(cl.proxy.port)
    if hello:
        for c in (d, p):
            check(c.raw_call("HELLO", "3").startswith(b"%7\r\n"), "HELLO 3 answers a map of 7")
    return d, p


def same(d, p, cmds, what):
    for cmd in cmds:
        want, got = d.raw_call(*cmd), p.raw_call(*cmd)
        eq(got, want, "%s: %s" % (what, " ".join(map(str, cmd))))


def test_hello_3_map_as_redis():
    cl = cluster()
    d, p = pair(cl, hello=False)
    want, _ = decode(d.raw_call("HELLO", "3"))
    got, _ = decode(p.raw_call("HELLO", "3"))
    eq(sorted(got), sorted(want), "HELLO 3's keys")
    eq(got[b"proto"], 3, "proto")
    eq(got[b"server"], b"ringproxy", "server")
    eq(got[b"id"], decode(p.raw_call("CLIENT", "ID"))[0], "id is CLIENT ID's")
    for k in (b"mode", b"role", b"modules"):
        eq(got[k], want[k], "HELLO 3 " + k.decode())
    # HELLO without a version answers in the protocol in use.
    eq(p.raw_call("HELLO")[:4], b"%7\r\n", "HELLO alone stays RESP3")
    for bad in ("4", "1", "0", "-1", "02", "-0", "3x", "", "99999999999999999999"):
        same(d, p, [("HELLO", bad)], "protover %r" % bad)
    eq(p.raw_call("HELLO", "2")[:5], b"*14\r\n", "HELLO 2 goes back to RESP2")
    eq(p.raw_call("GET", "r3:missing"), b"$-1\r\n", "RESP2 nil after HELLO 2")
    p.raw_call("HELLO", "3", "SETNAME", "r3name")
    eq(p.raw_call("CLIENT", "GETNAME"), b"$6\r\nr3name\r\n", "HELLO 3 SETNAME")
    eq(p.raw_call("RESET"), b"+RESET\r\n", "RESET")
    eq(p.raw_call("GET", "r3:missing"), b"$-1\r\n", "RESET goes back to RESP2")
    d.close()
    p.close()


def test_forwarded_replies_are_byte_identical():
    cl = cluster()
    d, p = pair(cl)
    for k in cl.keys[:2]:
        cmds = [("DEL", k + "s", k + "h", k + "z", k + "f", k + "t"),
                ("SET", k + "s", "v"), ("GET", k + "s"), ("GET", k + "none"),
                ("HSET", k + "h", "a", "1", "b", "2"), ("HGETALL", k + "h"),
                ("HGETALL", k + "none"), ("HMGET", k + "h", "a", "x"),
                ("ZADD", k + "z", "1.5", "m", "2", "n"), ("ZSCORE", k + "z", "m"),
                ("ZSCORE", k + "z", "x"), ("ZRANGE", k + "z", "0", "-1", "WITHSCORES"),
                ("ZINCRBY", k + "z", "0.25", "m"), ("INCRBYFLOAT", k + "f", "1.5"),
                ("SADD", k + "t", "x"), ("SMEMBERS", k + "t"), ("SISMEMBER", k + "t", "x"),
                ("TTL", k + "s"), ("LPOP", k + "none"),
                ("HINCRBYFLOAT", k + "h", "a", "0.5"), ("GET", k + "h")]
        same(d, p, cmds, "forwarded")
    d.close()
    p.close()


def test_merged_replies_over_two_pnodes():
    cl = cluster()
    d, p = pair(cl)
    k = cl.keys
    same(d, p, [("DEL", *k), ("MSET", k[0], "a", k[1], "b"),
                ("MGET", k[0], "r3:none", k[1], k[2]), ("EXISTS", k[0], k[1], k[2]),
                ("TOUCH", k[0], k[1]), ("DEL", k[0], k[1], k[3])], "merged")
    d.close()
    p.close()


def test_proxy_replies_in_resp3():
    cl = cluster()
    d, p = pair(cl)
    same(d, p, [("CONFIG", "GET", "save"), ("CONFIG", "GET", "appendonly"),
                ("CONFIG", "GET", "no-such-parameter"), ("COMMAND", "DOCS", "nosuchcmd"),
                ("CLIENT", "GETNAME"), ("COMMAND", "INFO", "nosuchcmd"), ("PING",),
                ("ECHO", "x")], "proxy's own")
    for cmd in (("INFO", "server"), ("CLIENT", "INFO"), ("CLIENT", "LIST")):
        eq(p.raw_call(*cmd)[:1], d.raw_call(*cmd)[:1], "%s type" % " ".join(cmd))
    info = p.raw_call("CLIENT", "INFO")
    check(info.split(b"\r\n", 1)[1].startswith(b"txt:id="), "CLIENT INFO verbatim: %r" % info)
    check(b" resp=3" in info, "CLIENT INFO says resp=3: %r" % info)
    want, _ = decode(d.raw_call("COMMAND", "INFO", "get"))
    got, _ = decode(p.raw_call("COMMAND", "INFO", "get"))
    eq([type(x).__name__ for x in got[0]], [type(x).__name__ for x in want[0]],
       "COMMAND INFO entry types")
    d.close()
    p.close()


def test_transactions_blocking_and_fanned_out_commands_in_resp3():
    cl = cluster()
    d, p = pair(cl)
    k = cl.keys[0]
    same(d, p, [("FLUSHALL",), ("DBSIZE",), ("RANDOMKEY",), ("KEYS", "*"),
                ("MULTI",), ("SET", k, "1"), ("INCR", k), ("GET", k), ("DEL", k),
                ("HSET", k, "a", "1"), ("HGETALL", k), ("ZADD", k, "1", "m"), ("EXEC",),
                ("DISCARD",), ("DEL", k),
                ("BLPOP", k + "q", "0.05"), ("RPUSH", k + "q", "x"), ("BLPOP", k + "q", "0.05"),
                ("XREAD", "BLOCK", "50", "STREAMS", k + "x", "$"),
                ("WATCH", k), ("MULTI",), ("GET", k), ("EXEC",),
                ("DBSIZE",), ("RANDOMKEY",), ("KEYS", "*")],
         "transactions, dedicated connections and fan-out")
    d.close()
    p.close()


def test_resp2_clients_unaffected_and_pnodes_see_resp3():
    cl = cluster()
    _, p = pair(cl)
    two = RawClient(cl.proxy.port)
    for k in cl.keys[:2]:
        eq(p.raw_call("GET", k + "gone"), b"_\r\n", "RESP3 nil")
        eq(two.call("GET", k + "gone"), None, "RESP2 nil")
        two.send(encode("GET", k + "gone"))
        eq(two._line(), b"$-1", "RESP2 nil bytes")
    for s in cl.servers:
        lst = s.client().execute_command("CLIENT", "LIST")
        lst = lst.decode() if isinstance(lst, bytes) else lst
        check(" resp=3" in lst, "%s has a RESP3 proxy connection" % s.pnode)
        check(" resp=2" in lst, "%s keeps RESP2 ones" % s.pnode)
    p.close()
    two.close()


run(globals())
