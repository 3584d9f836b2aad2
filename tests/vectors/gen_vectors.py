#!/usr/bin/python3
"""gen_vectors.py - the expected values of the ring tests, made without
ringproxy's code: hashlib (sha256, sha1, md5), python3-xxhash (XXH3 64-bit,
seed 0; cross-checked against `xxhsum -H3` from Debian's xxhash package when
it is installed) and Python's big integers for

    interval = MAX // N,  vnode = min(H // interval, N - 1)

where H is the digest read as one big-endian integer (ring-image.md).

Not run by `make check`: its output is pasted into the tests as fixed values
(the C tables it prints) or kept in files beside it (*_div.txt). Rerun it to
check them:

    apt-get install python3-xxhash xxhash
    /usr/bin/python3 tests/vectors/gen_vectors.py > /tmp/tables.c

It writes tests/vectors/{sha256,sha1,md5,xxh3}_div.txt and prints to stdout
the tables of tests/test_ring_hash.c and tests/test_ring_fixture.c.
"""
import hashlib
import os
import random
import shutil
import subprocess
import sys

import xxhash

ALGOS = ("xxh3", "sha256", "sha1", "md5")
BITS = {"xxh3": 64, "sha256": 256, "sha1": 160, "md5": 128}
CNAME = {"xxh3": "RING_HASH_XXH3", "sha256": "RING_HASH_SHA256",
         "sha1": "RING_HASH_SHA1", "md5": "RING_HASH_MD5"}
NS = (1, 2, 3, 1024, 1000000, 10000000)
# Keys that land on vnode 0 and on the last vnode are searched for these.
SEARCH_NS = (2, 3, 1024, 1000000, 10000000)
# Clamp edges: N that divide MAX (3 divides 2^64-1, 2^128-1, ...) and N that
# do not (7 does not divide 2^64-1; 999983 is prime).
EDGE_NS = (1, 2, 3, 7, 1000, 999983, 1000000, 10000000)
DIV_NS = (1000000, 999983, 7)
DIV_COUNT = {"sha256": 10000, "sha1": 1000, "md5": 1000, "xxh3": 1000}
FIXTURE_N = 1000000
FIXTURE_PNODES = sorted(["tcp://172.20.1.30:2020", "tcp://172.20.1.31:2020"])

KEYS = [
    b"",
    b"a",
    b"hello",
    b"user:1000",
    b"0123456789abcdef",
    b"\x00",
    b"a\x00b\x00\xff\xfe",
    "ключ/日本語/é".encode("utf-8"),
    bytes(range(256)),
]


def digest(algo, key):
    if algo == "xxh3":
        return xxhash.xxh3_64_intdigest(key, seed=0)
    return int.from_bytes(hashlib.new(algo, key).digest(), "big")


def maxval(algo):
    return (1 << BITS[algo]) - 1


def interval(algo, n):
    return maxval(algo) // n


def vnode_of(h, algo, n):
    return min(h // interval(algo, n), n - 1)


def vnode(algo, n, key):
    return vnode_of(digest(algo, key), algo, n)


def cross_check_xxhsum():
    """The xxh3 digests of the fixed keys, once more from the xxhsum tool."""
    if shutil.which("xxhsum") is None:
        print("gen_vectors: xxhsum not installed; xxh3 not cross-checked",
              file=sys.stderr)
        return
    for key in KEYS:
        out = subprocess.run(["xxhsum", "-H3"], input=key, check=True,
                             capture_output=True).stdout.decode()
        hexd = out.split("=")[1].strip() if "=" in out else out.split()[0]
        if int(hexd, 16) != digest("xxh3", key):
            sys.exit("gen_vectors: xxhsum and python3-xxhash disagree on %r" % key)


def c_bytes(b, all_bytes_macro=True):
    """A C string literal of b; octal escapes, which never run on. The key of
    all 256 byte values is the test's macro ALL_BYTES."""
    if all_bytes_macro and b == bytes(range(256)):
        return "ALL_BYTES"
    out = []
    for c in b:
        ch = chr(c)
        if c < 128 and (ch.isalnum() or ch in " :/-_."):
            out.append(ch)
        else:
            out.append("\\%03o" % c)
    return '"' + "".join(out) + '"'


_edges = {}


def search_edges(algo):
    """For each N: the first key "key:<i>" on vnode 0 and on vnode N-1."""
    if algo in _edges:
        return _edges[algo]
    want = {(n, t) for n in SEARCH_NS for t in (0, n - 1)}
    found = {}
    i = 0
    while want:
        key = b"key:%d" % i
        h = digest(algo, key)
        for n, t in list(want):
            if vnode_of(h, algo, n) == t:
                found[(n, t)] = key
                want.discard((n, t))
        i += 1
    _edges[algo] = found
    return found


def hash_table():
    rows = []
    for algo in ALGOS:
        for n in NS:
            for key in KEYS:
                rows.append((algo, n, key, vnode(algo, n, key)))
        edges = search_edges(algo)
        for (n, t), key in sorted(edges.items()):
            assert vnode(algo, n, key) == t
            rows.append((algo, n, key, t))
    print("/* gen_vectors.py: hash vectors */")
    print("#define ALL_BYTES %s" % c_bytes(bytes(range(256)), False))
    for algo, n, key, v in rows:
        print("    {%s, %u, %s, %u, %u}," % (CNAME[algo], n, c_bytes(key), len(key), v))


def edge_table():
    print("/* gen_vectors.py: clamp edges */")
    for algo in ALGOS:
        mx = maxval(algo)
        width = BITS[algo] // 4
        for n in EDGE_NS:
            iv = interval(algo, n)
            hs = [mx, n * iv, n * iv - 1, iv - 1, iv, 0, (n - 1) * iv]
            if n > 1:
                hs.append((n - 1) * iv - 1)
            seen = set()
            for h in hs:
                if h in seen:
                    continue
                seen.add(h)
                print('    {%s, %u, "%0*x", %u},' % (CNAME[algo], n, width, h, vnode_of(h, algo, n)))


def fash_hex(v):
    """Hex of whole bytes, as node-fash's bignum (BN_bn2hex) writes it."""
    h = "%x" % v
    return "0" + h if len(h) % 2 else h


def interval_table():
    print("/* gen_vectors.py: intervals */")
    for algo in ALGOS:
        for n in EDGE_NS:
            print('    {%s, %u, "%s"},' % (CNAME[algo], n, fash_hex(interval(algo, n))))


def div_file(algo, outdir, rng):
    """Random digests, a third of them next to a multiple of an interval,
    with floor(H / interval) clamped, for each N of DIV_NS."""
    mx = maxval(algo)
    width = BITS[algo] // 4
    path = os.path.join(outdir, "%s_div.txt" % algo)
    with open(path, "w") as f:
        f.write("# gen_vectors.py: %d %s digests H (hex), then\n" % (DIV_COUNT[algo], algo))
        f.write("# min(H // (MAX // N), N - 1) for N = %s\n" % " ".join(str(n) for n in DIV_NS))
        for i in range(DIV_COUNT[algo]):
            if i % 3 == 2:
                n = DIV_NS[(i // 3) % len(DIV_NS)]
                iv = interval(algo, n)
                q = rng.randrange(0, n + 1)
                h = q * iv + rng.choice((-2, -1, 0, 1, 2, iv // 2, iv - 1))
                h = min(max(h, 0), mx)
            else:
                h = rng.getrandbits(BITS[algo])
            f.write("%0*x %s\n" % (width, h, " ".join(str(vnode_of(h, algo, n)) for n in DIV_NS)))


def fixture_table():
    keys = [b"", b"a", b"hello", b"user:1000", b"0123456789abcdef",
            b"a\x00b\x00\xff\xfe", "ключ/日本語/é".encode("utf-8")]
    keys += [b"manta/%d" % i for i in range(10)]
    keys += [b"/%032x" % i for i in (1, 2)]
    edges = search_edges_fixture()
    keys += edges
    print("/* gen_vectors.py: fixture, sha256, N = %d, interval %x */" % (FIXTURE_N, interval("sha256", FIXTURE_N)))
    for key in keys:
        v = vnode("sha256", FIXTURE_N, key)
        print("    {%s, %u, %u, \"%s\"}," % (c_bytes(key), len(key), v, FIXTURE_PNODES[v % 2]))


def search_edges_fixture():
    found = search_edges("sha256")
    return [found[(FIXTURE_N, 0)], found[(FIXTURE_N, FIXTURE_N - 1)]]


def main():
    outdir = os.path.dirname(os.path.abspath(__file__))
    cross_check_xxhsum()
    rng = random.Random(20261124)
    for algo in ALGOS:
        div_file(algo, outdir, rng)
    hash_table()
    interval_table()
    edge_table()
    fixture_table()


if __name__ == "__main__":
    main()
