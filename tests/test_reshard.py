#!/usr/bin/python3
"""ring-tool reshard against real redis-servers on loopback.

Keys of every type (strings with and without TTLs, hashes, lists, sets,
sorted sets) are placed on the pnode `ring-tool get-node` names; after a
reshard every key must be on exactly the pnode get-node then names and on
no other, with its value and TTL. A reshard killed mid-batch resumes to the
same end state; --rollback gives back a writable ring with every key
readable; --dry-run changes nothing; bad input and unreachable servers are
refused before anything changes. Proxies are stood in for by small servers
in this process that answer RING INFO and the admin endpoint with the
generation they last loaded with `ring-tool print-hash`. Every server is
started here on a free port and killed by PID; every wait is bounded.
"""
import http.server
import json
import os
import pty
import re
import select
import shutil
import shlex
import signal
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
import unittest

import redis

HERE = os.path.dirname(os.path.abspath(__file__))
TOP_SRCDIR = os.environ.get("top_srcdir", os.path.dirname(HERE))
TOP_BUILDDIR = os.environ.get("top_builddir", TOP_SRCDIR)
RING_TOOL = os.path.join(TOP_BUILDDIR, "tools", "ring-tool")
TIMEOUT = 60
NVNODES = 64


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Redis:
    """A redis-server of our own: started on a free port, and checked to be
    ours (its process_id is our child's pid) before anything writes to it."""

    def __init__(self, tmp, *extra):
        for _ in range(20):
            self.port = free_port()
            self.proc = subprocess.Popen(
                ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
                 "--appendonly", "no", "--dir", tmp,
                 "--logfile", os.path.join(tmp, "redis-%d.log" % self.port), *extra],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.time() + 5
            while time.time() < deadline and self.proc.poll() is None:
                try:
                    self.r = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=10)
                    if self.r.info("server")["process_id"] == self.proc.pid:
                        self.name = "tcp://127.0.0.1:%d" % self.port
                        return
                    break
                except (OSError, redis.exceptions.ConnectionError):
                    time.sleep(0.05)
            self.stop()
        raise RuntimeError("could not start redis-server")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def run(*args, timeout=TIMEOUT):
    p = subprocess.run([RING_TOOL, *args], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def generation(ring):
    rc, out, err = run("print-hash", "-l", ring)
    if rc != 0:
        return None
    return int(re.search(r"^generation\s+(\d+)$", out, re.M).group(1))


def electric_moray_key(key):
    """What electric-moray hashes for a key of its manta bucket: the key for
    /<uuid>/stor, else Node's path.posix.dirname, the key when that is '.'.
    Ported here from Node's algorithm, apart from the C under test."""
    if re.fullmatch(r"/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/stor", key):
        return key
    end, matched = -1, True
    for i in range(len(key) - 1, 0, -1):
        if key[i] == "/":
            if not matched:
                end = i
                break
        else:
            matched = False
    root = key.startswith("/")
    d = ("/" if root else ".") if end == -1 else "//" if root and end == 1 else key[:end]
    return key if d == "." else d


class FakeProxy:
    """A stand-in for ringproxy that serves the generation it last loaded:
    by its admin endpoint (GET /ring, POST /reload) with admin, else by
    RING INFO on a RESP port, loading on SIGHUP to this process (whose pid
    is in its pid file). With frozen it ignores reloads, like a proxy stuck
    on an old ring."""

    def __init__(self, tmp, ring, admin):
        self.ring = ring
        self.gen = generation(ring)
        self.loaded = []
        self.frozen = False
        self.lock = threading.Lock()
        proxy = self

        class Resp(socketserver.StreamRequestHandler):
            def handle(self):
                while self.rfile.readline():
                    for _ in range(4):  # $4, RING, $4, INFO: the rest of the request
                        self.rfile.readline()
                    info = "generation:%d\r\nalgorithm:xxh3\r\n" % proxy.gen
                    self.wfile.write(b"$%d\r\n%s\r\n" % (len(info), info.encode()))

        class Http(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, body):
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self.answer({"algorithm": "xxh3", "generation": proxy.gen, "vnodes": NVNODES})

            def do_POST(self):
                proxy.reload()
                self.answer({"ok": True, "generation": proxy.gen})

        if admin:
            self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Http)
            self.spec = "http://127.0.0.1:%d" % self.server.server_address[1]
        else:
            self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Resp)
            pidfile = os.path.join(tmp, "proxy.pid")
            with open(pidfile, "w") as f:
                f.write("%d\n" % os.getpid())
            self.spec = "%s@127.0.0.1:%d" % (pidfile, self.server.server_address[1])
            signal.signal(signal.SIGHUP, lambda *a: threading.Thread(target=self.reload).start())
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reload(self):
        with self.lock:
            if self.frozen:
                return
            for _ in range(50):
                g = generation(self.ring)
                if g is not None:
                    self.gen = g
                    self.loaded.append(g)
                    return
                time.sleep(0.02)

    def stop(self):
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        self.server.shutdown()
        self.server.server_close()


class ReshardCase(unittest.TestCase):
    """Three redis-servers A, B, C; a ring of 64 vnodes over A and B; keys
    of every type placed by get-node."""

    nvnodes = NVNODES

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="test_reshard.")
        self.servers = []
        for _ in range(3):
            self.servers.append(Redis(self.tmp))
        self.a, self.b, self.c = self.servers
        self.ring = os.path.join(self.tmp, "ring")
        self.state = self.ring + ".reshard"
        rc, out, err = run("create", "-l", self.ring, "-v", str(self.nvnodes), "-p",
                           "%s,%s" % (self.a.name, self.b.name))
        self.assertEqual(rc, 0, err)
        self.expected = {}

    def tearDown(self):
        for s in self.servers:
            s.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def by_name(self, name):
        return next(s for s in self.servers if s.name == name)

    def get_nodes(self, keys, *flags):
        """key -> (vnode, pnode, data) as get-node says."""
        out = {}
        keys = list(keys)
        for i in range(0, len(keys), 2000):
            rc, text, err = run("get-node", "-l", self.ring, "--json", *flags, "--", *keys[i:i + 2000])
            self.assertEqual(rc, 0, err)
            for line in text.splitlines():
                j = json.loads(line)
                out[j["key"]] = (j["vnode"], j["pnode"], j["data"])
        return out

    def populate(self, n, route=lambda k: k):
        """n keys of every type, each on the pnode its routing key maps to."""
        keys = ["key:%d:%s" % (i, "x" * (i % 7)) for i in range(n)]
        where = self.get_nodes({route(k) for k in keys})
        pipes = {s.name: s.r.pipeline(transaction=False) for s in self.servers}
        for i, k in enumerate(keys):
            p = pipes[where[route(k)][1]]
            kind = i % 6
            if kind == 0:
                v = ("s%d" % i) * (i % 20 + 1)
                p.set(k, v)
                self.expected[k] = ("string", v, None)
            elif kind == 1:
                p.set(k, "ttl%d" % i, ex=1000 + i % 100)
                self.expected[k] = ("string", "ttl%d" % i, 1000 + i % 100)
            elif kind == 2:
                v = {"f%d" % j: str(i * j) for j in range(i % 5 + 1)}
                p.hset(k, mapping=v)
                self.expected[k] = ("hash", v, None)
            elif kind == 3:
                v = [str(i + j) for j in range(i % 4 + 1)]
                p.rpush(k, *v)
                p.pexpire(k, 500000)
                self.expected[k] = ("list", v, 500)
            elif kind == 4:
                v = {str(i * j) for j in range(i % 3 + 1)}
                p.sadd(k, *v)
                self.expected[k] = ("set", v, None)
            else:
                v = {"m%d" % j: float(j) for j in range(i % 4 + 1)}
                p.zadd(k, v)
                self.expected[k] = ("zset", v, None)
        for p in pipes.values():
            p.execute()
        self.populated = time.time()
        return keys

    def value(self, r, k, kind):
        if kind == "string":
            v = r.get(k)
            return v.decode() if v is not None else None
        if kind == "hash":
            return {a.decode(): b.decode() for a, b in r.hgetall(k).items()}
        if kind == "list":
            return [x.decode() for x in r.lrange(k, 0, -1)]
        if kind == "set":
            return {x.decode() for x in r.smembers(k)}
        return {a.decode(): b for a, b in r.zrange(k, 0, -1, withscores=True)}

    def assert_placed(self, route=lambda k: k):
        """Every key on exactly the pnode get-node names, value and TTL kept;
        no server holds any key that is not expected."""
        where = self.get_nodes({route(k) for k in self.expected})
        elapsed = time.time() - self.populated
        for s in self.servers:
            self.assertEqual(s.r.dbsize(), sum(1 for k in self.expected
                                               if where[route(k)][1] == s.name), s.name)
        for k, (kind, v, ttl) in self.expected.items():
            owner = self.by_name(where[route(k)][1])
            self.assertEqual(self.value(owner.r, k, kind), v, k)
            t = owner.r.ttl(k)
            if ttl is None:
                self.assertEqual(t, -1, k)
            else:
                self.assertTrue(ttl - elapsed - 5 <= t <= ttl, (k, t, ttl))
        rc, out, err = run("get-data-vnodes", "-l", self.ring)
        self.assertEqual((rc, out), (0, ""), "vnodes left with data")

    def vnodes_of(self, name):
        rc, out, err = run("get-vnodes", "-l", self.ring, name)
        if "is not in the ring" in err:
            return []
        self.assertEqual(rc, 0, err)
        return [int(x) for x in out.split()]

    def reshard(self, *args, proxies=None):
        p = ["--no-proxies"] if proxies is None else ["--proxies", proxies]
        return run("reshard", "-l", self.ring, *p, *args)

    def split_args(self, batch):
        return ("--split", self.a.name, "--to", self.c.name, "--batch", str(batch))

    def export(self):
        rc, out, err = run("export", "-l", self.ring)
        self.assertEqual(rc, 0, err)
        return out

    def wait_for_step(self, proc, steps, deadline):
        """Polls the state file until some batch has reached one of steps
        and not all are done; True when it did before proc ended."""
        while time.time() < deadline and proc.poll() is None:
            try:
                with open(self.state) as f:
                    done = [int(l.split()[2]) for l in f if l.startswith("done ")]
            except (OSError, IndexError, ValueError):
                done = []
            if done and any(d in steps for d in done) and min(done) < 5:
                return True
            time.sleep(0.002)
        return False


class TestReshard(ReshardCase):
    def test_split_moves_every_key_of_every_type(self):
        self.populate(3000)
        a_vnodes = self.vnodes_of(self.a.name)
        rc, out, err = self.reshard(*self.split_args(8))
        self.assertEqual(rc, 0, err)
        self.assertEqual(err, "")
        self.assertEqual(self.vnodes_of(self.c.name), a_vnodes[1::2])
        self.assertEqual(self.vnodes_of(self.a.name), a_vnodes[0::2])
        self.assert_placed()
        moved = sum(1 for w in self.get_nodes(self.expected).values() if w[1] == self.c.name)
        self.assertIn("moved 16 vnodes in 2 batches: %d keys" % moved, out)
        self.assertRegex(out, r"time \d+\.\d+ s, \d+ keys/s")
        self.assertRegex(out, r"write-blocked window: max \d+\.\d+ s, total \d+\.\d+ s")
        with open(self.state) as f:
            self.assertIn("status done\n", f.read())
        # The same command again does nothing.
        before = self.export()
        rc, out, err = self.reshard(*self.split_args(8))
        self.assertEqual(rc, 0, err)
        self.assertIn("is done; nothing to do", out)
        self.assertEqual(self.export(), before)

    def recreate_ring(self):
        """The ring made again from scratch, as before the reshard."""
        shutil.rmtree(self.ring)
        rc, out, err = run("create", "-l", self.ring, "-v", str(self.nvnodes), "-p",
                           "%s,%s" % (self.a.name, self.b.name))
        self.assertEqual(rc, 0, err)

    def done_reshard(self):
        self.populate(300)
        rc, out, err = self.reshard(*self.split_args(8))
        self.assertEqual(rc, 0, err)
        with open(self.state) as f:
            text = f.read()
        self.assertIn("status done\n", text)
        return text

    def assert_refused(self, what):
        before = self.export()
        rc, out, err = self.reshard(*self.split_args(8))
        self.assertNotEqual(rc, 0, out)
        self.assertNotIn("nothing to do", out)
        self.assertIn(what, err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertEqual(self.export(), before, "the refused rerun changed the ring")
        return err

    def test_a_done_state_of_a_recreated_ring_is_refused(self):
        text = self.done_reshard()
        last = re.search(r"^last (\d+) ([0-9a-f]{16})$", text, re.M)
        self.assertIsNotNone(last, text)
        self.assertIn("\nring %s\n" % os.path.realpath(self.ring), text)
        self.recreate_ring()
        err = self.assert_refused("belongs to an older ring")
        self.assertIn("last left the ring at generation %s (checksum %s)" % last.groups(), err)
        self.assertIn("is at generation 1 ", err)

    def test_a_done_state_of_a_recreated_and_edited_ring_is_refused(self):
        self.done_reshard()
        self.recreate_ring()
        # Enough ring-tool commits that the generation passes the state's.
        for i in range(12):
            rc, out, err = run("add-data", "-l", self.ring, "-v", str(i), "-d", "x")
            self.assertEqual(rc, 0, err)
        self.assert_refused("of the 16 vnodes the reshard moved are not on their target")

    def test_a_state_of_a_ring_edited_at_the_same_generation_is_refused(self):
        self.done_reshard()
        moved = self.vnodes_of(self.c.name)[0]
        gen = generation(self.ring)
        mkring = os.path.join(TOP_BUILDDIR, "tests", "mkring")
        r = subprocess.run([mkring, "fash-remap", self.ring, str(moved), self.a.name],
                           capture_output=True, timeout=TIMEOUT)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(generation(self.ring), gen, "mkring fash-remap bumped the generation")
        self.assert_refused("changed without ring-tool")

    def test_a_running_state_of_a_recreated_ring_is_refused(self):
        # Killed once batch 1 of 8 is done, then the ring is made again:
        # resuming or rolling back would work on a ring the state does not
        # describe (its batch 1 back on the source).
        self.populate(300)
        p = subprocess.Popen([RING_TOOL, "reshard", "-l", self.ring, "--no-proxies",
                              *self.split_args(2)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            for _ in range(20):
                line = p.stdout.readline().decode()
                if not line or "batch done" in line:
                    break
        finally:
            p.kill()
            p.communicate(timeout=TIMEOUT)
        self.assertIn("batch 1/8: deleted", line)
        with open(self.state) as f:
            self.assertIn("status running\n", f.read())
        self.recreate_ring()
        before = self.export()
        for args in (self.split_args(2), ("--rollback",)):
            rc, out, err = self.reshard(*args)
            self.assertNotEqual(rc, 0, out)
            self.assertIn("belongs to an older ring", err)
        self.assertEqual(self.export(), before)

    def test_a_state_for_another_ring_directory_is_refused(self):
        self.done_reshard()
        other = os.path.join(self.tmp, "other")
        shutil.copytree(self.ring, other)
        rc, out, err = run("reshard", "-l", other, "--no-proxies", *self.split_args(8),
                           "--state", self.state)
        self.assertNotEqual(rc, 0, out)
        self.assertIn("belongs to the ring in %s, not to the one in %s"
                      % (os.path.realpath(self.ring), os.path.realpath(other)), err)

    def test_progress_on_a_terminal(self):
        self.populate(1200)
        master, slave = pty.openpty()
        p = subprocess.Popen([RING_TOOL, "reshard", "-l", self.ring, "--no-proxies",
                              *self.split_args(4)], stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        out, _ = p.communicate(timeout=TIMEOUT)
        tty = b""
        while select.select([master], [], [], 0.5)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            tty += chunk
        os.close(master)
        self.assertEqual(p.returncode, 0, tty)
        self.assertRegex(tty.decode(), r"\rbatch 1/4: vnodes 0/16 moved, \d+ keys copied, \d+ keys/s")
        self.assertIn(b"moved 16 vnodes", out)

    def test_progress_lines_on_a_pipe(self):
        # stdout a pipe: time-stamped lines as each step happens. The
        # proxy holds its first reload, so the reshard is provably still
        # in batch 1 when its read-only line has been read.
        self.populate(1200)
        proxy = FakeProxy(self.tmp, self.ring, True)
        stamp = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z "
        proxy.lock.acquire()
        held = True
        p = subprocess.Popen([RING_TOOL, "reshard", "-l", self.ring, "--proxies", proxy.spec,
                              *self.split_args(8)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            early = []
            while len(early) < 10:
                line = p.stdout.readline().decode()
                if not line:
                    break
                early.append(line)
                if "read-only" in line:
                    break
            self.assertIsNone(p.poll(), "ring-tool ended before its lines were read: %r" % early)
            self.assertRegex(early[0], stamp + r"batch 1/2: copying 8 vnodes \([\d,-]+\) while writable$")
            self.assertRegex(early[1], stamp + r"batch 1/2: copied while writable [1-9]\d* keys \(\d+ keys/s\)$")
            self.assertRegex(early[-1], stamp + r"batch 1/2: 8 vnodes read-only \([\d,-]+\), generation \d+: "
                             r"writes to them are refused until the remap$")
            proxy.lock.release()
            held = False
            out, err = p.communicate(timeout=TIMEOUT)
        finally:
            if held:
                proxy.lock.release()
            if p.poll() is None:
                p.kill()
                p.wait()
            proxy.stop()
        self.assertEqual(p.returncode, 0, err)
        lines = early + out.decode().splitlines(keepends=True)
        for b in (1, 2):
            self.assertEqual(sum(1 for l in lines if re.match(
                stamp + r"batch %d/2: 8 vnodes remapped, generation \d+: read-only window closed "
                r"after \d+ ms$" % b, l)), 1, lines)
            self.assertEqual(sum(1 for l in lines if re.match(
                stamp + r"batch %d/2: deleted \d+ moved keys from the sources; batch done$" % b, l)),
                1, lines)
        self.assertTrue(any(re.match(stamp + r"batch 2/2: 8 vnodes read-only", l) for l in lines), lines)
        self.assertIn("moved 16 vnodes", out.decode())
        self.assert_placed()

    def test_dry_run_changes_nothing(self):
        self.populate(1200)
        before = self.export()
        sizes = [s.r.dbsize() for s in self.servers]
        rc, out, err = self.reshard(*self.split_args(8), "--dry-run")
        self.assertEqual(rc, 0, err)
        self.assertIn("16 vnodes in 2 batches of up to 8", out)
        self.assertIn("%s -> %s: 16 vnodes" % (self.a.name, self.c.name), out)
        moving = sum(1 for k, w in self.get_nodes(self.expected).items()
                     if w[1] == self.a.name and w[0] in self.vnodes_of(self.a.name)[1::2])
        self.assertIn("from %s: %d keys" % (self.a.name, moving), out)
        self.assertIn("dry run: nothing was changed", out)
        self.assertEqual(self.export(), before)
        self.assertEqual([s.r.dbsize() for s in self.servers], sizes)
        self.assertFalse(os.path.exists(self.state))

    def test_dry_run_estimates_a_big_source(self):
        """More keys than the sample's 20 pages: the estimate scales up."""
        bulk = ["bulk:%d" % i for i in range(60000)]
        where = self.get_nodes(bulk)
        pipe = self.a.r.pipeline(transaction=False)
        for k in bulk:
            if where[k][1] == self.a.name:
                pipe.set(k, "v" * 100)
        pipe.execute()
        moving = set(self.vnodes_of(self.a.name)[1::2])
        real = sum(1 for k in bulk if where[k][1] == self.a.name and where[k][0] in moving)
        before = self.export()
        rc, out, err = self.reshard(*self.split_args(8), "--dry-run")
        self.assertEqual(rc, 0, err)
        m = re.search(r"from %s: ~(\d+) keys, ~(\d+) bytes \(estimated from (\d+) of (\d+) keys\)"
                      % re.escape(self.a.name), out)
        self.assertIsNotNone(m, out)
        est, nbytes, seen, total = map(int, m.groups())
        self.assertEqual(total, self.a.r.dbsize())
        self.assertLess(seen, total)
        self.assertTrue(0.7 * real < est < 1.3 * real, (est, real))
        self.assertGreater(nbytes, est * 100)
        self.assertEqual(self.export(), before)

    def test_vnode_list_and_rebalance(self):
        self.populate(1500)
        # Round robin: the odd vnodes are all on one pnode; move 3 to the other.
        odd = self.a if 1 in self.vnodes_of(self.a.name) else self.b
        other = self.b if odd is self.a else self.a
        rc, out, err = self.reshard("-v", "1,3,5", "-p", other.name)
        self.assertEqual(rc, 0, err)
        self.assertIn("moved 3 vnodes in 1 batch", out)
        self.assert_placed()
        self.assertEqual(len(self.vnodes_of(other.name)), 35)
        self.assertTrue({1, 3, 5} <= set(self.vnodes_of(other.name)))
        # A new pnode by -p: 64 vnodes over 3 pnodes is 22, 21, 21.
        rc, out, err = self.reshard("--rebalance", "-p", self.c.name, "--batch", "5",
                                    "--state", os.path.join(self.tmp, "rb.state"))
        self.assertEqual(rc, 0, err)
        self.assertEqual(sorted(len(self.vnodes_of(s.name)) for s in self.servers), [21, 21, 22])
        self.assert_placed()
        # Balanced already: nothing to move, nothing changed.
        before = self.export()
        rc, out, err = self.reshard("--rebalance", "--state", os.path.join(self.tmp, "rb2.state"))
        self.assertEqual(rc, 1)
        self.assertIn("nothing to move", err)
        self.assertEqual(self.export(), before)

    def test_hash_tags_and_dirname_routing(self):
        def tag(k):
            return "t%d" % (int(k.split(":")[1]) % 50)
        self.expected = {}
        keys = self.populate(600, route=lambda k: tag(k))
        # Rename each key so that its hash tag routes it.
        for s in self.servers:
            for k in list(self.expected):
                if s.r.exists(k):
                    s.r.rename(k, "{%s}%s" % (tag(k), k))
        self.expected = {"{%s}%s" % (tag(k), k): v for k, v in self.expected.items()}
        route = lambda k: k[1:k.index("}")]
        rc, out, err = self.reshard(*self.split_args(16), "--hash-tags")
        self.assertEqual(rc, 0, err)
        self.assert_placed(route)
        self.assertTrue(len(keys) > 0)

    def test_dirname_routing(self):
        self.expected = {}
        self.populate(600, route=lambda k: k.split(":")[1])
        for s in self.servers:
            for k in list(self.expected):
                if s.r.exists(k):
                    s.r.rename(k, "%s/%s" % (k.split(":")[1], k))
        self.expected = {"%s/%s" % (k.split(":")[1], k): v for k, v in self.expected.items()}
        rc, out, err = self.reshard(*self.split_args(16), "--dirname-routing")
        self.assertEqual(rc, 0, err)
        self.assert_placed(lambda k: k[:k.rindex("/")])

    def test_dirname_routing_as_electric_moray(self):
        # The routing strings differ from "the part before the last '/'"
        # for an account root, a trailing '/' and no directory.
        def uuid(i):
            h = "%032x" % (i * 2654435761)
            return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:32])

        def name(k):
            i = int(k.split(":")[1])
            return ["/%s/stor" % uuid(i), "d%d/" % i, "/%s/stor/o%d" % (uuid(i // 10), i),
                    "a%d/b%d/" % (i % 7, i)][i % 4]

        self.expected = {}
        self.populate(600, route=lambda k: electric_moray_key(name(k)))
        for s in self.servers:
            for k in list(self.expected):
                if s.r.exists(k):
                    s.r.rename(k, name(k))
        self.expected = {name(k): v for k, v in self.expected.items()}
        rc, out, err = self.reshard(*self.split_args(16), "--dirname-routing")
        self.assertEqual(rc, 0, err)
        self.assert_placed(electric_moray_key)


class TestInterrupted(ReshardCase):
    """A reshard stopped in the middle of a batch."""

    def start_big(self, batch):
        """Many keys on A so that a batch takes a while, then the reshard."""
        self.populate(3000)
        pipe = self.a.r.pipeline(transaction=False)
        for i in range(60000):
            pipe.set("bulk:%d" % i, "v" * 100)
        pipe.execute()
        # Keep the bulk keys that belong on B off A: they are moved by hand
        # so that every key starts on its own pnode.
        bulk = ["bulk:%d" % i for i in range(60000)]
        where = self.get_nodes(bulk)
        pipe = self.a.r.pipeline(transaction=False)
        for k in bulk:
            if where[k][1] != self.a.name:
                pipe.delete(k)
            else:
                self.expected[k] = ("string", "v" * 100, None)
        pipe.execute()
        return subprocess.Popen([RING_TOOL, "reshard", "-l", self.ring, "--no-proxies",
                                 *self.split_args(batch)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def kill_in_window(self, proc, sig):
        """Stops proc while a batch's vnodes are ro, or failing that (a fast
        machine), while it copies."""
        caught = self.wait_for_step(proc, (2, 3), time.time() + 20)
        if not caught:
            self.assertIsNone(proc.poll(), "the reshard finished before it could be interrupted")
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=TIMEOUT)
        return proc.returncode, out, err

    def test_sigkill_then_resume(self):
        a_vnodes = self.vnodes_of(self.a.name)
        proc = self.start_big(4)
        self.assertTrue(self.wait_for_step(proc, (1, 2, 3, 4), time.time() + 20))
        rc, out, err = self.kill_in_window(proc, signal.SIGKILL)
        self.assertEqual(rc, -signal.SIGKILL)
        # Keys of the batch in progress change on the source while the
        # reshard is down (as writes during a bulk copy would): one is
        # deleted, one rewritten, one added; the rerun must follow.
        with open(self.state) as f:
            lines = f.read().splitlines()
        moves = [int(l.split()[1]) for l in lines if l.startswith("move ")]
        steps = [int(l.split()[2]) for l in lines if l.startswith("done ")]
        # The first batch not yet remapped (none if killed at the very end).
        b = next((i for i, st in enumerate(steps) if st < 4), None)
        batch = set(moves[4 * b:][:4]) if b is not None else set()
        where = self.get_nodes(self.expected)
        moving = [k for k in self.expected if where[k][0] in batch and self.expected[k][0] == "string"]
        if batch:
            self.assertEqual(where[moving[0]][1], self.a.name)
            self.a.r.delete(moving[0])
            del self.expected[moving[0]]
            self.a.r.set(moving[1], "rewritten")
            self.expected[moving[1]] = ("string", "rewritten", None)
            fresh = next(k for k, w in self.get_nodes("new:%d" % i for i in range(200)).items()
                         if w[0] in batch)
            self.a.r.set(fresh, "new")
            self.expected[fresh] = ("string", "new", None)
        rc, out, err = run("reshard", "-l", self.ring, "--no-proxies", *self.split_args(4))
        self.assertEqual(rc, 0, err)
        self.assertIn("moved 16 vnodes in 4 batches", out)
        self.assertEqual(self.vnodes_of(self.c.name), a_vnodes[1::2])
        self.assert_placed()

    def test_sigint_prints_how_to_finish_and_rollback_restores(self):
        a_vnodes = self.vnodes_of(self.a.name)
        proc = self.start_big(4)
        self.assertTrue(self.wait_for_step(proc, (1, 2, 3, 4), time.time() + 20))
        rc, out, err = self.kill_in_window(proc, signal.SIGINT)
        self.assertEqual(rc, 1, err)
        self.assertIn("ring-tool: reshard: interrupted", err)
        self.assertIn("To resume:", err)
        lines = err.splitlines()
        resume = lines[lines.index("Progress is recorded in %s. To resume:" % self.state) + 1]
        rollback = lines[-1]
        self.assertIn("--split '%s' --to '%s' --batch 4" % (self.a.name, self.c.name), resume)
        self.assertTrue(rollback.strip().endswith("--rollback"), rollback)
        # Run the printed rollback command as a shell would.
        with open(self.state) as f:
            done = [int(l.split()[2]) for l in f if l.startswith("done ")]
        finished = sum(1 for d in done if d == 5)
        cmd = rollback.strip().replace("ring-tool", RING_TOOL, 1)
        p = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("rolled back batch %d of 4" % (finished + 1), p.stdout)
        self.assertIn("%d earlier vnodes stay moved" % (4 * finished), p.stdout)
        # The batches done before stay moved; the rest are back on A, writable.
        self.assertEqual(self.vnodes_of(self.c.name), a_vnodes[1::2][:4 * finished])
        self.assert_placed()
        # Nothing left to roll back.
        rc, out, err = run(*shlex.split(cmd)[1:])
        self.assertEqual(rc, 1)
        self.assertIn("no reshard in progress", err)
        # The printed resume command now plans afresh and finishes.
        p = subprocess.run(resume.strip().replace("ring-tool", RING_TOOL, 1), shell=True,
                           capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("moved ", p.stdout)
        self.assert_placed()

    def test_sigkill_then_rollback(self):
        proc = self.start_big(8)
        self.assertTrue(self.wait_for_step(proc, (1, 2, 3, 4), time.time() + 20))
        rc, out, err = self.kill_in_window(proc, signal.SIGKILL)
        rc, out, err = run("reshard", "-l", self.ring, "--no-proxies", "--rollback")
        self.assertEqual(rc, 0, err)
        self.assertIn("rolled back batch", out)
        self.assert_placed()


class TestProxies(ReshardCase):
    def test_every_proxy_reloads_and_is_waited_for(self):
        self.populate(600)
        g0 = generation(self.ring)
        proxies = [FakeProxy(self.tmp, self.ring, True), FakeProxy(self.tmp, self.ring, False)]
        try:
            rc, out, err = self.reshard(*self.split_args(8), proxies=",".join(p.spec for p in proxies))
            self.assertEqual(rc, 0, err)
            # Two batches, two commits each: every proxy loaded every one.
            self.assertEqual(generation(self.ring), g0 + 4)
            for p in proxies:
                self.assertEqual(sorted(set(p.loaded)), [g0 + 1, g0 + 2, g0 + 3, g0 + 4], p.spec)
            self.assert_placed()
        finally:
            for p in proxies:
                p.stop()

    def test_a_proxy_that_does_not_converge_is_named(self):
        self.populate(300)
        proxy = FakeProxy(self.tmp, self.ring, False)
        proxy.frozen = True
        try:
            pid_spec = proxy.spec
            rc, out, err = self.reshard(*self.split_args(8), proxies=pid_spec)
            self.assertEqual(rc, 1)
            self.assertIn("proxy %s did not reach ring generation %d within 10000 ms (it serves %d)"
                          % (pid_spec, generation(self.ring), proxy.gen), err)
            self.assertIn("8 of its vnodes are read-only until the reshard is resumed or rolled back", err)
            proxy.frozen = False
            rc, out, err = self.reshard("--rollback", proxies=pid_spec)
            self.assertEqual(rc, 0, err)
            self.assertEqual(proxy.gen, generation(self.ring))
            self.assert_placed()
        finally:
            proxy.stop()


class TestRefusals(ReshardCase):
    def refused(self, needle, *args, status=1, proxies=None):
        before = self.export()
        sizes = [s.r.dbsize() for s in self.servers]
        rc, out, err = self.reshard(*args, proxies=proxies)
        self.assertEqual(rc, status, err)
        self.assertIn(needle, err)
        self.assertEqual(err.count("\n"), 1, err)
        self.assertEqual(self.export(), before)
        self.assertEqual([s.r.dbsize() for s in self.servers], sizes)
        self.assertFalse(os.path.exists(self.state))

    def test_unreachable_target(self):
        self.populate(200)
        dead = "tcp://127.0.0.1:%d" % free_port()
        self.refused("pnode %s is unreachable" % dead, "--split", self.a.name, "--to", dead)

    def test_target_that_cannot_be_scanned(self):
        self.populate(200)
        noscan = Redis(self.tmp, "--rename-command", "SCAN", "")
        self.servers.append(noscan)
        self.refused("pnode %s: cannot be scanned: ERR unknown command 'SCAN'" % noscan.name,
                     "--split", self.a.name, "--to", noscan.name)

    def test_proxy_that_does_not_answer(self):
        self.populate(200)
        port = free_port()
        self.refused("http://127.0.0.1:%d" % port, *self.split_args(8),
                     proxies="http://127.0.0.1:%d" % port)
        self.refused("proxy /nonexistent.pid@127.0.0.1:%d does not answer" % port,
                     *self.split_args(8), proxies="/nonexistent.pid@127.0.0.1:%d" % port)
        self.refused("is neither http://HOST:PORT", *self.split_args(8), proxies="localhost:1")

    def test_bad_flags(self):
        rc, out, err = run("reshard", "-l", self.ring, *self.split_args(8))
        self.assertEqual(rc, 1)
        self.assertIn("missing --proxies LIST", err)
        rc, out, err = run("reshard", "-l", self.ring, "--proxies", "", *self.split_args(8))
        self.assertEqual(rc, 1)
        self.assertIn("pass --no-proxies", err)
        rc, out, err = run("reshard", "-l", self.ring, "--proxies", "none", *self.split_args(8))
        self.assertIn("pass --no-proxies", err)
        self.refused("--split needs --to", "--split", self.a.name)
        self.refused("--to goes with --split", "--to", self.c.name)
        self.refused("give one of", "--rebalance", *self.split_args(8))
        self.refused("say which vnodes move")
        self.refused("-v needs -p", "-v", "1")
        self.refused("--batch '0' is not a number", *self.split_args(0))
        self.refused("--batch 'x' is not a number", "--split", self.a.name, "--to", self.c.name,
                     "--batch", "x")
        self.refused("--dry-run and --rollback", "--rollback", "--dry-run")
        self.refused("no reshard in progress", "--rollback")
        owner = self.a if 1 in self.vnodes_of(self.a.name) else self.b
        self.refused("vnode 1 is already on %s" % owner.name, "-v", "1", "-p", owner.name)
        self.refused("vnode 64 is out of range", "-v", "64", "-p", self.c.name)
        self.refused("pnode tcp://127.0.0.1:1 is not in the ring", "--split", "tcp://127.0.0.1:1",
                     "--to", self.c.name)
        self.refused("plain TCP", "--split", self.a.name, "--to", "tls://127.0.0.1:1")
        self.refused("option -a does not apply to reshard", "-a", "md5", status=2)
        rc, out, err = run("reshard", "--help")
        self.assertEqual(rc, 0)
        self.assertIn("PIDFILE@HOST:PORT", out)
        # A vnode that is already ro is not taken over.
        second = self.vnodes_of(self.a.name)[1]
        rc, out, err = run("add-data", "-l", self.ring, "-v", str(second), "-d", "ro")
        self.assertEqual(rc, 0, err)
        self.refused("vnode %d has data 'ro'" % second, *self.split_args(8))

    def test_other_reshard_in_progress(self):
        self.populate(200)
        with open(self.state, "w") as f:
            f.write("ring-tool reshard state 1\nargs split X to Y batch 8\nstatus running\n"
                    "vnodes 64\nbatch 8\npnode %s\npnode %s\nmove 1 0 1\ndone 0 0 0 0 0 0\nend\n"
                    % (self.b.name, self.c.name))
        before = self.export()
        rc, out, err = self.reshard(*self.split_args(8))
        self.assertEqual(rc, 1)
        self.assertIn("records a reshard in progress with other arguments (split X to Y batch 8)", err)
        self.assertEqual(self.export(), before)


if __name__ == "__main__":
    unittest.main(verbosity=2)
