"""Real clients through ringproxy: redis-cli (commands and --pipe),
redis-benchmark, and python3-redis with pipelining and threads."""

import os
import sys
import threading

import redis

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from proxytest import (HOST, Cluster, check, eq, get_nodes, lazy, run,  # noqa: E402
                       run_cmd)

cluster = lazy(lambda: Cluster(n=3, vnodes=1024))


def cli(cl, *args, input=None):
    r = run_cmd(["redis-cli", "-h", HOST, "-p", str(cl.proxy.port)] + list(args),
                timeout=30, input=input)
    eq(r.returncode, 0, "redis-cli %s exit status (stderr %r)" % (" ".join(args), r.stderr))
    return r.stdout.decode()


def test_redis_cli_set_get():
    cl = cluster()
    eq(cli(cl, "SET", "cli:a", "hello world").strip(), "OK", "redis-cli SET")
    eq(cli(cl, "GET", "cli:a").strip(), "hello world", "redis-cli GET")
    eq(cli(cl, "INCR", "cli:n").strip(), "1", "redis-cli INCR")
    eq(cli(cl, "MGET", "cli:a", "cli:none").splitlines(), ["hello world", ""], "redis-cli MGET")
    eq(cli(cl, "PING").strip(), "PONG", "redis-cli PING")
    out = cli(cl, "KEYS", "cli:*").split()
    eq(sorted(out), ["cli:a", "cli:n"], "redis-cli KEYS over every pnode")
    cl.assert_placement({"cli:a": b"hello world", "cli:n": b"1"})


def test_redis_cli_pipe_mass_insert():
    cl = cluster()
    n = 2000
    data = "".join("SET clipipe:%d v%d\r\n" % (i, i) for i in range(n)).encode()
    out = cli(cl, "--pipe", input=data)
    check("errors: 0, replies: %d" % n in out, "redis-cli --pipe summary: %r" % out)
    cl.assert_placement({"clipipe:%d" % i: ("v%d" % i).encode() for i in range(n)})


def test_redis_benchmark_set_get():
    cl = cluster()
    r = run_cmd(["redis-benchmark", "-h", HOST, "-p", str(cl.proxy.port), "-t", "set,get",
                 "-n", "20000", "-c", "10", "-P", "4", "-r", "1000", "-q"], timeout=50)
    out = r.stdout.decode(errors="replace")
    err = r.stderr.decode(errors="replace")
    eq(r.returncode, 0, "redis-benchmark exit status (stderr %r)" % err[-300:])
    check("Error from server" not in out + err, "redis-benchmark saw errors: %r" % (out + err)[-300:])
    for t in ("SET", "GET"):
        check(any(line.startswith(t + ":") and "requests per second" in line
                  for line in out.replace("\r", "\n").splitlines()),
              "no %s result in redis-benchmark output: %r" % (t, out[-300:]))
    # Its keys (key:000000000NNN) are on the pnodes ring-tool names, with
    # the values the proxy reads back.
    keys = ["key:%012d" % i for i in range(1000)]
    c = cl.client()
    vals = c.mget(keys)
    present = [k for k, v in zip(keys, vals) if v is not None]
    check(len(present) > 900, "only %d of 1000 benchmark keys were written" % len(present))
    eq({len(v) for v in vals if v is not None}, {3}, "benchmark value sizes (-d 3)")
    cl.assert_placement(dict(zip(keys, vals)))
    c.close()


def test_python_redis_pipelines():
    cl = cluster()
    c = cl.client()
    pipe = c.pipeline(transaction=False)
    for i in range(1000):
        pipe.set("py:%d" % i, i)
        pipe.incr("pyc:%d" % (i % 10))
        pipe.hset("pyh:%d" % (i % 7), "f%d" % i, i)
        pipe.get("py:%d" % i)
    res = pipe.execute()
    counts = {}
    for i in range(1000):
        r = res[4 * i:4 * i + 4]
        counts[i % 10] = counts.get(i % 10, 0) + 1
        eq(r, [True, counts[i % 10], 1, str(i).encode()], "pipeline replies for %d" % i)
    eq(c.hlen("pyh:3"), len([i for i in range(1000) if i % 7 == 3]), "HLEN")
    cl.assert_placement({"py:%d" % i: str(i).encode() for i in range(1000)})
    c.close()


def test_python_redis_transaction_on_one_pnode_and_refused_across():
    cl = cluster()
    c = cl.client()
    k = cl.pnode_keys("pytx:", 1)
    one, other = [ks[0] for ks in k.values()][:2]
    pipe = c.pipeline(transaction=True)
    pipe.set(one, 1).incr(one)
    eq(pipe.execute(), [True, 2], "a MULTI/EXEC pipeline on one key")
    pipe = c.pipeline(transaction=True)
    pipe.set(one, 5).set(other, 5)
    try:
        pipe.execute()
        raise AssertionError("a MULTI/EXEC pipeline over two pnodes succeeded")
    except redis.ResponseError as e:
        check(str(e).startswith("CROSSSLOT"), "transaction error: %r" % str(e))
    eq(c.mget([one, other]), [b"2", None], "nothing of the refused block applied")
    eq(c.ping(), True, "PING after the refused transaction")
    c.close()


def test_python_redis_threads_share_a_pool():
    cl = cluster()
    pool = redis.ConnectionPool(host=HOST, port=cl.proxy.port, socket_timeout=10,
                                max_connections=16)
    errors = []

    def worker(n):
        try:
            c = redis.Redis(connection_pool=pool)
            for rnd in range(5):
                pipe = c.pipeline(transaction=False)
                for i in range(200):
                    pipe.set("pyt:%d:%d" % (n, i), "%d-%d" % (n, rnd))
                pipe.execute()
                got = c.mget(["pyt:%d:%d" % (n, i) for i in range(200)])
                if got != [("%d-%d" % (n, rnd)).encode()] * 200:
                    errors.append("thread %d round %d: wrong MGET" % (n, rnd))
        except Exception as e:
            errors.append("thread %d: %r" % (n, e))

    ts = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(40)
    eq(errors, [], "thread errors")
    check(not any(t.is_alive() for t in ts), "threads did not finish")
    pool.disconnect()
    nodes = get_nodes(cl.ring, ["pyt:0:%d" % i for i in range(200)])
    check(len({o["pnode"] for o in nodes.values()}) == 3, "keys did not cover all pnodes")


run(globals())
