"""The handle: :class:`Provision`, one provision file and what its runs did.

Each method is one C call (see _ffi.py for the prototypes): encode the
arguments, hold the handle for the call, check the status.
"""

from __future__ import annotations

import ctypes
import math
import os
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator, List, Optional, Union

from . import _addressbook, _ffi
from ._addressbook import Addressbook, Contact
from ._callbacks import Logger, Refreshed, inside_callback, log_thunk, refresh_thunk
from ._errors import ArgumentError, Status
from ._ffi import StrPath
from ._outcome import Outcome

__all__ = ["Provision", "version", "status_name", "library_path"]

library_path: str = _ffi.library_path
"""The path or name the shared library was loaded from."""


def version() -> str:
    """The loaded library's version, e.g. ``"1.0.0"`` (:data:`VERSION` is
    the one this binding was written for)."""
    return _ffi.decode(_ffi.version()) or ""


def status_name(status: int) -> str:
    """The C name of a status, e.g. ``"PROVISION_ERR_FETCH"``;
    ``"PROVISION_UNKNOWN"`` for a value the library does not know."""
    if isinstance(status, bool) or not isinstance(status, int):
        raise TypeError(f"status must be int, not {type(status).__name__}")
    if not -(2**31) <= status < 2**31:
        return "PROVISION_UNKNOWN"  # not a C int: no status has it
    return _ffi.decode(_ffi.status_name(status)) or "PROVISION_UNKNOWN"


def _milliseconds(seconds: float, what: str, least: int = 1) -> int:
    """A duration in seconds (``what``, e.g. "connect timeout") as the C
    ABI's unsigned milliseconds, at least ``least``."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"the {what} must be a number of seconds, not {type(seconds).__name__}")
    millis = round(seconds * 1000) if math.isfinite(seconds) else -1
    if not least <= millis <= 0xFFFFFFFF:
        raise ArgumentError(f"the {what} must be from {least / 1000:g} to 4294967.295 seconds, not {seconds!r}")
    return millis


class Provision:
    """One provision file, its credentials, and the outcome of the last run.

    Create it with :meth:`load` or :meth:`from_xml`; release it with
    :meth:`close` or a ``with`` block. It may be shared between threads
    (the library is thread-safe; ``include/provision.h`` says what each
    call promises), and its callbacks (the logger, the refresh callback)
    may use it, except that a logger must not call :meth:`run`. After
    ``close`` every method raises :class:`ArgumentError`.
    """

    def __init__(self, handle: "ctypes._Pointer[_ffi.Opaque]", origin: str) -> None:
        """Wraps a live handle; use :meth:`load` or :meth:`from_xml` instead."""
        self._handle: Optional["ctypes._Pointer[_ffi.Opaque]"] = handle
        self._origin = origin
        self._lock = threading.Lock()
        # Each call pins the handle (see _use); a close() meanwhile leaves it
        # doomed, freed when the last pin goes. The lock guards these fields.
        self._pins = 0
        self._doomed: Optional["ctypes._Pointer[_ffi.Opaque]"] = None
        # Every C callback installed on the handle (loggers, refresh
        # callbacks), kept until provision_free has returned: a run keeps the
        # logger it started with after set_logger replaced it, and a worker
        # stopped from inside its callback still returns through it. One
        # small object per set_logger or start_refresh call.
        self._thunks: List[Any] = []
        self.cache_reason: Optional[str] = None
        """Why the last :meth:`run` was served from the cache (the library's
        message, listing why each URL failed); ``None`` when it was not."""

    @classmethod
    def _create(cls, loader: Any, arg: Optional[bytes], origin: str) -> "Provision":
        out = _ffi.Handle()
        _ffi.check(loader(arg, ctypes.byref(out)))
        return cls(out, origin)

    @classmethod
    def load(cls, path: StrPath) -> "Provision":
        """Reads and validates the provision file at ``path``.

        Raises :class:`NotFoundError` when it does not exist (provisioning is
        off), :class:`ProvisionIOError` when it cannot be read and
        :class:`FormatError` when it is malformed or larger than 4 MiB.
        """
        return cls._create(_ffi.load, _ffi.encode_path(path, "path"), os.fspath(path))

    @classmethod
    def from_xml(cls, text: str) -> "Provision":
        """Parses the text of a provision file; :class:`FormatError` if malformed."""
        return cls._create(_ffi.load_xml, _ffi.encode(text, "provision XML"), "provision XML")

    def set_credentials(self, user: str, password: str) -> None:
        """Sets the credentials to send, overriding the file's ``user`` and
        ``password``; required when ``user_input_authentication`` is 1.
        The password is passed on and not kept by this object."""
        user_bytes = _ffi.encode(user, "user")
        password_bytes = _ffi.encode(password, "password")
        with self._use() as handle:
            _ffi.check(_ffi.set_credentials(handle, user_bytes, password_bytes))

    def set_timeouts(self, connect: float, total: float) -> None:
        """Timeouts of every later request, in **seconds** (as Python's
        networking takes them; ``int`` or ``float``): to connect, and for the
        whole request. Defaults 5 and 30. The C function takes milliseconds:
        each value is rounded to the nearest millisecond.

        Raises :class:`TypeError` for a value that is not a number, and
        :class:`ArgumentError` (a :class:`ValueError`) for one under a
        millisecond (0 included), not finite, or over 2**32 - 1 ms (49 days).
        """
        millis = [_milliseconds(connect, "connect timeout"), _milliseconds(total, "total timeout")]
        with self._use() as handle:
            _ffi.check(_ffi.set_timeouts(handle, *millis))

    def set_ca_file(self, pem_path: Optional[StrPath]) -> None:
        """Trusts the certificates of a PEM file (an operator's private CA)
        in addition to the system's store; ``None``: the system's store alone."""
        path = _ffi.encode_path(pem_path, "pem_path")
        with self._use() as handle:
            _ffi.check(_ffi.set_ca_file(handle, path))

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
        path = _ffi.encode_path(local_config_path, "local_config_path")
        with self._use() as handle:
            status = _ffi.run(handle, path)
            reason = _ffi.decode(_ffi.last_error()) if status == Status.CACHED else None
            if reason is None:
                _ffi.check(status)
            self.cache_reason = reason
        return Status.CACHED if reason is not None else Status.OK

    def set_call_active(self, active: bool) -> None:
        """Says whether any call is up. While one is, :meth:`run` raises
        :class:`DeferredError` and the refresh worker asks nothing; a refresh
        that fell due runs once right after ``set_call_active(False)``."""
        with self._use() as handle:
            _ffi.check(_ffi.set_call_active(handle, 1 if active else 0))

    def start_refresh(
        self,
        local_config_path: Optional[StrPath] = None,
        callback: Optional[Callable[[Refreshed], None]] = None,
    ) -> None:
        """Starts the library's refresh worker: it provisions (as :meth:`run`
        with ``local_config_path``) about every ``refresh_rate`` seconds after
        the last success (each period drawn so that a fleet of phones spreads
        over it, with a mean of ``refresh_rate``: see docs/fleet.md and
        ``provision_start_refresh`` in provision.h), sooner after a failure
        (back-off: 1 s doubling, capped at the period, with jitter; never
        before a server's ``Retry-After``), never during a call, and calls
        ``callback(Refreshed(...))`` on its own thread after each attempt.
        The callback may use this object, including :meth:`stop_refresh` and
        :meth:`close`. Exceptions it raises go to ``sys.unraisablehook``.

        Raises :class:`ArgumentError` when ``refresh_rate`` is 0 or a worker
        already runs.
        """
        path = _ffi.encode_path(local_config_path, "local_config_path")
        thunk = refresh_thunk(callback)
        with self._use() as handle:
            with self._lock:
                self._thunks.append(thunk)  # before the worker can call it
            _ffi.check(_ffi.start_refresh(handle, path, thunk, None))

    def stop_refresh(self) -> None:
        """Stops the refresh worker and returns once it has stopped (at once
        during a period or a back-off; an attempt under way is finished).
        No callback is made after it returns. From inside the callback it
        returns at once and the worker ends when the callback returns.
        Does nothing when no worker runs."""
        with self._use() as handle:
            _ffi.check(_ffi.stop_refresh(handle))

    def refresh_now(self, max_delay: float = 0) -> None:
        """Asks the running refresh worker for an attempt after a uniformly
        random delay from 0 to ``max_delay`` **seconds** (``int`` or
        ``float``, rounded to the millisecond; 0: at once), so that a fleet
        told at once (a SIP ``check-sync``) spreads over the window. It
        replaces the scheduled attempt; calls before that attempt starts
        coalesce into one (the earliest wins); during a call it waits for
        hang-up. Returns at once; the callback of :meth:`start_refresh`
        reports the attempt. May be called from any thread, the callback
        included.

        Raises :class:`ArgumentError` when no worker runs (never started,
        stopped, or ended by a ``refresh_rate`` of 0) or for a ``max_delay``
        that is negative, not finite, or over 2**32 - 1 ms; :class:`TypeError`
        when it is not a number.
        """
        millis = _milliseconds(max_delay, "max_delay", least=0)
        with self._use() as handle:
            _ffi.check(_ffi.refresh_now(handle, millis))

    def set_cache(self, path: Optional[StrPath]) -> None:
        """Keeps a last-known-good cache at ``path`` (``None``: none): each
        successful run stores its provisioned sections there (atomically,
        mode 0600), and when every URL fails :meth:`run` merges them and
        returns :attr:`Status.CACHED`. A corrupt cache is ignored."""
        path_bytes = _ffi.encode_path(path, "path")
        with self._use() as handle:
            _ffi.check(_ffi.set_cache(handle, path_bytes))

    def save(self, path: StrPath) -> None:
        """Writes the current settings, including what a server's
        ``<provision>`` section changed, as a provision file at ``path``
        (atomically, always mode 0600). Credentials given with
        :meth:`set_credentials` are not written."""
        path_bytes = _ffi.encode_path(path, "path")
        with self._use() as handle:
            _ffi.check(_ffi.save(handle, path_bytes))

    def store_local(self, path: StrPath, config_xml: Optional[str] = None) -> None:
        """Writes ``config_xml`` (default: the merged config of the last run)
        to ``path`` without the sections the last run provisioned. The write
        is atomic; a new file gets mode 0600, an existing one its owner's
        mode without group or other write (docs/security.md).

        Raises :class:`ArgumentError` without ``config_xml`` before any
        successful run, :class:`FormatError` for malformed ``config_xml`` and
        :class:`ProvisionIOError` when the file cannot be written.
        """
        path_bytes = _ffi.encode_path(path, "path")
        config_bytes = _ffi.encode(config_xml, "config_xml")
        with self._use() as handle:
            _ffi.check(_ffi.store_local(handle, config_bytes, path_bytes))

    def set_logger(self, logger: Optional[Logger]) -> None:
        """Sends each :class:`LogRecord` of later runs to ``logger``: one
        :attr:`LogKind.ATTEMPT` per base URL tried, and a
        :attr:`LogKind.NOTICE` for what fails nothing but should be known (a
        corrupt cache ignored, a ``<provision>`` section refused); ``None``
        removes it. A run already under way keeps the logger it started with.

        The logger is called on the thread running the run (the caller of
        :meth:`run`, or the refresh worker), before the run returns; it may
        use this object except :meth:`run` (which would wait for itself),
        and :meth:`close` there releases the handle once the run is over.
        An exception
        it raises is printed (as for any ctypes callback) and does not stop
        the run. This object keeps every logger it was given alive until
        :meth:`close`, since the library may still call a replaced one."""
        callback = log_thunk(logger)
        with self._use() as handle:
            self._thunks.append(callback)  # before the library can call it
            _ffi.check(_ffi.set_logger(handle, callback, None))

    def set_user_agent(self, user_agent: Optional[str]) -> None:
        """Sets the ``User-Agent`` of later requests (printable ASCII);
        ``None`` restores the default, ``libprovision/VERSION``."""
        agent = _ffi.encode(user_agent, "user_agent")
        with self._use() as handle:
            _ffi.check(_ffi.set_user_agent(handle, agent))

    def set_client_cert(self, cert_chain_pem_path: Optional[StrPath], key_pem_path: Optional[StrPath]) -> None:
        """Presents this certificate chain and private key (PEM files; PKCS#8,
        RSA or EC key) to https servers that ask for a client certificate;
        both ``None`` removes them. The files are read now, once.

        Raises :class:`ProvisionIOError` when a file cannot be read,
        :class:`FormatError` when one holds no certificate or no key or they
        do not match (the message says which, never quoting the key), and
        :class:`ArgumentError` when only one is given. From the next run on."""
        chain = _ffi.encode_path(cert_chain_pem_path, "cert_chain_pem_path")
        key = _ffi.encode_path(key_pem_path, "key_pem_path")
        with self._use() as handle:
            _ffi.check(_ffi.set_client_cert(handle, chain, key))

    def set_proxy(self, proxy_url: Optional[str]) -> None:
        """The proxy of later requests: ``None`` the environment's
        (``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``), ``""`` none at all,
        else ``http://[user:password@]host:port``. :class:`ArgumentError` for
        another form. A proxy's 407 is a :class:`FetchError` saying whether it
        wants credentials or refused those given."""
        url = _ffi.encode(proxy_url, "proxy_url")
        with self._use() as handle:
            _ffi.check(_ffi.set_proxy(handle, url))

    def set_header(self, name: str, value: Optional[str]) -> None:
        """Sends ``name: value`` with every later request to the base URLs'
        own origins (never after a redirect elsewhere, never logged);
        ``None`` removes it. :class:`ArgumentError` for names the library owns
        (``Authorization``, ``Host``, ``Proxy-*``, ``User-Agent``...), invalid
        names or values (CR, LF...), and beyond 32 headers or 8 KiB."""
        raw_name = _ffi.encode(name, "name")
        raw_value = _ffi.encode(value, "value")
        with self._use() as handle:
            _ffi.check(_ffi.set_header(handle, raw_name, raw_value))

    def set_variable(self, name: str, value: Optional[str]) -> None:
        """The value of the ``[name]`` (or ``{name}``) placeholder in URL
        templates, percent-encoded when filled in; ``None`` removes it.
        ``[username]`` and ``[password]`` come from the credentials and are
        refused here (:class:`ArgumentError`)."""
        raw_name = _ffi.encode(name, "name")
        raw_value = _ffi.encode(value, "value")
        with self._use() as handle:
            _ffi.check(_ffi.set_variable(handle, raw_name, raw_value))

    @property
    def config(self) -> Optional[str]:
        """The merged config of the last successful run; ``None`` before one."""
        with self._use() as handle:
            return _ffi.decode(_ffi.config(handle))

    @property
    def source_url(self) -> Optional[str]:
        """The base URL, as written in the provision file, that served the
        last successful run; ``None`` before one."""
        with self._use() as handle:
            return _ffi.decode(_ffi.source_url(handle))

    def is_provisioned(self, section: str) -> bool:
        """Whether the last successful run provisioned ``section`` (it is
        significant and the answer held it)."""
        section_bytes = _ffi.encode(section, "section")
        with self._use() as handle:
            return bool(_ffi.is_provisioned(handle, section_bytes))

    def last_outcome(self) -> Optional[Outcome]:
        """The outcome of the last successful run, as one consistent set of
        values (:attr:`config` and :attr:`source_url` read one after the
        other may come from two runs when the refresh worker runs between
        them); ``None`` before a successful run."""
        with self._use() as handle:
            snapshot = _ffi.last_outcome(handle)
        return Outcome._from_snapshot(snapshot) if snapshot else None

    # The addressbook part (docs/addressbook.md). Each call raises
    # RestrictedError, without a request, when the provision file does not
    # allow it; ServerError with the server's <error> text; FetchError
    # otherwise. Never deferred by a call, never touches the configuration.

    def addressbook(self) -> Addressbook:
        """Fetches the addressbook from the base URLs in turn (like a run)."""
        with self._use() as handle:
            return _addressbook.fetch(handle)

    def add_contact(self, contact: Union[Contact, str]) -> Contact:
        """Adds a contact (a :class:`Contact`, whose id is not sent, or the
        text of one ``<contact>`` without ``<id>``); returns it as the server
        stored it, with its id. :class:`FormatError` for malformed XML, and a
        :class:`FetchError` saying the outcome is unknown when the connection
        broke after sending (it is never sent twice)."""
        xml = _addressbook.contact_xml(contact, with_id=False)
        with self._use() as handle:
            return _addressbook.add(handle, xml)

    def update_contact(self, contact_id: str, contact: Union[Contact, str]) -> None:
        """Replaces contact ``contact_id`` with ``contact``."""
        id_bytes = _ffi.encode(contact_id, "contact_id")
        xml = _addressbook.contact_xml(contact, with_id=False)
        with self._use() as handle:
            _addressbook.update(handle, id_bytes, xml)

    def delete_contact(self, contact_id: str) -> None:
        """Deletes contact ``contact_id``."""
        id_bytes = _ffi.encode(contact_id, "contact_id")
        with self._use() as handle:
            _addressbook.delete(handle, id_bytes)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has released the handle."""
        return self._handle is None

    @contextmanager
    def _use(self) -> Iterator["ctypes._Pointer[_ffi.Opaque]"]:
        """The live handle, pinned for the duration of one library call: a
        ``close`` meanwhile frees it only once the last such call is over.
        No lock is held during the call itself, since the library may call
        back into Python (a logger, the refresh callback) and the callback
        may use this object."""
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

    def _release(self, handle: "ctypes._Pointer[_ffi.Opaque]") -> None:
        if inside_callback():
            # From inside a callback provision_free would only tell the worker
            # to stop: it would go on, detached, calling back into Python
            # until its run ends, at interpreter exit too (where a thread
            # that wants the GIL is ended in a way that aborts the process).
            # A thread of ours frees instead, and so joins the worker once
            # the callback has returned; interpreter exit waits for it.
            # (daemon=False: a thread started from a callback's thread would
            # otherwise inherit its daemon flag, and exit would not wait.)
            threading.Thread(target=self._free, args=(handle,), name="provision close", daemon=False).start()
        else:
            self._free(handle)

    def _free(self, handle: "ctypes._Pointer[_ffi.Opaque]") -> None:
        _ffi.free(handle)  # stops and joins the worker: nothing calls back after this
        with self._lock:
            self._thunks = []

    def close(self) -> None:
        """Releases the handle, stopping the refresh worker first (an attempt
        under way is finished; no callback is made after). Calling it again
        does nothing. From inside a callback (the logger, the refresh
        callback) it returns at once and the handle is released by another
        thread once the worker has ended."""
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
