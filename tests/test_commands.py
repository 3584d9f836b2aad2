"""The key-value command families go through ringproxy to the key's pnode
with Redis's replies: strings, hashes, lists, sets, sorted sets, TTLs and
types, bitmaps, HyperLogLog, and EVAL/EVALSHA on one vnode."""

import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from proxytest import (Cluster, Err, Status, check, eq, get_nodes,  # noqa: E402
                       lazy, run)

cluster = lazy(lambda: Cluster(n=3, vnodes=1024, config={"hash-tags": "yes"}))


def on_its_pnode(cl, key):
    """A direct client to the pnode that owns key, after checking no other
    pnode has it."""
    owner = cl.server_for(key)
    for s in cl.servers:
        if s is not owner:
            c = s.client()
            eq(c.exists(key), 0, "%r on %s, not its pnode" % (key, s.pnode))
            c.close()
    return owner.client()


def test_strings():
    cl = cluster()
    c = cl.raw()
    eq(c.call("SET", "str:a", "hello"), Status("OK"), "SET")
    eq(c.call("APPEND", "str:a", " world"), 11, "APPEND")
    eq(c.call("GETRANGE", "str:a", 0, 4), b"hello", "GETRANGE")
    eq(c.call("SETRANGE", "str:a", 0, "J"), 11, "SETRANGE")
    eq(c.call("GETSET", "str:a", "new"), b"Jello world", "GETSET")
    eq(c.call("SETNX", "str:a", "x"), 0, "SETNX on an existing key")
    eq(c.call("SET", "str:a", "y", "NX"), None, "SET NX on an existing key")
    eq(c.call("SET", "str:f", "1.5"), Status("OK"), "SET")
    eq(c.call("INCRBYFLOAT", "str:f", "1"), b"2.5", "INCRBYFLOAT")
    eq(c.call("DECRBY", "str:n", 5), -5, "DECRBY")
    eq(c.call("GETDEL", "str:n"), b"-5", "GETDEL")
    r = c.call("INCR", "str:a")
    check(isinstance(r, Err) and "not an integer" in r, "INCR of a non-integer: %r" % (r,))
    d = on_its_pnode(cl, "str:a")
    eq(d.get("str:a"), b"new", "str:a on its pnode")
    c.close()


def test_hashes():
    cl = cluster()
    c = cl.raw()
    eq(c.call("HSET", "hash:a", "f1", "v1", "f2", "v2"), 2, "HSET")
    eq(c.call("HGET", "hash:a", "f1"), b"v1", "HGET")
    eq(c.call("HMGET", "hash:a", "f2", "nope"), [b"v2", None], "HMGET")
    eq(sorted(c.call("HGETALL", "hash:a")), [b"f1", b"f2", b"v1", b"v2"], "HGETALL")
    eq(c.call("HINCRBY", "hash:a", "n", 3), 3, "HINCRBY")
    eq(c.call("HLEN", "hash:a"), 3, "HLEN")
    eq(c.call("HDEL", "hash:a", "f1"), 1, "HDEL")
    eq(c.call("HEXISTS", "hash:a", "f1"), 0, "HEXISTS")
    eq(on_its_pnode(cl, "hash:a").hget("hash:a", "f2"), b"v2", "hash:a on its pnode")
    c.close()


def test_lists():
    cl = cluster()
    c = cl.raw()
    eq(c.call("RPUSH", "list:a", "a", "b", "c"), 3, "RPUSH")
    eq(c.call("LPUSH", "list:a", "z"), 4, "LPUSH")
    eq(c.call("LRANGE", "list:a", 0, -1), [b"z", b"a", b"b", b"c"], "LRANGE")
    eq(c.call("LPOP", "list:a"), b"z", "LPOP")
    eq(c.call("RPOP", "list:a"), b"c", "RPOP")
    eq(c.call("LINDEX", "list:a", 1), b"b", "LINDEX")
    eq(c.call("LLEN", "list:a"), 2, "LLEN")
    eq(on_its_pnode(cl, "list:a").lrange("list:a", 0, -1), [b"a", b"b"], "list:a on its pnode")
    c.close()


def test_sets_and_sorted_sets():
    cl = cluster()
    c = cl.raw()
    eq(c.call("SADD", "set:a", "x", "y", "z", "x"), 3, "SADD")
    eq(c.call("SISMEMBER", "set:a", "y"), 1, "SISMEMBER")
    eq(sorted(c.call("SMEMBERS", "set:a")), [b"x", b"y", b"z"], "SMEMBERS")
    eq(c.call("SREM", "set:a", "x"), 1, "SREM")
    eq(c.call("SCARD", "set:a"), 2, "SCARD")
    eq(c.call("ZADD", "zset:a", 1, "one", 2, "two", 3, "three"), 3, "ZADD")
    eq(c.call("ZRANGE", "zset:a", 0, -1, "WITHSCORES"),
       [b"one", b"1", b"two", b"2", b"three", b"3"], "ZRANGE WITHSCORES")
    eq(c.call("ZINCRBY", "zset:a", 5, "one"), b"6", "ZINCRBY")
    eq(c.call("ZRANK", "zset:a", "one"), 2, "ZRANK")
    eq(c.call("ZRANGEBYSCORE", "zset:a", 2, 3), [b"two", b"three"], "ZRANGEBYSCORE")
    eq(c.call("ZCARD", "zset:a"), 3, "ZCARD")
    eq(on_its_pnode(cl, "zset:a").zscore("zset:a", "one"), 6.0, "zset:a on its pnode")
    c.close()


def test_ttls_and_types():
    cl = cluster()
    c = cl.raw()
    c.call("SET", "ttl:a", "v")
    eq(c.call("TTL", "ttl:a"), -1, "TTL without expiry")
    eq(c.call("EXPIRE", "ttl:a", 100), 1, "EXPIRE")
    t = c.call("TTL", "ttl:a")
    check(isinstance(t, int) and 90 <= t <= 100, "TTL after EXPIRE 100: %r" % (t,))
    eq(c.call("PERSIST", "ttl:a"), 1, "PERSIST")
    eq(c.call("PEXPIRE", "ttl:a", 100000), 1, "PEXPIRE")
    t = c.call("PTTL", "ttl:a")
    check(isinstance(t, int) and 90000 <= t <= 100000, "PTTL: %r" % (t,))
    eq(c.call("TTL", "ttl:none"), -2, "TTL of a missing key")
    eq(c.call("TYPE", "ttl:a"), Status("string"), "TYPE string")
    c.call("LPUSH", "ttl:l", "x")
    eq(c.call("TYPE", "ttl:l"), Status("list"), "TYPE list")
    eq(c.call("TYPE", "ttl:none"), Status("none"), "TYPE none")
    d = on_its_pnode(cl, "ttl:a")
    check(d.pttl("ttl:a") > 0, "ttl:a has its expiry on its pnode")
    c.close()


def test_bitmaps_and_hyperloglog():
    cl = cluster()
    c = cl.raw()
    eq(c.call("SETBIT", "bit:a", 7, 1), 0, "SETBIT")
    eq(c.call("SETBIT", "bit:a", 100, 1), 0, "SETBIT")
    eq(c.call("GETBIT", "bit:a", 7), 1, "GETBIT")
    eq(c.call("BITCOUNT", "bit:a"), 2, "BITCOUNT")
    eq(c.call("BITPOS", "bit:a", 1), 7, "BITPOS")
    eq(c.call("PFADD", "hll:a", "a", "b", "c"), 1, "PFADD")
    eq(c.call("PFCOUNT", "hll:a"), 3, "PFCOUNT")
    eq(on_its_pnode(cl, "bit:a").getbit("bit:a", 100), 1, "bit:a on its pnode")
    c.close()


def test_eval_and_evalsha_on_one_key():
    cl = cluster()
    c = cl.raw()
    script = "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[1])"
    eq(c.call("EVAL", script, 1, "lua:a", "from-lua"), b"from-lua", "EVAL")
    eq(on_its_pnode(cl, "lua:a").get("lua:a"), b"from-lua", "lua:a on its pnode")
    sha = __import__("hashlib").sha1(script.encode()).hexdigest()
    # EVAL loaded the script on lua:a's pnode, so EVALSHA on it works.
    eq(c.call("EVALSHA", sha, 1, "lua:a", "again"), b"again", "EVALSHA")
    c.close()


def test_eval_with_keys_on_one_vnode_via_hash_tags():
    cl = cluster()
    c = cl.raw()
    script = "redis.call('SET', KEYS[1], ARGV[1]); redis.call('SET', KEYS[2], ARGV[1]); return 2"
    eq(c.call("EVAL", script, 2, "{lua}:1", "{lua}:2", "t"), 2, "EVAL over one tag")
    # With hash tags on, the tag "lua" is what is hashed.
    d = cl.server_for("lua").client()
    eq(d.mget(["{lua}:1", "{lua}:2"]), [b"t", b"t"], "both keys on the tag's pnode")
    d.close()
    c.close()


def test_eval_with_keys_on_different_vnodes_is_refused():
    cl = cluster()
    c = cl.raw()
    nodes = get_nodes(cl.ring, ["lx:%d" % i for i in range(50)])
    first = nodes["lx:0"]["vnode"]
    keys = ["lx:0", next(k for k, o in nodes.items() if o["vnode"] != first)]
    r = c.call("EVAL", "return redis.call('SET', KEYS[1], '1')", 2, *keys)
    check(isinstance(r, Err), "EVAL over two vnodes: expected an error, got %r" % (r,))
    eq(c.call("EXISTS", keys[0]), 0, "EVAL over two vnodes ran anyway")
    eq(c.call("PING"), Status("PONG"), "connection usable")
    c.close()


def test_sort_store_and_patterns():
    """SORT's STORE destination is a key: on the source's vnode it is
    written there, elsewhere the request is refused; BY/GET patterns read
    keys the proxy cannot route."""
    cl = cluster()
    c = cl.raw()
    c.call("RPUSH", "{srt}:src", 3, 1, 2)
    eq(c.call("SORT", "{srt}:src", "STORE", "{srt}:dst"), 3, "SORT STORE on one vnode")
    eq(cl.server_for("srt").client().lrange("{srt}:dst", 0, -1), [b"1", b"2", b"3"],
       "the destination is on the tag's pnode")
    nodes = get_nodes(cl.ring, ["srt:%d" % i for i in range(50)])
    src = nodes.pop("srt:0")
    other = next(k for k, o in nodes.items() if o["vnode"] != src["vnode"])
    c.call("RPUSH", "srt:0", 2, 1)
    r = c.call("SORT", "srt:0", "LIMIT", 0, 1, "store", other)
    check(isinstance(r, Err) and str(r).startswith("CROSSSLOT "), "SORT STORE across vnodes: %r" % (r,))
    for s in cl.servers:
        eq(s.client().exists(other), 0, "refused SORT STORE wrote %s on %s" % (other, s.pnode))
    eq(c.call("SORT", "srt:0", "BY", "nosort", "GET", "#"), [b"2", b"1"], "BY nosort, GET #")
    for opt in (("BY", "w_*"), ("GET", "o_*")):
        r = c.call("SORT_RO", "srt:0", *opt)
        check(isinstance(r, Err) and "not supported" in str(r), "SORT %s pattern: %r" % (opt[0], r))
    eq(c.call("PING"), Status("PONG"), "connection usable")
    c.close()


def test_big_and_nested_replies_from_pnodes():
    cl = cluster()
    c = cl.raw()
    items = ["item%d" % i for i in range(50000)]
    for i in range(0, len(items), 5000):
        c.call("RPUSH", "nest:list", *items[i:i + 5000])
    got = c.call("LRANGE", "nest:list", 0, -1)
    eq(len(got), len(items), "LRANGE length")
    check(got == [x.encode() for x in items], "LRANGE content differs")
    nested = "return {1, {2, {3, 'x', {}}}, 'y', redis.call('LLEN', KEYS[1])}"
    eq(c.call("EVAL", nested, 1, "nest:list"), [1, [2, [3, b"x", []]], b"y", 50000],
       "a nested array reply")
    r = c.call("EVAL", "return redis.error_reply('MYERR custom')", 1, "nest:k")
    eq(r, Err("MYERR custom"), "an error reply from a script")
    eq(c.call("EVAL", "return redis.status_reply('FINE')", 1, "nest:k"), Status("FINE"),
       "a status reply from a script")
    c.close()


def test_scans_inside_one_key():
    cl = cluster()
    c = cl.raw()
    c.call("HSET", "scan:h", *[x for i in range(300) for x in ("f%d" % i, i)])
    c.call("SADD", "scan:s", *["m%d" % i for i in range(300)])
    for cmd, key, per in (("HSCAN", "scan:h", 2), ("SSCAN", "scan:s", 1)):
        cursor, seen = b"0", set()
        for _ in range(1000):
            cursor, items = c.call(cmd, key, cursor, "COUNT", 50)
            seen.update(items[::per])
            if cursor == b"0":
                break
        eq(len(seen), 300, "%s saw every element" % cmd)
    c.close()


run(globals())
