"""Smoke test of ringproxy with two real redis-servers on loopback.

Keys land on the pnode the ring names, pipelines come back in order across
pnodes, multi-key commands split and merge, errors stay per client, a dead
pnode fails only its own keys, ro vnodes refuse writes after SIGHUP, and
SIGTERM stops the proxy cleanly. Every process started is killed by PID.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("top_builddir", os.getcwd())
PROXY = os.path.join(BUILD, "src", "ringproxy")
MKRING = os.path.join(BUILD, "tests", "mkring")
PROCS = []


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError("process exited with %d" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("port %d never opened" % port)


def start_redis(port, tmp):
    p = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                          "--save", "", "--appendonly", "no", "--dir", tmp],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    PROCS.append(p)
    wait_port(port, p)
    return p


class Conn:
    """A raw RESP client: requests are sent as given, replies parsed."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), 5)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def cmd(self, *args):
        self.send(encode(*args))
        return self.reply()

    def _fill(self):
        d = self.s.recv(65536)
        if not d:
            raise EOFError("connection closed")
        self.buf += d

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            return Error(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self._fill()
            v, self.buf = self.buf[:n], self.buf[n + 2:]
            return v
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise ValueError("bad reply %r" % line)

    def closed(self):
        try:
            self.s.settimeout(2)
            return self.s.recv(1) == b""
        except OSError:
            return True

    def close(self):
        self.s.close()


class Error(str):
    pass


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def lookup(ring, keys):
    out = subprocess.run([MKRING, "lookup", ring] + keys, check=True,
                         capture_output=True, text=True).stdout.split("\n")
    return [line.split(" ", 1) for line in out[:len(keys)]]


def main():
    tmp = tempfile.mkdtemp(prefix="rp-smoke-")
    try:
        run(tmp)
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def run(tmp):
    ports = [free_port(), free_port()]
    redis = {}
    for port in ports:
        redis["tcp://127.0.0.1:%d" % port] = (port, start_redis(port, tmp))
    ring = os.path.join(tmp, "ring")
    subprocess.run([MKRING, "create", ring, "1024"] + sorted(redis), check=True)
    pport = free_port()
    pidfile = os.path.join(tmp, "proxy.pid")
    proxy = subprocess.Popen([PROXY, "-r", ring, "-l", "127.0.0.1:%d" % pport, "-t", "2",
                              "--pidfile", pidfile, "--log-level", "warn"])
    PROCS.append(proxy)
    wait_port(pport, proxy)
    check(open(pidfile).read().strip() == str(proxy.pid), "pidfile holds the pid")
    c = Conn(pport)
    direct = {name: Conn(port) for name, (port, _) in redis.items()}

    # Keys land where the ring says.
    keys = ["key:%d" % i for i in range(300)]
    c.send(b"".join(encode("SET", k, "v" + k) for k in keys))
    check(all(c.reply() == "OK" for _ in keys), "SETs answered OK")
    where = lookup(ring, keys)
    for k, (vnode, pnode) in zip(keys, where):
        check(direct[pnode].cmd("GET", k) == b"v" + k.encode(), "%s on %s" % (k, pnode))
    check(len({p for _, p in where}) == 2, "keys spread over both pnodes")
    node = c.cmd("RING", "NODE", keys[0])
    check(node == [int(where[0][0]), where[0][1].encode(), None], "RING NODE: %r" % node)
    info = c.cmd("RING", "INFO")
    check(b"vnodes:1024" in info and b"pnodes:2" in info, "RING INFO: %r" % info)

    # A pipeline of mixed requests across pnodes comes back in order.
    reqs, want = [], []
    for i in range(1000):
        k = "p:%d" % (i % 37)
        if i % 4 == 0:
            reqs.append(encode("SET", k, i)); want.append("OK")
        elif i % 4 == 1:
            reqs.append(encode("INCR", "n:%d" % (i % 5))); want.append(None)
        elif i % 4 == 2:
            reqs.append(encode("PING")); want.append("PONG")
        else:
            reqs.append(encode("ECHO", i)); want.append(str(i).encode())
    c.send(b"".join(reqs))
    counters = {}
    for i, w in enumerate(want):
        r = c.reply()
        if i % 4 == 1:
            n = "n:%d" % (i % 5)
            counters[n] = counters.get(n, 0) + 1
            check(r == counters[n], "INCR %s in order: %r" % (n, r))
        else:
            check(r == w, "reply %d: %r != %r" % (i, r, w))

    # Multi-key commands across pnodes.
    mkeys = ["m:%d" % i for i in range(20)]
    args = []
    for k in mkeys:
        args += [k, "val-" + k]
    check(c.cmd("MSET", *args) == "OK", "MSET")
    got = c.cmd("MGET", *(mkeys + ["missing"]))
    check(got == [("val-" + k).encode() for k in mkeys] + [None], "MGET merged in order")
    check(c.cmd("EXISTS", *(mkeys + ["missing"])) == 20, "EXISTS summed")
    check(c.cmd("DEL", *mkeys) == 20, "DEL summed")

    # Errors that leave the connection usable.
    check(c.cmd("KEYS", "*") == "ERR command 'KEYS' is not supported by ringproxy", "KEYS")
    check(c.cmd("GET") == "ERR wrong number of arguments for 'get' command", "arity")
    check(c.cmd("NOSUCH", "a").startswith("ERR unknown command 'NOSUCH'"), "unknown")
    check(c.cmd("PING") == "PONG", "still usable")

    # Inline commands, as redis-cli or telnet send them.
    c.send(b"SET inl \"a b\"\r\nGET inl\r\n")
    check(c.reply() == "OK" and c.reply() == b"a b", "inline SET/GET")

    # Proxy-handled commands.
    check(c.cmd("HELLO", "3").startswith("NOPROTO"), "HELLO 3")
    check(c.cmd("HELLO", "2")[:2] == [b"server", b"ringproxy"], "HELLO 2")
    check(c.cmd("SELECT", "0") == "OK", "SELECT 0")
    check(isinstance(c.cmd("SELECT", "1"), Error), "SELECT 1")
    check(c.cmd("CONFIG", "GET", "save") == [b"save", b""], "CONFIG GET save")
    check(c.cmd("COMMAND", "COUNT") > 200, "COMMAND COUNT")

    # Scripts run when every key is on one vnode.
    tagged = [k for k, (v, _) in zip(keys, where) if v == where[0][0]]
    check(c.cmd("EVAL", "return redis.call('GET', KEYS[1])", 1, keys[0]) == b"v" + keys[0].encode(),
          "EVAL on one key")
    other = next(k for k, (v, _) in zip(keys, where) if v != where[0][0])
    r = c.cmd("EVAL", "return 1", 2, keys[0], other)
    check(r.startswith("ERR command 'EVAL' is not supported by ringproxy"), "EVAL across vnodes: %r" % r)
    check(c.cmd("RENAME", keys[0], other).startswith("ERR command 'RENAME' is not supported"),
          "RENAME across vnodes")
    check(len(tagged) >= 1 and c.cmd("RENAME", keys[0], keys[0]) == "OK", "RENAME on one vnode")

    # Real clients: python3-redis with a pipeline, redis-cli, redis-benchmark.
    import redis as redispy
    rc = redispy.Redis(port=pport)
    pipe = rc.pipeline(transaction=False)
    for i in range(200):
        pipe.set("py:%d" % i, i)
        pipe.get("py:%d" % i)
    res = pipe.execute()
    check(res == sum(([True, str(i).encode()] for i in range(200)), []), "redis-py pipeline")
    rc.close()
    out = subprocess.run(["redis-cli", "-p", str(pport), "GET", "py:7"], capture_output=True,
                         text=True, timeout=10).stdout.strip()
    check(out == "7", "redis-cli GET: %r" % out)
    bench = subprocess.run(["redis-benchmark", "-p", str(pport), "-t", "set,get", "-n", "2000",
                            "-c", "4", "-P", "4", "-q"], capture_output=True, text=True, timeout=60)
    check(bench.returncode == 0 and "GET:" in bench.stdout and "WARN" not in bench.stdout + bench.stderr,
          "redis-benchmark: %r %r" % (bench.stdout[-200:], bench.stderr[-200:]))

    # A request fed one byte at a time.
    for b in encode("SET", "slow", "x" * 10):
        c.send(bytes([b]))
    check(c.reply() == "OK", "byte-by-byte SET")

    # A client that leaves with requests in flight (single and multi-key)
    # disturbs nobody.
    gone = Conn(pport)
    gone.send(b"".join(encode("GET", k) for k in keys[:100]) + encode("MGET", *keys[:50]))
    gone.close()
    check(c.cmd("GET", keys[3]) == b"v" + keys[3].encode(), "after a client left mid-flight")

    # Malformed input closes only that client.
    bad = Conn(pport)
    bad.send(b"*1\r\n$x\r\n")
    check(bad.reply() == "ERR Protocol error: invalid bulk length", "protocol error")
    check(bad.closed(), "bad client closed")
    check(c.cmd("GET", "slow") == b"x" * 10, "others unaffected")

    # A dead pnode fails its own keys only; service resumes when it returns.
    dead = sorted(redis)[0]
    dport, dproc = redis[dead]
    direct[dead].close()
    dproc.kill()
    dproc.wait()
    for k, (_, pnode) in zip(keys[:40], where[:40]):
        r = c.cmd("GET", k)
        if pnode == dead:
            check(isinstance(r, Error) and r.startswith("ERR pnode %s unavailable: " % dead),
                  "dead pnode error: %r" % r)
        else:
            check(r == b"v" + k.encode(), "live pnode still serves %s: %r" % (k, r))
    redis[dead] = (dport, start_redis(dport, tmp))
    deadline = time.time() + 10
    k = next(k for k, (_, p) in zip(keys, where) if p == dead)
    while c.cmd("SET", k, "back") != "OK":
        check(time.time() < deadline, "service resumed after the pnode returned")
        time.sleep(0.1)

    # ro vnodes refuse writes and serve reads after SIGHUP.
    vnode = int(where[1][0])
    subprocess.run([MKRING, "ro", ring, str(vnode), "ro"], check=True)
    proxy.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while b"ro_vnodes:1" not in c.cmd("RING", "INFO"):
        check(time.time() < deadline, "reload picked up")
        time.sleep(0.05)
    r = c.cmd("SET", keys[1], "no")
    check(r == "READONLY vnode %d is read-only (resharding)" % vnode, "ro write: %r" % r)
    check(isinstance(c.cmd("GET", keys[1]), (bytes, Error)), "ro read served")
    check(c.cmd("DEL", keys[1], keys[2]).startswith("READONLY"), "multi-key write refused whole")

    # QUIT answers, then closes.
    q = Conn(pport)
    check(q.cmd("QUIT") == "OK" and q.closed(), "QUIT")

    # SIGTERM: stop accepting, deliver the reply still in flight, exit 0
    # and remove the pidfile.
    k = next(k for k, (_, p) in zip(keys[5:], where[5:]) if p != dead)
    slow = Conn(redis[where[keys.index(k)][1]][0])
    slow.send(encode("DEBUG", "SLEEP", "0.6"))
    time.sleep(0.1)
    waiting = Conn(pport)
    waiting.send(encode("GET", k))
    time.sleep(0.1)
    c.close()
    proxy.send_signal(signal.SIGTERM)
    time.sleep(0.1)
    try:
        socket.create_connection(("127.0.0.1", pport), 1).close()
        check(False, "no new connections after SIGTERM")
    except ConnectionRefusedError:
        pass
    check(waiting.reply() == b"v" + k.encode(), "in-flight reply delivered during shutdown")
    check(waiting.closed(), "client closed after its reply")
    check(proxy.wait(10) == 0, "exit status 0")
    check(not os.path.exists(pidfile), "pidfile removed")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # one line saying what failed
        import traceback
        traceback.print_exc()
        print("FAIL: %s: %s" % (type(e).__name__, e))
        sys.exit(1)
    print("ok")
