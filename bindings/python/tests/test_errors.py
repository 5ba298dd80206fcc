"""Bad provision files, bad local configs, and messages without secrets."""

from __future__ import annotations

import pytest

import provision
from support import (
    ANSWER,
    OTHER_PASSWORD,
    PASSWORD,
    USER,
    Reply,
    basic_token,
    error_reply,
    md5_hex,
    provision_xml,
    raises,
)


def load_fails(cls, path) -> str:
    """Loading ``path`` raises ``cls``; returns its message."""
    with raises(cls) as info:
        provision.Provision.load(path)
    return info.value.message


def test_a_missing_provision_file_is_not_found(tmp_path):
    path = tmp_path / "provision.conf"
    assert str(path) in load_fails(provision.NotFoundError, path)


def test_a_folder_is_an_io_error(tmp_path):
    assert str(tmp_path) in load_fails(provision.ProvisionIOError, tmp_path)


def test_a_malformed_provision_file_is_a_format_error_naming_the_file(tmp_path):
    path = tmp_path / "broken-provision.conf"
    path.write_text("<provision><base_urls></provision>", encoding="utf-8")
    message = load_fails(provision.FormatError, path)
    assert "broken-provision.conf" in message and "line 1" in message


def test_an_unknown_section_is_a_format_error_naming_it(provision_file):
    path = provision_file(["http://127.0.0.1:9/"], sections="accounts, videos ,codecs")
    message = load_fails(provision.FormatError, path)
    assert "'videos'" in message and str(path) in message


@pytest.mark.parametrize(
    "text, named",
    [
        ("not xml at all", "provision XML"),
        ("<provisioning/>", "<provision>"),
        (provision_xml(["ftp://127.0.0.1/"]), "ftp://127.0.0.1/"),
        (provision_xml(["http://127.0.0.1/"], authentication_type="ntlm"), "ntlm"),
    ],
)
def test_from_xml_rejects_malformed_text(text, named):
    with raises(provision.FormatError) as info:
        provision.Provision.from_xml(text)
    assert named in info.value.message


def test_a_malformed_local_config_costs_no_request(serve, load, tmp_path):
    server = serve({"/configuration": Reply(ANSWER)})
    prov = load([server.url + "/"])
    local = tmp_path / "config.xml"
    local.write_text("<options>\n  <audio>\n</options>", encoding="utf-8")

    with raises(provision.FormatError) as info:
        prov.run(local)

    assert str(local) in info.value.message
    assert server.requests == []
    assert prov.config is None


def test_an_unreadable_local_config_is_an_io_error_and_costs_no_request(serve, load, tmp_path):
    server = serve({"/configuration": Reply(ANSWER)})
    prov = load([server.url + "/"])
    with raises(provision.ProvisionIOError):
        prov.run(tmp_path)  # a folder
    assert server.requests == []


@pytest.mark.parametrize(
    "authentication_type, sent", [("basic", basic_token(USER, PASSWORD)), ("url", md5_hex(PASSWORD))]
)
def test_a_server_echoing_the_credentials_does_not_leak_them(serve, load, authentication_type, sent):
    echo = f"bad login: {PASSWORD} / {sent}"
    server = serve({"/configuration": error_reply(echo, 401)})
    prov = load([server.url + "/"], authentication_type=authentication_type)
    with raises(provision.ServerError) as info:
        prov.run()
    assert info.value.message.startswith("bad login: ")


def test_failing_urls_with_url_authentication_are_shown_without_credentials(serve, dead_url, load):
    server = serve({})
    prov = load([dead_url, server.url + "/p/?site=3"], authentication_type="url")
    prov.set_credentials("carol", OTHER_PASSWORD)
    with raises(provision.FetchError) as info:
        prov.run()
    assert server.url + "/p/configuration?site=3" in info.value.message
    assert "user=" not in info.value.message and "password=" not in info.value.message
    assert md5_hex(OTHER_PASSWORD) in server.requests[0].path
