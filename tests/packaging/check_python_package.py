#!/usr/bin/env python3
"""`pip install ./bindings/python`, checked as a user runs it, for `make
check-python-package`:

    python3 tests/packaging/check_python_package.py [--python PY] [--library LIB]

Makes a fresh venv in a temporary folder and, with no PROVISION_LIBRARY,
runs `pip install ./bindings/python` there (setup.py compiles the library
with cargo and bundles it; cargo's own CARGO_TARGET_DIR is honoured, and by
default the release build in target/ is reused). Then, from another folder
(so that the source tree is not on the path): `import provision` must load
the bundled copy, and both `python -m provision run` and the `provision`
console script must provision from a loopback server whose first base URL
is dead. `pip wheel` must give a platform wheel that carries the library and
py.typed. With --python, uses that interpreter instead (the one that
python3-provision installed into) and no venv; --library sets
PROVISION_LIBRARY for it.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import zipfile
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


def check_cli(report, label, python, env, folder, command=None):
    """`python -m provision run` (or `command run`) against loopback:
    fallback, the log, the merge, then a server's error and its exit status."""
    command = command or [python, "-m", "provision"]
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
        result = run(command + ["run", str(conf), "--local", str(local)], env=env, cwd=folder)
        log = result.stderr.splitlines()
        report.check(
            f"{label}: `{' '.join(os.path.basename(c) for c in command)} run` logs the dead URL, then the one that served",
            result.returncode == 0 and len(log) == 3 and log[0].startswith(f"failed {dead.url}configuration")
            and log[1].startswith(f"ok     {server.url('/')}configuration") and log[2].startswith(f"served by {server.url('/')}"),
            f"status {result.returncode}\n{result.stderr}",
        )
        report.check(f"{label}: prints the merged config",
                     "<audio>mine</audio>" in result.stdout and "from-the-server" in result.stdout, result.stdout)
        conf.write_text(provision_conf([server.url("/op/")]))
        result = run(command + ["run", str(conf)], env=env, cwd=folder)
        report.check(
            f"{label}: a server's <error> exits 16 with its text",
            result.returncode == 16 and "the server says: Unknown device" in result.stderr,
            f"status {result.returncode}\n{result.stderr}",
        )


def check_bundled(report, python, env, folder):
    """`import provision` in the venv loads the copy pip bundled, not a
    system or in-tree one."""
    code = "import provision, sys; print(provision.library_path); print(sys.prefix)"
    loaded = run([python, "-c", code], env=env, cwd=folder)
    path, prefix = (loaded.stdout.splitlines() + ["", ""])[:2]
    report.check(f"pip: `import provision` loads the bundled library: {path}",
                 loaded.returncode == 0 and path.startswith(prefix) and path.endswith("/provision/libprovision.so.1"),
                 loaded.stdout + loaded.stderr)


def check_script_failures(report, script, env, folder):
    """The console script as an operator meets its failures: --help and a
    one-line error with the library hidden, and no password without a
    terminal; never a traceback."""
    conf = Path(folder, "asks.conf")
    conf.write_text(provision_conf(["http://127.0.0.1:9/"]).replace(
        "<use_authentication>0</use_authentication>",
        "<use_authentication>1</use_authentication><user_input_authentication>1</user_input_authentication>"))
    quiet = dict(env)
    quiet.pop("PROVISION_PASSWORD", None)
    hidden = dict(quiet, PROVISION_LIBRARY=os.path.join(folder, "hidden", "libprovision.so.1"))

    def script_run(args, environment):
        return subprocess.run([script] + args, env=environment, cwd=folder, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, start_new_session=True, timeout=60)

    def one_line(result, code):
        return (result.returncode == code and result.stdout == "" and "Traceback" not in result.stderr
                and len(result.stderr.splitlines()) == 1)

    helped = script_run(["--help"], hidden)
    report.check("pip console script: --help with the library hidden exits 0",
                 helped.returncode == 0 and "usage:" in helped.stdout, helped.stderr)
    missing = script_run(["run", str(conf)], hidden)
    report.check("pip console script: with the library hidden, `run` is one line and exit 1",
                 one_line(missing, 1) and "libprovision could not be loaded" in missing.stderr, missing.stderr)
    nopass = script_run(["run", str(conf), "--user", "alice"], quiet)
    report.check("pip console script: --user with no terminal and no PROVISION_PASSWORD is one line and exit 3",
                 one_line(nopass, 3) and "PROVISION_PASSWORD" in nopass.stderr, f"{nopass.returncode}: {nopass.stderr}")


def check_wheel(report, python, env, tmp):
    """`pip wheel ./bindings/python`: a platform wheel with the library and py.typed."""
    wheels = os.path.join(tmp, "wheels")
    made = run([python, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-deps", "-w", wheels,
                str(ROOT / "bindings" / "python")], env=env)
    names = sorted(os.listdir(wheels)) if os.path.isdir(wheels) else []
    if not report.check(f"pip: `pip wheel ./bindings/python` gives one platform wheel: {' '.join(names)}",
                        made.returncode == 0 and len(names) == 1 and "-py3-none-linux_" in names[0],
                        made.stdout + made.stderr):
        return
    with zipfile.ZipFile(os.path.join(wheels, names[0])) as wheel:
        inside = set(wheel.namelist())
    wanted = {"provision/libprovision.so.1", "provision/py.typed", "provision/_ffi.py"}
    report.check("pip: the wheel carries the library and py.typed", wanted <= inside, sorted(inside))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", help="PROVISION_LIBRARY for --python (never for the venv)")
    parser.add_argument("--python", help="an interpreter that already has the package (no venv)")
    args = parser.parse_args()
    report = Report()
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.pop("PROVISION_LIBRARY", None)  # the package must find its own library
    if args.library and args.python:
        env["PROVISION_LIBRARY"] = args.library
    with tempfile.TemporaryDirectory(prefix="provision-pip-") as tmp:
        elsewhere = os.path.join(tmp, "elsewhere")
        os.mkdir(elsewhere)
        python = args.python
        if python is None:
            venv = os.path.join(tmp, "venv")
            made = run([sys.executable, "-m", "venv", venv])
            if not report.check("pip: a fresh venv", made.returncode == 0, made.stderr):
                return report.finish()
            python = os.path.join(venv, "bin", "python")
            pip = run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                       str(ROOT / "bindings" / "python")], env=env)
            if not report.check("pip: `pip install ./bindings/python` into the venv (cargo builds the library)",
                                pip.returncode == 0, pip.stdout + pip.stderr):
                return report.finish()
            check_bundled(report, python, env, elsewhere)
            check_cli(report, "pip", python, env, elsewhere)
            check_cli(report, "pip console script", python, env, elsewhere, [os.path.join(venv, "bin", "provision")])
            check_script_failures(report, os.path.join(venv, "bin", "provision"), env, elsewhere)
            check_wheel(report, python, env, tmp)
        else:
            check_cli(report, os.path.basename(python), python, env, elsewhere)
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
