"""Pub/Sub through ringproxy: the same scenario straight against one
redis-server and through the proxy over two pnodes (channels on both)
gives the same bytes: confirmations with one server's counts, messages,
subscribed-mode errors, RESP3 pushes. PUBLISH/SPUBLISH go to the channel's
pnode; a client's subscription connections go with it."""

import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
import redis  # noqa: E402
from proxytest import (HOST, IO_TIMEOUT, Cluster, Proxy, RedisServer, check, encode,  # noqa: E402
                       eq, lazy, run, wait_until)
from resp3client import Resp3Client, decode  # noqa: E402


def setup():
    cl = Cluster(n=2)
    cl.direct = RedisServer()
    per = cl.pnode_keys("ps:", 2)
    a, b = list(per.values())
    cl.chans = [a[0], b[0], a[1], b[1]]    # alternate pnodes
    return cl


cluster = lazy(setup)


def frames(c, n):
    return [c.frame() for _ in range(n)]


def both(cl, resp3=False):
    d, p = Resp3Client(cl.direct.port), Resp3Client(cl.proxy.port)
    if resp3:
        for c in (d, p):
            c.raw_call("HELLO", "3")
    return d, p


def publish(port, chan, msg, cmd="PUBLISH"):
    c = Resp3Client(port)
    n = c.raw_call(cmd, chan, msg)
    c.close()
    return n


def same_set(d, p, cmd, n, what):
    """Unsubscribing from all: Redis's order is its dict's, so the channels
    are compared as a set and the counts as a sequence."""
    d.send(encode(*cmd))
    p.send(encode(*cmd))
    got, want = ([decode(f)[0] for f in frames(c, n)] for c in (p, d))
    eq(sorted(x[1] for x in got), sorted(x[1] for x in want), what + ": channels")
    eq([x[::2] for x in got], [x[::2] for x in want], what + ": kinds and counts")


def same_frames(d, p, cmd, n, what):
    d.send(encode(*cmd))
    p.send(encode(*cmd))
    eq(frames(p, n), frames(d, n), what)


def scenario(cl, resp3):
    d, p = both(cl, resp3)
    ch = cl.chans
    same_frames(d, p, ("SUBSCRIBE", ch[0], ch[1], ch[0]), 3, "SUBSCRIBE confirmations")
    same_frames(d, p, ("PSUBSCRIBE", "ps:*", "nomatch:*"), 2, "PSUBSCRIBE confirmations")
    same_frames(d, p, ("SUBSCRIBE", ch[2]), 1, "one more channel")
    for i, c in enumerate(ch[:3]):
        msg = "m%d" % i
        eq(publish(cl.proxy.port, c, msg), publish(cl.direct.port, c, msg),
           "PUBLISH %s: receivers" % c)
        eq(frames(p, 2), frames(d, 2), "message and pmessage on %s" % c)
    eq(publish(cl.proxy.port, ch[3], "p"), publish(cl.direct.port, ch[3], "p"),
       "PUBLISH to a pattern only")
    eq(p.frame(), d.frame(), "pmessage only")
    same_frames(d, p, ("UNSUBSCRIBE", ch[1], "ps:never"), 2, "UNSUBSCRIBE some")
    same_frames(d, p, ("PING",), 1, "PING while subscribed")
    same_frames(d, p, ("PING", "hi"), 1, "PING arg while subscribed")
    same_frames(d, p, ("PUNSUBSCRIBE", "nomatch:*"), 1, "PUNSUBSCRIBE one")
    same_frames(d, p, ("PUNSUBSCRIBE",), 1, "PUNSUBSCRIBE the rest")
    same_set(d, p, ("UNSUBSCRIBE",), 2, "UNSUBSCRIBE all")
    same_frames(d, p, ("UNSUBSCRIBE",), 1, "UNSUBSCRIBE with none left")
    same_frames(d, p, ("PING",), 1, "PING after the last unsubscribe")
    return d, p


def test_resp2_subscriptions_as_one_redis():
    d, p = scenario(cluster(), False)
    d.close()
    p.close()


def test_resp3_pushes_as_one_redis():
    cl = cluster()
    d, p = scenario(cl, True)
    # RESP3 clients run any command while subscribed.
    same_frames(d, p, ("SUBSCRIBE", cl.chans[0]), 1, "RESP3 SUBSCRIBE")
    same_frames(d, p, ("GET", "ps:none"), 1, "GET while subscribed (RESP3)")
    same_frames(d, p, ("PSUBSCRIBE", "a*", "b*"), 2, "two patterns")
    want, got = (c.raw_call("CLIENT", "INFO").decode() for c in (d, p))
    for field in ("flags", "sub", "psub", "ssub"):
        eq(re.search(" %s=(\\S+)" % field, got).group(1),
           re.search(" %s=(\\S+)" % field, want).group(1), "CLIENT INFO " + field)
    # Back to RESP2 while subscribed: messages become arrays.
    for c in (d, p):
        eq(c.raw_call("HELLO", "2")[:5], b"*14\r\n", "HELLO 2 while subscribed")
    eq(publish(cl.proxy.port, cl.chans[0], "r2"), publish(cl.direct.port, cl.chans[0], "r2"),
       "PUBLISH after HELLO 2")
    eq(p.frame(), d.frame(), "a RESP2 message after HELLO 2")
    d.close()
    p.close()


def test_subscribed_mode_errors_as_redis():
    cl = cluster()
    d, p = both(cl)
    same_frames(d, p, ("SUBSCRIBE", cl.chans[1]), 1, "SUBSCRIBE")
    for cmd in (("GET", "k"), ("SET", "k", "v"), ("MGET", "a", "b"), ("INFO",),
                ("CLIENT", "ID"), ("config", "GET", "save"), ("PUBLISH", cl.chans[1], "x"), ("NOSUCH",)):
        same_frames(d, p, cmd, 1, "%s in subscribed mode" % cmd[0])
    same_frames(d, p, ("RESET",), 1, "RESET")
    same_frames(d, p, ("GET", "ps:none"), 1, "GET after RESET")
    eq(publish(cl.proxy.port, cl.chans[1], "x"), b":0\r\n", "RESET dropped the subscription")
    d.close()
    p.close()


def test_sharded_pubsub():
    cl = cluster()
    d, p = both(cl)
    ch = ["{t}" + c for c in cl.chans[:2]] + cl.chans[:2]
    same_frames(d, p, ("SSUBSCRIBE", *ch), 4, "SSUBSCRIBE")
    same_frames(d, p, ("SUBSCRIBE", cl.chans[3]), 1, "SUBSCRIBE counts apart")
    for c in ch:
        eq(publish(cl.proxy.port, c, "s", "SPUBLISH"), publish(cl.direct.port, c, "s", "SPUBLISH"),
           "SPUBLISH %s" % c)
        eq(p.frame(), d.frame(), "smessage on %s" % c)
    same_frames(d, p, ("SUNSUBSCRIBE", ch[0]), 1, "SUNSUBSCRIBE one")
    same_set(d, p, ("SUNSUBSCRIBE",), 3, "SUNSUBSCRIBE the rest")
    d.close()
    p.close()


def test_publish_goes_to_the_channels_pnode():
    cl = cluster()
    for chan in cl.chans[:2] + ["{ps:0}x"]:
        pnode = cl.server_for(chan)
        sub = Resp3Client(pnode.port)
        sub.raw_call("SUBSCRIBE", chan)
        eq(publish(cl.proxy.port, chan, "direct"), b":1\r\n", "PUBLISH %s reaches its pnode" % chan)
        eq(decode(sub.frame())[0], [b"message", chan.encode(), b"direct"], "message on the pnode")
        sub.close()


def test_redis_py_pubsub():
    cl = cluster()
    out = []
    for port in (cl.direct.port, cl.proxy.port):
        r = redis.Redis(host=HOST, port=port, socket_timeout=IO_TIMEOUT)
        ps = r.pubsub()
        ps.subscribe(*cl.chans[:2])
        ps.psubscribe("ps:*")
        got = [ps.get_message(timeout=IO_TIMEOUT) for _ in range(3)]
        for c in cl.chans[:2]:
            r.publish(c, "hello " + c)
            got += [ps.get_message(timeout=IO_TIMEOUT) for _ in range(2)]
        ps.unsubscribe(cl.chans[0])
        got.append(ps.get_message(timeout=IO_TIMEOUT))
        ps.close()
        r.close()
        out.append(got)
    eq(out[1], out[0], "redis-py pubsub through the proxy vs redis-server")


def test_pubsub_introspection_merged():
    cl = cluster()
    d, p = both(cl)
    ch = cl.chans
    for c in (d, p):
        c.send(encode("SUBSCRIBE", ch[0], ch[1]) + encode("PSUBSCRIBE", "ps:*", "x*") +
               encode("SSUBSCRIBE", ch[2], ch[3]))
        frames(c, 6)
    dq, pq = both(cl)
    for cmd in (("PUBSUB", "CHANNELS"), ("PUBSUB", "CHANNELS", "ps:*"),
                ("PUBSUB", "SHARDCHANNELS"), ("PUBSUB", "shardchannels", "nomatch*")):
        want, got = (decode(c.raw_call(*cmd))[0] for c in (dq, pq))
        eq(sorted(got), sorted(want), " ".join(cmd))
    same_frames(dq, pq, ("PUBSUB", "NUMSUB", ch[0], ch[1], ch[2], "none"), 1, "NUMSUB")
    same_frames(dq, pq, ("PUBSUB", "SHARDNUMSUB", ch[2], ch[3], ch[0]), 1, "SHARDNUMSUB")
    same_frames(dq, pq, ("PUBSUB", "NUMSUB"), 1, "NUMSUB of nothing")
    same_frames(dq, pq, ("PUBSUB", "NUMPAT"), 1, "NUMPAT counts a pattern once")
    for cmd in (("PUBSUB", "NUMPAT", "x"), ("PUBSUB", "CHANNELS", "a", "b"), ("PUBSUB", "FOO")):
        same_frames(dq, pq, cmd, 1, " ".join(cmd))
    for c in (d, p, dq, pq):
        c.close()


def proxy_links(cl):
    """Subscription connections on the pnodes (sub or psub set)."""
    n = 0
    for s in cl.servers:
        for c in s.client().client_list():
            n += int(c["sub"]) + int(c["psub"]) + int(c.get("ssub", 0)) > 0
    return n


def test_subscription_connections_go_with_the_client():
    cl = cluster()
    wait_until(lambda: proxy_links(cl) == 0, 10, "no subscription connections at first")
    p = Resp3Client(cl.proxy.port)
    p.send(encode("PSUBSCRIBE", "ps:*"))
    p.frame()
    eq(proxy_links(cl), 2, "a pattern subscribes on every pnode")
    p.close()
    wait_until(lambda: proxy_links(cl) == 0, 10, "subscription connections closed with the client")
    # The last unsubscribe closes them too.
    p = Resp3Client(cl.proxy.port)
    p.send(encode("SUBSCRIBE", cl.chans[0]))
    p.frame()
    eq(proxy_links(cl), 1, "one channel: one pnode")
    p.send(encode("UNSUBSCRIBE"))
    p.frame()
    wait_until(lambda: proxy_links(cl) == 0, 10, "closed after the last unsubscribe")
    p.close()


def test_limit_and_broken_link():
    cl = cluster()
    proxy = Proxy(cl.ring, config={"max-subscription-connections": 1})
    p = Resp3Client(proxy.port)
    r = p.raw_call("PSUBSCRIBE", "ps:*")
    check(r.startswith(b"-ERR max-subscription-connections (1) reached"), "limit: %r" % r)
    eq(p.raw_call("PING"), b"+PONG\r\n", "nothing subscribed after the refusal")
    m = proxy.metrics()
    eq(m[("ringproxy_subscriptions_refused_total", "")], 1.0, "refusals counted")
    p.send(encode("SUBSCRIBE", cl.chans[0]))
    check(p.frame().startswith(b"*3\r\n$9\r\nsubscribe"), "one link is within the limit")
    eq(proxy.metrics()[("ringproxy_subscription_connections", "")], 1.0, "the link is counted")
    # The pnode drops the subscription connection: the client is closed.
    pnode = cl.server_for(cl.chans[0]).client()
    eq(pnode.execute_command("CLIENT", "KILL", "TYPE", "pubsub") >= 1, True, "killed on the pnode")
    check(p.expect_closed(), "the client is closed when its subscription connection breaks")
    wait_until(lambda: proxy.metrics()[("ringproxy_subscription_connections", "")] == 0, 10,
               "link gone")
    eq(proxy.stop(), 0, "proxy exit status")


run(globals())
