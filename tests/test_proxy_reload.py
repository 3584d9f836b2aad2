"""SIGHUP hot swap under load, and rings that must be rejected.

Three redis-servers; a client keeps pipelined SET/GET batches going while
the ring's vnodes are remapped between pnodes and the proxy gets SIGHUP 20
times: no error reply, no dropped connection, and afterwards every key is
written where the ring says. Then bad rings (not a ring, another vnode
count, a pnode that is not an address, an image held open) leave the old
ring serving and count as failed reloads in the admin endpoint.
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_proxy_smoke import (MKRING, PROCS, PROXY, Conn, Error, check, encode,  # noqa: E402
                              free_port, lookup, start_redis, wait_port)


def main():
    tmp = tempfile.mkdtemp(prefix="rp-reload-")
    try:
        run(tmp)
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


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
            c = Conn(self.port)
            i = 0
            while not self.stop.is_set():
                keys = ["load:%d" % ((i + j) % 5000) for j in range(50)]
                i += 50
                c.send(b"".join(encode("SET", k, k) + encode("GET", k) for k in keys))
                for k in keys:
                    for r in (c.reply(), c.reply()):
                        if isinstance(r, Error):
                            self.errors.append(str(r))
                self.batches += 1
        except Exception as e:  # a dropped connection
            self.errors.append("%s: %s" % (type(e).__name__, e))


def admin(port, path, method="GET"):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), method=method)
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read().decode()


def check_prometheus(text):
    """promtool's check (tools/deps.sh installs Debian's prometheus, which
    has it), then the text format's rules: each family's samples in one
    group after its TYPE line, values numbers, histogram buckets
    cumulative."""
    promtool = shutil.which("promtool")
    check(promtool is not None, "promtool is installed (Debian package prometheus)")
    res = subprocess.run([promtool, "check", "metrics"], input=text.encode(),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    check(res.returncode == 0 and not res.stdout.strip(),
          "promtool check metrics: %s" % res.stdout.decode(errors="replace"))
    typed, seen, current = {}, set(), None
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            check(name not in typed, "one TYPE for %s" % name)
            typed[name] = kind
            continue
        if line.startswith("#") or not line:
            continue
        name = line.split("{")[0].split(" ")[0]
        value = float(line.rsplit(" ", 1)[1])
        family = next((f for f in typed if name == f or
                       (typed[f] == "histogram" and name in (f + "_bucket", f + "_sum", f + "_count"))),
                      None)
        check(family is not None, "sample %s has a TYPE" % name)
        if family != current:
            check(family not in seen, "family %s in one group" % family)
            seen.add(family)
            current = family
        check(value >= 0, "value of %s" % name)


def stats(port):
    return json.loads(admin(port, "/stats"))


def wait_generation(aport, gen):
    deadline = time.time() + 10
    while stats(aport)["ring_generation"] != gen:
        check(time.time() < deadline, "generation %d in force" % gen)
        time.sleep(0.02)


def run(tmp):
    names = []
    for _ in range(3):
        port = free_port()
        start_redis(port, tmp)
        names.append("tcp://127.0.0.1:%d" % port)
    ring = os.path.join(tmp, "ring")
    subprocess.run([MKRING, "create", ring, "1024"] + names, check=True)
    pport, aport = free_port(), free_port()
    logpath = os.path.join(tmp, "proxy.log")
    proxy = subprocess.Popen([PROXY, "-r", ring, "-l", "127.0.0.1:%d" % pport, "-t", "2",
                              "--admin", "127.0.0.1:%d" % aport, "--log-level", "info"],
                             stderr=open(logpath, "w"))
    PROCS.append(proxy)
    wait_port(pport, proxy)
    wait_port(aport, proxy)
    check(admin(aport, "/health").strip() == "ok", "/health")
    ringinfo = json.loads(admin(aport, "/ring"))
    check(ringinfo["vnodes"] == 1024 and len(ringinfo["pnodes"]) == 3, "/ring: %r" % ringinfo)
    metrics = admin(aport, "/metrics")
    check("# TYPE ringproxy_requests_total counter" in metrics and
          "ringproxy_ring_generation 1" in metrics, "/metrics")

    loads = [Load(pport) for _ in range(2)]
    for t in loads:
        t.start()
    rnd = random.Random(7)
    gen = 1
    for i in range(20):
        for _ in range(8):
            subprocess.run([MKRING, "remap", ring, str(rnd.randrange(1024)), rnd.choice(names)],
                           check=True)
            gen += 1
        proxy.send_signal(signal.SIGHUP)
        wait_generation(aport, gen)
    time.sleep(0.3)
    for t in loads:
        t.stop.set()
        t.join(20)
    for t in loads:
        check(t.batches > 0 and not t.errors, "load: %d batches, errors %r" % (t.batches, t.errors[:3]))
    st = stats(aport)
    check(st["reloads_total_ok"] >= 20, "reloads counted")
    check(sum(p["requests"] for p in st["pnodes"].values()) >= st["requests_total_write_ok"] > 0,
          "per-pnode requests: %r" % st["pnodes"])
    check(all(p["inflight"] == 0 and p["errors"] == 0 for p in st["pnodes"].values()),
          "nothing in flight or failed: %r" % st["pnodes"])
    metrics = admin(aport, "/metrics")
    check_prometheus(metrics)
    check('ringproxy_pnode_latency_seconds_bucket{pnode="%s",le="+Inf"}' % names[0] in metrics,
          "latency histogram per pnode")

    # After the last reload every key is written where the ring says.
    c = Conn(pport)
    keys = ["after:%d" % i for i in range(300)]
    c.send(b"".join(encode("SET", k, "final") for k in keys))
    check(all(c.reply() == "OK" for _ in keys), "SETs after reloads")
    direct = {n: Conn(int(n.rsplit(":", 1)[1])) for n in names}
    for k, (_, pnode) in zip(keys, lookup(ring, keys)):
        check(direct[pnode].cmd("GET", k) == b"final", "%s on %s after reloads" % (k, pnode))

    # ro set and cleared by reloads.
    v = int(lookup(ring, [keys[0]])[0][0])
    subprocess.run([MKRING, "ro", ring, str(v), "ro"], check=True)
    gen += 1
    proxy.send_signal(signal.SIGHUP)
    wait_generation(aport, gen)
    before = stats(aport)
    check(c.cmd("SET", keys[0], "x") == "READONLY vnode %d is read-only (resharding)" % v, "ro")
    check(c.cmd("GET", keys[0]) == b"final", "ro read served")
    subprocess.run([MKRING, "ro", ring, str(v), "null"], check=True)
    gen += 1
    proxy.send_signal(signal.SIGHUP)
    wait_generation(aport, gen)
    check(c.cmd("SET", keys[0], "x") == "OK", "ro cleared")

    # Requests by class and result: the READONLY refusal, an unknown
    # command and a pnode's own error reply are failures of their class.
    check(c.cmd("NOSUCHCMD").startswith("ERR unknown command"), "unknown command")
    check(c.cmd("INCR", keys[1]).startswith("ERR value is not an integer"), "pnode error passed on")
    check(c.cmd("MGET", keys[1], keys[2]) == [b"final", b"final"], "MGET")
    after = stats(aport)
    for key, grew in (("write_error", 2), ("write_ok", 1), ("other_error", 1), ("multikey_ok", 1),
                      ("read_ok", 1), ("read_error", 0)):
        key = "requests_total_" + key
        check(after[key] - before[key] == grew,
              "%s grew by %d, not %d" % (key, after[key] - before[key], grew))

    # A pnode that leaves the ring is closed once drained; its successor
    # (the same server under another name) serves its keys.
    port2 = names[2].rsplit(":", 1)[1]
    subprocess.run([MKRING, "rename", ring, names[2], "tcp://localhost:" + port2], check=True)
    gen += 1
    proxy.send_signal(signal.SIGHUP)
    wait_generation(aport, gen)
    k2 = next(k for k, (_, p) in zip(keys[1:], lookup(ring, keys[1:])) if p.endswith(":" + port2))
    check(c.cmd("GET", k2) == b"final", "renamed pnode serves")
    deadline = time.time() + 10
    while "backend retired pnode=%s" % names[2] not in open(logpath).read():
        check(time.time() < deadline, "old pnode retired")
        time.sleep(0.05)

    # Bad rings: each leaves the old ring serving and counts as failed.
    good = os.path.join(tmp, "good")
    shutil.move(ring, good)

    def bad_reload(what, make):
        failed = stats(aport)["reloads_total_failed"]
        make()
        proxy.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while stats(aport)["reloads_total_failed"] != failed + 1:
            check(time.time() < deadline, "%s: reload failed and counted" % what)
            time.sleep(0.02)
        check(stats(aport)["ring_generation"] == gen, "%s: old generation kept" % what)
        check(c.cmd("GET", keys[1]) == b"final", "%s: old ring serves" % what)
        shutil.rmtree(ring, ignore_errors=True)

    bad_reload("not a ring", lambda: os.makedirs(ring))
    bad_reload("vnode count", lambda: subprocess.run([MKRING, "create", ring, "512"] + names,
                                                     check=True))
    bad_reload("bad pnode", lambda: subprocess.run([MKRING, "create", ring, "1024", "bogus"],
                                                   check=True))
    shutil.copytree(good, ring)
    holder = subprocess.Popen([MKRING, "hold", ring, "5"], stdout=subprocess.PIPE)
    PROCS.append(holder)
    check(holder.stdout.readline().strip() == b"held", "image held open")
    failed = stats(aport)["reloads_total_failed"]
    result = {}

    def post_reload():
        try:
            result["body"] = admin(aport, "/reload", "POST")
        except urllib.error.HTTPError as e:
            result["error"] = json.loads(e.read().decode())

    poster = threading.Thread(target=post_reload)
    poster.start()
    time.sleep(0.05)
    # The admin endpoint answers while the reload thread still waits on the
    # lock (its retries last about 350 ms): no reply to the POST yet.
    check(admin(aport, "/health").strip() == "ok", "/health during a reload")
    check(not result, "admin answered only after the reload: it blocked")
    poster.join(10)
    check(not poster.is_alive(), "locked image not waited on forever")
    check("body" not in result, "a held image must not reload")
    out = result["error"]
    check(out["ok"] is False and "locked" in out["error"] and out["generation"] == gen,
          "locked image reported: %r" % out)
    check(stats(aport)["reloads_total_failed"] == failed + 1, "locked counted")
    holder.kill()
    holder.wait()
    out = json.loads(admin(aport, "/reload", "POST"))
    check(out["ok"] is True and out["generation"] == gen, "reload after the lock: %r" % out)

    # Counters by error kind: a pnode's own error, an unsupported command.
    before = stats(aport)
    check(c.cmd("LPUSH", keys[2], "x").startswith("WRONGTYPE"), "pnode error passed on")
    check(c.cmd("KEYS", "*").startswith("ERR command"), "unsupported")
    after = stats(aport)
    check(after["error_replies_total_pnode"] == before["error_replies_total_pnode"] + 1 and
          after["error_replies_total_unsupported"] == before["error_replies_total_unsupported"] + 1,
          "error kinds counted")

    proxy.send_signal(signal.SIGTERM)
    check(proxy.wait(10) == 0, "clean exit")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:
        import traceback
        traceback.print_exc()
        print("FAIL: %s: %s" % (type(e).__name__, e))
        sys.exit(1)
    print("ok")
