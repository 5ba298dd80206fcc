#!/usr/bin/env python3
"""Runs a race test program (tests/c/test_race.c, tests/cpp/test_race.cpp)
against a loopback server whose answer changes with every request.

    python3 tests/c/race_harness.py BINARY

The program is started as `BINARY BASE_URL TMPDIR`; BASE_URL + "/race/configuration"
answers document number N (counting requests) with the accounts of user
`race-N` and a pad of `(N % 7) * 500` characters, so a reader can tell a
complete document from a torn or mixed one. Output and exit status are as for
tests/c/harness.py (TEST_WRAPPER works the same).
"""

import itertools
import sys
import tempfile
import threading

import harness
import loopback


def document(n):
    pad = "x" * ((n % 7) * 500)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<options>\n'
        f"  <accounts><account><username>race-{n}</username><pad>{pad}</pad></account></accounts>\n"
        "  <codecs><codec><name>opus</name></codec></codecs>\n"
        "</options>\n"
    )


def main(argv):
    if len(argv) != 2:
        sys.exit(f"usage: {argv[0]} BINARY")
    tally = harness.Tally()
    counter = itertools.count()
    lock = threading.Lock()  # the server answers from several threads

    def race(_request):
        with lock:
            n = next(counter)
        return loopback.Answer(document(n))

    with tempfile.TemporaryDirectory(prefix="provision-race-") as tmp:
        with loopback.Server({"/race/configuration": race}) as server:
            status = harness.run_checked(argv[1], [server.url("").rstrip("/"), tmp], tally)
            served = sum(1 for r in server.requests if r.route == "/race/configuration")
            tally.report("server: the program asked for changing answers", served > 1, f"{served} requests")
    return harness.finish(tally, status)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
