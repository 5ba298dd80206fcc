#!/usr/bin/env python3
"""Runs a C or C++ addressbook test program against the reference server.

    python3 tests/c/addressbook_harness.py BINARY

The program is started as harness.py starts its programs,

    BINARY DEAD_URL LIVE_URL HANGUP_URL TMPDIR USER PASSWORD

- DEAD_URL    a base URL whose port refuses connections;
- LIVE_URL    the reference addressbook server (examples/addressbook_server.py,
              base path /book/, accepting USER and PASSWORD), which appends one
              JSON line per request to TMPDIR/server.jsonl before it answers,
              so the program can prove which calls made no request;
- HANGUP_URL  a server that reads each request and closes the connection
              without answering (a POST that may have arrived), appending one
              line per request to TMPDIR/hangup.log before it hangs up;
- TMPDIR, USER, PASSWORD  as for harness.py.

Output and exit status as harness.py; its own check: every request the
reference server saw was authenticated.
"""

import json
import socket
import sys
import tempfile
import threading
from pathlib import Path

import harness
import loopback

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
from addressbook_server import AddressbookServer  # noqa: E402


class HangUp:
    """Accepts, reads the request line and headers (and whatever body came
    with them), logs the request line, and closes without a word."""

    def __init__(self, log_path):
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen()
        self._log_path = log_path
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}/"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return  # closed
            with connection:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = connection.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                with open(self._log_path, "a", encoding="utf-8") as log:
                    log.write(data.split(b"\r\n", 1)[0].decode("latin-1") + "\n")

    def close(self):
        self._socket.close()


def main(argv):
    if len(argv) != 2:
        sys.exit(f"usage: {argv[0]} BINARY")
    tally = harness.Tally()
    with tempfile.TemporaryDirectory(prefix="provision-addressbook-") as tmp, loopback.DeadPort() as dead:
        log = Path(tmp, "server.jsonl")
        users = {harness.USER: harness.PASSWORD}
        hangup = HangUp(Path(tmp, "hangup.log"))
        with AddressbookServer("/book/", users=users, log=str(log)) as server:
            args = [dead.url, server.url(), hangup.url, tmp, harness.USER, harness.PASSWORD]
            status = harness.run_checked(argv[1], args, tally)
            entries = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        hangup.close()
        unauthenticated = [e for e in entries if not e["authenticated"]]
        tally.report("server: every request was authenticated", bool(entries) and not unauthenticated,
                     f"{len(entries)} requests, unauthenticated: {unauthenticated}")
    return harness.finish(tally, status)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
