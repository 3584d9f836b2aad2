"""A pnode that is down gives `-ERR pnode tcp://H:P unavailable: <reason>`
for its keys only, quickly; requests in flight when it dies get error
replies; service resumes when it comes back on the same port."""

import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from proxytest import (Cluster, Err, Status, assert_unavailable, check,  # noqa: E402
                       encode_all, eq, eq_list, free_port, keys_per_pnode, lazy,
                       make_ring, Proxy, RedisServer, run, wait_until)

CONFIG = {"connect-timeout-ms": 500, "reconnect-min-ms": 50,
          "reconnect-max-ms": 200, "server-timeout-ms": 3000}


def setup():
    cl = Cluster(n=3, vnodes=1024, config=CONFIG)
    cl.keys = cl.pnode_keys("bd:", 20)
    return cl


cluster = lazy(setup)


def timed_call(c, *args):
    t = time.monotonic()
    r = c.call(*args)
    return r, time.monotonic() - t


def test_all_pnodes_up_baseline():
    cl = cluster()
    c = cl.raw()
    for s in cl.servers:
        for k in cl.keys[s.pnode]:
            eq(c.call("SET", k, "up"), Status("OK"), "SET %s" % k)
    c.close()


def test_killed_pnode_gives_unavailable_for_its_keys_only():
    cl = cluster()
    down = cl.servers[1]
    c = cl.raw()
    c.call("PING")
    down.stop()
    for k in cl.keys[down.pnode][:10]:
        r, took = timed_call(c, "GET", k)
        assert_unavailable(r, down.pnode)
        check(took < 3.0, "unavailable reply took %.2fs" % took)
        r, took = timed_call(c, "SET", k, "x")
        assert_unavailable(r, down.pnode)
    for s in cl.servers:
        if s is down:
            continue
        for k in cl.keys[s.pnode]:
            eq(c.call("SET", k, "still"), Status("OK"), "SET %s on a live pnode" % k)
            eq(c.call("GET", k), b"still", "GET %s on a live pnode" % k)
    # A fresh connection behaves the same.
    c2 = cl.raw()
    assert_unavailable(c2.call("GET", cl.keys[down.pnode][0]), down.pnode)
    eq(c2.call("GET", cl.keys[cl.servers[0].pnode][0]), b"still", "live key on a new connection")
    check(cl.proxy.alive(), "ringproxy exited after a pnode died")
    c.close()
    c2.close()


def test_pipeline_mixing_live_and_dead_pnodes():
    cl = cluster()
    down, up = cl.servers[1], cl.servers[0]
    c = cl.raw()
    reqs = []
    for i in range(100):
        if i % 2:
            reqs.append(("GET", cl.keys[down.pnode][i % 20]))
        else:
            reqs.append(("GET", cl.keys[up.pnode][i % 20]))
    c.send(encode_all(reqs))
    got = c.replies(len(reqs))
    for i, g in enumerate(got):
        if i % 2:
            assert_unavailable(g, down.pnode)
        else:
            eq(g, b"still", "reply %d from the live pnode" % i)
    # A multi-key read that needs the dead pnode fails; one that does not
    # is served.
    mixed = [cl.keys[up.pnode][0], cl.keys[down.pnode][0]]
    r = c.call("MGET", *mixed)
    check(isinstance(r, Err), "MGET over a dead pnode: expected an error, got %r" % (r,))
    eq(c.call("MGET", *cl.keys[up.pnode][:3]), [b"still"] * 3, "MGET on the live pnode")
    c.close()


def test_service_resumes_when_the_pnode_returns():
    cl = cluster()
    down = cl.servers[1]
    down.start()                       # same port, empty data
    c = cl.raw()
    k = cl.keys[down.pnode][0]
    wait_until(lambda: c.call("SET", k, "back") == Status("OK"), 10,
               "SET through the proxy after %s returned" % down.pnode, step=0.1)
    for k in cl.keys[down.pnode]:
        eq(c.call("SET", k, "back"), Status("OK"), "SET %s after restart" % k)
    sc = down.client()
    for k in cl.keys[down.pnode]:
        eq(sc.get(k), b"back", "%s on the restarted pnode" % k)
    sc.close()
    c.close()


def test_requests_in_flight_when_a_pnode_dies_get_replies():
    cl = cluster()
    victim = cl.servers[2]
    other = cl.servers[0]
    c = cl.raw()
    n = 3000
    val = b"v" * 2000
    reqs = [("SET", cl.keys[victim.pnode][i % 20], val) for i in range(n)]
    c.send(encode_all(reqs[:n // 2]))
    victim.stop()
    sender = c.send_in_background(encode_all(reqs[n // 2:]))
    got = c.replies(n)
    sender.join(10)
    errs = 0
    for i, g in enumerate(got):
        if isinstance(g, Err):
            errs += 1
            check(g.startswith("ERR"), "reply %d: unexpected error %r" % (i, g))
        else:
            eq(g, Status("OK"), "reply %d" % i)
    check(errs > 0, "no error reply although the pnode died mid-pipeline")
    eq(c.call("GET", cl.keys[other.pnode][0]), b"still", "the connection still works")
    check(cl.proxy.alive(), "ringproxy exited")
    victim.start()
    c.close()


def test_no_reply_mixup_after_a_pnode_restarts_under_load():
    # Several clients pipeline to every pnode while one dies and returns;
    # afterwards each client's replies are exactly its own, in order.
    cl = cluster()
    victim = cl.servers[0]
    cs = [cl.raw() for _ in range(4)]
    for n, c in enumerate(cs):
        c.send(encode_all(("SET", cl.keys[s.pnode][i], "pre%d" % n)
                          for s in cl.servers for i in range(20)))
    victim.stop()
    for c in cs:
        for r in c.replies(60):
            check(r == Status("OK") or isinstance(r, Err), "reply during the kill: %r" % (r,))
    victim.start()
    # Each worker reconnects on its own, and may still be backing off from
    # a pnode an earlier test killed: wait until every pnode answers every
    # client before checking that nothing is mixed up.
    for c in cs:
        for s in cl.servers:
            wait_until(lambda c=c, k=cl.keys[s.pnode][0]: c.call("SET", k, "x") == Status("OK"), 10,
                       "%s back" % s.pnode, step=0.1)
    for rnd in range(5):
        for n, c in enumerate(cs):
            c.send(encode_all([("SET", "mix:%d:%d" % (n, i), "%d-%d" % (n, rnd)) for i in range(50)] +
                              [("GET", "mix:%d:%d" % (n, i)) for i in range(50)]))
        for n, c in enumerate(cs):
            want = [Status("OK")] * 50 + [("%d-%d" % (n, rnd)).encode()] * 50
            eq_list(c.replies(100), want, "client %d round %d" % (n, rnd))
    for c in cs:
        c.close()


def test_pnode_down_from_the_start():
    live = RedisServer()
    dead = "tcp://127.0.0.1:%d" % free_port()
    ring = make_ring([live, dead], vnodes=128)
    p = Proxy(ring, config=CONFIG)
    per = keys_per_pnode(ring, [live, dead], "ds:", 5)
    c = p.raw()
    for k in per[dead]:
        r, took = timed_call(c, "SET", k, "x")
        assert_unavailable(r, dead)
        check(took < 3.0, "unavailable reply took %.2fs" % took)
    for k in per[live.pnode]:
        eq(c.call("SET", k, "x"), Status("OK"), "SET %s on the live pnode" % k)
    c.close()
    p.stop()


def test_connect_timeout_to_a_pnode_that_never_accepts():
    # A listener with a full accept queue drops SYNs, so connecting to it
    # hangs: the proxy must answer within its connect timeout.
    live = RedisServer()
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(0)
    fillers = []
    for _ in range(4):
        f = socket.socket()
        f.setblocking(False)
        try:
            f.connect(hole.getsockname())
        except BlockingIOError:
            pass
        fillers.append(f)
    dead = "tcp://127.0.0.1:%d" % hole.getsockname()[1]
    ring = make_ring([live, dead], vnodes=128)
    p = Proxy(ring, config=CONFIG)
    per = keys_per_pnode(ring, [live, dead], "hole:", 3)
    c = p.raw()
    try:
        for k in per[dead]:
            r, took = timed_call(c, "GET", k)
            assert_unavailable(r, dead)
            check(took < 3.0, "unavailable reply took %.2fs (connect timeout 0.5 s)" % took)
        for k in per[live.pnode]:
            eq(c.call("SET", k, "x"), Status("OK"), "SET %s on the live pnode" % k)
    finally:
        c.close()
        for f in fillers:
            f.close()
        hole.close()
    p.stop()


def test_server_timeout_on_a_pnode_that_accepts_but_never_answers():
    live = RedisServer()
    mute = socket.socket()
    mute.bind(("127.0.0.1", 0))
    mute.listen(64)
    pn = "tcp://127.0.0.1:%d" % mute.getsockname()[1]
    ring = make_ring([live, pn], vnodes=128)
    conf = dict(CONFIG, **{"server-timeout-ms": 500})
    p = Proxy(ring, config=conf)
    per = keys_per_pnode(ring, [live, pn], "mute:", 3)
    c = p.raw()
    try:
        for k in per[pn]:
            r, took = timed_call(c, "GET", k)
            check(isinstance(r, Err) and r.startswith("ERR"), "a mute pnode: expected an error, got %r" % (r,))
            check(took < 4.0, "the error took %.2fs (server timeout 0.5 s)" % took)
        for k in per[live.pnode]:
            eq(c.call("SET", k, "x"), Status("OK"), "SET %s on the live pnode" % k)
    finally:
        c.close()
        mute.close()
    p.stop()


def test_a_request_lost_with_its_connection_is_not_retried():
    # A pnode that reads each request and then drops the connection: the
    # client gets an error, and the pnode sees the request once (a write
    # may have been applied, so it must not be sent again).
    live = RedisServer()
    sink = socket.socket()
    sink.bind(("127.0.0.1", 0))
    sink.listen(16)
    sink.settimeout(0.2)
    seen = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = sink.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(0.3)
            try:
                for _ in range(100):    # read until the proxy goes quiet
                    data = conn.recv(65536)
                    if not data:
                        break
                    seen.append(data)
            except OSError:
                pass
            conn.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    pn = "tcp://127.0.0.1:%d" % sink.getsockname()[1]
    ring = make_ring([live, pn], vnodes=128)
    p = Proxy(ring, config=CONFIG)
    k = keys_per_pnode(ring, [live, pn], "once:", 1)[pn][0]
    c = p.raw()
    try:
        r = c.call("INCR", k)
        check(isinstance(r, Err) and r.startswith("ERR"), "INCR on a dropping pnode: %r" % (r,))
        time.sleep(1.5)                # a retry would arrive by now
        got = b"".join(seen)
        eq(got.count(b"INCR"), 1, "times the pnode received the INCR (%r)" % got[:200])
        eq(c.call("PING"), Status("PONG"), "the client connection stays")
    finally:
        stop.set()
        c.close()
        sink.close()
        t.join(5)
    p.stop()


run(globals())
