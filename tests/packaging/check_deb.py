#!/usr/bin/env python3
"""The Debian packages, installed and used, for `make check-deb` (CI or root):

    python3 tests/packaging/check_deb.py DEB_DIR

Installs libprovision1, libprovision-dev and python3-provision from DEB_DIR
with apt, checks what they ship (the licence notice, no bundled CA roots,
no build paths, debug information in the -dbgsym package), runs the
autopkgtests of debian/tests/ against them (the C++ example built with the
system's pkg-config alone, Debian's `python3 -m provision run`), and checks
that python3-provision loads libprovision.so.1 by name, also with no
ld.so cache. Packages that were not installed before are removed again
afterwards.
"""

import glob
import os
import subprocess
import sys

from common import ROOT, Report, run

PACKAGES = ("libprovision1", "libprovision-dev", "python3-provision")
APT = ["apt-get", "-y", "-qq", "-o", "DPkg::Lock::Timeout=600"]


def installed(package):
    status = run(["dpkg-query", "-W", "-f=${Status}", package]).stdout
    return status.endswith("ok installed")


def autopkgtests():
    """The test names of debian/tests/control."""
    names = []
    for line in (ROOT / "debian" / "tests" / "control").read_text().splitlines():
        if line.startswith("Tests:"):
            names += line.split(":", 1)[1].replace(",", " ").split()
    return names


def check_contents(report, deb_dir):
    """What the installed library package ships, and its -dbgsym package."""
    multiarch = run(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"]).stdout.strip()
    library = glob.glob(f"/usr/lib/{multiarch}/libprovision.so.*.*")
    if not report.check(f"deb: the library is installed in /usr/lib/{multiarch}", len(library) == 1, str(library)):
        return
    bundled = run([sys.executable, str(ROOT / "tests" / "packaging" / "check_no_bundled_roots.py"), library[0]])
    report.check(f"deb: {bundled.stdout.strip()}", bundled.returncode == 0, bundled.stderr)
    text = run(["strings", "-a", library[0]]).stdout
    leaks = sorted({m for m in ("/.cargo/registry", "/root/", "/home/", "/build/deb", str(ROOT)) if m in text})
    report.check("deb: no builder's path (cargo home, build folder) in the library", not leaks, ", ".join(leaks))
    for doc in ("copyright", "THIRD-PARTY-NOTICES.txt"):  # dh_compress gzips the longer docs
        path = f"/usr/share/doc/libprovision1/{doc}"
        report.check(f"deb: libprovision1 ships {path}", os.path.isfile(path) or os.path.isfile(path + ".gz"))
    build_id = run(["readelf", "-n", library[0]]).stdout.split("Build ID:")[-1].split()[0]
    ddebs = glob.glob(os.path.join(deb_dir, "libprovision1-dbgsym_*.*deb"))
    listing = run(["dpkg-deb", "-c", ddebs[0]]).stdout if ddebs else ""
    report.check(f"deb: libprovision1-dbgsym holds the library's debug information (build id {build_id})",
                 f"/usr/lib/debug/.build-id/{build_id[:2]}/{build_id[2:]}.debug" in listing, str(ddebs))


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__)
    report = Report()
    debs = sorted(f for p in PACKAGES for f in glob.glob(os.path.join(argv[1], f"{p}_*.deb")))
    if not report.check(f"deb: the three packages are in {argv[1]}", len(debs) == len(PACKAGES), str(debs)):
        return report.finish()
    before = {p for p in PACKAGES if installed(p)}
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        result = run(APT + ["install", "--reinstall"] + [os.path.abspath(d) for d in debs], env=env)
        ok = report.check("deb: apt installs " + ", ".join(os.path.basename(d) for d in debs),
                          result.returncode == 0 and all(installed(p) for p in PACKAGES), result.stderr)
        if ok:
            check_contents(report, argv[1])
            for test in autopkgtests():
                result = run([str(ROOT / "debian" / "tests" / test)], cwd=ROOT,
                             env={k: v for k, v in env.items() if k not in ("LD_LIBRARY_PATH", "PKG_CONFIG_PATH")})
                print(result.stdout, end="")
                report.check(f"deb: autopkgtest {test}", result.returncode == 0, result.stderr.strip()[-2000:])
            system_env = {k: v for k, v in os.environ.items()
                          if k not in ("PKG_CONFIG_PATH", "LD_LIBRARY_PATH", "PROVISION_LIBRARY", "PYTHONPATH")}
            code = "import provision; print(provision.library_path)"
            found = run(["/usr/bin/python3", "-c", code], env=system_env, cwd="/")
            report.check("deb: python3-provision loads the library by name: " + found.stdout.strip(),
                         found.returncode == 0 and found.stdout.strip() == "libprovision.so.1", found.stderr)
            # By name means the loader's own search, which works without the
            # ld.so cache (a chroot or container where ldconfig never ran).
            if run(["unshare", "-m", "true"]).returncode == 0:
                hidden = run(["unshare", "-m", "sh", "-c", "mount --bind /dev/null /etc/ld.so.cache && "
                              f"/usr/bin/python3 -c '{code}'"], env=system_env, cwd="/")
                report.check("deb: python3-provision loads the library with no ld.so cache",
                             hidden.returncode == 0 and hidden.stdout.strip() == "libprovision.so.1", hidden.stderr)
    finally:
        added = [p for p in PACKAGES if p not in before and installed(p)]
        if added:
            run(APT + ["remove"] + added, env=env)
    return report.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
