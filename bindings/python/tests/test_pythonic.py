"""What makes the binding feel like Python: timeouts in seconds, the usual
exception types for wrong types, bad values and file errors, and statuses
that print their names."""

from __future__ import annotations

import socket
import time

import pytest

import provision
from support import ANSWER, Reply, provision_xml, raises


def test_timeouts_are_seconds(load):
    # A server that accepts the connection (the kernel's backlog does) and
    # never answers: only the total timeout ends the request.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        prov = load([f"http://127.0.0.1:{silent.getsockname()[1]}/"])
        prov.set_timeouts(0.5, 1.5)
        started = time.monotonic()
        with raises(provision.FetchError) as info:
            prov.run()
        waited = time.monotonic() - started
    # Read as milliseconds, 1.5 would have given up after about 2 ms.
    assert waited >= 1.4, waited
    assert "time" in info.value.message.lower()


@pytest.mark.parametrize("value", ["5", None, b"5", True, [5]])
def test_a_timeout_that_is_not_a_number_is_a_type_error(load, value):
    prov = load(["http://127.0.0.1:9/"])
    with pytest.raises(TypeError):
        prov.set_timeouts(value, 30)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        prov.set_timeouts(5, value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [0, 0.0004, -1, float("nan"), float("inf"), 5e6])
def test_a_timeout_out_of_range_is_a_value_error(load, value):
    prov = load(["http://127.0.0.1:9/"])
    with pytest.raises(ValueError) as info:
        prov.set_timeouts(value, 30)
    assert isinstance(info.value, provision.ArgumentError)
    prov.set_timeouts(0.001, 4294967.295)  # the two ends are accepted


def test_file_errors_are_os_errors(tmp_path, load):
    missing = tmp_path / "absent.conf"
    with pytest.raises(FileNotFoundError) as info:
        provision.Provision.load(missing)
    assert isinstance(info.value, provision.NotFoundError) and str(missing) in str(info.value)
    with pytest.raises(OSError):
        provision.Provision.load(tmp_path)  # a folder: ProvisionIOError
    prov = load(["http://127.0.0.1:9/"])
    with pytest.raises(OSError) as io:
        prov.set_ca_file(tmp_path / "absent.pem")
    assert isinstance(io.value, provision.ProvisionIOError)


def test_bad_values_are_value_errors_and_closed_handles_too():
    prov = provision.Provision.from_xml(provision_xml(["http://127.0.0.1:9/"]))
    with pytest.raises(ValueError):
        prov.set_credentials("user", "nul\0inside")
    prov.close()
    with pytest.raises(ValueError):
        prov.run()


def test_run_returns_a_status_that_prints_its_name(serve, load):
    server = serve({"/configuration": Reply(ANSWER)})
    status = load([server.url + "/"]).run()
    assert status is provision.Status.OK and status == 0
    assert str(status) == "OK" and f"{status}" == "OK" and "OK" in repr(status)
    assert str(provision.Status.ERR_FETCH) == "ERR_FETCH"
