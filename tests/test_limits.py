"""Configured limits, timeouts and connection options: max-clients,
client-idle-timeout, server-timeout-ms, max-request-bytes, max-pipeline
back-pressure, the output limits for clients that do not read, and
preconnect."""

import json
import os
import re
import signal
import socket
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from proxytest import (HOST, IO_TIMEOUT, START_TIMEOUT, Closed, Cluster, Err,  # noqa: E402
                       Status, check, encode, encode_all, eq, eq_list, free_port, lazy,
                       port_open, rss_kb, run, wait_until)

cluster = lazy(lambda: Cluster(n=2, vnodes=256, config={
    "max-clients": 4, "client-idle-timeout": 1, "max-request-bytes": 100000,
    "max-pipeline": 8}))


def connected(cl, n):
    """n clients that the proxy has accepted (each answered PING). Clients
    closed just before may still hold slots until the proxy sees them go:
    retry, bounded, instead of guessing how long that takes."""
    def attempt():
        cs = []
        try:
            for _ in range(n):
                c = cl.raw()
                cs.append(c)
                if c.call("PING") != Status("PONG"):
                    raise Closed("no slot yet")
            return cs
        except (Closed, OSError):
            for c in cs:
                c.close()
            return None
    return wait_until(attempt, 15, "%d client slots" % n, step=0.1)


def test_max_clients():
    cl = cluster()
    # The harness's start-up probes are closed connections the proxy may
    # still count: connected() waits for the slots.
    cs = connected(cl, 4)
    try:
        extra = cl.raw()
        try:
            extra.send(encode("PING"))
            r = extra.reply()
            check(isinstance(r, Err), "client over max-clients: expected an error, got %r" % (r,))
        except (Closed, ConnectionResetError):
            raise AssertionError("client over max-clients closed without an error reply")
        check(extra.expect_closed(), "client over max-clients not closed")
        extra.close()
        for c in cs:
            eq(c.call("PING"), Status("PONG"), "the first clients still work")
    finally:
        for c in cs:
            c.close()
    # Slots are freed when clients leave.
    for c in connected(cl, 4):
        c.close()


def test_idle_clients_are_closed_and_busy_ones_kept():
    cl = cluster()
    idle, busy = connected(cl, 2)
    t = time.monotonic()
    while time.monotonic() - t < 2.5:
        eq(busy.call("SET", "idle:k", "v"), Status("OK"), "busy client SET")
        time.sleep(0.2)
    check(idle.expect_closed(timeout=3), "idle client still open after 2.5 s (timeout 1 s)")
    eq(busy.call("GET", "idle:k"), b"v", "busy client kept")
    idle.close()
    busy.close()


def test_server_timeout_gives_an_error_reply():
    # Its own proxy: a short server timeout would make the other tests
    # depend on the machine's load.
    cl = Cluster(n=2, vnodes=256, config={"server-timeout-ms": 400})
    c = cl.raw()
    slow = ("local s = redis.call('TIME') local t0 = s[1] * 1000000 + s[2] "
            "while true do local n = redis.call('TIME') "
            "if n[1] * 1000000 + n[2] - t0 > 1200000 then break end end return 1")
    # The script replies 1 after 1.2 s: an error reply means the proxy's
    # 400 ms timeout answered first, with no clock in the test.
    r = c.call("EVAL", slow, 1, "slow:k")
    check(isinstance(r, Err), "request slower than server-timeout-ms: expected an error, got %r" % (r,))
    time.sleep(1.0)                    # let the script end on the pnode
    d = cl.raw()
    eq(d.call("SET", "slow:k2", "x"), Status("OK"), "the proxy serves after a timeout")
    d.close()
    c.close()


def test_request_over_max_request_bytes_is_refused():
    cl = cluster()
    bystander = cl.raw()
    c = cl.raw()
    c.send(encode("SET", "big:k", "x" * 200000))
    try:
        r = c.reply()
        check(isinstance(r, Err), "oversized request: expected an error, got %r" % (r,))
    except (Closed, ConnectionResetError):
        raise AssertionError("oversized request: closed without an error reply")
    c.close()
    eq(bystander.call("EXISTS", "big:k"), 0, "the oversized SET was not applied")
    eq(bystander.call("SET", "small:k", "x" * 1000), Status("OK"), "a small request")
    bystander.close()


def test_max_request_bytes_is_per_request_not_per_read():
    # Many small requests in one write add up to more than the limit; each
    # is within it, so all are served.
    cl = cluster()
    c = cl.raw()
    reqs = [("SET", "small:%d" % i, "v" * 100) for i in range(3000)]
    data = encode_all(reqs)
    check(len(data) > 3 * 100000, "the pipeline is not over the limit")
    sender = c.send_in_background(data)
    eq_list(c.replies(len(reqs)), [Status("OK")] * len(reqs), "replies")
    sender.join(10)
    c.close()


def test_max_pipeline_1_with_multikey_requests():
    cl = Cluster(n=3, vnodes=256, config={"max-pipeline": 1})
    c = cl.raw()
    reqs, want = [], []
    for i in range(300):
        ks = ["mp1:%d:%d" % (i, j) for j in range(5)]
        reqs += [("MSET",) + tuple(x for k in ks for x in (k, i)), ("MGET",) + tuple(ks),
                 ("PING",), ("DEL",) + tuple(ks)]
        want += [Status("OK"), [str(i).encode()] * 5, Status("PONG"), 5]
    sender = c.send_in_background(encode_all(reqs))
    eq_list(c.replies(len(reqs)), want, "replies")
    sender.join(10)
    c.close()
    cl.proxy.stop()


def test_deep_pipeline_over_max_pipeline_completes_in_order():
    # max-pipeline 8: the proxy stops reading while 8 are in flight, and
    # everything still completes, in order.
    cl = cluster()
    c = cl.raw()
    reqs = [("SET", "bp:%d" % (i % 100), i) if i % 2 == 0 else ("GET", "bp:%d" % ((i - 1) % 100))
            for i in range(20000)]
    sender = c.send_in_background(encode_all(reqs))
    got = c.replies(len(reqs))
    sender.join(10)
    for i, g in enumerate(got):
        eq(g, Status("OK") if i % 2 == 0 else str(i - 1).encode(), "reply %d" % i)
    c.close()


def test_a_client_that_does_not_read_cannot_grow_the_proxy():
    # 400 GETs of a 1 MB value from a client that does not read its replies:
    # with max-pipeline 8 the proxy must stop reading after a few, so it
    # forwards only a few and stays far below the 400 MB it would need to
    # buffer them all. (Its own proxy: with client-idle-timeout the silent
    # client could be closed.)
    cl = Cluster(n=2, vnodes=256, config={"max-pipeline": 8})
    big = b"m" * (1 << 20)
    k = "slowreader:k"
    owner = cl.server_for(k)
    owner.client().set(k, big)
    before = rss_kb(cl.proxy.proc.pid)
    calls0 = owner.get_calls()
    c = cl.raw()
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    sender = c.send_in_background(encode_all(("GET", k) for _ in range(400)))
    # Wait (bounded) until the proxy stops forwarding: it has either
    # applied back-pressure or forwarded everything.
    last, stable, deadline = -1, 0, time.monotonic() + 10
    while stable < 4 and time.monotonic() < deadline:
        time.sleep(0.25)
        n = owner.get_calls() - calls0
        stable = stable + 1 if n == last else 0
        last = n
    grown = rss_kb(cl.proxy.proc.pid) - before
    other = cl.raw()
    eq(other.call("PING"), Status("PONG"), "another client meanwhile")
    other.close()
    for i in range(400):
        r = c.reply()
        check(r == big, "reply %d: %r" % (i, r[:20] if isinstance(r, bytes) else r))
    sender.join(10)
    c.close()
    check(last < 100, "ringproxy forwarded %d of 400 requests for a client that does "
          "not read (max-pipeline 8)" % last)
    check(grown < 150 * 1024, "ringproxy grew by %d MB for a client that does not read"
          % (grown // 1024))


def output_limit_cluster(hard, soft):
    """Its own proxy with the given output limits, an admin endpoint and a
    256 KB value."""
    aport = free_port()
    cl = Cluster(n=2, vnodes=256, config={
        "client-output-limit-hard": hard, "client-output-limit-soft": soft,
        "max-pipeline": 64, "server-timeout-ms": 0, "admin": "%s:%d" % (HOST, aport)})
    # The admin endpoint opens after the client listener.
    wait_until(lambda: port_open(aport), START_TIMEOUT, "admin port")
    cl.key, cl.value = "outlimit:k", b"o" * (256 << 10)
    cl.server_for(cl.key).client().set(cl.key, cl.value)
    return cl


def admin_get(cl, path):
    url = "http://%s%s" % (cl.config["admin"], path)
    with urllib.request.urlopen(url, timeout=IO_TIMEOUT) as r:
        return r.read().decode()


def limit_closes(cl):
    """{limit: clients closed over it} from /metrics, checked against /stats."""
    got = dict((m.group(1), int(m.group(2))) for m in re.finditer(
        r'^ringproxy_client_output_limit_closes_total\{limit="(\w+)"\} (\d+)$',
        admin_get(cl, "/metrics"), re.M))
    st = json.loads(admin_get(cl, "/stats"))
    eq({k: st["client_output_limit_closes_total_" + k] for k in got}, got,
       "/stats against /metrics")
    return got


def limit_log(cl, client, limit):
    """The proxy's log line about client closed over limit, or None."""
    want = "client=%s:%d limit=%s " % (HOST, client.sock.getsockname()[1], limit)
    lines = [ln for ln in cl.proxy.stderr().splitlines() if want in ln]
    return lines[0] if lines else None


def test_hard_output_limit_closes_a_client_that_does_not_read():
    # 400 GETs of 256 KB (100 MB of replies) from a client that never
    # reads, with a 1 MB hard limit: max-pipeline 64 keeps 16 MB in flight,
    # so the replies in flight pass the limit and the client is closed.
    cl = output_limit_cluster(1 << 20, "0 0")
    pid = cl.proxy.proc.pid
    before = rss_kb(pid)
    hog = cl.raw()
    hog.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    hog.send(encode_all(("GET", cl.key) for _ in range(400)))
    wait_until(lambda: limit_log(cl, hog, "hard"), 10,
               "a log line for the client closed over the hard limit")
    grown = rss_kb(pid) - before
    line = limit_log(cl, hog, "hard")
    pending = int(line.split("pending=")[1].split()[0])
    check(pending > 1 << 20, "logged pending output %d is not over the 1 MB limit: %s"
          % (pending, line))
    check(hog.expect_closed(timeout=5), "client over the hard output limit still open")
    hog.close()
    eq(limit_closes(cl), {"hard": 1, "soft": 0}, "clients closed over an output limit")
    other = cl.raw()
    eq(other.call("GET", cl.key), cl.value, "another client's GET of the same key")
    other.close()
    print("     closed at %d bytes pending; proxy RSS grew %d KB" % (pending, grown))
    check(grown < 64 * 1024, "ringproxy grew by %d MB for a client over a 1 MB hard limit"
          % (grown // 1024))
    cl.proxy.stop()


def test_replies_held_behind_an_awaited_one_count_toward_the_limit():
    # The first GET goes to a stopped pnode, so the 40 replies of 256 KB
    # behind it are held for order, none written: the client must still be
    # closed over the 1 MB hard limit while that pnode is stopped. Likewise
    # MGETs with a key on the stopped pnode, whose other parts' replies are
    # held until the last part's. Requests to the stopped pnode are
    # answered after their client has gone.
    cl = output_limit_cluster(1 << 20, "0 0")
    eq(limit_closes(cl), {"hard": 0, "soft": 0}, "clients closed over an output limit at start")
    owner = cl.server_for(cl.key)
    far = next(k for k in ("outlimit:far:%d" % i for i in range(1000))
               if cl.server_for(k) is not owner)
    stopped = cl.server_for(far)
    stopped.client().set(far, "far")
    pipelines = {"GETs behind a GET": [("GET", far)] + [("GET", cl.key)] * 40,
                 "MGETs": [("MGET", far, cl.key)] * 40}
    for what, reqs in pipelines.items():
        hog = cl.raw()
        os.kill(stopped.proc.pid, signal.SIGSTOP)
        try:
            hog.send(encode_all(reqs))
            wait_until(lambda: limit_log(cl, hog, "hard"), 10,
                       "a log line for the client closed over the hard limit with "
                       "%s held for a stopped pnode" % what)
        finally:
            os.kill(stopped.proc.pid, signal.SIGCONT)
        check(hog.expect_closed(timeout=5), "client over the hard output limit still open")
        hog.close()
    eq(limit_closes(cl), {"hard": 2, "soft": 0}, "clients closed over an output limit")
    other = cl.raw()
    eq(other.call("GET", far), b"far", "GET from the pnode that was stopped")
    eq(other.call("GET", cl.key), cl.value, "GET from the other pnode")
    other.close()
    cl.proxy.stop()


def test_soft_output_limit_closes_only_a_client_that_stays_above_it():
    # Soft limit 1 MB for 2 s, no hard limit: 40 GETs of 256 KB (10 MB)
    # each. One client reads its replies after a short pause and is kept;
    # one that never reads is closed once 2 s have passed.
    cl = output_limit_cluster(0, "1048576 2")
    prompt, hog = cl.raw(), cl.raw()
    hog.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    hog.send(encode_all(("GET", cl.key) for _ in range(40)))
    prompt.send(encode_all(("GET", cl.key) for _ in range(40)))
    time.sleep(0.3)
    for i in range(40):
        eq(prompt.reply(), cl.value, "reply %d to the client that reads" % i)
    wait_until(lambda: limit_log(cl, hog, "soft"), 10,
               "a log line for the client closed over the soft limit")
    check(hog.expect_closed(timeout=5), "client over the soft output limit still open")
    hog.close()
    check(limit_log(cl, prompt, "soft") is None, "the client that read was closed: %s"
          % limit_log(cl, prompt, "soft"))
    eq(prompt.call("PING"), Status("PONG"), "the client that read is still served")
    eq(limit_closes(cl), {"hard": 0, "soft": 1}, "clients closed over an output limit")
    prompt.close()
    cl.proxy.stop()


def proxy_connections(server):
    d = server.client()
    mine = d.client_id()
    n = len([x for x in d.client_list() if int(x["id"]) != mine])
    d.close()
    return n


def test_preconnect_opens_pnode_connections_at_start():
    lazy_cl = Cluster(n=2, vnodes=64, config={"preconnect": "no"})
    eager = Cluster(n=2, vnodes=64, config={"preconnect": "yes"})
    for s in eager.servers:
        wait_until(lambda: proxy_connections(s) >= 1, 5,
                   "a connection from the proxy to %s with preconnect yes" % s.pnode)
    time.sleep(0.3)
    eq([proxy_connections(s) for s in lazy_cl.servers], [0, 0],
       "connections to the pnodes before any request with preconnect no")
    c = lazy_cl.raw()
    c.call("MSET", *[x for i in range(50) for x in ("pc:%d" % i, i)])
    c.close()
    check(all(proxy_connections(s) >= 1 for s in lazy_cl.servers),
          "no connection to a pnode after requests to it")
    lazy_cl.proxy.stop()
    eager.proxy.stop()


run(globals())
