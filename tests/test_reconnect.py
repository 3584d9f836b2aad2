"""A pnode that comes back after a long outage is used again within about
100 ms: requests retry a connect at least that often however long the
backoff (reconnect-max-ms) has grown, and no more often than that, so a
dead pnode does not get a connect storm."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from proxytest import Cluster, Err, RawClient, check, lazy, run  # noqa: E402

CONFIG = {"reconnect-min-ms": 100, "reconnect-max-ms": 5000, "connect-timeout-ms": 500,
          "backend-connections": 1}

cluster = lazy(lambda: Cluster(n=2, vnodes=64, config=CONFIG, threads=1))


def connects(cl, pnode):
    return cl.proxy.metrics()[("ringproxy_pnode_connects_total", 'pnode="%s"' % pnode)]


def test_a_restarted_pnode_is_used_within_a_second_of_its_return():
    cl = cluster()
    victim = cl.servers[0]
    key = cl.pnode_keys("rc:", 1)[victim.pnode][0]
    c = RawClient(cl.proxy.port)
    c.call("SET", key, "v")
    before = connects(cl, victim.pnode)
    victim.stop()
    # 3.5 s of requests, one each 10 ms: without the cap the backoff
    # would have grown past 3 s by now.
    failed = 0
    deadline = time.monotonic() + 3.5
    while time.monotonic() < deadline:
        r = c.call("GET", key)
        check(isinstance(r, Err), "GET while the pnode is down: %r" % (r,))
        failed += 1
        time.sleep(0.01)
    tried = connects(cl, victim.pnode) - before
    check(tried <= 3.5 / 0.1 + 5, "%d connect attempts for %d requests in 3.5 s"
          % (tried, failed))
    check(tried >= 10, "only %d connect attempts in 3.5 s" % tried)
    victim.start()
    back = time.monotonic()
    ok = None
    while time.monotonic() < back + 1.0:
        r = c.call("SET", key, "back")
        if not isinstance(r, Err):
            ok = time.monotonic() - back
            break
        time.sleep(0.01)
    check(ok is not None, "no request succeeded within 1 s of the pnode's return")
    c.close()


if __name__ == "__main__":
    run(globals())
