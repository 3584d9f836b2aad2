"""Commands ringproxy answers itself (PING, ECHO, SELECT 0, QUIT, HELLO 2,
COMMAND), inline commands as Redis accepts them, and Redis's own arity
errors."""

import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from proxytest import (Cluster, Err, Status, assert_err, check, encode,  # noqa: E402
                       eq, lazy, run)

cluster = lazy(lambda: Cluster(n=2, vnodes=256))


def arity(cmd):
    return "ERR wrong number of arguments for '%s' command" % cmd


def test_ping_and_echo():
    c = cluster().raw()
    eq(c.call("PING"), Status("PONG"), "PING")
    eq(c.call("ping"), Status("PONG"), "ping")
    eq(c.call("PING", "hello there"), b"hello there", "PING with a message")
    eq(c.call("ECHO", "x\r\ny\x00z"), b"x\r\ny\x00z", "ECHO of binary bytes")
    eq(c.call("ECHO", ""), b"", "ECHO of an empty string")
    assert_err(c.call("ECHO"), arity("echo"), "ECHO without an argument")
    c.close()


def test_select():
    c = cluster().raw()
    eq(c.call("SELECT", "0"), Status("OK"), "SELECT 0")
    r = c.call("SELECT", "1")
    check(isinstance(r, Err) and r.startswith("ERR"), "SELECT 1: expected an error, got %r" % (r,))
    eq(c.call("SET", "sel:k", "v"), Status("OK"), "SET after SELECT 1 was refused")
    eq(c.call("GET", "sel:k"), b"v", "GET after SELECT 1 was refused")
    c.close()


def test_quit_replies_ok_then_closes():
    cl = cluster()
    c = cl.raw()
    # Requests before QUIT are answered, anything after it is not.
    c.send(encode("SET", "quit:k", "1") + encode("QUIT") + encode("SET", "quit:k", "2"))
    eq(c.replies(2), [Status("OK"), Status("OK")], "replies up to QUIT")
    check(c.expect_closed(), "connection not closed after QUIT")
    eq(c.buf, b"", "bytes after QUIT's reply")
    c.close()
    d = cl.client()
    eq(d.get("quit:k"), b"1", "the request after QUIT was not run")
    d.close()


def test_hello_2():
    c = cluster().raw()
    r = c.call("HELLO", "2")
    check(isinstance(r, list) and len(r) % 2 == 0,
          "HELLO 2: expected a flat key/value array, got %r" % (r,))
    m = dict(zip(r[::2], r[1::2]))
    eq(m.get(b"proto"), 2, "HELLO 2's proto")
    check(b"server" in m and b"version" in m, "HELLO 2 lacks server/version: %r" % (r,))
    # Still RESP2 afterwards.
    eq(c.call("PING"), Status("PONG"), "PING after HELLO 2")
    eq(c.call("MGET", "hello:none"), [None], "RESP2 nil after HELLO 2")
    c.close()


def test_hello_4_is_refused_and_the_connection_stays_resp2():
    c = cluster().raw()
    r = c.call("HELLO", "4")
    check(isinstance(r, Err), "HELLO 4: expected an error, got %r" % (r,))
    eq(c.call("PING"), Status("PONG"), "PING after HELLO 4")
    c.close()


def test_command_minimal():
    c = cluster().raw()
    r = c.call("COMMAND")
    check(isinstance(r, list), "COMMAND: expected an array, got %r" % (r,))
    eq(c.call("PING"), Status("PONG"), "PING after COMMAND")
    c.close()


def test_inline_commands():
    c = cluster().raw()
    c.send(b"PING\r\n")
    eq(c.reply(), Status("PONG"), "inline PING")
    c.send(b"SET inline:a b\r\n")
    eq(c.reply(), Status("OK"), "inline SET")
    c.send(b"GET inline:a\r\n")
    eq(c.reply(), b"b", "inline GET")
    eq(c.call("GET", "inline:a"), b"b", "multibulk GET of an inline SET")
    # Pipelined inline and multibulk, mixed, with extra spaces.
    c.send(b"SET inline:b 2\r\n" + encode("INCR", "inline:b") + b"  GET   inline:b  \r\nPING\r\n")
    eq(c.replies(4), [Status("OK"), 3, b"3", Status("PONG")], "mixed pipeline")
    c.close()


def test_inline_commands_with_quotes_and_bare_newlines():
    c = cluster().raw()
    c.send(b'SET "inline:q x" "hello world"\r\n')
    eq(c.reply(), Status("OK"), "inline SET with quoted arguments")
    eq(c.call("GET", "inline:q x"), b"hello world", "value of a quoted inline SET")
    c.send(b"PING\n")
    eq(c.reply(), Status("PONG"), "inline PING ended by a bare LF")
    c.send(b"\r\n\r\nPING\r\n")
    eq(c.reply(), Status("PONG"), "empty inline lines are skipped")
    c.close()


def test_inline_split_byte_by_byte():
    c = cluster().raw()
    c.send_slowly(b"SET inline:s hello\r\nGET inline:s\r\n", chunk=1, pause=0.002)
    eq(c.replies(2), [Status("OK"), b"hello"], "inline commands sent byte by byte")
    c.close()


def test_arity_errors_use_redis_text():
    c = cluster().raw()
    cases = [(("GET",), "get"), (("get", "a", "b"), "get"), (("SET", "a"), "set"),
             (("HSET", "h", "f"), "hset"), (("HGET", "h"), "hget"),
             (("LPUSH", "l"), "lpush"), (("INCR",), "incr"), (("MGET",), "mget"),
             (("MSET", "a"), "mset"), (("MSET", "a", "1", "b"), "mset"),
             (("DEL",), "del"), (("EXPIRE", "a"), "expire"), (("ZADD", "z", "1"), "zadd")]
    for args, name in cases:
        assert_err(c.call(*args), arity(name), "%r" % (args,))
    eq(c.call("PING"), Status("PONG"), "connection usable after arity errors")
    c.close()


def test_arity_error_is_not_sent_to_a_pnode():
    cl = cluster()
    c = cl.raw()
    assert_err(c.call("SET", "arity:k"), arity("set"), "SET with one argument")
    eq(c.call("EXISTS", "arity:k"), 0, "the key after a refused SET")
    c.close()


def test_empty_and_null_multibulks_are_ignored_like_redis():
    c = cluster().raw()
    c.send(b"*0\r\n*-1\r\n" + encode("PING"))
    eq(c.reply(), Status("PONG"), "PING after *0 and *-1")
    r = c.call("")
    check(isinstance(r, Err) and r.startswith("ERR"), "an empty command name: %r" % (r,))
    eq(c.call("PING"), Status("PONG"), "PING after an empty command name")
    c.close()


def test_inline_commands_route_to_the_keys_pnode():
    cl = cluster()
    c = cl.raw()
    keys = ["inl:%d" % i for i in range(40)]
    c.send(b"".join(b"SET %s v%d\r\n" % (k.encode(), i) for i, k in enumerate(keys)))
    eq(c.replies(len(keys)), [Status("OK")] * len(keys), "inline SETs")
    cl.assert_placement({k: b"v%d" % i for i, k in enumerate(keys)})
    c.close()


run(globals())
