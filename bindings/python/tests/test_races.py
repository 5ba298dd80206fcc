"""Issue 9's Python defect kept away: set_logger, stop_refresh and close
from other threads (and close from inside the callbacks) while refresh
attempts run, hundreds of rounds, in a process of its own (races.py), so
that a crash fails this test instead of killing the suite. With the old
binding, which released a replaced logger's thunk at once, this died of
SIGSEGV in every run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import provision

HERE = Path(__file__).resolve().parent
ROUNDS = 300


def test_callbacks_survive_threads_racing_set_logger_stop_and_close():
    env = dict(os.environ, PROVISION_LIBRARY=provision.library_path)
    done = subprocess.run(
        [sys.executable, str(HERE / "races.py"), str(ROUNDS)],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    counts = dict(pair.split("=") for pair in done.stdout.split())
    quarter = str(ROUNDS // 4)
    for ending in ("stop_refresh", "close", "close_in_refresh_callback", "close_in_logger"):
        assert counts[ending] == quarter, counts
    # Each ending really happened where it says, and loggers really were replaced mid-run.
    assert counts["closed_in_logger"] == counts["closed_in_callback"] == quarter, counts
    assert int(counts["replaced"]) > ROUNDS and int(counts["records"]) >= ROUNDS, counts
