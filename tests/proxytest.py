"""proxytest: the shared harness of ringproxy's integration tests.

Starts real redis-server processes and ringproxy on loopback ports chosen at
run time, makes rings with ring-tool, and talks RESP either through the
`redis` module (normal traffic) or through RawClient (exact bytes, exact
replies, malformed input). Every process it starts is killed by PID when the
test file ends; every socket read has a timeout; every wait is bounded.

A test file defines functions named test_* and calls run(globals()): they
run in the order they are written, each prints ok or FAIL with the reason,
and the file exits 1 if any failed.
"""

import atexit
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request

import redis

TOP_SRCDIR = os.environ.get("top_srcdir") or os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))
TOP_BUILDDIR = os.environ.get("top_builddir") or TOP_SRCDIR
RING_TOOL = os.path.join(TOP_BUILDDIR, "tools", "ring-tool")
RINGPROXY = os.path.join(TOP_BUILDDIR, "src", "ringproxy")
MKRING = os.path.join(TOP_BUILDDIR, "tests", "mkring")
# The real node-fash ring ships in the tree (tests/fixtures/README.md).
FIXTURE_1M = os.path.join(TOP_SRCDIR, "tests", "fixtures", "fash-ring-1m")
HOST = "127.0.0.1"
# Optional command to run ringproxy under, e.g.
# PROXY_WRAPPER='valgrind --error-exitcode=99 --leak-check=full'.
PROXY_WRAPPER = shlex.split(os.environ.get("PROXY_WRAPPER", ""))

IO_TIMEOUT = 10.0       # seconds any single socket read or write may take
START_TIMEOUT = 30.0 if PROXY_WRAPPER else 10.0  # seconds to start answering
TEST_TIMEOUT = 60       # seconds one test function may take in all (a hang guard)

_procs = []             # every Popen we started, killed at exit
_tmpdirs = []


class TestFailure(AssertionError):
    pass


def check(cond, msg):
    """Fails the current test with msg unless cond holds."""
    if not cond:
        raise TestFailure(msg)


def eq(got, want, what):
    check(got == want, "%s: expected %r, got %r" % (what, want, got))


def eq_list(got, want, what):
    """Like eq for long lists: names the first element that differs."""
    check(isinstance(got, list), "%s: expected a list, got %r" % (what, got))
    for i, (g, w) in enumerate(zip(got, want)):
        check(g == w and type(g) is type(w), "%s, element %d: expected %r, got %r"
              % (what, i, w, g))
    eq(len(got), len(want), "%s: length" % what)


# --- processes and cleanup ---------------------------------------------------

def tmpdir(prefix="ringproxy-test-"):
    d = tempfile.mkdtemp(prefix=prefix)
    _tmpdirs.append(d)
    return d


def _spawn(argv, **kw):
    p = subprocess.Popen(argv, **kw)
    _procs.append(p)
    return p


def kill(p, sig=signal.SIGKILL, wait=5.0):
    """Kills one process we started (by PID) and reaps it, bounded."""
    if p.poll() is None:
        try:
            p.send_signal(sig)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=wait)
    if p in _procs:
        _procs.remove(p)


def cleanup():
    for p in list(_procs):
        try:
            kill(p, signal.SIGKILL)
        except Exception:
            pass
    for d in list(_tmpdirs):
        shutil.rmtree(d, ignore_errors=True)
        _tmpdirs.remove(d)


atexit.register(cleanup)


def _on_term(signum, frame):
    raise SystemExit(1)


signal.signal(signal.SIGTERM, _on_term)


def free_port():
    """A loopback port nothing listens on right now."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((HOST, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def port_open(port, timeout=0.2):
    try:
        socket.create_connection((HOST, port), timeout=timeout).close()
        return True
    except OSError:
        return False


def wait_until(fn, timeout, what, step=0.05):
    """Polls fn until it returns a true value, at most timeout seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            v = fn()
            if v:
                return v
        except Exception as e:
            last = e
        time.sleep(step)
    raise TestFailure("timed out after %.1fs waiting for %s%s" % (
        timeout, what, " (last error: %r)" % last if last else ""))


def rss_kb(pid):
    """A process's resident set size in KB (VmRSS in /proc/PID/status)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


def run_cmd(argv, timeout=30, input=None):
    """Runs a command to completion, bounded; returns CompletedProcess."""
    return subprocess.run(argv, capture_output=True, timeout=timeout,
                          input=input)


# --- redis-server ------------------------------------------------------------

class RedisServer:
    """A redis-server on a loopback port, restartable on the same port."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.dir = tmpdir("ringproxy-redis-")
        self.proc = None
        self.start()

    @property
    def pnode(self):
        return "tcp://%s:%d" % (HOST, self.port)

    def start(self):
        log = open(os.path.join(self.dir, "redis.log"), "ab")
        self.proc = _spawn(
            ["redis-server", "--port", str(self.port), "--bind", HOST,
             "--save", "", "--appendonly", "no", "--daemonize", "no",
             "--dir", self.dir],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        wait_until(self._pong, START_TIMEOUT,
                   "redis-server on port %d" % self.port)

    def _pong(self):
        check(self.proc.poll() is None,
              "redis-server on port %d exited" % self.port)
        return self.client().ping()

    def stop(self, sig=signal.SIGKILL):
        kill(self.proc, sig)

    def client(self):
        return redis.Redis(host=HOST, port=self.port, socket_timeout=IO_TIMEOUT,
                           socket_connect_timeout=IO_TIMEOUT)

    def get_calls(self):
        """GETs this server has executed (INFO commandstats)."""
        d = self.client()
        try:
            return d.info("commandstats").get("cmdstat_get", {}).get("calls", 0)
        finally:
            d.close()


# --- rings -------------------------------------------------------------------

def ring_tool(*args, timeout=60):
    """Runs ring-tool; fails the test with its stderr if it fails."""
    r = run_cmd([RING_TOOL] + [str(a) for a in args], timeout=timeout)
    check(r.returncode == 0, "ring-tool %s failed (%d): %s" % (
        " ".join(str(a) for a in args), r.returncode,
        r.stderr.decode(errors="replace").strip()))
    return r.stdout.decode()


def make_ring(pnodes, vnodes=1024, algo=None, ro=None, data=None):
    """Creates a ring over pnode names (or RedisServers) in a temp dir.
    ro: vnodes to mark 'ro'; data: {datastring: [vnodes]} for other data."""
    names = [p.pnode if isinstance(p, RedisServer) else p for p in pnodes]
    d = os.path.join(tmpdir("ringproxy-ring-"), "ring")
    args = ["create", "-l", d, "-v", vnodes, "-p", ",".join(names)]
    if algo:
        args += ["-a", algo]
    ring_tool(*args)
    if ro:
        set_data(d, ro, "ro")
    for s, vs in (data or {}).items():
        set_data(d, vs, s)
    return d


def set_data(ringdir, vnodes, data):
    ring_tool("add-data", "-l", ringdir, "-v",
              ",".join(str(v) for v in sorted(set(vnodes))), "-d", data)


def get_nodes(ringdir, keys):
    """ring-tool get-node --json for every key: {key: {vnode, pnode, data}}."""
    out = {}
    keys = list(keys)
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        text = ring_tool("get-node", "-l", ringdir, "--json", "--", *chunk)
        lines = [l for l in text.splitlines() if l.strip()]
        eq(len(lines), len(chunk), "ring-tool get-node line count")
        for k, line in zip(chunk, lines):
            o = json.loads(line)
            eq(o["key"], k, "ring-tool get-node key order")
            out[k] = o
    return out


def mkring(*args, timeout=60):
    """Runs tests/mkring, which writes rings through the library without
    ring-tool's checks (e.g. a pnode that is not an address)."""
    r = run_cmd([MKRING] + [str(a) for a in args], timeout=timeout)
    check(r.returncode == 0, "mkring %s failed (%d): %s" % (
        " ".join(str(a) for a in args), r.returncode,
        r.stderr.decode(errors="replace").strip()))


def hold_ring(ringdir, seconds):
    """A process that holds ringdir's image open (locked) for seconds;
    returns once the image is held. kill() it to let go sooner."""
    p = _spawn([MKRING, "hold", ringdir, str(seconds)], stdout=subprocess.PIPE,
               stdin=subprocess.DEVNULL)
    line = p.stdout.readline()
    p.stdout.close()
    check(line.strip() == b"held", "mkring hold %s: %r" % (ringdir, line))
    return p


def vnode_owners(ringdir, vnodes):
    """{vnode: pnode} for every vnode of range(vnodes)."""
    text = ring_tool("get-vnode-pnode-and-data", "-l", ringdir,
                     "-v", "0-%d" % (vnodes - 1))
    out = {}
    for line in text.splitlines():
        v, pnode, _ = line.split(" ", 2)
        check(pnode.startswith("pnode="), "get-vnode-pnode-and-data line %r" % line)
        out[int(v)] = pnode[len("pnode="):]
    eq(len(out), vnodes, "vnodes listed by get-vnode-pnode-and-data")
    return out


def keys_per_pnode(ringdir, servers, prefix, want, limit=100000):
    """{pnode: [want keys named prefix+N that route to it]} for every pnode
    (servers: RedisServers or pnode names)."""
    got = {s if isinstance(s, str) else s.pnode: [] for s in servers}
    i = 0
    while any(len(v) < want for v in got.values()):
        check(i < limit, "could not find %d keys per pnode" % want)
        batch = ["%s%d" % (prefix, j) for j in range(i, i + 200)]
        i += 200
        for k, o in get_nodes(ringdir, batch).items():
            if len(got[o["pnode"]]) < want:
                got[o["pnode"]].append(k)
    return got


# --- ringproxy ---------------------------------------------------------------

def config_quote(value):
    """value as one word of a config line (redis.conf's quoting)."""
    v = str(value)
    if v and not any(c.isspace() or c in "\"'#\\" for c in v):
        return v
    return '"%s"' % "".join("\\x%02x" % ord(c) if c in "\"\\" or not c.isprintable()
                            else c for c in v)


def write_config(options):
    """A config file with "option value" lines; returns its path."""
    path = os.path.join(tmpdir("ringproxy-conf-"), "ringproxy.conf")
    with open(path, "w") as f:
        for k, v in options.items():
            f.write("%s %s\n" % (k, config_quote(v)))
    return path


def http(port, path, method="GET", auth=None):
    """(status, body, headers) of one request to the admin endpoint."""
    req = urllib.request.Request("http://%s:%d%s" % (HOST, port, path), method=method,
                                 data=b"" if method == "POST" else None)
    if auth is not None:
        req.add_header("Authorization", auth)
    try:
        with urllib.request.urlopen(req, timeout=IO_TIMEOUT) as r:
            return r.status, r.read().decode(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), e.headers


def check_prometheus(text):
    """promtool's check (configure's PROMTOOL: tools/deps.sh test unpacks
    it from Debian's prometheus into build/tools), then the text format's
    rules: each family's samples in one group after its TYPE line, values
    numbers, histogram buckets cumulative."""
    promtool = os.environ.get("PROMTOOL") or shutil.which("promtool")
    check(bool(promtool), "promtool is found (run tools/deps.sh test, then configure)")
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


def _sets_admin(path):
    """Whether the config file at path has an admin line (a busy admin port
    is fatal, so a proxy without one must not fall back to the default).
    Only a regular file is read: a FIFO would block here."""
    if not os.path.isfile(path):
        return False
    with open(path, errors="replace") as f:
        return any(re.match(r"\s*admin\s", l + " ") for l in f)


class Proxy:
    """A running ringproxy; stderr goes to a file shown when a test fails."""

    def __init__(self, ringdir=None, config=None, threads=2, args=(), port=None,
                 argv=None, wait=True, preexec_fn=None):
        """argv, when given, replaces every flag (port is then where the
        proxy is expected to listen). wait=False returns once the process
        is spawned (wait_up() waits for the port); preexec_fn runs in the
        child before exec, as in subprocess."""
        self.port = port or free_port()
        self.dir = tmpdir("ringproxy-proxy-")
        self.log = os.path.join(self.dir, "stderr.log")
        self.admin = None
        if argv is None:
            argv = ["-r", ringdir, "-l", "%s:%d" % (HOST, self.port)]
            if threads:
                argv += ["-t", str(threads)]
            if config is not None:
                path = config if isinstance(config, str) else write_config(config)
                argv += ["-c", path]
            argv += list(args)
            # An admin endpoint of its own, so that proxies never contend
            # for the default port and tests can read their metrics.
            if isinstance(config, dict) and "admin" in config:
                self.admin = config["admin"]
            elif "--admin" in argv:
                self.admin = argv[argv.index("--admin") + 1]
            elif not isinstance(config, str) or not _sets_admin(config):
                self.admin = "%s:%d" % (HOST, free_port())
                argv += ["--admin", self.admin]
        self.argv = PROXY_WRAPPER + [RINGPROXY] + [str(a) for a in argv]
        self.reported = False
        self.stopped = False  # stop() collected its exit
        check(os.access(RINGPROXY, os.X_OK), "ringproxy is not built: %s" % RINGPROXY)
        with open(self.log, "ab") as err:
            self.proc = _spawn(self.argv, stdout=err, stderr=err,
                               stdin=subprocess.DEVNULL, preexec_fn=preexec_fn)
        _proxies.append(self)
        if wait:
            self.wait_up()

    def metrics(self):
        """{(name, labels): value} from GET /metrics, e.g.
        {("ringproxy_reloads_total", 'result="ok"'): 1.0}."""
        check(self.admin is not None, "this proxy has no admin endpoint")
        port = int(self.admin.rsplit(":", 1)[1])
        wait_until(lambda: port_open(port), START_TIMEOUT, "admin port %d" % port)
        status, body, _ = http(port, "/metrics")
        eq(status, 200, "GET /metrics")
        out = {}
        for line in body.splitlines():
            m = re.match(r"^(\w+)(?:\{(.*)\})? (\S+)$", line)
            if m:
                out[(m.group(1), m.group(2) or "")] = float(m.group(3))
        return out

    def wait_up(self):
        wait_until(self._up, START_TIMEOUT, "ringproxy on port %d" % self.port)

    def _up(self):
        if self.proc.poll() is not None:
            raise TestFailure("ringproxy exited with %d: %s" % (
                self.proc.returncode, self.stderr().strip()))
        return port_open(self.port)

    def stderr(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, wait=15.0):
        """Signals the proxy (unless sig is None: it was signalled already)
        and returns its exit status (bounded wait). Fails if the sanitizers
        reported anything."""
        self.stopped = True
        if sig is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            kill(self.proc)
            raise TestFailure("ringproxy did not exit within %.0fs of signal %s"
                              % (wait, sig))
        if self.proc in _procs:
            _procs.remove(self.proc)
        self.check_sanitizers()
        return rc

    def check_sanitizers(self):
        m = SANITIZER_RE.search(self.stderr())
        if m and not self.reported:
            self.reported = True
            text = self.stderr()[m.start():]
            raise TestFailure("sanitizer report from ringproxy (port %d):\n%s"
                              % (self.port, "\n".join(text.splitlines()[:40])))

    def client(self, **kw):
        return redis.Redis(host=HOST, port=self.port, socket_timeout=IO_TIMEOUT,
                           socket_connect_timeout=IO_TIMEOUT, **kw)

    def raw(self):
        return RawClient(self.port)


_proxies = []
# What ASan, LSan and UBSan print (a sanitizer build's proxy must print none).
SANITIZER_RE = re.compile(r"ERROR: \w+Sanitizer|runtime error:")


class Cluster:
    """n redis-servers, a ring over them, and a ringproxy in front."""

    def __init__(self, n=2, vnodes=1024, algo=None, config=None, ro=None,
                 data=None, threads=2, start=True, servers=None):
        """servers: RedisServers already started, instead of n new ones."""
        self.servers = servers or [RedisServer() for _ in range(n)]
        self.ring = make_ring(self.servers, vnodes, algo, ro, data)
        self.config, self.threads = config, threads
        self.proxy = None
        self.by_pnode = {s.pnode: s for s in self.servers}
        if start:
            self.start_proxy()

    def start_proxy(self):
        self.proxy = Proxy(self.ring, config=self.config, threads=self.threads)
        return self.proxy

    def client(self, **kw):
        return self.proxy.client(**kw)

    def raw(self):
        return self.proxy.raw()

    def pnode_keys(self, prefix, n=5):
        """{pnode: [n keys named prefix+N that route to it]}."""
        return keys_per_pnode(self.ring, self.servers, prefix, n)

    def server_for(self, key):
        return self.by_pnode[get_nodes(self.ring, [key])[key]["pnode"]]

    def assert_placement(self, expected):
        """expected: {key(str): value(bytes) or None}. Each key with a value
        must be on exactly the pnode ring-tool names for it, and no key may
        be on any other pnode."""
        keys = list(expected)
        nodes = get_nodes(self.ring, keys)
        for s in self.servers:
            c = s.client()
            for i in range(0, len(keys), 1000):
                chunk = keys[i:i + 1000]
                vals = c.mget(chunk)
                for k, v in zip(chunk, vals):
                    if nodes[k]["pnode"] == s.pnode:
                        eq(v, expected[k], "value of %r on its pnode %s"
                           % (k, s.pnode))
                    else:
                        check(v is None, "key %r (pnode %s) also found on %s"
                              % (k, nodes[k]["pnode"], s.pnode))
            c.close()


# --- a raw RESP client -------------------------------------------------------

class Err(str):
    """An error reply (without the leading '-')."""


class Status(str):
    """A status reply (without the leading '+')."""


class Closed(TestFailure):
    """The server closed the connection."""

    def __init__(self, msg="the server closed the connection"):
        super().__init__(msg)


class RawClient:
    """Sends exact bytes and parses RESP2 replies; every read times out."""

    def __init__(self, port, timeout=IO_TIMEOUT):
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.buf = b""

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    def send_in_background(self, data):
        """Sends data from a thread, so that a big pipeline cannot deadlock
        against replies nobody reads yet; join() the returned thread."""
        t = threading.Thread(target=self.sock.sendall, args=(data,), daemon=True)
        t.start()
        return t

    def send_slowly(self, data, chunk=1, pause=0.001):
        for i in range(0, len(data), chunk):
            self.sock.sendall(data[i:i + chunk])
            time.sleep(pause)

    def _fill(self):
        try:
            d = self.sock.recv(65536)
        except socket.timeout:
            raise TestFailure("no reply within %.0fs" % self.sock.gettimeout())
        if not d:
            raise Closed()
        self.buf += d

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                return line
            self._fill()

    def _exact(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, crlf, self.buf = self.buf[:n], self.buf[n:n + 2], self.buf[n + 2:]
        check(crlf == b"\r\n", "bulk reply not followed by CRLF: %r" % crlf)
        return data

    def reply(self):
        line = self._line()
        check(line, "empty reply line")
        t, rest = line[:1], line[1:]
        if t == b"+":
            return Status(rest.decode())
        if t == b"-":
            return Err(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise TestFailure("bad reply type byte in %r" % line)

    def replies(self, n):
        return [self.reply() for _ in range(n)]

    def call(self, *args):
        self.send(encode(*args))
        return self.reply()

    def expect_closed(self, timeout=5.0):
        """True once the server closes the connection (bounded)."""
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                try:
                    d = self.sock.recv(65536)
                except socket.timeout:
                    return False
                except ConnectionResetError:
                    return True
                if not d:
                    return True
                self.buf += d
            return False
        finally:
            self.sock.settimeout(IO_TIMEOUT)


def encode(*args):
    """One command as a RESP multibulk."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if not isinstance(a, bytes):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def encode_all(cmds):
    return b"".join(encode(*c) for c in cmds)


# --- reply checks ------------------------------------------------------------

UNSUPPORTED_RE = re.compile(r"^ERR command '([^']*)' is not supported by ringproxy$")


def assert_err(reply, text, what):
    """reply is an error reply with exactly this text (no leading '-')."""
    check(isinstance(reply, Err) and reply == text,
          "%s: expected error %r, got %r" % (what, text, reply))


def assert_unsupported(reply, name):
    check(isinstance(reply, Err), "%s: expected an error, got %r" % (name, reply))
    m = UNSUPPORTED_RE.match(reply)
    check(m is not None, "%s: wrong error text %r" % (name, str(reply)))
    eq(m.group(1).lower(), name.lower(), "command named in the error")


def assert_readonly(reply, vnode):
    assert_err(reply, "READONLY vnode %d is read-only (resharding)" % vnode,
               "reply to a write on ro vnode %d" % vnode)


def assert_unavailable(reply, pnode):
    check(isinstance(reply, Err), "expected an unavailable error, got %r" % (reply,))
    prefix = "ERR pnode %s unavailable: " % pnode
    check(reply.startswith(prefix) and len(reply) > len(prefix),
          "expected %r<reason>, got %r" % (prefix, str(reply)))


def assert_protocol_error(reply):
    check(isinstance(reply, Err) and reply.startswith("ERR Protocol error"),
          "expected -ERR Protocol error..., got %r" % (reply,))


def ring_info(reply):
    """RING INFO's bulk string as a dict of its key:value lines."""
    check(isinstance(reply, bytes), "RING INFO: expected a bulk string, got %r"
          % (reply,))
    out = {}
    for line in reply.decode().splitlines():
        if line.strip():
            k, sep, v = line.partition(":")
            check(sep == ":", "RING INFO line without ':': %r" % line)
            out[k.strip()] = v.strip()
    return out


# --- the runner --------------------------------------------------------------

class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout("test took more than %ds" % TEST_TIMEOUT)


def run(namespace):
    """Runs namespace's test_* functions in source order; exits 0 or 1."""
    tests = sorted((f for n, f in namespace.items()
                    if n.startswith("test_") and callable(f)),
                   key=lambda f: f.__code__.co_firstlineno)
    check(tests, "no tests")
    failed = []
    signal.signal(signal.SIGALRM, _alarm)
    try:
        for t in tests:
            start = time.monotonic()
            seen = len(_proxies)
            signal.alarm(TEST_TIMEOUT)
            try:
                t()
                signal.alarm(0)
                print("ok   %s (%.1fs)" % (t.__name__, time.monotonic() - start))
            except BaseException as e:
                signal.alarm(0)
                if isinstance(e, KeyboardInterrupt):
                    raise
                failed.append(t.__name__)
                if isinstance(e, (TestFailure, _Timeout)):
                    why = str(e)
                else:
                    why = "".join(traceback.format_exception(
                        type(e), e, e.__traceback__)[-3:]).rstrip()
                print("FAIL %s: %s" % (t.__name__, why))
                for p in _proxies[max(0, seen - 1):]:
                    tail = p.stderr().strip().splitlines()[-15:]
                    if tail:
                        print("     ringproxy stderr (port %d):" % p.port)
                        for line in tail:
                            print("       " + line)
            sys.stdout.flush()
        # Stop every proxy still running gracefully, so that a sanitizer
        # build reports leaks and shutdown errors, and look at what it said.
        for p in _proxies:
            try:
                if p.alive():
                    rc = p.stop(signal.SIGTERM)
                    check(rc == 0, "exit status %d after SIGTERM" % rc)
                else:
                    p.check_sanitizers()
                    # Under valgrind -q a proxy a signal killed leaves no
                    # report: its exit status is the only trace.
                    check(p.stopped, "ringproxy exited by itself with status %d"
                          % p.proc.returncode)
            except TestFailure as e:
                failed.append("shutdown")
                print("FAIL ringproxy on port %d at the end: %s" % (p.port, e))
    finally:
        cleanup()
    print("%d/%d passed" % (len(tests) - len(failed), len(tests)))
    if failed:
        print("failed: " + " ".join(failed))
    sys.exit(1 if failed else 0)


def lazy(factory):
    """A fixture built on first use and shared by a file's tests; if building
    it fails, every test that uses it fails with that reason."""
    box = {}

    def get():
        if "v" not in box:
            try:
                box["v"] = factory()
            except BaseException as e:
                box["e"] = e
                box["v"] = None
        if box.get("e") is not None:
            raise TestFailure("fixture failed: %s" % box["e"])
        return box["v"]
    return get
