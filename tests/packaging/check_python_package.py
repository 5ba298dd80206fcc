#!/usr/bin/env python3
"""`pip install ./bindings/python`, checked, for `make check-python-package`:

    python3 tests/packaging/check_python_package.py --library LIB [--python PY]

Installs the package into a fresh venv in a temporary folder, then, from
another folder (so that the source tree is not on the path), runs
`python -m provision run` with that venv against a loopback server whose
first base URL is dead. With --python, uses that interpreter instead (the
one that python3-provision installed into) and no venv.
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

from common import ROOT, Report, run

sys.path.insert(0, str(ROOT / "tests" / "c"))
import loopback  # noqa: E402  (tests/c/loopback.py)

ANSWER = "<options><accounts><account>from-the-server</account></accounts><codecs/></options>\n"
LOCAL = "<options>\n  <audio>mine</audio>\n</options>\n"


def provision_conf(urls):
    base_urls = "".join(f"<base_url>{u}</base_url>" for u in urls)
    return (
        f"<provision><base_urls>{base_urls}</base_urls><options><use_authentication>0</use_authentication>"
        "</options><significant_sections>accounts,codecs</significant_sections></provision>"
    )


def check_cli(report, label, python, env, folder):
    """`python -m provision run` against loopback: fallback, the log, the merge,
    then a server's error and its exit status."""
    where = run([python, "-c", "import provision; print(provision.__file__)"], env=env, cwd=folder)
    report.check(f"{label}: imports the installed package: {where.stdout.strip()}",
                 where.returncode == 0 and not where.stdout.startswith(str(ROOT / "bindings")), where.stderr)
    routes = {
        "/configuration": loopback.Answer(ANSWER),
        "/op/configuration": loopback.Answer("<error>Unknown device</error>", 403),
    }
    with loopback.Server(routes) as server, loopback.DeadPort() as dead:
        conf, local = Path(folder, "provision.conf"), Path(folder, "Config.xml")
        conf.write_text(provision_conf([dead.url, server.url("/")]))
        local.write_text(LOCAL)
        result = run([python, "-m", "provision", "run", str(conf), "--local", str(local)], env=env, cwd=folder)
        log = result.stderr.splitlines()
        report.check(
            f"{label}: `python -m provision run` logs the dead URL, then the one that served",
            result.returncode == 0 and len(log) == 3 and log[0].startswith(f"failed {dead.url}configuration")
            and log[1].startswith(f"ok     {server.url('/')}configuration") and log[2].startswith(f"served by {server.url('/')}"),
            f"status {result.returncode}\n{result.stderr}",
        )
        report.check(f"{label}: prints the merged config",
                     "<audio>mine</audio>" in result.stdout and "from-the-server" in result.stdout, result.stdout)
        conf.write_text(provision_conf([server.url("/op/")]))
        result = run([python, "-m", "provision", "run", str(conf)], env=env, cwd=folder)
        report.check(
            f"{label}: a server's <error> exits 16 with its text",
            result.returncode == 16 and "the server says: Unknown device" in result.stderr,
            f"status {result.returncode}\n{result.stderr}",
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", help="PROVISION_LIBRARY for the installed package")
    parser.add_argument("--python", help="an interpreter that already has the package (no venv)")
    args = parser.parse_args()
    report = Report()
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if args.library:
        env["PROVISION_LIBRARY"] = args.library
    with tempfile.TemporaryDirectory(prefix="provision-pip-") as tmp:
        python = args.python
        if python is None:
            venv = os.path.join(tmp, "venv")
            made = run([sys.executable, "-m", "venv", venv])
            if not report.check("pip: a fresh venv", made.returncode == 0, made.stderr):
                return report.finish()
            python = os.path.join(venv, "bin", "python")
            pip = run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                       str(ROOT / "bindings" / "python")], env=env)
            report.check("pip: `pip install ./bindings/python` into the venv", pip.returncode == 0, pip.stdout + pip.stderr)
        label = "pip" if args.python is None else os.path.basename(python)
        os.mkdir(os.path.join(tmp, "elsewhere"))
        check_cli(report, label, python, env, os.path.join(tmp, "elsewhere"))
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
