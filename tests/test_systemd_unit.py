"""The systemd unit that make install ships (etc/ringproxy.service, made
from etc/ringproxy.service.in): systemd-analyze verify accepts it with no
warning, and it keeps the settings a daemon's unit must have (reload by
SIGHUP, enough file descriptors, the hardening, the writable ring dir)."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

TOP_BUILDDIR = os.environ["top_builddir"]
UNIT = os.path.join(TOP_BUILDDIR, "etc", "ringproxy.service")
RINGPROXY = os.path.join(TOP_BUILDDIR, "src", "ringproxy")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL: " + what)


def parse(path):
    """Sections -> key -> list of values, as systemd reads them (repeated
    keys add up; '#' and ';' lines are comments)."""
    units, section = {}, None
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            m = re.fullmatch(r"\[([A-Za-z]+)\]", line)
            if m:
                section = units.setdefault(m.group(1), {})
                continue
            check(section is not None and "=" in line, "line %d is not KEY=VALUE in a section: %r" % (n, line))
            if section is not None and "=" in line:
                k, v = line.split("=", 1)
                section.setdefault(k.strip(), []).append(v.strip())
    return units


def main():
    u = parse(UNIT)
    svc = u.get("Service", {})
    want = {
        "Type": "simple", "User": "ringproxy", "ExecReload": "/bin/kill -HUP $MAINPID",
        "LimitNOFILE": "65536", "NoNewPrivileges": "yes", "ProtectSystem": "strict",
        "ProtectHome": "yes", "PrivateTmp": "yes", "ReadWritePaths": "/var/lib/ringproxy",
        "Restart": "on-failure",
    }
    for k, v in want.items():
        check(svc.get(k) == [v], "[Service] %s=%s (have %r)" % (k, v, svc.get(k)))
    start = svc.get("ExecStart", [""])
    check(len(start) == 1 and re.fullmatch(r"/\S+/ringproxy -c /\S+/ringproxy/ringproxy\.conf", start[0]),
          "ExecStart runs ringproxy with the installed config: %r" % start)
    check(u.get("Install", {}).get("WantedBy") == ["multi-user.target"], "[Install] WantedBy=multi-user.target")
    # The sample config's ring lives where the unit lets ringproxy write.
    with open(os.path.join(os.environ["top_srcdir"], "etc", "ringproxy.conf")) as f:
        ring = [l.split()[1] for l in f if l.startswith("ring ")]
    check(ring and ring[0].startswith("/var/lib/ringproxy/"), "etc/ringproxy.conf's ring is under /var/lib/ringproxy: %r" % ring)

    # verify checks that the programs exist: point them at this build.
    analyze = shutil.which("systemd-analyze")
    check(analyze is not None, "systemd-analyze is installed (tools/deps.sh test installs systemd)")
    if analyze is None:
        return
    tmp = tempfile.mkdtemp(prefix="test_systemd_unit.")
    try:
        binary = start[0].split()[0]
        with open(UNIT) as f:
            text = f.read().replace(binary, RINGPROXY)
        copy = os.path.join(tmp, "ringproxy.service")
        with open(copy, "w") as f:
            f.write(text)
        p = subprocess.run([analyze, "verify", "--man=no", copy], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        out = p.stdout.decode(errors="replace").strip()
        check(p.returncode == 0 and out == "", "systemd-analyze verify: rc %d: %s" % (p.returncode, out))
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
    print("%s: %s" % (os.path.basename(__file__), "FAIL" if failures else "ok"))
    sys.exit(1 if failures else 0)
