"""Loading libprovision and the ctypes prototype of each C function.

To bind a new C function: add one ``_declare`` line below, named as the C
function without its ``provision_`` prefix and typed as in
``include/provision.h`` (tests/test_prototypes.py checks every line against
the header), then call it from a method (see _provision.py).

The library is looked up in this order (docs/python.md):
1. ``$PROVISION_LIBRARY``, a path: when set, the only place tried;
2. the copy bundled in the package (``provision/libprovision.so.1``, put
   there by ``pip install``);
3. only when imported from a source checkout (``bindings/python`` of the
   repository): the in-tree builds ``target/release`` then ``target/debug``;
4. the system's ``libprovision.so.1``, by name, through the dynamic loader's
   usual search (``LD_LIBRARY_PATH``, the ld.so cache, the system folders:
   no cache entry is needed for a library in a system folder). The name is
   the SONAME, so another major version of the ABI is never picked up.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

from ._errors import ArgumentError, LibraryNotFound, Status, error

StrPath = Union[str, "os.PathLike[str]"]
"""A file system path: ``str`` or any :class:`os.PathLike`."""


SONAME = "libprovision.so.1"
"""The file name of the library this binding speaks to (ABI major 1)."""

_PACKAGE = Path(__file__).resolve().parent


def _checkout_builds() -> List[str]:
    """``target/release`` and ``target/debug`` of the source checkout this
    package is imported from; nothing for an installed package."""
    root = _PACKAGE.parent.parent.parent
    if not ((_PACKAGE.parent / "setup.py").is_file() and (root / "Cargo.toml").is_file()):
        return []
    folder = Path(os.environ.get("CARGO_TARGET_DIR") or root / "target")
    return [str(folder / profile / "libprovision.so") for profile in ("release", "debug")]


def _candidates() -> List[str]:
    explicit = os.environ.get("PROVISION_LIBRARY")
    if explicit:
        # An explicit choice is never silently replaced by another build.
        return [explicit]
    bundled = _PACKAGE / SONAME
    return ([str(bundled)] if bundled.is_file() else []) + _checkout_builds() + [SONAME]


def _load() -> ctypes.CDLL:
    """Loads the first library found; LibraryNotFound listing every place tried."""
    tried = []
    for candidate in _candidates():
        try:
            return ctypes.CDLL(candidate)
        except OSError as e:
            tried.append(str(e) if candidate in str(e) else f"{candidate}: {e}")
    raise LibraryNotFound(
        "libprovision could not be loaded. Tried:\n  "
        + "\n  ".join(tried)
        + "\nInstall the package with `pip install ./bindings/python` (it bundles the library),"
        f" install {SONAME} on the system, or set PROVISION_LIBRARY to the library's path."
    )


lib = _load()
library_path: str = lib._name
"""The path or name the shared library was loaded from."""

# The header this binding was written against (PROVISION_VERSION*). A 1.x
# library of this minor or later has every function declared below.
VERSION_MAJOR = 1
VERSION_MINOR = 0
VERSION_PATCH = 0
VERSION = f"{VERSION_MAJOR}.{VERSION_MINOR}.{VERSION_PATCH}"


class Opaque(ctypes.Structure):
    """``provision_t`` and ``provision_outcome_t``, only ever seen through a pointer."""


Handle = ctypes.POINTER(Opaque)
OutcomeHandle = ctypes.POINTER(Opaque)


class LogRecordStruct(ctypes.Structure):
    """``provision_log_record_t``, in the header's field order. Only read
    through the pointer the library gives (it may grow at its end in 1.x)."""

    _fields_ = [
        ("kind", ctypes.c_int),
        ("url", ctypes.c_char_p),
        ("status", ctypes.c_int),
        ("message", ctypes.c_char_p),
        ("elapsed_ms", ctypes.c_uint64),
    ]


def _check_version() -> None:
    """A library of another ABI major (PROVISION_LIBRARY may name any file)
    would misread every call: refused at import."""
    own = lib.provision_version
    own.restype, own.argtypes = ctypes.c_char_p, []
    found = (own() or b"").decode("ascii", errors="replace")
    if found.split(".")[0] != str(VERSION_MAJOR):
        raise LibraryNotFound(f"{library_path} is libprovision {found}; this binding needs {VERSION_MAJOR}.x")


_check_version()



class OpaqueAddressbook(ctypes.Structure):
    """``provision_addressbook_t``, only ever seen through a pointer."""


AddressbookHandle = ctypes.POINTER(OpaqueAddressbook)

PROTOTYPES: Dict[str, Tuple[Any, Tuple[Any, ...]]] = {}
"""Every C function declared here: name -> (restype, argtypes)."""


def _declare(name: str, restype: Any, *argtypes: Any) -> Any:
    """The library function ``name`` with its C signature declared."""
    try:
        function = getattr(lib, name)
    except AttributeError:
        raise LibraryNotFound(
            f"{library_path} has no {name}: it is older than this binding, which needs libprovision {VERSION} or a later 1.x"
        ) from None
    function.restype = restype
    function.argtypes = list(argtypes)
    PROTOTYPES[name] = (restype, argtypes)
    return function


# The C types of the header, spelled as there.
c_int, c_uint, c_void_p, c_str = ctypes.c_int, ctypes.c_uint, ctypes.c_void_p, ctypes.c_char_p
RefreshCallback = ctypes.CFUNCTYPE(None, c_void_p, c_int, c_int, c_str)
LogCallback = ctypes.CFUNCTYPE(None, c_void_p, ctypes.POINTER(LogRecordStruct))

# One line per C function: _declare("provision_NAME", return type, argument types...).
last_error = _declare("provision_last_error", c_str)
version = _declare("provision_version", c_str)
status_name = _declare("provision_status_name", c_str, c_int)
load = _declare("provision_load", c_int, c_str, ctypes.POINTER(Handle))
load_xml = _declare("provision_load_xml", c_int, c_str, ctypes.POINTER(Handle))
free = _declare("provision_free", None, Handle)
set_credentials = _declare("provision_set_credentials", c_int, Handle, c_str, c_str)
set_timeouts = _declare("provision_set_timeouts", c_int, Handle, c_uint, c_uint)
set_ca_file = _declare("provision_set_ca_file", c_int, Handle, c_str)
run = _declare("provision_run", c_int, Handle, c_str)
store_local = _declare("provision_store_local", c_int, Handle, c_str, c_str)
set_cache = _declare("provision_set_cache", c_int, Handle, c_str)
save = _declare("provision_save", c_int, Handle, c_str)
set_user_agent = _declare("provision_set_user_agent", c_int, Handle, c_str)
set_logger = _declare("provision_set_logger", c_int, Handle, LogCallback, c_void_p)
config = _declare("provision_config", c_str, Handle)
source_url = _declare("provision_source_url", c_str, Handle)
is_provisioned = _declare("provision_is_provisioned", c_int, Handle, c_str)
last_outcome = _declare("provision_last_outcome", OutcomeHandle, Handle)
outcome_config = _declare("provision_outcome_config", c_str, OutcomeHandle)
outcome_source_url = _declare("provision_outcome_source_url", c_str, OutcomeHandle)
outcome_provisioned = _declare("provision_outcome_provisioned", c_str, OutcomeHandle)
outcome_is_provisioned = _declare("provision_outcome_is_provisioned", c_int, OutcomeHandle, c_str)
outcome_from_cache = _declare("provision_outcome_from_cache", c_int, OutcomeHandle)
outcome_free = _declare("provision_outcome_free", None, OutcomeHandle)
start_refresh = _declare("provision_start_refresh", c_int, Handle, c_str, RefreshCallback, c_void_p)
stop_refresh = _declare("provision_stop_refresh", c_int, Handle)
set_call_active = _declare("provision_set_call_active", c_int, Handle, c_int)
refresh_now = _declare("provision_refresh_now", c_int, Handle, c_uint)
set_client_cert = _declare("provision_set_client_cert", c_int, Handle, c_str, c_str)
set_proxy = _declare("provision_set_proxy", c_int, Handle, c_str)
set_header = _declare("provision_set_header", c_int, Handle, c_str, c_str)
set_variable = _declare("provision_set_variable", c_int, Handle, c_str, c_str)
addressbook_fetch = _declare("provision_addressbook_fetch", c_int, Handle, ctypes.POINTER(AddressbookHandle))
addressbook_xml = _declare("provision_addressbook_xml", c_str, AddressbookHandle)
addressbook_count = _declare("provision_addressbook_count", ctypes.c_size_t, AddressbookHandle)
addressbook_free = _declare("provision_addressbook_free", None, AddressbookHandle)
addressbook_add = _declare("provision_addressbook_add", c_int, Handle, c_str, ctypes.POINTER(AddressbookHandle))
addressbook_update = _declare("provision_addressbook_update", c_int, Handle, c_str, c_str)
addressbook_delete = _declare("provision_addressbook_delete", c_int, Handle, c_str)


# --------------------------------------------------------------------------
# Crossing the boundary: statuses, strings, paths


def check(status: int) -> None:
    """Raises the error for a failure status, with this thread's last error
    (read at once: the next call into the library replaces it)."""
    if status != Status.OK:
        raise error(status, last_message())


def last_message() -> str:
    """This thread's last error message (``""`` when there is none)."""
    return decode(last_error()) or ""


def encode(value: Optional[str], what: str) -> Optional[bytes]:
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


def encode_path(path: Optional[StrPath], what: str) -> Optional[bytes]:
    """A path (``str`` or ``os.PathLike``) as UTF-8 bytes; ``None`` stays NULL."""
    return None if path is None else encode(os.fspath(path), what)


def decode(raw: Optional[bytes]) -> Optional[str]:
    """A library string (already copied by ctypes) as ``str``; NULL is ``None``."""
    return None if raw is None else raw.decode("utf-8", errors="replace")
