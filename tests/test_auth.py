#!/usr/bin/python3
"""test_auth: requirepass at the proxy (AUTH, AUTH default, HELLO AUTH, the
NOAUTH gate and Redis's exact error texts), backend-password on pnode
connections, and the admin bearer token; real redis-servers on loopback."""

import json
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxytest  # noqa: E402
from proxytest import *  # noqa: E402,F401,F403

PASS = "s3cret pass"
NOAUTH = "NOAUTH Authentication required."
WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
NOPASS = ("ERR AUTH <password> called without any password configured for the "
          "default user. Are you sure your configuration is correct?")
HELLO_NOAUTH = ("NOAUTH HELLO must be called with the client already authenticated, "
                "otherwise the HELLO AUTH <user> <pass> option can be used to "
                "authenticate the client and select the RESP protocol version at the "
                "same time")

locked = lazy(lambda: Cluster(n=2, config={"requirepass": PASS}))
open_cluster = lazy(lambda: Cluster(n=1))


def test_noauth_gate():
    cl = locked()
    c = cl.raw()
    assert_err(c.call("SET", "gate:k", "v"), NOAUTH, "SET before AUTH")
    assert_err(c.call("GET", "gate:k"), NOAUTH, "GET before AUTH")
    assert_err(c.call("MSET", "gate:a", "1", "gate:b", "2"), NOAUTH, "MSET before AUTH")
    assert_err(c.call("MONITOR"), NOAUTH, "an unsupported command before AUTH")
    assert_err(c.call("KEYS", "*"), NOAUTH, "a fanned-out command before AUTH")
    assert_err(c.call("RING", "INFO"), NOAUTH, "RING before AUTH")
    assert_err(c.call("PING"), NOAUTH, "PING before AUTH, as Redis 7.0")
    assert_err(c.call("HELLO", "2"), HELLO_NOAUTH, "HELLO without AUTH")
    for k in ("gate:k", "gate:a", "gate:b"):
        eq(cl.server_for(k).client().get(k), None, "%s on its pnode after refused writes" % k)
    eq(c.call("QUIT"), Status("OK"), "QUIT before AUTH")
    check(c.expect_closed(), "QUIT closes")


def test_auth_forms():
    cl = locked()
    c = cl.raw()
    assert_err(c.call("AUTH", "wrong"), WRONGPASS, "AUTH with a wrong password")
    assert_err(c.call("AUTH", PASS[:-1]), WRONGPASS, "AUTH with a prefix of the password")
    assert_err(c.call("AUTH", PASS + "x"), WRONGPASS, "AUTH with a longer password")
    assert_err(c.call("AUTH", "alice", PASS), WRONGPASS, "AUTH as another user")
    assert_err(c.call("AUTH", "default", "wrong"), WRONGPASS, "AUTH default, wrong password")
    assert_err(c.call("AUTH", "a", "b", "c"), "ERR syntax error", "AUTH with 3 arguments")
    assert_err(c.call("GET", "k"), NOAUTH, "still refused after failed AUTHs")
    eq(c.call("AUTH", PASS), Status("OK"), "AUTH password")
    eq(c.call("SET", "forms:k", "v1"), Status("OK"), "SET after AUTH")
    eq(c.call("GET", "forms:k"), b"v1", "GET after AUTH")
    eq(cl.server_for("forms:k").client().get("forms:k"), b"v1", "the key on its pnode")
    c2 = cl.raw()
    eq(c2.call("AUTH", "default", PASS), Status("OK"), "AUTH default password")
    eq(c2.call("GET", "forms:k"), b"v1", "GET after AUTH default")
    c3 = cl.raw()
    assert_err(c3.call("HELLO", "2", "AUTH", "default", "nope"), WRONGPASS, "HELLO AUTH wrong")
    assert_err(c3.call("GET", "forms:k"), NOAUTH, "refused after HELLO with a wrong password")
    assert_err(c3.call("HELLO", "4", "AUTH", "default", PASS),
               "NOPROTO unsupported protocol version", "HELLO 4 AUTH")
    assert_err(c3.call("GET", "forms:k"), NOAUTH, "HELLO 4 AUTH does not authenticate")
    hello = c3.call("HELLO", "2", "AUTH", "default", PASS, "SETNAME", "me")
    check(isinstance(hello, list) and hello[:2] == [b"server", b"ringproxy"],
          "HELLO 2 AUTH default password: %r" % (hello,))
    eq(c3.call("GET", "forms:k"), b"v1", "GET after HELLO AUTH")


def test_pipelined_before_auth():
    """A pipeline whose AUTH comes in the middle: only what follows it runs."""
    cl = locked()
    c = cl.raw()
    c.send(encode_all([("SET", "pipe:k", "early"), ("AUTH", PASS), ("SET", "pipe:j", "late"),
                       ("GET", "pipe:k")]))
    r = c.replies(4)
    assert_err(r[0], NOAUTH, "SET before AUTH in a pipeline")
    eq(r[1:], [Status("OK"), Status("OK"), None], "AUTH, SET, GET after it")
    eq(cl.server_for("pipe:j").client().get("pipe:j"), b"late", "the later SET on its pnode")


def test_clients_with_password():
    cl = locked()
    r = cl.client(password=PASS)
    check(r.set("py:k", "v") is True, "python redis password= SET")
    eq(r.get("py:k"), b"v", "python redis password= GET")
    r.close()
    bad = cl.client(password="nope")
    try:
        bad.get("py:k")
        raise TestFailure("a wrong password= was accepted")
    except (redis.exceptions.ResponseError, redis.exceptions.AuthenticationError) as e:
        check("invalid username-password pair" in str(e), "python error text: %s" % e)
    bad.close()
    out = run_cmd(["redis-cli", "-h", HOST, "-p", str(cl.proxy.port), "--no-auth-warning",
                   "-a", PASS, "GET", "py:k"])
    eq(out.stdout.decode().strip(), "v", "redis-cli -a GET (stderr %r)" % out.stderr)
    out = run_cmd(["redis-cli", "-h", HOST, "-p", str(cl.proxy.port), "GET", "py:k"])
    eq(out.stdout.decode().strip(), NOAUTH, "redis-cli without -a")


def test_auth_without_requirepass():
    cl = open_cluster()
    c = cl.raw()
    assert_err(c.call("AUTH", "x"), NOPASS, "AUTH with no requirepass")
    eq(c.call("AUTH", "default", "anything"), Status("OK"),
       "AUTH default with no requirepass (Redis's nopass default user)")
    assert_err(c.call("AUTH", "bob", "x"), WRONGPASS, "AUTH as another user, no requirepass")
    eq(c.call("SET", "open:k", "v"), Status("OK"), "no AUTH needed")
    eq(c.call("HELLO", "2", "AUTH", "default", "x")[0], b"server", "HELLO AUTH, no requirepass")


def test_requirepass_is_start_only():
    """SIGHUP with a new requirepass keeps the old one and says so."""
    cl = open_cluster()
    path = write_config({"requirepass": PASS})
    proxy = Proxy(cl.ring, config=path)
    with open(path, "w") as f:
        f.write("requirepass other\nadmin-token t\nbackend-password b\n")
    # One SIGHUP, maybe before ringproxy's handler is in place (the port
    # opens first): it must be held for the handler, neither kill the
    # proxy nor be lost.
    proxy.proc.send_signal(signal.SIGHUP)

    def warned():
        check(proxy.alive(), "ringproxy exited with %s after SIGHUP" % proxy.proc.returncode)
        err = proxy.stderr()
        return all("cannot change at run time option=%s " % o in err
                   for o in ("requirepass", "admin-token", "backend-password"))
    wait_until(warned, START_TIMEOUT, "the reload's warnings about the three passwords")
    c = proxy.raw()
    assert_err(c.call("AUTH", "other"), WRONGPASS, "the new password after SIGHUP")
    eq(c.call("AUTH", PASS), Status("OK"), "the start-time password after SIGHUP")
    eq(proxy.stop(), 0, "proxy exit status")


BACKEND_PASS = "pnode-pw"


class PassServer(RedisServer):
    """A redis-server started with --requirepass."""

    def start(self):
        log = open(os.path.join(self.dir, "redis.log"), "ab")
        self.proc = proxytest._spawn(
            ["redis-server", "--port", str(self.port), "--bind", HOST,
             "--save", "", "--appendonly", "no", "--daemonize", "no",
             "--dir", self.dir, "--requirepass", BACKEND_PASS],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        wait_until(self._pong, START_TIMEOUT, "redis-server on port %d" % self.port)

    def client(self):
        return redis.Redis(host=HOST, port=self.port, socket_timeout=IO_TIMEOUT,
                           socket_connect_timeout=IO_TIMEOUT, password=BACKEND_PASS)


pass_servers = lazy(lambda: [PassServer() for _ in range(2)])


def pass_proxy(password, threads=2):
    servers = pass_servers()
    ring = make_ring(servers)
    return servers, ring, Proxy(ring, config={"backend-password": password}, threads=threads)


def test_backend_password():
    servers, ring, proxy = pass_proxy(BACKEND_PASS)
    c = proxy.raw()
    keys = ["bp:%d" % i for i in range(200)]
    # One pipeline on fresh pnode connections: the AUTH replies must not
    # shift any request's reply.
    c.send(encode_all([("SET", k, "v-" + k) for k in keys] + [("GET", k) for k in keys]))
    r = c.replies(2 * len(keys))
    eq(r[:len(keys)], [Status("OK")] * len(keys), "SETs through AUTHed pnode connections")
    eq(r[len(keys):], [("v-" + k).encode() for k in keys], "GETs, each its own reply")
    nodes = get_nodes(ring, keys)
    by = {s.pnode: s for s in servers}
    for k in keys[:20]:
        eq(by[nodes[k]["pnode"]].client().get(k), ("v-" + k).encode(), "%s on its pnode" % k)
    for s in servers:
        st = s.client().info("commandstats")
        check(st.get("cmdstat_auth", {}).get("calls", 0) >= 1, "%s got AUTH" % s.pnode)
        eq(st.get("cmdstat_auth", {}).get("failed_calls", 0), 0, "%s: no failed AUTH" % s.pnode)
    eq(proxy.stop(), 0, "proxy exit status")


def test_dedicated_connections_authenticate_too():
    # WATCH and blocking commands take connections of their own (pinned.c).
    servers, ring, proxy = pass_proxy(BACKEND_PASS, threads=1)
    c = proxy.raw()
    c.call("RPUSH", "bd:q", "x")
    eq(c.call("WATCH", "bd:w"), Status("OK"), "WATCH on an AUTHed dedicated connection")
    c.send(encode_all([("MULTI",), ("SET", "bd:w", "1"), ("EXEC",)]))
    eq(c.replies(3)[2], [Status("OK")], "EXEC on it")
    eq(c.call("BLPOP", "bd:q", "1"), [b"bd:q", b"x"], "BLPOP on an AUTHed dedicated connection")
    eq(proxy.stop(), 0, "proxy exit status")


def test_backend_password_resp3_and_subscriptions():
    """RESP3 and subscription connections AUTH first, as the shared ones."""
    from resp3client import Resp3Client
    servers, ring, proxy = pass_proxy(BACKEND_PASS)
    c = Resp3Client(proxy.port)
    check(c.raw_call("HELLO", "3").startswith(b"%7\r\n"), "HELLO 3")
    keys = ["bp3:%d" % i for i in range(20)]
    c.send(encode_all([("SET", k, "v") for k in keys] + [("GET", k) for k in keys] +
                      [("GET", "bp3:none")]))
    eq([c.frame() for _ in range(2 * len(keys) + 1)],
       [b"+OK\r\n"] * len(keys) + [b"$1\r\nv\r\n"] * len(keys) + [b"_\r\n"],
       "RESP3 through AUTHed pnode connections")
    c.send(encode("PSUBSCRIBE", "bp3:*"))
    eq(c.frame(), b">3\r\n$10\r\npsubscribe\r\n$5\r\nbp3:*\r\n:1\r\n", "PSUBSCRIBE")
    pub = Resp3Client(proxy.port)
    eq(pub.raw_call("PUBLISH", "bp3:ch", "m"), b":1\r\n", "PUBLISH reaches the subscriber")
    eq(c.frame(), b">4\r\n$8\r\npmessage\r\n$5\r\nbp3:*\r\n$6\r\nbp3:ch\r\n$1\r\nm\r\n",
       "pmessage")
    c.close()
    pub.close()
    eq(proxy.stop(), 0, "proxy exit status")


def test_backend_password_wrong():
    servers, ring, proxy = pass_proxy("not-it", threads=1)
    c = proxy.raw()
    for key in ("bw:1", "bw:2"):
        pnode = get_nodes(ring, [key])[key]["pnode"]
        reply = c.call("SET", key, "v")
        assert_unavailable(reply, pnode)
        eq(reply, "ERR pnode %s unavailable: AUTH failed: %s" % (pnode, WRONGPASS),
           "a request behind a refused AUTH")
        eq({s.pnode: s for s in servers}[pnode].client().get(key), None, "%s not written" % key)
    check("backend AUTH refused" in proxy.stderr(), "the refusal is logged")
    eq(c.call("PING"), Status("PONG"), "the client is still served")
    eq(proxy.stop(), 0, "proxy exit status")


TOKEN = "adm1n-t0ken"


def test_admin_token():
    cl = open_cluster()
    aport = free_port()
    proxy = Proxy(cl.ring, config={"admin": "%s:%d" % (HOST, aport), "admin-token": TOKEN})
    wait_until(lambda: port_open(aport), START_TIMEOUT, "admin port")
    for path, method in (("/stats", "GET"), ("/ring", "GET"), ("/metrics", "GET"),
                         ("/reload", "POST"), ("/nowhere", "GET")):
        for auth in (None, "Bearer wrong", "Bearer " + TOKEN[:-1], "Bearer " + TOKEN + "x",
                     "Basic " + TOKEN, TOKEN, "Bearer"):
            code, body, hdrs = http(aport, path, method, auth)
            eq(code, 401, "%s %s with Authorization %r" % (method, path, auth))
            eq(json.loads(body), {"error": "missing or wrong bearer token"}, "401 body")
            eq(hdrs.get("WWW-Authenticate"), "Bearer", "401 WWW-Authenticate")
    good = "Bearer " + TOKEN
    code, body, _ = http(aport, "/stats", auth=good)
    eq(code, 200, "/stats with the token")
    check(isinstance(json.loads(body), dict) and json.loads(body), "/stats JSON: %r" % body)
    eq(http(aport, "/metrics", auth=good)[0], 200, "/metrics with the token")
    eq(http(aport, "/reload", "POST", auth=good)[0], 200, "POST /reload with the token")
    eq(http(aport, "/nowhere", auth=good)[0], 404, "unknown path with the token")
    code, body, _ = http(aport, "/health")
    eq((code, body.strip()), (200, "ok"), "/health stays open")
    eq(proxy.stop(), 0, "proxy exit status")


def test_admin_without_token():
    cl = open_cluster()
    aport = free_port()
    proxy = Proxy(cl.ring, config={"admin": "%s:%d" % (HOST, aport)})
    wait_until(lambda: port_open(aport), START_TIMEOUT, "admin port")
    eq(http(aport, "/stats")[0], 200, "/stats with no admin-token configured")
    eq(proxy.stop(), 0, "proxy exit status")


run(globals())
