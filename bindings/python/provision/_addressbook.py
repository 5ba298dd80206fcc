"""The operator's addressbook (docs/addressbook.md) as Python values.

:class:`Addressbook` is built from a library snapshot
(``provision_addressbook_t``): its document is copied into Python and the
snapshot freed at once, so an Addressbook never changes and needs no
closing. Its :class:`Contact` objects are parsed from that document, which
the library has already checked (UTF-8, well-formed, no DOCTYPE, so no
entity is expanded).

The functions here take a live handle from :class:`provision.Provision`,
whose ``addressbook``, ``add_contact``, ``update_contact`` and
``delete_contact`` methods call them.
"""

from __future__ import annotations

import ctypes
import dataclasses
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any, Iterator, NamedTuple, Optional, Tuple, Union

from . import _ffi
from ._errors import InternalError

__all__ = ["Addressbook", "Contact", "Number", "NUMBER_TYPES"]

NUMBER_TYPES = ("work", "mobile", "home", "other")
"""The number types of the protocol."""


class Number(NamedTuple):
    """One phone number of a contact, with its type."""

    type: str
    """``work``, ``mobile``, ``home`` or ``other``."""
    number: str


@dataclass(frozen=True)
class Contact:
    """One contact of the addressbook."""

    name: str
    numbers: Tuple[Number, ...] = ()
    email: Optional[str] = None
    company: Optional[str] = None
    note: Optional[str] = None
    id: Optional[str] = None
    """The server-assigned id; ``None`` for a contact not stored yet."""

    def __post_init__(self) -> None:
        # Accept any iterable of pairs; keep an immutable tuple of Numbers.
        object.__setattr__(self, "numbers", tuple(Number(*n) for n in self.numbers))

    def replace(self, **changes: Any) -> "Contact":
        """A copy with some fields changed (``contact.replace(note="...")``)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_element(cls, element: ET.Element) -> "Contact":
        """A contact from its ``<contact>`` element; unknown children are ignored."""

        def text(tag: str) -> Optional[str]:
            child = element.find(tag)
            return None if child is None else (child.text or "").strip()

        numbers = tuple(
            Number(n.get("type", "other"), (n.text or "").strip()) for n in element.findall("number")
        )
        return cls(
            name=text("name") or "",
            numbers=numbers,
            email=text("email"),
            company=text("company"),
            note=text("note"),
            id=text("id"),
        )

    def to_xml(self, with_id: bool = True) -> str:
        """The ``<contact>`` document the protocol sends (without ``<id>`` when
        ``with_id`` is false or there is none)."""
        element = ET.Element("contact")
        if with_id and self.id is not None:
            ET.SubElement(element, "id").text = self.id
        ET.SubElement(element, "name").text = self.name
        for number in self.numbers:
            ET.SubElement(element, "number", type=number.type).text = number.number
        for field in ("email", "company", "note"):
            value = getattr(self, field)
            if value is not None:
                ET.SubElement(element, field).text = value
        return ET.tostring(element, encoding="unicode")


@dataclass(frozen=True)
class Addressbook:
    """An addressbook as the server sent it: its document and its contacts."""

    xml: str
    """The whole ``<addressbook>`` document, as received."""
    contacts: Tuple[Contact, ...]

    @classmethod
    def from_xml(cls, text: str) -> "Addressbook":
        root = ET.fromstring(text)
        return cls(text, tuple(Contact.from_element(c) for c in root.findall("contact")))

    def __len__(self) -> int:
        return len(self.contacts)

    def __iter__(self) -> Iterator[Contact]:
        return iter(self.contacts)

    def __getitem__(self, index: int) -> Contact:
        return self.contacts[index]

    def by_id(self, contact_id: str) -> Optional[Contact]:
        """The contact with that id, if any."""
        return next((c for c in self.contacts if c.id == contact_id), None)


def _take(snapshot: "ctypes._Pointer[_ffi.OpaqueAddressbook]") -> Addressbook:
    """Copies a snapshot into Python and frees it."""
    try:
        text = _ffi.decode(_ffi.addressbook_xml(snapshot)) or ""
        count = _ffi.addressbook_count(snapshot)
    finally:
        _ffi.addressbook_free(snapshot)
    book = Addressbook.from_xml(text)
    if len(book) != count:  # both count the root's <contact> children
        raise InternalError(f"the library counts {count} contacts, ElementTree {len(book)}")
    return book


def fetch(handle: Any) -> Addressbook:
    out = _ffi.AddressbookHandle()
    _ffi.check(_ffi.addressbook_fetch(handle, ctypes.byref(out)))
    return _take(out)


def contact_xml(contact: Union[Contact, str], with_id: bool) -> bytes:
    text = contact.to_xml(with_id) if isinstance(contact, Contact) else contact
    return _ffi.encode(text, "contact_xml") or b""


def add(handle: Any, contact: bytes) -> Contact:
    out = _ffi.AddressbookHandle()
    _ffi.check(_ffi.addressbook_add(handle, contact, ctypes.byref(out)))
    return _take(out).contacts[0]


def update(handle: Any, contact_id: Optional[bytes], contact: bytes) -> None:
    _ffi.check(_ffi.addressbook_update(handle, contact_id, contact))


def delete(handle: Any, contact_id: Optional[bytes]) -> None:
    _ffi.check(_ffi.addressbook_delete(handle, contact_id))
