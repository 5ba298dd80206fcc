#!/usr/bin/env python3
"""Searches what the test suites produced for the test passwords.

    python3 tests/check_secrets.py SECRETS MESSAGES OUTPUT...

SECRETS lists the passwords (tests/secrets.txt); MESSAGES is the file to which
a `test-hooks` build of the library appended every error message it made
(PROVISION_TEST_MESSAGES); each OUTPUT is a suite's stdout and stderr. Every
password is searched as written and as its lowercase hex MD5 (what `url`
authentication sends). Exits 1 naming each hit, or when no message was
recorded at all (the search would prove nothing).
"""

import hashlib
import sys
from pathlib import Path


def main(argv):
    if len(argv) < 3:
        sys.exit(f"usage: {argv[0]} SECRETS MESSAGES [OUTPUT...]")
    passwords = [
        line for line in Path(argv[1]).read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    needles = {}
    for password in passwords:
        needles[password] = f"password {password!r}"
        needles[hashlib.md5(password.encode("utf-8")).hexdigest()] = f"MD5 of {password!r}"

    hits, counts = [], {}
    for name in argv[2:]:
        path = Path(name)
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines() if path.exists() else []
        counts[path.name] = len(lines)
        for number, line in enumerate(lines, 1):
            hits += [f"{name}:{number}: {what}: {line}" for needle, what in needles.items() if needle in line]

    messages = counts.get(Path(argv[2]).name, 0)
    summary = ", ".join(f"{n} lines of {name}" for name, n in counts.items())
    print(f"check-secrets: {len(passwords)} passwords and their MD5 searched in {summary}")
    for hit in hits:
        print(f"LEAK {hit}")
    if messages == 0:
        print(f"no message was recorded in {argv[2]}: was the library built with --features test-hooks?")
        return 1
    return 1 if hits else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
