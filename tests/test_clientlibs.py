"""Real client libraries with their default settings, run the same way
against redis-server and through ringproxy: the outputs must match.

ioredis and node-redis (4 as "redis4", and the latest) come from
tests/clients (package.json and package-lock.json); install them with
`npm ci --prefix tests/clients` before running."""

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


def node_run(module, script, *args):
    """The JSON line a tests/clients script printed, using module."""
    check(os.path.isdir(os.path.join(CLIENTS, "node_modules", module)),
          "%s is not installed: run npm ci --prefix %s" % (module, CLIENTS))
    p = subprocess.run(["node", os.path.join(CLIENTS, script)] + [str(a) for a in args],
                       cwd=CLIENTS, capture_output=True, timeout=30)
    eq(p.returncode, 0, "node's exit status (stderr %r)" % p.stderr[-500:])
    return json.loads(p.stdout.decode().strip().splitlines()[-1])


def ioredis_run(port, prefix):
    return node_run("ioredis", "ioredis_basic.js", port, prefix)


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


def node_redis_run(module, port, prefix):
    return node_run(module, "node_redis_basic.js", module, port, prefix)


def test_node_redis_defaults_connect_and_work():
    # node-redis 6 (npm's latest) speaks RESP3 (HELLO 3); 4 speaks RESP2.
    for module, resp, prefixes in (("redis", "3", ("{nr}", "nrsplit")), ("redis4", "2", ("nr4",))):
        for prefix in prefixes:
            want = node_redis_run(module, direct().port, prefix)
            eq(want.get("error"), None, "%s on redis-server: the run itself" % module)
            eq(want.get("resp"), resp, "%s on redis-server: protocol" % module)
            got = node_redis_run(module, cluster().proxy.port, prefix)
            eq(got, want, "%s through ringproxy vs redis-server (%s)" % (module, prefix))


def test_redis_py_client_name():
    for what, port in (("redis-server", direct().port), ("ringproxy", cluster().proxy.port)):
        r = redis.Redis(host=HOST, port=port, client_name="app", socket_timeout=IO_TIMEOUT,
                        socket_connect_timeout=IO_TIMEOUT)
        eq(r.client_getname(), "app", "%s: CLIENT GETNAME" % what)
        check(r.set("py:k", "v"), "%s: SET" % what)
        eq(r.mget("py:k", "py:none"), [b"v", None], "%s: MGET" % what)
        r.close()


run(globals())
