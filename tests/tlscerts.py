"""tlscerts: certificate authorities made with openssl for TLS tests and
benchmarks (EC P-256: fast to make and to handshake, also under valgrind)."""

import os
import subprocess

import redis

import proxytest
from proxytest import HOST, IO_TIMEOUT, START_TIMEOUT, RedisServer, check, port_open, run_cmd, \
    tmpdir, wait_until


def openssl(*args):
    r = run_cmd(["openssl"] + list(args))
    check(r.returncode == 0, "openssl %s failed: %s" % (
        args[0], r.stderr.decode(errors="replace").strip()))


class CA:
    """A certificate authority in a temp dir."""

    def __init__(self, name):
        self.dir = tmpdir("ringproxy-ca-")
        self.crt = os.path.join(self.dir, "ca.crt")
        self.key = os.path.join(self.dir, "ca.key")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", self.key, "-out", self.crt, "-days", "2",
                "-subj", "/CN=" + name)

    def issue(self, name, san="IP:127.0.0.1"):
        """(certificate, key) paths for name, valid for san, usable by a
        server and a client."""
        base = os.path.join(self.dir, name)
        ext = base + ".ext"
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\n"
                    "keyUsage=digitalSignature\n"
                    "extendedKeyUsage=serverAuth,clientAuth\n"
                    "subjectAltName=%s\n" % san)
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", base + ".key", "-out", base + ".csr", "-subj", "/CN=" + name)
        openssl("x509", "-req", "-in", base + ".csr", "-CA", self.crt, "-CAkey", self.key,
                "-CAcreateserial", "-out", base + ".crt", "-days", "2", "-extfile", ext)
        return base + ".crt", base + ".key"


class TLSRedis(RedisServer):
    """A redis-server speaking only TLS, with a certificate from issuer valid
    for san. It asks clients for certificates from client_ca unless
    auth_clients is "no"; client() presents client_cert."""

    def __init__(self, issuer, client_ca, client_cert, san="IP:127.0.0.1", auth_clients="yes",
                 password=None):
        self.issuer, self.client_ca, self.client_cert = issuer, client_ca, client_cert
        self.cert = issuer.issue("redis", san)
        self.auth_clients, self.password = auth_clients, password
        super().__init__()

    @property
    def pnode(self):
        return "tls://%s:%d" % (HOST, self.port)

    def start(self):
        log = open(os.path.join(self.dir, "redis.log"), "ab")
        argv = ["redis-server", "--port", "0", "--tls-port", str(self.port), "--bind", HOST,
                "--tls-cert-file", self.cert[0], "--tls-key-file", self.cert[1],
                "--tls-ca-cert-file", self.client_ca.crt, "--tls-auth-clients", self.auth_clients,
                "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", self.dir]
        if self.password:
            argv += ["--requirepass", self.password]
        self.proc = proxytest._spawn(argv, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        log.close()
        wait_until(lambda: port_open(self.port), START_TIMEOUT,
                   "TLS redis-server on port %d" % self.port)

    def client(self):
        crt, key = self.client_cert
        return redis.Redis(host=HOST, port=self.port, ssl=True, ssl_ca_certs=self.issuer.crt,
                           ssl_certfile=crt, ssl_keyfile=key, ssl_cert_reqs="required",
                           password=self.password, socket_timeout=IO_TIMEOUT,
                           socket_connect_timeout=IO_TIMEOUT)
