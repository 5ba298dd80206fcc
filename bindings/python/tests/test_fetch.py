"""Asking the base URLs in order: fallback, server errors, fetch errors."""

from __future__ import annotations

import threading

import pytest

import provision
from support import ANSWER, Reply, assert_no_secret, error_reply, raises

WRONG = "Wrong username or password"


def test_a_refused_url_falls_back_to_the_next(serve, dead_url, load):
    server = serve({"/prov/configuration": Reply(ANSWER)})
    live = server.url + "/prov/"
    prov = load([dead_url, live])

    assert prov.source_url is None and prov.config is None
    prov.run()

    assert prov.source_url == live
    assert server.paths == ["/prov/configuration"]
    assert "server-account" in prov.config


def test_source_url_is_the_base_url_as_written(serve, load):
    server = serve({"/a/b/configuration": Reply(ANSWER)})
    written = f"  {server.url}/a/b?site=3  "  # surrounding blanks are trimmed
    prov = load([written])
    prov.run()
    assert prov.source_url == written.strip()
    assert server.paths == ["/a/b/configuration?site=3"]


@pytest.mark.parametrize("http_status", [200, 401])
def test_an_error_answer_is_a_server_error_with_its_exact_text(serve, load, http_status):
    server = serve({"/configuration": error_reply(WRONG, http_status)})
    prov = load([server.url + "/"])

    with raises(provision.ServerError) as info:
        prov.run()

    assert info.value.message == WRONG
    assert prov.config is None and prov.source_url is None


@pytest.mark.parametrize("http_status", [200, 401])
def test_an_error_answer_falls_back_to_a_healthy_url(serve, load, http_status):
    failing = serve({"/configuration": error_reply(WRONG, http_status)})
    healthy = serve({"/configuration": Reply(ANSWER)})
    prov = load([failing.url + "/", healthy.url + "/"])

    prov.run()

    assert prov.source_url == healthy.url + "/"
    assert failing.paths == ["/configuration"] and healthy.paths == ["/configuration"]


def test_a_server_error_wins_over_other_failures(serve, dead_url, load):
    failing = serve({"/configuration": error_reply(WRONG, 403)})
    prov = load([dead_url, failing.url + "/", dead_url])
    with raises(provision.ServerError) as info:
        prov.run()
    assert info.value.message == WRONG


def test_when_every_url_fails_the_fetch_error_names_each(serve, dead_url, load):
    broken = serve({"/x/configuration": Reply("<options><accounts>", 200)})
    missing = serve({})  # 404 everywhere
    empty = serve({"/configuration": Reply("<options><audio/></options>")})  # no significant section
    urls = [dead_url, broken.url + "/x/", missing.url + "/", empty.url + "/"]
    prov = load(urls)

    with raises(provision.FetchError) as info:
        prov.run()

    message = info.value.message
    for url in urls:
        assert url + "configuration" in message
    assert "404" in message
    assert [len(s.requests) for s in (broken, missing, empty)] == [1, 1, 1]


def test_a_failed_run_keeps_the_previous_outcome(serve, load):
    replies = {"/configuration": Reply(ANSWER)}
    server = serve(replies)
    prov = load([server.url + "/"])
    prov.run()
    config = prov.config

    replies["/configuration"] = error_reply(WRONG)
    with raises(provision.ServerError):
        prov.run()

    assert prov.config == config
    assert prov.source_url == server.url + "/"
    assert prov.is_provisioned("accounts")


def test_each_thread_reads_its_own_last_error(serve, dead_url, load):
    failing = serve({"/configuration": error_reply(WRONG)})
    handles = {"server": load([failing.url + "/"]), "fetch": load([dead_url])}
    errors = {}
    barrier = threading.Barrier(len(handles))

    def run(name: str) -> None:
        barrier.wait()
        try:
            handles[name].run()
        except provision.ProvisionError as e:
            errors[name] = e

    threads = [threading.Thread(target=run, args=(name,)) for name in handles]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert isinstance(errors["server"], provision.ServerError)
    assert errors["server"].message == WRONG
    assert isinstance(errors["fetch"], provision.FetchError)
    assert dead_url in errors["fetch"].message
    for error in errors.values():
        assert_no_secret(error.message)


def test_timeouts_and_ca_file_are_checked_and_a_run_still_works(serve, tmp_path, load):
    server = serve({"/configuration": Reply(ANSWER)})
    handle = load([server.url + "/"])
    with raises(provision.ArgumentError):
        handle.set_timeouts(0, 1)
    handle.set_timeouts(2, 10)
    with raises(provision.ProvisionIOError):
        handle.set_ca_file(tmp_path / "absent.pem")
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    with raises(provision.FormatError):
        handle.set_ca_file(junk)
    handle.set_ca_file(None)
    handle.run()
    assert handle.source_url == server.url + "/"
