"""Threads racing the handle's callbacks, run in a process of its own by
test_races.py (so that a crash is a failed test, not a dead pytest):

    python races.py ROUNDS

Each round starts the refresh worker on a handle whose runs try several
refused URLs and then a live server (a log record per URL, so the logger
is called many times per attempt), and races, from other threads, while
those attempts run: set_logger with a fresh callable each time (the one
replaced is referenced by nothing else, so a thunk freed too early is
called after its release), stop_refresh, close, and close from inside the
logger and the refresh callback. Prints one line with the counts; exits 0.
"""

from __future__ import annotations

import random
import socket
import sys
import threading
from pathlib import Path
from typing import List

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]
import provision  # noqa: E402
from support import ANSWER, Reply, Server, provision_xml  # noqa: E402

ENDINGS = ("stop_refresh", "close", "close_in_refresh_callback", "close_in_logger")


def refused_urls(count: int) -> List[str]:
    """Loopback ports bound but not listening: connects are refused at once."""
    sockets = []
    for _ in range(count):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
    urls = [f"http://127.0.0.1:{s.getsockname()[1]}/" for s in sockets]
    refused_urls.keep = sockets  # type: ignore[attr-defined]  # bound for the whole run
    return urls


def one_round(number: int, urls: List[str], counts: dict) -> None:
    ending = ENDINGS[number % len(ENDINGS)]
    prov = provision.Provision.from_xml(provision_xml(urls, use_authentication=0, refresh_rate=3600))
    heard = threading.Event()  # the worker's attempt is under way
    ended = threading.Event()  # the handle was closed from inside a callback

    mine = [0]  # this round's records (an earlier round's run may still log)

    def logger(record: provision.LogRecord) -> None:
        counts["records"] += 1
        mine[0] += 1
        heard.set()
        if ending == "close_in_logger" and mine[0] == 2:
            prov.close()  # the run goes on calling its logger; freed when it returns
            counts["closed_in_logger"] += 1
            ended.set()

    def on_refresh(result: provision.Refreshed) -> None:
        counts["callbacks"] += 1
        if ending == "close_in_refresh_callback":
            prov.close()
            counts["closed_in_callback"] += 1
            ended.set()

    def replace_loggers() -> None:
        (ended if ending == "close_in_logger" else heard).wait(30)
        for _ in range(25):
            try:
                prov.set_logger(lambda record: heard.set())  # referenced by the handle alone
                counts["replaced"] += 1
            except provision.ArgumentError:
                return  # closed meanwhile: fine

    def end() -> None:
        heard.wait(30)
        if ending == "stop_refresh":
            prov.stop_refresh()
        elif ending == "close":
            prov.close()
        else:
            ended.wait(30)

    prov.set_logger(logger)
    threads = [threading.Thread(target=replace_loggers), threading.Thread(target=end)]
    prov.start_refresh(None, on_refresh)
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    prov.close()
    counts[ending] += 1


def main() -> int:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    server = Server({"/configuration": lambda request: Reply(ANSWER.replace("server-account", f"a{random.random()}"))})
    urls = refused_urls(4) + [server.url + "/"]
    counts = dict.fromkeys(("records", "callbacks", "replaced", "closed_in_logger", "closed_in_callback") + ENDINGS, 0)
    try:
        for number in range(rounds):
            one_round(number, urls, counts)
    finally:
        server.close()
    print(" ".join(f"{k}={v}" for k, v in counts.items()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
