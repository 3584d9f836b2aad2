#!/usr/bin/python3
"""ring-tool reshard end to end: a split of one of two pnodes onto a third
while clients write and read through two real ringproxy processes (one
reloaded by its admin endpoint, the other by SIGHUP and RING INFO).

ringbench --verify loads one proxy: zero lost writes, zero unexpected
values. A writer of our own loads the other and records every -READONLY
refusal with its time: each must name a key of a moving vnode and fall
inside the write-blocked window of the batch that moved it (the `window`
lines of reshard's summary), and every write it retried must be there at
the end. Afterwards every key is on the pnode `ring-tool get-node` names
and on no other. Servers and proxies run on free loopback ports and are
killed by PID; every wait is bounded.
"""
import json
import os
import re
import subprocess
import sys
import threading
import time
import unittest

import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_reshard import TIMEOUT, TOP_BUILDDIR, ReshardCase, free_port, run  # noqa: E402

PROXY = os.path.join(TOP_BUILDDIR, "src", "ringproxy")
RINGBENCH = os.path.join(TOP_BUILDDIR, "tools", "ringbench")
NVNODES = 256
# Slack around a batch's window for a refusal, whose request was sent and
# whose reply came at times taken here with time.time(), the clock
# (CLOCK_REALTIME) ring-tool takes START and END with. No proxy can refuse
# before START (taken after the ro commit, before any proxy is asked to
# reload): the slack there only covers the rounding of START to a
# microsecond. END is taken once every proxy reports the remap's generation,
# but a worker thread may still be switching from the ro ring for a moment
# (milliseconds; 0.25 s allows for a loaded 2-core machine).
START_SLACK = 0.01
END_SLACK = 0.25


class Writer(threading.Thread):
    """SETs w:0.. through a proxy in a loop, retrying -READONLY, and keeps
    the last value acknowledged for each key and every refusal as (key,
    time sent, time the reply came)."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)
        self.stop = threading.Event()
        self.acked = {}
        self.readonly = []
        self.errors = []

    def run(self):
        i = 0
        while not self.stop.is_set():
            k, v = "w:%d" % (i % 3000), "v%d" % i
            i += 1
            for _ in range(500):
                sent = time.time()
                try:
                    self.r.set(k, v)
                    self.acked[k] = v
                    break
                except redis.exceptions.ReadOnlyError:
                    self.readonly.append((k, sent, time.time()))
                    time.sleep(0.01)
                except redis.exceptions.RedisError as e:
                    self.errors.append("%s: %s" % (k, e))
                    return
            else:
                self.errors.append("%s: READONLY for 5 s" % k)
                return


class TestReshardUnderLoad(ReshardCase):
    nvnodes = NVNODES

    def start_proxy(self, admin):
        port, aport = free_port(), free_port()
        pidfile = os.path.join(self.tmp, "proxy-%d.pid" % port)
        with open(os.path.join(self.tmp, "proxy-%d.log" % port), "w") as log:
            p = subprocess.Popen([PROXY, "-r", self.ring, "-l", "127.0.0.1:%d" % port, "-t", "2",
                                  "--admin", "127.0.0.1:%d" % aport, "--pidfile", pidfile,
                                  "--log-level", "warn"], stderr=log)
        self.procs.append(p)
        deadline = time.time() + 10
        while True:
            try:
                if redis.Redis(host="127.0.0.1", port=port).ping() and os.path.exists(pidfile):
                    break
            except redis.exceptions.ConnectionError:
                pass
            self.assertIsNone(p.poll(), "ringproxy exited")
            self.assertLess(time.time(), deadline, "ringproxy did not start")
            time.sleep(0.05)
        spec = "http://127.0.0.1:%d" % aport if admin else "%s@127.0.0.1:%d" % (pidfile, port)
        return port, spec

    def windows(self, out):
        """vnode -> (batch, start, end) from the window lines of reshard's
        summary, checked to be one per batch, in order, apart."""
        win, last_end = {}, 0.0
        lines = re.findall(r"^window (\d+) (\d+\.\d{6}) (\d+\.\d{6}) (\d+\.\d{3}) (\d+(?:,\d+)*)$", out, re.M)
        self.assertEqual([int(m[0]) for m in lines], list(range(1, len(lines) + 1)), out)
        for b, start, end, secs, vnodes in lines:
            start, end = float(start), float(end)
            self.assertLessEqual(last_end, start, out)
            self.assertLess(start, end, out)
            self.assertAlmostEqual(end - start, float(secs), delta=0.001)
            last_end = end
            for v in vnodes.split(","):
                self.assertNotIn(int(v), win, out)
                win[int(v)] = (int(b), start, end)
        return win

    def setUp(self):
        self.procs = []
        super().setUp()

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        super().tearDown()

    def test_split_under_load_loses_nothing(self):
        a_vnodes = self.vnodes_of(self.a.name)
        moving = set(a_vnodes[1::2])
        port1, spec1 = self.start_proxy(True)
        port2, spec2 = self.start_proxy(False)
        bench = subprocess.Popen([RINGBENCH, "-p", str(port1), "-c", "4", "-P", "8", "--duration", "8",
                                  "-r", "20000", "--ratio", "1:1", "-d", "100", "--verify", "--json"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(bench)
        writer = Writer(port2)
        writer.start()
        time.sleep(1.5)
        rc, out, err = run("reshard", "-l", self.ring, "--proxies", "%s,%s" % (spec1, spec2),
                           "--split", self.a.name, "--to", self.c.name, "--batch", "16")
        writer.stop.set()
        writer.join(TIMEOUT)
        bout, berr = bench.communicate(timeout=TIMEOUT)
        self.assertEqual(rc, 0, err)
        self.assertIn("moved 64 vnodes in 4 batches", out)
        self.assertEqual(self.vnodes_of(self.c.name), sorted(moving))

        report = json.loads(bout)
        self.assertEqual(bench.returncode, 0, berr)
        self.assertGreater(report["verify"]["keys_written"], 1000)
        self.assertEqual(report["verify"]["lost"], 0)
        self.assertEqual(report["verify"]["unexpected"], 0)
        self.assertEqual(report["errors"]["other"], 0, report["first_error"])
        self.assertEqual(report["errors"]["unavailable"], 0, report["first_error"])

        self.assertEqual(writer.errors, [])
        self.assertGreater(len(writer.acked), 1000)
        refused = {k for k, _, _ in writer.readonly}
        where = self.get_nodes(list(writer.acked) + list(refused))
        self.assertTrue(all(where[k][0] in moving for k in refused), "READONLY for a vnode that was not moving")
        # Every refusal inside the window of the batch that moved its vnode.
        win = self.windows(out)
        self.assertEqual(set(win), moving)
        batches = set()
        for k, sent, came in writer.readonly:
            b, start, end = win[where[k][0]]
            self.assertTrue(came >= start - START_SLACK and sent <= end + END_SLACK,
                            "READONLY for %s (vnode %d, batch %d) between %.6f and %.6f, outside the window "
                            "%.6f-%.6f" % (k, where[k][0], b, sent, came, start, end))
            batches.add(b)
        self.assertTrue(batches, "the writer saw no READONLY: the window check tested nothing")
        print("reshard: %s; ringbench: %d keys written, %d READONLY; writer: %d keys, %d refusals in the windows "
              "of batches %s" % (re.search(r"^write-blocked.*$", out, re.M).group(0),
                                 report["verify"]["keys_written"], report["errors"]["readonly"],
                                 len(writer.acked), len(writer.readonly), sorted(batches)), file=sys.stderr)
        # Every key on exactly the pnode get-node names, the writer's last
        # acknowledged values included.
        held = {}
        for s in self.servers:
            for k in s.r.scan_iter(count=1000):
                self.assertNotIn(k, held, "%s on two pnodes" % k)
                held[k.decode()] = s.name
        placed = self.get_nodes(held)
        self.assertEqual({k: placed[k][1] for k in held}, held)
        for k, v in writer.acked.items():
            self.assertEqual(self.by_name(where[k][1]).r.get(k), v.encode(), k)
        rc, out, err = run("get-data-vnodes", "-l", self.ring)
        self.assertEqual((rc, out), (0, ""))


if __name__ == "__main__":
    unittest.main(verbosity=2)
