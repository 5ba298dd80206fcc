"""Fixtures: real HTTP servers on loopback, a refused port, provision files
in real temp folders, and handles that are closed after each test."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Sequence

import pytest

import provision
from support import Reply, Server, assert_no_secret, collected_messages, provision_xml


@pytest.fixture
def serve() -> Iterator[Callable[[Dict[str, Reply]], Server]]:
    """``serve({"/prov/configuration": Reply(...)})`` starts a server that
    answers those paths; every server is shut down after the test."""
    servers: List[Server] = []

    def start(replies: Dict[str, Reply]) -> Server:
        server = Server(replies)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def dead_url() -> Iterator[str]:
    """A loopback base URL whose port is bound but not listening: a connect
    is refused at once. The socket stays bound for the whole test, so no
    other process can take the port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"


@pytest.fixture
def provision_file(tmp_path: Path) -> Callable[..., Path]:
    """``provision_file(base_urls, **options)`` writes a provision file (see
    ``support.provision_xml``) and returns its path."""

    def write(base_urls: Sequence[str], **options: object) -> Path:
        path = tmp_path / "provision.conf"
        path.write_text(provision_xml(base_urls, **options), encoding="utf-8")  # type: ignore[arg-type]
        return path

    return write


@pytest.fixture
def load(provision_file: Callable[..., Path]) -> Iterator[Callable[..., provision.Provision]]:
    """``load(base_urls, **options)``: a handle on a fresh provision file,
    closed after the test."""
    handles: List[provision.Provision] = []

    def open_handle(base_urls: Sequence[str], **options: object) -> provision.Provision:
        handle = provision.Provision.load(provision_file(base_urls, **options))
        handles.append(handle)
        return handle

    yield open_handle
    for handle in handles:
        handle.close()


@pytest.fixture(scope="session", autouse=True)
def no_secret_in_any_message() -> Iterator[None]:
    """After the session, checks once more every error message the tests
    collected (each is also checked where it is raised)."""
    yield
    for message in collected_messages:
        assert_no_secret(message)
