"""Every key written through ringproxy lands on exactly the pnode that
ring-tool get-node names for it (asked of each redis-server directly), with
two and three pnodes and each hash algorithm."""

import hashlib
import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from proxytest import (Cluster, Status, check, eq, get_nodes, lazy,  # noqa: E402
                       make_ring, run)

NKEYS = 3000


def keyset(tag):
    keys = ["%s:%d" % (tag, i) for i in range(NKEYS - 4)]
    # Keys whose bytes are not plain identifiers still route by their bytes.
    keys += ["%s with spaces" % tag, "%s:\u00e9t\u00e9" % tag,
             "%s:x/y/z" % tag, "%s:{brace}" % tag]
    return keys


def write_and_verify(cl, tag):
    keys = keyset(tag)
    c = cl.client()
    pipe = c.pipeline(transaction=False)
    for i, k in enumerate(keys):
        pipe.set(k, "v%d-%s" % (i, k))
    res = pipe.execute()
    eq(res, [True] * len(keys), "SET replies")
    expected = {k: ("v%d-%s" % (i, k)).encode() for i, k in enumerate(keys)}
    cl.assert_placement(expected)
    # Reading back through the proxy gives the same values, in order.
    got = []
    for i in range(0, len(keys), 500):
        pipe = c.pipeline(transaction=False)
        for k in keys[i:i + 500]:
            pipe.get(k)
        got += pipe.execute()
    eq(got, [expected[k] for k in keys], "GET through the proxy")
    # Every pnode got a share (a ring that sent everything to one pnode
    # would pass the placement check with a buggy ring-tool too).
    nodes = get_nodes(cl.ring, keys)
    for s in cl.servers:
        n = sum(1 for o in nodes.values() if o["pnode"] == s.pnode)
        check(n > len(keys) // (4 * len(cl.servers)),
              "pnode %s holds only %d of %d keys" % (s.pnode, n, len(keys)))
        eq(s.client().dbsize(), n, "DBSIZE of %s" % s.pnode)
    c.close()


two = lazy(lambda: Cluster(n=2, vnodes=1024))
three = lazy(lambda: Cluster(n=3, vnodes=4096, algo="sha256"))


def test_two_pnodes_xxh3():
    write_and_verify(two(), "two")


def test_three_pnodes_sha256():
    write_and_verify(three(), "three")


def test_sha256_vnodes_match_an_independent_computation():
    # ring-tool and ringproxy share the ring library; check its sha256
    # answer against ring-image.md's formula computed here, so a shared bug
    # cannot hide behind their agreement.
    pnodes = ["tcp://127.0.0.1:%d" % p for p in (7003, 7001, 7002)]
    ring = make_ring(pnodes, vnodes=4096, algo="sha256")
    keys = keyset("three")[:500]
    nodes = get_nodes(ring, keys)
    interval = (2 ** 256 - 1) // 4096
    pnodes.sort()
    for k in keys:
        h = int.from_bytes(hashlib.sha256(k.encode()).digest(), "big")
        v = min(h // interval, 4095)
        eq(nodes[k]["vnode"], v, "vnode of %r" % k)
        eq(nodes[k]["pnode"], pnodes[v % 3], "pnode of %r" % k)


def test_other_algorithms():
    for algo in ("sha1", "md5"):
        cl = Cluster(n=2, vnodes=512, algo=algo)
        c = cl.client()
        keys = ["%s:%d" % (algo, i) for i in range(600)]
        pipe = c.pipeline(transaction=False)
        for k in keys:
            pipe.set(k, k)
        pipe.execute()
        cl.assert_placement({k: k.encode() for k in keys})
        c.close()
        cl.proxy.stop()


def test_overwrites_and_deletes_stay_on_one_pnode():
    cl = two()
    c = cl.client()
    keys = ["ow:%d" % i for i in range(300)]
    for rnd in range(3):
        pipe = c.pipeline(transaction=False)
        for k in keys:
            pipe.set(k, "%s-%d" % (k, rnd))
        pipe.execute()
    pipe = c.pipeline(transaction=False)
    for k in keys[:100]:
        pipe.delete(k)
    eq(pipe.execute(), [1] * 100, "DEL replies")
    exp = {k: None for k in keys[:100]}
    exp.update({k: ("%s-2" % k).encode() for k in keys[100:]})
    cl.assert_placement(exp)
    c.close()


def test_keys_with_odd_bytes_route_by_their_bytes():
    cl = two()
    c = cl.client()
    keys = ["", " ", "crlf\r\nin key", "tab\there", "*3\r\n$3", "k" * 10000,
            "\u65e5\u672c\u8a9e", "quote\"s", "-dash"]
    for k in keys:
        eq(c.set(k, "odd:" + k), True, "SET %r" % k[:40])
    cl.assert_placement({k: ("odd:" + k).encode() for k in keys})
    c.close()


# With dirname-routing, the string electric-moray's "manta" bucket hashes
# for each key (lib/schema/manta.js: the key itself for /<uuid>/stor, else
# Node's path.posix.dirname, the key when that is "."). Written out by hand
# from Node's rules and checked against node 18 when the table was made.
UUID = "a3829ca2-0966-60ce-9dc3-e4e9060f0950"
ELECTRIC_MORAY = {
    "/%s/stor" % UUID: "/%s/stor" % UUID,        # the account root: whole
    "/%s/stor/" % UUID: "/%s" % UUID,            # not the root shape
    "/%s/stor" % UUID.upper(): "/%s" % UUID.upper(),  # upper case: not the root
    "/%s/stor/mydir/myobj1" % UUID: "/%s/stor/mydir" % UUID,
    "/%s/stor/mydir/myobj2" % UUID: "/%s/stor/mydir" % UUID,
    "/%s/public" % UUID: "/%s" % UUID,
    "/a": "/",                                   # under the root
    "/": "/",
    "a/b/": "a",                                 # trailing '/' is no separator
    "a/": "a/",                                  # dirname ".": the whole key
    "a//": "a//",
    "a": "a",
    "": "",
    "./x": "./x",                                # dirname "." again
    "../x": "..",
    ".": ".",
    "//": "/",
    "//a": "//",                                 # Node keeps a double root
    "///a": "//",
    "x//y": "x/",
    "a/b/c/d": "a/b/c",
    "/a/b//": "/a",
    "/a//b": "/a/",
    "/x/.": "/x",
    "/\u00e9t\u00e9/obj": "/\u00e9t\u00e9",
}

em = lazy(lambda: Cluster(n=3, vnodes=1024, algo="sha256",
                          config={"dirname-routing": "yes"}))


def test_dirname_routing_matches_electric_moray():
    cl = em()
    ring_pnodes = sorted(s.pnode for s in cl.servers)
    interval = (2 ** 256 - 1) // 1024
    c = cl.raw()
    for key, hashed in ELECTRIC_MORAY.items():
        h = int.from_bytes(hashlib.sha256(hashed.encode()).digest(), "big")
        v = min(h // interval, 1023)
        eq(c.call("RING", "NODE", key)[0], v, "vnode of %r (hashed as %r)" % (key, hashed))
        eq(c.call("SET", key, "em:" + key), Status("OK"), "SET %r" % key)
        holders = [s.pnode for s in cl.servers if s.client().exists(key)]
        eq(holders, [ring_pnodes[v % 3]], "pnodes holding %r" % key)
    c.close()


run(globals())
