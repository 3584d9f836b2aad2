"""Real client libraries with their default settings, run the same way
against redis-server and through ringproxy: the outputs must match.

ioredis comes from tests/clients (package.json and package-lock.json);
install it with `npm ci --prefix tests/clients` before running."""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
import redis  # noqa: E402
from proxytest import HOST, IO_TIMEOUT, Cluster, RedisServer, check, eq, lazy, run  # noqa: E402

CLIENTS = os.path.join(os.environ.get("top_srcdir", "."), "tests", "clients")

cluster = lazy(lambda: Cluster(n=2, vnodes=64))
direct = lazy(lambda: RedisServer())


def ioredis_run(port, prefix):
    check(os.path.isdir(os.path.join(CLIENTS, "node_modules", "ioredis")),
          "ioredis is not installed: run npm ci --prefix %s" % CLIENTS)
    p = subprocess.run(["node", os.path.join(CLIENTS, "ioredis_basic.js"), str(port), prefix],
                       cwd=CLIENTS, capture_output=True, timeout=30)
    eq(p.returncode, 0, "node's exit status (stderr %r)" % p.stderr[-500:])
    return json.loads(p.stdout.decode().strip().splitlines()[-1])


def test_ioredis_defaults_connect_and_work():
    want = ioredis_run(direct().port, "{ior}")
    eq(want.get("events"), ["ready", "end"], "redis-server: the run itself")
    got = ioredis_run(cluster().proxy.port, "{ior}")
    eq(got, want, "ioredis through ringproxy vs redis-server")
    eq(got["mget"], ["1", "2", None], "MGET")


def test_ioredis_keys_on_both_pnodes():
    # Without a hash tag MGET is split across the pnodes and merged.
    want = ioredis_run(direct().port, "iorsplit")
    eq(ioredis_run(cluster().proxy.port, "iorsplit"), want, "split MGET")


def test_redis_py_client_name():
    for what, port in (("redis-server", direct().port), ("ringproxy", cluster().proxy.port)):
        r = redis.Redis(host=HOST, port=port, client_name="app", socket_timeout=IO_TIMEOUT,
                        socket_connect_timeout=IO_TIMEOUT)
        eq(r.client_getname(), "app", "%s: CLIENT GETNAME" % what)
        check(r.set("py:k", "v"), "%s: SET" % what)
        eq(r.mget("py:k", "py:none"), [b"v", None], "%s: MGET" % what)
        r.close()


run(globals())
