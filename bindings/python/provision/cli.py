"""``python3 -m provision run``: try a provision file against its servers.

For operators testing their provisioning servers: does what a softphone
does at start-up (ask each base URL in turn, merge the first usable answer
into a local config) and prints what happened. Nothing is written.
``python3 -m provision addressbook`` fetches the addressbook part and prints
its contacts as a table.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import textwrap
from typing import Callable, List, Optional, TextIO

import provision
from provision import Attempt, ProvisionError, Status

# The section names the provisioning guide lists.
SECTIONS = (
    "general", "sip_options", "iax_options", "rtp_options", "stun_options", "accounts", "audio",
    "transfer", "codecs", "restrictions", "provision", "diagnostics", "network", "fax",
)

EXIT_BASE = 10
"""A failure exits with EXIT_BASE + the library's status (e.g. 17 for ERR_FETCH)."""

PASSWORD_VARIABLE = "PROVISION_PASSWORD"


def _exit_codes() -> str:
    rows = [f"  {EXIT_BASE + s.value:3}  {s.name}" for s in Status if s is not Status.OK]
    return "\n".join(
        ["exit status:", "    0  provisioned", "    1  libprovision could not be loaded", "    2  bad command line"] + rows
    )


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python3 -m provision",
        description="Tools around libprovision " + provision.version() + ".",
    )
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="try a provision file against its servers",
        description=textwrap.fill(
            "Asks each base URL of PROVISION_FILE in turn for its configuration, as a softphone "
            "does at start-up, and merges the first usable answer into the local config. Prints, "
            "on standard error, one line per URL tried (outcome and milliseconds) and which base "
            "URL served; on standard output, the merged config. On failure, prints the error (a "
            "server's <error> text as the server wrote it). Nothing is written to disk."
        ),
        epilog=_exit_codes(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("provision_file", metavar="PROVISION_FILE", help="the provision file (provision.conf)")
    run.add_argument("--local", metavar="CONFIG", help="a local config to merge into (read, never written)")
    _user_option(run)
    book = commands.add_parser(
        "addressbook",
        help="print the addressbook a provision file leads to",
        description=textwrap.fill(
            "Fetches the addressbook part (BASE/addressbook, docs/addressbook.md) from the base URLs "
            "of PROVISION_FILE in turn and prints its contacts as a table on standard output, one "
            "line per URL tried on standard error. Fails with ERR_RESTRICTED, without a request, "
            "when the file's <use_addressbook> is 0."
        ),
        epilog=_exit_codes(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    book.add_argument("provision_file", metavar="PROVISION_FILE", help="the provision file (provision.conf)")
    _user_option(book)
    return top


def _user_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--user",
        metavar="U",
        help=f"send U's credentials instead of the file's (needed when user_input_authentication is 1); "
        f"the password is taken from ${PASSWORD_VARIABLE}, else asked on the terminal",
    )


def _log_line(out: TextIO):
    def hear(attempt: Attempt) -> None:
        kind = {Status.OK: "ok", Status.ERR_SERVER: "server"}.get(attempt.status, "failed")
        print(f"{kind:<7}{attempt.url}: {attempt.outcome} ({attempt.elapsed_ms} ms)", file=out, flush=True)

    return hear


def _open(args: argparse.Namespace, err: TextIO) -> "provision.Provision":
    """The handle on the file, with --user's credentials and a logger on ``err``."""
    prov = provision.Provision.load(args.provision_file)
    try:
        if args.user is not None:
            password = os.environ.get(PASSWORD_VARIABLE)
            if password is None:
                password = getpass.getpass(f"Password for {args.user}: ")
            prov.set_credentials(args.user, password)
        prov.set_logger(_log_line(err))
    except BaseException:
        prov.close()
        raise
    return prov


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    def body() -> int:
        with _open(args, err) as prov:
            prov.run(args.local)
            provisioned = [s for s in SECTIONS if prov.is_provisioned(s)]
            print(f"served by {prov.source_url} (provisioned: {', '.join(provisioned)})", file=err)
            out.write(prov.config or "")
            return 0

    return _reporting(body, args, err)


def table(book: "provision.Addressbook") -> List[str]:
    """The contacts as aligned text lines: a header, then one line per contact."""
    rows = [("ID", "NAME", "NUMBERS", "E-MAIL", "COMPANY", "NOTE")]
    for c in book:
        numbers = ", ".join(f"{n.number} ({n.type})" for n in c.numbers)
        rows.append((c.id or "", c.name, numbers, c.email or "", c.company or "", c.note or ""))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]


def addressbook(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    def body() -> int:
        with _open(args, err) as prov:
            book = prov.addressbook()
            for line in table(book):
                print(line, file=out)
            print(f"{len(book)} contacts", file=err)
            return 0

    return _reporting(body, args, err)


def _reporting(body: Callable[[], int], args: argparse.Namespace, err: TextIO) -> int:
    """Runs ``body``; a library failure is printed and gives its exit status."""
    try:
        return body()
    except ProvisionError as e:
        if e.status == Status.ERR_SERVER:
            print(f"error (ERR_SERVER): the server says: {e.message}", file=err)
        else:
            name = e.status.name if isinstance(e.status, Status) else str(e.status)
            print(f"error ({name}): {e.message}", file=err)
            if e.status == Status.ERR_CREDENTIALS and args.user is None:
                print("(give the user with --user)", file=err)
        return EXIT_BASE + int(e.status)


def main(argv: Optional[List[str]] = None) -> int:
    args = parser().parse_args(argv)
    command = {"run": run, "addressbook": addressbook}[args.command]
    return command(args, sys.stdout, sys.stderr)
