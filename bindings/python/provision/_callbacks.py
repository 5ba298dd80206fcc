"""The C callbacks (ctypes thunks) that carry the library's calls into
Python: the refresh worker's report and the logger's records.

A thunk must outlive every call the library may still make through it;
the handle (_provision.py) keeps each one for that long.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable, List, NamedTuple, Optional

from . import _ffi
from ._errors import status as _status

__all__ = ["Attempt", "Logger", "Refreshed"]


@dataclass(frozen=True)
class Attempt:
    """One base URL a run tried, as the logger hears it."""

    url: str
    """``BASE + "configuration"`` without credentials."""
    status: int
    """:attr:`Status.OK` for the URL that served, :attr:`Status.ERR_SERVER`
    for an ``<error>`` answer, :attr:`Status.ERR_FETCH` for any other failure."""
    outcome: str
    """What happened, as a sentence; never a password, its MD5 or a Basic token."""
    elapsed_ms: int
    """Wall time spent on that URL, in milliseconds."""


Logger = Callable[[Attempt], None]
"""A callable that receives each :class:`Attempt` of a run."""


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
"""``depth`` > 0 while this thread runs a refresh callback."""

retired_thunks: List[Any] = []
"""C callbacks of workers that were stopped or freed from inside their own
callback: the worker may still be returning through them, so they are never
released (one small object per such stop)."""


def inside_callback() -> bool:
    """Whether this thread is running a refresh callback."""
    return getattr(_in_callback, "depth", 0) > 0


def refresh_thunk(callback: Optional[Callable[[Refreshed], None]]) -> Any:
    """The C callback that calls ``callback`` on the worker thread (``None``:
    a NULL callback). An exception it raises goes to ``sys.unraisablehook``
    (ctypes reports it)."""
    if callback is None:
        return _ffi.RefreshCallback()

    def trampoline(_userdata: Any, status: int, changed: int, config: Optional[bytes]) -> None:
        _in_callback.depth = getattr(_in_callback, "depth", 0) + 1
        try:
            # The worker set this thread's last error to the attempt's message.
            message = _ffi.last_message()
            callback(Refreshed(_status(status), bool(changed), _ffi.decode(config), message))
        finally:
            _in_callback.depth -= 1

    return _ffi.RefreshCallback(trampoline)


def log_thunk(logger: Optional[Logger]) -> Any:
    """The C logger that hands each record to ``logger`` as an
    :class:`Attempt` (``None``: a NULL logger)."""
    if logger is None:
        return _ffi.LogCallback()

    def hear(url: Optional[bytes], status: int, outcome: Optional[bytes], elapsed_ms: int, _: Any) -> None:
        logger(Attempt(_ffi.decode(url) or "", _status(status), _ffi.decode(outcome) or "", elapsed_ms))

    return _ffi.LogCallback(hear)
