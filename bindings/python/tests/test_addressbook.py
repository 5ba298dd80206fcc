"""The addressbook part through the binding, against the reference server
(examples/addressbook_server.py, in this process on loopback): contacts as
Python objects, the restrictions (no request made), and
``python3 -m provision addressbook`` printing the table."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import pytest

import provision
from provision import Contact, Number
from support import PASSWORD, USER, provision_xml, raises
from test_cli import cli

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "examples"))
from addressbook_server import AddressbookServer  # noqa: E402


@pytest.fixture
def server() -> Iterator[AddressbookServer]:
    with AddressbookServer("/zoiper/", users={USER: PASSWORD}) as running:
        yield running


def with_addressbook(text: str, use: int = 1, restrictions: str = "") -> str:
    section = f"<addressbook><use_addressbook>{use}</use_addressbook><restrictions>{restrictions}</restrictions></addressbook>"
    return text.replace("</provision>", section + "</provision>")


@pytest.fixture
def handle(server, dead_url) -> Iterator[provision.Provision]:
    with provision.Provision.from_xml(with_addressbook(provision_xml([dead_url, server.url()]))) as prov:
        yield prov


BOB = Contact(
    name="Bob Builder & Sons",
    numbers=[("work", "+32 2 555 01 01"), Number("mobile", "+32 470 55 01 01")],
    email="bob@example.com",
    company="ACME <EU>",
)


def test_contacts_round_trip_as_python_objects(handle, server):
    assert len(handle.addressbook()) == 0
    stored = handle.add_contact(BOB)
    assert stored.id and stored.replace(id=None) == BOB
    carol = handle.add_contact("<contact><name>Carol</name><number>+1 555</number></contact>")
    assert carol.numbers == (Number("other", "+1 555"),)

    book = handle.addressbook()
    assert [c.name for c in book] == ["Bob Builder & Sons", "Carol"]
    assert book.by_id(stored.id) == stored and book[1] == carol
    assert "<addressbook>" in book.xml

    handle.update_contact(stored.id, stored.replace(note="met at the fair", company=None))
    changed = handle.addressbook().by_id(stored.id)
    assert changed is not None and (changed.note, changed.company) == ("met at the fair", None)

    handle.delete_contact(stored.id)
    assert [c.id for c in handle.addressbook()] == [carol.id]
    with raises(provision.ServerError) as info:
        handle.delete_contact(stored.id)
    assert info.value.message == f"no contact '{stored.id}'"
    assert [m for m, _ in server.requests] == ["GET", "POST", "POST", "GET", "PUT", "GET", "DELETE", "GET", "DELETE"]


def test_malformed_contacts_and_ids_make_no_request(handle, server):
    with raises(provision.FormatError) as info:
        handle.add_contact("<contact>\n  <name>Bob</nam>\n</contact>")
    assert "line 2, column" in info.value.message
    with raises(provision.ArgumentError):
        handle.delete_contact("")
    assert server.requests == []


@pytest.mark.parametrize("restricted", ["add", "update", "delete"])
def test_each_restriction_is_refused_without_a_request(server, restricted):
    text = with_addressbook(provision_xml([server.url()]), restrictions=restricted)
    with provision.Provision.from_xml(text) as prov:
        calls = {
            "add": lambda: prov.add_contact(BOB),
            "update": lambda: prov.update_contact("1", BOB),
            "delete": lambda: prov.delete_contact("1"),
        }
        with raises(provision.RestrictedError) as info:
            calls[restricted]()
        assert f"'{restricted}'" in info.value.message
        assert server.requests == []
        prov.addressbook()
        assert [m for m, _ in server.requests] == ["GET"]


def test_an_unused_addressbook_is_refused_without_a_request(server):
    with provision.Provision.from_xml(with_addressbook(provision_xml([server.url()]), use=0)) as prov:
        for call in (prov.addressbook, lambda: prov.add_contact(BOB), lambda: prov.delete_contact("1")):
            with raises(provision.RestrictedError):
                call()
    assert server.requests == []


def test_the_cli_prints_the_contacts_as_a_table(server, tmp_path):
    server.store.add({"name": "Alice Martin", "numbers": [["work", "+32 2 555 01 00"], ["mobile", "+32 470"]],
                      "email": "alice@example.com"})
    server.store.add({"name": "Support", "numbers": [["work", "204"]], "note": "queue"})
    path = tmp_path / "provision.conf"
    path.write_text(with_addressbook(provision_xml([server.url()])), encoding="utf-8")
    result = cli("addressbook", str(path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "ID  NAME          NUMBERS                                   E-MAIL             COMPANY  NOTE",
        "1   Alice Martin  +32 2 555 01 00 (work), +32 470 (mobile)  alice@example.com",
        "2   Support       204 (work)                                                            queue",
    ]
    assert result.stderr.splitlines()[-1] == "2 contacts"
    assert PASSWORD not in result.stdout + result.stderr

    path.write_text(with_addressbook(provision_xml([server.url()]), use=0), encoding="utf-8")
    result = cli("addressbook", str(path))
    assert result.returncode == 10 + provision.Status.ERR_RESTRICTED
    assert "error (ERR_RESTRICTED)" in result.stderr and result.stdout == ""


def test_the_reference_servers_json_store_survives_a_restart(tmp_path):
    store = tmp_path / "book.json"
    with AddressbookServer("/", store=str(store), users={USER: PASSWORD}) as first:
        text = with_addressbook(provision_xml([first.url()]))
        with provision.Provision.from_xml(text) as prov:
            stored = prov.add_contact(BOB)
    with AddressbookServer("/", store=str(store), users={USER: PASSWORD}) as second:
        with provision.Provision.from_xml(with_addressbook(provision_xml([second.url()]))) as prov:
            assert prov.addressbook().contacts == (stored,)
            assert prov.add_contact(Contact(name="Next")).id != stored.id, "ids are never reused"
