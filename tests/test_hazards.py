"""Operator hazards (issue 15): a busy port, pidfile or admin port makes a
second ringproxy refuse to start; --check checks what a start checks;
descriptors running out neither spin accept nor flood the log; exit
statuses agree with --help. Real redis-servers and proxies on loopback."""

import os
import re
import resource
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from proxytest import (HOST, PROXY_WRAPPER, RINGPROXY, TOP_SRCDIR, Proxy, RedisServer,  # noqa: E402
                       Status, check, encode, eq, free_port, lazy, make_ring, rss_kb, run,
                       run_cmd, tmpdir, wait_until, write_config)
sys.path.insert(0, os.path.join(TOP_SRCDIR, "tests"))
from tlscerts import CA  # noqa: E402

server = lazy(RedisServer)
ring = lazy(lambda: make_ring([server()], vnodes=64))
cert = lazy(lambda: CA("hazards-ca").issue("proxy"))


def proxy_cmd(*args, timeout=20, preexec_fn=None):
    r = run_cmd([RINGPROXY] + [str(a) for a in args], timeout=timeout)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def refused(args, status, what, mentions):
    """Runs ringproxy, which must exit with status and one stderr line
    naming mentions."""
    rc, out, err = proxy_cmd(*args)
    lines = [l for l in err.splitlines() if l.strip()]
    eq(rc, status, "%s: exit status (stderr %r)" % (what, err))
    check(len(lines) == 1, "%s: expected a one-line error, got %r" % (what, err))
    check(mentions in lines[0], "%s: %r does not mention %r" % (what, lines[0], mentions))
    return lines[0]


def reuseport_listener():
    """A foreign listener that set SO_REUSEPORT, as a ringproxy of the same
    user did before this fix."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind((HOST, 0))
    s.listen(16)
    return s


def test_busy_listen_port_refused_even_with_reuseport():
    busy = reuseport_listener()
    addr = "%s:%d" % (HOST, busy.getsockname()[1])
    refused(["-r", ring(), "-l", addr, "-t", "2", "--admin", "%s:%d" % (HOST, free_port())],
            1, "foreign SO_REUSEPORT holder", "Address already in use")
    busy.close()


def test_second_proxy_on_the_same_ports_refused():
    first = Proxy(ring(), threads=2)
    args = ["-r", ring(), "-l", "%s:%d" % (HOST, first.port), "-t", "2",
            "--admin", "%s:%d" % (HOST, free_port())]
    line = refused(args, 1, "second proxy, same listen port", "Address already in use")
    check(str(first.port) in line, "the error does not name the port: %r" % line)
    # Same admin port, another listen port.
    args = ["-r", ring(), "-l", "%s:%d" % (HOST, free_port()), "--admin", first.admin]
    refused(args, 1, "second proxy, same admin port", "admin")
    # Every new connection still reaches the first proxy.
    for i in range(40):
        c = first.raw()
        eq(c.call("PING"), Status("PONG"), "PING %d on the first proxy" % i)
        c.close()
    eq(first.stop(), 0, "first proxy exit status")


def test_clients_spread_over_the_workers():
    # Refusing a busy port must not cost the kernel's spreading of clients
    # over the workers (one shared accepting socket gave all 100 clients
    # to one worker). CLIENT LIST shows the clients of one's own worker.
    p = Proxy(ring(), threads=2)
    conns = [p.raw() for _ in range(40)]
    for c in conns:
        eq(c.call("PING"), Status("PONG"), "PING")
    sizes = sorted({len(bytes(c.call("CLIENT", "LIST")).strip().splitlines()) for c in conns})
    eq(len(sizes), 2, "workers' client counts %r (two workers expected)" % sizes)
    check(sum(sizes) == 40 and sizes[0] > 0, "40 clients spread as %r" % sizes)
    for c in conns:
        c.close()
    eq(p.stop(), 0, "exit status")


def test_busy_tls_port_refused():
    crt, key = cert()
    busy = reuseport_listener()
    conf = write_config({"tls-port": busy.getsockname()[1], "tls-cert-file": crt,
                         "tls-key-file": key, "admin": "%s:%d" % (HOST, free_port())})
    refused(["-r", ring(), "-l", "%s:%d" % (HOST, free_port()), "-c", conf], 1,
            "busy tls-port", "tls-port %d" % busy.getsockname()[1])
    busy.close()


def test_check_checks_what_a_start_checks():
    crt, key = cert()
    d = tmpdir()
    base = ["-r", ring(), "-l", "%s:%d" % (HOST, free_port())]
    cases = [
        (["-l", "nonsense:1x"], "nonsense:1x"),
        (["--admin", "nonsense"], "admin address 'nonsense'"),
        (["--admin", "no-such-host.invalid:6381"], "no-such-host.invalid"),
        (["--pidfile", os.path.join(d, "missing", "ringproxy.pid")], "pidfile"),
    ]
    for extra, mentions in cases:
        for check_flag in (["--check"], []):
            refused(base + extra + check_flag, 2, "%s %s" % (extra, check_flag), mentions)
    tls = [
        ({"tls-cert-file": "/nonexistent.crt", "tls-key-file": key}, "/nonexistent.crt"),
        ({"tls-cert-file": crt, "tls-key-file": os.path.join(d, "none.key")}, "none.key"),
        ({"tls-cert-file": crt, "tls-key-file": key, "tls-ca-cert-file": "/nonexistent-ca.crt"},
         "/nonexistent-ca.crt"),
    ]
    for opts, mentions in tls:
        opts = dict(opts, **{"tls-port": free_port(), "admin": "%s:%d" % (HOST, free_port())})
        conf = write_config(opts)
        for check_flag in (["--check"], []):
            refused(base + ["-c", conf] + check_flag, 2, "%r %s" % (opts, check_flag), mentions)
    # A good TLS config passes --check, and --check binds nothing.
    port = free_port()
    conf = write_config({"tls-port": port, "tls-cert-file": crt, "tls-key-file": key})
    busy = reuseport_listener()
    rc, out, err = proxy_cmd("-r", ring(), "-l", "%s:%d" % (HOST, busy.getsockname()[1]),
                             "-c", conf, "--check")
    eq(rc, 0, "--check of a good TLS config on a busy port (stderr %r)" % err)
    busy.close()


def test_pidfile_locked_for_the_process_life():
    d = tmpdir()
    pidfile = os.path.join(d, "ringproxy.pid")
    first = Proxy(ring(), args=["--pidfile", pidfile])
    wait_until(lambda: os.path.exists(pidfile), 5, "the pidfile")
    line = refused(["-r", ring(), "-l", "%s:%d" % (HOST, free_port()), "--pidfile", pidfile,
                    "--admin", "%s:%d" % (HOST, free_port())], 1, "second proxy, same pidfile",
                   "locked")
    check("pid %d" % first.proc.pid in line, "the error does not name pid %d: %r"
          % (first.proc.pid, line))
    with open(pidfile) as f:
        eq(f.read().strip(), str(first.proc.pid), "pidfile after the refused start")
    eq(first.stop(), 0, "exit status")
    check(not os.path.exists(pidfile), "pidfile left behind")
    # A stale pidfile (no live holder) is taken over.
    with open(pidfile, "w") as f:
        f.write("999999\n")
    p = Proxy(ring(), args=["--pidfile", pidfile])
    wait_until(lambda: open(pidfile).read().strip() == str(p.proc.pid), 5, "our pid in it")
    # A pidfile replaced under us is not ours to remove.
    os.unlink(pidfile)
    with open(pidfile, "w") as f:
        f.write("12345\n")
    eq(p.stop(), 0, "exit status")
    with open(pidfile) as f:
        eq(f.read().strip(), "12345", "a pidfile that is not ours was removed")


def test_version_and_exit_statuses_agree_with_help():
    with open(os.path.join(TOP_SRCDIR, "configure.ac")) as f:
        version = re.search(r"AC_INIT\(\[ringproxy\], \[([^\]]+)\]", f.read()).group(1)
    for flag in ("--version", "-V"):
        rc, out, err = proxy_cmd(flag)
        eq((rc, out), (0, "ringproxy %s\n" % version), flag)
    rc, out, err = proxy_cmd("--help")
    eq(rc, 0, "--help exit status")
    m = re.search(r"exit status: 0 .*?, 1 (.*?), 2 usage or config error", out, re.S)
    check(m is not None, "--help does not state the exit statuses: %r" % out)
    check("/etc/ringproxy/ringproxy.conf" in out, "--help does not name the default config")
    refused(["--no-such-flag"], 2, "unknown flag", "--no-such-flag")
    refused(["-r", ring(), "-l", "a b:1"], 2, "malformed listen address", "a b:1")
    refused(["-r", ring(), "-l", "%s:%d" % (HOST, free_port()), "-t", "x"], 2, "bad -t", "threads")
    refused(["-r", os.path.join(tmpdir(), "none"), "-l", "%s:%d" % (HOST, free_port())], 1,
            "missing ring", "ring")


def in_private_etc(conf_text, args):
    """Runs ringproxy ARGS in a mount namespace whose /etc is an overlay
    holding /etc/ringproxy/ringproxy.conf = conf_text (the host's /etc is
    not touched); returns (status, stdout, stderr)."""
    d = tmpdir()
    script = ('mount --make-rprivate / && mount -t tmpfs tmpfs "$1" && mkdir "$1/u" "$1/w" && '
              'mount -t overlay overlay -o lowerdir=/etc,upperdir="$1/u",workdir="$1/w" /etc && '
              'mkdir -p /etc/ringproxy && printf %s "$2" > /etc/ringproxy/ringproxy.conf && '
              'shift 2 && exec "$@"')
    r = run_cmd(["unshare", "-m", "sh", "-c", script, "sh", d, conf_text, RINGPROXY] + args,
                timeout=20)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def test_default_config_path():
    base = ["-r", ring(), "-l", "%s:%d" % (HOST, free_port()), "--check"]
    rc, out, err = in_private_etc("threads 7\n", base)
    eq(rc, 0, "--check with a default config (stderr %r)" % err)
    check("threads=7" in out, "/etc/ringproxy/ringproxy.conf was not read: %r" % out)
    rc, out, err = in_private_etc("bogus 1\n", base)
    eq(rc, 2, "--check with a bad default config")
    check("/etc/ringproxy/ringproxy.conf:1: unknown option 'bogus'" in err, err)
    # -c wins: the default file is not read then.
    rc, out, err = in_private_etc("bogus 1\n", base + ["-c", write_config({"threads": 3})])
    eq(rc, 0, "--check with -c (stderr %r)" % err)
    check("threads=3" in out, "-c not used: %r" % out)


def test_config_parsed_as_redis_conf_with_include():
    d = tmpdir()
    os.mkdir(os.path.join(d, "conf.d"))
    with open(os.path.join(d, "conf.d", "auth.conf"), "w") as f:
        f.write('requirepass "p w\\x21"   # quoted, with an escape\n')
    main = os.path.join(d, "ringproxy.conf")
    with open(main, "w") as f:
        f.write("include conf.d/auth.conf\nmax-request-bytes 2kb\n"
                "admin %s:%d\n" % (HOST, free_port()))
    p = Proxy(ring(), config=main)
    c = p.raw()
    check(str(c.call("GET", "k")).startswith("NOAUTH"), "no AUTH asked for")
    check(str(c.call("AUTH", '"p w!"')).startswith("WRONGPASS"), "the quotes were kept")
    eq(c.call("AUTH", "p w!"), Status("OK"), "AUTH with the unquoted password")
    # 2kb = 2048 bytes: a request just over it is refused.
    r = c.call("SET", "k", "x" * 2100)
    check(str(r).startswith("ERR"), "a 2100-byte value passed max-request-bytes 2kb: %r" % r)
    c.close()
    eq(p.stop(), 0, "exit status")
    refused(["-r", ring(), "-l", "%s:%d" % (HOST, free_port()), "-c", d], 2,
            "a directory as config file", "is a directory")


def test_reply_over_the_hard_limit_gets_an_error():
    srv = RedisServer()
    big = 40 << 20
    srv.client().set("big:k", b"v" * big)
    srv.client().set("small:k", b"s")
    # In a sanitizer build freed memory is quarantined, not reused: RSS
    # would count every byte that passed. Without quarantine it measures
    # what is held, as in a plain build.
    saved = os.environ.get("ASAN_OPTIONS")
    os.environ["ASAN_OPTIONS"] = (saved + ":" if saved else "") + "quarantine_size_mb=0"
    try:
        p = Proxy(make_ring([srv], vnodes=16), threads=1,
                  config={"client-output-limit-hard": "1mb", "client-output-limit-soft": "0 0",
                          "admin": "%s:%d" % (HOST, free_port())})
    finally:
        if saved is None:
            del os.environ["ASAN_OPTIONS"]
        else:
            os.environ["ASAN_OPTIONS"] = saved
    c = p.raw()
    eq(c.call("PING"), Status("PONG"), "PING")
    rss0 = rss_kb(p.proc.pid)
    want = "ERR reply of %d bytes exceeds client-output-limit-hard (1048576 bytes)" % (
        big + len("$%d\r\n\r\n" % big))
    for i in range(3):
        eq(str(c.call("GET", "big:k")), want, "GET of a 40 MiB value, try %d" % i)
    # The connection stays in step, pipelined too.
    c.send(encode("GET", "big:k") + encode("GET", "small:k") + encode("PING"))
    eq([str(x) for x in c.replies(3)], [want, "b's'", "PONG"], "pipelined replies")
    grown = rss_kb(p.proc.pid) - rss0
    # Holding the reply would take 40 MiB; dropping it, about the limit.
    check(grown < 20 * 1024, "the proxy grew by %d KiB for a reply it drops" % grown)
    c.close()
    eq(p.stop(), 0, "exit status")


def test_default_max_request_fits_the_default_output_limit():
    rc, out, err = proxy_cmd("-r", ring(), "-l", "%s:%d" % (HOST, free_port()), "--check")
    eq(rc, 0, "--check")
    path = os.path.join(TOP_SRCDIR, "etc", "ringproxy.conf")
    with open(path) as f:
        text = f.read()
    req = int(re.search(r"^max-request-bytes (\d+)$", text, re.M).group(1))
    hard = int(re.search(r"^client-output-limit-hard (\d+)$", text, re.M).group(1))
    check(req <= hard, "max-request-bytes %d > client-output-limit-hard %d: a value that can "
          "be SET cannot be GET" % (req, hard))


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def soft_nofile(pid):
    return resource.prlimit(pid, resource.RLIMIT_NOFILE)[0]


def test_nofile_raised_for_max_clients():
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    want = 2000
    check(hard == resource.RLIM_INFINITY or hard >= want + 200, "hard limit %d too low" % hard)

    def low():
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
    p = Proxy(ring(), config={"max-clients": want, "admin": "%s:%d" % (HOST, free_port())},
              preexec_fn=low)
    if PROXY_WRAPPER:
        # valgrind keeps descriptors of its own above the client's limit
        # and refuses to raise it: the fallback must happen then.
        check("max-clients lowered" in p.stderr(), "no warning: %r" % p.stderr())
    else:
        check(soft_nofile(p.proc.pid) >= want, "RLIMIT_NOFILE %d below max-clients %d"
              % (soft_nofile(p.proc.pid), want))
    eq(p.stop(), 0, "exit status")

    # With a hard limit it may not pass, max-clients is lowered with a warning.
    def capped():
        resource.setrlimit(resource.RLIMIT_NOFILE, (200, 200))
    p = Proxy(ring(), config={"max-clients": want, "admin": "%s:%d" % (HOST, free_port())},
              preexec_fn=capped)
    check("max-clients lowered" in p.stderr(), "no warning: %r" % p.stderr())
    eq(p.stop(), 0, "exit status")


def cpu_seconds(pid):
    """User + system CPU time of pid, from /proc/PID/stat."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_emfile_backs_off_and_recovers():
    p = Proxy(ring(), threads=1, config={"max-clients": 1000,
                                         "admin": "%s:%d" % (HOST, free_port())})
    warm = p.raw()
    eq(warm.call("SET", "emfile:k", "v"), Status("OK"), "SET before the limit")
    # Room for a few clients only, from now on.
    limit = open_fds(p.proc.pid) + 4
    soft, hard = resource.prlimit(p.proc.pid, resource.RLIMIT_NOFILE)
    resource.prlimit(p.proc.pid, resource.RLIMIT_NOFILE, (limit, hard))
    log_before = os.path.getsize(p.log)
    clients = []
    for _ in range(30):
        s = socket.create_connection((HOST, p.port), timeout=5)
        s.sendall(b"PING\r\n")
        clients.append(s)
    # The admin endpoint's listener too (libevent warns on each failure).
    admin_port = int(p.admin.rsplit(":", 1)[1])
    admins = [socket.create_connection((HOST, admin_port), timeout=5) for _ in range(3)]
    cpu_before = cpu_seconds(p.proc.pid)
    time.sleep(2.0)
    # A listener that retries accept at once spins a core the whole time.
    cpu = cpu_seconds(p.proc.pid) - cpu_before
    check(cpu < 1.0, "the proxy used %.2f s of CPU in 2 s of EMFILE (accept spins)" % cpu)
    grown = os.path.getsize(p.log) - log_before
    check(grown < 20000, "the log grew by %d bytes in 2 s of EMFILE" % grown)
    check("accept failed" in p.stderr(), "no accept failure logged: %r" % p.stderr()[-500:])
    check(p.alive(), "the proxy died")
    # The first clients fit in the room left and are served meanwhile.
    s = clients.pop(0)
    s.settimeout(2)
    eq(s.recv(64), b"+PONG\r\n", "a client while descriptors ran out")
    s.close()
    # Room again: every waiting client is served.
    resource.prlimit(p.proc.pid, resource.RLIMIT_NOFILE, (soft, hard))
    for n, s in enumerate(clients):
        s.settimeout(5)
        data = b""
        deadline = time.monotonic() + 5
        while not data.endswith(b"\r\n") and time.monotonic() < deadline:
            chunk = s.recv(64)
            if not chunk:
                break
            data += chunk
        eq(data, b"+PONG\r\n", "client %d after room came back" % n)
        s.close()
    for a in admins:
        a.close()
    m = p.metrics()
    check(m.get(("ringproxy_accept_errors_total", 'reason="EMFILE"'), 0) > 0,
          "ringproxy_accept_errors_total not counted: %r" %
          {k: v for k, v in m.items() if "accept" in k[0]})
    warm.close()
    eq(p.stop(), 0, "exit status")


if __name__ == "__main__":
    run(globals())
