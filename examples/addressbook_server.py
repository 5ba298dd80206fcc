#!/usr/bin/env python3
"""A reference server for the addressbook part (docs/addressbook.md).

    python3 examples/addressbook_server.py [--port 0] [--base /zoiper/]
        [--store book.json] [--user alice:secret] [--configuration answer.xml]
        [--log requests.jsonl]

Serves, under BASE:
  GET    BASE/addressbook       the <addressbook> (ETag; If-None-Match -> 304)
  POST   BASE/addressbook       one <contact> without <id>: stored, answered with its new id
  PUT    BASE/addressbook/ID    one <contact>: replaces contact ID, answered with it
  DELETE BASE/addressbook/ID    removes contact ID (204)
  GET    BASE/configuration     the file given with --configuration, if any
Every refusal is an <error> document with a 4xx status.

The store is in memory, or a JSON file (--store) written atomically after
each change. With --user (repeatable), requests must authenticate as the
configuration part does: `basic` (Authorization header) or `url` (query
parameters `user` and `password`, the lowercase hex MD5 of the password).

It prints one line, `listening on http://127.0.0.1:PORT/BASE`, once it
accepts connections (the ready signal for scripts and tests), and with
--log appends one JSON line per request (method, path without the
password, whether it authenticated), flushed before the answer is sent.
Python standard library only; loopback by default.
"""

import argparse
import base64
import hashlib
import hmac
import http.server
import json
import os
import re
import tempfile
import threading
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

NUMBER_TYPES = ("work", "mobile", "home", "other")
OPTIONAL_FIELDS = ("email", "company", "note")
MAX_BODY = 64 * 1024


class Refusal(Exception):
    """A request the server refuses: answered as <error>text</error>."""

    def __init__(self, status, text):
        super().__init__(text)
        self.status, self.text = status, text


def parse_contact(body):
    """A <contact> document as a dict {id?, name, numbers: [(type, n)], email?, company?, note?}."""
    text = body.decode("utf-8", errors="strict") if isinstance(body, bytes) else body
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise Refusal(400, "DOCTYPE and entities are not accepted")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise Refusal(400, f"the contact is not well-formed XML: {e}") from None
    if root.tag != "contact":
        raise Refusal(400, f"expected one <contact>, got <{root.tag}>")
    contact = {"numbers": []}
    for child in root:
        value = (child.text or "").strip()
        if child.tag == "number":
            kind = child.get("type", "other")
            if kind not in NUMBER_TYPES:
                raise Refusal(400, f"number type '{kind}' is not one of {', '.join(NUMBER_TYPES)}")
            if not value:
                raise Refusal(400, "an empty <number>")
            contact["numbers"].append([kind, value])
        elif child.tag in ("id", "name") + OPTIONAL_FIELDS:
            if child.tag in contact:
                raise Refusal(400, f"<{child.tag}> appears more than once")
            contact[child.tag] = value
        else:
            raise Refusal(400, f"unknown element <{child.tag}> in <contact>")
    if not contact.get("name"):
        raise Refusal(400, "a contact needs a non-empty <name>")
    return contact


def contact_element(contact):
    element = ET.Element("contact")
    ET.SubElement(element, "id").text = contact["id"]
    ET.SubElement(element, "name").text = contact["name"]
    for kind, number in contact["numbers"]:
        ET.SubElement(element, "number", type=kind).text = number
    for field in OPTIONAL_FIELDS:
        if contact.get(field):
            ET.SubElement(element, field).text = contact[field]
    return element


def document(element):
    ET.indent(element, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(element, encoding="unicode") + "\n"


def error_document(text):
    element = ET.Element("error")
    element.text = text
    return document(element)


class Store:
    """Contacts by id, in memory or in a JSON file; ids are never reused."""

    def __init__(self, path=None):
        self.path = Path(path) if path else None
        self.lock = threading.Lock()
        self.data = {"next_id": 1, "version": 1, "contacts": {}}
        if self.path and self.path.exists():
            self.data = json.loads(self.path.read_text(encoding="utf-8"))

    def _changed(self):
        self.data["version"] += 1
        if self.path:
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name + ".")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(self.data, f, indent=1)
            os.replace(tmp, self.path)

    def snapshot(self):
        with self.lock:
            book = ET.Element("addressbook")
            for contact in self.data["contacts"].values():
                book.append(contact_element(contact))
            return document(book), f'"v{self.data["version"]}"'

    def add(self, contact):
        if "id" in contact:
            raise Refusal(400, "a new contact has no <id>: the server assigns it")
        with self.lock:
            contact["id"] = str(self.data["next_id"])
            self.data["next_id"] += 1
            self.data["contacts"][contact["id"]] = contact
            self._changed()
            return contact

    def update(self, contact_id, contact):
        if contact.get("id", contact_id) != contact_id:
            raise Refusal(400, f"the contact says <id>{contact['id']}</id> but the URL names '{contact_id}'")
        with self.lock:
            if contact_id not in self.data["contacts"]:
                raise Refusal(404, f"no contact '{contact_id}'")
            contact["id"] = contact_id
            self.data["contacts"][contact_id] = contact
            self._changed()
            return contact

    def delete(self, contact_id):
        with self.lock:
            if self.data["contacts"].pop(contact_id, None) is None:
                raise Refusal(404, f"no contact '{contact_id}'")
            self._changed()


class AddressbookServer:
    """The server on 127.0.0.1 (an ephemeral port unless given), serving from
    a daemon thread; ready when the constructor returns. `requests` records
    (method, path) of each request, the `password` query value masked."""

    def __init__(self, base="/", store=None, users=None, configuration=None, log=None, port=0):
        self.base = base if base.endswith("/") else base + "/"
        self.store = store if isinstance(store, Store) else Store(store)
        self.users = dict(users or {})
        self.configuration = configuration
        self.requests = []
        self._log = open(log, "a", encoding="utf-8") if log else None
        self._log_lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                server._handle(self)

            do_POST = do_PUT = do_DELETE = do_GET

            def log_message(self, *args):
                pass  # --log and `requests` say it better

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def url(self):
        return f"http://127.0.0.1:{self.port}{self.base}"

    def close(self):
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._log:
            self._log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _authenticated(self, handler, query):
        if not self.users:
            return True
        header = handler.headers.get("Authorization", "")
        if header.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
            except ValueError:
                return False
            return user in self.users and hmac.compare_digest(self.users[user], password)
        user, digest = query.get("user", [None])[0], query.get("password", [None])[0]
        if user in self.users and digest is not None:
            expected = hashlib.md5(self.users[user].encode("utf-8")).hexdigest()
            return hmac.compare_digest(expected, digest)
        return False

    def _record(self, handler, path, authenticated):
        shown = re.sub(r"(password=)[^&]*", r"\1***", path)
        entry = {"method": handler.command, "path": shown, "authenticated": authenticated}
        with self._log_lock:
            self.requests.append((handler.command, shown))
            if self._log:
                self._log.write(json.dumps(entry) + "\n")
                self._log.flush()

    def _handle(self, handler):
        split = urlsplit(handler.path)
        query = parse_qs(split.query)
        length = int(handler.headers.get("Content-Length") or 0)
        try:
            if length > MAX_BODY:
                handler.close_connection = True
                raise Refusal(413, f"the body is over {MAX_BODY} bytes")
            body = handler.rfile.read(length) if length else b""
            authenticated = self._authenticated(handler, query)
            self._record(handler, handler.path, authenticated)
            if not authenticated:
                raise Refusal(401, "Wrong username or password.")
            status, payload, headers = self._route(handler, split.path, body)
        except Refusal as refusal:
            status, payload, headers = refusal.status, error_document(refusal.text), []
        except UnicodeDecodeError:
            status, payload, headers = 400, error_document("the body is not UTF-8"), []
        data = payload.encode("utf-8")
        handler.send_response(status)
        if status == 401:
            handler.send_header("WWW-Authenticate", 'Basic realm="addressbook"')
        for name, value in headers:
            handler.send_header(name, value)
        if status not in (204, 304):
            handler.send_header("Content-Type", "application/xml; charset=utf-8")
            handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        if status not in (204, 304):
            handler.wfile.write(data)

    def _route(self, handler, path, body):
        method = handler.command
        if path == self.base + "configuration" and method == "GET" and self.configuration is not None:
            return 200, self.configuration, []
        if path == self.base + "addressbook":
            if method == "GET":
                text, etag = self.store.snapshot()
                if handler.headers.get("If-None-Match") == etag:
                    return 304, "", [("ETag", etag)]
                return 200, text, [("ETag", etag)]
            if method == "POST":
                stored = self.store.add(parse_contact(body))
                return 201, document(contact_element(stored)), [("Location", self.base + "addressbook/" + stored["id"])]
        elif path.startswith(self.base + "addressbook/"):
            contact_id = unquote(path[len(self.base + "addressbook/"):])
            if method == "PUT":
                return 200, document(contact_element(self.store.update(contact_id, parse_contact(body)))), []
            if method == "DELETE":
                self.store.delete(contact_id)
                return 204, "", []
        else:
            raise Refusal(404, f"nothing at {path}")
        raise Refusal(405, f"{method} is not allowed on {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="0: an ephemeral port (default)")
    parser.add_argument("--base", default="/", help="the base path (default /)")
    parser.add_argument("--store", help="a JSON file holding the contacts (default: in memory)")
    parser.add_argument("--user", action="append", default=[], metavar="USER:PASSWORD",
                        help="accept these credentials (repeatable); without it, no authentication")
    parser.add_argument("--configuration", help="an answer file to serve at BASE/configuration")
    parser.add_argument("--log", help="append one JSON line per request to this file")
    args = parser.parse_args()
    users = dict(u.split(":", 1) for u in args.user)
    configuration = Path(args.configuration).read_text(encoding="utf-8") if args.configuration else None
    server = AddressbookServer(args.base, args.store, users, configuration, args.log, args.port)
    print(f"listening on {server.url()}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.close()


if __name__ == "__main__":
    main()
