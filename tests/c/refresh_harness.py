#!/usr/bin/env python3
"""Runs tests/c/test_refresh.c against a loopback server whose answers change
over time, as the lifecycle tests need.

    python3 tests/c/refresh_harness.py BINARY

The program is started as `BINARY BASE_URL TMPDIR REQUEST_LOG`, where
BASE_URL is `http://127.0.0.1:PORT` serving, at ROUTE + "configuration":

- /tick/ /call/ /stop/ /inside/ /free/   the good answer (accounts of `server-user`);
- /busy/      HTTP 503;
- /changes/   the good answer twice, then `changed-user`'s;
- /mover/     the good answer plus a <provision> section that moves the
              client to /moved/ with refresh_rate 1; /moved/: `moved-user`'s;
- /switch/    the good answer, or HTTP 503 while TMPDIR/down exists;
- /etag/      the good answer with an ETag, or 304 to a matching If-None-Match;
- /stress/    the good answer, `changed-user`'s, HTTP 503, in turn.

REQUEST_LOG gets a line `SECONDS ROUTE IF-NONE-MATCH` (`-` when absent) per
request, SECONDS on the monotonic clock, as the server received it: the
program reads counts and gaps from it while it runs. Output and exit status
are as for tests/c/harness.py (TEST_WRAPPER works the same).
"""

import itertools
import os
import sys
import tempfile
import threading
import time

import harness
import loopback

GOOD = """<?xml version="1.0" encoding="UTF-8"?>
<options>
  <accounts><account><username>server-user</username></account></accounts>
  <codecs><codec><name>opus</name></codec></codecs>
</options>
"""
CHANGED = GOOD.replace("server-user", "changed-user")
MOVED = GOOD.replace("server-user", "moved-user")
ETAG = '"v1"'

MOVER = """<?xml version="1.0" encoding="UTF-8"?>
<options>
  <accounts><account><username>server-user</username></account></accounts>
  <provision>
    <base_urls><base_url>{moved}</base_url></base_urls>
    <options><use_authentication>0</use_authentication><refresh_rate>1</refresh_rate></options>
    <significant_sections>accounts,provision</significant_sections>
  </provision>
</options>
"""


def routes_for(server, work):
    """The routes, some of which need the server's URL or the program's folder."""
    changes = itertools.count()
    stress = itertools.count()
    lock = threading.Lock()  # the server answers from several threads

    def counted(counter):
        with lock:
            return next(counter)

    def switch(_request):
        if os.path.exists(os.path.join(work, "down")):
            return loopback.Answer("down", 503, "text/plain")
        return loopback.Answer(GOOD)

    def etag(request):
        if request.headers.get("If-None-Match") == ETAG:
            return loopback.Answer("", 304, headers=(("ETag", ETAG),))
        return loopback.Answer(GOOD, headers=(("ETag", ETAG), ("Last-Modified", "Tue, 01 Apr 2025 10:00:00 GMT")))

    def stressed(_request):
        turn = counted(stress) % 3
        return [loopback.Answer(GOOD), loopback.Answer(CHANGED), loopback.Answer("busy", 503, "text/plain")][turn]

    routes = {f"/{name}/configuration": loopback.Answer(GOOD) for name in ("tick", "call", "stop", "inside", "free", "now")}
    routes.update({
        "/busy/configuration": loopback.Answer("busy", 503, "text/plain"),
        "/changes/configuration": lambda _r: loopback.Answer(GOOD if counted(changes) < 2 else CHANGED),
        "/mover/configuration": loopback.Answer(MOVER.format(moved=server.url("/moved/"))),
        "/moved/configuration": loopback.Answer(MOVED),
        "/switch/configuration": switch,
        "/etag/configuration": etag,
        "/stress/configuration": stressed,
    })
    return routes


def check_server(requests, tally):
    conditional = sorted({r.route for r in requests if r.headers.get("If-None-Match")})
    tally.report(
        "server: If-None-Match went only to the route that sent an ETag",
        conditional == ["/etag/configuration"],
        f"routes asked conditionally: {conditional}",
    )
    unknown = sorted({r.route for r in requests if not r.route.endswith("/configuration")})
    tally.report("server: only BASE + configuration was requested", not unknown, f"other paths: {unknown}")


def main(argv):
    if len(argv) != 2:
        sys.exit(f"usage: {argv[0]} BINARY")
    tally = harness.Tally()
    with tempfile.TemporaryDirectory(prefix="provision-refresh-") as tmp:
        log_path = os.path.join(tmp, "requests.log")
        log = open(log_path, "a", encoding="utf-8", buffering=1)

        def record(request):
            inm = request.headers.get("If-None-Match") or "-"
            log.write(f"{time.monotonic():.6f} {request.route} {inm}\n")

        routes = {}
        with loopback.Server(routes, on_request=record) as server:
            work = os.path.join(tmp, "work")
            os.mkdir(work)
            routes.update(routes_for(server, work))
            status = harness.run_checked(argv[1], [server.url("").rstrip("/"), work, log_path], tally)
            check_server(server.requests, tally)
        log.close()
    return harness.finish(tally, status)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
