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
tries, and each notice, to the host's log as a :class:`LogRecord`;
``prov.last_outcome()`` gives the last run's result as an :class:`Outcome`.

The operator's addressbook (docs/addressbook.md), within the provision
file's restrictions::

    book = prov.addressbook()                     # an Addressbook of Contacts
    new = prov.add_contact(provision.Contact(name="Bob", numbers=[provision.Number("work", "+1 555")]))
    prov.update_contact(new.id, new.replace(note="met at the fair"))
    prov.delete_contact(new.id)

For operators, ``python3 -m provision run PROVISION_FILE`` tries a provision
file against its servers and prints what happened, and ``python3 -m provision
addressbook PROVISION_FILE`` prints its addressbook as a table (``--help``).

The modules: ``_errors`` (statuses, one exception class per failure status),
``_ffi`` (loading the library, one ctypes prototype per C function),
``_callbacks`` (the C callbacks into Python), ``_provision`` (the handle),
``_outcome`` (a run's result as values), ``_addressbook`` (the operator's
phonebook as values), ``cli`` (``python3 -m provision``).
This file only re-exports them. The library's lookup order is in ``_ffi``.
"""

from __future__ import annotations

from typing import Any

from ._errors import (
    ERRORS,
    ArgumentError,
    CredentialsError,
    DeferredError,
    FetchError,
    FormatError,
    InternalError,
    NotFoundError,
    RestrictedError,
    ProvisionError,
    ProvisionIOError,
    ServerError,
    Status,
)
from ._errors import LibraryNotFound

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
    "LibraryNotFound",
    "Outcome",
    "Addressbook",
    "Contact",
    "Number",
    "Refreshed",
    "LogKind",
    "LogRecord",
    "Attempt",
    "Logger",
    "Provision",
    "version",
    "status_name",
    "library_path",
    "VERSION",
    "VERSION_MAJOR",
    "VERSION_MINOR",
    "VERSION_PATCH",
]

# What needs the shared library. When it cannot be loaded, `import provision`
# still succeeds (so that `python3 -m provision --help` works and can say
# what is missing), and using any of these names raises the ImportError that
# lists every place tried.
try:
    from ._addressbook import Addressbook, Contact, Number
    from ._callbacks import Attempt, Logger, LogKind, LogRecord, Refreshed
    from ._ffi import VERSION, VERSION_MAJOR, VERSION_MINOR, VERSION_PATCH
    from ._outcome import Outcome
    from ._provision import Provision, library_path, status_name, version
except LibraryNotFound as _missing:
    _load_error: LibraryNotFound = _missing

    def __getattr__(name: str) -> Any:
        if name in __all__:
            raise LibraryNotFound(str(_load_error)) from None
        raise AttributeError(f"module 'provision' has no attribute {name!r}")

