"""RING INFO and RING NODE answer what ring-tool says about the same ring."""

import os
import re
import sys

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from proxytest import (Cluster, Err, Proxy, RedisServer, Status, check,  # noqa: E402
                       eq, get_nodes, lazy, make_ring, ring_info, ring_tool,
                       run, set_data)

cluster = lazy(lambda: Cluster(n=3, vnodes=2048, algo="sha256"))


def generation(ringdir):
    m = re.search(r"^generation\s+(\d+)\s*$", ring_tool("print-hash", "-l", ringdir), re.M)
    check(m, "ring-tool print-hash shows no generation")
    return int(m.group(1))


def test_ring_info_fields():
    cl = cluster()
    c = cl.raw()
    info = ring_info(c.call("RING", "INFO"))
    for k in ("generation", "algorithm", "vnodes", "pnodes", "ro_vnodes"):
        check(k in info, "RING INFO lacks %s: %r" % (k, info))
    eq(info["algorithm"], "sha256", "algorithm")
    eq(info["vnodes"], "2048", "vnodes")
    eq(info["pnodes"], "3", "pnodes")
    eq(info["ro_vnodes"], "0", "ro_vnodes")
    eq(info["generation"], str(generation(cl.ring)), "generation (ring-tool print-hash)")
    c.close()


def test_ring_info_after_changes():
    servers = [RedisServer(), RedisServer()]
    ring = make_ring(servers, vnodes=100)
    set_data(ring, [1, 2, 3, 50], "ro")
    set_data(ring, [7], "other")
    p = Proxy(ring)
    c = p.raw()
    info = ring_info(c.call("ring", "info"))
    eq(info.get("algorithm"), "xxh3", "algorithm of a default ring")
    eq(info.get("vnodes"), "100", "vnodes")
    eq(info.get("pnodes"), "2", "pnodes")
    eq(info.get("ro_vnodes"), "4", "ro_vnodes")
    gen = generation(ring)
    check(gen >= 3, "generation after two edits is %d" % gen)
    eq(info.get("generation"), str(gen), "generation")
    c.close()
    p.stop()


def test_ring_node_agrees_with_ring_tool():
    cl = cluster()
    keys = ["rn:%d" % i for i in range(400)] + ["with space", "\u00fcml\u00e4ut", "a/b/c", "{tag}x"]
    nodes = get_nodes(cl.ring, keys)
    c = cl.raw()
    for k in keys:
        o = nodes[k]
        want = [o["vnode"], o["pnode"].encode(),
                None if o["data"] is None else o["data"].encode()]
        eq(c.call("RING", "NODE", k), want, "RING NODE %r" % k)
    c.close()


def test_ring_node_does_not_touch_the_pnodes():
    cl = cluster()
    c = cl.raw()
    c.call("RING", "NODE", "rnt:key")
    eq(c.call("EXISTS", "rnt:key"), 0, "RING NODE created the key")
    c.close()


def test_ring_bad_usage_is_an_error_and_connection_stays():
    c = cluster().raw()
    for args in (("RING",), ("RING", "NOSUCH"), ("RING", "NODE"), ("RING", "NODE", "a", "b")):
        r = c.call(*args)
        check(isinstance(r, Err) and r.startswith("ERR"), "%r: expected an error, got %r" % (args, r))
    eq(c.call("PING"), Status("PONG"), "PING after bad RING usage")
    c.close()


run(globals())
