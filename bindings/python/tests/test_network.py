"""Issue 12 through the binding and the CLI: extra headers, URL templates,
proxies and client certificates, against loopback servers."""

from __future__ import annotations

import socket
import threading
from typing import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

import provision
from support import ANSWER, Reply, error_reply, raises
from test_cli import cli

TEMPLATE_USER = "bob & co"
TEMPLATE_PASSWORD = "py&pw=1% é tmpl"
"""`&`, `=`, `%`, a space and non-ASCII (in tests/secrets.txt)."""
TEMPLATE = "/script?username=[username]&password={password}&version=[version]"


def vendor(request) -> Reply:
    """The vendor's example server: plain credentials from the query, <error> with HTTP 200."""
    query = {k: v[0] for k, v in parse_qs(urlsplit(request.path).query, keep_blank_values=True).items()}
    if not query.get("username"):
        return error_reply("No username")
    if (query.get("username"), query.get("password"), query.get("version")) != (TEMPLATE_USER, TEMPLATE_PASSWORD, "1.14"):
        return error_reply("Wrong password")
    return Reply(ANSWER)


def test_headers_arrive_and_reserved_ones_are_refused(serve, load):
    server = serve({"/configuration": Reply(ANSWER)})
    prov = load([server.url + "/"], use_authentication=0)
    prov.set_header("X-Device-Id", "py-phone")
    prov.run()
    assert server.requests[0].headers["x-device-id"] == "py-phone"
    for name in ("Authorization", "Host", "Proxy-Authorization", "Bad Name"):
        with raises(provision.ArgumentError):
            prov.set_header(name, "v")
    with raises(provision.ArgumentError) as info:
        prov.set_header("X-Token", "a\r\nInjected: 1")
    assert "Injected" not in info.value.message
    prov.set_header("X-Device-Id", None)
    prov.run()
    assert "x-device-id" not in server.requests[1].headers


def test_a_template_fills_in_credentials_and_variables(serve, load):
    server = serve({"/script/configuration": vendor})
    base = server.url + TEMPLATE
    prov = load([base], use_authentication=0)
    with raises(provision.CredentialsError):
        load([base], use_authentication=0, user="", password="").run()
    prov.set_credentials(TEMPLATE_USER, TEMPLATE_PASSWORD)
    with raises(provision.FormatError) as info:
        prov.run()
    assert "[version]" in info.value.message
    with raises(provision.ArgumentError):
        prov.set_variable("password", "x")
    prov.set_variable("version", "1.14")
    prov.run()
    assert prov.source_url == base, "the template, as written"
    assert "password=py%26pw%3D1%25%20%C3%A9%20tmpl" in server.requests[-1].path
    # What the logger shows of it is tests/network.rs's (and the CLI test's) business.


def test_the_cli_takes_network_options_and_never_prints_the_password(serve, provision_file):
    server = serve({"/script/configuration": vendor})
    path = str(provision_file([server.url + TEMPLATE], use_authentication=0))
    result = cli(
        "run", path, "--user", TEMPLATE_USER, "--set", "version=1.14", "--header", "X-Token=py-hdr-t0ken",
        "--proxy", "", password=TEMPLATE_PASSWORD,
    )
    assert result.returncode == 0, result.stderr
    assert "server-account" in result.stdout
    assert server.requests[-1].headers["x-token"] == "py-hdr-t0ken"
    for secret in (TEMPLATE_PASSWORD, "py%26pw", "py-hdr-t0ken"):
        assert secret not in result.stdout + result.stderr

    # A wrong password: the server's words, without the password.
    result = cli("run", path, "--user", TEMPLATE_USER, "--set", "version=1.14", password="py-wrong-pw")
    assert result.returncode == 16 and "Wrong password" in result.stderr
    assert "py-wrong-pw" not in result.stdout + result.stderr

    for bad in (["--header", "NoEquals"], ["--client-cert", path], ["--proxy", "socks5://u:py-proxy-pw@h:1"]):
        result = cli("run", path, *bad)
        assert result.returncode in (2, 11), result.stderr
        assert "py-proxy-pw" not in result.stderr and "Traceback" not in result.stderr


@pytest.fixture
def connect_proxy() -> Iterator[list]:
    """A CONNECT proxy on loopback that wants ``Proxy-Authorization``;
    yields [port, list of (method, authorized)]."""
    import base64

    wanted = "Basic " + base64.b64encode(b"corp:py-proxy-pw").decode()
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list = []

    def tunnel(client: socket.socket) -> None:
        with client:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = client.recv(4096)
                if not chunk:
                    return
                head += chunk
            lines = head.split(b"\r\n")
            method, target = lines[0].split()[:2]
            auth = [l.split(b":", 1)[1].strip() for l in lines[1:] if l.lower().startswith(b"proxy-authorization:")]
            ok = auth == [wanted.encode()]
            seen.append((method.decode(), ok))
            if not ok:
                client.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
                return
            host, port = target.decode().rsplit(":", 1)
            with socket.create_connection((host, int(port))) as upstream:
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")

                def pump(a: socket.socket, b: socket.socket) -> None:
                    while data := a.recv(65536):
                        b.sendall(data)
                    b.shutdown(socket.SHUT_WR)

                back = threading.Thread(target=pump, args=(upstream, client), daemon=True)
                back.start()
                try:
                    pump(client, upstream)
                except OSError:
                    pass
                back.join(timeout=30)

    def accept() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=tunnel, args=(client,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield [listener.getsockname()[1], seen]
    listener.close()


def test_a_proxy_that_wants_credentials(serve, load, connect_proxy):
    port, seen = connect_proxy
    server = serve({"/configuration": Reply(ANSWER)})
    prov = load([server.url + "/"], use_authentication=0)
    prov.set_proxy(f"http://127.0.0.1:{port}")
    with raises(provision.FetchError) as info:
        prov.run()
    assert "wants credentials" in info.value.message
    prov.set_proxy(f"http://corp:py-proxy-pw@127.0.0.1:{port}")
    prov.run()
    assert seen == [("CONNECT", False), ("CONNECT", True)]
    prov.set_proxy("")
    prov.run()
    assert len(seen) == 2 and len(server.requests) == 2
    with raises(provision.ArgumentError) as info:
        prov.set_proxy("ftp://u:py-proxy-pw@h:1")
    assert "py-proxy-pw" not in info.value.message


def test_client_certificate_files_are_checked_when_set(load, tmp_path):
    prov = load(["http://127.0.0.1:9/"], use_authentication=0)
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    with raises(provision.ProvisionIOError):
        prov.set_client_cert(tmp_path / "absent.crt", tmp_path / "absent.key")
    with raises(provision.FormatError) as info:
        prov.set_client_cert(junk, junk)
    assert "junk.pem" in info.value.message
    with raises(provision.ArgumentError):
        prov.set_client_cert(junk, None)
    prov.set_client_cert(None, None)


def _openssl(*args: str, cwd) -> None:
    import subprocess

    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _issue(tmp_path, name: str, subject: str, extensions: str) -> None:
    """``name.key`` and ``name.crt`` in tmp_path, signed by ``ca``."""
    (tmp_path / f"{name}.ext").write_text(extensions + "\n")
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f"{name}.key",
             "-out", f"{name}.csr", "-subj", subject, cwd=tmp_path)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-days", "2", "-out", f"{name}.crt", "-extfile", f"{name}.ext", cwd=tmp_path)


def test_an_openssl_server_that_requires_a_client_certificate(tmp_path, load):
    """Python's ssl (OpenSSL) with CERT_REQUIRED, certificates made by the openssl command now."""
    import http.server
    import ssl

    from support import make_handler

    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
             "-out", "ca.crt", "-subj", "/CN=py test CA", "-days", "2", cwd=tmp_path)
    _issue(tmp_path, "server", "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1")
    _issue(tmp_path, "phone", "/CN=py-phone", "extendedKeyUsage=clientAuth")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "server.crt", tmp_path / "server.key")
    context.load_verify_locations(tmp_path / "ca.crt")
    context.verify_mode = ssl.CERT_REQUIRED
    requests: list = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler({"/configuration": Reply(ANSWER)}, requests))
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        url = f"https://127.0.0.1:{httpd.server_address[1]}/"
        prov = load([url], use_authentication=0)
        prov.set_ca_file(tmp_path / "ca.crt")
        with raises(provision.FetchError) as info:
            prov.run()
        assert "client certificate" in info.value.message
        assert requests == []
        prov.set_client_cert(tmp_path / "phone.crt", tmp_path / "phone.key")
        prov.run()
        assert prov.source_url == url and len(requests) == 1
        with raises(provision.FormatError) as info:
            prov.set_client_cert(tmp_path / "phone.crt", tmp_path / "server.key")
        assert "does not match" in info.value.message
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
