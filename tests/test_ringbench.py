"""ringbench against a real redis-server on loopback: a clean --verify run
finds nothing lost; keys deleted or overwritten behind its back between a
--keep-state run and a --check-only run are reported, exactly those; writes
refused with READONLY are retried and not lost; --per-pnode, --auth, --tls;
argument errors exit 2. Every server is started here and killed by PID."""
import json
import os
import pty
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import redis

TOP_SRC = os.environ.get("top_srcdir", os.path.join(os.path.dirname(__file__), ".."))
TOP_BUILD = os.environ.get("top_builddir", TOP_SRC)
RINGBENCH = os.path.join(TOP_BUILD, "tools", "ringbench")
RING_TOOL = os.path.join(TOP_BUILD, "tools", "ring-tool")
# The real node-fash ring ships in the tree (tests/fixtures/README.md).
FIXTURE = os.path.join(TOP_SRC, "tests", "fixtures", "fash-ring-1m")
TIMEOUT = 60

procs = []
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(tmp, *extra, tls=False, password=None):
    """A redis-server on a free loopback port; returns (port, client)."""
    for _ in range(20):
        port = free_port()
        args = ["redis-server", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--requirepass", password or "",
                "--dir", tmp, "--logfile", os.path.join(tmp, "redis-%d.log" % port)]
        if tls:
            args += ["--port", "0", "--tls-port", str(port)]
        else:
            args += ["--port", str(port)]
        p = subprocess.Popen(args + list(extra), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        procs.append(p)
        deadline = time.time() + 5
        while time.time() < deadline and p.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                client = None if tls else redis.Redis(host="127.0.0.1", port=port,
                                                      password=password)
                if client is not None:
                    client.ping()
                return port, client
            except (OSError, redis.exceptions.ConnectionError):
                time.sleep(0.05)
        p.kill()
        p.wait()
    raise RuntimeError("could not start redis-server")


def ringbench(*args):
    """Runs ringbench; returns (exit status, stdout, stderr)."""
    r = subprocess.run([RINGBENCH] + [str(a) for a in args], capture_output=True, text=True,
                       timeout=TIMEOUT)
    return r.returncode, r.stdout, r.stderr


def ringbench_json(*args):
    rc, out, err = ringbench("--json", *args)
    try:
        return rc, json.loads(out), err
    except ValueError:
        return rc, None, err + out


def test_clean_verify(port, client):
    rc, rep, err = ringbench_json("-p", port, "-c", 8, "-P", 4, "-n", 20000, "-r", 500,
                                  "--dist", "zipf:0.99", "--ratio", "1:1", "-d", 40,
                                  "--verify")
    check(rc == 0 and rep is not None, "clean --verify run exits 0 (%s %s)" % (rc, err))
    if rep is None:
        return
    v = rep["verify"]
    check(rep["requests"] == 20000, "all 20000 requests answered: %d" % rep["requests"])
    check(rep["sets"] + rep["gets"] == 20000, "sets + gets add up")
    check(9000 < rep["sets"] < 11000, "ratio 1:1 gives about half writes: %d" % rep["sets"])
    check(v["lost"] == 0 and v["unexpected"] == 0, "nothing lost: %s" % v)
    check(v["keys_written"] > 400, "most keys written: %d" % v["keys_written"])
    check(v["reads_checked"] >= rep["gets"] + v["keys_written"],
          "every GET and the read-back were checked")
    check(rep["sweeps"] == 1, "one final read-back")
    lat = rep["latency_ms"]
    check(0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p99.9"] <= lat["max"],
          "percentiles ordered: %s" % lat)
    check(rep["errors"]["total"] == 0, "no errors")
    # what it wrote is what --verify said it writes: "KEY|SEQ|" padded to -d
    val = client.get("rb:0").decode()
    check(len(val) == 40 and val.startswith("rb:0|") and val.endswith("."),
          "value format: %r" % val)


def test_verify_every(port):
    rc, rep, err = ringbench_json("-p", port, "-c", 4, "-P", 2, "--duration", 2, "--rate", 3000,
                                  "-r", 300, "--verify", "--verify-every", 0.4)
    check(rc == 0 and rep is not None, "--verify-every run exits 0 (%s %s)" % (rc, err))
    if rep is None:
        return
    check(rep["sweeps"] >= 3, "read-backs during the run: %d" % rep["sweeps"])
    check(rep["verify"]["lost"] == 0, "nothing lost with --verify-every")
    # paced: about 6000 requests in 2 s, never more than the rate allows
    check(3000 < rep["requests"] <= 6100, "--rate 3000 for 2 s: %d" % rep["requests"])


def read_state(path):
    with open(path) as f:
        lines = f.read().split("\n")
    check(lines[0] == "ringbench-state 1 200", "state header: %r" % lines[0])
    state = {}
    for line in lines[1:]:
        if line:
            k, sent, floor = (int(x) for x in line.split())
            state[k] = (sent, floor)
    return state


def test_lost_and_unexpected(port, client, tmp):
    client.flushall()
    path = os.path.join(tmp, "state")
    rc, rep, err = ringbench_json("-p", port, "-c", 4, "-P", 4, "-n", 4000, "-r", 200,
                                  "--ratio", "1:0", "--verify", "--keep-state", path)
    check(rc == 0 and rep["verify"]["lost"] == 0, "phase 1 clean (%s %s)" % (rc, err))
    state = read_state(path)
    check(len(state) == 200, "every key written: %d" % len(state))
    # nothing touched yet: the check passes
    rc, rep, err = ringbench_json("-p", port, "--check-only", path)
    check(rc == 0 and rep["verify"]["lost"] == 0 and rep["verify"]["unexpected"] == 0,
          "untouched state checks clean (%s %s)" % (rc, err))
    check(rep["requests"] == 0 and rep["verify"]["reads_checked"] == 200,
          "--check-only reads each key once and sends no load")

    deleted, wrong, unsent, garbage = 3, 10, 11, 12
    staleable = [k for k, (sent, floor) in sorted(state.items())
                 if floor >= 2 and k not in (deleted, wrong, unsent, garbage)]
    check(len(staleable) >= 1, "a key with an older acknowledged value")
    stale = staleable[-1]
    client.delete("rb:%d" % deleted)
    client.set("rb:%d" % stale, "rb:%d|%d|...." % (stale, state[stale][1] - 1))
    client.set("rb:%d" % wrong, client.get("rb:%d" % (wrong + 50)))
    client.set("rb:%d" % unsent, "rb:%d|%d|" % (unsent, state[unsent][0] + 1))
    client.set("rb:%d" % garbage, "hello")

    rc, rep, err = ringbench_json("-p", port, "--check-only", path)
    check(rc == 1, "lost writes give exit 1: %d" % rc)
    v = rep["verify"]
    check(sorted(v["lost_keys"]) == sorted(["rb:%d" % deleted, "rb:%d" % stale]),
          "exactly the deleted and the stale key are lost: %s" % v["lost_keys"])
    check(v["missing"] == 1 and v["stale"] == 1, "one missing, one stale: %s" % v)
    check(sorted(v["unexpected_keys"]) == sorted(["rb:%d" % k for k in (wrong, unsent, garbage)]),
          "exactly the overwritten keys are unexpected: %s" % v["unexpected_keys"])
    check(v["wrong_key"] == 1 and v["unsent"] == 1 and v["malformed"] == 1,
          "one of each unexpected kind: %s" % v)
    rc, out, err = ringbench("-p", port, "--check-only", path)
    check(rc == 1 and "lost:       2" in out and '"rb:%d"' % deleted in out,
          "the text report names the lost keys: %s" % out)


def test_readonly(tmp, port):
    rport, rclient = start_redis(tmp, "--replicaof", "127.0.0.1", str(port))
    deadline = time.time() + 10
    while time.time() < deadline and rclient.info("replication").get("master_link_status") != "up":
        time.sleep(0.1)
    # long enough for refused writes to come due again (50 ms)
    rc, rep, err = ringbench_json("-p", rport, "-c", 4, "--duration", 0.5, "--rate", 2000,
                                  "-r", 50, "--ratio", "1:1", "--verify")
    check(rc == 0 and rep is not None, "READONLY run exits 0 (%s %s)" % (rc, err))
    if rep is None:
        return
    e = rep["errors"]
    check(e["readonly"] > 0 and e["readonly"] == e["total"], "READONLY errors counted: %s" % e)
    check(rep["readonly_retries"] > 0, "refused writes retried: %d" % rep["readonly_retries"])
    check(rep["verify"]["lost"] == 0, "refused writes are not lost")
    check(rep["first_error"].startswith("READONLY"), "first error kept: %s" % rep["first_error"])


def test_per_pnode(port, tmp):
    check(os.path.isdir(FIXTURE), "the fixture ring is at %s" % FIXTURE)
    if not os.path.isdir(FIXTURE):
        return
    ring = os.path.join(tmp, "ring")
    shutil.copytree(FIXTURE, ring)
    subprocess.run(["chmod", "-R", "u+w", ring], check=True)
    rc, rep, err = ringbench_json("-p", port, "-c", 2, "-n", 3000, "-r", 1000,
                                  "--per-pnode", ring)
    check(rc == 0 and rep is not None, "--per-pnode run exits 0 (%s %s)" % (rc, err))
    if rep is None:
        return
    per = rep["per_pnode"]
    check(len(per) > 1, "the ring's pnodes are listed")
    check(sum(p["requests"] for p in per) == 3000, "per-pnode requests add up")
    check(sum(1 for p in per if p["requests"] > 0) > 1, "keys spread over pnodes")
    # one key: every request lands on the pnode ring-tool names for it
    owner = subprocess.run([RING_TOOL, "get-node", "-l", ring, "rb:0"], capture_output=True,
                           text=True, timeout=TIMEOUT).stdout
    rc, rep, err = ringbench_json("-p", port, "-c", 1, "-n", 100, "-r", 1, "--per-pnode", ring)
    hit = [p for p in rep["per_pnode"] if p["requests"]]
    check(len(hit) == 1 and hit[0]["requests"] == 100 and
          "pnode=%s " % hit[0]["pnode"] in owner, "rb:0 on %s: %s" % (owner.strip(), hit))
    rc, out, err = ringbench("-p", port, "-n", 10, "--per-pnode", os.path.join(tmp, "nope"))
    check(rc == 3 and "--per-pnode" in err, "a missing ring is an error: %s" % err)


def test_auth(tmp):
    port, client = start_redis(tmp, password="sesame")
    rc, rep, err = ringbench_json("-p", port, "-c", 3, "-n", 300, "--auth", "sesame")
    check(rc == 0 and rep["errors"]["total"] == 0, "--auth with the password (%s)" % err)
    rc, out, err = ringbench("-p", port, "-c", 3, "-n", 300, "--auth", "wrong")
    check(rc == 3 and "AUTH refused" in err, "a wrong password stops the run: %s" % err)
    rc, rep, err = ringbench_json("-p", port, "-c", 1, "-n", 50)
    check(rc == 0 and rep["errors"]["other"] == 50 and "NOAUTH" in rep["first_error"],
          "without --auth every request is an error: %s" % (rep and rep["errors"]))


def test_tls(tmp):
    key, cert = os.path.join(tmp, "key.pem"), os.path.join(tmp, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    port, _ = start_redis(tmp, "--tls-cert-file", cert, "--tls-key-file", key,
                          "--tls-ca-cert-file", cert, "--tls-auth-clients", "no", tls=True)
    rc, rep, err = ringbench_json("-p", port, "-c", 4, "-P", 4, "-n", 2000, "--tls", "--verify")
    check(rc == 0 and rep is not None and rep["requests"] == 2000 and
          rep["verify"]["lost"] == 0, "--tls run (%s %s)" % (rc, err))
    # plain text to a TLS port: the server hangs up, every request fails
    rc, rep, err = ringbench_json("-p", port, "-c", 1, "-n", 10)
    check(rc == 0 and rep["errors"]["unavailable"] == 10 == rep["errors"]["total"],
          "plain text to a TLS port: %s %s" % (rc, rep and rep["errors"]))


def test_usage(port):
    bad = [
        (["-c", "0"], "bad -c '0'"),
        (["-c", "abc"], "bad -c 'abc'"),
        (["-c", "10001"], "bad -c '10001'"),
        (["-P", "-1"], "bad -P '-1'"),
        (["-n", "0"], "bad -n '0'"),
        (["--dist", "zipf"], "bad distribution 'zipf'"),
        (["--dist", "zipf:0"], "bad distribution 'zipf:0'"),
        (["--ratio", "x"], "bad --ratio 'x'"),
        (["--ratio", "1:"], "bad --ratio '1:'"),
        (["--ratio", "0:0"], "bad --ratio '0:0'"),
        (["--bogus"], "unknown option '--bogus'"),
        (["-n"], "-n needs a value"),
        (["-n", "5", "--duration", "1"], "-n and --duration exclude each other"),
        (["--verify-every", "1"], "--verify-every and --keep-state need --verify"),
        (["--duration", "0"], "bad --duration '0'"),
        (["-p", "70000"], "bad -p '70000'"),
        (["--check-only", "x", "--verify"], "--check-only sends no load"),
        (["extra"], "unexpected argument 'extra'"),
    ]
    for args, msg in bad:
        rc, out, err = ringbench("-p", port, *args)
        lines = err.strip().split("\n")
        check(rc == 2 and len(lines) == 1 and lines[0].startswith("ringbench: ") and
              msg in lines[0] and out == "", "%s: exit 2 with %r: %s %r" % (args, msg, rc, err))
    rc, out, err = ringbench("--help")
    check(rc == 0 and "NOT verified" in out and "--verify" in out, "--help")
    rc, out, err = ringbench("-p", free_port(), "-n", 10)
    check(rc == 3 and "cannot connect to 127.0.0.1" in err, "refused connection: %s" % err)


def test_stops_by_itself(port):
    # a server that accepts and never answers: ringbench gives up, exit 3
    with socket.socket() as mute:
        mute.bind(("127.0.0.1", 0))
        mute.listen(16)
        start = time.time()
        rc, out, err = ringbench("-p", mute.getsockname()[1], "-c", 2, "-n", 10)
        took = time.time() - start
    check(rc == 3 and "no reply" in err and 9 < took < 20,
          "a silent server is given up on after 10 s: %s %.1f %s" % (rc, took, err))
    # SIGINT ends the load early, and the report still comes
    p = subprocess.Popen([RINGBENCH, "-p", str(port), "-c", "2", "--duration", "60", "--rate",
                          "1000", "--json"], stdout=subprocess.PIPE, text=True)
    time.sleep(1)
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=TIMEOUT)
    rep = json.loads(out)
    check(p.returncode == 0 and 0 < rep["requests"] and rep["elapsed_s"] < 10,
          "SIGINT stops the run with a report: %s %s" % (p.returncode, rep["elapsed_s"]))


def test_progress(port):
    # live progress only when stderr is a terminal
    master, slave = pty.openpty()
    p = subprocess.Popen([RINGBENCH, "-p", str(port), "-c", "2", "--duration", "1.5", "--rate",
                          "2000"], stdout=subprocess.PIPE, stderr=slave, text=True)
    os.close(slave)
    seen = b""
    while True:
        ready, _, _ = select.select([master], [], [], TIMEOUT)
        try:
            chunk = os.read(master, 4096) if ready else b""
        except OSError:
            chunk = b""
        if not chunk:
            break
        seen += chunk
    os.close(master)
    out, _ = p.communicate(timeout=TIMEOUT)
    check(b"ops/s" in seen and b"errors" in seen, "progress on a terminal: %r" % seen)
    check("ops/s" not in out, "no progress in the report")
    rc, out, err = ringbench("-p", port, "-c", 2, "--duration", "1.5", "--rate", "2000")
    check(rc == 0 and err == "", "no progress when stderr is not a terminal: %r" % err)


def main():
    if not os.access(RINGBENCH, os.X_OK):
        print("no ringbench at", RINGBENCH)
        return 1
    tmp = tempfile.mkdtemp(prefix="test_ringbench.")
    try:
        port, client = start_redis(tmp)
        test_usage(port)
        test_clean_verify(port, client)
        test_verify_every(port)
        test_lost_and_unexpected(port, client, tmp)
        test_readonly(tmp, port)
        test_per_pnode(port, tmp)
        test_auth(tmp)
        test_tls(tmp)
        test_progress(port)
        test_stops_by_itself(port)
    finally:
        for p in procs:
            p.kill()
            p.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
