"""Builds the Python package with libprovision inside it.

`pip install ./bindings/python`, `pip wheel` and `python -m build` compile the
crate two folders up (or, from an sdist, the copy in `rust/`) with cargo and
put the cdylib into the package as `provision/libprovision.so.1`, the SONAME
that _ffi.py loads. The wheel is then a platform wheel (`py3-none-<platform>`:
the library does not use Python's C API, so one wheel serves every Python 3).
`make python-wheel` adds the manylinux tag with auditwheel when it is there.

Environment:
- PROVISION_PYTHON_BUNDLE=0: no cargo, no bundled library; a pure package
  that loads the system's libprovision.so.1 (python3-provision does this).
- PROVISION_CARGO_PROFILE: the cargo profile (default `release`).
- CARGO, CARGO_TARGET_DIR and the other cargo variables are cargo's own.

Not setuptools-rust: it names a non-Python library like a CPython extension
(`libprovision.cpython-311-x86_64-linux-gnu.so`) and tags the wheel for one
Python version, which this plain C library does not need.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Optional

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

try:
    from setuptools.command.bdist_wheel import bdist_wheel  # setuptools >= 70.1
except ImportError:
    try:
        from wheel.bdist_wheel import bdist_wheel  # type: ignore[no-redef]
    except ImportError:  # no wheel support at all: an sdist or a legacy install still works
        bdist_wheel = None  # type: ignore[assignment,misc]

HERE = Path(__file__).resolve().parent
LIBRARY = "libprovision.so.1"
BUNDLE = os.environ.get("PROVISION_PYTHON_BUNDLE", "1") != "0"
# What cargo needs from the crate; an sdist carries it in rust/.
CRATE_FILES = ("Cargo.toml", "Cargo.lock", "build.rs", "cbindgen.toml", "src", "include")


def crate_dir() -> Path:
    """The crate: two folders up in a checkout, rust/ in an sdist."""
    for candidate in (HERE.parent.parent, HERE / "rust"):
        if (candidate / "Cargo.toml").is_file() and (candidate / "src" / "lib.rs").is_file():
            return candidate
    raise SystemExit(
        f"libprovision's Rust sources are neither at {HERE.parent.parent} nor at {HERE / 'rust'};"
        " build from a checkout or an sdist, or set PROVISION_PYTHON_BUNDLE=0 to use the system's library"
    )


def build_library(into: Path) -> None:
    """Compiles the cdylib with cargo and copies it to ``into/LIBRARY``."""
    cargo = os.environ.get("CARGO", "cargo")
    if shutil.which(cargo) is None:
        raise SystemExit(
            f"building the provision package compiles libprovision with cargo (Rust >= 1.82), and {cargo!r} is"
            " not on PATH: install Rust (https://rustup.rs), or set PROVISION_PYTHON_BUNDLE=0 to use the"
            " system's libprovision.so.1"
        )
    profile = os.environ.get("PROVISION_CARGO_PROFILE", "release")
    manifest = crate_dir() / "Cargo.toml"
    command = [cargo, "build", "--lib", "--locked", "--profile", profile, "--manifest-path", str(manifest),
               "--message-format=json-render-diagnostics"]
    # cargo's diagnostics go to stderr as usual; stdout carries the JSON records.
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed (exit {done.returncode})")
    built: Optional[str] = None
    for line in done.stdout.splitlines():
        record = json.loads(line) if line.startswith("{") else {}
        if record.get("reason") == "compiler-artifact" and "cdylib" in record.get("target", {}).get("kind", []):
            built = next((f for f in record["filenames"] if f.endswith(".so")), built)
    if built is None:
        raise SystemExit(f"{' '.join(command)} reported no libprovision.so")
    into.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(built, into / LIBRARY)
    os.chmod(into / LIBRARY, 0o755)


class BuildPyWithLibrary(build_py):
    """The package's Python files, then the library beside them."""

    def run(self) -> None:
        super().run()
        if BUNDLE:
            editable = getattr(self, "editable_mode", False)
            build_library(HERE / "provision" if editable else Path(self.build_lib) / "provision")


class SdistWithCrate(sdist):
    """An sdist that can be built without the checkout: the crate in rust/."""

    def make_release_tree(self, base_dir: str, files: list) -> None:  # type: ignore[type-arg]
        super().make_release_tree(base_dir, files)
        source = HERE.parent.parent
        if not (source / "Cargo.toml").is_file():
            source = HERE / "rust"  # an sdist made from an sdist
        target = Path(base_dir) / "rust"
        for name in CRATE_FILES + tuple(p.name for p in source.glob("LICENSE*")):
            if (source / name).is_dir():
                shutil.copytree(source / name, target / name, dirs_exist_ok=True)
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source / name, target / name)


class WithLibrary(Distribution):
    """The bundled library makes the package platform-specific: installed to
    platlib, and the wheel's files at its root (not under .data/purelib)."""

    def has_ext_modules(self) -> bool:
        return BUNDLE


commands = {"build_py": BuildPyWithLibrary, "sdist": SdistWithCrate}
if bdist_wheel is not None:

    class PlatformWheel(bdist_wheel):  # type: ignore[valid-type,misc]
        """With the library inside, a wheel for this platform and any Python 3."""

        def get_tag(self) -> tuple:  # type: ignore[type-arg]
            python, abi, platform = super().get_tag()
            return ("py3", "none", platform) if BUNDLE else (python, abi, platform)

    commands["bdist_wheel"] = PlatformWheel

setup(distclass=WithLibrary, cmdclass=commands)
