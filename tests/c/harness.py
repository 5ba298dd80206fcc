#!/usr/bin/env python3
"""Runs a C or C++ test program of libprovision against loopback servers.

    python3 tests/c/harness.py BINARY

The program is started as

    BINARY DEAD_URL LIVE_URL ERROR_URL TMPDIR USER PASSWORD

- DEAD_URL   a base URL whose port refuses connections;
- LIVE_URL   a base URL whose `configuration` is a good `<options>` answer with
             the sections `accounts` (user `server-user`), `codecs` (`opus`)
             and `audio` (`server-audio`; not significant in the tests);
- ERROR_URL  a base URL whose `configuration` answers, with HTTP 200,
             `<error>Wrong username or password</error>`;
- TMPDIR     an empty folder, removed afterwards;
- USER, PASSWORD  the credentials the program's provision files send with
             `basic` authentication.

The program prints one line per case, `ok - NAME` or `not ok - NAME` (other
lines, e.g. `#` diagnostics, are passed through), and exits non-zero when a
case failed. The harness then checks what the server saw, adds those checks
as cases, and prints `N passed, M failed` last. Its exit status is the
program's, or 1 when its own checks fail.

TEST_WRAPPER, if set, is put in front of the command, e.g.
TEST_WRAPPER="valgrind --leak-check=full --error-exitcode=1".
"""

import base64
import os
import shlex
import subprocess
import sys
import tempfile

import loopback

USER = "harness-user"
PASSWORD = "s3cret:pass word"

GOOD_ANSWER = """<?xml version="1.0" encoding="UTF-8"?>
<options>
  <accounts>
    <account><username>server-user</username><host>sip.example.test</host></account>
  </accounts>
  <codecs><codec><name>opus</name><priority>1</priority></codec></codecs>
  <audio><ring_device>server-audio</ring_device></audio>
</options>
"""
ERROR_ANSWER = "<error>Wrong username or password</error>"

LIVE_PATH = "/"
ERROR_PATH = "/op/"


class Tally:
    def __init__(self):
        self.passed = self.failed = 0

    def count(self, line):
        if line.startswith("ok - "):
            self.passed += 1
        elif line.startswith("not ok - "):
            self.failed += 1

    def report(self, name, ok, detail=""):
        line = f"{'ok' if ok else 'not ok'} - {name}"
        print(line + (f"\n#   {detail}" if detail and not ok else ""), flush=True)
        self.count(line)


def run_program(binary, args, tally):
    command = shlex.split(os.environ.get("TEST_WRAPPER", "")) + [binary, *args]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as proc:
        for line in proc.stdout:
            print(line, end="", flush=True)
            tally.count(line)
    return proc.returncode


def run_checked(binary, args, tally):
    """`run_program`, plus a failed case when the program's exit status says
    something went wrong that no case reported."""
    status = run_program(binary, args, tally)
    if status != 0 and tally.failed == 0:
        # A crash, or valgrind's error exit: no failed case explains it.
        tally.report(f"{os.path.basename(binary)} exits with status 0", False, f"status {status}")
    return status


def finish(tally, status):
    """Prints the closing line; the exit status for the harness."""
    if tally.passed + tally.failed == 0:
        tally.report("the program reported at least one case", False)
    print(f"{tally.passed} passed, {tally.failed} failed", flush=True)
    if status > 0:
        return status
    return 1 if tally.failed else 0


def check_server(requests, tally):
    routes = sorted({r.route for r in requests})
    allowed = {LIVE_PATH + "configuration", ERROR_PATH + "configuration"}
    tally.report(
        "server: only BASE + configuration was requested, the live one among them",
        set(routes) <= allowed and LIVE_PATH + "configuration" in routes,
        f"requested: {routes}",
    )
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    seen = sorted({r.headers.get("Authorization", "(none)") for r in requests})
    tally.report(
        "server: every request carried the Basic credentials",
        bool(requests) and seen == [f"Basic {token}"],
        f"Authorization headers seen: {seen}",
    )
    queries = [r.path for r in requests if "?" in r.path]
    tally.report("server: no credentials in a query", not queries, f"paths with a query: {queries}")


def main(argv):
    if len(argv) != 2:
        sys.exit(f"usage: {argv[0]} BINARY")
    routes = {
        LIVE_PATH + "configuration": loopback.Answer(GOOD_ANSWER),
        ERROR_PATH + "configuration": loopback.Answer(ERROR_ANSWER),
    }
    tally = Tally()
    with loopback.Server(routes) as server, loopback.DeadPort() as dead, \
            tempfile.TemporaryDirectory(prefix="provision-test-") as tmp:
        args = [dead.url, server.url(LIVE_PATH), server.url(ERROR_PATH), tmp, USER, PASSWORD]
        status = run_checked(argv[1], args, tally)
        check_server(server.requests, tally)
    return finish(tally, status)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
