"""The C callbacks (ctypes thunks) that carry the library's calls into
Python: the refresh worker's report and the logger's records.

A thunk must outlive every call the library may still make through it: the
handle (_provision.py) keeps each one it installed until ``provision_free``
has returned, which it never calls from inside a callback.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Callable, Iterator, NamedTuple, Optional

from . import _ffi
from ._errors import status as _status

__all__ = ["LogKind", "LogRecord", "Attempt", "Logger", "Refreshed"]


class LogKind(IntEnum):
    """What a :class:`LogRecord` is about (``provision_log_kind``)."""

    ATTEMPT = 0
    """One base URL a run tried."""
    NOTICE = 1
    """Something the host should know that fails nothing: a corrupt cache
    ignored, a ``<provision>`` section refused, a cache not written."""

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class LogRecord:
    """One record for the host's log (``provision_log_record_t``)."""

    kind: LogKind
    """:attr:`LogKind.ATTEMPT` or :attr:`LogKind.NOTICE` (also for a kind
    newer than this binding, as the header asks)."""
    url: Optional[str]
    """For an attempt, ``BASE + "configuration"`` without credentials;
    ``None`` for a notice."""
    status: int
    """For an attempt, :attr:`Status.OK` for the URL that served,
    :attr:`Status.ERR_SERVER` for an ``<error>`` answer,
    :attr:`Status.ERR_FETCH` for any other failure; for a notice, the status
    of what went wrong."""
    message: str
    """What happened, as a sentence; never a password, its MD5 or a Basic token."""
    elapsed_ms: int
    """Wall time spent on that URL, in milliseconds; 0 for a notice."""

    @property
    def outcome(self) -> str:
        """The :attr:`message` (the name it had when records were only attempts)."""
        return self.message


Attempt = LogRecord
"""The name records had when they were only attempts; code written for it
keeps working (``url``, ``status``, ``outcome``, ``elapsed_ms``), and now
also hears notices (``url`` is ``None`` for those)."""

Logger = Callable[[LogRecord], None]
"""A callable that receives each :class:`LogRecord` of the runs on a handle."""


class Refreshed(NamedTuple):
    """What the refresh worker reports after each attempt."""

    status: int
    """:class:`Status` ``OK``, ``CACHED``, or the failure's status."""
    changed: bool
    """Whether the merged config differs from the one before the attempt."""
    config: Optional[str]
    """The merged config for ``OK`` and ``CACHED``, else ``None``."""
    message: str
    """The library's message for the attempt (``""`` for ``OK``)."""


_in_callback = threading.local()
"""``depth`` > 0 while this thread runs a callback from the library."""

def inside_callback() -> bool:
    """Whether this thread is running a callback from the library."""
    return getattr(_in_callback, "depth", 0) > 0


@contextmanager
def _called_back() -> Iterator[None]:
    _in_callback.depth = getattr(_in_callback, "depth", 0) + 1
    try:
        yield
    finally:
        _in_callback.depth -= 1


def refresh_thunk(callback: Optional[Callable[[Refreshed], None]]) -> Any:
    """The C callback that calls ``callback`` on the worker thread (``None``:
    a NULL callback). An exception it raises goes to ``sys.unraisablehook``
    (ctypes reports it)."""
    if callback is None:
        return _ffi.RefreshCallback()

    def trampoline(_userdata: Any, status: int, changed: int, config: Optional[bytes]) -> None:
        with _called_back():
            # The worker set this thread's last error to the attempt's message.
            message = _ffi.last_message()
            callback(Refreshed(_status(status), bool(changed), _ffi.decode(config), message))

    return _ffi.RefreshCallback(trampoline)


def log_thunk(logger: Optional[Logger]) -> Any:
    """The C logger that hands each record to ``logger`` as a
    :class:`LogRecord` (``None``: a NULL logger)."""
    if logger is None:
        return _ffi.LogCallback()

    def hear(_userdata: Any, pointer: Any) -> None:
        with _called_back():
            record = pointer.contents  # valid only during this call: copied here
            kind = LogKind.ATTEMPT if record.kind == LogKind.ATTEMPT else LogKind.NOTICE
            logger(
                LogRecord(
                    kind,
                    _ffi.decode(record.url),
                    _status(record.status),
                    _ffi.decode(record.message) or "",
                    int(record.elapsed_ms),
                )
            )

    return _ffi.LogCallback(hear)
