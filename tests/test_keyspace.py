"""Keyspace-wide commands over 3 pnodes, each compared with one
redis-server holding the same data: SCAN (every key exactly once, MATCH,
COUNT, TYPE), KEYS, DBSIZE, RANDOMKEY, FLUSHALL/FLUSHDB on every pnode,
WAIT, disable-commands, and redis-cli --scan/--bigkeys/--stat."""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from proxytest import (HOST, RINGPROXY, Cluster, Err, RawClient, RedisServer,  # noqa: E402
                       Status, assert_err, check, eq, kill, lazy, run, run_cmd, write_config)

NKEYS = 300


def fill(c):
    """The same data set on the proxy and on the direct server."""
    p = c.pipeline(transaction=False)
    for i in range(NKEYS):
        if i % 3 == 0:
            p.hset("ks:h:%d" % i, mapping={"f": "v", "g": str(i)})
        elif i % 3 == 1:
            p.rpush("ks:l:%d" % i, *range(i % 7 + 1))
        else:
            p.set("ks:s:%d" % i, "x" * (i % 50 + 1))
    p.set("ks:biggest", "y" * 5000)
    p.execute()


def setup():
    cl = Cluster(n=3, vnodes=1024)
    cl.direct = RedisServer()
    fill(cl.client())
    fill(cl.direct.client())
    return cl


cluster = lazy(setup)


def scan_all(c, **kw):
    seen, cursor, rounds = [], 0, 0
    while True:
        cursor, keys = c.scan(cursor, **kw)
        seen += keys
        rounds += 1
        check(rounds < 10000, "SCAN ends")
        if cursor == 0:
            return seen


def test_scan_returns_every_key_exactly_once():
    cl = cluster()
    c, d = cl.client(), cl.direct.client()
    for kw in ({}, {"count": 7}, {"count": 1000}):
        got = scan_all(c, **kw)
        eq(len(got), len(set(got)), "no key twice with %r" % kw)
        eq(set(got), set(d.keys("*")), "SCAN %r: every key" % kw)
    got = scan_all(c, match="ks:h:*", count=20)
    eq(sorted(got), sorted(scan_all(d, match="ks:h:*", count=20)), "SCAN MATCH")
    got = scan_all(c, _type="list", count=20)
    eq(sorted(got), sorted(scan_all(d, _type="list", count=20)), "SCAN TYPE")
    # The iteration visits each pnode: every pnode holds some of the keys.
    for s in cl.servers:
        check(s.client().dbsize() > 0, "pnode %s has keys" % s.pnode)


def test_scan_errors_are_redis_errors():
    cl = cluster()
    c, d = cl.raw(), cl.direct.client()
    dr = RawClient(cl.direct.port)
    for args in (("SCAN", "abc"), ("SCAN", "-1x"), ("SCAN", "99999999999999999999999"),
                 ("SCAN", "0", "COUNT", "0"), ("SCAN", "0", "MATCH"), ("SCAN", "0", "BOGUS", "1")):
        got, want = c.call(*args), dr.call(*args)
        check(isinstance(want, Err), "direct %r is an error" % (args,))
        eq(got, want, "reply to %r" % (args,))
    d.close()


def test_keys_and_dbsize_merge_every_pnode():
    cl = cluster()
    c, d = cl.client(), cl.direct.client()
    eq(sorted(c.keys("*")), sorted(d.keys("*")), "KEYS *")
    eq(sorted(c.keys("ks:s:1*")), sorted(d.keys("ks:s:1*")), "KEYS pattern")
    eq(c.keys("nomatch:*"), [], "KEYS without a match")
    eq(c.dbsize(), d.dbsize(), "DBSIZE")
    eq(c.dbsize(), sum(s.client().dbsize() for s in cl.servers), "DBSIZE is the pnodes' sum")


def test_randomkey_is_an_existing_key():
    cl = cluster()
    c = cl.client()
    every = set(c.keys("*"))
    got = set(c.randomkey() for _ in range(60))
    check(got <= every, "RANDOMKEY names existing keys: %r" % (got - every))
    check(len(got) > 3, "RANDOMKEY varies: %r" % got)


def test_wait_is_the_least_of_the_pnodes():
    cl = cluster()
    c, d = cl.raw(), RawClient(cl.direct.port)
    eq(c.call("WAIT", "0", "0"), d.call("WAIT", "0", "0"), "WAIT 0 0")
    eq(c.call("WAIT", "1", "10"), d.call("WAIT", "1", "10"), "WAIT 1 10 (no replicas)")
    eq(c.call("WAIT", "x", "10"), d.call("WAIT", "x", "10"), "WAIT with a bad number")
    r = c.call("WAIT", "1", "0")
    check(isinstance(r, Err) and "not supported by ringproxy without a timeout" in r,
          "WAIT for ever is refused: %r" % (r,))
    eq(c.call("PING"), Status("PONG"), "PING after WAIT")


def test_redis_cli_scan_and_bigkeys_match_a_direct_run():
    cl = cluster()

    def cli(port, *args):
        r = run_cmd(["redis-cli", "-h", HOST, "-p", str(port)] + list(args), timeout=30)
        eq(r.returncode, 0, "redis-cli %s (stderr %r)" % (" ".join(args), r.stderr))
        return r.stdout.decode()

    eq(sorted(cli(cl.proxy.port, "--scan").split()),
       sorted(cli(cl.direct.port, "--scan").split()), "redis-cli --scan")
    eq(sorted(cli(cl.proxy.port, "--scan", "--pattern", "ks:l:*").split()),
       sorted(cli(cl.direct.port, "--scan", "--pattern", "ks:l:*").split()),
       "redis-cli --scan --pattern")

    def summary(out):
        # The summary after the sampling (its progress lines depend on order).
        return [ln for ln in out.splitlines()
                if ln.startswith("Sampled ") or "found so far" not in ln and
                (" keys with " in ln or ln.startswith("Biggest"))]
    want = summary(cli(cl.direct.port, "--bigkeys"))
    check(len(want) >= 4, "direct --bigkeys summary: %r" % want)
    got = summary(cli(cl.proxy.port, "--bigkeys"))
    # Ties between equally big keys may be broken differently.
    eq([ln.split("'")[0] + ln.split("'")[-1] if "'" in ln else ln for ln in got],
       [ln.split("'")[0] + ln.split("'")[-1] if "'" in ln else ln for ln in want],
       "redis-cli --bigkeys summary")
    check(any('"ks:biggest"' in ln for ln in got), "the biggest string named: %r" % got)


def test_redis_cli_stat_counts_every_pnode_keys():
    cl = cluster()
    p = subprocess.Popen(["stdbuf", "-oL", "redis-cli", "-h", HOST, "-p", str(cl.proxy.port), "--stat",
                          "-i", "0.1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(1.0)
    finally:
        kill(p)
    out = p.stdout.read().decode()
    lines = [ln.split() for ln in out.splitlines()]
    data = [ln for ln in lines if ln and ln[0].isdigit()]
    check(data, "redis-cli --stat printed data lines: %r" % out)
    eq(int(data[0][0]), cl.direct.client().dbsize(), "--stat keys column")


def test_flushall_and_flushdb_empty_every_pnode():
    cl = Cluster(n=3, vnodes=256)
    c = cl.raw()
    for mode in ((), ("ASYNC",), ("SYNC",)):
        cl.client().mset({"fl:%d" % i: i for i in range(60)})
        eq(c.call("FLUSHALL", *mode), Status("OK"), "FLUSHALL %r" % (mode,))
        for s in cl.servers:
            eq(s.client().dbsize(), 0, "pnode %s empty after FLUSHALL %r" % (s.pnode, mode))
    cl.client().mset({"fl:%d" % i: i for i in range(60)})
    eq(c.call("FLUSHDB"), Status("OK"), "FLUSHDB")
    eq(sum(s.client().dbsize() for s in cl.servers), 0, "every pnode empty after FLUSHDB")
    d = RedisServer()
    eq(c.call("FLUSHALL", "BOGUS"), RawClient(d.port).call("FLUSHALL", "BOGUS"),
       "FLUSHALL with a bad option")
    eq(c.call("RANDOMKEY"), None, "RANDOMKEY of an empty keyspace")
    eq(scan_all(cl.client()), [], "SCAN of an empty keyspace")
    eq(c.call("KEYS", "*"), [], "KEYS of an empty keyspace")


def test_disable_commands_refuses_what_the_operator_lists():
    cl = Cluster(n=2, vnodes=256, config={"disable-commands": "keys FLUSHALL get"})
    c = cl.raw()
    for cmd in (("KEYS", "*"), ("flushall",), ("GET", "a")):
        assert_err(c.call(*cmd), "ERR command '%s' is not supported by ringproxy "
                   "(disabled by disable-commands)" % cmd[0], "%s disabled" % cmd[0])
    eq(c.call("SET", "a", "1"), Status("OK"), "SET is not disabled")
    eq(c.call("DBSIZE"), 1, "DBSIZE is not disabled")
    # An unknown name is a config error, found by --check.
    bad = write_config({"disable-commands": "keys nosuchcmd"})
    r = run_cmd([RINGPROXY, "-r", cl.ring, "-c", bad,
                 "--check"])
    check(r.returncode != 0 and b"no command 'nosuchcmd'" in r.stderr,
          "--check with an unknown command: %r" % (r.stderr,))


if __name__ == "__main__":
    run(globals())
