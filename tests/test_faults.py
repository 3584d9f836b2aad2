"""Faults and abuse with real processes on loopback: a pnode killed under
steady load and restarted, a pnode that accepts but never answers, 5,000
idle clients (memory per idle client is printed), slowloris, a client that
sends a large pipeline and never reads, and hostile frames. In each case the
proxy keeps serving everyone else and does not crash."""

import json
import os
import resource
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from proxytest import (HOST, TOP_BUILDDIR, Closed, Cluster, Proxy,  # noqa: E402
                       RawClient, RedisServer, Status, assert_protocol_error,
                       assert_unavailable, check, encode, encode_all, eq,
                       keys_per_pnode, lazy, make_ring, rss_kb, run, wait_until)

RINGBENCH = os.path.join(TOP_BUILDDIR, "tools", "ringbench")
IDLE_CLIENTS = 5000
CONFIG = {"connect-timeout-ms": 500, "reconnect-min-ms": 50,
          "reconnect-max-ms": 200, "server-timeout-ms": 3000,
          "max-clients": IDLE_CLIENTS + 1000}


def raise_nofile(want):
    """Raises this process's open-file limit (the proxy inherits it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        check(hard == resource.RLIM_INFINITY or hard >= want,
              "RLIMIT_NOFILE hard limit %d is below the %d this test needs" % (hard, want))
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def setup():
    raise_nofile(2 * IDLE_CLIENTS + 1000)
    cl = Cluster(n=2, vnodes=1024, config=CONFIG)
    cl.keys = cl.pnode_keys("flt:", 20)
    return cl


cluster = lazy(setup)


class Load:
    """SET/GET on one connection from a thread until stopped (at most
    limit seconds): counts requests, wrong replies and the slowest reply."""

    def __init__(self, cl, keys, limit=30.0):
        self.c = cl.raw()
        self.keys, self.limit = keys, limit
        self.done, self.bad, self.slowest = 0, [], 0.0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        end = time.monotonic() + self.limit
        i = 0
        while not self.stopping.is_set() and time.monotonic() < end:
            k = self.keys[i % len(self.keys)]
            t = time.monotonic()
            try:
                r1 = self.c.call("SET", k, "v%d" % i)
                r2 = self.c.call("GET", k)
            except Exception as e:
                self.bad.append(repr(e))
                return
            self.slowest = max(self.slowest, time.monotonic() - t)
            if r1 != Status("OK") or r2 != b"v%d" % i:
                self.bad.append("SET/GET %s: %r %r" % (k, r1, r2))
            self.done += 2
            i += 1
            time.sleep(0.002)

    def stop(self, what):
        self.stopping.set()
        self.thread.join(self.limit + 5)
        self.c.close()
        check(not self.bad, "steady load during %s: %s" % (what, self.bad[:3]))
        check(self.done > 0, "steady load during %s made no progress" % what)
        return self.done


# --- (a) a pnode killed under load -------------------------------------------

def test_pnode_killed_under_load_fails_only_its_keys_and_recovers():
    cl = cluster()
    down, up = cl.servers[1], cl.servers[0]
    bench = subprocess.Popen(
        [RINGBENCH, "-h", HOST, "-p", str(cl.proxy.port), "-c", "4", "--duration", "4",
         "--rate", "2000", "-r", "2000", "--per-pnode", cl.ring, "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(1.0)
        down.stop()
        time.sleep(1.0)
        down.start()
        restarted = time.monotonic()
        probe = cl.raw()
        key = cl.keys[down.pnode][0]
        # Recovery within the reconnect backoff (cap 200 ms) plus a connect.
        wait_until(lambda: probe.call("SET", key, "back") == Status("OK"), 3.0,
                   "SET on the restarted pnode through the proxy", step=0.02)
        print("     recovered %.0f ms after the pnode restarted"
              % ((time.monotonic() - restarted) * 1000))
        probe.close()
        out, err = bench.communicate(timeout=30)
    finally:
        if bench.poll() is None:
            bench.kill()
            bench.wait()
    eq(bench.returncode, 0, "ringbench exit status (stderr %r)" % err.decode()[-300:])
    rep = json.loads(out)
    per = {p["pnode"]: p for p in rep["per_pnode"]}
    check(per[up.pnode]["requests"] > 1000, "too little load on the live pnode: %r" % per)
    eq(per[up.pnode]["errors"], 0, "errors for the live pnode's keys")
    check(per[down.pnode]["errors"] > 0, "no errors while a pnode was down: %r" % per)
    check(per[down.pnode]["errors"] < per[down.pnode]["requests"],
          "the killed pnode's keys never recovered: %r" % per)
    eq(rep["errors"]["other"], 0, "errors other than unavailable (first %r)"
       % rep["first_error"])
    check("unavailable" in rep["first_error"], "first error %r" % rep["first_error"])
    check(cl.proxy.alive(), "ringproxy exited")


# --- (b) a pnode that accepts but never answers -------------------------------

def test_mute_pnode_times_out_while_others_are_served():
    live = RedisServer()
    mute = socket.socket()
    mute.bind((HOST, 0))
    mute.listen(64)
    pn = "tcp://%s:%d" % (HOST, mute.getsockname()[1])
    ring = make_ring([live, pn], vnodes=128)
    p = Proxy(ring, config=dict(CONFIG, **{"server-timeout-ms": 2000}))
    per = keys_per_pnode(ring, [live, pn], "mute:", 5)
    c, other = p.raw(), p.raw()
    try:
        t0 = time.monotonic()
        # One pipeline: the mute pnode's request first, a live one behind it.
        c.send(encode_all([("GET", per[pn][0]), ("SET", per[live.pnode][0], "behind")]))
        # Meanwhile another client is served at once, on both workers' paths.
        for k in per[live.pnode][1:]:
            eq(other.call("SET", k, "x"), Status("OK"), "SET %s while a pnode is mute" % k)
            eq(other.call("GET", k), b"x", "GET %s while a pnode is mute" % k)
        check(time.monotonic() - t0 < 1.8,
              "live keys waited for the mute pnode's timeout")
        r = c.reply()
        took = time.monotonic() - t0
        assert_unavailable(r, pn)
        check(r.endswith("no reply within 2000 ms"), "timeout reason: %r" % str(r))
        check(1.9 <= took < 6.0, "the timeout error came after %.2fs (server-timeout 2 s)"
              % took)
        eq(c.reply(), Status("OK"), "the live request pipelined behind the mute one")
        # Still mute: the next request times out the same way, bounded.
        assert_unavailable(c.call("GET", per[pn][1]), pn)
        # (Checked on the server: a request through the proxy now, after the
        # live connection idled for 2 s, can hit the timeout bug that
        # tests/test_server_timeout.py shows.)
        eq(live.client().get(per[live.pnode][0]), b"behind", "the pipelined SET applied")
    finally:
        c.close()
        other.close()
        mute.close()
    check(p.alive(), "ringproxy exited")
    eq(p.stop(), 0, "exit status after SIGTERM")


# --- (c) 5,000 idle clients ----------------------------------------------------

def test_5000_idle_clients_and_steady_load():
    cl = cluster()
    pid = cl.proxy.proc.pid
    load = Load(cl, cl.keys[cl.servers[0].pnode] + cl.keys[cl.servers[1].pnode])
    idle = []
    try:
        time.sleep(0.3)
        before = rss_kb(pid)
        for _ in range(IDLE_CLIENTS):
            s = socket.create_connection((HOST, cl.proxy.port), timeout=10)
            idle.append(s)
        # A PING on each proves the proxy accepted it (not just the kernel).
        for s in idle:
            s.sendall(b"PING\r\n")
        for i, s in enumerate(idle):
            got = b""
            while not got.endswith(b"\r\n"):
                d = s.recv(16)
                check(d, "idle client %d closed by the proxy" % i)
                got += d
            eq(got, b"+PONG\r\n", "PING on idle client %d" % i)
        time.sleep(0.5)
        after = rss_kb(pid)
        per = (after - before) * 1024.0 / IDLE_CLIENTS
        print("     proxy RSS %d KB -> %d KB with %d idle clients: %.0f bytes per idle client"
              % (before, after, IDLE_CLIENTS, per))
        check(per < 64 * 1024, "%.0f bytes per idle client (leak per connection?)" % per)
        served = load.done
        time.sleep(0.5)
        check(load.done > served, "steady load stalled with %d idle clients" % IDLE_CLIENTS)
        fresh = cl.raw()
        eq(fresh.call("PING"), Status("PONG"), "a new client with %d idle" % IDLE_CLIENTS)
        fresh.close()
    finally:
        for s in idle:
            s.close()
        n = load.stop("5,000 idle clients")
    print("     steady load: %d requests, slowest SET+GET %.0f ms" % (n, load.slowest * 1000))
    check(cl.proxy.alive(), "ringproxy exited")


# --- (d) slowloris --------------------------------------------------------------

def test_slowloris_does_not_hold_up_others():
    cl = cluster()
    key = cl.keys[cl.servers[0].pnode][1]
    eq(cl.raw().call("SET", key, "slow"), Status("OK"), "SET")
    load = Load(cl, cl.keys[cl.servers[1].pnode] + cl.keys[cl.servers[0].pnode][2:])
    slow = cl.raw()
    try:
        # 22 bytes, one every 0.14 s: about 3 s for one request.
        slow.send_slowly(encode("GET", key), chunk=1, pause=0.14)
        eq(slow.reply(), b"slow", "the slowloris request's reply")
    finally:
        slow.close()
        n = load.stop("slowloris")
    check(n >= 50, "only %d requests served during a 3 s slowloris" % n)
    print("     %d requests served meanwhile, slowest SET+GET %.0f ms"
          % (n, load.slowest * 1000))


# --- (e) a client that sends a large pipeline and never reads ---------------------

def test_large_pipeline_never_read_keeps_the_proxy_bounded():
    # 5,000 GETs of a 32 KB value: 160 MB of replies the client never reads.
    # The proxy stops reading from it once 16 MB of replies wait for it
    # (client-output-limit-soft's default) and max-pipeline (1,024) more are
    # in flight, so it must forward far fewer than 5,000 and hold only those.
    # (It closes the client 10 s later; tests/test_limits.py tests that.)
    cl = cluster()
    pid = cl.proxy.proc.pid
    key = cl.keys[cl.servers[0].pnode][3]
    value = b"e" * 32768
    owner = cl.server_for(key)
    owner.client().set(key, value)
    calls0 = owner.get_calls()
    before = rss_kb(pid)
    hog = RawClient(cl.proxy.port)
    hog.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    sender = hog.send_in_background(encode_all(("GET", key) for _ in range(5000)))
    try:
        last, stable, deadline, peak = -1, 0, time.monotonic() + 15, before
        while stable < 4 and time.monotonic() < deadline:
            time.sleep(0.25)
            now = rss_kb(pid)
            peak = max(peak, now)
            stable = stable + 1 if abs(now - last) < 512 else 0
            last = now
        grown = peak - before
        forwarded = owner.get_calls() - calls0
        print("     %d of 5000 GETs forwarded; proxy RSS grew %d KB for a client with "
              "160 MB of unread replies" % (forwarded, grown))
        other = cl.raw()
        t = time.monotonic()
        eq(other.call("PING"), Status("PONG"), "another client's PING")
        eq(other.call("GET", key), value, "another client's GET of the same key")
        check(time.monotonic() - t < 5.0, "another client waited %.1fs"
              % (time.monotonic() - t))
        other.close()
        check(forwarded < 4000, "ringproxy forwarded %d of 5000 requests for a client "
              "that does not read" % forwarded)
        # Each reply it holds may cost a few times its 32 KB (evbuffer
        # chains, allocator), never more: a copy kept twice would show.
        per_reply = grown * 1024.0 / max(forwarded, 1)
        print("     %.0f KB of proxy RSS per forwarded 32 KB reply" % (per_reply / 1024))
        check(per_reply < 3 * len(value), "%.0f KB of proxy RSS per 32 KB reply held"
              % (per_reply / 1024))
        # It may still read its first replies, in order.
        for i in range(5):
            eq(hog.reply(), value, "reply %d to the slow reader" % i)
    finally:
        hog.close()
        sender.join(10)
    # Closing it with replies pending must not disturb anyone.
    c = cl.raw()
    eq(c.call("PING"), Status("PONG"), "PING after the slow reader left")
    c.close()
    check(cl.proxy.alive(), "ringproxy exited")


# --- (f) hostile frames ------------------------------------------------------------

HOSTILE = {
    "bulk length 2^31": b"*1\r\n$2147483648\r\n",
    "multibulk count 1048577": b"*1048577\r\n",
    "20-digit bulk length": b"*1\r\n$99999999999999999999\r\n",
    "20-digit multibulk count": b"*99999999999999999999\r\n",
    "deep nesting": b"*1\r\n" * 10000 + b"$4\r\nPING\r\n",
    "binary garbage after '*'": b"*\xff\xfe\x00\x01\r\n",
    "garbage length bytes": b"*1\r\n$\x00\x01\x02junk\r\n",
    "negative multibulk count inside a bulk": b"*2\r\n$3\r\nGET\r\n*-1\r\n",
}


def bad_frame(cl, name, frame):
    bystander = cl.raw()
    key = cl.keys[cl.servers[1].pnode][4]
    eq(bystander.call("SET", key, "by"), Status("OK"), "bystander SET")
    c = cl.raw()
    c.send(frame + encode("PING"))
    try:
        assert_protocol_error(c.reply())
    except Closed:
        raise AssertionError("%s: closed without an error reply" % name)
    check(c.expect_closed(), "%s: connection not closed after the protocol error" % name)
    c.close()
    eq(bystander.call("GET", key), b"by", "bystander GET after %s" % name)
    bystander.close()
    check(cl.proxy.alive(), "ringproxy exited after %s" % name)


def test_hostile_frames_close_only_their_client():
    cl = cluster()
    for name, frame in HOSTILE.items():
        bad_frame(cl, name, frame)


def test_truncated_frames_then_hangup():
    # Half a request, then the client goes away: no reply, nothing leaks
    # into another client, the proxy carries on.
    cl = cluster()
    for frame in (b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\nabc", b"*2\r\n$3\r\nGE",
                  b"*1048576\r\n$1\r\n", b"GET incompl"):
        c = cl.raw()
        c.send(frame)
        c.sock.shutdown(socket.SHUT_WR)
        check(c.expect_closed(), "%r: the proxy kept a half-closed client open" % frame)
        eq(c.buf, b"", "%r: reply to a truncated frame" % frame)
        c.close()
    c = cl.raw()
    eq(c.call("PING"), Status("PONG"), "PING afterwards")
    c.close()
    check(cl.proxy.alive(), "ringproxy exited")


run(globals())
