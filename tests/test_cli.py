"""ringproxy's command line and life cycle: --check loads and validates
without connecting anywhere, bad flags/config/ring give a one-line error
and a non-zero exit, config options and their command-line overrides,
SIGTERM/SIGINT exit 0 after in-flight replies and remove the pidfile."""

import fcntl
import os
import shutil
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from proxytest import (FIXTURE_1M, HOST, RINGPROXY, TOP_SRCDIR, Proxy,  # noqa: E402
                       RedisServer, Status, check, encode, eq, free_port, lazy,
                       make_ring, port_open, run, run_cmd, tmpdir, wait_until,
                       write_config)

server = lazy(RedisServer)
ring = lazy(lambda: make_ring([server()], vnodes=64))


def proxy_cmd(*args, timeout=60):
    r = run_cmd([RINGPROXY] + [str(a) for a in args], timeout=timeout)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def listen_addr():
    return "%s:%d" % (HOST, free_port())


def assert_one_line_error(args, what, mentions=None):
    rc, out, err = proxy_cmd(*args, timeout=20)
    check(rc != 0, "%s: exit status 0 (stdout %r)" % (what, out[-200:]))
    lines = [l for l in err.splitlines() if l.strip()]
    check(len(lines) == 1, "%s: expected a one-line error on stderr, got %r" % (what, err))
    if mentions:
        check(mentions in lines[0], "%s: the error %r does not mention %r" % (what, lines[0], mentions))
    return lines[0]


def test_check_on_the_1m_fixture():
    check(os.path.isdir(FIXTURE_1M), "fixture not found at %s" % FIXTURE_1M)
    d = os.path.join(tmpdir(), "ring")
    shutil.copytree(FIXTURE_1M, d)
    for root, dirs, files in os.walk(d):
        for n in dirs + files:
            os.chmod(os.path.join(root, n), 0o755 if n in dirs else 0o644)
    # Its pnodes are private addresses: --check must not connect to them
    # (it never connects anywhere).
    rc, out, err = proxy_cmd("-r", d, "-l", listen_addr(), "--check", timeout=120)
    eq(rc, 0, "--check exit status (stderr %r)" % err[-300:])
    check("1000000" in out + err, "--check summary lacks the vnode count: %r" % (out + err))
    check("sha256" in out + err, "--check summary lacks the algorithm: %r" % (out + err))


def test_check_connects_nowhere_and_binds_nothing():
    lsock = socket.socket()
    lsock.bind((HOST, 0))
    lsock.listen(16)
    lsock.setblocking(False)
    pnode = "tcp://%s:%d" % (HOST, lsock.getsockname()[1])
    dead = "tcp://%s:%d" % (HOST, free_port())
    r = make_ring([pnode, dead], vnodes=128)
    port = free_port()
    t = time.monotonic()
    rc, out, err = proxy_cmd("-r", r, "-l", "%s:%d" % (HOST, port), "--check")
    eq(rc, 0, "--check exit status (stderr %r)" % err)
    check(time.monotonic() - t < 10, "--check took too long")
    check("128" in out + err, "--check summary lacks the vnode count: %r" % (out + err))
    try:
        lsock.accept()
        raise AssertionError("--check connected to a pnode")
    except BlockingIOError:
        pass
    lsock.close()
    # And with preconnect on in the config, still nothing.
    conf = write_config({"preconnect": "yes"})
    rc, out, err = proxy_cmd("-r", r, "-l", "%s:%d" % (HOST, port), "-c", conf, "--check")
    eq(rc, 0, "--check with preconnect exit status (stderr %r)" % err)


def test_check_accepts_the_sample_config():
    conf = os.path.join(TOP_SRCDIR, "etc", "ringproxy.conf")
    rc, out, err = proxy_cmd("-c", conf, "-r", ring(), "-l", listen_addr(), "--check")
    eq(rc, 0, "--check with etc/ringproxy.conf (stderr %r)" % err)


def test_check_rejects_bad_rings():
    missing = os.path.join(tmpdir(), "nosuch")
    assert_one_line_error(["-r", missing, "-l", listen_addr(), "--check"], "missing ring dir")
    check(not os.path.exists(missing), "--check created the missing ring directory")
    junk = tmpdir()
    with open(os.path.join(junk, "CURRENT"), "w") as f:
        f.write("garbage\n")
    assert_one_line_error(["-r", junk, "-l", listen_addr(), "--check"], "corrupt ring dir")
    empty = tmpdir()
    assert_one_line_error(["-r", empty, "-l", listen_addr(), "--check"], "empty ring dir")
    assert_one_line_error(["-r", missing, "-l", listen_addr()], "missing ring dir without --check")


def test_a_locked_ring_is_reported_at_once():
    # LevelDB's lock, as a running ring-tool holds it.
    r = make_ring([server()], vnodes=16)
    with open(os.path.join(r, "LOCK"), "a+") as f:
        fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        t = time.monotonic()
        line = assert_one_line_error(["-r", r, "-l", listen_addr(), "--check"], "locked ring")
        check("lock" in line, "the error does not say the ring is locked: %r" % line)
        assert_one_line_error(["-r", r, "-l", listen_addr()], "locked ring without --check")
        check(time.monotonic() - t < 15, "a locked ring was waited on")


def test_bad_flags():
    r = ring()
    assert_one_line_error(["-r", r, "-l", listen_addr(), "--no-such-flag"], "unknown flag",
                          "no-such-flag")
    assert_one_line_error(["-l", listen_addr()], "no ring")
    assert_one_line_error(["-r", r, "-l", "nonsense"], "bad listen address", "nonsense")
    assert_one_line_error(["-r", r, "-l", "127.0.0.1:99999"], "bad listen port")
    assert_one_line_error(["-r", r, "-l", listen_addr(), "-t", "abc"], "bad thread count")
    assert_one_line_error(["-r", r, "-l", listen_addr(), "-t", "-1"], "negative thread count")
    assert_one_line_error(["-r", r, "-l", listen_addr(), "--log-level", "loud"], "bad log level",
                          "loud")
    assert_one_line_error(["-r", r, "-l", listen_addr(), "-c", "/nonexistent/ringproxy.conf"],
                          "missing config file")
    assert_one_line_error(["-r", r, "-l", listen_addr(), "extra-argument"], "stray argument")


def test_bad_config_files():
    r = ring()
    for opts, what in (({"no-such-option": "1"}, "no-such-option"),
                       ({"threads": "many"}, "threads"),
                       ({"connect-timeout-ms": "-5"}, "connect-timeout-ms"),
                       ({"hash-tags": "maybe"}, "hash-tags"),
                       ({"max-clients": ""}, "max-clients"),
                       ({"log-level": "chatty"}, "log-level")):
        conf = write_config(opts)
        line = assert_one_line_error(["-r", r, "-l", listen_addr(), "-c", conf, "--check"],
                                     "config %r" % opts)
        check(what in line, "config error %r does not name %r" % (line, what))


def test_listen_port_in_use():
    busy = socket.socket()
    busy.bind((HOST, 0))
    busy.listen(1)
    addr = "%s:%d" % (HOST, busy.getsockname()[1])
    assert_one_line_error(["-r", ring(), "-l", addr], "port in use")
    busy.close()


def test_config_file_supplies_ring_and_listen():
    port = free_port()
    conf = write_config({"ring": ring(), "listen": "%s:%d" % (HOST, port), "threads": 1,
                         "admin": "%s:%d" % (HOST, free_port())})
    p = Proxy(port=port, argv=["-c", conf])
    c = p.raw()
    eq(c.call("SET", "cfg:a", "1"), Status("OK"), "SET through a config-only proxy")
    c.close()
    eq(p.stop(), 0, "exit status")


def test_command_line_overrides_config():
    conf = write_config({"ring": "/nonexistent/ring", "listen": "%s:%d" % (HOST, free_port())})
    p = Proxy(ring(), config=conf, args=["--log-level", "warn"])   # -r and -l given too
    c = p.raw()
    eq(c.call("PING"), Status("PONG"), "PING on the command-line port")
    c.close()
    eq(p.stop(), 0, "exit status")


def test_long_options():
    port = free_port()
    conf = write_config({"hash-tags": "no", "admin": "%s:%d" % (HOST, free_port())})
    p = Proxy(port=port, argv=["--ring", ring(), "--listen", "%s:%d" % (HOST, port),
                               "--threads", "2", "--config", conf])
    eq(p.raw().call("PING"), Status("PONG"), "PING")
    eq(p.stop(), 0, "exit status")


def test_default_thread_count():
    # No -t, and "threads 0" in the config: one worker per core.
    for p in (Proxy(ring(), threads=0), Proxy(ring(), threads=0, config={"threads": 0})):
        cs = [p.raw() for _ in range(8)]
        for n, c in enumerate(cs):
            eq(c.call("SET", "dt:%d" % n, n), Status("OK"), "SET on connection %d" % n)
            eq(c.call("GET", "dt:%d" % n), str(n).encode(), "GET on connection %d" % n)
            c.close()
        eq(p.stop(), 0, "exit status")


def test_sigterm_exits_0_and_removes_the_pidfile():
    for sig in (signal.SIGTERM, signal.SIGINT):
        pidfile = os.path.join(tmpdir(), "ringproxy.pid")
        p = Proxy(ring(), args=["--pidfile", pidfile])
        wait_until(lambda: os.path.exists(pidfile), 5, "the pidfile")
        with open(pidfile) as f:
            eq(f.read().strip(), str(p.proc.pid), "pidfile content")
        idle = p.raw()                 # an idle client must not delay exit
        eq(idle.call("PING"), Status("PONG"), "PING")
        eq(p.stop(sig), 0, "exit status after signal %d" % sig)
        check(not os.path.exists(pidfile), "pidfile left behind after signal %d" % sig)
        check(not port_open(p.port), "still listening after exit")
        idle.close()


def test_sigterm_finishes_in_flight_replies():
    p = Proxy(ring())
    c = p.raw()
    # A script that keeps its pnode busy for 1.5 s: its reply is in flight
    # when the signal arrives, and meanwhile the proxy stops accepting.
    busy = ("local s = redis.call('TIME') local t0 = s[1] * 1000000 + s[2] "
            "while true do local n = redis.call('TIME') "
            "if n[1] * 1000000 + n[2] - t0 > 1500000 then break end end return 7")
    c.send(encode("EVAL", busy, 1, "busy:k"))
    time.sleep(0.15)
    p.proc.send_signal(signal.SIGTERM)
    wait_until(lambda: not port_open(p.port), 1.0, "the listener to close after SIGTERM")
    check(p.alive(), "ringproxy exited before the reply in flight was sent")
    eq(c.reply(), 7, "reply of the request in flight at SIGTERM")
    eq(p.stop(sig=None), 0, "exit status")
    c.close()


def test_sigterm_under_load_exits_0():
    p = Proxy(ring())
    stop = threading.Event()
    errors = []

    def load():
        try:
            c = p.client()
            n = 0
            while not stop.is_set() and n < 200000:
                pipe = c.pipeline(transaction=False)
                for i in range(50):
                    pipe.set("load:%d" % i, n)
                pipe.execute()
                n += 1
        except Exception:
            pass                        # the proxy went away: expected
        except BaseException as e:
            errors.append(e)

    t = threading.Thread(target=load)
    t.start()
    time.sleep(0.5)
    try:
        eq(p.stop(signal.SIGTERM, wait=10), 0, "exit status under load")
    finally:
        stop.set()
        t.join(10)


run(globals())
