"""ringproxy's config file and its limits, with real redis-servers.

A config file sets small limits: max-pipeline (back-pressure keeps order
and memory bounded), client-idle-timeout, max-clients, a server timeout
against a pnode that accepts but never answers, hash tags and dirname
routing. Also --check and bad configs.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_proxy_smoke import (MKRING, PROCS, PROXY, Conn, Error, check, encode,  # noqa: E402
                              free_port, lookup, start_redis, wait_port)


def main():
    tmp = tempfile.mkdtemp(prefix="rp-config-")
    silent = socket.socket()
    try:
        run(tmp, silent)
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.kill()
                p.wait()
        silent.close()
        shutil.rmtree(tmp, ignore_errors=True)


def run(tmp, silent):
    ports = [free_port(), free_port()]
    names = []
    for port in ports:
        start_redis(port, tmp)
        names.append("tcp://127.0.0.1:%d" % port)
    # A pnode that accepts connections and never replies.
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    mute = "tcp://127.0.0.1:%d" % silent.getsockname()[1]
    ring = os.path.join(tmp, "ring")
    subprocess.run([MKRING, "create", ring, "256"] + names + [mute], check=True)
    conf = os.path.join(tmp, "ringproxy.conf")
    with open(conf, "w") as f:
        f.write("# test config\nthreads 1\nmax-pipeline 4\nclient-idle-timeout 1\n"
                "max-clients 6\nserver-timeout-ms 300\nhash-tags yes\ndirname-routing yes\n"
                "log-level error\nadmin\npreconnect yes\nmax-request-bytes 4096\n")

    # --check validates and prints a summary without connecting.
    out = subprocess.run([PROXY, "-r", ring, "-c", conf, "--check"], capture_output=True,
                         text=True, timeout=20)
    check(out.returncode == 0 and "vnodes: 256" in out.stdout and mute in out.stdout,
          "--check: %r" % out.stdout)
    bad = os.path.join(tmp, "bad.conf")
    for text in ("max-pipeline zero\n", "no-such-option 1\n", "hash-tags maybe\n"):
        with open(bad, "w") as f:
            f.write(text)
        out = subprocess.run([PROXY, "-r", ring, "-c", bad, "--check"], capture_output=True,
                             text=True, timeout=20)
        check(out.returncode != 0 and out.stderr.count("\n") == 1 and "bad.conf:1" in out.stderr,
              "bad config %r: %r" % (text, out.stderr))

    pport = free_port()
    logpath = os.path.join(tmp, "proxy.log")
    log = open(logpath, "w")
    proxy = subprocess.Popen([PROXY, "-r", ring, "-c", conf, "-l", "127.0.0.1:%d" % pport],
                             stderr=log)
    PROCS.append(proxy)
    wait_port(pport, proxy)

    # preconnect: the proxy is connected to every pnode before any request.
    for port in ports:
        d = Conn(port)
        deadline = time.time() + 10
        while d.cmd("CLIENT", "LIST").count(b"\n") < 2:
            check(time.time() < deadline, "preconnected to %d" % port)
            time.sleep(0.05)
        d.close()

    # max-request-bytes: a larger request is a protocol error.
    big = Conn(pport)
    big.send(encode("SET", "big", "x" * 5000))
    check(big.reply() == "ERR Protocol error: invalid bulk length" and big.closed(),
          "request above max-request-bytes")

    # Back-pressure: a deep pipeline with max-pipeline 4 still comes back
    # whole and in order.
    c = Conn(pport)
    live = [k for k, (_, p) in zip(["bp:%d" % i for i in range(400)],
                                   lookup(ring, ["bp:%d" % i for i in range(400)])) if p != mute]
    c.send(b"".join(encode("SET", k, k) + encode("GET", k) for k in live))
    for k in live:
        check(c.reply() == "OK" and c.reply() == k.encode(), "pipelined %s" % k)

    # Hash tags and dirname routing decide the vnode.
    check(c.cmd("RING", "NODE", "{user1}.a")[0] == c.cmd("RING", "NODE", "user1")[0], "hash tag")
    check(c.cmd("RING", "NODE", "dir/sub/obj")[0] == int(lookup(ring, ["dir/sub"])[0][0]),
          "dirname")
    vnode, pnode = lookup(ring, ["user1"])[0]
    if pnode != mute:
        check(c.cmd("SET", "{user1}.x", "1") == "OK", "SET by tag")
        direct = Conn(int(pnode.rsplit(":", 1)[1]))
        check(direct.cmd("GET", "{user1}.x") == b"1", "tagged key on its pnode")

    # The silent pnode times out; the others keep serving.
    quiet = next(k for k, (_, p) in zip(["q:%d" % i for i in range(200)],
                                        lookup(ring, ["q:%d" % i for i in range(200)])) if p == mute)
    t0 = time.time()
    r = c.cmd("GET", quiet)
    check(isinstance(r, Error) and r.startswith("ERR pnode %s unavailable: no reply" % mute),
          "server timeout: %r" % r)
    check(time.time() - t0 < 3, "timeout within bounds")
    check(c.cmd("GET", live[0]) == live[0].encode(), "others unaffected")

    # max-clients: beyond it a client gets the error and is closed.
    extra = [Conn(pport) for _ in range(5)]
    over = Conn(pport)
    check(over.reply() == "ERR max number of clients reached" and over.closed(), "max-clients")
    for e in extra:
        e.close()

    # client-idle-timeout: an idle client is closed.
    deadline = time.time() + 10
    while True:  # the proxy sees the closes asynchronously
        idle = Conn(pport)
        if idle.cmd("PING") == "PONG":
            break
        check(time.time() < deadline, "idle client starts")
        time.sleep(0.05)
    time.sleep(2.5)
    check(idle.closed(), "idle client closed")

    # SIGHUP re-reads the config: run-time options change, the others are
    # reported as needing a restart.
    with open(conf, "w") as f:
        f.write("threads 3\nmax-clients 6\nhash-tags yes\ndirname-routing no\nlog-level warn\n"
                "admin\n")
    c = Conn(pport)
    raw = int(lookup(ring, ["dir/sub/obj"])[0][0])
    proxy.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while c.cmd("RING", "NODE", "dir/sub/obj")[0] != raw:
        check(time.time() < deadline, "dirname-routing turned off by reload")
        time.sleep(0.05)
    deadline = time.time() + 10
    while "option=threads" not in open(logpath).read():
        check(time.time() < deadline, "fixed option change reported")
        time.sleep(0.05)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:
        import traceback
        traceback.print_exc()
        print("FAIL: %s: %s" % (type(e).__name__, e))
        sys.exit(1)
    print("ok")
