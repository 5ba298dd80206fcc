"""The refresh worker through the binding: periods, calls, back-off, stop
(also from inside the callback), change reports, 304, the <provision>
section, and several threads at once.

Time matters here, so assertions are on counts, orders and lower bounds
that the schedule guarantees, never on how fast something happened; waits
for callbacks have generous timeouts that only bound a failing test.
"""

from __future__ import annotations

import itertools
import queue
import sys
import threading
import time
from typing import List

import pytest

import provision
from support import ANSWER, Reply, provision_xml, raises

PATIENCE = 30.0
OTHER = ANSWER.replace("server-account", "moved-account")
Status = provision.Status


class Callbacks:
    """A refresh callback that queues what it is given."""

    def __init__(self) -> None:
        self.queue: "queue.Queue[provision.Refreshed]" = queue.Queue()
        self.seen: List[provision.Refreshed] = []

    def __call__(self, refreshed: provision.Refreshed) -> None:
        self.seen.append(refreshed)
        self.queue.put(refreshed)

    def next(self) -> provision.Refreshed:
        return self.queue.get(timeout=PATIENCE)


def gaps(server) -> List[float]:
    times = [r.at for r in server.requests]
    return [b - a for a, b in zip(times, times[1:])]


def test_a_period_of_one_second_refreshes_repeatedly(serve, load):
    server = serve({"/configuration": Reply(ANSWER)})
    prov = load([server.url + "/"], refresh_rate=1)
    callbacks = Callbacks()
    prov.start_refresh(None, callbacks)
    got = [callbacks.next() for _ in range(3)]
    prov.stop_refresh()

    assert [r.status for r in got] == [Status.OK] * 3
    assert [r.changed for r in got] == [True, False, False]
    assert all("server-account" in r.config and r.message == "" for r in got)
    # One request per callback, and at most one whose attempt was under way
    # when stop came (its callback is not made).
    assert len(callbacks.seen) <= len(server.requests) <= len(callbacks.seen) + 1
    # The first attempt is at once, then a fresh period (at least half the
    # rate, so that a fleet spreads), then steady ones (within 10%).
    assert gaps(server)[0] >= 0.5 and all(gap >= 0.9 for gap in gaps(server)[1:]), gaps(server)


def test_refresh_rate_zero_a_second_worker_and_a_closed_handle_are_refused(serve, load):
    server = serve({"/configuration": Reply(ANSWER)})
    with raises(provision.ArgumentError) as info:
        load([server.url + "/"]).start_refresh()
    assert "refresh_rate" in info.value.message

    prov = load([server.url + "/"], refresh_rate=3600)
    prov.run()
    prov.start_refresh()
    with raises(provision.ArgumentError):
        prov.start_refresh()
    prov.close()
    with raises(provision.ArgumentError):
        prov.start_refresh()
    with raises(provision.ArgumentError):
        prov.set_call_active(True)


def test_a_call_blocks_every_request_and_hang_up_triggers_exactly_one(serve, load):
    server = serve({"/configuration": Reply(ANSWER)})
    prov = load([server.url + "/"], refresh_rate=1)
    prov.run()
    prov.set_call_active(True)
    with raises(provision.DeferredError):
        prov.run()
    callbacks = Callbacks()
    prov.start_refresh(None, callbacks)
    with pytest.raises(queue.Empty):
        callbacks.queue.get(timeout=2.5)  # two periods and a half in the call
    assert len(server.requests) == 1

    prov.set_call_active(False)
    assert callbacks.next().status == Status.OK
    callbacks.next()
    prov.stop_refresh()
    # One attempt at hang-up for all the missed periods: the one after it
    # keeps to the period instead of catching up.
    assert gaps(server)[1] >= 0.9


def test_failures_back_off_exponentially_below_the_period(serve, load):
    server = serve({"/configuration": Reply("busy", 503, "text/plain")})
    prov = load([server.url + "/"], refresh_rate=60)
    callbacks = Callbacks()
    prov.start_refresh(None, callbacks)
    got = [callbacks.next() for _ in range(3)]
    prov.stop_refresh()

    assert all(r.status == Status.ERR_FETCH and r.config is None for r in got)
    assert "HTTP 503" in got[0].message
    first, second = gaps(server)[:2]
    # 1 s, then 2 s, each less up to 25%: the ranges do not overlap.
    assert first >= 0.75 and second >= 1.5 and second > first, (first, second)
    assert second < 60


def test_refresh_now_asks_at_once_waits_for_hang_up_and_coalesces(serve, load):
    server = serve({"/configuration": Reply(ANSWER)})
    prov = load([server.url + "/"], refresh_rate=3600)
    with raises(provision.ArgumentError) as info:
        prov.refresh_now()
    assert "no refresh worker" in info.value.message
    callbacks = Callbacks()
    prov.start_refresh(None, callbacks)
    assert callbacks.next().status == Status.OK
    prov.refresh_now(0)
    assert callbacks.next().status == Status.OK, "not in half an hour"

    prov.set_call_active(True)
    for max_delay in (0, 0.3, 0, 0.1):
        prov.refresh_now(max_delay)
    with pytest.raises(queue.Empty):
        callbacks.queue.get(timeout=1.0)  # nothing during the call
    prov.set_call_active(False)
    assert callbacks.next().status == Status.OK
    with pytest.raises(queue.Empty):
        callbacks.queue.get(timeout=1.0)  # the four asks made one attempt
    prov.stop_refresh()
    assert len(server.requests) == 3
    with raises(provision.ArgumentError):
        prov.refresh_now()


@pytest.mark.parametrize("bad", [-0.001, float("nan"), float("inf"), 4294967.296])
def test_refresh_now_refuses_a_delay_out_of_range(serve, load, bad):
    prov = load(["http://127.0.0.1:9/"], refresh_rate=3600)
    with raises(provision.ArgumentError) as info:
        prov.refresh_now(bad)
    assert "max_delay" in info.value.message
    with pytest.raises(TypeError):
        prov.refresh_now("1")  # type: ignore[arg-type]


def test_stop_is_prompt_and_close_stops_the_worker(serve, load):
    server = serve({"/configuration": Reply(ANSWER)})
    prov = load([server.url + "/"], refresh_rate=3600)
    prov.run()
    callbacks = Callbacks()
    prov.start_refresh(None, callbacks)
    asked = time.monotonic()
    prov.stop_refresh()
    assert time.monotonic() - asked < 30, "not an hour's wait"
    prov.stop_refresh()  # none runs: nothing to do
    prov.start_refresh(None, callbacks)
    prov.close()
    assert callbacks.seen == [] and len(server.requests) == 1


@pytest.mark.parametrize("inside", ["stop_refresh", "close"])
def test_stop_or_close_from_inside_the_callback_does_not_deadlock(serve, load, inside):
    server = serve({"/configuration": Reply(ANSWER)})
    prov = load([server.url + "/"], refresh_rate=1)
    callbacks = Callbacks()

    def callback(refreshed: provision.Refreshed) -> None:
        assert prov.config is not None  # the handle is usable in the callback
        getattr(prov, inside)()
        callbacks(refreshed)

    prov.start_refresh(None, callback)
    callbacks.next()
    if inside == "stop_refresh":
        prov.stop_refresh()  # joins the worker that stopped itself
    else:
        time.sleep(1.5)  # more than a period: a freed worker stays stopped
        assert prov.closed
    assert len(callbacks.seen) == 1 and len(server.requests) == 1


def test_changed_only_on_real_change_and_the_callback_may_raise(serve, load, monkeypatch):
    turn = itertools.count()
    server = serve({"/configuration": lambda _r: Reply(ANSWER if next(turn) < 2 else OTHER)})
    prov = load([server.url + "/"], refresh_rate=1)
    callbacks = Callbacks()
    raised = []

    def callback(refreshed: provision.Refreshed) -> None:
        callbacks(refreshed)
        if not raised:
            raised.append(True)
            raise RuntimeError("a host bug; the worker goes on")

    reported = []
    monkeypatch.setattr(sys, "unraisablehook", lambda args: reported.append(args.exc_type))
    prov.start_refresh(None, callback)
    got = [callbacks.next() for _ in range(4)]
    prov.stop_refresh()
    assert reported == [RuntimeError]
    assert [r.changed for r in got] == [True, False, True, False]
    assert "moved-account" in prov.config


def test_a_304_keeps_the_config_and_reports_no_change(serve, load):
    etag = '"v7"'

    def conditional(request):
        if request.headers.get("if-none-match") == etag:
            return Reply("", 304)
        return Reply(ANSWER, headers=(("ETag", etag), ("Last-Modified", "Tue, 01 Apr 2025 10:00:00 GMT")))

    server = serve({"/configuration": conditional})
    prov = load([server.url + "/"], refresh_rate=1)
    callbacks = Callbacks()
    prov.start_refresh(None, callbacks)
    got = [callbacks.next() for _ in range(2)]
    prov.stop_refresh()

    assert [(r.status, r.changed) for r in got] == [(Status.OK, True), (Status.OK, False)]
    assert got[1].config == got[0].config
    assert "if-none-match" not in server.requests[0].headers
    assert server.requests[1].headers["if-none-match"] == etag
    assert server.requests[1].headers["if-modified-since"] == "Tue, 01 Apr 2025 10:00:00 GMT"


def test_a_provision_section_moves_the_next_refresh_and_save_keeps_it(serve, load, tmp_path):
    second = serve({"/new/configuration": Reply(OTHER)})
    section = provision_xml([second.url + "/new/"], use_authentication=0, sections="accounts,provision", refresh_rate=1)
    first = serve({"/configuration": Reply(ANSWER.replace("</options>", section + "</options>"))})
    prov = load([first.url + "/"], use_authentication=0, sections="accounts,provision", refresh_rate=60)
    callbacks = Callbacks()
    prov.start_refresh(None, callbacks)
    got = [callbacks.next() for _ in range(2)]  # the section set the period to 1 s
    prov.stop_refresh()

    assert "moved-account" in got[1].config
    assert prov.source_url == second.url + "/new/"
    assert len(first.requests) == 1

    saved = tmp_path / "saved.conf"
    prov.save(saved)
    with provision.Provision.load(saved) as again:
        again.run()
        assert again.source_url == second.url + "/new/"
    assert saved.stat().st_mode & 0o777 == 0o600


def test_refresh_call_toggling_and_runs_from_several_threads(serve, load):
    turn = itertools.count()
    replies = [Reply(ANSWER), Reply(OTHER), Reply("busy", 503, "text/plain")]
    server = serve({"/configuration": lambda _r: replies[next(turn) % 3]})
    prov = load([server.url + "/"], refresh_rate=1)
    callbacks = Callbacks()
    prov.start_refresh(None, callbacks)
    until = time.monotonic() + 2
    problems: List[str] = []

    def whole(config):
        return config is None or (("server-account" in config) != ("moved-account" in config))

    def toggle():
        active = True
        while time.monotonic() < until:
            prov.set_call_active(active)
            active = not active

    def run():
        while time.monotonic() < until:
            try:
                prov.run()
            except (provision.DeferredError, provision.FetchError):
                pass
            if not whole(prov.config):
                problems.append(prov.config)

    def restart():
        while time.monotonic() < until:
            prov.stop_refresh()
            try:
                prov.start_refresh(None, callbacks)
            except provision.ArgumentError as e:
                problems.append(e.message)
            time.sleep(0.2)

    threads = [threading.Thread(target=body) for body in (toggle, run, restart)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    prov.set_call_active(False)
    prov.stop_refresh()
    assert problems == []
    assert all(whole(r.config) for r in callbacks.seen)
    assert server.requests
