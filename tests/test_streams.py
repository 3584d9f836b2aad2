"""Streams and the other keyed commands of Redis 7.0 whose keys are found
by key specs (XREAD/XREADGROUP STREAMS, XGROUP/XINFO/OBJECT/MEMORY USAGE
after a subcommand, GEORADIUS STORE, numkeys) routed through the proxy,
each reply compared with a redis-server given the same commands."""

import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from proxytest import (Cluster, Err, RawClient, RedisServer, Status, check, eq,  # noqa: E402
                       get_nodes, lazy, run)


def setup():
    cl = Cluster(n=3, vnodes=1024, config={"hash-tags": "yes"})
    cl.direct = RedisServer()
    return cl


cluster = lazy(setup)


def same(cl, cmds):
    """Each command on the proxy and directly: the same reply."""
    p, d = cl.raw(), RawClient(cl.direct.port)
    out = []
    for cmd in cmds:
        got, want = p.call(*cmd), d.call(*cmd)
        eq(got, want, "reply to %r" % (cmd,))
        out.append(got)
    p.close()
    d.close()
    return out


def crossvnode(cl, prefix):
    """Two keys on different vnodes."""
    keys = ["%s%d" % (prefix, i) for i in range(50)]
    nodes = get_nodes(cl.ring, keys)
    other = next(k for k in keys if nodes[k]["vnode"] != nodes[keys[0]]["vnode"])
    return keys[0], other


def test_xadd_xread_and_groups_as_redis():
    cl = cluster()
    same(cl, [
        ("XADD", "{s}a", "1-1", "f", "v1"), ("XADD", "{s}a", "1-2", "f", "v2"),
        ("XADD", "{s}b", "2-1", "g", "w1"),
        ("XREAD", "STREAMS", "{s}a", "0"),
        ("XREAD", "COUNT", "1", "STREAMS", "{s}a", "{s}b", "0", "0"),
        ("XREAD", "STREAMS", "{s}a", "{s}b", "1-1", "$"),
        ("XREAD", "STREAMS", "{s}a", "{s}b", "0"),            # unbalanced: Redis's error
        ("XREAD", "COUNT", "1", "STREAMS"),
        ("XGROUP", "CREATE", "{s}a", "grp", "0"),
        ("XGROUP", "CREATE", "{s}b", "grp", "0", "MKSTREAM"),
        ("XGROUP", "CREATE", "{s}a", "grp", "0"),             # BUSYGROUP
        ("XGROUP", "CREATECONSUMER", "{s}a", "grp", "alice"),
        ("XREADGROUP", "GROUP", "grp", "alice", "COUNT", "1", "STREAMS", "{s}a", ">"),
        ("XREADGROUP", "GROUP", "grp", "bob", "STREAMS", "{s}a", "{s}b", ">", ">"),
        ("XREADGROUP", "GROUP", "nogrp", "bob", "STREAMS", "{s}a", ">"),
        ("XPENDING", "{s}a", "grp"),
        ("XACK", "{s}a", "grp", "1-1"),
        ("XPENDING", "{s}a", "grp"),
        ("XCLAIM", "{s}a", "grp", "carol", "0", "1-2", "JUSTID"),
        ("XAUTOCLAIM", "{s}a", "grp", "dave", "0", "0-0", "COUNT", "10", "JUSTID"),
        ("XINFO", "STREAM", "{s}a"),
        ("XINFO", "GROUPS", "{s}b"),
        ("XINFO", "STREAM", "{s}nosuch"),
        ("XINFO", "STREAM"),
        ("XGROUP", "SETID", "{s}a", "grp", "0"),
        ("XGROUP", "DELCONSUMER", "{s}a", "grp", "dave"),
        ("XSETID", "{s}a", "9-9"),
        ("XGROUP", "DESTROY", "{s}a", "grp"),
        ("XLEN", "{s}a"), ("XTRIM", "{s}a", "MAXLEN", "1"), ("XDEL", "{s}a", "1-2"),
        ("XGROUP", "HELP"), ("XINFO", "HELP"),
    ])
    # XINFO CONSUMERS and XPENDING's detail have idle times: compare the rest.
    p, d = cl.raw(), RawClient(cl.direct.port)
    args = ("XPENDING", "{s}b", "grp", "-", "+", "10", "bob")
    eq([[e[0], e[1], e[3]] for e in p.call(*args)],
       [[e[0], e[1], e[3]] for e in d.call(*args)], "XPENDING with a consumer")
    args = ("XINFO", "CONSUMERS", "{s}b", "grp")
    names = [[c[1], c[3]] for c in p.call(*args)]
    eq(names, [[c[1], c[3]] for c in d.call(*args)], "XINFO CONSUMERS")


def test_xread_across_vnodes_is_refused_whole():
    cl = cluster()
    a, b = crossvnode(cl, "xs:")
    p = cl.raw()
    eq(p.call("XADD", a, "1-1", "f", "v"), b"1-1", "XADD")
    eq(p.call("XREAD", "STREAMS", a, b, "0", "0"),
       Err("CROSSSLOT Keys in request don't hash to the same vnode"), "XREAD across vnodes")
    eq(p.call("XREADGROUP", "GROUP", "g", "c", "STREAMS", a, b, ">", ">"),
       Err("CROSSSLOT Keys in request don't hash to the same vnode"), "XREADGROUP across vnodes")
    eq(p.call("XREAD", "BLOCK", "10", "STREAMS", a, b, "0", "0"),
       Err("CROSSSLOT Keys in request don't hash to the same vnode"), "XREAD BLOCK across vnodes")
    eq(p.call("PING"), Status("PONG"), "PING after the refusals")


def test_other_keyed_commands_as_redis():
    cl = cluster()
    same(cl, [
        ("SET", "{o}s", "12345"), ("RPUSH", "{o}l", "a", "b", "c"),
        ("OBJECT", "ENCODING", "{o}s"), ("OBJECT", "ENCODING", "{o}l"),
        ("OBJECT", "REFCOUNT", "{o}l"), ("OBJECT", "ENCODING", "{o}none"),
        ("OBJECT", "HELP"), ("TYPE", "{o}l"), ("TYPE", "{o}none"),
        ("MEMORY", "USAGE", "{o}none"),
        ("COPY", "{o}s", "{o}s2"), ("GET", "{o}s2"), ("COPY", "{o}s", "{o}s2"),
        ("LMPOP", "2", "{o}none", "{o}l", "LEFT", "COUNT", "2"),
        ("LMPOP", "0", "LEFT"),
        ("ZADD", "{o}z", "1", "a", "2", "b"), ("ZMPOP", "1", "{o}z", "MIN"),
        ("SADD", "{o}x", "1", "2", "3"), ("SADD", "{o}y", "2", "3"),
        ("SINTERCARD", "2", "{o}x", "{o}y"), ("SINTERCARD", "2", "{o}x", "{o}y", "LIMIT", "1"),
        ("ZADD", "{o}z2", "1", "a"), ("ZINTERCARD", "2", "{o}z", "{o}z2"),
        ("SET", "{o}k1", "ohmytext"), ("SET", "{o}k2", "mynewtext"),
        ("LCS", "{o}k1", "{o}k2"), ("SORT_RO", "{o}x"),
        ("GEOADD", "{o}g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669",
         "Catania"),
        ("GEORADIUS", "{o}g", "15", "37", "200", "km", "STORE", "{o}gs"),
        ("ZRANGE", "{o}gs", "0", "-1"),
        ("GEORADIUSBYMEMBER", "{o}g", "Palermo", "200", "km", "STOREDIST", "{o}gd"),
        ("GEOSEARCHSTORE", "{o}gss", "{o}g", "FROMMEMBER", "Palermo", "BYRADIUS", "300", "km"),
        ("GEOSEARCH", "{o}g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC"),
        ("DUMP", "{o}none"),
        # COMMAND GETKEYS names the keys the proxy routes by, as Redis does.
        ("COMMAND", "GETKEYS", "XREAD", "COUNT", "2", "STREAMS", "a", "b", "0", "0"),
        ("COMMAND", "GETKEYS", "XREADGROUP", "GROUP", "streams", "c", "STREAMS", "a", ">"),
        ("COMMAND", "GETKEYS", "GEORADIUS", "g", "1", "2", "3", "km", "STORE", "d"),
        ("COMMAND", "GETKEYS", "GEORADIUSBYMEMBER", "g", "store", "3", "km", "STOREDIST", "d"),
        ("COMMAND", "GETKEYS", "OBJECT", "ENCODING", "k"),
        ("COMMAND", "GETKEYS", "XINFO", "STREAM", "k"),
        ("COMMAND", "GETKEYS", "XGROUP", "CREATE", "k", "g", "$"),
        ("COMMAND", "GETKEYS", "MEMORY", "USAGE", "k"),
        ("COMMAND", "GETKEYS", "LMPOP", "2", "a", "b", "LEFT"),
        ("COMMAND", "GETKEYS", "EVAL", "return 1", "0"),
    ])
    p, d = cl.raw(), RawClient(cl.direct.port)
    check(isinstance(p.call("MEMORY", "USAGE", "{o}l"), int), "MEMORY USAGE of a key")
    dump = d.call("DUMP", "{o}x")
    eq(p.call("RESTORE", "{o}r", "0", dump), Status("OK"), "RESTORE of a direct DUMP")
    eq(sorted(p.call("SMEMBERS", "{o}r")), [b"1", b"2", b"3"], "restored set")
    a, b = crossvnode(cl, "geo:")
    p.call("GEOADD", a, "13.361389", "38.115556", "Palermo")
    eq(p.call("GEORADIUS", a, "15", "37", "200", "km", "STORE", b),
       Err("CROSSSLOT Keys in request don't hash to the same vnode"),
       "GEORADIUS STORE across vnodes")
    eq(p.call("EXISTS", b), 0, "nothing stored")
    r = p.call("MEMORY", "STATS")
    check(isinstance(r, Err) and "not supported by ringproxy without keys" in r,
          "MEMORY STATS is refused: %r" % (r,))


# Not write commands for Redis, but they may write: the proxy refuses them
# on read-only vnodes (a script or function may change its keys; XGROUP's
# subcommands but HELP are writes, its container is not flagged).
MAY_WRITE = {b"eval", b"evalsha", b"fcall", b"xgroup"}


# Routed by the channel taken as a key, as SPUBLISH (Redis keeps no key for
# PUBLISH: a channel is cluster-wide there, here it lives on its pnode).
ROUTED_BY_CHANNEL = {b"publish"}


def test_the_command_table_is_redis_7_0s():
    """Every command redis-server knows is in the proxy's table with Redis's
    arity, first/last/step key positions and write flag."""
    cl = cluster()
    p, d = cl.raw(), RawClient(cl.direct.port)
    want = {e[0]: e for e in d.call("COMMAND")}
    got = {e[0]: e for e in p.call("COMMAND")}
    eq(sorted(set(want) - set(got)), [], "commands missing from the proxy's table")
    eq(sorted(set(got) - set(want)), [b"ring"], "commands only the proxy has")
    bad = []
    for name, w in sorted(want.items()):
        g = got[name]
        if g[1] != w[1]:
            bad.append("%s: arity %r, Redis %r" % (name, g[1], w[1]))
        if g[3:6] != w[3:6] and name not in ROUTED_BY_CHANNEL:
            bad.append("%s: keys %r, Redis %r" % (name, g[3:6], w[3:6]))
        if ("write" in g[2]) != ("write" in w[2]) and name not in MAY_WRITE:
            bad.append("%s: write %r, Redis %r" % (name, g[2], w[2]))
    eq(bad, [], "differences from Redis's table")


if __name__ == "__main__":
    run(globals())
