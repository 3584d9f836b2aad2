"""ringproxy's config file and its limits, with real redis-servers.

A config file sets small limits: max-pipeline (back-pressure keeps order
and memory bounded), client-idle-timeout, max-clients, a server timeout
against a pnode that accepts but never answers, hash tags and dirname
routing. Also --check and bad configs. The tests run in order on one proxy.
"""
import os
import signal
import socket
import sys
import time
import types

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from proxytest import (HOST, RINGPROXY, Err, Proxy, RawClient, RedisServer,  # noqa: E402
                       Status, assert_err, check, encode, encode_all, eq, get_nodes, lazy,
                       make_ring, run, run_cmd, tmpdir, wait_until)

CONFIG = ("# test config\nthreads 1\nmax-pipeline 4\nclient-idle-timeout 1\n"
          "max-clients 6\nserver-timeout-ms 300\nhash-tags yes\ndirname-routing yes\n"
          "log-level error\nadmin\npreconnect yes\nmax-request-bytes 4096\n")


def setup():
    env = types.SimpleNamespace()
    env.servers = [RedisServer(), RedisServer()]
    # A pnode that accepts connections and never replies.
    env.silent = socket.socket()
    env.silent.bind((HOST, 0))
    env.silent.listen(16)
    env.mute = "tcp://%s:%d" % (HOST, env.silent.getsockname()[1])
    env.ring = make_ring(env.servers + [env.mute], vnodes=256)
    env.conf = os.path.join(tmpdir(), "ringproxy.conf")
    with open(env.conf, "w") as f:
        f.write(CONFIG)
    # Where keys go, looked up before any client connects: a client idle
    # for a second is closed.
    bp = ["bp:%d" % i for i in range(400)]
    quiet = ["q:%d" % i for i in range(200)]
    env.nodes = get_nodes(env.ring, bp + quiet + ["user1", "dir/sub"])
    env.live = [k for k in bp if env.nodes[k]["pnode"] != env.mute]
    env.quiet = next(k for k in quiet if env.nodes[k]["pnode"] == env.mute)
    return env


config_env = lazy(setup)


def check_config(conf):
    env = config_env()
    r = run_cmd([RINGPROXY, "-r", env.ring, "-c", conf, "--check"], timeout=20)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def test_check_validates_and_summarises_without_connecting():
    env = config_env()
    rc, out, _ = check_config(env.conf)
    check(rc == 0 and "vnodes: 256" in out and env.mute in out, "--check: %r" % out)


def test_bad_config_lines_are_one_line_errors():
    bad = os.path.join(tmpdir(), "bad.conf")
    for text in ("max-pipeline zero\n", "no-such-option 1\n", "hash-tags maybe\n"):
        with open(bad, "w") as f:
            f.write(text)
        rc, _, err = check_config(bad)
        check(rc != 0 and err.count("\n") == 1 and "bad.conf:1" in err,
              "bad config %r: %r" % (text, err))


# No -t: the config file's threads applies.
proxy = lazy(lambda: Proxy(config_env().ring, config=config_env().conf, threads=None))


def test_preconnect_connects_to_every_pnode_before_any_request():
    env = config_env()
    proxy()
    for s in env.servers:
        d = s.client()
        # Our own connection and the proxy's.
        wait_until(lambda: len(d.client_list()) >= 2, 10, "a connection from the proxy to %s"
                   % s.pnode)
        d.close()


def test_request_above_max_request_bytes_is_a_protocol_error():
    big = proxy().raw()
    big.send(encode("SET", "big", "x" * 5000))
    assert_err(big.reply(), "ERR Protocol error: invalid bulk length",
               "request above max-request-bytes")
    check(big.expect_closed(), "client not closed after the protocol error")
    big.close()


def test_deep_pipeline_over_max_pipeline_comes_back_in_order():
    env = config_env()
    c = env.c = proxy().raw()
    c.send(encode_all(cmd for k in env.live for cmd in (("SET", k, k), ("GET", k))))
    for k in env.live:
        eq(c.replies(2), [Status("OK"), k.encode()], "pipelined SET/GET %s" % k)


def test_hash_tags_and_dirname_routing_choose_the_vnode():
    env = config_env()
    c = env.c
    eq(c.call("RING", "NODE", "{user1}.a")[0], c.call("RING", "NODE", "user1")[0], "hash tag")
    eq(c.call("RING", "NODE", "dir/sub/obj")[0], env.nodes["dir/sub"]["vnode"], "dirname")
    pnode = env.nodes["user1"]["pnode"]
    if pnode != env.mute:
        eq(c.call("SET", "{user1}.x", "1"), Status("OK"), "SET by tag")
        direct = RawClient(int(pnode.rsplit(":", 1)[1]))
        eq(direct.call("GET", "{user1}.x"), b"1", "tagged key on its pnode")
        direct.close()


def test_silent_pnode_times_out_and_the_others_keep_serving():
    env = config_env()
    c = env.c
    t0 = time.monotonic()
    r = c.call("GET", env.quiet)
    check(isinstance(r, Err) and r.startswith("ERR pnode %s unavailable: no reply" % env.mute),
          "server timeout: %r" % (r,))
    check(time.monotonic() - t0 < 3, "timeout within bounds")
    eq(c.call("GET", env.live[0]), env.live[0].encode(), "others unaffected")


def test_max_clients():
    # Beyond it a client gets the error and is closed.
    p = proxy()
    extra = [p.raw() for _ in range(5)]
    over = p.raw()
    assert_err(over.reply(), "ERR max number of clients reached", "max-clients")
    check(over.expect_closed(), "client over max-clients not closed")
    for e in extra + [over]:
        e.close()


def test_idle_client_is_closed():
    p = proxy()

    def started():
        # The proxy sees the closes of the last test asynchronously.
        idle = p.raw()
        try:
            if idle.call("PING") == Status("PONG"):
                return idle
        except (AssertionError, OSError):
            pass
        idle.close()
        return None
    idle = wait_until(started, 10, "an idle client to start")
    time.sleep(2.5)
    check(idle.expect_closed(), "idle client not closed")
    idle.close()


def test_sighup_rereads_the_config():
    # Run-time options change, the others are reported as needing a restart.
    env = config_env()
    p = proxy()
    with open(env.conf, "w") as f:
        f.write("threads 3\nmax-clients 6\nhash-tags yes\ndirname-routing no\nlog-level warn\n"
                "admin\n")
    raw = get_nodes(env.ring, ["dir/sub/obj"])["dir/sub/obj"]["vnode"]
    c = p.raw()
    p.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: c.call("RING", "NODE", "dir/sub/obj")[0] == raw, 10,
               "dirname-routing turned off by reload")
    wait_until(lambda: "option=threads" in p.stderr(), 10, "fixed option change reported")
    c.close()
    env.silent.close()


run(globals())
