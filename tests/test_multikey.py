"""MGET, MSET, DEL, UNLINK, EXISTS and TOUCH over keys on several pnodes:
split by pnode, replies merged in the client's key order, counts summed."""

import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from proxytest import (Cluster, Status, assert_err, encode, encode_all, eq,  # noqa: E402
                       lazy, run)


def setup():
    cl = Cluster(n=3, vnodes=1024)
    per = cl.pnode_keys("mk:", 10)
    # Interleave pnodes so that neighbouring keys are on different pnodes.
    cl.keys = [k for group in zip(*per.values()) for k in group]
    return cl


cluster = lazy(setup)


def test_mset_places_every_key_on_its_pnode():
    cl = cluster()
    c = cl.client()
    eq(c.mset({k: "m-" + k for k in cl.keys}), True, "MSET reply")
    cl.assert_placement({k: ("m-" + k).encode() for k in cl.keys})
    c.close()


def test_mget_merges_in_key_order_with_missing_as_nil():
    cl = cluster()
    c = cl.client()
    c.mset({k: "g-" + k for k in cl.keys})
    ask, want = [], []
    for i, k in enumerate(cl.keys):
        ask.append(k)
        want.append(("g-" + k).encode())
        if i % 4 == 0:
            ask.append("missing:%d" % i)
            want.append(None)
    ask.append(cl.keys[0])              # a repeated key is answered twice
    want.append(("g-" + cl.keys[0]).encode())
    eq(c.mget(ask), want, "MGET reply")
    eq(c.mget(["missing:a", "missing:b"]), [None, None], "MGET of missing keys")
    eq(c.mget([cl.keys[5]]), [("g-" + cl.keys[5]).encode()], "MGET of one key")
    c.close()


def test_mget_of_a_non_string_key_is_nil_like_redis():
    cl = cluster()
    c = cl.client()
    c.set(cl.keys[0], "s")
    c.delete(cl.keys[1])
    c.hset(cl.keys[1], "f", "v")
    eq(c.mget([cl.keys[0], cl.keys[1], cl.keys[2]])[:2], [b"s", None],
       "MGET over a hash key")
    c.delete(cl.keys[1])
    c.close()


def test_exists_and_touch_sum_counts_across_pnodes():
    cl = cluster()
    c = cl.client()
    c.mset({k: "e" for k in cl.keys})
    eq(c.exists(*cl.keys), len(cl.keys), "EXISTS of all keys")
    # Repeats count each time, as in Redis; missing keys count 0.
    eq(c.exists(cl.keys[0], cl.keys[0], cl.keys[1], "missing:x"), 3,
       "EXISTS with a repeat and a missing key")
    eq(c.touch(*(cl.keys + ["missing:y"])), len(cl.keys), "TOUCH count")
    eq(c.exists("missing:1", "missing:2"), 0, "EXISTS of missing keys")
    c.close()


def test_del_and_unlink_sum_counts_and_remove_from_every_pnode():
    cl = cluster()
    c = cl.client()
    c.mset({k: "d" for k in cl.keys})
    half = cl.keys[::2]
    eq(c.delete(*(half + ["missing:d1", "missing:d2"])), len(half), "DEL count")
    rest = cl.keys[1::2]
    eq(c.unlink(*(rest[:6] + ["missing:u"])), 6, "UNLINK count")
    exp = {k: None for k in half + rest[:6]}
    exp.update({k: b"d" for k in rest[6:]})
    cl.assert_placement(exp)
    eq(c.delete(*half), 0, "DEL of already deleted keys")
    c.close()


def test_multikey_commands_inside_a_pipeline_keep_order():
    cl = cluster()
    keys = cl.keys
    c = cl.raw()
    reqs = [("MSET",) + tuple(x for k in keys for x in (k, "p-" + k)),
            ("GET", keys[3]),
            ("MGET", keys[0], "missing:p", keys[1], keys[2]),
            ("EXISTS", keys[0], keys[1], "missing:p"),
            ("DEL", keys[0], keys[1], "missing:p"),
            ("MGET", keys[0], keys[1], keys[2]),
            ("TOUCH", keys[0], keys[2]),
            ("UNLINK", keys[2]),
            ("PING",)]
    c.send(encode_all(reqs))
    want = [Status("OK"), ("p-" + keys[3]).encode(),
            [("p-" + keys[0]).encode(), None, ("p-" + keys[1]).encode(),
             ("p-" + keys[2]).encode()],
            2, 2, [None, None, ("p-" + keys[2]).encode()], 1, 1, Status("PONG")]
    eq(c.replies(len(reqs)), want, "replies")
    c.close()


def test_large_mget_and_mset_in_a_pipeline():
    cl = cluster()
    keys = ["big-mk:%d" % i for i in range(1000)]
    c = cl.raw()
    mset = ("MSET",) + tuple(x for k in keys for x in (k, k + "!"))
    reqs = [mset, ("MGET",) + tuple(keys), ("EXISTS",) + tuple(keys),
            ("DEL",) + tuple(keys[:500]), ("MGET",) + tuple(keys)]
    c.send(encode_all(reqs * 3))
    for rnd in range(3):
        got = c.replies(len(reqs))
        eq(got[0], Status("OK"), "MSET reply, round %d" % rnd)
        eq(got[1], [(k + "!").encode() for k in keys], "MGET, round %d" % rnd)
        eq(got[2], 1000, "EXISTS, round %d" % rnd)
        eq(got[3], 500, "DEL, round %d" % rnd)
        eq(got[4], [None] * 500 + [(k + "!").encode() for k in keys[500:]],
           "MGET after DEL, round %d" % rnd)
    c.close()


def test_mset_wrong_arity_writes_nothing():
    cl = cluster()
    c = cl.raw()
    c.call("DEL", cl.keys[0], cl.keys[1])
    c.send(encode("MSET", cl.keys[0], "a", cl.keys[1]))
    assert_err(c.reply(), "ERR wrong number of arguments for 'mset' command",
               "MSET with an odd argument count")
    eq(c.call("MGET", cl.keys[0], cl.keys[1]), [None, None],
       "keys after a refused MSET")
    for cmd in ("MGET", "DEL", "UNLINK", "EXISTS", "TOUCH"):
        r = c.call(cmd)
        assert_err(r, "ERR wrong number of arguments for '%s' command"
                   % cmd.lower(), "%s without keys" % cmd)
    eq(c.call("PING"), Status("PONG"), "connection still usable")
    c.close()


def test_mset_with_a_repeated_key_keeps_the_last_value():
    cl = cluster()
    c = cl.raw()
    a, b = cl.keys[0], cl.keys[1]
    eq(c.call("MSET", a, "1", b, "x", a, "2", a, "3"), Status("OK"), "MSET")
    eq(c.call("MGET", a, b), [b"3", b"x"], "MGET after MSET with a repeated key")
    c.close()


def test_multikey_commands_split_byte_by_byte():
    cl = cluster()
    keys = cl.keys[:12]
    c = cl.raw()
    reqs = [("MSET",) + tuple(x for k in keys for x in (k, "b-" + k)),
            ("MGET",) + tuple(keys[::-1]) + ("missing:bb",),
            ("DEL",) + tuple(keys[:6]),
            ("EXISTS",) + tuple(keys)]
    c.send_slowly(encode_all(reqs), chunk=1, pause=0.0002)
    eq(c.replies(4), [Status("OK"), [("b-" + k).encode() for k in keys[::-1]] + [None], 6, 6],
       "replies")
    c.close()


def test_inline_multikey_commands_across_pnodes():
    cl = cluster()
    keys = cl.keys[:9]
    c = cl.raw()
    c.send(b"MSET " + b" ".join(b"%s in-%d" % (k.encode(), i) for i, k in enumerate(keys)) + b"\r\n")
    eq(c.reply(), Status("OK"), "inline MSET")
    c.send(b"MGET " + b" ".join(k.encode() for k in keys) + b" missing:in\r\n")
    eq(c.reply(), [b"in-%d" % i for i in range(len(keys))] + [None], "inline MGET")
    c.send(b"EXISTS " + b" ".join(k.encode() for k in keys) + b"\r\n")
    eq(c.reply(), len(keys), "inline EXISTS")
    c.send(b"DEL " + b" ".join(k.encode() for k in keys[:4]) + b"\r\n")
    eq(c.reply(), 4, "inline DEL")
    cl.assert_placement(dict({k: None for k in keys[:4]},
                             **{k: b"in-%d" % i for i, k in enumerate(keys) if i >= 4}))
    c.close()


run(globals())
