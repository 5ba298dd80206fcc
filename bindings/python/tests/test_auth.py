"""What reaches the server: basic and url authentication, none, and the
credentials the user must give."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

import provision
from support import ANSWER, OTHER_PASSWORD, PASSWORD, USER, Reply, basic_token, md5_hex, raises


@pytest.fixture
def server(serve):
    return serve({"/prov/configuration": Reply(ANSWER)})


def only_request(server):
    assert len(server.requests) == 1, server.paths
    return server.requests[0]


def test_basic_sends_the_files_credentials(server, load):
    prov = load([server.url + "/prov/"], authentication_type="basic")
    prov.run()
    request = only_request(server)
    assert request.headers["authorization"] == "Basic " + basic_token(USER, PASSWORD)
    assert request.path == "/prov/configuration"


def test_basic_sends_the_credentials_set_exactly(server, load):
    prov = load([server.url + "/prov/"], authentication_type="basic")
    prov.set_credentials("user", "pa ss")
    prov.run()
    assert only_request(server).headers["authorization"] == "Basic dXNlcjpwYSBzcw=="


@pytest.mark.parametrize("user, encoded", [("a+b&c", "a%2Bb%26c"), ("jürgen x", "j%C3%BCrgen%20x")])
def test_url_sends_user_and_md5_and_keeps_the_base_query(server, load, user, encoded):
    prov = load([server.url + "/prov/?site=3"], authentication_type="url")
    prov.set_credentials(user, OTHER_PASSWORD)
    prov.run()

    request = only_request(server)
    target = urlsplit(request.path)
    assert target.path == "/prov/configuration"
    assert f"user={encoded}" in target.query.split("&")
    assert parse_qs(target.query) == {"site": ["3"], "user": [user], "password": [md5_hex(OTHER_PASSWORD)]}
    assert "authorization" not in request.headers
    assert prov.source_url == server.url + "/prov/?site=3"


@pytest.mark.parametrize("authentication_type", ["basic", "url"])
def test_without_authentication_nothing_is_sent(server, load, authentication_type):
    prov = load([server.url + "/prov/?site=3"], use_authentication=0, authentication_type=authentication_type)
    prov.set_credentials("user", OTHER_PASSWORD)
    prov.run()

    request = only_request(server)
    assert "authorization" not in request.headers
    assert parse_qs(urlsplit(request.path).query) == {"site": ["3"]}


def test_user_input_needs_credentials_before_any_request(server, load):
    prov = load([server.url + "/prov/"], user_input_authentication=1)

    with raises(provision.CredentialsError) as info:
        prov.run()

    assert "user_input_authentication" in info.value.message
    assert server.requests == []
    assert prov.config is None

    prov.set_credentials("bob", OTHER_PASSWORD)
    prov.run()
    assert only_request(server).headers["authorization"] == "Basic " + basic_token("bob", OTHER_PASSWORD)


def test_authentication_without_a_user_name_is_a_credentials_error(server, load):
    prov = load([server.url + "/prov/"], user="")
    with raises(provision.CredentialsError):
        prov.run()
    assert server.requests == []
