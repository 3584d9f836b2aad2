"""Smoke test of ringproxy with two real redis-servers on loopback.

Keys land on the pnode the ring names, pipelines come back in order across
pnodes, multi-key commands split and merge, errors stay per client, a dead
pnode fails only its own keys, ro vnodes refuse writes after SIGHUP, and
SIGTERM stops the proxy cleanly. The tests run in order on one proxy.
"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from proxytest import (HOST, Cluster, Err, Proxy, RawClient, Status,  # noqa: E402
                       assert_err, assert_readonly,
                       assert_unavailable, check, encode, encode_all, eq, get_nodes,
                       lazy, port_open, ring_info, run, run_cmd, set_data, tmpdir,
                       wait_until)

KEYS = ["key:%d" % i for i in range(2000)]
# A Lua script that keeps its redis-server busy for 0.6 s, then returns 7.
BUSY = ("local s = redis.call('TIME') local t0 = s[1] * 1000000 + s[2] "
        "while true do local n = redis.call('TIME') "
        "if n[1] * 1000000 + n[2] - t0 > 600000 then break end end return 7")


def setup():
    cl = Cluster(n=2, vnodes=1024, start=False)
    cl.pidfile = os.path.join(tmpdir(), "proxy.pid")
    cl.proxy = Proxy(cl.ring, threads=2, args=["--pidfile", cl.pidfile, "--log-level", "warn"])
    cl.nodes = get_nodes(cl.ring, KEYS)
    cl.c = cl.raw()
    return cl


smoke = lazy(setup)


def value(k):
    return b"v" + k.encode()


def test_pidfile_holds_the_pid():
    cl = smoke()
    with open(cl.pidfile) as f:
        eq(f.read().strip(), str(cl.proxy.proc.pid), "pidfile content")


def test_keys_land_where_the_ring_says():
    cl = smoke()
    c = cl.c
    c.send(encode_all(("SET", k, value(k)) for k in KEYS))
    for k in KEYS:
        eq(c.reply(), Status("OK"), "SET %s" % k)
    cl.assert_placement({k: value(k) for k in KEYS})
    eq(len({o["pnode"] for o in cl.nodes.values()}), 2, "pnodes the keys spread over")
    o = cl.nodes[KEYS[0]]
    eq(c.call("RING", "NODE", KEYS[0]), [o["vnode"], o["pnode"].encode(), None], "RING NODE")
    info = ring_info(c.call("RING", "INFO"))
    eq((info.get("vnodes"), info.get("pnodes")), ("1024", "2"), "RING INFO vnodes, pnodes")


def test_mixed_pipeline_comes_back_in_order():
    c = smoke().c
    reqs, want = [], []
    for i in range(1000):
        k = "p:%d" % (i % 37)
        if i % 4 == 0:
            reqs.append(("SET", k, i))
            want.append(Status("OK"))
        elif i % 4 == 1:
            reqs.append(("INCR", "n:%d" % (i % 5)))
            want.append(None)
        elif i % 4 == 2:
            reqs.append(("PING",))
            want.append(Status("PONG"))
        else:
            reqs.append(("ECHO", i))
            want.append(str(i).encode())
    c.send(encode_all(reqs))
    counters = {}
    for i, w in enumerate(want):
        r = c.reply()
        if i % 4 == 1:
            n = "n:%d" % (i % 5)
            counters[n] = counters.get(n, 0) + 1
            eq(r, counters[n], "INCR %s in order" % n)
        else:
            eq(r, w, "reply %d" % i)


def test_multikey_commands_across_pnodes():
    c = smoke().c
    mkeys = ["m:%d" % i for i in range(20)]
    args = []
    for k in mkeys:
        args += [k, "val-" + k]
    eq(c.call("MSET", *args), Status("OK"), "MSET")
    eq(c.call("MGET", *(mkeys + ["missing"])), [("val-" + k).encode() for k in mkeys] + [None],
       "MGET merged in order")
    eq(c.call("EXISTS", *(mkeys + ["missing"])), 20, "EXISTS summed")
    eq(c.call("DEL", *mkeys), 20, "DEL summed")


def test_errors_leave_the_connection_usable():
    c = smoke().c
    assert_err(c.call("MONITOR"), "ERR command 'MONITOR' is not supported by ringproxy",
               "MONITOR")
    assert_err(c.call("GET"), "ERR wrong number of arguments for 'get' command", "arity")
    r = c.call("NOSUCH", "a")
    check(isinstance(r, Err) and r.startswith("ERR unknown command 'NOSUCH'"),
          "unknown command: %r" % (r,))
    eq(c.call("PING"), Status("PONG"), "PING after the errors")


def test_inline_commands():
    c = smoke().c
    c.send(b"SET inl \"a b\"\r\nGET inl\r\n")
    eq(c.replies(2), [Status("OK"), b"a b"], "inline SET/GET")


def test_proxy_handled_commands():
    c = smoke().c
    r = c.call("HELLO", "4")
    check(isinstance(r, Err) and r.startswith("NOPROTO"), "HELLO 4: %r" % (r,))
    eq(c.call("HELLO", "2")[:2], [b"server", b"ringproxy"], "HELLO 2")
    eq(c.call("SELECT", "0"), Status("OK"), "SELECT 0")
    check(isinstance(c.call("SELECT", "1"), Err), "SELECT 1 is an error")
    eq(c.call("CONFIG", "GET", "save"), [b"save", b""], "CONFIG GET save")
    n = c.call("COMMAND", "COUNT")
    check(isinstance(n, int) and n > 200, "COMMAND COUNT: %r" % (n,))


def test_scripts_and_rename_on_one_vnode_only():
    cl = smoke()
    c = cl.c
    v0 = cl.nodes[KEYS[0]]["vnode"]
    eq(c.call("EVAL", "return redis.call('GET', KEYS[1])", 1, KEYS[0]), value(KEYS[0]),
       "EVAL on one key")
    other = next(k for k in KEYS if cl.nodes[k]["vnode"] != v0)
    r = c.call("EVAL", "return 1", 2, KEYS[0], other)
    eq(r, Err("CROSSSLOT Keys in request don't hash to the same vnode"), "EVAL across vnodes")
    r = c.call("RENAME", KEYS[0], other)
    eq(r, Err("CROSSSLOT Keys in request don't hash to the same vnode"), "RENAME across vnodes")
    eq(c.call("RENAME", KEYS[0], KEYS[0]), Status("OK"), "RENAME on one vnode")


def test_real_clients():
    cl = smoke()
    rc = cl.client()
    pipe = rc.pipeline(transaction=False)
    for i in range(200):
        pipe.set("py:%d" % i, i)
        pipe.get("py:%d" % i)
    eq(pipe.execute(), sum(([True, str(i).encode()] for i in range(200)), []),
       "redis-py pipeline")
    rc.close()
    port = str(cl.proxy.port)
    out = run_cmd(["redis-cli", "-h", HOST, "-p", port, "GET", "py:7"], timeout=10)
    eq(out.stdout.decode().strip(), "7", "redis-cli GET")
    bench = run_cmd(["redis-benchmark", "-h", HOST, "-p", port, "-t", "set,get", "-n", "2000",
                     "-c", "4", "-P", "4", "-q"], timeout=60)
    so, se = bench.stdout.decode(), bench.stderr.decode()
    check(bench.returncode == 0 and "GET:" in so and "WARN" not in so + se,
          "redis-benchmark: %r %r" % (so[-200:], se[-200:]))


def test_request_fed_one_byte_at_a_time():
    c = smoke().c
    c.send_slowly(encode("SET", "slow", "x" * 10), chunk=1, pause=0)
    eq(c.reply(), Status("OK"), "byte-by-byte SET")


def test_client_leaving_mid_flight_disturbs_nobody():
    cl = smoke()
    gone = cl.raw()
    gone.send(encode_all(("GET", k) for k in KEYS[:100]) + encode("MGET", *KEYS[:50]))
    gone.close()
    eq(cl.c.call("GET", KEYS[3]), value(KEYS[3]), "GET after a client left mid-flight")


def test_malformed_input_closes_only_that_client():
    cl = smoke()
    bad = cl.raw()
    bad.send(b"*1\r\n$x\r\n")
    assert_err(bad.reply(), "ERR Protocol error: invalid bulk length", "protocol error")
    check(bad.expect_closed(), "the malformed client was not closed")
    bad.close()
    eq(cl.c.call("GET", "slow"), b"x" * 10, "other clients unaffected")


def test_dead_pnode_fails_only_its_own_keys():
    cl = smoke()
    c = cl.c
    dead = cl.servers[0]
    dead.stop()
    for k in KEYS[:40]:
        r = c.call("GET", k)
        if cl.nodes[k]["pnode"] == dead.pnode:
            assert_unavailable(r, dead.pnode)
        else:
            eq(r, value(k), "live pnode still serves %s" % k)
    dead.start()
    k = next(k for k in KEYS if cl.nodes[k]["pnode"] == dead.pnode)
    wait_until(lambda: c.call("SET", k, "back") == Status("OK"), 10,
               "service to resume after the pnode returned", step=0.1)


def test_ro_vnode_refuses_writes_after_sighup():
    cl = smoke()
    c = cl.c
    vnode = cl.nodes[KEYS[1]]["vnode"]
    set_data(cl.ring, [vnode], "ro")
    cl.proxy.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: ring_info(c.call("RING", "INFO")).get("ro_vnodes") == "1", 10,
               "the reload to be picked up")
    assert_readonly(c.call("SET", KEYS[1], "no"), vnode)
    check(isinstance(c.call("GET", KEYS[1]), (bytes, Err)), "ro read served")
    r = c.call("DEL", KEYS[1], KEYS[2])
    check(isinstance(r, Err) and r.startswith("READONLY"), "multi-key write refused whole: %r"
          % (r,))


def test_quit_answers_then_closes():
    q = smoke().raw()
    eq(q.call("QUIT"), Status("OK"), "QUIT")
    check(q.expect_closed(), "connection still open after QUIT")
    q.close()


def test_sigterm_delivers_in_flight_replies_and_removes_the_pidfile():
    # SIGTERM: stop accepting, deliver the reply still in flight, exit 0
    # and remove the pidfile.
    cl = smoke()
    k = next(k for k in KEYS[5:] if cl.nodes[k]["pnode"] != cl.servers[0].pnode)
    busy = RawClient(cl.by_pnode[cl.nodes[k]["pnode"]].port)
    busy.send(encode("EVAL", BUSY, 0))
    time.sleep(0.1)                     # the script runs: the GET waits behind it
    waiting = cl.raw()
    waiting.send(encode("GET", k))
    time.sleep(0.1)                     # the GET reaches the pnode
    cl.c.close()
    cl.proxy.proc.send_signal(signal.SIGTERM)
    wait_until(lambda: not port_open(cl.proxy.port), 5, "the listener to close after SIGTERM")
    check(cl.proxy.alive(), "ringproxy exited before the reply in flight was sent")
    eq(waiting.reply(), value(k), "in-flight reply delivered during shutdown")
    check(waiting.expect_closed(), "client not closed after its reply")
    eq(busy.reply(), 7, "the script that kept the pnode busy")
    eq(cl.proxy.stop(sig=None), 0, "exit status")
    check(not os.path.exists(cl.pidfile), "pidfile left behind")
    waiting.close()
    busy.close()


run(globals())
