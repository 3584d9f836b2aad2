"""Scripts and functions through the proxy, compared with a redis-server:
SCRIPT LOAD/EXISTS/FLUSH/KILL and FUNCTION LOAD/LIST/DUMP/RESTORE/DELETE/
FLUSH/STATS on every pnode, EVAL/EVALSHA/FCALL routed by their keys,
keyless ones on the ring's first pnode, and redis-py's register_script()
and lock()."""

import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from proxytest import (Cluster, Err, RawClient, RedisServer, Status, check, eq,  # noqa: E402
                       get_nodes, lazy, run)

LIB = "#!lua name=ks\nredis.register_function('kget', function(keys, args) " \
      "return redis.call('GET', keys[1]) end)\n" \
      "redis.register_function{function_name='kro', callback=function(keys, args) " \
      "return #keys end, flags={'no-writes'}}\n" \
      "redis.register_function('kset', function(keys, args) " \
      "return redis.call('SET', 'kl:' .. args[1], args[1]) end)\n"


def setup():
    cl = Cluster(n=3, vnodes=1024, config={"hash-tags": "yes"})
    cl.direct = RedisServer()
    return cl


cluster = lazy(setup)


def both(cl, *cmd):
    p, d = cl.raw(), RawClient(cl.direct.port)
    got, want = p.call(*cmd), d.call(*cmd)
    p.close()
    d.close()
    eq(got, want, "reply to %r" % (cmd,))
    return got


def canon(v):
    """A reply with the order of every array's elements ignored."""
    if isinstance(v, list):
        return sorted((canon(x) for x in v), key=repr)
    return v


def both_unordered(cl, *cmd):
    p, d = cl.raw(), RawClient(cl.direct.port)
    got, want = p.call(*cmd), d.call(*cmd)
    eq(canon(got), canon(want), "reply to %r (in any order)" % (cmd,))
    return got


def first_pnode(cl):
    """The server of the ring's first pnode (INFO's pnode0)."""
    info = cl.client().info("pnodes")
    name = info["pnode0"]["name"]
    return next(s for s in cl.servers if s.pnode == name)


def test_script_load_exists_flush_on_every_pnode():
    cl = cluster()
    sha = both(cl, "SCRIPT", "LOAD", "return redis.call('GET', KEYS[1])")
    for s in cl.servers:
        eq(s.client().script_exists(sha.decode()), [True], "script on %s" % s.pnode)
    both(cl, "SCRIPT", "EXISTS", sha, "0" * 40)
    both(cl, "SET", "{a}k", "v")
    both(cl, "EVALSHA", sha, "1", "{a}k")
    both(cl, "EVALSHA", "f" * 40, "1", "{a}k")              # NOSCRIPT passed through
    both(cl, "EVALSHA_RO", sha, "1", "{a}k")
    both(cl, "EVAL_RO", "return redis.call('GET', KEYS[1])", "1", "{a}k")
    # Present on one pnode only: it does not exist for the proxy.
    one = cl.servers[0].client().script_load("return 42")
    eq(cl.raw().call("SCRIPT", "EXISTS", one, sha), [0, 1], "SCRIPT EXISTS is an AND")
    both(cl, "SCRIPT", "FLUSH", "ASYNC")
    for s in cl.servers:
        eq(s.client().script_exists(sha.decode()), [False], "flushed on %s" % s.pnode)
    both(cl, "SCRIPT", "KILL")                              # NOTBUSY
    both(cl, "SCRIPT", "FLUSH", "BOGUS")
    both(cl, "SCRIPT", "LOAD", "return +")                  # compile error


def test_a_pnode_without_the_script_runs_it():
    """A pnode that lost the scripts (restarted, or new in the ring) runs
    an EVALSHA of a script loaded through the proxy; SCRIPT FLUSH through
    the proxy forgets them, and NOSCRIPT comes back as from Redis."""
    cl = cluster()
    body = "return redis.call('INCR', KEYS[1])"
    sha = both(cl, "SCRIPT", "LOAD", body)
    per = cl.pnode_keys("sk:", 1)
    for s in cl.servers:
        s.client().script_flush()
    p = cl.raw()
    for s in cl.servers:
        key = per[s.pnode][0]
        eq(p.call("EVALSHA", sha, "1", key), 1, "EVALSHA on %s after its flush" % s.pnode)
        eq(p.call("EVALSHA_RO", sha.upper(), "1", key),
           RawClient(cl.direct.port).call("EVALSHA_RO", sha, "1", key),
           "EVALSHA_RO of a write script on %s" % s.pnode)
        eq(s.client().script_exists(sha.decode()), [True], "%s has the script again" % s.pnode)
    both(cl, "SCRIPT", "FLUSH")
    for s in cl.servers:
        s.client().script_load(body)      # the pnodes have it, the proxy forgot it
        s.client().script_flush()
        key = per[s.pnode][0]
        both(cl, "EVALSHA", sha, "1", key)     # NOSCRIPT from the pnode, as from Redis
    p.close()


def test_eval_routes_by_keys_and_keyless_runs_on_the_first_pnode():
    cl = cluster()
    both(cl, "EVAL", "return redis.call('SET', KEYS[1], ARGV[1])", "1", "e:x", "7")
    eq(cl.server_for("e:x").client().get("e:x"), b"7", "EVAL ran on the key's pnode")
    both(cl, "EVAL", "return redis.call('SET', 'kl:eval', '1')", "0")
    eq(first_pnode(cl).client().get("kl:eval"), b"1", "keyless EVAL on the first pnode")
    both(cl, "EVAL", "return 1", "-1")
    both(cl, "EVAL", "return 1", "5", "a")
    nodes = get_nodes(cl.ring, ["e:%d" % i for i in range(40)])
    a = "e:0"
    b = next(k for k in nodes if nodes[k]["vnode"] != nodes[a]["vnode"])
    eq(cl.raw().call("EVAL", "return redis.call('SET', KEYS[1], 1)", "2", a, b),
       Err("CROSSSLOT Keys in request don't hash to the same vnode"), "EVAL across vnodes")
    check(cl.client().exists(a, b) == 0, "nothing of the EVAL applied")


def test_functions_on_every_pnode():
    cl = cluster()
    both(cl, "FUNCTION", "FLUSH")
    both(cl, "FUNCTION", "LOAD", LIB)
    both(cl, "FUNCTION", "LOAD", LIB)                      # already exists
    both(cl, "FUNCTION", "LOAD", "REPLACE", LIB)
    for s in cl.servers:
        eq(len(s.client().function_list()), 1, "library on %s" % s.pnode)
    both_unordered(cl, "FUNCTION", "LIST")
    both_unordered(cl, "FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "ks")
    both_unordered(cl, "FUNCTION", "STATS")
    # A pnode with other libraries: the proxy says the pnodes disagree.
    cl.servers[1].client().function_load("#!lua name=extra\n"
                                         "redis.register_function('x', function() return 1 end)")
    r = cl.raw().call("FUNCTION", "LIST")
    check(isinstance(r, Err) and "differ" in r, "FUNCTION LIST when pnodes differ: %r" % (r,))
    cl.servers[1].client().function_delete("extra")
    both(cl, "SET", "{f}k", "fv")
    both(cl, "FCALL", "kget", "1", "{f}k")
    both(cl, "FCALL_RO", "kro", "2", "{f}k", "{f}j")
    both(cl, "FCALL_RO", "kget", "1", "{f}k")              # not a read-only function
    both(cl, "FCALL", "kset", "0", "fn")
    eq(first_pnode(cl).client().get("kl:fn"), b"fn", "keyless FCALL on the first pnode")
    both(cl, "FCALL", "nosuch", "0")
    dump = cl.raw().call("FUNCTION", "DUMP")
    check(isinstance(dump, bytes), "FUNCTION DUMP: %r" % (dump,))
    both(cl, "FUNCTION", "DELETE", "ks")
    both(cl, "FUNCTION", "DELETE", "ks")                   # Library not found
    both(cl, "FUNCTION", "RESTORE", dump)
    for s in cl.servers:
        eq(len(s.client().function_list()), 1, "restored on %s" % s.pnode)
    both(cl, "FUNCTION", "KILL")
    both(cl, "FUNCTION", "FLUSH", "SYNC")


def test_redis_py_register_script_and_lock():
    cl = cluster()
    for c in (cl.client(), cl.direct.client()):
        c.script_flush()
        incr = c.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
        eq(incr(keys=["{r}n"], args=[5]), 5, "registered script")
        eq(incr(keys=["{r}n"], args=[2]), 7, "registered script again (EVALSHA)")
        lock = c.lock("{r}lock", timeout=5)
        check(lock.acquire(blocking=False), "lock acquired")
        check(not c.lock("{r}lock", timeout=5).acquire(blocking=False), "lock is held")
        lock.extend(5)
        lock.release()
        eq(c.exists("{r}lock"), 0, "lock released")
        check(c.lock("{r}lock", timeout=5).acquire(blocking=False), "lock free again")
        c.delete("{r}lock", "{r}n")


if __name__ == "__main__":
    run(globals())
