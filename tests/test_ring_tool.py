#!/usr/bin/python3
"""ring-tool, verb by verb: the output of each verb, each of its errors, and
that the ring is unchanged after every error.

Expected vnodes are computed here, independently of the C code, with hashlib
and integer division (shared/design/ring-image.md). A corrupt image is made
by appending a LevelDB write batch to the image's log in LevelDB's own log
format (there is no Python LevelDB binding on Debian). Run by `make check`
with top_srcdir and top_builddir set; every subprocess is time-bounded.
"""
import fcntl
import glob
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP_SRCDIR = os.environ.get("top_srcdir", os.path.dirname(HERE))
TOP_BUILDDIR = os.environ.get("top_builddir", TOP_SRCDIR)
RING_TOOL = os.path.join(TOP_BUILDDIR, "tools", "ring-tool")
TIMEOUT = 60

# The real node-fash ring ships in the tree (tests/fixtures/README.md).
FIXTURE = os.path.join(TOP_SRCDIR, "tests", "fixtures", "fash-ring-1m")

DIGESTS = {"sha256": hashlib.sha256, "sha1": hashlib.sha1, "md5": hashlib.md5}
ADDR_ERROR = "is not an address (want tcp://HOST:PORT or tls://HOST:PORT)"
XXH3_NOTE = " (node-fash and electric-moray cannot read this ring)"
VERBS = ["create", "get-node", "get-vnode-pnode-and-data", "get-pnodes", "get-vnodes",
         "get-data-vnodes", "remap-vnodes", "add-data", "remove-pnode", "rename-pnode",
         "print-hash", "diff", "verify", "export", "import", "reshard"]


def run(*args, stdin=None):
    p = subprocess.run([RING_TOOL, *args], input=stdin, capture_output=True, timeout=TIMEOUT)
    return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8")


def expected_vnode(algo, nvnodes, key):
    """floor(H / floor(MAX / N)), clamped to N - 1."""
    digest = DIGESTS[algo](key).digest()
    h = int.from_bytes(digest, "big")
    mx = (1 << (8 * len(digest))) - 1
    return min(h // (mx // nvnodes), nvnodes - 1)


def interval_hex(algo, nvnodes):
    """MAX // N as node-fash writes it: bignum's toString(16), which is
    OpenSSL's BN_bn2hex (whole bytes, so an odd digit count gets a '0')."""
    mx = (1 << (8 * DIGESTS[algo]().digest_size)) - 1
    h = format(mx // nvnodes, "x")
    return "0" + h if len(h) % 2 else h


def max_hex(algo):
    return "F" * (2 * DIGESTS[algo]().digest_size)


# --- LevelDB's log format, to corrupt an image behind the tool's back -------

def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC32C = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = CRC32C[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def leveldb_append(ring, puts=(), deletes=()):
    """Appends one write batch to the image's newest log, which LevelDB
    replays at the next open. The log must be empty (a ring just closed by a
    read leaves it so), so the batch is one FULL record at offset 0; its
    sequence number is far above any the image has used."""
    path = sorted(glob.glob(os.path.join(ring, "*.log")))[-1]
    if os.path.getsize(path) != 0:
        raise AssertionError("newest LevelDB log %s is not empty" % path)
    rep = bytearray(struct.pack("<QI", 1 << 40, len(puts) + len(deletes)))
    for k, v in puts:
        rep += b"\x01" + varint(len(k)) + k + varint(len(v)) + v
    for k in deletes:
        rep += b"\x00" + varint(len(k)) + k
    crc = crc32c(b"\x01" + bytes(rep))
    masked = (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF
    with open(path, "ab") as f:
        f.write(struct.pack("<IHB", masked, len(rep), 1) + bytes(rep))


class RingToolCase(unittest.TestCase):
    """A temporary directory per test and the assertions every test uses."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="test_ring_tool.")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def ok(self, *args, stdin=None):
        rc, out, err = run(*args, stdin=stdin)
        self.assertEqual((rc, err), (0, ""), "ring-tool %s" % " ".join(args))
        return out

    def fails(self, status, needle, *args, stdin=None):
        """The verb fails with status and ONE stderr line naming it."""
        rc, out, err = run(*args, stdin=stdin)
        self.assertEqual(rc, status, "ring-tool %s: %r" % (" ".join(args), err))
        self.assertEqual(err.count("\n"), 1, err)
        self.assertTrue(err.startswith("ring-tool: %s: " % args[0]) or args[0] not in VERBS, err)
        self.assertIn(needle, err)
        return out, err

    def create(self, name, nvnodes, pnodes, algo=None):
        ring = self.path(name)
        args = ["create", "-l", ring, "-v", str(nvnodes), "-p", ",".join(pnodes)]
        if algo is not None:
            args += ["-a", algo]
        out = self.ok(*args)
        self.assertEqual(out.splitlines()[-1], "generation 1")
        return ring

    def generation(self, ring):
        for line in self.ok("print-hash", "-l", ring).splitlines():
            if line.startswith("generation"):
                return int(line.split()[1])
        raise AssertionError("print-hash shows no generation")

    def snapshot(self, ring):
        return self.ok("export", "-l", ring), self.generation(ring)

    def assert_write(self, out, generation):
        """A write verb's output ends with the generation it stored."""
        self.assertEqual(out.splitlines()[-1], "generation %d" % generation)

    def vnode_map(self, ring, nvnodes):
        out = self.ok("get-vnode-pnode-and-data", "-l", ring, "-v", "0-%d" % (nvnodes - 1))
        result = {}
        for line in out.splitlines():
            v, pnode, data = line.split(" ")
            self.assertTrue(pnode.startswith("pnode=") and data.startswith("data="), line)
            result[int(v)] = (pnode[6:], data[5:])
        self.assertEqual(sorted(result), list(range(nvnodes)))
        return result


P3 = ["tcp://10.0.0.3:6379", "tcp://10.0.0.1:6379", "tls://[::1]:6380"]


class TestCreate(RingToolCase):
    def test_round_robin_over_sorted_names(self):
        ring = self.create("r", 11, P3)
        order = sorted(P3)
        self.assertEqual(self.ok("get-pnodes", "-l", ring).splitlines(), order)
        m = self.vnode_map(ring, 11)
        for v in range(11):
            self.assertEqual(m[v], (order[v % 3], "null"))
        for i, p in enumerate(order):
            self.assertEqual(self.ok("get-vnodes", "-l", ring, p).split(),
                             [str(v) for v in range(i, 11, 3)])

    def test_output_and_default_algorithm(self):
        out = self.ok("create", "-l", self.path("r"), "-v", "5", "-p", "tcp://a:1, tcp://b:2")
        self.assertEqual(out, "created xxh3 ring of 5 vnodes over 2 pnodes in %s\ngeneration 1\n" % self.path("r"))
        summary = self.ok("print-hash", "-l", self.path("r"))
        self.assertIn("algorithm   xxh3%s\n" % XXH3_NOTE, summary)
        self.assertIn("interval    %x\n" % ((2 ** 64 - 1) // 5), summary)

    def test_every_algorithm(self):
        for algo in ["xxh3", "sha256", "sha1", "md5"]:
            ring = self.create(algo, 100, ["tcp://h:1"], algo)
            self.assertIn("algorithm   %s%s\n" % (algo, XXH3_NOTE if algo == "xxh3" else ""),
                          self.ok("print-hash", "-l", ring))
            self.assertIn("ok %s: %s, 100 vnodes, 1 pnodes" % (ring, algo), self.ok("verify", "-l", ring))

    def test_refuses_existing_ring(self):
        ring = self.create("r", 8, P3)
        before = self.snapshot(ring)
        self.fails(1, "already holds a ring", "create", "-l", ring, "-v", "4", "-p", "tcp://x:1")
        self.assertEqual(self.snapshot(ring), before)

    def test_refuses_directory_with_other_files(self):
        d = self.path("d")
        os.mkdir(d)
        with open(os.path.join(d, "notes.txt"), "w") as f:
            f.write("x")
        self.fails(1, "is not empty and holds no ring", "create", "-l", d, "-v", "4", "-p", "tcp://x:1")
        self.assertEqual(os.listdir(d), ["notes.txt"])

    def test_bad_arguments_leave_nothing_behind(self):
        d = self.path("new")
        cases = [
            (["-v", "0", "-p", "tcp://a:1"], "vnode count 0 is out of range (1 to 10000000)"),
            (["-v", "10000001", "-p", "tcp://a:1"], "vnode count 10000001 is out of range"),
            (["-v", "99999999999999999999", "-p", "tcp://a:1"], "out of range"),
            (["-v", "12x", "-p", "tcp://a:1"], "vnode count '12x' is not a whole number"),
            (["-v", "-3", "-p", "tcp://a:1"], "vnode count '-3' is not a whole number"),
            (["-v", "4", "-p", "redis1:6379"], "pnode 'redis1:6379' " + ADDR_ERROR),
            (["-v", "4", "-p", "tcp://a:1,http://b:2"], "pnode 'http://b:2' " + ADDR_ERROR),
            (["-v", "4", "-p", "tcp://a:0"], "pnode 'tcp://a:0' " + ADDR_ERROR),
            (["-v", "4", "-p", "tcp://a:70000"], "pnode 'tcp://a:70000' " + ADDR_ERROR),
            (["-v", "4", "-p", "tcp://:80"], "pnode 'tcp://:80' " + ADDR_ERROR),
            (["-v", "4", "-p", "tcp://a:1,,tcp://b:1"], "pnode list has an empty entry (entry 2)"),
            (["-v", "4", "-p", "tcp://a:1, tcp://a:1"], "pnode 'tcp://a:1' is listed twice"),
            (["-v", "4", "-p", "tcp://a:1", "-a", "crc32"], "unknown hash algorithm 'crc32'"),
        ]
        # Every one is a bad command line: usage, exit 2, as --help says.
        for args, needle in cases:
            with self.subTest(args=args):
                self.fails(2, needle, "create", "-l", d, *args)
                self.assertFalse(os.path.exists(d))

    def test_max_vnode_count_accepted_by_parser(self):
        # 10,000,000 itself is allowed: the refusal above is only past it.
        rc, _, err = run("create", "-l", self.path("r"), "-v", "10000000", "-p", "bad")
        self.assertEqual(rc, 2)
        self.assertIn("pnode 'bad' " + ADDR_ERROR, err)


class TestGetNode(RingToolCase):
    KEYS = [b"", b"a", b"user:1001", b"key with spaces", b"\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87",
            b"x" * 300] + [b"k%d" % i for i in range(40)]

    def test_matches_hashlib(self):
        for algo in ["sha256", "sha1", "md5"]:
            for n in [1, 7, 1000, 65536]:
                with self.subTest(algo=algo, n=n):
                    ring = self.create("%s-%d" % (algo, n), n, P3, algo)
                    order = sorted(P3)
                    keys = [k.decode("utf-8") for k in self.KEYS]
                    out = self.ok("get-node", "-l", ring, "--", *keys).splitlines()
                    self.assertEqual(len(out), len(keys))
                    for key, line in zip(self.KEYS, out):
                        v = expected_vnode(algo, n, key)
                        self.assertEqual(line, "%s vnode=%d pnode=%s data=null"
                                         % (key.decode("utf-8"), v, order[v % 3]))

    def test_xxh3_consistent_with_vnode_table(self):
        ring = self.create("x", 1000, P3)
        m = self.vnode_map(ring, 1000)
        keys = ["k%d" % i for i in range(200)]
        seen = set()
        for key, line in zip(keys, self.ok("get-node", "-l", ring, *keys).splitlines()):
            k, v, pnode, data = line.split(" ")
            self.assertEqual(k, key)
            v = int(v[len("vnode="):])
            self.assertEqual((pnode[len("pnode="):], data[len("data="):]), m[v])
            seen.add(v)
        # 200 keys over 1000 vnodes: a hash that spreads them lands on many.
        self.assertGreater(len(seen), 150)
        again = self.ok("get-node", "-l", ring, *keys)
        self.assertEqual(again, self.ok("get-node", "-l", ring, *keys))

    def test_json_lines(self):
        ring = self.create("r", 64, P3, "sha256")
        self.ok("add-data", "-l", ring, "-v", "0-63", "-d", "ro")
        self.ok("add-data", "-l", ring, "-v", str(expected_vnode("sha256", 64, b"plain")), "-d", "null")
        keys = ['quote"back\\slash', "tab\there", "ключ", "plain"]
        out = self.ok("get-node", "-l", ring, "--json", *keys).splitlines()
        self.assertEqual(len(out), 4)
        for key, line in zip(keys, out):
            obj = json.loads(line)
            v = expected_vnode("sha256", 64, key.encode("utf-8"))
            self.assertEqual(obj, {"key": key, "vnode": v, "pnode": sorted(P3)[v % 3],
                                   "data": None if key == "plain" else "ro"})

    def test_data_shown(self):
        ring = self.create("r", 10, P3, "md5")
        v = expected_vnode("md5", 10, b"hello")
        self.ok("add-data", "-l", ring, "-v", str(v), "-d", "ro")
        self.assertEqual(self.ok("get-node", "-l", ring, "hello"),
                         "hello vnode=%d pnode=%s data=ro\n" % (v, sorted(P3)[v % 3]))

    def test_errors(self):
        ring = self.create("r", 10, P3)
        self.fails(2, "no KEY given", "get-node", "-l", ring)
        self.fails(2, "missing -l DIR", "get-node", "key")
        self.fails(2, "unknown option '--jsonx'", "get-node", "-l", ring, "--jsonx", "k")
        self.fails(2, "unknown option '-x'", "get-node", "-l", ring, "-x", "k")
        self.fails(1, "no ring image at %s: No such file or directory" % self.path("none"),
                   "get-node", "-l", self.path("none"), "k")
        self.assertFalse(os.path.exists(self.path("none")))


class TestVnodeLists(RingToolCase):
    def test_syntax(self):
        ring = self.create("r", 20, P3)
        cases = {
            "0,106": None,
            "0,2, 4 ,6-8": [0, 2, 4, 6, 7, 8],
            " 3 - 5 ": [3, 4, 5],
            "1,1,0-2,2": [0, 1, 2],
            "19": [19],
            "0-19": list(range(20)),
            # fash's forms: spaces alone, or commas and spaces (RFD 103).
            "0 1 2": [0, 1, 2],
            "0, 1,2": [0, 1, 2],
            "19 4, 7-8": [4, 7, 8, 19],
        }
        for spec, want in cases.items():
            with self.subTest(spec=spec):
                if want is None:
                    self.fails(2, "vnode 106 is out of range (the ring has vnodes 0 to 19)",
                               "get-vnode-pnode-and-data", "-l", ring, "-v", spec)
                    continue
                out = self.ok("get-vnode-pnode-and-data", "-l", ring, "-v", spec)
                self.assertEqual([int(line.split()[0]) for line in out.splitlines()], want)

    def test_bad_entries_named(self):
        ring = self.create("r", 20, P3)
        cases = {
            "1,,2": "bad vnode list entry '' (want N or N-M)",
            "": "bad vnode list entry ''",
            "3,abc": "bad vnode list entry 'abc'",
            "1.5": "bad vnode list entry '1.5'",
            "-1": "bad vnode list entry '-1'",
            "4-": "bad vnode list entry '4-'",
            "2,9 x": "bad vnode list entry 'x'",
            "7-3": "vnode range 7-3 runs backwards",
            "20": "vnode 20 is out of range (the ring has vnodes 0 to 19)",
            "5-25": "vnode 25 is out of range",
            "4294967296": "bad vnode list entry '4294967296'",
        }
        for spec, needle in cases.items():
            for verb in (["get-vnode-pnode-and-data"], ["add-data", "-d", "ro"],
                         ["remap-vnodes", "-p", "tcp://n:1"]):
                with self.subTest(spec=spec, verb=verb[0]):
                    before = self.snapshot(ring)
                    self.fails(2, needle, verb[0], "-l", ring, "-v", spec, *verb[1:])
                    self.assertEqual(self.snapshot(ring), before)


class TestRemap(RingToolCase):
    def test_moves_vnodes_and_keeps_data(self):
        ring = self.create("r", 12, P3)
        self.assert_write(self.ok("add-data", "-l", ring, "-v", "1", "-d", "ro"), 2)
        new = "tcp://10.0.0.9:6379"
        out = self.ok("remap-vnodes", "-l", ring, "-v", "0,1, 5-6", "-p", new)
        self.assertEqual(out, "remapped 4 vnodes to %s\ngeneration 3\n" % new)
        self.assertEqual(self.ok("get-pnodes", "-l", ring).splitlines(), sorted(P3 + [new]))
        m = self.vnode_map(ring, 12)
        order = sorted(P3)
        for v in range(12):
            want = new if v in (0, 1, 5, 6) else order[v % 3]
            self.assertEqual(m[v], (want, "ro" if v == 1 else "null"))
        self.assertEqual(self.ok("get-vnodes", "-l", ring, new).split(), ["0", "1", "5", "6"])
        self.assertEqual(self.generation(ring), 3)
        self.assertIn("ok ", self.ok("verify", "-l", ring))

    def test_to_existing_pnode(self):
        ring = self.create("r", 6, P3, "sha1")
        order = sorted(P3)
        self.ok("remap-vnodes", "-l", ring, "-v", "1,2", "-p", order[0])
        self.assertEqual(self.ok("get-vnodes", "-l", ring, order[0]).split(), ["0", "1", "2", "3"])
        key = next(k for k in ("k%d" % i for i in range(1000))
                   if expected_vnode("sha1", 6, k.encode()) == 2)
        self.assertEqual(self.ok("get-node", "-l", ring, key), "%s vnode=2 pnode=%s data=null\n" % (key, order[0]))

    def test_refusals_name_vnodes_and_change_nothing(self):
        ring = self.create("r", 30, P3)
        order = sorted(P3)
        before = self.snapshot(ring)
        cases = [
            (["-v", "0,3,4,6,9,12", "-p", order[0]], "vnodes 0,3,6,9,12 are already on pnode %s; nothing was "
             "remapped" % order[0]),
            (["-v", "4,3", "-p", order[0]], "vnode 3 is already on pnode %s" % order[0]),
            (["-v", "0-2,30", "-p", order[0]], "vnode 30 is out of range (the ring has vnodes 0 to 29)"),
            (["-v", "1", "-p", "10.0.0.9:6379"], "pnode '10.0.0.9:6379' " + ADDR_ERROR),
        ]
        for args, needle in cases:
            with self.subTest(args=args):
                # A vnode out of range or a bad address is a usage error.
                self.fails(1 if "already on" in needle else 2, needle, "remap-vnodes", "-l", ring, *args)
                self.assertEqual(self.snapshot(ring), before)
        self.fails(2, "missing -p PNODE", "remap-vnodes", "-l", ring, "-v", "1")
        self.fails(2, "missing -v LIST", "remap-vnodes", "-l", ring, "-p", order[0])
        self.fails(2, "-p given more than once", "remap-vnodes", "-l", ring, "-v", "1", "-p", "tcp://a:1",
                   "-p", "tcp://b:1")
        self.assertEqual(self.snapshot(ring), before)

    def test_long_offender_list_is_summarised(self):
        ring = self.create("r", 3000, ["tcp://a:1", "tcp://b:1"])
        _, err = self.fails(1, "already on pnode tcp://a:1", "remap-vnodes", "-l", ring, "-v", "0-2999",
                            "-p", "tcp://a:1")
        self.assertIn("0,2,4,6", err)
        self.assertRegex(err, r" and \d+ more are already on")
        self.assertLess(len(err), 400)


class TestAddData(RingToolCase):
    def test_ro_other_and_null(self):
        ring = self.create("r", 10, P3)
        self.assertEqual(self.ok("add-data", "-l", ring, "-v", "2-4,8", "-d", "ro"),
                         "set the data of 4 vnodes to ro\ngeneration 2\n")
        self.assert_write(self.ok("add-data", "-l", ring, "-v", "9", "-d", "moving soon"), 3)
        out = self.ok("get-data-vnodes", "-l", ring)
        order = sorted(P3)
        want = ["%d pnode=%s data=ro" % (v, order[v % 3]) for v in (2, 3, 4, 8)]
        want.append("9 pnode=%s data=moving soon" % order[0])
        self.assertEqual(out.splitlines(), want)
        summary = self.ok("print-hash", "-l", ring)
        self.assertIn("data        5 vnodes (4 ro)\n  2-4,8-9\n", summary)
        self.assertEqual(self.ok("add-data", "-l", ring, "-v", "3,9", "-d", "null"),
                         "cleared the data of 2 vnodes\ngeneration 4\n")
        self.assertEqual([line.split()[0] for line in self.ok("get-data-vnodes", "-l", ring).splitlines()],
                         ["2", "4", "8"])
        self.ok("add-data", "-l", ring, "-v", "0-9", "-d", "null")
        self.assertEqual(self.ok("get-data-vnodes", "-l", ring), "")
        self.assertIn("data        0 vnodes (0 ro)\n", self.ok("print-hash", "-l", ring))
        self.assertIn("0 with data", self.ok("verify", "-l", ring))

    def test_string_null_from_fash_is_data_and_can_be_cleared(self):
        # fash add-data -d null stores the JSON string "null" and lists the
        # vnode in VNODE_DATA (lib/backend/leveldb.js addData); -d 1 alike.
        ring = self.create("r", 6, ["tcp://a:1", "tcp://b:1"], "sha256")
        self.ok("add-data", "-l", ring, "-v", "4", "-d", "ro")
        self.ok("verify", "-l", ring)  # leaves an empty log to append to
        leveldb_append(ring, [(b"/PNODE/tcp://a:1/2", b'"null"'), (b"/PNODE/tcp://b:1/1", b'"1"'),
                              (b"VNODE_DATA", b"[4,2,1]")])
        self.assertIn("3 with data", self.ok("verify", "-l", ring))
        self.assertEqual(self.ok("get-data-vnodes", "-l", ring),
                         '1 pnode=tcp://b:1 data="1"\n2 pnode=tcp://a:1 data="null"\n4 pnode=tcp://a:1 data=ro\n')
        self.assertIn('"tcp://a:1":{"0":1,"2":"null","4":"ro"}', self.ok("export", "-l", ring))
        proxy = os.path.join(TOP_BUILDDIR, "src", "ringproxy")
        p = subprocess.run([proxy, "-r", ring, "-l", "127.0.0.1:1", "--check"], capture_output=True,
                           timeout=TIMEOUT)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assert_write(self.ok("add-data", "-l", ring, "-v", "1-2", "-d", "null"), 3)
        self.assertEqual(self.ok("get-data-vnodes", "-l", ring), "4 pnode=tcp://a:1 data=ro\n")
        self.ok("verify", "-l", ring)

    def test_refusals(self):
        ring = self.create("r", 10, P3)
        self.ok("add-data", "-l", ring, "-v", "1", "-d", "ro")
        before = self.snapshot(ring)
        self.fails(1, "data is empty (use -d null, or no -d, to clear it)", "add-data", "-l", ring, "-v", "1",
                   "-d", "")
        self.fails(1, "data contains a control character", "add-data", "-l", ring, "-v", "1", "-d", "r\no")
        self.fails(1, "vnode data must be at most", "add-data", "-l", ring, "-v", "1", "-d", "x" * 2000)
        self.fails(2, "option '-d' needs an argument", "add-data", "-l", ring, "-v", "1", "-d")
        self.fails(2, "option -p does not apply to add-data", "add-data", "-l", ring, "-v", "1", "-d", "ro",
                   "-p", "tcp://a:1")
        self.assertEqual(self.snapshot(ring), before)


class TestRemoveAndRenamePnode(RingToolCase):
    def test_remove_refused_while_owning_vnodes(self):
        ring = self.create("r", 9, P3)
        order = sorted(P3)
        before = self.snapshot(ring)
        self.fails(1, "pnode '%s' still owns 3 vnodes: remap them first" % order[1],
                   "remove-pnode", "-l", ring, "-p", order[1])
        self.fails(1, "pnode 'tcp://9.9.9.9:1' is not in the ring", "remove-pnode", "-l", ring, "-p",
                   "tcp://9.9.9.9:1")
        self.fails(2, "missing -p PNODE", "remove-pnode", "-l", ring)
        self.fails(2, "unexpected argument 'extra'", "remove-pnode", "-l", ring, "-p", order[1], "extra")
        self.assertEqual(self.snapshot(ring), before)

    def test_remove_after_remap(self):
        ring = self.create("r", 9, P3)
        order = sorted(P3)
        self.ok("remap-vnodes", "-l", ring, "-v", "1,4,7", "-p", order[0])
        self.assertEqual(self.ok("get-vnodes", "-l", ring, order[1]), "")
        self.assertEqual(self.ok("remove-pnode", "-l", ring, "-p", order[1]),
                         "removed pnode %s\ngeneration 3\n" % order[1])
        self.assertEqual(self.ok("get-pnodes", "-l", ring).splitlines(), [order[0], order[2]])
        self.fails(1, "is not in the ring", "get-vnodes", "-l", ring, order[1])
        self.assertIn(", 2 pnodes,", self.ok("verify", "-l", ring))

    def test_last_pnode_cannot_be_removed(self):
        ring = self.create("r", 4, ["tcp://a:1"])
        self.ok("remap-vnodes", "-l", ring, "-v", "0-3", "-p", "tcp://b:1")
        before = self.snapshot(ring)
        self.ok("remove-pnode", "-l", ring, "-p", "tcp://a:1")
        self.assertNotEqual(self.snapshot(ring), before)
        before = self.snapshot(ring)
        self.fails(1, "still owns 4 vnodes", "remove-pnode", "-l", ring, "-p", "tcp://b:1")
        self.assertEqual(self.snapshot(ring), before)

    def test_new_empty_pnode_then_remove(self):
        ring = self.create("r", 4, ["tcp://a:1", "tcp://b:1"])
        self.ok("remap-vnodes", "-l", ring, "-v", "0", "-p", "tcp://c:1")
        self.ok("remap-vnodes", "-l", ring, "-v", "0", "-p", "tcp://a:1")
        self.assertIn('"tcp://c:1":{}', self.ok("export", "-l", ring))
        self.assertIn("tcp://c:1                                         0 vnodes   0.000%",
                      self.ok("print-hash", "-l", ring))
        self.ok("remove-pnode", "-l", ring, "-p", "tcp://c:1")
        self.assertEqual(self.ok("get-pnodes", "-l", ring).split(), ["tcp://a:1", "tcp://b:1"])

    def test_rename_moves_vnodes_and_data(self):
        ring = self.create("r", 9, P3, "sha256")
        order = sorted(P3)
        self.ok("add-data", "-l", ring, "-v", "1", "-d", "ro")
        new = "tcp://127.0.0.1:7001"
        self.assertEqual(self.ok("rename-pnode", "-l", ring, order[1], new),
                         "renamed pnode %s to %s (3 vnodes)\ngeneration 3\n" % (order[1], new))
        self.assertEqual(self.ok("get-pnodes", "-l", ring).splitlines(), sorted([order[0], order[2], new]))
        m = self.vnode_map(ring, 9)
        for v in range(9):
            want = new if v % 3 == 1 else order[v % 3]
            self.assertEqual(m[v], (want, "ro" if v == 1 else "null"))
        self.assertIn("ok ", self.ok("verify", "-l", ring))

    def test_rename_refusals(self):
        ring = self.create("r", 9, P3)
        order = sorted(P3)
        before = self.snapshot(ring)
        self.fails(1, "pnode '%s' is already in the ring" % order[2], "rename-pnode", "-l", ring, order[0], order[2])
        self.fails(1, "pnode 'tcp://x:1' is not in the ring", "rename-pnode", "-l", ring, "tcp://x:1", "tcp://y:1")
        self.fails(2, "pnode 'backend-7' " + ADDR_ERROR, "rename-pnode", "-l", ring, order[0], "backend-7")
        self.fails(2, "missing argument: expected 2, got 1", "rename-pnode", "-l", ring, order[0])
        self.fails(2, "unexpected argument 'tcp://z:1'", "rename-pnode", "-l", ring, order[0], "tcp://y:1",
                   "tcp://z:1")
        self.assertEqual(self.snapshot(ring), before)


class TestPrintHash(RingToolCase):
    def test_summary(self):
        ring = self.create("r", 8, ["tcp://b:1", "tcp://a:1", "tcp://c:1"], "md5")
        self.ok("add-data", "-l", ring, "-v", "7", "-d", "ro")
        out = self.ok("print-hash", "-l", ring)
        self.assertEqual(out, "".join([
            "ring        %s\n" % ring,
            "algorithm   md5\n",
            "vnodes      8\n",
            "generation  2\n",
            "version     2.1.0\n",
            "interval    %s\n" % interval_hex("md5", 8),
            "pnodes      3\n",
            "  %-40s %10u vnodes %7.3f%%\n" % ("tcp://a:1", 3, 37.5),
            "  %-40s %10u vnodes %7.3f%%\n" % ("tcp://b:1", 3, 37.5),
            "  %-40s %10u vnodes %7.3f%%\n" % ("tcp://c:1", 2, 25.0),
            "data        1 vnodes (1 ro)\n",
            "  7\n",
        ]))


class TestDiff(RingToolCase):
    def test_identical_and_different(self):
        a = self.create("a", 10, P3)
        b = self.path("b")
        self.ok("import", "-l", b, "-", stdin=self.ok("export", "-l", a).encode())
        for args in (["-l", a, b], ["-l", a, "-l", b]):
            rc, out, err = run("diff", *args)
            self.assertEqual((rc, out, err), (0, "", ""))
        order = sorted(P3)
        self.ok("remap-vnodes", "-l", b, "-v", "4", "-p", "tcp://n:1")
        self.ok("add-data", "-l", b, "-v", "7", "-d", "ro")
        rc, out, err = run("diff", "-l", a, b)
        self.assertEqual((rc, err), (1, ""))
        self.assertEqual(out, "> pnode tcp://n:1\n"
                              "< 4 pnode=%s data=null\n> 4 pnode=tcp://n:1 data=null\n"
                              "< 7 pnode=%s data=null\n> 7 pnode=%s data=ro\n" % (order[1], order[1], order[1]))
        rc, out, err = run("diff", "-l", b, a)
        self.assertEqual((rc, err), (1, ""))
        self.assertEqual(out, "< pnode tcp://n:1\n"
                              "< 4 pnode=tcp://n:1 data=null\n> 4 pnode=%s data=null\n"
                              "< 7 pnode=%s data=ro\n> 7 pnode=%s data=null\n" % (order[1], order[1], order[1]))

    def test_pnode_renamed_everywhere(self):
        a = self.create("a", 4, ["tcp://a:1", "tcp://b:1"])
        b = self.path("b")
        self.ok("import", "-l", b, "-", stdin=self.ok("export", "-l", a).encode())
        self.ok("rename-pnode", "-l", b, "tcp://b:1", "tcp://c:1")
        rc, out, _ = run("diff", "-l", a, b)
        self.assertEqual(rc, 1)
        self.assertEqual(out, "< pnode tcp://b:1\n> pnode tcp://c:1\n"
                              "< 1 pnode=tcp://b:1 data=null\n> 1 pnode=tcp://c:1 data=null\n"
                              "< 3 pnode=tcp://b:1 data=null\n> 3 pnode=tcp://c:1 data=null\n")

    def test_shape_differs(self):
        a = self.create("a", 10, ["tcp://a:1"])
        b = self.create("b", 12, ["tcp://a:1"], "sha256")
        rc, out, _ = run("diff", "-l", a, b)
        self.assertEqual((rc, out), (1, "< algorithm xxh3\n> algorithm sha256\n< vnodes 10\n> vnodes 12\n"))

    def test_errors_exit_2(self):
        a = self.create("a", 10, ["tcp://a:1"])
        self.fails(2, "no ring image at %s" % self.path("none"), "diff", "-l", a, self.path("none"))
        self.fails(2, "no ring image", "diff", "-l", self.path("none"), a)
        self.fails(2, "needs two rings: -l DIR_A DIR_B", "diff", "-l", a)
        self.fails(2, "unexpected argument", "diff", "-l", a, a, a)
        self.fails(2, "-l given more than once", "diff", "-l", a, "-l", a, "-l", a)
        self.fails(2, "missing -l DIR", "diff", a, a)


class TestExportImport(RingToolCase):
    def test_round_trip_byte_identical(self):
        for algo in ["xxh3", "sha256", "sha1", "md5"]:
            with self.subTest(algo=algo):
                a = self.create("a-" + algo, 50, P3, algo)
                self.ok("add-data", "-l", a, "-v", "3,7-9", "-d", "ro")
                self.ok("add-data", "-l", a, "-v", "11", "-d", 'odd "data" \\ é')
                self.ok("remap-vnodes", "-l", a, "-v", "0", "-p", "tcp://spare:1")
                self.ok("remap-vnodes", "-l", a, "-v", "0", "-p", sorted(P3)[0])
                first = self.ok("export", "-l", a)
                self.assertIn('"tcp://spare:1":{}', first)
                path = self.path("ring-%s.json" % algo)
                with open(path, "w", encoding="utf-8") as f:
                    f.write(first)
                b = self.path("b-" + algo)
                out = self.ok("import", "-l", b, path)
                self.assertEqual(out, "imported %s ring of 50 vnodes over 4 pnodes into %s\ngeneration 1\n"
                                 % (algo, b))
                self.assertEqual(self.ok("export", "-l", b), first)
                self.assertEqual(run("diff", "-l", a, b)[0], 0)
                c = self.path("c-" + algo)
                self.ok("import", "-l", c, "-", stdin=first.encode("utf-8"))
                self.assertEqual(self.ok("export", "-l", c), first)

    def test_interval_hex_as_fash_writes_it(self):
        # About half of all N need the leading zero; 10007 is the reported one.
        self.assertEqual(interval_hex("sha256", 10007)[:6], "068c8c")
        padded = 0
        for n in [1, 2, 3, 5, 7, 10, 16, 17, 100, 255, 256, 1000, 4097, 10007, 65537, 99991, 1000000]:
            with self.subTest(n=n):
                ring = self.create("n%d" % n, n, ["tcp://a:1"], "sha256")
                algo = json.loads(self.ok("export", "-l", ring))["algorithm"]
                self.assertEqual(algo["VNODE_HASH_INTERVAL"], interval_hex("sha256", n))
                self.assertEqual(len(algo["VNODE_HASH_INTERVAL"]) % 2, 0)
                padded += algo["VNODE_HASH_INTERVAL"].startswith("0")
                shutil.rmtree(ring)
        self.assertGreater(padded, 3)

    def test_fash_form_is_what_fash_serialize_writes(self):
        ring = self.create("r", 12, ["tcp://b:1", "tcp://c:1"], "sha256")
        self.ok("remap-vnodes", "-l", ring, "-v", "0", "-p", "tcp://a:1")   # a: lowest vnode 0
        self.ok("remap-vnodes", "-l", ring, "-v", "0", "-p", "tcp://b:1")   # a: empty now
        self.ok("remap-vnodes", "-l", ring, "-v", "1,7", "-p", "tcp://z:1")
        self.ok("add-data", "-l", ring, "-v", "7", "-d", "ro")
        full = json.loads(self.ok("export", "-l", ring))
        self.assertEqual(full["pnodeToVnodeMap"]["tcp://a:1"], {})
        # fash's serialize (leveldb.js): for v in 0..N-1, map[pnode(v)][v] =
        # data, the pnode added at its first vnode; JSON.stringify, no spaces.
        owner = {int(v): (p, d) for p, vs in full["pnodeToVnodeMap"].items() for v, d in vs.items()}
        pmap = {}
        for v in range(12):
            p, d = owner[v]
            pmap.setdefault(p, {})[str(v)] = d
        want = json.dumps({"vnodes": 12, "pnodeToVnodeMap": pmap, "algorithm": full["algorithm"],
                           "version": full["version"]}, separators=(",", ":")) + "\n"
        self.assertEqual(list(pmap), ["tcp://b:1", "tcp://z:1", "tcp://c:1"])
        fash = self.ok("export", "-l", ring, "--fash")
        self.assertEqual(fash, want)
        self.assertEqual(self.ok("print-hash", "-l", ring, "-b", "leveldb"), want)
        # What fash can load gives the same routing back, without the empty pnode.
        copy = self.path("copy")
        self.ok("import", "-l", copy, "-", stdin=fash.encode())
        self.assertEqual(self.ok("get-pnodes", "-l", copy).split(), ["tcp://b:1", "tcp://c:1", "tcp://z:1"])
        self.assertEqual(self.ok("export", "-l", copy, "--fash"), fash)
        # The default form keeps the empty pnode through import.
        again = self.path("again")
        self.ok("import", "-l", again, "-", stdin=self.ok("export", "-l", ring).encode())
        self.assertEqual(self.ok("get-vnodes", "-l", again, "tcp://a:1"), "")
        self.assertEqual(self.ok("export", "-l", again), self.ok("export", "-l", ring))

    def test_export_format(self):
        ring = self.create("r", 4, ["tcp://b:1", "tcp://a:1"], "sha1")
        self.ok("add-data", "-l", ring, "-v", "2", "-d", "ro")
        self.assertEqual(self.ok("export", "-l", ring),
                         '{"vnodes":4,"pnodeToVnodeMap":{"tcp://a:1":{"0":1,"2":"ro"},"tcp://b:1":{"1":1,"3":1}},'
                         '"algorithm":{"NAME":"sha1","MAX":"%s","VNODE_HASH_INTERVAL":"%s"},"version":"2.1.0"}\n'
                         % (max_hex("sha1"), interval_hex("sha1", 4)))

    def hand_written(self, interval=None, pnodes=None):
        n = 6
        return json.dumps({
            "vnodes": n,
            "pnodeToVnodeMap": pnodes if pnodes is not None else {
                "tcp://10.0.0.2:2020": {"0": 1, "2": "ro", "4": 1},
                "tcp://10.0.0.1:2020": {"1": 1, "3": 1, "5": 1},
                "tcp://10.0.0.3:2020": {},
            },
            "algorithm": {"NAME": "sha256", "MAX": max_hex("sha256"),
                          "VNODE_HASH_INTERVAL": interval or interval_hex("sha256", n)},
            "version": "2.1.0",
        }, indent=2).encode()

    def test_hand_written_fash_json_with_empty_pnode(self):
        ring = self.path("r")
        self.ok("import", "-l", ring, "-", stdin=self.hand_written())
        self.assertEqual(self.ok("get-pnodes", "-l", ring).split(),
                         ["tcp://10.0.0.1:2020", "tcp://10.0.0.2:2020", "tcp://10.0.0.3:2020"])
        self.assertEqual(self.ok("get-vnodes", "-l", ring, "tcp://10.0.0.3:2020"), "")
        self.assertEqual(self.ok("get-data-vnodes", "-l", ring), "2 pnode=tcp://10.0.0.2:2020 data=ro\n")
        for key in [b"alpha", b"beta", b"gamma", b"delta"]:
            v = expected_vnode("sha256", 6, key)
            p = "tcp://10.0.0.%d:2020" % (2 if v % 2 == 0 else 1)
            self.assertEqual(self.ok("get-node", "-l", ring, key.decode()),
                             "%s vnode=%d pnode=%s data=%s\n" % (key.decode(), v, p, "ro" if v == 2 else "null"))
        self.assertIn("ok %s: sha256, 6 vnodes, 3 pnodes, 1 with data, generation 1" % ring,
                      self.ok("verify", "-l", ring))

    def test_import_refusals_create_nothing(self):
        d = self.path("new")
        bad_map = {"tcp://a:1": {"0": 1, "1": 1, "2": 1, "3": 1, "4": 1}}
        cases = [
            (b"", "ring JSON: not a JSON object"),
            (b"[1,2]", "ring JSON: not a JSON object"),
            (b'{"vnodes":6', "ring JSON: malformed"),
            (self.hand_written(interval="abc"), "VNODE_HASH_INTERVAL abc disagrees with MAX / vnodes = %s"
             % interval_hex("sha256", 6)),
            (self.hand_written(pnodes=bad_map), "ring JSON: vnode 5 belongs to no pnode"),
            (self.hand_written(pnodes={"tcp://a:1": {"0": 1, "1": 1, "2": 1, "3": 1, "4": 1, "9": 1}}),
             "ring JSON: vnode '9' is not in range"),
            (self.hand_written(pnodes={"tcp://a:1": {"0": 1, "1": 1, "2": 1}, "tcp://b:1": {"2": 1, "3": 1,
                                                                                        "4": 1, "5": 1}}),
             "ring JSON: vnode 2 belongs to two pnodes"),
            (self.hand_written(pnodes={"moray-1": {str(v): 1 for v in range(6)}}), "pnode 'moray-1' " + ADDR_ERROR),
            (self.hand_written().replace(b'"sha256"', b'"crc"'), "ring JSON: unknown hash algorithm 'crc'"),
        ]
        for data, needle in cases:
            with self.subTest(needle=needle):
                self.fails(1, needle, "import", "-l", d, "-", stdin=data)
                self.assertFalse(os.path.exists(d))
        self.fails(1, "cannot open %s: No such file or directory" % self.path("missing.json"),
                   "import", "-l", d, self.path("missing.json"))
        self.assertFalse(os.path.exists(d))

    def test_import_refuses_existing_ring(self):
        ring = self.create("r", 10, P3)
        before = self.snapshot(ring)
        self.fails(1, "already holds a ring", "import", "-l", ring, "-", stdin=self.hand_written())
        self.assertEqual(self.snapshot(ring), before)
        self.fails(2, "missing argument: expected 1, got 0", "import", "-l", ring)


class TestVerifyAndCorruption(RingToolCase):
    def corrupt(self, puts=(), deletes=()):
        ring = self.create("r", 6, ["tcp://a:1", "tcp://b:1"], "sha256")
        self.ok("add-data", "-l", ring, "-v", "4", "-d", "ro")
        self.ok("verify", "-l", ring)  # leaves an empty log to append to
        leveldb_append(ring, puts, deletes)
        return ring

    def test_corruptions_named(self):
        interval = interval_hex("sha256", 6)
        cases = [
            ({"deletes": [b"COMPLETE"]}, "ring image is incomplete: COMPLETE is missing"),
            ({"deletes": [b"VNODE_COUNT"]}, "ring image has no VNODE_COUNT"),
            ({"puts": [(b"VNODE_COUNT", b"six")]}, "value of VNODE_COUNT is not a non-negative integer"),
            ({"puts": [(b"VNODE_COUNT", b"7")]}, "VNODE_HASH_INTERVAL %s disagrees with MAX / VNODE_COUNT"
             % interval),
            ({"puts": [(b"ALGORITHM", ('{"NAME":"whirl","MAX":"FF","VNODE_HASH_INTERVAL":"%s"}'
                                       % interval).encode())]}, "unknown hash algorithm 'whirl'"),
            ({"deletes": [b"/VNODE/3"]}, "vnode 3 has no pnode (/VNODE/3 is missing)"),
            ({"puts": [(b"/VNODE/3", b'"tcp://z:1"')]}, "/VNODE/3 names a pnode that is not in /PNODE"),
            ({"puts": [(b"/PNODE/tcp://a:1", b"[0,2]")]}, "/PNODE/tcp://a:1 list disagrees with /VNODE/4"),
            ({"puts": [(b"VNODE_DATA", b"[]")]}, "VNODE_DATA disagrees with the data keys: vnode 4"),
            ({"puts": [(b"/PNODE/tcp://a:1/4", b"ro")]}, "value of /PNODE/tcp://a:1/4 is not 1 or a JSON string"),
        ]
        for kw, needle in cases:
            with self.subTest(needle=needle):
                ring = self.corrupt(**kw)
                self.fails(1, needle, "verify", "-l", ring)
                self.fails(1, needle, "get-pnodes", "-l", ring)
                # A write verb refuses the damaged image and leaves it as it was.
                self.fails(1, needle, "add-data", "-l", ring, "-v", "0", "-d", "ro")
                self.fails(1, needle, "verify", "-l", ring)
                shutil.rmtree(ring)

    def test_missing_current(self):
        ring = self.create("r", 6, ["tcp://a:1"])
        os.unlink(os.path.join(ring, "CURRENT"))
        self.fails(1, "no ring image at %s: it has no LevelDB CURRENT file" % ring, "verify", "-l", ring)
        self.fails(1, "no ring image at %s: it has no LevelDB CURRENT file" % ring, "remap-vnodes", "-l", ring,
                   "-v", "0", "-p", "tcp://b:1")
        self.assertNotIn("CURRENT", os.listdir(ring))

    def test_pnode_that_is_not_an_address(self):
        ring = self.create("r", 2, ["tcp://a:1"])
        self.ok("verify", "-l", ring)
        leveldb_append(ring, puts=[(b"/PNODE", b'["moray-1"]'), (b"/PNODE/moray-1", b"[0,1]"),
                                   (b"/PNODE/moray-1/0", b"1"), (b"/PNODE/moray-1/1", b"1"),
                                   (b"/VNODE/0", b'"moray-1"'), (b"/VNODE/1", b'"moray-1"')],
                       deletes=[b"/PNODE/tcp://a:1", b"/PNODE/tcp://a:1/0", b"/PNODE/tcp://a:1/1"])
        self.fails(1, "pnode 'moray-1' " + ADDR_ERROR, "verify", "-l", ring)
        # The ring itself is consistent: queries work and a rename fixes it.
        self.assertEqual(self.ok("get-pnodes", "-l", ring), "moray-1\n")
        self.ok("rename-pnode", "-l", ring, "moray-1", "tcp://127.0.0.1:7001")
        self.assertIn("ok ", self.ok("verify", "-l", ring))

    def test_verify_output(self):
        ring = self.create("r", 6, ["tcp://a:1"], "md5")
        self.assertEqual(self.ok("verify", "-l", ring),
                         "ok %s: md5, 6 vnodes, 1 pnodes, 0 with data, generation 1\n" % ring)


class TestLocked(RingToolCase):
    def test_every_verb_fails_at_once(self):
        ring = self.create("r", 6, ["tcp://a:1", "tcp://b:1"])
        other = self.create("o", 6, ["tcp://a:1", "tcp://b:1"])
        before = self.snapshot(ring)
        # LevelDB locks DIR/LOCK with fcntl(F_SETLK, F_WRLCK), as lockf does.
        fd = os.open(os.path.join(ring, "LOCK"), os.O_RDWR)
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            cases = [
                ["get-node", "-l", ring, "k"], ["get-vnode-pnode-and-data", "-l", ring, "-v", "1"],
                ["get-pnodes", "-l", ring], ["get-vnodes", "-l", ring, "tcp://a:1"],
                ["get-data-vnodes", "-l", ring], ["print-hash", "-l", ring], ["verify", "-l", ring],
                ["export", "-l", ring], ["remap-vnodes", "-l", ring, "-v", "1", "-p", "tcp://c:1"],
                ["add-data", "-l", ring, "-v", "1", "-d", "ro"], ["remove-pnode", "-l", ring, "-p", "tcp://a:1"],
                ["rename-pnode", "-l", ring, "tcp://a:1", "tcp://c:1"],
                ["create", "-l", ring, "-v", "3", "-p", "tcp://c:1"],
            ]
            for args in cases:
                with self.subTest(verb=args[0]):
                    self.fails(1, "ring image %s is locked by another process" % ring, *args)
            self.fails(2, "locked by another process", "diff", "-l", other, ring)
            self.fails(1, "locked by another process", "import", "-l", ring, "-",
                       stdin=self.ok("export", "-l", other).encode())
        finally:
            os.close(fd)
        self.assertEqual(self.snapshot(ring), before)


# Every fash command line of RFD 103 (rfd/0103/README.md, joyent/rfd) and
# electric-moray's setup check (boot/setup.sh), as typed there. Only the
# ring directories are moved under the test's temporary directory.
RFD103 = [
    """manta-oneach -s electric-moray "fash get-vnode-pnode-and-data -v '$VNODES' -l /electric-moray/chash/leveldb-2021/\"""",
    """manta-oneach -s electric-moray "fash add-data -v '$VNODES' -l /electric-moray/chash/leveldb-2021/ -b leveldb -d 'ro'\"""",
    """manta-oneach -s electric-moray "fash get-data-vnodes -l /electric-moray/chash/leveldb-2021\"""",
    """fash get-pnodes -l /var/tmp/hash_ring -b leveldb""",
    """fash remap-vnode -v "$VNODES_FOR_REMAP" -l /var/tmp/hash_ring -b leveldb -p 'tcp://3.moray.emy-11.joyent.us:2020'""",
    """$FASH get_node -l $dir -b leveldb yunong""",
]
MORAY = ["tcp://1.moray.emy-11.joyent.us:2020", "tcp://2.moray.emy-11.joyent.us:2020"]


class TestFashCommandLines(RingToolCase):
    """fash's flags, verb names and outputs, and RFD 103's command lines."""

    def shell(self, line, env):
        """Runs one command line in bash, fash (and $FASH) being ring-tool and
        manta-oneach running its command here; returns (status, out, err)."""
        prelude = ('fash() { "$RING_TOOL" "$@"; }; export -f fash; '
                   'manta-oneach() { shift 2; bash -c "$1"; }; ')
        line = line.replace("/electric-moray/", self.tmp + "/electric-moray/")
        line = line.replace("/var/tmp/hash_ring", self.tmp + "/var/tmp/hash_ring")
        p = subprocess.run(["bash", "-c", prelude + line], capture_output=True, timeout=TIMEOUT,
                           env=dict(os.environ, RING_TOOL=RING_TOOL, FASH=RING_TOOL, **env))
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def test_rfd103_command_lines_verbatim(self):
        em = self.path("electric-moray/chash/leveldb-2021")
        os.makedirs(os.path.dirname(em))
        self.ok("create", "-l", em, "-v", "1024", "-p", ",".join(MORAY), "--fash-compatible")
        os.makedirs(self.path("var/tmp"))
        pristine = self.path("var/tmp/hash_ring")
        self.ok("create", "-l", pristine, "-v", "1024", "-p", ",".join(MORAY), "--fash-compatible")
        env = {"VNODES": "0, 106, 943, 689", "VNODES_FOR_REMAP": "0, 106, 943, 689", "dir": em}
        yunong = expected_vnode("sha256", 1024, b"yunong")
        want = [
            "".join("%d pnode=%s data=null\n" % (v, MORAY[v % 2]) for v in (0, 106, 689, 943)),
            "set the data of 4 vnodes to ro\ngeneration 2\n",
            "".join("%d pnode=%s data=ro\n" % (v, MORAY[v % 2]) for v in (0, 106, 689, 943)),
            "".join(p + "\n" for p in MORAY),
            "remapped 4 vnodes to tcp://3.moray.emy-11.joyent.us:2020\ngeneration 2\n",
            "yunong vnode=%d pnode=%s data=null\n" % (yunong, MORAY[yunong % 2]),
        ]
        transcript = []
        for line, out in zip(RFD103, want):
            with self.subTest(line=line):
                got = self.shell(line, env)
                self.assertEqual(got, (0, out, ""))
                transcript.append("$ %s\n%s" % (line, got[1]))
        self.assertEqual(self.ok("get-vnodes", "-l", pristine, "tcp://3.moray.emy-11.joyent.us:2020").split(),
                         ["0", "106", "689", "943"])
        path = os.environ.get("RFD103_TRANSCRIPT")
        if path:
            with open(path, "w", encoding="utf-8") as f:
                f.write("\n".join(transcript))

    def test_backend_flag_on_every_verb(self):
        ring = self.create("r", 8, ["tcp://a:1", "tcp://b:1"], "sha256")
        before = self.snapshot(ring)
        for verb in VERBS:
            with self.subTest(verb=verb):
                for flag in (["-b", "memory"], ["--backend", "memory"], ["--backend=redis"]):
                    self.fails(2, "back-end '%s' is not supported: ring-tool reads and writes LevelDB rings "
                               "only (-b leveldb)" % (flag[-1].split("=")[-1]), verb, "-l", ring, *flag)
        self.assertEqual(self.snapshot(ring), before)
        self.assertEqual(self.ok("get-pnodes", "-l", ring, "-b", "leveldb"), "tcp://a:1\ntcp://b:1\n")
        self.assertEqual(self.ok("get-vnodes", "--backend", "leveldb", "-l", ring, "tcp://b:1"), "1\n3\n5\n7\n")
        self.assertEqual(self.ok("verify", "-l", ring, "-b", "leveldb").split()[0], "ok")
        self.assertEqual(run("diff", "-b", "leveldb", "-b", "leveldb", "-l", ring, ring), (0, "", ""))

    def test_fash_verb_names(self):
        ring = self.create("r", 8, ["tcp://a:1", "tcp://b:1"], "sha256")
        self.assert_write(self.ok("remap-vnode", "-l", ring, "-b", "leveldb", "-v", "0 2", "-p", "tcp://c:1"), 2)
        self.assert_write(self.ok("remap_vnode", "-l", ring, "-v", "4", "-p", "tcp://c:1"), 3)
        self.assertEqual(self.ok("get-vnodes", "-l", ring, "tcp://c:1"), "0\n2\n4\n")
        self.assertEqual(self.ok("get_vnodes", "-l", ring, "tcp://c:1"), "0\n2\n4\n")
        self.assertEqual(self.ok("get_node", "-l", ring, "-b", "leveldb", "k"), self.ok("get-node", "-l", ring, "k"))
        fash_json = self.ok("export", "-l", ring, "--fash")
        # print-hash with fash's -b is fash's print-hash: the serialized ring.
        self.assertEqual(self.ok("print-hash", "-l", ring, "-b", "leveldb"), fash_json)
        self.assertEqual(self.ok("print-hash", "-l", ring, "--fash"), fash_json)
        self.assertTrue(self.ok("print-hash", "-l", ring).startswith("ring        "))
        # deserialize-ring: -f FILE, or stdin without it.
        path = self.path("ring.json")
        with open(path, "w", encoding="utf-8") as f:
            f.write(fash_json)
        for name, args, stdin in [("a", ["-f", path], None), ("b", [], fash_json.encode()),
                                  ("c", ["--file", path], None)]:
            with self.subTest(args=args):
                self.ok("deserialize-ring", "-l", self.path(name), *args, stdin=stdin)
                self.assertEqual(self.ok("export", "-l", self.path(name), "--fash"), fash_json)
        self.ok("import", "-l", self.path("d"), "-f", path)
        self.assertEqual(self.ok("export", "-l", self.path("d"), "--fash"), fash_json)
        self.fails(2, "missing argument: expected 1, got 0", "import", "-l", self.path("e"))
        self.fails(2, "give FILE or -f FILE, not both", "import", "-l", self.path("e"), "-f", path, path)
        self.assertFalse(os.path.exists(self.path("e")))

    def test_fash_outputs(self):
        ring = self.create("r", 6, ["tcp://a:1", "tcp://b:1"], "sha256")
        # fash add-data prints {"V":"DATA"} per vnode; no -d clears (fash's "1").
        self.assertEqual(self.ok("add-data", "-l", ring, "-b", "leveldb", "-v", "1, 2", "-d", "ro", "--fash"),
                         '{"1":"ro"}\n{"2":"ro"}\nset the data of 2 vnodes to ro\ngeneration 2\n')
        self.assertEqual(self.ok("get-data-vnodes", "-l", ring, "--fash"), "[1,2]\n")
        self.assertEqual(self.ok("get-data-vnodes", "-l", ring, "-v", "--fash"),
                         '[1,2]\n{"1":{"pnode":"tcp://b:1","vnodeData":"ro"},'
                         '"2":{"pnode":"tcp://a:1","vnodeData":"ro"}}\n')
        self.assertEqual(self.ok("get-data-vnodes", "-v", "-l", ring), self.ok("get-data-vnodes", "-l", ring))
        self.assertEqual(self.ok("get-vnode-pnode-and-data", "-l", ring, "-v", "0 1", "--fash"),
                         '{"0":{"pnode":"tcp://a:1","vnodeData":1},"1":{"pnode":"tcp://b:1","vnodeData":"ro"}}\n')
        self.assertEqual(self.ok("get-pnodes", "-l", ring, "--fash"), '["tcp://a:1","tcp://b:1"]\n')
        self.assertEqual(self.ok("get-vnodes", "-l", ring, "tcp://b:1", "--fash"), "[1,3,5]\n")
        v = expected_vnode("sha256", 6, b"yunong")
        self.assertEqual(self.ok("get-node", "-l", ring, "--fash", "yunong"),
                         '{"pnode":"tcp://%s:1","vnode":%d,"data":%s}\n'
                         % ("ab"[v % 2], v, '"ro"' if v in (1, 2) else "1"))
        self.assertEqual(self.ok("add-data", "-l", ring, "-v", "1", "--fash"),
                         '{"1":"1"}\ncleared the data of 1 vnode\ngeneration 3\n')
        # -o prints the stored ring as fash's JSON first, as fash's -o does.
        out = self.ok("add-data", "-l", ring, "-v", "2", "-o")
        self.assertEqual(out, self.ok("export", "-l", ring, "--fash") + "cleared the data of 1 vnode\ngeneration 4\n")

    def test_fash_create_command_line(self):
        # electric-moray's tests make rings with fash create so (lib/ring.js
        # tests: create -v N -l DIR -p PNODES -b leveldb -a ALGO); fash splits
        # -p on commas and spaces, and defaults to sha256.
        for name, extra, algo in [("a", ["-a", "md5"], "md5"), ("b", [], "sha256")]:
            with self.subTest(extra=extra):
                ring = self.path(name)
                self.ok("create", "-v", "6", "-l", ring, "-p", "tcp://b:1 tcp://a:1,  tcp://c:1", "-b", "leveldb",
                        *extra)
                self.assertEqual(self.ok("get-pnodes", "-l", ring).split(), ["tcp://a:1", "tcp://b:1", "tcp://c:1"])
                self.assertEqual(json.loads(self.ok("export", "-l", ring))["algorithm"]["NAME"], algo)
        self.assertIn("algorithm   xxh3" + XXH3_NOTE, self.ok("print-hash", "-l", self.create("c", 6, ["tcp://a:1"])))

    def test_fash_diff(self):
        a = self.create("a", 8, ["tcp://a:1", "tcp://b:1", "tcp://e:1"], "sha256")
        self.ok("remap-vnodes", "-l", a, "-v", "2,5", "-p", "tcp://a:1")   # e owns none
        b = self.create("b", 8, ["tcp://a:1", "tcp://b:1"], "sha256")
        self.assertEqual(run("diff", "-b", "leveldb", b, b), (0, "", ""))
        self.ok("remap-vnodes", "-l", b, "-v", "1,2", "-p", "tcp://c:1")
        self.ok("remap-vnodes", "-l", b, "-v", "0", "-p", "tcp://b:1")

        def vnodes(ring):
            return {p: set(int(v) for v in self.ok("get-vnodes", "-l", ring, p).split())
                    for p in self.ok("get-pnodes", "-l", ring).split()}

        # fash diff (bin/fash.js): per pnode, removed = A's not in B and
        # added = B's not in A, each only if non-empty; a pnode of one ring
        # only gets all of its vnodes, even none.
        va, vb = vnodes(a), vnodes(b)
        want = {}
        for p in list(va) + [p for p in vb if p not in va]:
            if p not in vb:
                want[p] = {"removed": sorted(va[p])}
            elif p not in va:
                want[p] = {"added": sorted(vb[p])}
            else:
                d = {k: sorted(x) for k, x in (("removed", va[p] - vb[p]), ("added", vb[p] - va[p])) if x}
                if d:
                    want[p] = d
        self.assertEqual(want["tcp://e:1"], {"removed": []})
        out = self.ok("diff", "-b", "leveldb", a, b)
        self.assertEqual(out, json.dumps(want, separators=(",", ":")) + "\n")
        self.assertEqual(self.ok("diff", "-l", a, b, "--fash"), out)
        self.assertEqual(run("diff", "-l", a, b)[0], 1)   # ours keeps diff(1)'s status
        self.fails(2, "unexpected argument", "diff", "-b", "leveldb", a, b, a)
        self.fails(2, "needs two rings", "diff", "-b", "leveldb", a)

    def test_fash_compatible_and_xxh3_warnings(self):
        ring = self.path("r")
        self.ok("create", "-l", ring, "-v", "10", "-p", "tcp://a:1", "--fash-compatible")
        self.assertEqual(json.loads(self.ok("export", "-l", ring))["algorithm"]["NAME"], "sha256")
        self.ok("create", "-l", self.path("s"), "-v", "10", "-p", "tcp://a:1", "--fash-compatible", "-a", "sha256")
        self.fails(2, "--fash-compatible means -a sha256, not -a xxh3", "create", "-l", self.path("t"), "-v", "10",
                   "-p", "tcp://a:1", "--fash-compatible", "-a", "xxh3")
        self.assertFalse(os.path.exists(self.path("t")))
        helptext = self.ok("create", "--help")
        self.assertIn("cannot read\n                       an xxh3 ring", helptext)
        self.assertIn("--fash-compatible", helptext)
        x = self.create("x", 10, ["tcp://a:1"])
        self.assertIn("algorithm   xxh3" + XXH3_NOTE, self.ok("print-hash", "-l", x))
        self.assertIn("algorithm   sha256\n", self.ok("print-hash", "-l", ring))

    def test_bad_addresses_are_usage_errors(self):
        ring = self.create("r", 6, ["tcp://a:1"])
        before = self.snapshot(ring)
        cases = [("tcp://a b:1", "the host has ' ', which a host name cannot have"),
                 ("tcp://a;b:1", "the host has ';'"),
                 ("tcp://a:b", "the port is not a number from 1 to 65535"),
                 ("tcp://a:99999", "the port is not a number from 1 to 65535")]
        for addr, why in cases:
            with self.subTest(addr=addr):
                # create splits its list on spaces too, as fash does: 'tcp://a' fails.
                self.fails(2, "pnode 'tcp://a' %s: no :PORT" % ADDR_ERROR if " " in addr else
                           "pnode '%s' %s: %s" % (addr, ADDR_ERROR, why), "create", "-l", self.path("n"),
                           "-v", "3", "-p", "tcp://ok:1," + addr)
                self.fails(2, why, "remap-vnodes", "-l", ring, "-v", "0", "-p", addr)
                self.fails(2, why, "rename-pnode", "-l", ring, "tcp://a:1", addr)
        self.assertFalse(os.path.exists(self.path("n")))
        self.assertEqual(self.snapshot(ring), before)

    def test_version(self):
        out = self.ok("--version")
        self.assertRegex(out, r"^ring-tool \(ringproxy\) \d+\.\d+\.\d+, ring layout 2\.1\.0\n$")


class TestCommandLine(RingToolCase):
    def test_help_lists_every_verb(self):
        for args in (["--help"], ["-h"], ["help"]):
            out = self.ok(*args)
            self.assertTrue(out.startswith("Usage: ring-tool VERB -l DIR"))
            listed = [line.split()[0] for line in out.splitlines() if line.startswith("  ")]
            self.assertEqual(listed, VERBS)

    def test_verb_help(self):
        for verb in VERBS:
            with self.subTest(verb=verb):
                out = self.ok(verb, "--help")
                self.assertTrue(out.startswith("Usage: ring-tool %s " % verb), out)
                self.assertIn("Example", out)
                self.assertIn("ring-tool %s -l" % verb, out.split("Example")[1])
                self.assertIn("Exit status", out)
                self.assertEqual(self.ok("help", verb), out)
                self.assertEqual(self.ok(verb, "-l", "x", "-h"), out)

    def test_usage_errors_exit_2(self):
        rc, out, err = run()
        self.assertEqual((rc, out, err), (2, "", "ring-tool: no verb given (see 'ring-tool --help')\n"))
        self.fails(2, "ring-tool: unknown verb 'frobnicate' (see 'ring-tool --help')", "frobnicate", "-l", "x")
        self.fails(2, "ring-tool: help: unknown verb 'nope'", "help", "nope")
        self.fails(2, "option '-l' needs an argument", "get-pnodes", "-l")
        self.fails(2, "option '--location' needs an argument", "get-pnodes", "--location")
        self.fails(2, "unknown option '--bogus'", "get-pnodes", "--bogus")
        self.fails(2, "option --json does not apply to get-pnodes", "get-pnodes", "-l", "x", "--json")
        self.fails(2, "option -a does not apply to remap-vnodes", "remap-vnodes", "-l", "x", "-v", "1", "-p",
                   "tcp://a:1", "-a", "md5")
        self.fails(2, "unexpected argument 'extra'", "get-pnodes", "-l", "x", "extra")
        self.fails(2, "unexpected argument 'b'", "get-vnodes", "-l", "x", "a", "b")
        self.fails(2, "missing argument: expected 1, got 0", "get-vnodes", "-l", "x")
        self.fails(2, "-l given more than once", "export", "-l", "x", "-l", "y")
        self.fails(2, "missing -v N", "create", "-l", "x", "-p", "tcp://a:1")
        self.fails(2, "missing -p PNODES", "create", "-l", "x", "-v", "3")
        self.fails(2, "(see 'ring-tool create --help')", "create", "-l", self.path("x"))
        self.assertFalse(os.path.exists(self.path("x")))

    def test_long_option_names(self):
        ring = self.path("r")
        self.ok("create", "--location", ring, "--vnodes", "4", "--pnodes", "tcp://a:1", "--algorithm", "sha1")
        self.ok("add-data", "--location=" + ring, "--vnode", "1", "--data", "ro")
        self.ok("remap-vnodes", "--location", ring, "--vnodes", "2", "--pnode", "tcp://b:1")
        self.assertEqual(self.ok("get-data-vnodes", "-l", ring), "1 pnode=tcp://a:1 data=ro\n")
        # Flags may follow positional arguments.
        self.assertEqual(self.ok("get-vnodes", "tcp://b:1", "-l", ring).split(), ["2"])

    def test_write_to_closed_stdout_fails_cleanly(self):
        ring = self.create("r", 6, ["tcp://a:1"])
        with open("/dev/full", "w") as full:
            p = subprocess.run([RING_TOOL, "export", "-l", ring], stdout=full, stderr=subprocess.PIPE,
                               timeout=TIMEOUT)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stderr.decode(), "ring-tool: export: writing to stdout: No space left on device\n")


class TestFixture(unittest.TestCase):
    """The real node-fash ring: read from a copy, never in place."""
    PNODES = ["tcp://172.20.1.30:2020", "tcp://172.20.1.31:2020"]

    @classmethod
    def setUpClass(cls):
        if not os.path.isdir(FIXTURE):
            raise AssertionError("fixture not found at %s" % FIXTURE)
        cls.tmp = tempfile.mkdtemp(prefix="test_ring_tool.fixture.")
        cls.ring = os.path.join(cls.tmp, "fash-ring-1m")
        shutil.copytree(FIXTURE, cls.ring)
        for root, dirs, files in os.walk(cls.ring):
            for name in dirs + files:
                os.chmod(os.path.join(root, name), 0o755 if name in dirs else 0o644)
        os.chmod(cls.ring, 0o755)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def ok(self, *args):
        rc, out, err = run(*args)
        self.assertEqual((rc, err), (0, ""))
        return out

    def test_verify_and_summary(self):
        self.assertEqual(self.ok("verify", "-l", self.ring),
                         "ok %s: sha256, 1000000 vnodes, 2 pnodes, 0 with data, generation 0\n" % self.ring)
        out = self.ok("print-hash", "-l", self.ring)
        self.assertIn("interval    %s\n" % interval_hex("sha256", 1000000), out)
        self.assertIn("  %-40s %10u vnodes %7.3f%%\n" % (self.PNODES[0], 500000, 50.0), out)

    def test_pnodes_and_keys_match_hashlib(self):
        self.assertEqual(self.ok("get-pnodes", "-l", self.ring).splitlines(), self.PNODES)
        keys = [b"", b"a", b"b", b"manta/object/1", b"\xc3\xa9t\xc3\xa9"] + [b"key:%d" % i for i in range(100)]
        out = self.ok("get-node", "-l", self.ring, "--", *[k.decode() for k in keys]).splitlines()
        vnodes = []
        for key, line in zip(keys, out):
            v = expected_vnode("sha256", 1000000, key)
            # fash create assigned the fixture's vnodes round-robin.
            self.assertEqual(line, "%s vnode=%d pnode=%s data=null" % (key.decode(), v, self.PNODES[v % 2]))
            vnodes.append(v)
        table = self.ok("get-vnode-pnode-and-data", "-l", self.ring, "-v", ",".join(map(str, vnodes)))
        for line in table.splitlines():
            v, pnode, data = line.split()
            self.assertEqual((pnode, data), ("pnode=" + self.PNODES[int(v) % 2], "data=null"))

    def test_get_vnodes(self):
        out = self.ok("get-vnodes", "-l", self.ring, self.PNODES[1]).split()
        self.assertEqual(len(out), 500000)
        self.assertEqual(out[:3] + out[-1:], ["1", "3", "5", "999999"])

    def test_export_import_round_trip(self):
        first = self.ok("export", "-l", self.ring)
        copy = os.path.join(self.tmp, "imported")
        p = subprocess.run([RING_TOOL, "import", "-l", copy, "-"], input=first.encode(), capture_output=True,
                           timeout=TIMEOUT)
        self.assertEqual((p.returncode, p.stderr), (0, b""))
        self.assertEqual(self.ok("export", "-l", copy), first)
        self.assertEqual(run("diff", "-l", self.ring, copy), (0, "", ""))
        shutil.rmtree(copy)


if __name__ == "__main__":
    if not os.access(RING_TOOL, os.X_OK):
        sys.stderr.write("test_ring_tool: %s is not built\n" % RING_TOOL)
        sys.exit(1)
    unittest.main(verbosity=2)
