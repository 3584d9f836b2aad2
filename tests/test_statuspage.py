"""GET / on the admin endpoint: the operator's page, loaded in headless
Chromium after its script ran, shows the figures /stats and /ring have.
The screenshot is kept in the build's tests/ directory."""

import json
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from proxytest import (START_TIMEOUT, TOP_BUILDDIR, Cluster, Proxy, RawClient,  # noqa: E402
                       check, eq, http, lazy, port_open, run, run_cmd, tmpdir, wait_until)

VNODES = 1024
RO = [4, 5]
SCREENSHOT = os.path.join(TOP_BUILDDIR, "tests", "test_statuspage.png")
# Only ever the proxy on 127.0.0.1: nothing that would reach out.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--disable-default-apps", "--no-default-browser-check",
                  "--disable-extensions", "--disable-translate", "--metrics-recording-only",
                  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                  "--virtual-time-budget=3000"]


def setup():
    cl = Cluster(n=3, vnodes=VNODES, threads=2, ro=RO)
    cl.aport = int(cl.proxy.admin.rsplit(":", 1)[1])
    wait_until(lambda: port_open(cl.aport), START_TIMEOUT, "the admin port")
    cl.url = "http://127.0.0.1:%d/" % cl.aport
    return cl


cluster = lazy(setup)


def chromium(*args):
    exe = shutil.which("chromium")
    check(exe is not None, "chromium is installed (Debian package chromium)")
    argv = [exe] + CHROMIUM_FLAGS + ["--user-data-dir=" + tmpdir("ringproxy-chromium-")]
    res = run_cmd(argv + list(args), timeout=90)
    res.stdout, res.stderr = res.stdout.decode(errors="replace"), res.stderr.decode(errors="replace")
    return res


def test_page_is_html_with_nothing_from_elsewhere():
    cl = cluster()
    status, body, headers = http(cl.aport, "/")
    eq(status, 200, "GET /")
    check(headers["Content-Type"].startswith("text/html"), "type %r" % headers["Content-Type"])
    check(re.search(r"(src|href)\s*=|https?://|@import", body) is None,
          "the page loads no external asset")


def test_page_shows_what_stats_has():
    cl = cluster()
    res = chromium("--dump-dom", cl.url)
    eq(res.returncode, 0, "chromium --dump-dom: %s" % res.stderr[-2000:])
    dom = res.stdout
    ring = json.loads(http(cl.aport, "/ring")[1])
    st = json.loads(http(cl.aport, "/stats")[1])

    def cell(i):
        m = re.search(r'id="%s">([^<]*)<' % re.escape(i), dom)
        check(m is not None, "element %s in the page" % i)
        return m.group(1)
    eq(cell("generation"), str(ring["generation"]), "generation shown")
    eq(cell("vnodes"), str(VNODES), "vnodes shown")
    eq(cell("algorithm"), ring["algorithm"], "hash shown")
    eq(cell("ro"), str(st["ro_vnodes"]), "ro vnodes shown")
    eq(cell("ro"), str(len(RO)), "ro vnodes")
    eq(cell("migrating"), "0", "migrating vnodes shown")
    check(cell("reshard").startswith("in progress"), "ro vnodes show as a reshard")
    eq(cell("err"), "", "no error on the page")
    for p in ring["pnodes"]:
        m = re.search(r'<tr id="pnode-%s">(.*?)</tr>' % re.escape(p["name"]), dom)
        check(m is not None, "row of %s" % p["name"])
        cells = re.findall(r"<td[^>]*>(?:<span[^>]*></span>)?([^<]*)</td>", m.group(1))
        eq(cells[0], p["name"], "pnode name shown")
        eq(cells[1], "up", "state of %s" % p["name"])
        eq(cells[2], str(p["vnodes"]), "vnodes of %s" % p["name"])
        eq(cells[3], "%.1f%%" % (100 * st["pnodes"][p["name"]]["vnodes_ratio"]),
           "vnode share of %s" % p["name"])


def test_page_needs_the_admin_token_as_stats_does():
    cl = cluster()
    p = Proxy(cl.ring, config={"admin-token": "s3cret"})
    port = int(p.admin.rsplit(":", 1)[1])
    wait_until(lambda: port_open(port), START_TIMEOUT, "the admin port")
    for path in ("/", "/stats"):
        eq(http(port, path)[0], 401, "GET %s without the token" % path)
        eq(http(port, path, auth="Bearer s3cret")[0], 200, "GET %s with the token" % path)
    eq(p.stop(), 0, "exit status")


def test_screenshot_is_kept():
    cl = cluster()
    if os.path.exists(SCREENSHOT):
        os.remove(SCREENSHOT)
    res = chromium("--screenshot=" + SCREENSHOT, "--window-size=1100,700", cl.url)
    eq(res.returncode, 0, "chromium --screenshot: %s" % res.stderr[-2000:])
    check(os.path.getsize(SCREENSHOT) > 10000, "a screenshot in %s" % SCREENSHOT)


def test_a_dead_pnode_shows_down():
    cl = cluster()
    dead = cl.servers[0]
    key = cl.pnode_keys("page:", 1)[dead.pnode][0]
    dead.stop()
    c = RawClient(cl.proxy.port)
    wait_until(lambda: c.call("GET", key) and
               json.loads(http(cl.aport, "/stats")[1])["pnodes"][dead.pnode]["up"] == 0,
               10, "%s to be down in /stats" % dead.pnode)
    c.close()
    res = chromium("--dump-dom", cl.url)
    eq(res.returncode, 0, "chromium --dump-dom: %s" % res.stderr[-2000:])
    for s in cl.servers:
        m = re.search(r'<tr id="pnode-%s"><td>[^<]*</td><td class="(\w+)">(\w+)</td>'
                      % re.escape(s.pnode), res.stdout)
        check(m is not None, "row of %s" % s.pnode)
        want = "down" if s is dead else "up"
        eq((m.group(1), m.group(2)), (want, want), "state of %s" % s.pnode)
    res = chromium("--screenshot=" + SCREENSHOT.replace(".png", "-down.png"),
                   "--window-size=1100,700", cl.url)
    eq(res.returncode, 0, "chromium --screenshot: %s" % res.stderr[-2000:])


def test_proxy_exits_cleanly():
    eq(cluster().proxy.stop(), 0, "ringproxy's exit status")


run(globals())
