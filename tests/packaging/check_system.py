#!/usr/bin/env python3
"""The system's installed packages, used as their users do (the
autopkgtests of debian/tests/, also run by `make check-deb`):

    python3 tests/packaging/check_system.py cpp|python

cpp: the C++ example built with nothing but the system's `pkg-config
--cflags --libs provision` loads /usr/lib/MULTIARCH/libprovision.so.1 and
provisions from loopback. python: /usr/bin/python3 imports the installed
binding, not the source tree's, and `python3 -m provision run` provisions.
Neither LD_LIBRARY_PATH, PKG_CONFIG_PATH, PYTHONPATH nor PROVISION_LIBRARY
is passed on.
"""

import os
import subprocess
import sys
import tempfile

from check_python_package import check_cli
from common import Report, example_with_pkg_config, run

HIDDEN = ("LD_LIBRARY_PATH", "PKG_CONFIG_PATH", "PYTHONPATH", "PROVISION_LIBRARY")


def main(argv):
    if len(argv) != 2 or argv[1] not in ("cpp", "python"):
        sys.exit(__doc__)
    report = Report()
    env = {k: v for k, v in os.environ.items() if k not in HIDDEN}
    if argv[1] == "cpp":
        multiarch = run(["gcc", "-print-multiarch"]).stdout.strip()
        example_with_pkg_config(report, "system", env, f"/usr/lib/{multiarch}")
    else:
        with tempfile.TemporaryDirectory(prefix="provision-system-") as tmp:
            check_cli(report, "system python3", "/usr/bin/python3", env, tmp)
    return report.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
