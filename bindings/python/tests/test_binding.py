"""The binding itself: statuses and exceptions, handle lifecycle, strings,
and finding the library."""

from __future__ import annotations

import builtins
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import provision
import provision._errors
from support import OTHER_PASSWORD, PASSWORD, provision_xml, raises

HEADER = Path(__file__).resolve().parents[3] / "include" / "provision.h"
PROVISION_XML = provision_xml(["http://127.0.0.1:9/"])


def header_enum(name: str) -> dict:
    """``{NAME: value}`` of the C enum ``name`` in the header, without its prefix."""
    if not HEADER.is_file():
        pytest.skip("include/provision.h is not next to this checkout")
    body = re.search(r"typedef enum " + name + r" \{(.*?)\}", HEADER.read_text(encoding="utf-8"), re.DOTALL)
    assert body, name
    return {n: int(v) for n, v in re.findall(r"PROVISION_(\w+) = (\d+),", body.group(1))}


def test_status_values_match_the_header():
    assert header_enum("provision_status") == {s.name: s.value for s in provision.Status}


def test_log_kinds_match_the_header():
    assert header_enum("provision_log_kind") == {"LOG_" + k.name: k.value for k in provision.LogKind}


def test_version_constants_match_the_header_and_the_library():
    if not HEADER.is_file():
        pytest.skip("include/provision.h is not next to this checkout")
    defines = dict(re.findall(r"#define PROVISION_(VERSION\w*) (\S+)", HEADER.read_text(encoding="utf-8")))
    assert defines == {
        "VERSION_MAJOR": str(provision.VERSION_MAJOR),
        "VERSION_MINOR": str(provision.VERSION_MINOR),
        "VERSION_PATCH": str(provision.VERSION_PATCH),
        "VERSION": f'"{provision.VERSION}"',
    }
    assert provision.version() == provision.VERSION


def test_status_names_are_the_librarys():
    for status in provision.Status:
        assert provision.status_name(status) == "PROVISION_" + status.name
    assert provision.status_name(4242) == provision.status_name(-1) == "PROVISION_UNKNOWN"
    assert provision.status_name(2**40) == "PROVISION_UNKNOWN"
    with pytest.raises(TypeError):
        provision.status_name("7")  # type: ignore[arg-type]


def test_every_failure_status_has_its_own_exception_class():
    # CACHED is a usable outcome, returned by run(), not raised.
    failures = [s for s in provision.Status if s not in (provision.Status.OK, provision.Status.CACHED)]
    assert sorted(provision.ERRORS) == failures
    assert len(set(provision.ERRORS.values())) == len(failures)
    for status, cls in provision.ERRORS.items():
        assert issubclass(cls, provision.ProvisionError) and cls.default_status is status
        assert not hasattr(builtins, cls.__name__), "a builtin is shadowed"
    assert provision.ERRORS[provision.Status.ERR_IO] is provision.ProvisionIOError
    assert issubclass(provision.ProvisionIOError, OSError) and issubclass(provision.NotFoundError, FileNotFoundError)


def test_an_unknown_status_still_raises_a_provision_error():
    error = provision._errors.error(42, "from a newer library")
    assert type(error) is provision.ProvisionError
    assert (error.status, error.message) == (42, "from a newer library")


def test_version_is_the_librarys():
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", provision.version())


def test_close_is_idempotent_and_the_context_manager_closes():
    with provision.Provision.from_xml(PROVISION_XML) as prov:
        assert not prov.closed
        assert prov.config is None
    assert prov.closed
    prov.close()
    prov.close()
    assert "closed" in repr(prov)


@pytest.mark.parametrize(
    "use",
    [
        lambda p: p.run(),
        lambda p: p.set_credentials("u", "p"),
        lambda p: p.store_local("/nonexistent/never-written.xml"),
        lambda p: p.config,
        lambda p: p.source_url,
        lambda p: p.is_provisioned("accounts"),
    ],
    ids=["run", "set_credentials", "store_local", "config", "source_url", "is_provisioned"],
)
def test_using_a_closed_handle_raises(use):
    prov = provision.Provision.from_xml(PROVISION_XML)
    prov.close()
    with raises(provision.ArgumentError) as info:
        use(prov)
    assert "closed" in info.value.message


def test_the_handle_is_freed_when_collected():
    prov = provision.Provision.from_xml(PROVISION_XML)
    del prov  # __del__ frees; a double free would crash the interpreter


def test_repr_holds_no_password(tmp_path):
    path = tmp_path / "provision.conf"
    path.write_text(PROVISION_XML, encoding="utf-8")
    with provision.Provision.load(path) as prov:
        prov.set_credentials("alice", OTHER_PASSWORD)
        text = repr(prov) + str(vars(prov))
    assert str(path) in text
    assert OTHER_PASSWORD not in text and PASSWORD not in text


def test_paths_may_be_str_or_pathlike(tmp_path):
    path = tmp_path / "provision.conf"
    path.write_text(PROVISION_XML, encoding="utf-8")
    for given in (path, str(path)):
        with provision.Provision.load(given) as prov:
            assert repr(prov) == f"<Provision from {str(path)!r} (open)>"


@pytest.mark.parametrize(
    "use",
    [
        lambda p: p.set_credentials("user", "pa55\0XyZ9"),
        lambda p: p.set_credentials("user", "XyZ9\udcff"),
        lambda p: p.is_provisioned("accounts\0codecs"),
        lambda p: p.run("config\0.xml"),
    ],
    ids=["nul", "not-utf8", "section-nul", "path-nul"],
)
def test_text_that_c_cannot_carry_is_an_argument_error(use):
    with provision.Provision.from_xml(PROVISION_XML) as prov:
        with raises(provision.ArgumentError) as info:
            use(prov)
    assert "XyZ9" not in info.value.message


def test_non_text_arguments_are_type_errors():
    with provision.Provision.from_xml(PROVISION_XML) as prov:
        with pytest.raises(TypeError):
            prov.set_credentials("user", b"bytes")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            prov.run(42)  # type: ignore[arg-type]


def import_with(library: str) -> subprocess.CompletedProcess:
    """Imports the package in a fresh interpreter with PROVISION_LIBRARY set."""
    package_root = str(Path(provision.__file__).resolve().parents[1])
    env = dict(os.environ, PROVISION_LIBRARY=library, PYTHONPATH=package_root)
    code = "import provision; print(provision.library_path, provision.version())"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30)


def test_the_library_is_loaded_from_provision_library():
    result = import_with(provision.library_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [provision.library_path, provision.version()]


def test_a_wrong_provision_library_is_a_clear_import_error(tmp_path):
    missing = str(tmp_path / "libprovision-missing.so")
    result = import_with(missing)
    assert result.returncode != 0
    assert "LibraryNotFound: libprovision could not be loaded" in result.stderr
    assert missing in result.stderr
    assert "PROVISION_LIBRARY" in result.stderr


def test_the_package_version_is_the_librarys():
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    assert f'\nversion = "{provision.VERSION}"\n' in pyproject.read_text(encoding="utf-8")
