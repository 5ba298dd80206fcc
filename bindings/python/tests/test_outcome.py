"""Outcome: the last run's result as Python values, copied out of a
library snapshot, consistent and unchanged whatever happens afterwards."""

from __future__ import annotations

import dataclasses

import pytest

import provision
from support import ANSWER, Reply

OTHER = ANSWER.replace("server-account", "moved-account")


def test_none_before_a_run_then_the_runs_values(serve, dead_url, load):
    server = serve({"/configuration": Reply(ANSWER)})
    prov = load([dead_url, server.url + "/"])
    assert prov.last_outcome() is None
    prov.run()
    outcome = prov.last_outcome()
    assert outcome == provision.Outcome(
        config=prov.config, source_url=server.url + "/", from_cache=False, provisioned=("accounts", "codecs")
    )
    assert outcome.is_provisioned("codecs") and not outcome.is_provisioned("audio")
    with pytest.raises(dataclasses.FrozenInstanceError):
        outcome.config = ""  # type: ignore[misc]


def test_an_outcome_outlives_later_runs_and_the_handle(serve, load):
    state = {"reply": Reply(ANSWER)}
    server = serve({"/configuration": lambda _r: state["reply"]})
    prov = load([server.url + "/"])
    prov.run()
    first = prov.last_outcome()
    state["reply"] = Reply(OTHER)
    prov.run()
    assert "moved-account" in prov.last_outcome().config
    prov.close()
    assert "server-account" in first.config and "moved-account" not in first.config


def test_an_outcome_from_the_cache_says_so(serve, dead_url, load, tmp_path):
    server = serve({"/configuration": Reply(ANSWER)})
    warm = load([server.url + "/"])
    warm.set_cache(tmp_path / "cache.xml")
    warm.run()
    cold = load([dead_url])
    cold.set_cache(tmp_path / "cache.xml")
    assert cold.run() is provision.Status.CACHED
    outcome = cold.last_outcome()
    assert outcome.from_cache and outcome.source_url is None
    assert outcome.provisioned == ("accounts", "codecs") and "server-account" in outcome.config


def test_a_failed_run_keeps_the_previous_outcome(serve, load):
    state = {"up": True}
    server = serve({"/configuration": lambda _r: Reply(ANSWER) if state["up"] else Reply("down", 503)})
    prov = load([server.url + "/"])
    prov.run()
    before = prov.last_outcome()
    state["up"] = False
    with pytest.raises(provision.FetchError):
        prov.run()
    assert prov.last_outcome() == before
