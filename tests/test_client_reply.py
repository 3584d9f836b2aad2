"""CLIENT REPLY OFF/SKIP/ON as Redis: commands still run, their replies
(errors too) are not sent; SKIP drops the next command's reply only."""

import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from proxytest import Cluster, RawClient, RedisServer, Status, encode_all, eq, lazy, run  # noqa: E402


def setup():
    cl = Cluster(n=2, vnodes=64)
    cl.direct = RedisServer()
    cl.keys = [k for ks in cl.pnode_keys("cr:", 3).values() for k in ks]
    return cl


cluster = lazy(setup)


def same(cl, cmds, nreplies, what):
    out = []
    for port in (cl.direct.port, cl.proxy.port):
        for s in cl.servers + [cl.direct]:
            c = s.client()
            c.flushall()
            c.close()
        r = RawClient(port)
        r.send(encode_all(cmds))
        got = r.replies(nreplies)
        # Nothing more than that came.
        r.send(encode_all([("PING", "end")]))
        got.append(r.reply())
        out.append(got)
        r.close()
    eq(out[1], out[0], what)
    return out[1]


def test_off_then_on_as_redis():
    cl = cluster()
    a, b = cl.keys[0], cl.keys[-1]
    got = same(cl, [("CLIENT", "REPLY", "OFF"), ("SET", a, "1"), ("INCR", a), ("NOSUCH",),
                    ("MSET", a, "5", b, "6"), ("CLIENT", "REPLY", "SKIP"), ("GET", a),
                    ("CLIENT", "REPLY", "ON"), ("MGET", a, b)], 2, "OFF ... ON")
    eq(got, [Status("OK"), [b"5", b"6"], b"end"], "only ON's and later replies")


def test_skip_drops_one_reply_as_redis():
    cl = cluster()
    a, b = cl.keys[0], cl.keys[-1]
    got = same(cl, [("CLIENT", "REPLY", "SKIP"), ("SET", a, "1"), ("GET", a),
                    ("CLIENT", "REPLY", "SKIP"), ("MGET", a, b), ("INCR", a),
                    ("CLIENT", "REPLY", "SKIP"), ("CLIENT", "REPLY", "SKIP"), ("GET", a),
                    ("GET", b)], 3, "SKIP")
    eq(got, [b"1", 2, None, b"end"], "replies")


if __name__ == "__main__":
    run(globals())
