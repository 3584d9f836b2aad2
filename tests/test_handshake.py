"""What clients send when they connect, answered by ringproxy itself as
redis-server 7.0.15 answers it: CLIENT, INFO, TIME, RESET, READONLY,
COMMAND COUNT/INFO/GETKEYS, and the NOAUTH gate. Each scenario runs on a
direct redis-server and through the proxy, and the replies are compared."""

import os
import re
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
import redis  # noqa: E402
from proxytest import (HOST, IO_TIMEOUT, Cluster, Err, Proxy, RawClient,  # noqa: E402
                       RedisServer, Status, assert_err, check, eq, lazy, make_ring, run)

PASS = "hs pass"
NOAUTH = "NOAUTH Authentication required."

cluster = lazy(lambda: Cluster(n=2, vnodes=64, threads=1))
direct = lazy(lambda: RedisServer())
locked = lazy(lambda: Cluster(n=1, vnodes=16, config={"requirepass": PASS}))


def locked_direct():
    s = direct()
    d = s.client()
    d.config_set("requirepass", PASS)
    d.close()
    return s


def assert_refused(reply, name, what):
    """An unsupported-command error that gives a reason."""
    check(isinstance(reply, Err) and
          reply.startswith("ERR command '%s' is not supported by ringproxy with " % name),
          "%s: expected ringproxy's refusal, got %r" % (what, reply))


def both(port_direct, port_proxy, *cmds):
    """The replies to cmds, in order on one connection each: (direct, proxy)."""
    out = []
    for port in (port_direct, port_proxy):
        c = RawClient(port)
        out.append([c.call(*cmd) for cmd in cmds])
        c.close()
    return out


def same(port_direct, port_proxy, cmds, what):
    d, p = both(port_direct, port_proxy, *cmds)
    for cmd, a, b in zip(cmds, d, p):
        check(a == b and type(a) is type(b), "%s, %r: redis-server said %r, ringproxy %r"
              % (what, cmd, a, b))


CLIENT_SCENARIO = [
    ("CLIENT", "GETNAME"),
    ("CLIENT", "SETNAME", "bad name"),
    ("CLIENT", "SETNAME", "nl\nx"),
    ("CLIENT", "SETNAME", "\x7f"),
    ("CLIENT", "SETNAME", "app-1"),
    ("CLIENT", "GETNAME"),
    ("CLIENT", "SETNAME", ""),
    ("CLIENT", "GETNAME"),
    ("CLIENT", "SETNAME", "again"),
    ("CLIENT", "GETNAME", "extra"),
    ("CLIENT", "SETNAME"),
    ("CLIENT", "NOSUCH"),
    ("CLIENT", "no\r\nsuch"),
    ("CLIENT",),
    ("CLIENT", "NO-EVICT", "on"),
    ("CLIENT", "NO-EVICT", "OFF"),
    ("CLIENT", "NO-EVICT", "maybe"),
    ("CLIENT", "NO-EVICT"),
    ("CLIENT", "REPLY", "ON"),
    ("CLIENT", "REPLY", "sometimes"),
    ("CLIENT", "GETNAME"),
]


def test_client_name_subcommands_as_redis():
    same(direct().port, cluster().proxy.port, CLIENT_SCENARIO, "CLIENT")


def test_hello_setname_as_redis():
    same(direct().port, cluster().proxy.port,
         [("HELLO", "2", "SETNAME", "bad name"), ("CLIENT", "GETNAME"),
          ("CLIENT", "SETNAME", "old")], "HELLO SETNAME")
    for port in (direct().port, cluster().proxy.port):
        c = RawClient(port)
        hello = c.call("HELLO", "2", "SETNAME", "via-hello")
        fields = dict(zip(hello[::2], hello[1::2]))
        eq(fields[b"id"], c.call("CLIENT", "ID"), "HELLO's id is CLIENT ID's")
        eq(c.call("CLIENT", "GETNAME"), b"via-hello", "name set by HELLO")
        c.close()


def test_client_id_info_and_list():
    cl = cluster()
    a, b = cl.raw(), cl.raw()
    eq(a.call("CLIENT", "SETNAME", "first"), Status("OK"), "SETNAME")
    ida, idb = a.call("CLIENT", "ID"), b.call("CLIENT", "ID")
    check(isinstance(ida, int) and isinstance(idb, int) and idb > ida > 0,
          "ids grow with each connection: %r %r" % (ida, idb))
    d = RawClient(direct().port)
    want_keys = [f.split("=")[0] for f in d.call("CLIENT", "INFO").decode().split()]
    d.close()
    line = a.call("CLIENT", "INFO").decode()
    check(line.endswith("\n"), "CLIENT INFO ends with a newline: %r" % line)
    fields = dict(f.split("=", 1) for f in line.split())
    eq([f.split("=")[0] for f in line.split()], want_keys, "CLIENT INFO fields, in Redis's order")
    eq(fields["id"], str(ida), "id in CLIENT INFO")
    eq(fields["name"], "first", "name in CLIENT INFO")
    eq(fields["laddr"], "%s:%d" % (HOST, cl.proxy.port), "laddr is the proxy's port")
    eq(fields["addr"], "%s:%d" % a.sock.getsockname(), "addr is the client's")
    eq(fields["cmd"], "client|info", "cmd")
    # One worker thread: CLIENT LIST shows both connections, each once.
    lines = b.call("CLIENT", "LIST").decode().splitlines()
    ids = sorted(int(re.match(r"id=(\d+) ", ln).group(1)) for ln in lines)
    eq(ids, [ida, idb], "ids in CLIENT LIST")
    check(any("name=first " in ln for ln in lines), "a's name in CLIENT LIST: %r" % lines)
    assert_refused(a.call("CLIENT", "KILL", "ID", str(idb)), "CLIENT", "KILL")
    eq(b.call("PING"), Status("PONG"), "b is still served")
    a.close()
    b.close()


def test_client_list_options_as_redis():
    cmds = [("CLIENT", "LIST", "TYPE", "pubsub"), ("CLIENT", "LIST", "TYPE", "master"),
            ("CLIENT", "LIST", "TYPE", "replica"), ("CLIENT", "LIST", "TYPE", "slave"),
            ("CLIENT", "LIST", "TYPE", "nosuch"), ("CLIENT", "LIST", "ID", "x"),
            ("CLIENT", "LIST", "ID", "99999"), ("CLIENT", "LIST", "ID", "-1"),
            ("CLIENT", "LIST", "ID", "1", "y"), ("CLIENT", "LIST", "ID"),
            ("CLIENT", "LIST", "TYPE"), ("CLIENT", "LIST", "nosuch")]
    same(direct().port, cluster().proxy.port, cmds, "CLIENT LIST options")
    for port in (direct().port, cluster().proxy.port):
        c = RawClient(port)
        me = c.call("CLIENT", "ID")
        for cmd in (("TYPE", "normal"), ("ID", str(me)), ("ID", str(me), "99999", str(me))):
            lines = c.call("CLIENT", "LIST", *cmd).decode().splitlines()
            ids = [int(re.match(r"id=(\d+) ", ln).group(1)) for ln in lines]
            want = [me, me] if cmd[0] == "ID" and len(cmd) == 4 else [me]
            check(set(ids) >= {me} and (cmd[0] == "TYPE" or ids == want),
                  "port %d, CLIENT LIST %r: ids %r" % (port, cmd, ids))
        c.close()


def test_client_setinfo_and_no_touch_as_redis_7_2():
    # Redis 7.0.15 does not know them; redis-py 5 sends SETINFO on connect
    # and 7.2's answers are what newer clients expect.
    c = cluster().raw()
    eq(c.call("CLIENT", "SETINFO", "LIB-NAME", "redis-py"), Status("OK"), "SETINFO LIB-NAME")
    eq(c.call("CLIENT", "SETINFO", "lib-ver", "5.0.1"), Status("OK"), "SETINFO lib-ver")
    assert_err(c.call("CLIENT", "SETINFO", "lib-name", "a b"),
               "ERR lib-name cannot contain spaces, newlines or special characters.",
               "SETINFO with a space")
    assert_err(c.call("CLIENT", "SETINFO", "colour", "x"), "ERR Unrecognized option 'colour'",
               "SETINFO of an unknown attribute")
    eq(c.call("CLIENT", "NO-TOUCH", "on"), Status("OK"), "NO-TOUCH on")
    assert_err(c.call("CLIENT", "NO-TOUCH", "x"), "ERR syntax error", "NO-TOUCH x")
    c.close()


def test_time_is_the_proxy_clock():
    c = cluster().raw()
    before = time.time()
    t = c.call("TIME")
    after = time.time()
    check(isinstance(t, list) and len(t) == 2 and all(re.fullmatch(rb"\d+", x) for x in t),
          "TIME is two integer strings: %r" % t)
    got = int(t[0]) + int(t[1]) / 1e6
    check(before - 0.01 <= got <= after + 0.01, "TIME %f within [%f, %f]" % (got, before, after))
    check(int(t[1]) < 1000000, "microseconds below a second")
    d = RawClient(direct().port)
    eq(type(d.call("TIME")[0]), type(t[0]), "same reply type as redis-server")
    d.close()
    assert_err(c.call("TIME", "x"), "ERR wrong number of arguments for 'time' command",
               "TIME with an argument")
    c.close()


def test_readonly_readwrite_as_a_cluster_node():
    c = cluster().raw()
    eq(c.call("READONLY"), Status("OK"), "READONLY")
    eq(c.call("READWRITE"), Status("OK"), "READWRITE")
    c.close()


def test_reset_as_redis():
    same(direct().port, cluster().proxy.port,
         [("CLIENT", "SETNAME", "before"), ("RESET",), ("CLIENT", "GETNAME"), ("SELECT", "0"),
          ("RESET", "x")], "RESET")


def test_command_count_info_getkeys():
    cl = cluster()
    c = cl.raw()
    everything = c.call("COMMAND")
    eq(c.call("COMMAND", "COUNT"), len(everything), "COMMAND COUNT = entries of COMMAND")
    eq(len(c.call("COMMAND", "INFO")), len(everything), "COMMAND INFO without names")
    d = RawClient(direct().port)
    names = ["get", "set", "mset", "del", "zunionstore", "smove", "getrange", "nosuch"]
    want, got = d.call("COMMAND", "INFO", *names), c.call("COMMAND", "INFO", *names)
    eq(len(got), len(names), "one entry per name")
    for n, w, g in zip(names, want, got):
        if w is None:
            eq(g, None, "COMMAND INFO %s" % n)
            continue
        eq(len(g), 10, "%s: Redis 7's ten fields" % n)
        eq(g[0:2] + g[3:6], w[0:2] + w[3:6], "%s: name, arity, first, last, step" % n)
        eq("write" in g[2], "write" in w[2], "%s: write flag" % n)
        eq("movablekeys" in g[2], "movablekeys" in w[2], "%s: movablekeys flag" % n)
    eq(c.call("COMMAND", "DOCS", "get"), [], "COMMAND DOCS: no docs kept")
    same(direct().port, cl.proxy.port, [
        ("COMMAND", "GETKEYS", "get", "k1"),
        ("COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"),
        ("COMMAND", "GETKEYS", "zunionstore", "dst", "2", "a", "b", "WEIGHTS", "1", "2"),
        ("COMMAND", "GETKEYS", "smove", "s", "d", "m"),
        ("COMMAND", "GETKEYS", "sort", "k", "LIMIT", "0", "1", "STORE", "d"),
        ("COMMAND", "GETKEYS", "ping", "x"),
        ("COMMAND", "GETKEYS", "nosuch", "x"),
        ("COMMAND", "GETKEYS", "get", "a", "b"),
        ("COMMAND", "GETKEYS", "get"),
        ("COMMAND", "COUNT", "x"),
        ("COMMAND", "NOSUCH"),
    ], "COMMAND")
    d.close()
    # The keys GETKEYS names are the ones the proxy routes by: a request
    # over them is served only when they share a vnode.
    assert_refused(c.call("COMMAND", "GETKEYS", "sort", "k", "BY", "w*"), "sort", "BY")
    c.close()


def info_dict(text):
    out = {}
    for ln in text.decode().split("\r\n"):
        if ln and not ln.startswith("#"):
            k, v = ln.split(":", 1)
            out[k] = v
    return out


def test_info_sections():
    cl = cluster()
    c = cl.raw()
    full = c.call("INFO")
    titles = [ln for ln in full.decode().split("\r\n") if ln.startswith("# ")]
    eq(titles, ["# Server", "# Clients", "# Memory", "# Persistence", "# Stats",
                "# Replication", "# Cluster", "# Keyspace", "# Pnodes"], "INFO's sections")
    info = info_dict(full)
    eq(info["redis_version"], "7.0.15", "redis_version")
    eq(info["process_id"], str(cl.proxy.proc.pid), "process_id is the proxy's")
    eq(info["tcp_port"], str(cl.proxy.port), "tcp_port")
    eq(info["loading"], "0", "loading (ioredis's ready check)")
    eq(info["role"], "master", "role")
    eq(info["cluster_enabled"], "0", "cluster_enabled")
    check(int(info["connected_clients"]) >= 1, "connected_clients: %r" % info["connected_clients"])
    eq(info["pnodes"], "2", "pnodes")
    pn = sorted(re.match(r"name=([^,]+),", info[k]).group(1) for k in ("pnode0", "pnode1"))
    eq(pn, sorted(s.pnode for s in cl.servers), "each pnode named in INFO pnodes")
    mem = [int(re.search(r",used_memory=(\d+)", info[k]).group(1)) for k in ("pnode0", "pnode1")]
    check(all(m > 0 for m in mem), "each pnode's used_memory: %r" % mem)
    eq(info["used_memory"], str(sum(mem)), "used_memory is the pnodes' sum")
    server = c.call("INFO", "server")
    check(server.startswith(b"# Server\r\nredis_version:") and b"# Clients" not in server,
          "INFO server holds that section only: %r" % server[:60])
    two = c.call("INFO", "PERSISTENCE", "replication")
    eq(two, b"# Persistence\r\n" + full.split(b"# Persistence\r\n")[1].split(b"\r\n\r\n")[0]
       + b"\r\n\r\n# Replication\r\nrole:master\r\nconnected_slaves:0\r\n", "two sections")
    same(direct().port, cl.proxy.port, [("INFO", "nosuch"), ("INFO", "nosuch", "other")], "INFO")
    c.close()


# Before AUTH, with requirepass set: only AUTH, HELLO, QUIT and RESET pass
# (Redis 7.0's no-auth commands).
NOAUTH_SCENARIO = [
    ("PING",), ("PING", "x"), ("ECHO", "a"), ("SELECT", "0"), ("CLIENT", "SETNAME", "x"),
    ("CLIENT", "GETNAME"), ("INFO",), ("TIME",), ("COMMAND", "COUNT"), ("READONLY",),
    ("GET", "k"), ("HELLO", "2"), ("RESET",), ("PING",), ("AUTH", "wrong"), ("PING",),
    ("AUTH", PASS), ("PING",), ("CLIENT", "SETNAME", "n"), ("RESET",), ("CLIENT", "GETNAME"),
    ("AUTH", PASS), ("CLIENT", "GETNAME"), ("QUIT",),
]


def test_info_keyspace_summed_over_pnodes():
    cl = Cluster(n=2, vnodes=64)
    keys = {pnode: ks for pnode, ks in cl.pnode_keys("ks:", 3).items()}
    r = cl.client()
    for ks in keys.values():
        for k in ks:
            r.set(k, "v")
    r.expire(next(iter(keys.values()))[0], 1000)
    r.close()
    c = cl.raw()
    info = info_dict(c.call("INFO", "keyspace"))
    direct_keys = sum(s.client().dbsize() for s in cl.servers)
    eq(direct_keys, 6, "keys on the pnodes")
    check(info.get("db0", "").startswith("keys=6,expires=1,avg_ttl="),
          "db0 summed over both pnodes: %r" % info)
    # A pnode down: still answered, that pnode marked down and left out.
    cl.servers[0].stop()
    info = info_dict(c.call("INFO"))
    down = [k for k in ("pnode0", "pnode1") if ",status=down" in info[k]]
    eq(len(down), 1, "one pnode down in %r" % info)
    eq(info["redis_version"], "7.0.15", "redis_version from the pnode still up")
    check(info["db0"].startswith("keys=3,"), "db0 of the pnode up: %r" % info["db0"])
    eq(c.call("PING"), Status("PONG"), "connection usable")
    c.close()
    eq(cl.proxy.stop(), 0, "proxy exit status")


class OldPnode:
    """A loopback server that answers INFO as a Redis 6.2.14 would (and +OK
    to anything else): a pnode older than the real ones."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind((HOST, 0))
        self.sock.listen(8)
        self.sock.settimeout(IO_TIMEOUT)
        self.pnode = "tcp://%s:%d" % self.sock.getsockname()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        try:
            while True:
                conn, _ = self.sock.accept()
                threading.Thread(target=self._serve, args=(conn,), daemon=True).start()
        except OSError:
            return

    def _serve(self, conn):
        text = b"# Server\r\nredis_version:6.2.14\r\n\r\n# Memory\r\nused_memory:1000\r\n"
        conn.settimeout(IO_TIMEOUT)
        buf = b""
        try:
            for _ in range(1000):  # bounded: a test sends a handful
                while b"\r\n" not in buf:
                    data = conn.recv(4096)
                    if not data:
                        return
                    buf += data
                n = int(buf[1:buf.index(b"\r\n")])
                parts = buf.split(b"\r\n")
                while len(parts) < 2 + 2 * n:
                    data = conn.recv(4096)
                    if not data:
                        return
                    buf += data
                    parts = buf.split(b"\r\n")
                name = parts[2].upper()
                buf = b"\r\n".join(parts[1 + 2 * n:])
                conn.sendall(b"$%d\r\n%s\r\n" % (len(text), text) if name == b"INFO"
                             else b"+OK\r\n")
        except (OSError, ValueError):
            return
        finally:
            conn.close()

    def close(self):
        self.sock.close()


def test_info_redis_version_is_the_oldest_pnodes():
    real, old = RedisServer(), OldPnode()
    proxy = Proxy(make_ring([real.pnode, old.pnode], vnodes=16), threads=1)
    c = proxy.raw()
    info = info_dict(c.call("INFO", "server", "memory"))
    eq(info["redis_version"], "6.2.14", "redis_version: the older pnode's")
    check(int(info["used_memory"]) > 1000, "used_memory adds both: %r" % info["used_memory"])
    c.close()
    eq(proxy.stop(), 0, "proxy exit status")
    old.close()
    real.stop()


def test_noauth_gate_as_redis():
    s = locked_direct()
    try:
        same(s.port, locked().proxy.port, NOAUTH_SCENARIO, "before and after AUTH")
    finally:
        d = redis.Redis(host=HOST, port=s.port, password=PASS, socket_timeout=IO_TIMEOUT)
        d.config_set("requirepass", "")
        d.close()


def test_errors_leave_the_connection_usable():
    c = cluster().raw()
    for cmd in (("CLIENT", "x" * 300), ("INFO", "\r\n"), ("COMMAND", "GETKEYS", "x" * 1000, "k")):
        check(isinstance(c.call(*cmd), (Err, bytes)), "%r answered" % (cmd[:2],))
        eq(c.call("PING"), Status("PONG"), "PING after %r" % (cmd[:2],))
    c.close()


run(globals())
