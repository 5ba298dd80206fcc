#!/usr/bin/env python3
"""The ABI check of `make test`:

    python3 tests/packaging/check_abi.py LIBRARY SYMBOLS_FILE SONAME

SYMBOLS_FILE is debian/libprovision1.symbols, the one list of the C ABI
(dpkg-gensymbols checks the same list when the packages are built). Fails
when a listed symbol is no longer exported: programs linked against an
earlier build would stop loading. Also fails on an exported symbol that is
not listed (the list must be complete for the packages' dependencies to be
right) and on a SONAME other than SONAME. Then checks that the comparison
itself catches a disappearance, so the check cannot pass vacuously.

Prints `ok - ...` / `not ok - ...` per check and `N passed, M failed`.
"""

import re
import subprocess
import sys


def listed_symbols(path):
    """Symbol names in a deb-symbols(5) file (`name@version min-version`)."""
    names = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            match = re.match(r"^ (\S+?)@\S+ ", line)
            if match:
                names.add(match.group(1))
    return names


def exported_symbols(library):
    """Names of the functions and data the library defines in its dynamic table."""
    out = subprocess.run(["nm", "-D", "--defined-only", library], check=True, capture_output=True, text=True).stdout
    return {fields[2].split("@")[0] for fields in (line.split() for line in out.splitlines()) if len(fields) == 3}


def soname(library):
    out = subprocess.run(["readelf", "-d", library], check=True, capture_output=True, text=True).stdout
    match = re.search(r"\(SONAME\)\s+Library soname: \[(.+)\]", out)
    return match.group(1) if match else None


def compare(listed, exported):
    """(gone, unlisted): listed symbols no longer exported, exported ones not listed."""
    return sorted(listed - exported), sorted(exported - listed)


def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__)
    library, symbols_file, want_soname = argv[1:]
    results = []

    def report(name, ok, detail=""):
        print(f"{'ok' if ok else 'not ok'} - {name}" + (f"\n#   {detail}" if detail and not ok else ""))
        results.append(ok)

    listed, exported = listed_symbols(symbols_file), exported_symbols(library)
    gone, unlisted = compare(listed, exported)
    report(
        f"abi: every symbol of {symbols_file} is still exported ({len(listed)})",
        bool(listed) and not gone,
        f"gone: {', '.join(gone)}; restoring them keeps the ABI, removing them needs a new SONAME",
    )
    report(
        f"abi: every exported symbol is listed in {symbols_file}",
        not unlisted,
        "add these lines (the version is the first release that has them):\n"
        + "\n".join(f"#    {name}@Base VERSION" for name in unlisted),
    )
    got = soname(library)
    report(f"abi: the SONAME is {want_soname}", got == want_soname, f"SONAME: {got}")
    probe = "provision_probe_removed_symbol"
    report(
        "abi: the check catches a symbol that disappears",
        compare(listed | {probe}, exported)[0] == [probe],
    )
    failed = results.count(False)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
