"""The attempt log and the User-Agent through the binding."""

from __future__ import annotations

import gc
import threading
from typing import List

import pytest

import provision
from provision import Attempt, Status
from support import ANSWER, PASSWORD, Reply, assert_no_secret, error_reply, raises


def test_each_url_tried_reaches_the_logger_in_order(serve, dead_url, load):
    refusing = serve({"/configuration": error_reply("Account locked")})
    live = serve({"/configuration": Reply(ANSWER)})
    prov = load([dead_url, refusing.url + "/", live.url + "/"])
    heard: List[Attempt] = []
    prov.set_logger(heard.append)
    prov.run()

    assert [(a.url, a.status) for a in heard] == [
        (dead_url + "configuration", Status.ERR_FETCH),
        (refusing.url + "/configuration", Status.ERR_SERVER),
        (live.url + "/configuration", Status.OK),
    ]
    assert heard[1].outcome == "server error: Account locked"
    assert heard[2].outcome == f"ok, {len(ANSWER)} bytes"
    assert all(isinstance(a.elapsed_ms, int) and 0 <= a.elapsed_ms < 60_000 for a in heard)
    for a in heard:
        assert_no_secret(a.url + a.outcome)


def test_the_callable_is_kept_alive_by_the_handle(serve, load):
    live = serve({"/configuration": Reply(ANSWER)})
    prov = load([live.url + "/"])
    heard: List[str] = []

    def install() -> None:
        # Nothing but the handle refers to this closure once install returns.
        prov.set_logger(lambda attempt: heard.append(attempt.url))

    install()
    gc.collect()
    prov.run()
    assert heard == [live.url + "/configuration"]


def test_the_logger_runs_on_the_thread_that_runs(serve, load):
    live = serve({"/configuration": Reply(ANSWER)})
    prov = load([live.url + "/"])
    threads: List[int] = []
    prov.set_logger(lambda attempt: threads.append(threading.get_ident()))
    worker = threading.Thread(target=prov.run)
    worker.start()
    worker.join()
    assert threads == [worker.ident]


# ctypes reports the exception as unraisable, which pytest turns into a warning.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_failing_logger_does_not_stop_the_run(serve, load):
    live = serve({"/configuration": Reply(ANSWER)})
    prov = load([live.url + "/"])

    def broken(attempt: Attempt) -> None:
        raise RuntimeError("the host's log is full")

    prov.set_logger(broken)
    prov.run()
    assert prov.source_url == live.url + "/"


def test_none_removes_the_logger_and_close_drops_it(serve, load):
    live = serve({"/configuration": Reply(ANSWER)})
    prov = load([live.url + "/"])
    heard: List[Attempt] = []
    prov.set_logger(heard.append)
    prov.set_logger(None)
    prov.run()
    assert heard == []
    prov.set_logger(heard.append)
    prov.close()
    assert prov._thunks == []


def test_the_user_agent_is_sent_and_can_be_reset(serve, load):
    live = serve({"/configuration": Reply(ANSWER)})
    prov = load([live.url + "/"])
    prov.run()
    prov.set_user_agent("Softphone/2.0")
    prov.run()
    prov.set_user_agent(None)
    prov.run()
    default = "libprovision/" + provision.version()
    assert [r.headers["user-agent"] for r in live.requests] == [default, "Softphone/2.0", default]


def test_a_user_agent_with_a_line_break_is_refused(load):
    prov = load(["http://127.0.0.1:9/"])
    with raises(provision.ArgumentError):
        prov.set_user_agent("x\r\nInjected: 1")
    assert PASSWORD not in repr(prov)


def test_records_are_log_records_with_a_kind_and_attempt_still_reads_them(serve, load):
    live = serve({"/configuration": Reply(ANSWER)})
    prov = load([live.url + "/"])
    heard: List[provision.LogRecord] = []
    prov.set_logger(heard.append)
    prov.run()
    (record,) = heard
    assert isinstance(record, provision.LogRecord) and provision.Attempt is provision.LogRecord
    assert record.kind is provision.LogKind.ATTEMPT and str(record.kind) == "ATTEMPT"
    assert record.outcome == record.message == f"ok, {len(ANSWER)} bytes"


def test_a_refused_provision_section_is_a_notice(serve, load):
    # A <provision> section without base URLs is refused: the run succeeds,
    # the settings stay, and the logger hears why.
    answer = ANSWER.replace("</options>", "<provision><options><refresh_rate>60</refresh_rate></options></provision></options>")
    live = serve({"/configuration": Reply(answer)})
    prov = load([live.url + "/"], sections="accounts,codecs,provision")
    heard: List[provision.LogRecord] = []
    prov.set_logger(heard.append)
    prov.run()
    notices = [r for r in heard if r.kind is provision.LogKind.NOTICE]
    assert len(notices) == 1, heard
    assert notices[0].url is None and notices[0].elapsed_ms == 0 and notices[0].status != Status.OK
    assert notices[0].message.startswith(f"the <provision> section from {live.url}/: ")
    assert notices[0].message.endswith("the current settings stay")
