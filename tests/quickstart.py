#!/usr/bin/env python3
"""`make test-quickstart`: the README's quick start, run as written.

Takes the shell blocks of README.md's "Quick start" section and runs them in
one bash, as a reader would paste them, with two changes a test needs:
- the web server's port 8080 becomes a free ephemeral port (in the commands
  and in a copy of examples/quickstart/provision.conf);
- `make lib` is left out: `make test` has built the library already, and a
  second build from the copy's path would rebuild it.
The copy is a folder whose entries link to the clone's (include/, target/,
bindings/...), with examples/quickstart copied, so the tree is never written.
The README's own readiness line waits for the server: the test adds no wait
of its own, so a quick start that races its server fails here. It then checks that each of the four ways printed the merged
config: the server's accounts and codecs, the user's own audio.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def quickstart_blocks(readme: str) -> list:
    section = readme.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.S)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    blocks = quickstart_blocks((ROOT / "README.md").read_text())
    assert len(blocks) == 2, f"expected two sh blocks in the quick start, found {len(blocks)}"
    start, ways = blocks
    assert start.startswith("make lib"), start
    start = start.split("\n", 1)[1]
    port = str(free_port())
    with tempfile.TemporaryDirectory() as tmp:
        top = Path(tmp)
        for entry in ROOT.iterdir():
            if entry.name not in ("examples", ".git"):
                (top / entry.name).symlink_to(entry)
        quick = top / "examples" / "quickstart"
        shutil.copytree(ROOT / "examples" / "quickstart", quick)
        conf = quick / "provision.conf"
        conf.write_text(conf.read_text().replace("8080", port))
        script = "set -e\n" + start.replace("8080", port) + ways.replace("/tmp/quickstart", f"{tmp}/quickstart")
        env = {k: v for k, v in os.environ.items() if k != "PROVISION_LIBRARY"}
        done = subprocess.run(["bash", "-c", script], cwd=top, env=env, capture_output=True, text=True, timeout=300)
    print(done.stdout, end="")
    print(done.stderr, end="", file=sys.stderr)
    failures = []
    if done.returncode != 0:
        failures.append(f"the quick start exited with {done.returncode}")
    configs = done.stdout.count("<options>")
    if configs != 4:
        failures.append(f"expected 4 merged configs (C, C++, Python, CLI), got {configs}")
    for expected in ("<name>Office</name>", "<name>opus</name>", "<volume>35</volume>"):
        if done.stdout.count(expected) != 4:
            failures.append(f"{expected} should be in each of the 4 configs")
    if "old account" in done.stdout or "<volume>100</volume>" in done.stdout:
        failures.append("the merge kept the user's accounts or took the server's non-significant audio")
    for line in failures:
        print(f"not ok - {line}")
    print(f"{0 if failures else 1} passed, {1 if failures else 0} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
