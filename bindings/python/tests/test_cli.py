"""``python3 -m provision run`` as an operator runs it: a real process
against loopback servers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, Optional

import pytest

import provision
from support import ANSWER, OTHER_PASSWORD, PASSWORD, USER, Reply, basic_token, error_reply, provision_xml

PACKAGE_DIR = str(Path(provision.__file__).resolve().parent.parent)


def cli(*args: str, password: Optional[str] = None, library: Optional[str] = None) -> subprocess.CompletedProcess:
    """The CLI in a new session: no controlling terminal, stdin empty."""
    env: Dict[str, str] = dict(os.environ, PYTHONPATH=PACKAGE_DIR, PROVISION_LIBRARY=library or provision.library_path)
    env.pop("PROVISION_PASSWORD", None)
    if password is not None:
        env["PROVISION_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", "provision", *args], env=env, capture_output=True, text=True,
        stdin=subprocess.DEVNULL, start_new_session=True, timeout=120,
    )


LOG_PREFIXES = ("ok     ", "server ", "failed ", "notice ", "warning: ")


def one_line_error(result: subprocess.CompletedProcess, code: int) -> str:
    """Checks the shape of every failure: that exit status, nothing on
    stdout, no traceback, the error on one line after the log's lines (one
    per URL tried); returns the error's line."""
    assert result.returncode == code, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    *log, error = result.stderr.splitlines()
    assert all(line.startswith(LOG_PREFIXES) for line in log), result.stderr
    return error


def test_success_prints_the_log_the_source_and_the_merged_config(serve, dead_url, provision_file, tmp_path):
    live = serve({"/configuration": Reply(ANSWER)})
    local = tmp_path / "Config.xml"
    local.write_text("<options>\n  <audio><volume>3</volume></audio>\n</options>\n", encoding="utf-8")
    before = local.read_bytes()
    result = cli("run", str(provision_file([dead_url, live.url + "/"])), "--local", str(local))

    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"failed {dead_url}configuration: ") and lines[0].endswith(" ms)")
    assert lines[1].startswith(f"ok     {live.url}/configuration: ok, {len(ANSWER)} bytes (")
    assert lines[2] == f"served by {live.url}/ (provisioned: accounts, codecs)"
    assert "<volume>3</volume>" in result.stdout and "server-account" in result.stdout
    assert local.read_bytes() == before, "nothing is written"
    assert PASSWORD not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "replies, status",
    [
        ({"/configuration": error_reply("Wrong username or password", 401)}, provision.Status.ERR_SERVER),
        ({"/configuration": Reply("oops", 500)}, provision.Status.ERR_FETCH),
    ],
)
def test_each_failure_kind_has_its_exit_status(serve, provision_file, replies, status):
    server = serve(replies)
    result = cli("run", str(provision_file([server.url + "/"])))
    assert result.returncode == 10 + status
    assert result.stdout == ""
    if status == provision.Status.ERR_SERVER:
        assert "error (ERR_SERVER): the server says: Wrong username or password" in result.stderr
    else:
        assert f"error (ERR_FETCH): no base URL succeeded: {server.url}/configuration: HTTP 500" in result.stderr


def test_file_errors_exit_before_any_request(tmp_path):
    assert cli("run", str(tmp_path / "absent.conf")).returncode == 12
    bad = tmp_path / "provision.conf"
    bad.write_text("<provision>", encoding="utf-8")
    result = cli("run", str(bad))
    assert result.returncode == 14 and str(bad) in result.stderr


def test_user_input_authentication_needs_user(serve, provision_file):
    server = serve({"/configuration": Reply(ANSWER)})
    path = str(provision_file([server.url + "/"], user_input_authentication=1, user="", password=""))
    result = cli("run", path)
    assert result.returncode == 15 and "--user" in result.stderr
    assert server.requests == []

    result = cli("run", path, "--user", USER, password=OTHER_PASSWORD)
    assert result.returncode == 0, result.stderr
    assert server.requests[0].headers["authorization"] == "Basic " + basic_token(USER, OTHER_PASSWORD)


def test_help_documents_the_command_and_the_exit_statuses():
    result = cli("run", "--help")
    assert result.returncode == 0
    for text in ("PROVISION_FILE", "--local CONFIG", "--user U", "PROVISION_PASSWORD", "17  ERR_FETCH"):
        assert text in result.stdout
    assert cli().returncode == 2


def test_secret_query_parameters_never_reach_a_cli_line(serve, dead_url, provision_file):
    # Issue 10: some servers take credentials in the base URL's query.
    live = serve({"/configuration": Reply(ANSWER)})
    dead = dead_url + "?username=u&password=verysecret"
    served = live.url + "/?username=u&password=verysecret&site=7"
    result = cli("run", str(provision_file([dead, served], use_authentication=0)))
    assert result.returncode == 0, result.stderr
    assert "verysecret" not in result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"failed {dead_url}configuration?username=u&password=***: ")
    assert lines[1].startswith(f"ok     {live.url}/configuration?username=u&password=***&site=7: ok, ")
    assert lines[2] == f"served by {live.url}/?username=u&password=***&site=7 (provisioned: accounts, codecs)"


def test_help_works_without_the_library_and_the_rest_fails_in_one_line(tmp_path, provision_file):
    hidden = str(tmp_path / "no-libprovision-here.so")
    for args in (["--help"], ["run", "--help"]):
        result = cli(*args, library=hidden)
        assert result.returncode == 0 and "usage:" in result.stdout and result.stderr == "", result.stderr
    line = one_line_error(cli("run", str(provision_file(["http://127.0.0.1:9/"])), library=hidden), 1)
    assert line.startswith("error: libprovision could not be loaded") and hidden in line
    assert one_line_error(cli("--version", library=hidden), 1).startswith("error: libprovision could not be loaded")


def test_version_names_the_library():
    result = cli("--version")
    assert result.returncode == 0 and f"libprovision {provision.version()} from " in result.stdout


def test_no_terminal_and_no_password_is_its_own_exit_status(serve, provision_file):
    server = serve({"/configuration": Reply(ANSWER)})
    path = str(provision_file([server.url + "/"], user_input_authentication=1, user="", password=""))
    line = one_line_error(cli("run", path, "--user", USER), 3)
    assert "no password for " + USER in line and "PROVISION_PASSWORD" in line
    assert server.requests == []


def test_user_against_use_authentication_0_is_a_warning_and_sends_nothing(serve, provision_file):
    server = serve({"/configuration": Reply(ANSWER)})
    path = str(provision_file([server.url + "/"], use_authentication=0))
    result = cli("run", path, "--user", USER)  # no password needed either
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == f"warning: --user {USER} is not sent: {path} has use_authentication 0"
    assert "authorization" not in server.requests[0].headers
    assert "user=" not in server.requests[0].path


def test_a_missing_local_config_is_a_warning(serve, provision_file, tmp_path):
    server = serve({"/configuration": Reply(ANSWER)})
    typo = str(tmp_path / "Confgi.xml")
    result = cli("run", str(provision_file([server.url + "/"])), "--local", typo)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == f"warning: --local {typo} does not exist: merging into an empty local config"
    assert "server-account" in result.stdout


def test_failures_are_one_line(serve, dead_url, provision_file, tmp_path):
    multi = "Account locked.\nCall support."
    server = serve({"/configuration": error_reply(multi, 403)})
    line = one_line_error(cli("run", str(provision_file([server.url + "/"]))), 16)
    assert line == "error (ERR_SERVER): the server says: Account locked. Call support."
    line = one_line_error(cli("run", str(provision_file([dead_url, dead_url + "x/"]))), 17)
    assert line.startswith("error (ERR_FETCH): no base URL succeeded: ")
    assert one_line_error(cli("run", str(tmp_path / "absent.conf")), 12).startswith("error (ERR_NOT_FOUND): ")
