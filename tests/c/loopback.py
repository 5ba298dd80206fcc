"""Loopback fixtures shared by tests/c/harness.py and examples/demo.py.

`Server` is a real HTTP server on 127.0.0.1 (an ephemeral port) that serves
fixed answers and records every request; `DeadPort` is a bound but not
listening socket, so connecting to its URL is refused at once. Both are ready
when their constructor returns: no sleeps, no polling. Python stdlib only.
"""

import http.server
import socket
import threading
from typing import NamedTuple
from urllib.parse import urlsplit


class Request(NamedTuple):
    method: str
    path: str  # as sent, query included
    headers: object  # an http.client.HTTPMessage: get() ignores case

    @property
    def route(self):
        """The path without its query."""
        return urlsplit(self.path).path


class Answer(NamedTuple):
    body: str
    status: int = 200
    content_type: str = "application/xml; charset=utf-8"
    headers: tuple = ()  # extra (name, value) pairs, e.g. ETag


class Server:
    """Serves `routes` ({path: Answer}, matched without the query; anything
    else is a 404) from a daemon thread and records each request. A route
    may also map to a function of the Request that returns an Answer, for
    answers that change over time; `routes` may be filled in after the
    server has started (e.g. with its own URL). `on_request`, if given, is
    called with each Request as it is recorded."""

    def __init__(self, routes, on_request=None):
        self.requests = []
        lock = threading.Lock()
        requests = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                request = Request(self.command, self.path, self.headers)
                with lock:
                    requests.append(request)
                    if on_request is not None:
                        on_request(request)
                answer = routes.get(request.route) or Answer("not found\n", 404, "text/plain")
                if callable(answer):
                    answer = answer(request)
                body = answer.body.encode("utf-8")
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in answer.headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass  # the recorded requests say it better than a log line

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path="/"):
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self):
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class DeadPort:
    """A port on 127.0.0.1 that is bound (so no one else gets it) but not
    listening: a connection to `url` is refused."""

    def __init__(self):
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}/"

    def close(self):
        self._socket.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
