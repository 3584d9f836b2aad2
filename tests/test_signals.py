#!/usr/bin/python3
"""test_signals: SIGHUP during ringproxy's startup is held for its reload
handler (it neither kills the proxy nor is lost), and SIGHUP reloads even
when the parent started ringproxy with it blocked; a real redis-server on
loopback."""

import errno
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxytest import *  # noqa: E402,F401,F403

cluster = lazy(lambda: Cluster(n=1, vnodes=64, start=False))


def reloads(proxy):
    return proxy.stderr().count("ring reloaded ")


def check_serves(cl, proxy, key):
    c = proxy.raw()
    eq(c.call("SET", key, "v"), Status("OK"), "SET through the proxy")
    eq(c.call("GET", key), b"v", "GET through the proxy")
    c.close()
    eq(cl.servers[0].client().get(key), b"v", "%s on the pnode" % key)


def test_sighup_during_startup():
    """A SIGHUP from the first moment ringproxy is provably in main(): its
    config file is a FIFO, and opening the FIFO's other end returns once
    ringproxy opened it, before the ring, the listener or any handler.
    (Before main, in the loader, nothing in the program can act.) More
    SIGHUPs follow until it has started."""
    cl = cluster()
    fifo = os.path.join(tmpdir(), "ringproxy.conf")
    os.mkfifo(fifo)
    proxy = Proxy(cl.ring, config=fifo, wait=False)

    def writer():
        check(proxy.alive(), "ringproxy exited with %s" % proxy.proc.returncode)
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as e:
            if e.errno == errno.ENXIO:  # no reader yet
                return None
            raise
    fd = wait_until(writer, START_TIMEOUT, "ringproxy opening its config FIFO")
    proxy.proc.send_signal(signal.SIGHUP)
    # The reloads read a plain file put in the FIFO's place before
    # ringproxy can read on: its FIFO stays open.
    text = "max-pipeline 128\n"
    with open(fifo + ".new", "w") as f:
        f.write(text)
    os.replace(fifo + ".new", fifo)
    try:
        os.write(fd, text.encode())
    except BrokenPipeError:
        pass  # the reader is gone: the loop below names the exit status
    os.close(fd)
    deadline = time.monotonic() + START_TIMEOUT
    sent = 1
    while "ringproxy started " not in proxy.stderr():
        check(proxy.alive(), "ringproxy exited with %s after %d SIGHUPs during startup: %s"
              % (proxy.proc.returncode, sent, proxy.stderr().strip()[-500:]))
        check(time.monotonic() < deadline, "ringproxy did not start within %.0fs"
              % START_TIMEOUT)
        proxy.proc.send_signal(signal.SIGHUP)
        sent += 1
        time.sleep(0.005)
    proxy.wait_up()
    wait_until(lambda: reloads(proxy) >= 1, START_TIMEOUT,
               "a reload for the SIGHUPs sent during startup (%d)" % sent)
    check(proxy.alive(), "ringproxy exited with %s" % proxy.proc.returncode)
    check("config reload rejected" not in proxy.stderr(),
          "a reload read a bad config: %s" % proxy.stderr())
    check_serves(cl, proxy, "sig:startup")
    print("     %d SIGHUPs during startup, %d reloads" % (sent, reloads(proxy)))
    eq(proxy.stop(), 0, "proxy exit status")


def test_sighup_reloads_when_started_with_it_blocked():
    """A parent that blocks SIGHUP passes the block on through exec; the
    proxy must still take SIGHUP once its handler is in place."""
    cl = cluster()
    proxy = Proxy(cl.ring, preexec_fn=lambda: signal.pthread_sigmask(signal.SIG_BLOCK,
                                                                     {signal.SIGHUP}))
    wait_until(lambda: "ringproxy started " in proxy.stderr(), START_TIMEOUT, "the start log")
    eq(reloads(proxy), 0, "reloads before any SIGHUP")
    proxy.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: reloads(proxy) == 1, START_TIMEOUT, "the reload for one SIGHUP")
    check_serves(cl, proxy, "sig:blocked")
    eq(proxy.stop(), 0, "proxy exit status")


run(globals())
