"""Key routing options: with `hash-tags yes` only the part inside the first
{...} is hashed (when non-empty); with `dirname-routing yes` only the part
before the last '/'. Keys sharing a tag or directory land on one pnode, the
one ring-tool names for the tag or directory."""

import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from proxytest import (Cluster, Status, check, eq, get_nodes, lazy, run)  # noqa: E402

tags = lazy(lambda: Cluster(n=3, vnodes=1024, config={"hash-tags": "yes"}))
dirs = lazy(lambda: Cluster(n=3, vnodes=1024, config={"dirname-routing": "yes"}))
plain = lazy(lambda: Cluster(n=3, vnodes=1024))


def where(cl, key):
    """The pnodes that hold key, asked directly."""
    out = []
    for s in cl.servers:
        c = s.client()
        if c.exists(key):
            out.append(s.pnode)
        c.close()
    return out


def check_routes(cl, key_to_hashed):
    """Writes each key through the proxy and checks it sits on the pnode of
    the string that should have been hashed."""
    c = cl.client()
    pipe = c.pipeline(transaction=False)
    for k in key_to_hashed:
        pipe.set(k, "v:" + k)
    eq(pipe.execute(), [True] * len(key_to_hashed), "SET replies")
    nodes = get_nodes(cl.ring, sorted(set(key_to_hashed.values())))
    for k, h in key_to_hashed.items():
        eq(where(cl, k), [nodes[h]["pnode"]], "pnodes holding %r (hashed as %r)" % (k, h))
        eq(c.get(k), ("v:" + k).encode(), "GET %r" % k)
    c.close()


def test_keys_sharing_a_tag_land_on_the_tags_pnode():
    cl = tags()
    m = {}
    for t in range(12):
        for i in range(5):
            m["user:{u%d}:item%d" % (t, i)] = "u%d" % t
            m["{u%d}.%d" % (t, i)] = "u%d" % t
    check_routes(cl, m)
    # The 12 tags together cover more than one pnode.
    pn = {o["pnode"] for o in get_nodes(cl.ring, ["u%d" % t for t in range(12)]).values()}
    check(len(pn) > 1, "all tags on one pnode; the test would not notice whole-key hashing")


def test_tag_edge_cases():
    cl = tags()
    check_routes(cl, {
        "a{b}c{d}e": "b",            # only the first {...}
        "{}empty": "{}empty",        # an empty tag: the whole key
        "x{}y{z}": "x{}y{z}",        # the first {...} is empty: whole key
        "open{only": "open{only",    # no closing brace: the whole key
        "close}{first": "close}{first",
        "{{nested}}": "{nested",     # from the first '{' to the first '}'
        "no-tag-at-all": "no-tag-at-all",
    })


def test_multikey_with_one_tag_goes_to_one_pnode():
    cl = tags()
    c = cl.client()
    keys = ["{grp}:%d" % i for i in range(30)]
    eq(c.mset({k: k for k in keys}), True, "MSET")
    eq(c.mget(keys), [k.encode() for k in keys], "MGET")
    pn = get_nodes(cl.ring, ["grp"])["grp"]["pnode"]
    for k in keys:
        eq(where(cl, k), [pn], "pnodes holding %r" % k)
    eq(c.delete(*keys), 30, "DEL")
    c.close()


def test_ring_node_uses_the_routing_rule():
    cl = tags()
    c = cl.raw()
    o = get_nodes(cl.ring, ["u3"])["u3"]
    r = c.call("RING", "NODE", "user:{u3}:x")
    eq(r[:2], [o["vnode"], o["pnode"].encode()], "RING NODE of a tagged key")
    c.close()


def test_tags_are_ignored_when_off():
    cl = plain()
    check_routes(cl, {k: k for k in ["{u%d}:plain%d" % (t, t) for t in range(40)]})


def test_keys_sharing_a_directory_land_on_its_pnode():
    cl = dirs()
    m = {}
    for d in range(12):
        for i in range(5):
            m["/acct%d/stor/dir/obj%d" % (d, i)] = "/acct%d/stor/dir" % d
    check_routes(cl, m)
    pn = {o["pnode"] for o in get_nodes(cl.ring, sorted(set(m.values()))).values()}
    check(len(pn) > 1, "all directories on one pnode; the test would not notice")


def test_dirname_edge_cases():
    cl = dirs()
    check_routes(cl, {
        "a/b/c/d": "a/b/c",          # only the last '/' counts
        "dir/": "dir/",              # a trailing '/': no directory, the whole key
        "no-slash": "no-slash",      # no '/': the whole key
        "x//y": "x/",
    })


def test_dirname_routing_is_ignored_when_off():
    cl = plain()
    check_routes(cl, {k: k for k in ["/p%d/obj%d" % (i, i) for i in range(40)]})


def test_multikey_within_one_directory():
    cl = dirs()
    c = cl.raw()
    keys = ["/one/dir/o%d" % i for i in range(20)]
    eq(c.call("MSET", *[x for k in keys for x in (k, "x")]), Status("OK"), "MSET")
    pn = get_nodes(cl.ring, ["/one/dir"])["/one/dir"]["pnode"]
    for k in keys:
        eq(where(cl, k), [pn], "pnodes holding %r" % k)
    c.close()


run(globals())
