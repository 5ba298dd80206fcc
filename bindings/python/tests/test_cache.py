"""The last-known-good cache through the binding: Status.CACHED on a restart
while every server is down, the refresh once one is back, and a corrupt
cache that is ignored with a notice to the logger."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
from pathlib import Path

import provision
from support import ANSWER, PASSWORD, Reply, raises

OTHER = ANSWER.replace("server-account", "moved-account")


def switchable(serve, state):
    """A server that answers ``state["reply"]`` while ``state["up"]``, else 503."""
    return serve({"/configuration": lambda _r: state["reply"] if state["up"] else Reply("down", 503, "text/plain")})


def test_the_cache_serves_a_restart_while_down_and_is_refreshed_when_one_is_back(serve, dead_url, load, tmp_path):
    cache = tmp_path / "cache.xml"
    state = {"up": True, "reply": Reply(ANSWER)}
    server = switchable(serve, state)
    urls = [dead_url, server.url + "/"]

    before = load(urls)
    before.set_cache(cache)
    assert before.run() is provision.Status.OK and before.cache_reason is None
    assert cache.stat().st_mode & 0o777 == 0o600
    assert "server-account" in cache.read_text() and "<audio>" not in cache.read_text()

    state["up"] = False  # the restart, with every server down
    prov = load(urls, refresh_rate=60)
    prov.set_cache(cache)
    assert prov.run() is provision.Status.CACHED
    assert prov.config == before.config
    assert prov.source_url is None and prov.is_provisioned("accounts")
    assert dead_url in prov.cache_reason and "HTTP 503" in prov.cache_reason
    assert PASSWORD not in prov.cache_reason

    state.update(up=True, reply=Reply(OTHER))  # back, with new data
    seen: "queue.Queue[provision.Refreshed]" = queue.Queue()
    prov.start_refresh(None, seen.put)
    refreshed = seen.get(timeout=30)  # a back-off after the failure, not a period
    prov.stop_refresh()
    assert (refreshed.status, refreshed.changed) == (provision.Status.OK, True)
    assert "moved-account" in cache.read_text()
    assert prov.source_url == server.url + "/"


def test_without_a_cache_every_url_failing_is_still_an_error(dead_url, load, tmp_path):
    prov = load([dead_url])
    prov.set_cache(tmp_path / "never-written.xml")
    with raises(provision.FetchError):
        prov.run()
    prov.set_cache(None)
    with raises(provision.ArgumentError):
        prov.set_cache("")


def test_cached_is_a_status_not_an_exception():
    assert provision.Status.CACHED == 10
    assert provision.Status.CACHED not in provision.ERRORS


CORRUPT_RUN = """
import sys, provision
prov = provision.Provision.load(sys.argv[1])
prov.set_cache(sys.argv[2])
prov.set_logger(lambda r: print(r.kind, r.url, r.status, r.message, r.elapsed_ms, sep="|"))
try:
    prov.run()
except provision.FetchError:
    print("fetch error, config", prov.config)
"""


def test_a_corrupt_cache_is_ignored_with_a_notice_to_the_logger(provision_file, dead_url, tmp_path):
    # In a process of its own, to see that nothing reaches stderr: the
    # library never writes there, notices go to the host's logger.
    cache = tmp_path / "cache.xml"
    cache.write_text("<options><accounts>", encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(Path(provision.__file__).resolve().parent.parent))
    done = subprocess.run(
        [sys.executable, "-c", CORRUPT_RUN, str(provision_file([dead_url])), str(cache)],
        capture_output=True, text=True, env=env, timeout=60, check=True,
    )
    attempt, notice, end = done.stdout.splitlines()
    assert attempt.startswith(f"ATTEMPT|{dead_url}configuration|ERR_FETCH|")
    kind, url, status, message, elapsed = notice.split("|")
    assert (kind, url, status, elapsed) == ("NOTICE", "None", "ERR_FORMAT", "0")
    assert message.startswith(f"the last-known-good cache is corrupt or unreadable; ignored: {cache}: line 1")
    assert end == "fetch error, config None"
    assert done.stderr == ""
