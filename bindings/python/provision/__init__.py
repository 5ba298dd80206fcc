"""Python binding for libprovision: provision a softphone from an operator's
web server, as described by a Zoiper-style ``provision.conf``.

A thin :mod:`ctypes` layer over the C ABI in ``include/provision.h``::

    import provision

    with provision.Provision.load("provision.conf") as prov:
        prov.set_credentials("alice", "s3cret")   # if the file asks the user
        prov.run("config.xml")                    # fetch and merge, in memory
        prov.store_local("config.xml")            # keep the local sections
        print(prov.source_url, prov.is_provisioned("accounts"))

Periodic re-provisioning runs on a library thread and reports through a
callback; tell the library when a call is up, so that it never asks then::

    prov.set_cache("cache.xml")                   # last-known-good config
    prov.start_refresh("config.xml", lambda r: print(r.status, r.changed))
    prov.set_call_active(True)                    # ... and False at hang-up

Every failure raises a :class:`ProvisionError` subclass chosen by the
library's status; its ``message`` is the library's own text, which never
contains a password. ``prov.set_logger(callable)`` hands each URL a run
tries to the host's log as an :class:`Attempt`.

For operators, ``python3 -m provision run PROVISION_FILE`` tries a provision
file against its servers and prints what happened (``--help``).

The shared library is looked up, in order: the path in the environment
variable ``PROVISION_LIBRARY`` (when set, it is the only place tried), then
``ctypes.util.find_library("provision")``, then an in-tree build
(``bindings/python/../../target/release``, then ``.../target/debug``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, NamedTuple, Optional, Type, Union

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
    "ERRORS",
    "Refreshed",
    "Attempt",
    "Logger",
    "Provision",
    "version",
    "library_path",
]

StrPath = Union[str, "os.PathLike[str]"]
"""A file system path: ``str`` or any :class:`os.PathLike`."""


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


# --------------------------------------------------------------------------
# Exceptions


class ProvisionError(Exception):
    """A failed library call.

    ``status`` is the library's status (a :class:`Status`, or a plain ``int``
    for a status newer than this binding) and ``message`` the text of
    ``provision_last_error()`` read right after the call. ``str(error)`` is
    the message.
    """

    default_status: int = Status.ERR_INTERNAL

    def __init__(self, message: str, status: Optional[int] = None) -> None:
        super().__init__(message)
        self.message: str = message
        self.status: int = self.default_status if status is None else status

    def __str__(self) -> str:
        return self.message


class ArgumentError(ProvisionError):
    """A NULL or closed handle, text that is not UTF-8 or holds NUL, or a
    call that makes no sense yet (e.g. storing before any run)."""

    default_status = Status.ERR_ARGUMENT


class NotFoundError(ProvisionError):
    """The provision file does not exist: provisioning is off."""

    default_status = Status.ERR_NOT_FOUND


class ProvisionIOError(ProvisionError):
    """A file exists but could not be read or written."""

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
    )
}
"""The exception class raised for each failure status."""


def _status(value: int) -> int:
    """A :class:`Status`, or the plain ``int`` for a status newer than this binding."""
    try:
        return Status(value)
    except ValueError:
        return value


def _error(status: int, message: str) -> ProvisionError:
    """The exception for a failure ``status``; unknown statuses give the base class."""
    try:
        known = Status(status)
    except ValueError:
        return ProvisionError(message, status)
    return ERRORS.get(known, ProvisionError)(message, known)


# --------------------------------------------------------------------------
# Loading the library


def _load() -> ctypes.CDLL:
    """Loads the first library found; ImportError listing every place tried."""
    explicit = os.environ.get("PROVISION_LIBRARY")
    if explicit:
        # An explicit choice is never silently replaced by another build.
        candidates: List[Optional[str]] = [explicit]
    else:
        # An in-tree build: bindings/python/../../target/<profile>/
        project = Path(__file__).resolve().parent.parent
        candidates = [ctypes.util.find_library("provision")] + [
            os.path.normpath(project / ".." / ".." / "target" / profile / "libprovision.so")
            for profile in ("release", "debug")
        ]
    tried = []
    for candidate in candidates:
        if candidate is None:
            tried.append("ctypes.util.find_library('provision'): nothing found")
            continue
        try:
            return ctypes.CDLL(candidate)
        except OSError as e:
            tried.append(f"{candidate}: {e}")
    raise ImportError(
        "libprovision could not be loaded. Tried:\n  "
        + "\n  ".join(tried)
        + "\nSet PROVISION_LIBRARY to the path of libprovision.so"
        " or build it with `cargo build --lib`."
    )


class _Opaque(ctypes.Structure):
    """The C ``Provision`` struct, only ever seen through a pointer."""


_Handle = ctypes.POINTER(_Opaque)

_lib = _load()
library_path: str = _lib._name
"""The path or name the shared library was loaded from."""


def _declare(name: str, restype: Any, *argtypes: Any) -> Any:
    """The library function ``name`` with its C signature declared."""
    function = getattr(_lib, name)
    function.restype = restype
    function.argtypes = list(argtypes)
    return function


_c_str = ctypes.c_char_p
_load_file = _declare("provision_load", ctypes.c_int, _c_str, ctypes.POINTER(_Handle))
_load_xml = _declare("provision_load_xml", ctypes.c_int, _c_str, ctypes.POINTER(_Handle))
_free = _declare("provision_free", None, _Handle)
_set_credentials = _declare("provision_set_credentials", ctypes.c_int, _Handle, _c_str, _c_str)
_set_timeouts = _declare("provision_set_timeouts", ctypes.c_int, _Handle, ctypes.c_uint, ctypes.c_uint)
_set_ca_file = _declare("provision_set_ca_file", ctypes.c_int, _Handle, _c_str)
_run = _declare("provision_run", ctypes.c_int, _Handle, _c_str)
_config = _declare("provision_config", _c_str, _Handle)
_source_url = _declare("provision_source_url", _c_str, _Handle)
_is_provisioned = _declare("provision_is_provisioned", ctypes.c_int, _Handle, _c_str)
_store_local = _declare("provision_store_local", ctypes.c_int, _Handle, _c_str, _c_str)
_last_error = _declare("provision_last_error", _c_str)
_version = _declare("provision_version", _c_str)
_set_call_active = _declare("provision_set_call_active", ctypes.c_int, _Handle, ctypes.c_int)
_RefreshCallback = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, _c_str)
_start_refresh = _declare(
    "provision_start_refresh", ctypes.c_int, _Handle, _c_str, _RefreshCallback, ctypes.c_void_p
)
_stop_refresh = _declare("provision_stop_refresh", ctypes.c_int, _Handle)
_set_cache = _declare("provision_set_cache", ctypes.c_int, _Handle, _c_str)
_save = _declare("provision_save", ctypes.c_int, _Handle, _c_str)
_set_user_agent = _declare("provision_set_user_agent", ctypes.c_int, _Handle, _c_str)
_LogCallback = ctypes.CFUNCTYPE(None, _c_str, ctypes.c_int, _c_str, ctypes.c_uint64, ctypes.c_void_p)
_set_logger = _declare("provision_set_logger", ctypes.c_int, _Handle, _LogCallback, ctypes.c_void_p)


def _check(status: int) -> None:
    """Raises the error for a failure status, with this thread's last error
    (read at once: the next call into the library replaces it)."""
    if status != Status.OK:
        raise _error(status, _decode(_last_error()) or "")


def _encode(value: Optional[str], what: str) -> Optional[bytes]:
    """UTF-8 bytes for a C string; ``None`` stays NULL.

    The value itself never goes into the message: it may be a password.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{what} must be str, not {type(value).__name__}")
    if "\0" in value:
        raise ArgumentError(f"{what} contains a NUL character")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        raise ArgumentError(f"{what} cannot be encoded as UTF-8") from None


def _encode_path(path: Optional[StrPath], what: str) -> Optional[bytes]:
    """A path (``str`` or ``os.PathLike``) as UTF-8 bytes; ``None`` stays NULL."""
    return None if path is None else _encode(os.fspath(path), what)


def _decode(raw: Optional[bytes]) -> Optional[str]:
    """A library string (already copied by ctypes) as ``str``; NULL is ``None``."""
    return None if raw is None else raw.decode("utf-8", errors="replace")


def version() -> str:
    """The library's version, e.g. ``"0.1.0"``."""
    return _decode(_version()) or ""


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


def _status(value: int) -> int:
    """A :class:`Status` when known, else the plain number."""
    try:
        return Status(value)
    except ValueError:
        return value


# --------------------------------------------------------------------------
# Refresh callbacks


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

_retired_thunks: List[Any] = []
"""C callbacks of workers that were stopped or freed from inside their own
callback: the worker may still be returning through them, so they are never
released (one small object per such stop)."""


def _inside_callback() -> bool:
    return getattr(_in_callback, "depth", 0) > 0


def _thunk(callback: Callable[[Refreshed], None]) -> Any:
    """The C callback that calls ``callback`` on the worker thread. An
    exception it raises goes to ``sys.unraisablehook`` (ctypes reports it)."""

    def trampoline(_userdata: Any, status: int, changed: int, config: Optional[bytes]) -> None:
        _in_callback.depth = getattr(_in_callback, "depth", 0) + 1
        try:
            # The worker set this thread's last error to the attempt's message.
            message = _decode(_last_error()) or ""
            callback(Refreshed(_status(status), bool(changed), _decode(config), message))
        finally:
            _in_callback.depth -= 1

    return _RefreshCallback(trampoline)


# --------------------------------------------------------------------------
# The handle


class Provision:
    """One provision file, its credentials, and the outcome of the last run.

    Create it with :meth:`load` or :meth:`from_xml`; release it with
    :meth:`close` or a ``with`` block. Calls on one object are serialised
    with a lock, so it may be shared between threads, and the refresh
    callback may use it. After ``close`` every method raises
    :class:`ArgumentError`.
    """

    def __init__(self, handle: "ctypes._Pointer[_Opaque]", origin: str) -> None:
        """Wraps a live handle; use :meth:`load` or :meth:`from_xml` instead."""
        self._handle: Optional["ctypes._Pointer[_Opaque]"] = handle
        self._origin = origin
        self._lock = threading.Lock()
        # Calls that may wait for the refresh worker (start, stop, free) do
        # not hold the lock, since the worker's callback may need it; they
        # pin the handle instead, and a close() meanwhile frees it when the
        # last pin goes.
        self._pins = 0
        self._doomed: Optional["ctypes._Pointer[_Opaque]"] = None
        self._thunks: List[Any] = []  # C callbacks a worker may still call
        self.cache_reason: Optional[str] = None
        """Why the last :meth:`run` was served from the cache (the library's
        message, listing why each URL failed); ``None`` when it was not."""
        # The ctypes callback the library holds: it must live as long as the
        # library may call it, i.e. until replaced, removed, or close().
        self._log_callback: Optional[Any] = None

    @classmethod
    def _create(cls, loader: Any, arg: Optional[bytes], origin: str) -> "Provision":
        out = _Handle()
        _check(loader(arg, ctypes.byref(out)))
        return cls(out, origin)

    @classmethod
    def load(cls, path: StrPath) -> "Provision":
        """Reads and validates the provision file at ``path``.

        Raises :class:`NotFoundError` when it does not exist (provisioning is
        off), :class:`ProvisionIOError` when it cannot be read and
        :class:`FormatError` when it is malformed or larger than 4 MiB.
        """
        return cls._create(_load_file, _encode_path(path, "path"), os.fspath(path))

    @classmethod
    def from_xml(cls, text: str) -> "Provision":
        """Parses the text of a provision file; :class:`FormatError` if malformed."""
        return cls._create(_load_xml, _encode(text, "provision XML"), "provision XML")

    @contextmanager
    def _use(self) -> Iterator["ctypes._Pointer[_Opaque]"]:
        """The live handle, held for the duration of one library call."""
        with self._lock:
            if self._handle is None:
                raise ArgumentError("the Provision handle is closed")
            yield self._handle

    def set_credentials(self, user: str, password: str) -> None:
        """Sets the credentials to send, overriding the file's ``user`` and
        ``password``; required when ``user_input_authentication`` is 1.
        The password is passed on and not kept by this object."""
        user_bytes = _encode(user, "user")
        password_bytes = _encode(password, "password")
        with self._use() as handle:
            _check(_set_credentials(handle, user_bytes, password_bytes))

    def set_timeouts(self, connect_ms: int, total_ms: int) -> None:
        """Timeouts of every later request, in milliseconds: to connect, and
        for the whole request. Defaults 5000 and 30000; 0 is refused."""
        for value in (connect_ms, total_ms):
            if not isinstance(value, int) or not 0 <= value <= 0xFFFFFFFF:
                raise ArgumentError("a timeout must be a whole number of milliseconds that fits 32 bits")
        with self._use() as handle:
            _check(_set_timeouts(handle, connect_ms, total_ms))

    def set_ca_file(self, pem_path: Optional[StrPath]) -> None:
        """Trusts the certificates of a PEM file (an operator's private CA)
        in addition to the system's store; ``None``: the system's store alone."""
        path = _encode_path(pem_path, "pem_path")
        with self._use() as handle:
            _check(_set_ca_file(handle, path))

    def run(self, local_config_path: Optional[StrPath] = None) -> Status:
        """Provisions: reads the local config (``None`` or a missing file:
        none), asks each base URL in turn and merges the first usable answer.
        Nothing is written; see :meth:`store_local`. A failed run keeps the
        previous outcome.

        Returns :attr:`Status.OK`, or :attr:`Status.CACHED` when every URL
        failed and the cache (:meth:`set_cache`) served: the config is then
        usable, :attr:`source_url` is ``None`` and :attr:`cache_reason` says
        why each URL failed. That is not raised: the phone has its config.

        Raises :class:`DeferredError` while a call is active (no request),
        :class:`CredentialsError`, :class:`FormatError` or
        :class:`ProvisionIOError` (bad local config) before any request,
        :class:`ServerError` when a server answered ``<error>``, and
        :class:`FetchError` when every URL failed otherwise.
        """
        path = _encode_path(local_config_path, "local_config_path")
        with self._use() as handle:
            status = _run(handle, path)
            reason = _decode(_last_error()) if status == Status.CACHED else None
            if reason is None:
                _check(status)
            self.cache_reason = reason
        return Status.CACHED if reason is not None else Status.OK

    def set_call_active(self, active: bool) -> None:
        """Says whether any call is up. While one is, :meth:`run` raises
        :class:`DeferredError` and the refresh worker asks nothing; a refresh
        that fell due runs once right after ``set_call_active(False)``."""
        with self._use() as handle:
            _check(_set_call_active(handle, 1 if active else 0))

    def start_refresh(
        self,
        local_config_path: Optional[StrPath] = None,
        callback: Optional[Callable[[Refreshed], None]] = None,
    ) -> None:
        """Starts the library's refresh worker: it provisions (as :meth:`run`
        with ``local_config_path``) every ``refresh_rate`` seconds after the
        last success, sooner after a failure (back-off: 1 s doubling, capped
        at the period, with jitter), never during a call, and calls
        ``callback(Refreshed(...))`` on its own thread after each attempt.
        The callback may use this object, including :meth:`stop_refresh` and
        :meth:`close`. Exceptions it raises go to ``sys.unraisablehook``.

        Raises :class:`ArgumentError` when ``refresh_rate`` is 0 or a worker
        already runs.
        """
        path = _encode_path(local_config_path, "local_config_path")
        thunk = _thunk(callback) if callback is not None else _RefreshCallback()
        with self._pinned() as handle:
            # Kept before the worker can call it, and for as long as it may.
            with self._lock:
                self._thunks.append(thunk)
            status = _start_refresh(handle, path, thunk, None)
            if status != Status.OK:
                message = _decode(_last_error()) or ""
                with self._lock:
                    self._thunks.remove(thunk)
                raise _error(status, message)
            # Any earlier worker has been joined (or detached, from inside a
            # callback): only the new one may call back now.
            self._release_thunks(keep=thunk)

    def stop_refresh(self) -> None:
        """Stops the refresh worker and returns once it has stopped (at once
        during a period or a back-off; an attempt under way is finished).
        No callback is made after it returns. From inside the callback it
        returns at once and the worker ends when the callback returns.
        Does nothing when no worker runs."""
        with self._pinned() as handle:
            _check(_stop_refresh(handle))
            if not _inside_callback():
                self._release_thunks()

    def set_cache(self, path: Optional[StrPath]) -> None:
        """Keeps a last-known-good cache at ``path`` (``None``: none): each
        successful run stores its provisioned sections there (atomically,
        mode 0600), and when every URL fails :meth:`run` merges them and
        returns :attr:`Status.CACHED`. A corrupt cache is ignored."""
        path_bytes = _encode_path(path, "path")
        with self._use() as handle:
            _check(_set_cache(handle, path_bytes))

    def save(self, path: StrPath) -> None:
        """Writes the current settings, including what a server's
        ``<provision>`` section changed, as a provision file at ``path``
        (atomically, always mode 0600). Credentials given with
        :meth:`set_credentials` are not written."""
        path_bytes = _encode_path(path, "path")
        with self._use() as handle:
            _check(_save(handle, path_bytes))

    def store_local(self, path: StrPath, config_xml: Optional[str] = None) -> None:
        """Writes ``config_xml`` (default: the merged config of the last run)
        to ``path`` without the sections the last run provisioned. The write
        is atomic; a new file gets mode 0600, an existing one its owner's
        mode without group or other write (docs/security.md).

        Raises :class:`ArgumentError` without ``config_xml`` before any
        successful run, :class:`FormatError` for malformed ``config_xml`` and
        :class:`ProvisionIOError` when the file cannot be written.
        """
        path_bytes = _encode_path(path, "path")
        config_bytes = _encode(config_xml, "config_xml")
        with self._use() as handle:
            _check(_store_local(handle, config_bytes, path_bytes))

    def set_logger(self, logger: Optional[Logger]) -> None:
        """Sends each :class:`Attempt` of later runs to ``logger``; ``None``
        removes it. The logger is called on the thread running :meth:`run`,
        before ``run`` returns, and must not call this object's methods (the
        run holds it). An exception it raises is printed (as for any ctypes
        callback) and does not stop the run. This object keeps the callable
        alive for as long as the library may call it."""
        callback = _LogCallback()  # NULL: no logger
        if logger is not None:

            def hear(url: Optional[bytes], status: int, outcome: Optional[bytes], elapsed_ms: int, _: Any) -> None:
                logger(Attempt(_decode(url) or "", _status(status), _decode(outcome) or "", elapsed_ms))

            callback = _LogCallback(hear)
        with self._use() as handle:
            _check(_set_logger(handle, callback, None))
            self._log_callback = callback if logger is not None else None

    def set_user_agent(self, user_agent: Optional[str]) -> None:
        """Sets the ``User-Agent`` of later requests (printable ASCII);
        ``None`` restores the default, ``libprovision/VERSION``."""
        agent = _encode(user_agent, "user_agent")
        with self._use() as handle:
            _check(_set_user_agent(handle, agent))

    @property
    def config(self) -> Optional[str]:
        """The merged config of the last successful run; ``None`` before one."""
        with self._use() as handle:
            return _decode(_config(handle))

    @property
    def source_url(self) -> Optional[str]:
        """The base URL, as written in the provision file, that served the
        last successful run; ``None`` before one."""
        with self._use() as handle:
            return _decode(_source_url(handle))

    def is_provisioned(self, section: str) -> bool:
        """Whether the last successful run provisioned ``section`` (it is
        significant and the answer held it)."""
        section_bytes = _encode(section, "section")
        with self._use() as handle:
            return bool(_is_provisioned(handle, section_bytes))

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has released the handle."""
        return self._handle is None

    @contextmanager
    def _pinned(self) -> Iterator["ctypes._Pointer[_Opaque]"]:
        """The live handle for a call that may wait for the refresh worker:
        not under the lock (the worker's callback may need it), but pinned,
        so that a ``close`` meanwhile frees it only after the call."""
        with self._lock:
            if self._handle is None:
                raise ArgumentError("the Provision handle is closed")
            self._pins += 1
            handle = self._handle
        try:
            yield handle
        finally:
            with self._lock:
                self._pins -= 1
                doomed, self._doomed = (self._doomed, None) if self._pins == 0 else (None, self._doomed)
            if doomed is not None:
                self._release(doomed)

    def _release_thunks(self, keep: Any = None) -> None:
        """Forgets the C callbacks of workers that are gone. From inside a
        callback a worker may still be returning through its own, so they
        are retired instead of released."""
        with self._lock:
            gone = [t for t in self._thunks if t is not keep]
            self._thunks = [keep] if keep is not None else []
        if _inside_callback():
            _retired_thunks.extend(gone)

    def _release(self, handle: "ctypes._Pointer[_Opaque]") -> None:
        _free(handle)  # stops the worker first
        self._release_thunks()
        self._log_callback = None  # the library no longer holds it

    def close(self) -> None:
        """Releases the handle, stopping the refresh worker first. Calling it
        again does nothing. It may be called from inside the refresh callback."""
        with self._lock:
            handle, self._handle = self._handle, None
            if handle is None:
                return
            if self._pins:
                self._doomed = handle  # freed when the pinned call ends
                return
        self._release(handle)

    def __enter__(self) -> "Provision":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        # __init__ may not have run to the end (e.g. a failed load).
        if getattr(self, "_handle", None) is not None:
            self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<Provision from {self._origin!r} ({state})>"
