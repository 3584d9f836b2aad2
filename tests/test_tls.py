#!/usr/bin/python3
"""test_tls: the client TLS listener (tls-port beside the plain listener,
client certificates, minimum version, ciphers, certificate rotation on
SIGHUP) and tls:// pnodes (CA and name verification, client certificates,
AUTH over TLS). Certificates come from CAs this test makes with openssl;
every server is on loopback."""

import json
import os
import shutil
import signal
import socket
import ssl
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxytest import *  # noqa: E402,F401,F403
import tlscerts  # noqa: E402
from tlscerts import CA  # noqa: E402
import proxytest  # noqa: E402


ca = lazy(lambda: CA("ringproxy test CA"))
rogue = lazy(lambda: CA("rogue CA"))
server_cert = lazy(lambda: ca().issue("proxy"))
client_cert = lazy(lambda: ca().issue("client"))
rogue_client_cert = lazy(lambda: rogue().issue("client"))


def tls_context(cafile=None, cert=None, min_version=None, max_version=None, ciphers=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.1 is, on purpose
    ctx.load_verify_locations(cafile or ca().crt)
    if cert:
        ctx.load_cert_chain(*cert)
    if ciphers:
        ctx.set_ciphers(ciphers)
    if min_version:
        ctx.minimum_version = min_version
    if max_version:
        ctx.maximum_version = max_version
    return ctx


class TLSClient(RawClient):
    """RawClient over TLS (certificate and IP checked against the CA)."""

    def __init__(self, port, ctx=None):
        raw = socket.create_connection((HOST, port), timeout=IO_TIMEOUT)
        try:
            self.sock = (ctx or tls_context()).wrap_socket(raw, server_hostname=HOST)
        except BaseException:
            raw.close()
            raise
        self.buf = b""


def tls_fails(port, ctx, what):
    """The handshake, or with TLS 1.3 the first reply (a refused client
    certificate is reported after the client's side of the handshake), must
    fail; returns the error text."""
    try:
        c = TLSClient(port, ctx)
    except ConnectionRefusedError:
        raise TestFailure("%s: nothing listens on TLS port %d" % (what, port))
    except (ssl.SSLError, OSError) as e:
        return str(e)
    try:
        reply = c.call("PING")
    except (ssl.SSLError, OSError, Closed) as e:
        return str(e)
    finally:
        c.close()
    raise TestFailure("%s: the connection worked (PING -> %r)" % (what, reply))


def proxy_config(**extra):
    crt, key = server_cert()
    conf = {"tls-port": free_port(), "tls-cert-file": crt, "tls-key-file": key}
    conf.update({k.replace("_", "-"): v for k, v in extra.items()})
    return conf


plain_cluster = lazy(lambda: Cluster(n=2, config=proxy_config()))


def tls_port(cl):
    return int(cl.config["tls-port"])


def tls_counts(cl):
    """(TLS clients accepted, handshakes failed) from /metrics."""
    m = cl.proxy.metrics()
    return (m[("ringproxy_tls_clients_accepted_total", "")],
            m[("ringproxy_tls_handshake_failures_total", "")])


def check_tls_counts(cl, want, what):
    """The counts reach want: a client may see its handshake fail (the
    alert) before the proxy's worker has counted it."""
    try:
        wait_until(lambda: tls_counts(cl) == want, START_TIMEOUT, what)
    except TestFailure:
        eq(tls_counts(cl), want, what)


# --- the client listener -----------------------------------------------------

def test_tls_and_plain_side_by_side():
    cl = plain_cluster()
    t = TLSClient(tls_port(cl))
    p = cl.raw()
    eq(t.call("SET", "tls:a", "from tls"), Status("OK"), "SET over TLS")
    eq(p.call("GET", "tls:a"), b"from tls", "GET over plain of a key set over TLS")
    eq(p.call("SET", "tls:b", "from plain"), Status("OK"), "SET over plain")
    eq(t.call("GET", "tls:b"), b"from plain", "GET over TLS of a key set over plain")
    # Multi-key across both pnodes, and a pipeline, over TLS.
    keys = ["tls:m%d" % i for i in range(40)]
    args = []
    for k in keys:
        args += [k, k.upper()]
    eq(t.call("MSET", *args), Status("OK"), "MSET over TLS")
    eq(t.call("MGET", *keys), [k.upper().encode() for k in keys], "MGET over TLS")
    placed = {k: k.upper().encode() for k in keys}
    cl.assert_placement(placed)
    t.send(encode_all([("INCR", "tls:counter")] * 500))
    eq(t.replies(500), list(range(1, 501)), "500 pipelined INCRs over TLS")
    # A value larger than any TLS record or read buffer, both ways.
    big = os.urandom(3 << 20)
    eq(t.call("SET", "tls:big", big), Status("OK"), "SET 3 MB over TLS")
    eq(t.call("GET", "tls:big"), big, "GET 3 MB over TLS")
    eq(p.call("GET", "tls:big"), big, "GET 3 MB over plain")
    # The redis module's own TLS client, checking the proxy's name as well.
    r = redis.Redis(host=HOST, port=tls_port(cl), ssl=True, ssl_ca_certs=ca().crt,
                    ssl_cert_reqs="required", ssl_check_hostname=True,
                    socket_timeout=IO_TIMEOUT)
    eq(r.get("tls:a"), b"from tls", "redis-py over TLS")
    r.close()
    t.close()
    p.close()


def test_not_tls_on_tls_port():
    cl = plain_cluster()
    accepted, failed = tls_counts(cl)
    for what, data in (("plain RESP", encode("PING")), ("garbage", os.urandom(512)),
                       ("an HTTP request", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")):
        s = socket.create_connection((HOST, tls_port(cl)), timeout=IO_TIMEOUT)
        s.sendall(data)
        got = b""
        try:
            while len(got) < 4096:
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
        except ConnectionResetError:
            pass
        s.close()
        check(b"PONG" not in got and b"-ERR" not in got,
              "%s on the TLS port got a RESP reply: %r" % (what, got[:80]))
    eq(cl.raw().call("PING"), Status("PONG"), "plain listener after bad TLS clients")
    eq(TLSClient(tls_port(cl)).call("PING"), Status("PONG"), "TLS listener after bad clients")
    check_tls_counts(cl, (accepted + 4, failed + 3), "TLS clients accepted and failed")


def test_old_protocols_refused():
    cl = plain_cluster()
    # SECLEVEL=0 lets this client offer TLS 1.1 at all; the proxy must refuse.
    old = tls_context(min_version=ssl.TLSVersion.TLSv1_1, max_version=ssl.TLSVersion.TLSv1_1,
                      ciphers="DEFAULT:@SECLEVEL=0")
    why = tls_fails(tls_port(cl), old, "a TLS 1.1 client")
    check("VERSION" in why.upper() or "PROTOCOL" in why.upper(),
          "TLS 1.1 refused for its version, got: %s" % why)
    t12 = TLSClient(tls_port(cl), tls_context(max_version=ssl.TLSVersion.TLSv1_2))
    eq(t12.sock.version(), "TLSv1.2", "a TLS 1.2 client is served by default")
    eq(t12.call("PING"), Status("PONG"), "PING over TLS 1.2")
    t13 = TLSClient(tls_port(cl))
    eq(t13.sock.version(), "TLSv1.3", "TLS 1.3 is preferred")


def test_min_version_and_ciphers():
    conf = proxy_config(tls_min_version="1.3", tls_ciphersuites="TLS_AES_128_GCM_SHA256")
    cl = Cluster(n=1, config=conf)
    tls_fails(tls_port(cl), tls_context(max_version=ssl.TLSVersion.TLSv1_2),
              "a TLS 1.2 client with tls-min-version 1.3")
    t = TLSClient(tls_port(cl))
    eq(t.sock.version(), "TLSv1.3", "version with tls-min-version 1.3")
    # The client offers every suite; the proxy may only pick the one set.
    eq(t.sock.cipher()[0], "TLS_AES_128_GCM_SHA256", "the TLS 1.3 suite of tls-ciphersuites")
    eq(t.call("PING"), Status("PONG"), "PING over TLS 1.3")

    conf = proxy_config(tls_ciphers="ECDHE-ECDSA-AES128-GCM-SHA256")
    cl = Cluster(n=1, config=conf)
    t = TLSClient(tls_port(cl), tls_context(max_version=ssl.TLSVersion.TLSv1_2))
    eq(t.sock.cipher()[0], "ECDHE-ECDSA-AES128-GCM-SHA256", "the TLS 1.2 cipher of tls-ciphers")
    tls_fails(tls_port(cl), tls_context(max_version=ssl.TLSVersion.TLSv1_2,
                                        ciphers="ECDHE-ECDSA-AES256-GCM-SHA384"),
              "a TLS 1.2 client without the configured cipher")


def test_client_certificates():
    cl = Cluster(n=1, config=proxy_config(tls_ca_cert_file=ca().crt))
    port = tls_port(cl)
    tls_fails(port, tls_context(), "no client certificate (tls-auth-clients defaults to yes)")
    tls_fails(port, tls_context(cert=rogue_client_cert()), "a certificate from another CA")
    t = TLSClient(port, tls_context(cert=client_cert()))
    eq(t.call("SET", "cert:k", "v"), Status("OK"), "SET with a client certificate")
    eq(cl.raw().call("GET", "cert:k"), b"v", "the plain listener needs no certificate")
    check_tls_counts(cl, (3, 2), "TLS clients accepted and failed")

    cl = Cluster(n=1, config=proxy_config(tls_ca_cert_file=ca().crt,
                                          tls_auth_clients="optional"))
    port = tls_port(cl)
    eq(TLSClient(port).call("PING"), Status("PONG"), "optional: no certificate")
    eq(TLSClient(port, tls_context(cert=client_cert())).call("PING"), Status("PONG"),
       "optional: a good certificate")
    tls_fails(port, tls_context(cert=rogue_client_cert()), "optional: a bad certificate")


def ringbench(port, *args):
    """ringbench's exit status, JSON report and stderr for a short run."""
    argv = [os.path.join(proxytest.TOP_BUILDDIR, "tools", "ringbench"), "-h", HOST,
            "-p", str(port), "-c", "4", "-n", "400", "--json"] + list(args)
    r = run_cmd(argv, timeout=120)
    out = r.stdout.decode(errors="replace").strip()
    return r.returncode, (json.loads(out) if out else {}), r.stderr.decode(errors="replace")


def test_ringbench_verifies_the_proxy():
    cl = Cluster(n=1, config=proxy_config(tls_ca_cert_file=ca().crt))
    port = tls_port(cl)
    rc, rep, err = ringbench(port, "--tls-ca", ca().crt, "--tls-cert", client_cert()[0],
                             "--tls-key", client_cert()[1])
    check(rc == 0 and rep.get("requests") == 400 and rep["errors"]["total"] == 0,
          "ringbench with CA and client certificate: rc %d %r %s" % (rc, rep, err))
    rc, rep, err = ringbench(port, "--tls-ca", rogue().crt, "--tls-cert", client_cert()[0],
                             "--tls-key", client_cert()[1])
    check(rc != 0 and "TLS certificate verify failed" in rep.get("fatal", ""),
          "ringbench trusting another CA: rc %d %r" % (rc, rep.get("fatal")))
    rc, rep, err = ringbench(port, "--tls-cert", client_cert()[0])
    check(rc != 0 and "--tls-cert and --tls-key go together" in err,
          "ringbench with a certificate and no key: rc %d %s" % (rc, err))


def test_requirepass_over_tls():
    cl = Cluster(n=1, config=proxy_config(requirepass="tls pass"))
    t = TLSClient(tls_port(cl))
    assert_err(t.call("GET", "k"), "NOAUTH Authentication required.", "GET before AUTH")
    eq(t.call("AUTH", "tls pass"), Status("OK"), "AUTH over TLS")
    eq(t.call("SET", "k", "v"), Status("OK"), "SET after AUTH over TLS")


def test_idle_and_max_clients():
    cl = Cluster(n=1, config=proxy_config(client_idle_timeout=1, max_clients=2))
    port = tls_port(cl)
    # A client that never starts its handshake is idle like any other.
    s = socket.create_connection((HOST, port), timeout=IO_TIMEOUT)
    s.settimeout(IO_TIMEOUT)
    check(s.recv(1) == b"", "a silent TLS client is closed by client-idle-timeout")
    s.close()
    t = TLSClient(port)
    eq(t.call("PING"), Status("PONG"), "the first TLS client")
    p = cl.raw()
    eq(p.call("PING"), Status("PONG"), "a plain client makes two")
    # A third is closed: no plain error text inside a TLS handshake.
    tls_fails(port, tls_context(), "a TLS client over max-clients")
    t.close()
    wait_until(lambda: _tls_ping(port), START_TIMEOUT, "a TLS client once a slot is free")


def _tls_ping(port):
    try:
        c = TLSClient(port)
        ok = c.call("PING") == Status("PONG")
        c.close()
        return ok
    except (ssl.SSLError, OSError, Closed):
        return False


def test_handshake_timeout():
    # No idle timeout: only the handshake's own limit closes a client that
    # connects to the TLS port and says nothing.
    cl = Cluster(n=1, config=proxy_config(tls_handshake_timeout_ms=300))
    port = tls_port(cl)
    t = TLSClient(port)
    silent = socket.create_connection((HOST, port), timeout=IO_TIMEOUT)
    silent.settimeout(IO_TIMEOUT)
    check(silent.recv(1) == b"", "a client that never starts its handshake is closed")
    silent.close()
    check_tls_counts(cl, (2, 1), "TLS clients accepted and failed")
    # t finished its handshake before the silent one was closed, a full
    # handshake timeout ago: the limit no longer applies to it.
    eq(t.call("PING"), Status("PONG"), "a TLS client idle after its handshake")
    time.sleep(0.5)
    eq(t.call("PING"), Status("PONG"), "a TLS client idle longer than the handshake timeout")


def test_output_limit_over_tls():
    # A TLS client that never reads a pipeline of 256 KB replies: what the
    # proxy holds includes what waits inside the TLS layer, so the hard
    # limit closes it as it does a plain client.
    cl = Cluster(n=1, config=proxy_config(client_output_limit_hard=1 << 20,
                                          client_output_limit_soft="0 0", max_pipeline=64,
                                          server_timeout_ms=0))
    cl.servers[0].client().set("out:k", b"o" * (256 << 10))
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    raw.settimeout(IO_TIMEOUT)
    raw.connect((HOST, tls_port(cl)))
    hog = tls_context().wrap_socket(raw, server_hostname=HOST)
    hog.sendall(encode_all(("GET", "out:k") for _ in range(400)))
    port = hog.getsockname()[1]
    wait_until(lambda: "client=%s:%d limit=hard" % (HOST, port) in cl.proxy.stderr(), 10,
               "the TLS client closed over the hard limit")
    got = 0
    try:
        while got <= 400 << 18:
            d = hog.recv(1 << 16)
            if not d:
                break
            got += len(d)
    except (ssl.SSLError, OSError):
        pass
    check(got < 400 << 18, "the TLS client got every reply (%d bytes) after the limit" % got)
    hog.close()
    eq(TLSClient(tls_port(cl)).call("STRLEN", "out:k"), 256 << 10, "another TLS client")


def test_rotation_on_sighup():
    d = tmpdir("ringproxy-rotate-")
    crt, key = os.path.join(d, "proxy.crt"), os.path.join(d, "proxy.key")
    for src, dst in zip(server_cert(), (crt, key)):
        shutil.copy(src, dst)
    cl = Cluster(n=1, config=proxy_config(tls_cert_file=crt, tls_key_file=key))
    port = tls_port(cl)
    before = TLSClient(port)
    eq(before.call("SET", "rot:k", "1"), Status("OK"), "a client of the first certificate")
    # Rotate in place to a certificate from another CA.
    for src, dst in zip(rogue().issue("proxy"), (crt, key)):
        shutil.copy(src, dst)
    cl.proxy.proc.send_signal(signal.SIGHUP)

    def rotated():
        try:
            TLSClient(port, tls_context(cafile=rogue().crt)).close()
            return True
        except ssl.SSLError:
            return False
    wait_until(rotated, START_TIMEOUT, "the new certificate after SIGHUP")
    tls_fails(port, tls_context(), "a client trusting only the old CA after rotation")
    eq(before.call("GET", "rot:k"), b"1", "the client connected before the rotation")

    # A broken rotation keeps the certificate in force.
    with open(key, "w") as f:
        f.write("not a key\n")
    cl.proxy.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "TLS reload failed" in cl.proxy.stderr(), START_TIMEOUT,
               "the failed TLS reload in the log")
    check("tls-cert-file" in cl.proxy.stderr() or "tls-key-file" in cl.proxy.stderr(),
          "the failed reload names the file: %s" % cl.proxy.stderr()[-400:])
    eq(TLSClient(port, tls_context(cafile=rogue().crt)).call("PING"), Status("PONG"),
       "the certificate in force after a failed rotation")


def test_config_errors():
    ring = plain_cluster().ring
    crt, key = server_cert()
    other_crt, _ = rogue().issue("other")
    port = free_port()
    cases = [
        ({"tls-port": port}, "tls-port needs tls-cert-file and tls-key-file"),
        ({"tls-port": port, "tls-cert-file": "/nonexistent.crt", "tls-key-file": key},
         "tls-cert-file /nonexistent.crt: cannot load the certificate"),
        ({"tls-port": port, "tls-cert-file": crt, "tls-key-file": other_crt},
         "cannot load the private key"),
        ({"tls-port": port, "tls-cert-file": other_crt, "tls-key-file": key},
         "cannot load the private key: key values mismatch"),
        ({"tls-port": port, "tls-cert-file": crt, "tls-key-file": key,
          "tls-auth-clients": "yes"}, "tls-auth-clients needs tls-ca-cert-file"),
        ({"tls-port": port, "tls-cert-file": crt, "tls-key-file": key,
          "tls-ciphers": "NO-SUCH-CIPHER"}, "tls-ciphers: no usable cipher"),
        ({"tls-min-version": "1.1"}, "option tls-min-version: '1.1' is not one of"),
        ({"backend-tls-cert-file": crt}, "backend-tls-cert-file and backend-tls-key-file go together"),
        ({"backend-tls-ca-cert-file": "/nonexistent-ca.crt"},
         "backend-tls-ca-cert-file /nonexistent-ca.crt: cannot load the CA certificates"),
    ]
    for conf, want in cases:
        path = write_config({k: str(v) for k, v in conf.items()})
        r = run_cmd(PROXY_WRAPPER + [RINGPROXY, "-r", ring, "-l", "%s:%d" % (HOST, free_port()),
                                     "-c", path], timeout=60)
        err = r.stderr.decode(errors="replace")
        check(r.returncode != 0, "ringproxy started with %r" % conf)
        check(want in err, "error for %r: want %r, got %r" % (conf, want, err.strip()))
    listen = free_port()
    path = write_config({"tls-port": listen, "tls-cert-file": crt, "tls-key-file": key})
    r = run_cmd(PROXY_WRAPPER + [RINGPROXY, "-r", ring, "-l", "%s:%d" % (HOST, listen),
                                 "-c", path], timeout=60)
    check(r.returncode != 0 and b"is the listen port too" in r.stderr,
          "tls-port equal to the listen port: %r" % r.stderr)


# --- tls:// pnodes -----------------------------------------------------------

def TLSRedis(issuer=None, san="IP:127.0.0.1", auth_clients="yes", password=None):
    """A TLS-only redis-server trusting client certificates from ca()."""
    return tlscerts.TLSRedis(issuer or ca(), ca(), client_cert(), san, auth_clients, password)


def backend_config(**extra):
    crt, key = client_cert()
    conf = {"backend-tls-ca-cert-file": ca().crt, "backend-tls-cert-file": crt,
            "backend-tls-key-file": key}
    conf.update({k.replace("_", "-"): v for k, v in extra.items()})
    return conf


def mixed_cluster(tls_server, config):
    """A plain pnode and a TLS pnode behind one proxy."""
    return Cluster(servers=[RedisServer(), tls_server], config=config)


def test_tls_pnodes():
    srv = TLSRedis()
    cl = mixed_cluster(srv, backend_config())
    c = cl.raw()
    keys = ["pn:%d" % i for i in range(200)]
    for k in keys:
        eq(c.call("SET", k, k), Status("OK"), "SET %s" % k)
    cl.assert_placement({k: k.encode() for k in keys})
    on_tls = cl.pnode_keys("pn:")[srv.pnode]
    eq(c.call("MGET", *on_tls), [k.encode() for k in on_tls], "MGET of keys on the TLS pnode")
    c.send(encode_all([("GET", k) for k in keys]))
    eq(c.replies(len(keys)), [k.encode() for k in keys], "pipelined GETs over both pnodes")


def test_tls_pnode_with_password():
    srv = TLSRedis(password="pnode pass")
    cl = Cluster(servers=[srv], config=backend_config(backend_password="pnode pass"), threads=1)
    c = cl.raw()
    eq(c.call("SET", "pw:k", "v"), Status("OK"), "SET through AUTH over TLS")
    eq(srv.client().get("pw:k"), b"v", "the value on the TLS pnode")
    # WATCH and BLPOP take dedicated connections: TLS and AUTH as well.
    c.call("RPUSH", "pw:q", "x")
    eq(c.call("WATCH", "pw:k"), Status("OK"), "WATCH over TLS")
    c.send(encode_all([("MULTI",), ("SET", "pw:k", "w"), ("EXEC",)]))
    eq(c.replies(3)[2], [Status("OK")], "EXEC on the WATCH connection")
    eq(c.call("BLPOP", "pw:q", "1"), [b"pw:q", b"x"], "BLPOP over TLS")


def test_tls_pnode_resp3_and_subscriptions():
    """RESP3 and subscription connections to a tls:// pnode, with AUTH."""
    from resp3client import Resp3Client
    srv = TLSRedis(password="pnode pass")
    cl = Cluster(servers=[srv], config=backend_config(backend_password="pnode pass"), threads=1)
    c = Resp3Client(cl.proxy.port)
    check(c.raw_call("HELLO", "3").startswith(b"%7\r\n"), "HELLO 3")
    eq(c.raw_call("GET", "t3:none"), b"_\r\n", "RESP3 nil from the TLS pnode")
    eq(c.raw_call("SUBSCRIBE", "t3:ch"), b">3\r\n$9\r\nsubscribe\r\n$5\r\nt3:ch\r\n:1\r\n",
       "SUBSCRIBE over TLS")
    # Its own message and PUBLISH's reply: Redis writes the message first,
    # the proxy as the two connections deliver; either order is RESP3.
    c.send(encode("PUBLISH", "t3:ch", "m"))
    eq(sorted([c.frame(), c.frame()]),
       [b":1\r\n", b">3\r\n$7\r\nmessage\r\n$5\r\nt3:ch\r\n$1\r\nm\r\n"],
       "PUBLISH while subscribed (RESP3) and the message")
    c.close()


def test_tls_pnode_restart():
    srv = TLSRedis()
    cl = mixed_cluster(srv, backend_config(reconnect_min_ms=50, reconnect_max_ms=200))
    by = cl.pnode_keys("restart:", 2)
    c = cl.raw()
    k = by[srv.pnode][0]
    eq(c.call("SET", k, "1"), Status("OK"), "SET on the TLS pnode")
    srv.stop()
    assert_unavailable(c.call("SET", k, "2"), srv.pnode)
    eq(c.call("SET", by[cl.servers[0].pnode][0], "1"), Status("OK"), "the plain pnode meanwhile")
    srv.start()
    wait_until(lambda: c.call("SET", k, "3") == Status("OK"), START_TIMEOUT,
               "the TLS pnode back after its restart")
    eq(srv.client().get(k), b"3", "the write after the restart on the TLS pnode")


def check_refused_pnode(srv, config, *want):
    """Keys on srv fail with one of the reasons in want; the others work.
    The failure counts as a failed connect: within the backoff (1 s here,
    cut to 100 ms for requests) they fail at once instead of each opening a
    connection."""
    config = dict(config, **{"reconnect-min-ms": 1000, "reconnect-max-ms": 1000})
    cl = mixed_cluster(srv, config)
    by = cl.pnode_keys("bad:", 3)
    c = cl.raw()
    for k in by[srv.pnode]:
        r = c.call("SET", k, "v")
        assert_unavailable(r, srv.pnode)
        check(any(w in r for w in want), "the reason for %s: want %r, got %r" % (srv.pnode, want, r))
    key = ("ringproxy_pnode_connects_total", 'pnode="%s"' % srv.pnode)
    before = cl.proxy.metrics()[key]
    start = time.monotonic()
    for _ in range(20):
        assert_unavailable(c.call("SET", by[srv.pnode][0], "v"), srv.pnode)
    # A down pnode is retried at most every 100 ms (per worker: 2 here).
    allowed = 2 + 2 * int((time.monotonic() - start) / 0.1 + 1)
    opened = cl.proxy.metrics()[key] - before
    check(opened <= min(allowed, 19), "%d connections to the refusing pnode for 20 requests"
          % opened)
    # One "down" line per worker, not a new connection and a line per request.
    log = cl.proxy.stderr().splitlines()
    lost = [l for l in log if "connection lost pnode=%s " % srv.pnode in l]
    down = [l for l in log if "backend down pnode=%s " % srv.pnode in l]
    check(not lost and 1 <= len(down) <= 2,
          "the refusing pnode was retried per request: %d lost, %d down lines" % (len(lost), len(down)))
    plain = cl.servers[0].pnode
    for k in by[plain]:
        eq(c.call("SET", k, "v"), Status("OK"), "a key on the plain pnode")
    check(srv.client().dbsize() == 0, "nothing reached the refused pnode")


def test_pnode_from_unknown_ca():
    check_refused_pnode(TLSRedis(rogue(), auth_clients="no"), backend_config(),
                        "TLS certificate verify failed: ")


def test_pnode_name_mismatch():
    srv = TLSRedis(san="DNS:redis.example", auth_clients="no")
    check_refused_pnode(srv, backend_config(), "TLS certificate verify failed: IP address mismatch")


def test_pnode_wants_client_certificate():
    conf = {"backend-tls-ca-cert-file": ca().crt}
    # Redis refuses after the client's side of the TLS 1.3 handshake: its
    # alert arrives, or is lost to the reset when it closes on our request.
    check_refused_pnode(TLSRedis(), conf, "TLS error: tlsv13 alert certificate required",
                        "connection closed by the server", "Connection reset by peer")


run(globals())
