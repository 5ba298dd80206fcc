#!/usr/bin/env python3
"""The Debian packages, installed and used, for `make check-deb` (CI or root):

    python3 tests/packaging/check_deb.py DEB_DIR

Installs libprovision1, libprovision-dev and python3-provision from DEB_DIR
with apt, then builds the C++ example with nothing but `pkg-config --cflags
--libs provision` (the system's, no extra paths) and runs it against a
loopback server, and runs Debian's `python3 -m provision run`, which finds
the library through ctypes.util.find_library. Packages that were not
installed before are removed again afterwards.
"""

import glob
import os
import subprocess
import sys

from check_python_package import check_cli
from common import Report, example_with_pkg_config, run

PACKAGES = ("libprovision1", "libprovision-dev", "python3-provision")
APT = ["apt-get", "-y", "-qq", "-o", "DPkg::Lock::Timeout=600"]


def installed(package):
    status = run(["dpkg-query", "-W", "-f=${Status}", package]).stdout
    return status.endswith("ok installed")


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
            multiarch = run(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"]).stdout.strip()
            system_env = {k: v for k, v in os.environ.items() if k not in ("PKG_CONFIG_PATH", "LD_LIBRARY_PATH")}
            example_with_pkg_config(report, "deb", system_env, f"/usr/lib/{multiarch}")
            found = run(["/usr/bin/python3", "-c", "import provision; print(provision.library_path)"],
                        env=system_env, cwd="/")
            report.check("deb: python3-provision finds the library with find_library: " + found.stdout.strip(),
                         found.returncode == 0 and found.stdout.strip() == "libprovision.so.1", found.stderr)
            with_tmp = run(["mktemp", "-d"]).stdout.strip()
            try:
                check_cli(report, "deb python3", "/usr/bin/python3", system_env, with_tmp)
            finally:
                subprocess.run(["rm", "-rf", with_tmp], check=False)
    finally:
        added = [p for p in PACKAGES if p not in before and installed(p)]
        if added:
            run(APT + ["remove"] + added, env=env)
    return report.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
