"""Statuses and the exception raised for each failure status.

Pure Python: nothing here needs the shared library, so the CLI can print its
help and exit codes without it.
"""

from __future__ import annotations

import errno
from enum import IntEnum
from typing import Dict, Optional, Type

__all__ = [
    "Status",
    "ProvisionError",
    "ArgumentError",
    "NotFoundError",
    "ProvisionIOError",
    "FormatError",
    "CredentialsError",
    "ServerError",
    "FetchError",
    "DeferredError",
    "InternalError",
    "RestrictedError",
    "ERRORS",
]


class Status(IntEnum):
    """The ``provision_status`` values of the C ABI (stable numbers)."""

    OK = 0
    ERR_ARGUMENT = 1
    ERR_NOT_FOUND = 2
    ERR_IO = 3
    ERR_FORMAT = 4
    ERR_CREDENTIALS = 5
    ERR_SERVER = 6
    ERR_FETCH = 7
    ERR_DEFERRED = 8
    ERR_INTERNAL = 9
    CACHED = 10
    """Not a failure: every URL failed and the last-known-good cache served."""
    ERR_RESTRICTED = 11
    """The provision file does not allow this addressbook operation; no request was made."""

    def __str__(self) -> str:
        """The name, e.g. ``ERR_FETCH``: what ``print(prov.run())`` shows."""
        return self.name

    def __format__(self, spec: str) -> str:
        return format(self.name, spec)


class ProvisionError(Exception):
    """A failed library call.

    ``status`` is the library's status (a :class:`Status`, or a plain ``int``
    for a status newer than this binding) and ``message`` the text of
    ``provision_last_error()`` read right after the call. ``str(error)`` is
    the message.
    """

    default_status: int = Status.ERR_INTERNAL
    default_errno: Optional[int] = None

    def __init__(self, message: str, status: Optional[int] = None) -> None:
        super().__init__(message)
        self.message: str = message
        self.status: int = self.default_status if status is None else status
        if isinstance(self, OSError):
            # OSError's own fields, for code that reads them.
            setattr(self, "errno", self.default_errno)
            setattr(self, "strerror", message)

    def __str__(self) -> str:
        return self.message


class ArgumentError(ProvisionError, ValueError):
    """A bad value (text that is not UTF-8 or holds NUL, a timeout out of
    range, an empty path), a closed handle, or a call that makes no sense
    yet (e.g. storing before any run). Also a :class:`ValueError`, as
    Python's own closed files raise; a value of the wrong type is a
    :class:`TypeError` instead."""

    default_status = Status.ERR_ARGUMENT


class NotFoundError(ProvisionError, FileNotFoundError):
    """The provision file does not exist: provisioning is off. Also a
    :class:`FileNotFoundError` (``errno`` ``ENOENT``)."""

    default_status = Status.ERR_NOT_FOUND
    default_errno = errno.ENOENT


class ProvisionIOError(ProvisionError, OSError):
    """A file exists but could not be read or written. Also an
    :class:`OSError` (``errno`` is ``None``: the library's message says why)."""

    default_status = Status.ERR_IO


class FormatError(ProvisionError):
    """The provision file or a local config is malformed, or larger than its bound."""

    default_status = Status.ERR_FORMAT


class CredentialsError(ProvisionError):
    """Credentials are needed and were not set (see ``set_credentials``)."""

    default_status = Status.ERR_CREDENTIALS


class ServerError(ProvisionError):
    """No URL succeeded and a server answered ``<error>``; ``message`` is its
    text, meant to be shown to the user."""

    default_status = Status.ERR_SERVER


class FetchError(ProvisionError):
    """No URL succeeded and none answered ``<error>``; ``message`` lists each
    URL and why it failed."""

    default_status = Status.ERR_FETCH


class DeferredError(ProvisionError):
    """A call is active: provisioning waits until hang-up."""

    default_status = Status.ERR_DEFERRED


class RestrictedError(ProvisionError):
    """The provision file does not allow this addressbook operation
    (``use_addressbook`` is 0, or the manipulation is in its
    ``restrictions``): no request was made."""

    default_status = Status.ERR_RESTRICTED


class InternalError(ProvisionError):
    """A bug in libprovision (a panic caught at the ABI boundary)."""

    default_status = Status.ERR_INTERNAL


ERRORS: Dict[Status, Type[ProvisionError]] = {
    cls.default_status: cls
    for cls in (
        ArgumentError,
        NotFoundError,
        ProvisionIOError,
        FormatError,
        CredentialsError,
        ServerError,
        FetchError,
        DeferredError,
        InternalError,
        RestrictedError,
    )
}
"""The exception class raised for each failure status."""


def status(value: int) -> int:
    """A :class:`Status`, or the plain ``int`` for a status newer than this binding."""
    try:
        return Status(value)
    except ValueError:
        return value


def error(value: int, message: str) -> ProvisionError:
    """The exception for a failure status; unknown statuses give the base class."""
    known = status(value)
    if isinstance(known, Status):
        return ERRORS.get(known, ProvisionError)(message, known)
    return ProvisionError(message, value)


class LibraryNotFound(ImportError):
    """libprovision could not be loaded; the message lists every place tried."""
