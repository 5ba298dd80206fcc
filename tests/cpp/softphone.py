#!/usr/bin/env python3
"""The C++ example (examples/softphone.cpp) at start-up, against loopback servers.

    python3 tests/cpp/softphone.py BINARY [SCENARIO...]

Each scenario copies BINARY into a fresh folder (the program looks for
provision.conf in its own folder), writes the files it needs, runs it and
checks its output, its exit status, the stored local config and what the
server was asked. Prints `ok - NAME` / `not ok - NAME` and `N passed, M
failed`; exits non-zero when a scenario failed. Without SCENARIO names, all
run. Also used by tests/packaging to run the example built with pkg-config.
"""

import base64
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "c"))
import loopback  # noqa: E402  (tests/c/loopback.py)

USER, PASSWORD = "alice", "s3cret pass"
ANSWER = """<?xml version="1.0" encoding="UTF-8"?>
<options>
  <accounts><account><username>server-user</username><host>sip.example.test</host></account></accounts>
  <codecs><codec><name>opus</name></codec></codecs>
</options>
"""
LOCAL_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<!-- my softphone -->\n<options>\n'
LOCAL_AUDIO = "  <audio><ring_device>my headset</ring_device></audio>\n"
LOCAL = LOCAL_HEAD + LOCAL_AUDIO + "  <accounts><account><username>old-local</username></account></accounts>\n</options>\n"


def provision_conf(urls, user_input=False, user=USER, password=PASSWORD):
    base_urls = "".join(f"<base_url>{u}</base_url>" for u in urls)
    return (
        f"<provision><base_urls>{base_urls}</base_urls><options>"
        "<use_authentication>1</use_authentication>"
        f"<user_input_authentication>{int(user_input)}</user_input_authentication>"
        "<authentication_type>basic</authentication_type>"
        f"<user>{'' if user_input else user}</user><password>{'' if user_input else password}</password>"
        "</options><significant_sections>accounts,codecs</significant_sections></provision>"
    )


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class Run:
    """One start of the example in a folder of its own."""

    def __init__(self, binary, folder, files, stdin=""):
        self.folder = Path(folder)
        shutil.copy2(binary, self.folder / "softphone")
        for name, text in files.items():
            (self.folder / name).write_text(text, encoding="utf-8")
        proc = subprocess.run(
            [str(self.folder / "softphone")], input=stdin, capture_output=True, text=True, timeout=120
        )
        self.status, self.out, self.err = proc.returncode, proc.stdout, proc.stderr

    def file(self, name):
        return (self.folder / name).read_text(encoding="utf-8")

    def show(self):
        return f"status {self.status}\n--- stdout\n{self.out}--- stderr\n{self.err}"


def fallback_merge_and_store(binary, server, dead, tmp):
    run = Run(binary, tmp, {"provision.conf": provision_conf([dead.url, server.url("/")]), "Config.xml": LOCAL})
    out = run.out
    dead_line, live_line = f"provisioning: {dead.url}configuration: ", f"provisioning: {server.url('/')}configuration: ok"
    checks = [
        (run.status == 0, "exit status 0"),
        (dead_line in out and live_line in out and out.index(dead_line) < out.index(live_line),
         "the dead URL is logged first, then the live one served"),
        (f"provisioned from {server.url('/')}\n" in out, "says which base URL served"),
        ("section accounts: from the server" in out and "section audio: local" in out,
         "uses the merged config: accounts from the server, audio local"),
        ("server-user" in out and "old-local" not in out and "my headset" in out, "the merged config is shown"),
        (run.file("Config.xml") == LOCAL_HEAD + LOCAL_AUDIO + "</options>\n",
         "on exit the local part is stored: the server's sections are left out, the rest byte for byte"),
        (PASSWORD not in out + run.err, "the password is never printed"),
    ]
    return checks, run


def asks_for_credentials(binary, server, dead, tmp):
    before = len(server.requests)
    conf = provision_conf([server.url("/")], user_input=True)
    run = Run(binary, tmp, {"provision.conf": conf}, stdin=f"{USER}\n{PASSWORD}\n")
    sent = [r.headers.get("Authorization") for r in server.requests[before:]]
    checks = [
        (run.status == 0, "exit status 0"),
        ("Provisioning user: " in run.err and "Password: " in run.err, "asks on the terminal"),
        (sent == [basic(USER, PASSWORD)], f"sends what was typed, once: {sent}"),
        ("section accounts: from the server" in run.out, "provisioned"),
        (PASSWORD not in run.out + run.err, "the typed password is not echoed"),
    ]
    return checks, run


def shows_the_server_error(binary, server, dead, tmp):
    run = Run(binary, tmp, {"provision.conf": provision_conf([dead.url, server.url("/op/")]), "Config.xml": LOCAL})
    checks = [
        (run.status == 0, "goes on with the local config: exit status 0"),
        ("provisioning: the server says: Wrong username or password\n" in run.out, "shows the server's own text"),
        ("section accounts: local" in run.out, "uses the local config"),
        (run.file("Config.xml") == LOCAL, "the local config is left alone"),
    ]
    return checks, run


def exits_on_an_invalid_file(binary, server, dead, tmp):
    before = len(server.requests)
    bad = provision_conf([server.url("/")]).replace("<significant_sections>accounts,codecs", "<significant_sections>accounts,bogus")
    run = Run(binary, tmp, {"provision.conf": bad, "Config.xml": LOCAL})
    checks = [
        (run.status == 1, "exit status 1"),
        ("provision.conf" in run.err and "bogus" in run.err, "the message names the file and the fault"),
        (len(server.requests) == before, "nothing is fetched"),
        (run.file("Config.xml") == LOCAL, "the local config is left alone"),
    ]
    return checks, run


def without_a_file_provisioning_is_off(binary, server, dead, tmp):
    run = Run(binary, tmp, {"Config.xml": LOCAL})
    checks = [
        (run.status == 0 and "provisioning: off" in run.out, "says provisioning is off, exit status 0"),
        ("section accounts: local" in run.out and "old-local" in run.out, "uses the local config"),
        (run.file("Config.xml") == LOCAL, "the local config is left alone"),
    ]
    return checks, run


SCENARIOS = {
    "fallback": ("softphone: dead URL, then live: merged, used, local part stored", fallback_merge_and_store),
    "credentials": ("softphone: user_input_authentication 1 asks on the terminal", asks_for_credentials),
    "server-error": ("softphone: shows the server's <error> text, keeps the local config", shows_the_server_error),
    "invalid": ("softphone: an invalid provision.conf exits with the message", exits_on_an_invalid_file),
    "off": ("softphone: without provision.conf the local config is used", without_a_file_provisioning_is_off),
}


def run_scenarios(binary, names=None):
    """Runs the named scenarios (all by default); returns (passed, failed)."""
    passed = failed = 0
    routes = {
        "/configuration": loopback.Answer(ANSWER),
        "/op/configuration": loopback.Answer("<error>Wrong username or password</error>"),
    }
    with loopback.Server(routes) as server, loopback.DeadPort() as dead:
        for key in names or SCENARIOS:
            name, scenario = SCENARIOS[key]
            with tempfile.TemporaryDirectory(prefix="provision-softphone-") as tmp:
                checks, run = scenario(os.path.abspath(binary), server, dead, tmp)
            bad = [what for ok, what in checks if not ok]
            print(f"{'not ok' if bad else 'ok'} - {name}", flush=True)
            for what in bad:
                print(f"#   failed: {what}")
            if bad:
                print("#   " + run.show().replace("\n", "\n#   "))
            passed, failed = passed + (not bad), failed + bool(bad)
    return passed, failed


def main(argv):
    if len(argv) < 2 or any(name not in SCENARIOS for name in argv[2:]):
        sys.exit(f"usage: {argv[0]} BINARY [{'|'.join(SCENARIOS)}...]")
    passed, failed = run_scenarios(argv[1], argv[2:])
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
