#!/usr/bin/env python3
"""`make demo`: provision a softphone from a server on loopback.

    python3 examples/demo.py build/debug/demo

Starts a provisioning server on 127.0.0.1 (an ephemeral port): the
reference server of examples/addressbook_server.py, serving the
configuration below and an addressbook of a few contacts. Writes a provision
file whose first base URL is dead and whose second is that server, and a
local config; runs the demo program (examples/demo.c) on them; then shows
what the server was asked. Python stdlib only.
"""

import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "c"))
import loopback  # noqa: E402  (tests/c/loopback.py)
from addressbook_server import AddressbookServer  # noqa: E402  (examples/, beside this file)

BASE_PATH = "/zoiper/"
USER = "alice"
PASSWORD = "correct horse battery staple"

# What an operator's server might answer for alice.
ANSWER = """<?xml version="1.0" encoding="UTF-8"?>
<options>
  <accounts>
    <account>
      <name>Office</name>
      <protocol>sip</protocol>
      <username>alice</username>
      <password>sip-pw-office</password>
      <host>pbx.example.com</host>
      <caller_id>Alice Example</caller_id>
      <transport>tls</transport>
      <register_on_startup>1</register_on_startup>
    </account>
    <account>
      <name>Support queue</name>
      <protocol>sip</protocol>
      <username>support-204</username>
      <password>sip-pw-support</password>
      <host>queues.example.com</host>
      <caller_id>Example Support</caller_id>
      <transport>udp</transport>
      <register_on_startup>0</register_on_startup>
    </account>
  </accounts>
  <codecs>
    <codec><name>opus</name><priority>1</priority><enabled>1</enabled></codec>
    <codec><name>G.722</name><priority>2</priority><enabled>1</enabled></codec>
    <codec><name>PCMA</name><priority>3</priority><enabled>1</enabled></codec>
  </codecs>
  <diagnostics>
    <debug_log>0</debug_log>
    <log_level>warning</log_level>
  </diagnostics>
</options>
"""

# The user's own settings; its accounts are replaced by the server's.
LOCAL_CONFIG = """<?xml version="1.0" encoding="UTF-8"?>
<!-- Zoiper local configuration -->
<options>
  <general>
    <language>en</language>
    <start_minimized>0</start_minimized>
  </general>
  <audio>
    <ring_device>Speakers (USB headset)</ring_device>
    <echo_cancellation>1</echo_cancellation>
  </audio>
  <accounts>
    <account><name>old test account</name><username>test</username><host>pbx.lan</host></account>
  </accounts>
</options>
"""


def provision_conf(urls):
    base_urls = "".join(f"    <base_url>{url}</base_url>\n" for url in urls)
    return f"""<provision>
  <base_urls>
{base_urls}  </base_urls>
  <options>
    <use_authentication>1</use_authentication>
    <user_input_authentication>0</user_input_authentication>
    <authentication_type>url</authentication_type>
    <user>{USER}</user>
    <password>{PASSWORD}</password>
    <refresh_rate>0</refresh_rate>
  </options>
  <significant_sections>general,sip_options,accounts,codecs,diagnostics</significant_sections>
  <addressbook>
    <use_addressbook>1</use_addressbook>
    <restrictions>delete</restrictions>
  </addressbook>
</provision>
"""

# The company directory the server keeps (its store takes them as the
# protocol's fields; it assigns the ids).
CONTACTS = [
    {"name": "Reception", "numbers": [["work", "+32 2 555 01 00"]], "company": "Example SA"},
    {"name": "Bob Builder", "numbers": [["work", "+32 2 555 01 01"], ["mobile", "+32 470 55 01 01"]],
     "email": "bob@example.com", "company": "Example SA"},
    {"name": "Support queue", "numbers": [["work", "204"]], "note": "09:00-17:00"},
]


def heading(title):
    print(f"\n=== {title} ===", flush=True)


def main(argv):
    if len(argv) != 2:
        sys.exit(f"usage: {argv[0]} DEMO_BINARY")
    with AddressbookServer(BASE_PATH, users={USER: PASSWORD}, configuration=ANSWER) as server, \
            loopback.DeadPort() as dead, tempfile.TemporaryDirectory(prefix="provision-demo-") as tmp:
        for contact in CONTACTS:
            server.store.add(dict(contact))
        conf, local = Path(tmp, "provision.conf"), Path(tmp, "config.xml")
        conf.write_text(provision_conf([dead.url, server.url()]))
        local.write_text(LOCAL_CONFIG)

        print(f"provisioning server: {server.url()} (configuration: accounts, codecs, diagnostics;"
              f" addressbook: {len(CONTACTS)} contacts)")
        print(f"dead base URL:       {dead.url} (nothing listens: the library moves on)")
        heading(f"{conf} (url authentication: user and MD5 of the password in the query)")
        print(conf.read_text(), end="")
        heading(f"{local} (local config before provisioning)")
        print(local.read_text(), end="")
        heading(f"{argv[1]} {conf.name} {local.name}")
        status = subprocess.run([argv[1], str(conf), str(local)]).returncode

        heading("what the server saw")
        for method, path in server.requests:  # the server masks the password
            print(f"{method} {path}")
    if status != 0:
        print(f"\ndemo failed (exit status {status})", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
