"""The figures an operator looks for, in /metrics and /stats: each pnode's
share of vnodes and of keys, ro and migrating vnodes, pnode up/down, build
info, the last reload, process metrics; checked against the ring (as
ring-tool reads it), the pnodes themselves (DBSIZE) and /proc. A pnode
that dies is logged down once and up again once, whatever the number of
worker threads that find it so."""

import json
import os
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from proxytest import (START_TIMEOUT, TOP_SRCDIR, Cluster, RawClient, check,  # noqa: E402
                       check_prometheus, eq, http, lazy, port_open, rss_kb, run, vnode_owners,
                       wait_until)

VNODES = 1024
RO = [1, 2, 3]
MIGRATING = [7, 8]
THREADS = 3


def setup():
    before = time.time()
    cl = Cluster(n=3, vnodes=VNODES, threads=THREADS, ro=RO,
                 data={"migrating tcp://127.0.0.1:1": MIGRATING},
                 config={"log-level": "debug", "reconnect-min-ms": 50,
                         "reconnect-max-ms": 200, "connect-timeout-ms": 500})
    cl.started = before
    cl.aport = int(cl.proxy.admin.rsplit(":", 1)[1])
    wait_until(lambda: port_open(cl.aport), START_TIMEOUT, "the admin port")
    return cl


cluster = lazy(setup)


def admin(cl, path):
    status, body, _ = http(cl.aport, path)
    eq(status, 200, "GET %s" % path)
    return body


def version():
    with open(os.path.join(TOP_SRCDIR, "configure.ac")) as f:
        return re.search(r"AC_INIT\(\[ringproxy\], \[([^]]+)\]", f.read()).group(1)


def test_every_sample_passes_promtool():
    check_prometheus(admin(cluster(), "/metrics"))


def test_vnode_shares_match_the_ring():
    cl = cluster()
    owners = vnode_owners(cl.ring, VNODES)
    m = cl.proxy.metrics()
    for s in cl.servers:
        want = sum(1 for o in owners.values() if o == s.pnode)
        label = 'pnode="%s"' % s.pnode
        eq(m[("ringproxy_pnode_vnodes", label)], want, "vnodes of %s" % s.pnode)
        check(abs(m[("ringproxy_pnode_vnodes_ratio", label)] - want / VNODES) < 1e-9,
              "vnode share of %s" % s.pnode)
    eq(m[("ringproxy_ring_vnodes", "")], VNODES, "ring vnodes")
    eq(m[("ringproxy_ro_vnodes", "")], len(RO), "ro vnodes")
    eq(m[("ringproxy_migrating_vnodes", "")], len(MIGRATING), "migrating vnodes")


def test_key_shares_are_the_pnodes_dbsize():
    cl = cluster()
    c = RawClient(cl.proxy.port)
    for i in range(60):
        c.call("SET", "metrics:%d" % i, "v")
    c.close()
    want = {s.pnode: s.client().dbsize() for s in cl.servers}
    check(sum(want.values()) == 60 and all(want.values()), "keys on every pnode: %r" % want)

    def polled():
        m = cl.proxy.metrics()
        return all(m.get(("ringproxy_pnode_keys", 'pnode="%s"' % p)) == n for p, n in want.items())
    # The admin thread asks every 5 s.
    wait_until(polled, 12, "ringproxy_pnode_keys to equal each pnode's DBSIZE %r" % want)
    m = cl.proxy.metrics()
    for p, n in want.items():
        check(abs(m[("ringproxy_pnode_keys_ratio", 'pnode="%s"' % p)] - n / 60) < 1e-9,
              "key share of %s" % p)
    st = json.loads(admin(cl, "/stats"))
    for p, n in want.items():
        eq(st["pnodes"][p]["keys"], n, "/stats keys of %s" % p)
        eq(st["pnodes"][p]["vnodes"], m[("ringproxy_pnode_vnodes", 'pnode="%s"' % p)],
           "/stats vnodes of %s" % p)


def test_build_info_and_last_reload():
    cl = cluster()
    m = cl.proxy.metrics()
    info = [k for k in m if k[0] == "ringproxy_build_info"]
    eq(len(info), 1, "one build_info sample")
    check('version="%s"' % version() in info[0][1], "build_info labels %r" % info[0][1])
    eq(m[info[0]], 1, "build_info value")
    eq(m[("ringproxy_last_reload_success", "")], 1, "the start counts as a good load")
    t0 = m[("ringproxy_last_reload_timestamp_seconds", "")]
    check(cl.started - 1 <= t0 <= time.time() + 1, "start load time %r" % t0)

    # A reload that fails (the image is gone) sets success 0, then a good one 1.
    moved = cl.ring + ".away"
    shutil.move(cl.ring, moved)
    try:
        status, _, _ = http(cl.aport, "/reload", method="POST")
        eq(status, 500, "POST /reload with no image")
        m = cl.proxy.metrics()
        eq(m[("ringproxy_last_reload_success", "")], 0, "after a failed reload")
        check(m[("ringproxy_last_reload_timestamp_seconds", "")] >= t0, "failed reload time")
    finally:
        shutil.move(moved, cl.ring)
    eq(http(cl.aport, "/reload", method="POST")[0], 200, "POST /reload")
    eq(cl.proxy.metrics()[("ringproxy_last_reload_success", "")], 1, "after a good reload")


def proc_limit(pid):
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max open files"):
                return int(line.split()[3])
    raise AssertionError("no open files limit")


def test_process_metrics_match_proc():
    cl = cluster()
    pid = cl.proxy.proc.pid
    m = cl.proxy.metrics()
    fds = len(os.listdir("/proc/%d/fd" % pid))
    # The scrape's own connection comes and goes.
    check(abs(m[("process_open_fds", "")] - fds) <= 2, "open fds %r, /proc has %d"
          % (m[("process_open_fds", "")], fds))
    # A wrapper (valgrind) keeps a few descriptors of the limit for itself.
    limit = proc_limit(pid)
    check(limit - 64 <= m[("process_max_fds", "")] <= limit, "max fds %r, limit %d"
          % (m[("process_max_fds", "")], limit))
    rss = rss_kb(pid) * 1024
    check(0.5 * rss <= m[("process_resident_memory_bytes", "")] <= 2 * rss,
          "resident bytes %r, VmRSS %d" % (m[("process_resident_memory_bytes", "")], rss))
    start = m[("process_start_time_seconds", "")]
    # The clock ticks of /proc are coarse: a second of slack.
    check(cl.started - 1 <= start <= time.time() + 1, "start time %r, test began %r"
          % (start, cl.started))
    cpu = m[("process_cpu_seconds_total", "")]
    check(0 <= cpu <= (time.time() - start) * (THREADS + 2), "cpu seconds %r" % cpu)
    st = json.loads(admin(cl, "/stats"))
    eq(st["process_max_fds"], m[("process_max_fds", "")], "/stats process_max_fds")


def log_lines(cl, text):
    return [l for l in cl.proxy.stderr().splitlines() if text in l]


def test_a_dead_pnode_is_down_once_and_up_again_once():
    cl = cluster()
    dead = cl.servers[2]
    keys = cl.pnode_keys("down:", 1)[dead.pnode]
    up = 'pnode="%s"' % dead.pnode
    eq(cl.proxy.metrics()[("ringproxy_pnode_up", up)], 1, "up before")
    dead.stop()
    # Connections until every worker meets the dead pnode: the workers
    # share one listening socket, so which one accepts a client is chance.
    conns = [RawClient(cl.proxy.port) for _ in range(24)]

    def all_workers_saw_it():
        if len(conns) < 240:
            conns.extend(RawClient(cl.proxy.port) for _ in range(8))
        for c in conns:
            c.call("GET", keys[0])
        workers = {re.search(r"worker=(\d+)", l).group(1)
                   for l in log_lines(cl, "backend down") if "pnode=%s " % dead.pnode in l}
        return len(workers) == THREADS
    wait_until(all_workers_saw_it, 10, "every worker to find %s down" % dead.pnode)
    eq(len(log_lines(cl, "backend down pnode=%s " % dead.pnode)), 1, "'backend down' lines")
    m = cl.proxy.metrics()
    eq(m[("ringproxy_pnode_up", up)], 0, "up while dead")
    for s in cl.servers[:2]:
        eq(m[("ringproxy_pnode_up", 'pnode="%s"' % s.pnode)], 1, "a live pnode's up")
    eq(json.loads(admin(cl, "/stats"))["pnodes"][dead.pnode]["up"], 0, "/stats up while dead")

    dead.start()

    def all_back():
        for c in conns:
            c.call("GET", keys[0])
        return cl.proxy.metrics()[("ringproxy_pnode_up", up)] == 1
    wait_until(all_back, 10, "%s up again" % dead.pnode)
    for c in conns:
        c.close()
    eq(len(log_lines(cl, "backend up again pnode=%s " % dead.pnode)), 1, "'up again' lines")
    eq(len(log_lines(cl, "backend down pnode=%s " % dead.pnode)), 1, "'backend down' lines after")


def test_proxy_exits_cleanly():
    eq(cluster().proxy.stop(), 0, "ringproxy's exit status")


run(globals())
