"""Test helpers: scripted HTTP servers on loopback, provision files, and
checked error expectations. Fixtures built on these live in conftest.py."""

from __future__ import annotations

import base64
import hashlib
import http.server
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterator, List, Sequence, Tuple, Type, Union
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import pytest

import provision

USER = "alice"
PASSWORD = "s3cret-file-pw"
"""The password written in the provision files."""
OTHER_PASSWORD = "pa ss"
"""The password given through set_credentials."""


def md5_hex(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def basic_token(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode("utf-8")).decode("ascii")


SECRETS = [
    secret
    for password in (PASSWORD, OTHER_PASSWORD)
    for secret in (password, md5_hex(password), basic_token(USER, password))
]
"""Strings that must never appear in an exception message."""

ANSWER = """<?xml version="1.0" encoding="UTF-8"?>
<options>
  <accounts><account><username>server-account</username></account></accounts>
  <codecs><codec name="opus" priority="1"/></codecs>
  <audio><ring_device>server speaker</ring_device></audio>
</options>
"""
"""A usable answer: accounts and codecs (significant) and audio (not)."""


@dataclass(frozen=True)
class Reply:
    """What a scripted server answers on one path."""

    body: str
    status: int = 200
    content_type: str = "application/xml; charset=utf-8"
    headers: Tuple[Tuple[str, str], ...] = ()
    """Extra response headers, e.g. ``(("ETag", '"v1"'),)``."""


NOT_FOUND = Reply("no such page", 404, "text/plain")


def error_reply(text: str, status: int = 200) -> Reply:
    """The scheme's error answer, ``<error>text</error>``."""
    return Reply(f"<error>{escape(text)}</error>", status)


@dataclass(frozen=True)
class Request:
    """One request a server received."""

    path: str
    """The request target: path and query, as sent."""
    headers: Dict[str, str]
    """Header names in lower case."""
    at: float = field(default_factory=time.monotonic)
    """When the server received it (``time.monotonic()``)."""


Route = Union[Reply, Callable[[Request], Reply]]
"""A fixed reply, or a function of the request for replies that change."""


def make_handler(replies: Dict[str, Route], requests: List[Request]) -> Type[http.server.BaseHTTPRequestHandler]:
    """A handler class that records each request in ``requests`` and answers
    ``replies[path]`` (query ignored; a function is called with the
    request), or 404."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            request = Request(self.path, {k.lower(): v for k, v in self.headers.items()})
            requests.append(request)
            reply = replies.get(urlsplit(self.path).path, NOT_FOUND)
            if callable(reply):
                reply = reply(request)
            body = reply.body.encode("utf-8")
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in reply.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep pytest's output clean

    return Handler


class Server:
    """A ThreadingHTTPServer on 127.0.0.1 with scripted replies, served from
    a daemon thread. It listens as soon as it is constructed."""

    def __init__(self, replies: Dict[str, Route]) -> None:
        self.requests: List[Request] = []
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(replies, self.requests))
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        """Scheme, host and port, without a trailing slash."""
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()

    @property
    def paths(self) -> List[str]:
        return [r.path for r in self.requests]

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()


def provision_xml(
    base_urls: Sequence[str],
    *,
    use_authentication: int = 1,
    user_input_authentication: int = 0,
    authentication_type: str = "basic",
    user: str = USER,
    password: str = PASSWORD,
    sections: str = "accounts,codecs",
    refresh_rate: int = 0,
) -> str:
    """The text of a provision file."""
    urls = "".join(f"<base_url>{escape(u)}</base_url>" for u in base_urls)
    return f"""<provision>
  <base_urls>{urls}</base_urls>
  <options>
    <use_authentication>{use_authentication}</use_authentication>
    <user_input_authentication>{user_input_authentication}</user_input_authentication>
    <authentication_type>{escape(authentication_type)}</authentication_type>
    <user>{escape(user)}</user>
    <password>{escape(password)}</password>
    <refresh_rate>{refresh_rate}</refresh_rate>
  </options>
  <significant_sections>{escape(sections)}</significant_sections>
</provision>
"""


collected_messages: List[str] = []
"""Every message of an error expected through ``raises``, for the leak check."""


def assert_no_secret(message: str) -> None:
    leaked = [s for s in SECRETS if s in message]
    assert not leaked, f"a secret leaked into an error message: {message!r}"


@contextmanager
def raises(cls: Type[provision.ProvisionError]) -> Iterator[pytest.ExceptionInfo]:
    """``pytest.raises(cls)`` that also checks that the status is the class's,
    that ``str`` is the message, and that the message holds no password."""
    with pytest.raises(cls) as info:
        yield info
    error = info.value
    assert type(error) is cls
    assert error.status is cls.default_status
    assert str(error) == error.message
    collected_messages.append(error.message)
    assert_no_secret(error.message)
