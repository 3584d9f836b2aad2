"""Commands ringproxy cannot route get `-ERR command 'X' is not supported by
ringproxy` (X as sent), change nothing on any pnode, and leave the
connection usable and in its normal state."""

import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from proxytest import (Cluster, Err, Status, assert_unsupported, check,  # noqa: E402
                       encode_all, eq, lazy, run)

cluster = lazy(lambda: Cluster(n=2, vnodes=256))

# Each with arguments a client would really send.
UNSUPPORTED = [
    ("CLUSTER", "INFO"),
    ("CLUSTER", "SLOTS"), ("SWAPDB", "0", "1"),
    ("MOVE", "k", "1"), ("MONITOR",), ("SYNC",), ("PSYNC", "?", "-1"),
    ("REPLICAOF", "127.0.0.1", "1"), ("SLAVEOF", "127.0.0.1", "1"),
    ("SHUTDOWN",), ("DEBUG", "SLEEP", "0"), ("SAVE",), ("BGSAVE",),
    ("BGREWRITEAOF",),
]


def seeded(cl):
    c = cl.client()
    c.mset({"u:%d" % i: "v%d" % i for i in range(50)})
    c.close()


def test_each_unsupported_command_gets_the_exact_error():
    cl = cluster()
    seeded(cl)
    c = cl.raw()
    for cmd in UNSUPPORTED:
        assert_unsupported(c.call(*cmd), cmd[0])
        eq(c.call("PING"), Status("PONG"), "PING after %s" % cmd[0])
    c.close()


def test_the_name_is_echoed_as_the_client_sent_it():
    cl = cluster()
    c = cl.raw()
    for name in ("monitor", "Monitor", "mOnItOr", "swapdb"):
        args = (name, "0", "1") if name.lower() == "swapdb" else (name,)
        r = c.call(*args)
        assert_unsupported(r, name)
    c.close()


def test_nothing_was_changed_on_the_pnodes():
    cl = cluster()
    seeded(cl)
    c = cl.raw()
    for cmd in (("SWAPDB", "0", "1"),
                ("MOVE", "u:1", "1"), ("SHUTDOWN",), ("DEBUG", "SLEEP", "0")):
        assert_unsupported(c.call(*cmd), cmd[0])
    c.close()
    total = 0
    for s in cl.servers:
        sc = s.client()
        check(sc.ping(), "pnode %s still up" % s.pnode)
        total += sc.dbsize()
        sc.close()
    check(total >= 50, "keys lost from the pnodes: %d left" % total)
    c = cl.client()
    eq(c.get("u:1"), b"v1", "u:1 after MOVE/SWAPDB")
    c.close()


def test_config_set_gets_the_exact_error_and_changes_nothing():
    # CONFIG GET may be answered (clients such as redis-benchmark ask);
    # CONFIG SET and the rest cannot be routed.
    cl = cluster()
    c = cl.raw()
    for cmd in (("CONFIG", "SET", "maxmemory", "1"), ("config", "resetstat"),
                ("CONFIG", "REWRITE")):
        assert_unsupported(c.call(*cmd), cmd[0])
    eq(c.call("PING"), Status("PONG"), "PING after CONFIG")
    c.close()
    for s in cl.servers:
        sc = s.client()
        eq(sc.config_get("maxmemory")["maxmemory"], "0", "maxmemory of %s" % s.pnode)
        sc.close()


def test_unsupported_in_a_pipeline_keeps_order():
    cl = cluster()
    c = cl.raw()
    reqs, want = [], []
    for i in range(300):
        if i % 5 == 0:
            cmd = UNSUPPORTED[(i // 5) % len(UNSUPPORTED)]
            reqs.append(cmd)
            want.append(cmd[0])
        elif i % 5 in (1, 3):
            reqs.append(("SET", "pu:%d" % i, "v%d" % i))
            want.append(Status("OK"))
        else:
            reqs.append(("GET", "pu:%d" % (i - 1)))
            want.append(("v%d" % (i - 1)).encode())
    c.send(encode_all(reqs))
    got = c.replies(len(reqs))
    for i, (g, w) in enumerate(zip(got, want)):
        if i % 5 == 0:
            assert_unsupported(g, w)
        else:
            eq(g, w, "reply %d" % i)
    c.close()


def test_unknown_command_is_an_error_and_connection_stays():
    # An unknown command is refused (Redis says "unknown command"; the
    # proxy may say "not supported"): either way an error, never forwarded
    # as a key-less request, and the connection stays.
    cl = cluster()
    c = cl.raw()
    r = c.call("NOSUCHCOMMAND", "a", "b")
    check(isinstance(r, Err) and r.startswith("ERR"), "unknown command: got %r" % (r,))
    eq(c.call("PING"), Status("PONG"), "PING after an unknown command")
    c.close()


run(globals())
