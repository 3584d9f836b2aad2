"""SIGHUP hot swap under load, and rings that must be rejected.

Three redis-servers; a client keeps pipelined SET/GET batches going while
the ring's vnodes are remapped between pnodes and the proxy gets SIGHUP 20
times: no error reply, no dropped connection, and afterwards every key is
written where the ring says. Then bad rings (not a ring, another vnode
count, a pnode that is not an address, an image held open) leave the old
ring serving and count as failed reloads in the admin endpoint. The tests
run in order on one proxy.
"""
import json
import os
import random
import shutil
import signal
import sys
import threading
import time
import types

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from proxytest import (HOST, START_TIMEOUT, Err, Proxy, RawClient, RedisServer,  # noqa: E402
                       Status, assert_readonly, check, check_prometheus, encode_all, eq,
                       free_port, get_nodes, hold_ring, http, kill, lazy, make_ring, mkring,
                       port_open, ring_info, ring_tool, run, set_data, tmpdir, vnode_owners,
                       wait_until)

VNODES = 1024
KEYS = ["after:%d" % i for i in range(300)]


def setup():
    env = types.SimpleNamespace()
    env.servers = [RedisServer() for _ in range(3)]
    env.names = [s.pnode for s in env.servers]
    env.ring = make_ring(env.servers, VNODES)
    env.aport = free_port()
    env.proxy = Proxy(env.ring, threads=2, args=["--admin", "%s:%d" % (HOST, env.aport),
                                                 "--log-level", "info"])
    wait_until(lambda: port_open(env.aport), START_TIMEOUT, "the admin port")
    env.gen = 1
    return env


reload_env = lazy(setup)


def admin(path, method="GET"):
    """The body of a successful admin request."""
    code, body, _ = http(reload_env().aport, path, method)
    eq(code, 200, "status of %s %s" % (method, path))
    return body


def stats():
    return json.loads(admin("/stats"))


def sighup(commits=1):
    """Signals a reload of the ring after commits changes (each one a
    generation); waits for its generation to be in force."""
    env = reload_env()
    env.gen += commits
    env.proxy.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: stats()["ring_generation"] == env.gen, 10,
               "generation %d in force" % env.gen, step=0.02)


class Load(threading.Thread):
    """Pipelined batches of SET/GET until stopped; counts what went wrong."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.stop = threading.Event()
        self.errors = []
        self.batches = 0

    def run(self):
        try:
            c = RawClient(self.port)
            i = 0
            while not self.stop.is_set():
                keys = ["load:%d" % ((i + j) % 5000) for j in range(50)]
                i += 50
                c.send(encode_all(cmd for k in keys for cmd in (("SET", k, k), ("GET", k))))
                for r in c.replies(2 * len(keys)):
                    if isinstance(r, Err):
                        self.errors.append(str(r))
                self.batches += 1
            c.close()
        except Exception as e:  # a dropped connection
            self.errors.append("%s: %s" % (type(e).__name__, e))


def test_admin_endpoints_at_start():
    eq(admin("/health").strip(), "ok", "/health")
    ringinfo = json.loads(admin("/ring"))
    check(ringinfo["vnodes"] == VNODES and len(ringinfo["pnodes"]) == 3, "/ring: %r" % ringinfo)
    metrics = admin("/metrics")
    check("# TYPE ringproxy_requests_total counter" in metrics and
          "ringproxy_ring_generation 1" in metrics, "/metrics")
    # /stats holds every sample of /metrics but the per-pnode ones.
    samples = [l for l in metrics.splitlines()
               if l and not l.startswith("#") and not l.startswith("ringproxy_pnode_")]
    keys = [k for k in stats() if k != "pnodes"]
    eq(len(keys), len(samples), "/stats keys against /metrics samples (%r)" % keys)


def test_20_reloads_under_load():
    env = reload_env()
    loads = [Load(env.proxy.port) for _ in range(2)]
    for t in loads:
        t.start()
    rnd = random.Random(7)
    owner = vnode_owners(env.ring, VNODES)
    for _ in range(20):
        # Eight remaps, each a generation: every one moves its vnode.
        for _ in range(8):
            v = rnd.randrange(VNODES)
            owner[v] = rnd.choice([n for n in env.names if n != owner[v]])
            ring_tool("remap-vnodes", "-l", env.ring, "-v", v, "-p", owner[v])
        sighup(8)
    time.sleep(0.3)
    for t in loads:
        t.stop.set()
        t.join(20)
    for t in loads:
        check(t.batches > 0 and not t.errors, "load: %d batches, errors %r"
              % (t.batches, t.errors[:3]))
    eq(vnode_owners(env.ring, VNODES), owner, "the ring after the remaps")
    st = stats()
    check(st["reloads_total_ok"] >= 20, "reloads counted")
    check(sum(p["requests"] for p in st["pnodes"].values()) >= st["requests_total_write_ok"] > 0,
          "per-pnode requests: %r" % st["pnodes"])
    check(all(p["inflight"] == 0 and p["errors"] == 0 for p in st["pnodes"].values()),
          "nothing in flight or failed: %r" % st["pnodes"])
    metrics = admin("/metrics")
    check_prometheus(metrics)
    check('ringproxy_pnode_latency_seconds_bucket{pnode="%s",le="+Inf"}' % env.names[0]
          in metrics, "latency histogram per pnode")


def test_keys_are_written_where_the_last_ring_says():
    env = reload_env()
    c = env.c = env.proxy.raw()
    c.send(encode_all(("SET", k, "final") for k in KEYS))
    for k in KEYS:
        eq(c.reply(), Status("OK"), "SET %s after reloads" % k)
    env.nodes = get_nodes(env.ring, KEYS)
    for s in env.servers:
        d = s.client()
        for k in KEYS:
            if env.nodes[k]["pnode"] == s.pnode:
                eq(d.get(k), b"final", "%s on %s after reloads" % (k, s.pnode))
        d.close()


def test_ro_set_and_cleared_by_reloads():
    env = reload_env()
    c = env.c
    v = env.nodes[KEYS[0]]["vnode"]
    set_data(env.ring, [v], "ro")
    sighup()
    before = stats()
    assert_readonly(c.call("SET", KEYS[0], "x"), v)
    eq(c.call("GET", KEYS[0]), b"final", "ro read served")
    set_data(env.ring, [v], "null")
    sighup()
    eq(c.call("SET", KEYS[0], "x"), Status("OK"), "SET after ro cleared")

    # Requests by class and result: the READONLY refusal, an unknown
    # command and a pnode's own error reply are failures of their class.
    r = c.call("NOSUCHCMD")
    check(isinstance(r, Err) and r.startswith("ERR unknown command"), "unknown command: %r" % (r,))
    r = c.call("INCR", KEYS[1])
    check(isinstance(r, Err) and r.startswith("ERR value is not an integer"),
          "pnode error passed on: %r" % (r,))
    eq(c.call("MGET", KEYS[1], KEYS[2]), [b"final", b"final"], "MGET")
    after = stats()
    for key, grew in (("write_error", 2), ("write_ok", 1), ("other_error", 1), ("multikey_ok", 1),
                      ("read_ok", 1), ("read_error", 0)):
        key = "requests_total_" + key
        check(after[key] - before[key] == grew,
              "%s grew by %d, not %d" % (key, after[key] - before[key], grew))


def test_renamed_pnode_is_retired_and_its_successor_serves():
    # A pnode that leaves the ring is closed once drained; its successor
    # (the same server under another name) serves its keys.
    env = reload_env()
    old = env.names[2]
    port2 = old.rsplit(":", 1)[1]
    ring_tool("rename-pnode", "-l", env.ring, old, "tcp://localhost:" + port2)
    sighup()
    nodes = get_nodes(env.ring, KEYS[1:])
    k2 = next(k for k in KEYS[1:] if nodes[k]["pnode"] == "tcp://localhost:" + port2)
    eq(env.c.call("GET", k2), b"final", "renamed pnode serves")
    wait_until(lambda: "backend retired pnode=%s" % old in env.proxy.stderr(), 10,
               "the old pnode to be retired")


def bad_reload(what, make):
    """make() puts a bad ring where the ring was: the reload fails, is
    counted, and the old ring keeps serving."""
    env = reload_env()
    failed = stats()["reloads_total_failed"]
    make()
    env.proxy.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: stats()["reloads_total_failed"] == failed + 1, 10,
               "%s: the reload to fail and be counted" % what, step=0.02)
    eq(stats()["ring_generation"], env.gen, "%s: generation in force" % what)
    eq(env.c.call("GET", KEYS[1]), b"final", "%s: old ring serves" % what)
    shutil.rmtree(env.ring, ignore_errors=True)


def test_bad_rings_leave_the_old_ring_serving():
    env = reload_env()
    env.good = os.path.join(tmpdir(), "good")
    shutil.move(env.ring, env.good)
    bad_reload("not a ring", lambda: os.makedirs(env.ring))
    bad_reload("vnode count", lambda: ring_tool("create", "-l", env.ring, "-v", 512,
                                                "-p", ",".join(env.names)))
    # ring-tool refuses such a pnode; mkring writes it through the library.
    bad_reload("bad pnode", lambda: mkring("create", env.ring, VNODES, "bogus"))
    shutil.copytree(env.good, env.ring)


def test_a_held_image_fails_the_reload_without_blocking_admin():
    env = reload_env()
    holder = hold_ring(env.ring, 5)
    failed = stats()["reloads_total_failed"]
    result = {}

    def post_reload():
        result["reply"] = http(env.aport, "/reload", "POST")

    poster = threading.Thread(target=post_reload)
    poster.start()
    time.sleep(0.05)
    # The admin endpoint answers while the reload thread still waits on the
    # lock (its retries last about 350 ms): no reply to the POST yet.
    eq(admin("/health").strip(), "ok", "/health during a reload")
    check(not result, "admin answered only after the reload: it blocked")
    poster.join(10)
    check(not poster.is_alive(), "locked image not waited on forever")
    code, body, _ = result["reply"]
    check(code != 200, "a held image must not reload: %d %s" % (code, body))
    out = json.loads(body)
    check(out["ok"] is False and "locked" in out["error"] and out["generation"] == env.gen,
          "locked image reported: %r" % out)
    eq(stats()["reloads_total_failed"], failed + 1, "failed reloads after the locked one")
    kill(holder)
    out = json.loads(admin("/reload", "POST"))
    check(out["ok"] is True and out["generation"] == env.gen, "reload after the lock: %r" % out)


def test_a_change_at_the_same_generation_is_applied_and_reported():
    # fash edits an image without touching RINGPROXY_GENERATION: the
    # reload must notice by the content checksum, apply it and say so.
    servers = [RedisServer() for _ in range(2)]
    ring = make_ring(servers, VNODES)
    aport = free_port()
    proxy = Proxy(ring, threads=2, args=["--admin", "%s:%d" % (HOST, aport),
                                         "--log-level", "info"])
    wait_until(lambda: port_open(aport), START_TIMEOUT, "the admin port")
    c = proxy.raw()
    key = "fash-edited"
    vnode, owner, _ = c.call("RING", "NODE", key)
    other = [s for s in servers if s.pnode != owner.decode()][0]
    before = ring_info(c.call("RING", "INFO"))
    eq(json.loads(http(aport, "/ring")[1])["checksum"], before["checksum"], "/ring checksum")

    mkring("fash-remap", ring, vnode, other.pnode)
    eq(get_nodes(ring, [key])[key]["pnode"], other.pnode, "the image's owner after the edit")
    proxy.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: c.call("RING", "NODE", key)[1] == other.pnode.encode(), 10,
               "the edited vnode %d to route to %s" % (vnode, other.pnode), step=0.02)
    after = ring_info(c.call("RING", "INFO"))
    eq(after["generation"], before["generation"], "generation (fash does not bump it)")
    check(after["checksum"] != before["checksum"],
          "RING INFO checksum unchanged after a content change: %r" % after)
    eq(json.loads(http(aport, "/ring")[1])["checksum"], after["checksum"], "/ring checksum")
    wait_until(lambda: "content changed at the same generation" in proxy.stderr(), 5,
               "the same-generation change to be logged")
    line = [l for l in proxy.stderr().splitlines() if "at the same generation" in l][0]
    check("checksum=%s previous=%s" % (after["checksum"], before["checksum"]) in line,
          "the log line names both checksums: %r" % line)
    eq(c.call("SET", key, "v"), Status("OK"), "SET after the edit")
    eq(other.client().get(key), b"v", "%s written on the new owner" % key)

    # A reload that changes nothing says so and keeps the checksum.
    proxy.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "ring content unchanged" in proxy.stderr(), 10,
               "an unchanged reload to be logged")
    eq(ring_info(c.call("RING", "INFO"))["checksum"], after["checksum"], "checksum kept")
    c.close()
    eq(proxy.stop(signal.SIGTERM), 0, "exit status after SIGTERM")


def test_error_replies_counted_by_kind():
    # A pnode's own error, an unsupported command.
    env = reload_env()
    c = env.c
    before = stats()
    r = c.call("LPUSH", KEYS[2], "x")
    check(isinstance(r, Err) and r.startswith("WRONGTYPE"), "pnode error passed on: %r" % (r,))
    r = c.call("MONITOR")
    check(isinstance(r, Err) and r.startswith("ERR command"), "unsupported: %r" % (r,))
    after = stats()
    check(after["error_replies_total_pnode"] == before["error_replies_total_pnode"] + 1 and
          after["error_replies_total_unsupported"] == before["error_replies_total_unsupported"] + 1,
          "error kinds counted")
    c.close()
    eq(env.proxy.stop(signal.SIGTERM), 0, "exit status after SIGTERM")


run(globals())
