"""Every ctypes prototype of provision/_ffi.py against include/provision.h:
the same functions, the same number of arguments, and the same kind
(pointer, integer, void) for the result and each argument. A prototype
that disagrees with the header corrupts the stack or truncates pointers,
silently: this is where it shows."""

from __future__ import annotations

import ctypes
import re
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from provision import _ffi

HEADER = Path(__file__).resolve().parents[3] / "include" / "provision.h"

# A declaration at file level: `RESULT NAME(ARGUMENTS);` (cbindgen may wrap the arguments).
DECLARATION = re.compile(r"^([A-Za-z_][\w \t*]*?[\s*])(provision_\w+)\(([^)]*)\);", re.MULTILINE)


def header_functions() -> Dict[str, Tuple[str, List[str]]]:
    if not HEADER.is_file():
        pytest.skip("include/provision.h is not next to this checkout")
    text = re.sub(r"/\*.*?\*/|//[^\n]*", "", HEADER.read_text(encoding="utf-8"), flags=re.DOTALL)
    found = {}
    for result, name, arguments in DECLARATION.findall(text):
        arguments = " ".join(arguments.split())
        found[name] = (c_kind(result), [] if arguments in ("", "void") else [c_kind(a) for a in arguments.split(",")])
    return found


def c_kind(declaration: str) -> str:
    """``void``, ``pointer`` or ``integer`` for a C type (with or without a name)."""
    declaration = declaration.strip()
    if "*" in declaration or re.search(r"\bprovision_\w+_cb\b", declaration):
        return "pointer"  # data and function pointers
    if re.fullmatch(r"(const\s+)?void", declaration):
        return "void"
    return "integer"


def ctypes_kind(ctype: Any) -> str:
    if ctype is None:
        return "void"
    if ctype in (ctypes.c_char_p, ctypes.c_void_p) or issubclass(ctype, (ctypes._Pointer, ctypes._CFuncPtr)):
        return "pointer"
    if issubclass(ctype, ctypes._SimpleCData) and ctype._type_ in "bBhHiIlLqQ?":
        return "integer"
    raise AssertionError(f"unexpected ctypes type {ctype!r}")


def test_the_header_parses():
    found = header_functions()
    assert {"provision_load", "provision_free", "provision_run", "provision_last_error"} <= set(found)
    assert found["provision_free"][0] == "void" and found["provision_last_error"] == ("pointer", [])


def test_every_header_function_has_a_prototype_and_no_other():
    assert sorted(_ffi.PROTOTYPES) == sorted(header_functions())


def test_each_prototype_matches_the_header():
    mismatches = []
    for name, (result, arguments) in header_functions().items():
        if name not in _ffi.PROTOTYPES:
            continue  # reported by the test above
        restype, argtypes = _ffi.PROTOTYPES[name]
        declared = (ctypes_kind(restype), [ctypes_kind(a) for a in argtypes])
        if declared != (result, arguments):
            mismatches.append(f"{name}: header {result} ({', '.join(arguments)}), _ffi {declared[0]} ({', '.join(declared[1])})")
    assert not mismatches, "\n".join(mismatches)


def test_the_checker_catches_a_wrong_prototype():
    # The kinds it compares really differ for the mistakes it is there for.
    assert c_kind("const char *") != ctypes_kind(ctypes.c_int)
    assert c_kind("unsigned int connect_ms") == ctypes_kind(ctypes.c_uint)
    assert c_kind("provision_log_cb cb") == ctypes_kind(_ffi.LogCallback)
    assert c_kind("void") == ctypes_kind(None)
