#!/usr/bin/env python3
"""The licences of the crates in Cargo.lock, for `make third-party-notices`
and `make check-licenses`:

    python3 tools/third_party.py write    # THIRD-PARTY-NOTICES.txt and debian/copyright
    python3 tools/third_party.py check    # both up to date, every licence known

THIRD-PARTY-NOTICES.txt lists every crate linked into libprovision.so (the
normal, non-proc-macro dependencies for TARGET, from `cargo tree`) with the
licence files it ships. debian/copyright (DEP-5) covers every crate of
Cargo.lock, as `make vendor` puts them all into a source tarball, in one
Files stanza per licence family, with a stand-alone License paragraph for
each licence named.

Why a script and not cargo-about: it needs only cargo and python3, which the
build already has; cargo-about is a 10-minute `cargo install` in every CI run
for the same result on a dependency tree this small. The canonical texts of
licences that /usr/share/common-licenses lacks are in tools/licenses/.

`check` fails when a crate's licence names an identifier outside KNOWN (add
its text to tools/licenses/ and KNOWN, after reading it), when a linked crate
ships no licence text we can show, or when either file differs from what
`write` would produce (Cargo.lock gained, lost or moved a crate).
"""

import json
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTICE = ROOT / "THIRD-PARTY-NOTICES.txt"
COPYRIGHT = ROOT / "debian" / "copyright"
TEXTS = ROOT / "tools" / "licenses"
# The linked set is computed for one target so that the file does not depend
# on where it is generated; other Linux targets link the same crates today.
TARGET = "x86_64-unknown-linux-gnu"

# SPDX identifier -> where its text is: a file of tools/licenses/, or Debian's
# common-licenses (debian/copyright points there, as Debian policy 12.5 asks).
COMMON = {"Apache-2.0": "Apache-2.0", "MPL-2.0": "MPL-2.0", "LGPL-2.1-or-later": "LGPL-2.1"}
KNOWN = set(COMMON) | {p.stem for p in TEXTS.glob("*.txt")}
# DEP-5 short names where they differ from SPDX.
DEP5_NAME = {"LGPL-2.1-or-later": "LGPL-2.1+"}
LICENCE_FILE = re.compile(r"^(LICEN[CS]E|COPYING|COPYRIGHT|NOTICE|UNLICENSE)", re.IGNORECASE)


def cargo(*args):
    return subprocess.run(["cargo", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout


def packages():
    """Every package of Cargo.lock but ours: {(name, version): metadata}."""
    meta = json.loads(cargo("metadata", "--format-version", "1", "--locked"))
    return {(p["name"], p["version"]): p for p in meta["packages"] if p["source"] is not None}


def linked():
    """(name, version) of the crates compiled into the library for TARGET."""
    out = cargo("tree", "--locked", "--target", TARGET, "-e", "normal,no-proc-macro", "--prefix", "none",
                "-f", "{p}", "--package", "provision")
    found = set()
    for line in out.splitlines():
        match = re.match(r"^(\S+) v(\S+)", line)
        if match and " (/" not in line:  # a path package is ours
            found.add((match.group(1), match.group(2)))
    return found


def spdx(expression):
    """The crate's licence with the old `/` separator spelled OR."""
    return re.sub(r"\s*/\s*", " OR ", (expression or "").strip())


def identifiers(expression):
    return set(re.findall(r"[A-Za-z0-9.+-]+", expression)) - {"OR", "AND", "WITH"}


def family(expression):
    """The DEP-5 form of an SPDX expression, alternatives sorted so that
    `MIT OR Apache-2.0` and `Apache-2.0 OR MIT` are one family. DEP-5 has no
    parentheses: `(A OR B) AND C` becomes `A or B, and C`."""
    expression = re.sub(r"(\S+) WITH (\S+)", r"\1-with-\2", expression)
    terms, depth, current = [], 0, ""
    for token in re.findall(r"\(|\)|[^\s()]+", expression):
        depth += token == "("
        depth -= token == ")"
        if token == "AND" and depth == 0:
            terms.append(current)
            current = ""
        elif token not in "()":
            current += f" {token}"
    terms.append(current)
    alternatives = [sorted(DEP5_NAME.get(t.strip(), t.strip()) for t in term.split(" OR ") if t.strip()) for term in terms]
    joined = [" or ".join(group) for group in sorted(alternatives)]
    return (", and " if any(len(g) > 1 for g in alternatives) else " and ").join(joined)


def licence_files(package):
    folder = Path(package["manifest_path"]).parent
    names = sorted(p.name for p in folder.iterdir() if p.is_file() and LICENCE_FILE.match(p.name))
    if package.get("license_file") and (folder / package["license_file"]).is_file():
        names = sorted(set(names) | {package["license_file"]})
    return [(name, (folder / name).read_text(errors="replace")) for name in names]


def is_apache_text(name, text):
    return "APACHE" in name.upper() and "Apache License" in text and "Version 2.0, January 2004" in text


def tidy(text):
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def problems_of(pkgs, linked_set):
    problems = []
    for (name, version), package in sorted(pkgs.items()):
        expression = spdx(package["license"])
        if not expression:
            problems.append(f"{name} {version}: no licence in its Cargo.toml")
        unknown = identifiers(expression) - KNOWN
        if unknown:
            problems.append(f"{name} {version}: licence {expression!r} names {', '.join(sorted(unknown))}, "
                            f"which tools/licenses/ and debian/copyright do not cover; read it, then add its text")
    for key in sorted(linked_set):
        package = pkgs[key]
        if not licence_files(package) and not identifiers(spdx(package["license"])) & KNOWN:
            problems.append(f"{key[0]} {key[1]}: linked, but ships no licence text and names no known licence")
    return problems


def notice(pkgs, linked_set):
    rows = sorted(linked_set)
    width = max(len(n) for n, _ in rows) + 2
    out = [
        "Third-party software in libprovision",
        "====================================",
        "",
        "libprovision itself: Copyright (c) 2026 libprovision contributors, MIT OR",
        "Apache-2.0 (LICENSE-MIT, LICENSE-APACHE). The library statically links the",
        f"{len(rows)} Rust crates below: the normal, non-proc-macro dependencies for",
        f"{TARGET}, from Cargo.lock. Build tools (cbindgen) and proc-macros run",
        "at build time and are not part of the library. Generated by",
        "`make third-party-notices` (tools/third_party.py); `make test` fails when it",
        "is stale. Under each licence text: the crates that ship that exact text.",
        "",
        f"{'crate':<{width}}{'version':<12}licence",
    ]
    out += [f"{n:<{width}}{v:<12}{spdx(pkgs[(n, v)]['license'])}" for n, v in rows]
    texts, apache = defaultdict(list), []
    for key in rows:
        files = licence_files(pkgs[key])
        for name, text in files:
            if is_apache_text(name, text):
                apache.append(key)
            else:
                texts[tidy(text)].append(f"{key[0]} {key[1]} ({name})")
        if not files:  # the canonical text of each licence it names
            for ident in sorted(identifiers(spdx(pkgs[key]["license"])) & KNOWN):
                if ident == "Apache-2.0":
                    apache.append(key)
                elif ident not in COMMON:
                    texts[tidy((TEXTS / f"{ident}.txt").read_text())].append(f"{key[0]} {key[1]} (SPDX {ident})")
    rule = "-" * 78
    out += ["", rule, "Apache License 2.0, shipped by: " + ", ".join(f"{n} {v}" for n, v in sorted(set(apache))),
            "The text is LICENSE-APACHE beside this file (on Debian also",
            "/usr/share/common-licenses/Apache-2.0)."]
    for text, crates in sorted(texts.items(), key=lambda item: item[1][0]):
        out += ["", rule, "Shipped by: " + ", ".join(crates), "", text]
    return "\n".join(out) + "\n"


def paragraph_text(text):
    return "\n".join(f" {line}" if line.strip() else " ." for line in tidy(text).splitlines())


def copyright(pkgs):
    families = defaultdict(list)
    for (name, version), package in sorted(pkgs.items()):
        families[family(spdx(package["license"]))].append(package)
    ours = family("MIT OR Apache-2.0")
    out = [
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/",
        "Upstream-Name: libprovision",
        "Source: the libprovision repository",
        "Comment: The vendor/ folder is present in source tarballs made after",
        " `make vendor` (one folder per crate of Cargo.lock, as cargo vendor",
        " --versioned-dirs names them). Generated by tools/third_party.py",
        " (`make third-party-notices`); `make test` fails when it is stale.",
        " THIRD-PARTY-NOTICES.txt lists the crates linked into the library with",
        " their own licence files and copyright lines.",
        "",
        "Files: *",
        "Copyright: 2026 libprovision contributors",
        f"License: {ours}",
    ]
    used = set(identifiers(spdx("MIT OR Apache-2.0")))
    for fam, members in sorted(families.items()):
        out += ["", "Files:"]
        out += [f" vendor/{p['name']}-{p['version']}/*" for p in members]
        holders = []
        for p in members:
            authors = ", ".join(re.sub(r"\s*<[^>]*>", "", a) for a in p["authors"]) or f"the {p['name']} developers"
            holders.append(f" {p['name']} {p['version']}: {authors}")
        out += ["Copyright:"] + holders
        out += [f"License: {fam}"]
        for p in members:
            used |= identifiers(spdx(p["license"]))
    withs = set()
    for p in pkgs.values():
        withs |= set(re.findall(r"(\S+) WITH (\S+)", spdx(p["license"])))
    for ident in sorted(used):
        if ident in {w for _, w in withs}:
            continue
        name = DEP5_NAME.get(ident, ident)
        if ident in COMMON:
            text = (f"On Debian systems, the complete text of the {name} licence can be found in\n"
                    f'"/usr/share/common-licenses/{COMMON[ident]}".')
        else:
            text = (TEXTS / f"{ident}.txt").read_text()
        out += ["", f"License: {name}", paragraph_text(text)]
    for base, exception in sorted(withs):
        text = (f"The {base} licence (see its paragraph) with this exception:\n\n"
                + (TEXTS / f"{exception}.txt").read_text())
        out += ["", f"License: {base}-with-{exception}", paragraph_text(text)]
    return "\n".join(out) + "\n"


def main(argv):
    if len(argv) != 2 or argv[1] not in ("write", "check"):
        sys.exit(__doc__)
    pkgs, linked_set = packages(), linked()
    problems = problems_of(pkgs, linked_set)
    # The check must not pass vacuously: an unknown licence is caught.
    probe = {("probe", "1.0.0"): {"license": "GPL-3.0-only", "manifest_path": str(ROOT / "Cargo.toml")}}
    assert problems_of(probe, set()), "the licence check accepts an unknown licence"
    for problem in problems:
        print(f"not ok - {problem}")
    wanted = {NOTICE: notice(pkgs, linked_set), COPYRIGHT: copyright(pkgs)}
    if argv[1] == "write":
        for path, text in wanted.items():
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
        return 1 if problems else 0
    stale = [p for p, text in wanted.items() if not p.is_file() or p.read_text() != text]
    for path in stale:
        print(f"not ok - {path.relative_to(ROOT)} is stale (Cargo.lock changed?): run `make third-party-notices`")
    if not problems and not stale:
        print(f"ok - licences: {len(linked_set)} linked crates in {NOTICE.name}, "
              f"{len(pkgs)} crates of Cargo.lock in debian/copyright, every licence known")
    return 1 if problems or stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
