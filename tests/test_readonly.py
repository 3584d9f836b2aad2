"""Vnodes whose data is `ro` refuse writes with the exact READONLY error
and serve reads; a multi-key write touching one is refused whole; other
data strings have no effect."""

import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from proxytest import (Cluster, Err, Status, assert_readonly, check,  # noqa: E402
                       encode_all, eq, get_nodes, lazy, ring_info, run, set_data)


def setup():
    cl = Cluster(n=2, vnodes=64, start=False)
    nodes = get_nodes(cl.ring, ["ro:%d" % i for i in range(400)])
    # Two ro vnodes on each pnode, one vnode with harmless other data.
    ro = []
    for s in cl.servers:
        vs = sorted({o["vnode"] for o in nodes.values() if o["pnode"] == s.pnode})
        ro += vs[:2]
    other = sorted({o["vnode"] for o in nodes.values()} - set(ro))[0]
    set_data(cl.ring, ro, "ro")
    set_data(cl.ring, [other], "moving")
    cl.ro = set(ro)
    cl.vnode = {k: o["vnode"] for k, o in nodes.items()}
    cl.pnode = {k: o["pnode"] for k, o in nodes.items()}
    cl.ro_keys = [k for k, v in cl.vnode.items() if v in cl.ro]
    cl.rw_keys = [k for k, v in cl.vnode.items() if v not in cl.ro and v != other]
    cl.other_keys = [k for k, v in cl.vnode.items() if v == other]
    check(len(cl.ro_keys) >= 10 and len(cl.rw_keys) >= 10 and cl.other_keys,
          "not enough keys on each kind of vnode")
    # Data that was there before the vnodes went read-only.
    for k in cl.ro_keys + cl.rw_keys:
        srv = cl.by_pnode[cl.pnode[k]].client()
        srv.set(k, "orig-" + k)
        srv.close()
    cl.start_proxy()
    return cl


cluster = lazy(setup)


def direct(cl, k):
    c = cl.by_pnode[cl.pnode[k]].client()
    try:
        return c.get(k)
    finally:
        c.close()


def test_writes_to_ro_vnodes_are_refused_with_the_vnode():
    cl = cluster()
    c = cl.raw()
    for k in cl.ro_keys[:10]:
        assert_readonly(c.call("SET", k, "new"), cl.vnode[k])
        eq(direct(cl, k), ("orig-" + k).encode(), "value of %s after refused SET" % k)
    c.close()


def test_every_kind_of_write_is_refused():
    cl = cluster()
    c = cl.raw()
    k = cl.ro_keys[0]
    v = cl.vnode[k]
    # Type-specific writes on a string key: refused before they are sent,
    # so READONLY rather than Redis's WRONGTYPE.
    writes = [("INCR", k), ("APPEND", k, "x"), ("DEL", k), ("UNLINK", k),
              ("EXPIRE", k, 100), ("PERSIST", k), ("SETEX", k, 10, "x"),
              ("HSET", k, "f", "v"), ("LPUSH", k, "x"), ("SADD", k, "x"),
              ("ZADD", k, 1, "x"), ("SETBIT", k, 1, 1), ("PFADD", k, "x"),
              ("GETSET", k, "x"), ("SETNX", k, "x"), ("INCRBYFLOAT", k, 1.5),
              ("HINCRBY", k, "f", 1), ("RPOP", k), ("SREM", k, "x")]
    for w in writes:
        assert_readonly(c.call(*w), v)
    eq(direct(cl, k), ("orig-" + k).encode(), "value after refused writes")
    eq(c.call("TTL", k), -1, "TTL after refused EXPIRE")
    c.close()


def test_reads_on_ro_vnodes_are_served():
    cl = cluster()
    c = cl.raw()
    for k in cl.ro_keys[:10]:
        eq(c.call("GET", k), ("orig-" + k).encode(), "GET %s" % k)
        eq(c.call("STRLEN", k), len("orig-" + k), "STRLEN %s" % k)
        eq(c.call("EXISTS", k), 1, "EXISTS %s" % k)
        eq(c.call("TYPE", k), Status("string"), "TYPE %s" % k)
        eq(c.call("TTL", k), -1, "TTL %s" % k)
    ks = cl.ro_keys[:5] + cl.rw_keys[:5]
    eq(c.call("MGET", *ks), [("orig-" + k).encode() for k in ks],
       "MGET over ro and rw vnodes")
    c.close()


def test_writes_to_other_vnodes_work():
    cl = cluster()
    c = cl.raw()
    for k in cl.rw_keys[:10]:
        eq(c.call("SET", k, "w-" + k), Status("OK"), "SET %s" % k)
        eq(direct(cl, k), ("w-" + k).encode(), "value of %s on its pnode" % k)
    for k in cl.other_keys[:3]:
        eq(c.call("SET", k, "x"), Status("OK"), "SET on a vnode with data 'moving'")
    c.close()


def test_multikey_write_touching_ro_is_refused_whole():
    cl = cluster()
    c = cl.raw()
    rw = cl.rw_keys[10:16]
    ro = cl.ro_keys[0]
    c.call("DEL", *rw)
    for args in (rw[:3] + [ro] + rw[3:], [ro] + rw, rw + [ro]):
        mset = ["MSET"] + [x for k in args for x in (k, "m")]
        r = c.call(*mset)
        check(isinstance(r, Err) and r.startswith("READONLY vnode "),
              "MSET touching an ro vnode: expected READONLY, got %r" % (r,))
        assert_readonly(r, cl.vnode[ro])
        for k in rw:
            eq(direct(cl, k), None, "rw key %s after a refused MSET" % k)
    # DEL and UNLINK over an ro key delete nothing anywhere.
    c.call("MSET", *[x for k in rw for x in (k, "keep")])
    for cmd in ("DEL", "UNLINK"):
        assert_readonly(c.call(cmd, *(rw[:2] + [ro] + rw[2:])), cl.vnode[ro])
        for k in rw:
            eq(direct(cl, k), b"keep", "rw key %s after a refused %s" % (k, cmd))
        eq(direct(cl, ro), ("orig-" + ro).encode(), "ro key after a refused %s" % cmd)
    # EXISTS and TOUCH are reads.
    eq(c.call("EXISTS", ro, *rw), 1 + len(rw), "EXISTS over ro and rw keys")
    c.close()


def test_ring_info_and_node_show_ro():
    cl = cluster()
    c = cl.raw()
    info = ring_info(c.call("RING", "INFO"))
    eq(info.get("ro_vnodes"), str(len(cl.ro)), "RING INFO ro_vnodes")
    k = cl.ro_keys[0]
    eq(c.call("RING", "NODE", k), [cl.vnode[k], cl.pnode[k].encode(), b"ro"],
       "RING NODE of a key on an ro vnode")
    k = cl.other_keys[0]
    eq(c.call("RING", "NODE", k), [cl.vnode[k], cl.pnode[k].encode(), b"moving"],
       "RING NODE of a key on a vnode with data")
    k = cl.rw_keys[0]
    eq(c.call("RING", "NODE", k), [cl.vnode[k], cl.pnode[k].encode(), None],
       "RING NODE of a key on a plain vnode")
    c.close()


def test_pipelined_writes_mixing_ro_and_rw_keep_order():
    cl = cluster()
    c = cl.raw()
    reqs, want = [], []
    for i in range(50):
        k = (cl.ro_keys if i % 3 == 0 else cl.rw_keys)[i % 10]
        reqs.append(("SET", k, "p%d" % i))
        want.append(Err("READONLY vnode %d is read-only (resharding)" % cl.vnode[k])
                    if i % 3 == 0 else Status("OK"))
    c.send(encode_all(reqs))
    got = c.replies(len(reqs))
    for i, (g, w) in enumerate(zip(got, want)):
        eq(g, w, "reply %d" % i)
        eq(type(g), type(w), "reply type %d" % i)
    c.close()


run(globals())
