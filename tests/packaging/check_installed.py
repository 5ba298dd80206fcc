#!/usr/bin/env python3
"""`make install` checked, for `make check-install`:

    python3 tests/packaging/check_installed.py --prefix P --staged ROOT --multiarch MA --abi-version V

P holds an install made with PREFIX=P; ROOT one made with PREFIX=/usr
DESTDIR=ROOT. Checks the FHS layout (library, links, header, .pc) in ROOT,
then builds the C++ example with P's pkg-config file and the rpath the docs
show (`-Wl,-rpath,$(pkg-config --variable=libdir provision)`) and runs it
with neither LD_LIBRARY_PATH nor PKG_CONFIG_PATH set.
"""

import argparse
import os
import stat
import sys
from pathlib import Path

from common import Report, example_with_pkg_config


def layout(report, root, prefix, multiarch, abi_version):
    libdir = Path(root + prefix) / "lib" / multiarch if multiarch else Path(root + prefix) / "lib"
    real, soname = f"libprovision.so.{abi_version}", f"libprovision.so.{abi_version.split('.')[0]}"
    library = libdir / real
    report.check(
        f"install: {library.relative_to(root)} is a regular file, mode 0644",
        library.is_file() and not library.is_symlink() and stat.S_IMODE(library.stat().st_mode) == 0o644,
    )
    for link in (soname, "libprovision.so"):
        path = libdir / link
        report.check(
            f"install: {link} -> {real}",
            path.is_symlink() and os.readlink(path) == real,
            f"{path}: {os.readlink(path) if path.is_symlink() else 'not a link'}",
        )
    for header in ("provision.h", "provision.hpp"):
        report.check(f"install: {prefix}/include/provision/{header}",
                     (Path(root + prefix) / "include" / "provision" / header).is_file())
    pc = libdir / "pkgconfig" / "provision.pc"
    text = pc.read_text() if pc.is_file() else ""
    libdir_line = "libdir=${prefix}/lib" + (f"/{multiarch}" if multiarch else "")
    report.check(
        f"install: {pc.relative_to(root)} says prefix={prefix}, {libdir_line} and -I${{includedir}}/provision",
        f"prefix={prefix}\n" in text and f"{libdir_line}\n" in text and "Cflags: -I${includedir}/provision\n" in text,
        text,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--staged", required=True)
    parser.add_argument("--multiarch", default="")
    parser.add_argument("--abi-version", required=True)
    args = parser.parse_args()
    report = Report()
    layout(report, args.staged, "/usr", args.multiarch, args.abi_version)
    libdir = os.path.join(args.prefix, "lib", args.multiarch) if args.multiarch else os.path.join(args.prefix, "lib")
    # pkg-config needs to be told where the .pc is; the program, built with
    # the rpath the docs show, runs with no variable pointing at the prefix.
    bare = {k: v for k, v in os.environ.items() if k not in ("LD_LIBRARY_PATH", "PKG_CONFIG_PATH")}
    env = dict(bare, PKG_CONFIG_PATH=os.path.join(libdir, "pkgconfig"))
    example_with_pkg_config(report, "make install", env, libdir, rpath=True, run_env=bare)
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
