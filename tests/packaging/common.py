"""What the packaging checks share: the ok/not ok report, and the C++
example built with nothing but `pkg-config --cflags --libs provision`,
then run through its start-up scenarios (tests/cpp/softphone.py)."""

import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "tests" / "cpp"))
import softphone  # noqa: E402  (tests/cpp/softphone.py)


class Report:
    """`ok - NAME` / `not ok - NAME` lines, then `N passed, M failed`."""

    def __init__(self):
        self.passed = self.failed = 0

    def check(self, name, ok, detail=""):
        print(f"{'ok' if ok else 'not ok'} - {name}" + (f"\n#   {detail}" if detail and not ok else ""), flush=True)
        self.passed, self.failed = self.passed + bool(ok), self.failed + (not ok)
        return ok

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        return 1 if self.failed or not self.passed else 0


def run(command, env=None, **kwargs):
    """`command`'s CompletedProcess, output captured as text."""
    return subprocess.run(command, env=env, capture_output=True, text=True, **kwargs)


def example_with_pkg_config(report, label, env, library_dir, rpath=False, run_env=None):
    """Builds examples/softphone.cpp with the flags pkg-config gives under
    `env` alone (plus, with `rpath`, the documented
    `-Wl,-rpath,$(pkg-config --variable=libdir provision)`), checks that the
    program loads the library from `library_dir`, and runs its start-up
    scenarios against loopback under `run_env` (default: `env`)."""
    run_env = env if run_env is None else run_env
    flags = run(["pkg-config", "--cflags", "--libs", "provision"], env=env)
    if not report.check(f"{label}: pkg-config knows provision", flags.returncode == 0, flags.stderr.strip()):
        return
    if rpath:
        libdir = run(["pkg-config", "--variable=libdir", "provision"], env=env).stdout.strip()
        flags.stdout = flags.stdout.strip() + f" -Wl,-rpath,{libdir}"
    with tempfile.TemporaryDirectory(prefix="provision-example-") as tmp:
        binary = os.path.join(tmp, "softphone")
        command = [os.environ.get("CXX", "c++"), "-std=c++17", str(ROOT / "examples" / "softphone.cpp"), "-o", binary]
        command += shlex.split(flags.stdout)
        built = run(command, env=env)
        ok = report.check(
            f"{label}: the C++ example builds with `pkg-config --cflags --libs provision` ({flags.stdout.strip()})",
            built.returncode == 0,
            built.stderr.strip(),
        )
        if not ok:
            return
        loaded = run(["ldd", binary], env=run_env).stdout
        wanted = os.path.join(library_dir, "libprovision.so.1")
        paths = [line.split()[2] for line in loaded.splitlines() if line.split()[:2] == ["libprovision.so.1", "=>"]]
        report.check(  # realpath: /lib is /usr/lib on merged-/usr systems
            f"{label}: the example loads {wanted}",
            [os.path.realpath(p) for p in paths] == [os.path.realpath(wanted)],
            loaded.strip(),
        )
        saved = os.environ.copy()
        os.environ.clear()
        os.environ.update(run_env)
        try:
            passed, failed = softphone.run_scenarios(binary, ["fallback", "server-error"])
        finally:
            os.environ.clear()
            os.environ.update(saved)
        report.passed, report.failed = report.passed + passed, report.failed + failed
