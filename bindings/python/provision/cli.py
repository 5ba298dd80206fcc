"""``provision run`` (also ``python3 -m provision run``): try a provision
file against its servers.

For operators testing their provisioning servers: does what a softphone
does at start-up (ask each base URL in turn, merge the first usable answer
into a local config) and prints what happened. Nothing is written.
``python3 -m provision addressbook`` fetches the addressbook part and prints
its contacts as a table.

It never shows a traceback: every failure is one line on standard error and
an exit status listed by ``--help`` (and docs/python.md). ``--help`` works
without the library; everything else needs it.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import textwrap
import xml.etree.ElementTree as ElementTree
from typing import Any, Callable, List, Optional, TextIO, Tuple

from ._errors import LibraryNotFound, ProvisionError, Status

EXIT_OK = 0
EXIT_NO_LIBRARY = 1
"""libprovision could not be loaded."""
EXIT_USAGE = 2
"""A bad command line (argparse's own status)."""
EXIT_NO_PASSWORD = 3
"""``--user`` was given, no ``$PROVISION_PASSWORD``, and no terminal to ask on."""
EXIT_BUG = 4
"""An unexpected error in this program (a bug: please report it)."""
EXIT_INTERRUPTED = 130
EXIT_BASE = 10
"""A failure exits with EXIT_BASE + the library's status (e.g. 17 for ERR_FETCH)."""

PASSWORD_VARIABLE = "PROVISION_PASSWORD"


class Failure(Exception):
    """Ends the program: ``message`` (one line) on stderr, exit ``code``."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def _exit_codes() -> str:
    rows = [f"  {EXIT_BASE + s.value:3}  {s.name}" for s in Status if s not in (Status.OK, Status.CACHED)]
    return "\n".join(
        [
            "exit status:",
            f"  {EXIT_OK:3}  provisioned",
            f"  {EXIT_NO_LIBRARY:3}  libprovision could not be loaded",
            f"  {EXIT_USAGE:3}  bad command line",
            f"  {EXIT_NO_PASSWORD:3}  --user without ${PASSWORD_VARIABLE} and no terminal to ask the password on",
            f"  {EXIT_BUG:3}  a bug in this program (the message says what; please report it)",
            f"  {EXIT_INTERRUPTED:3}  interrupted (Ctrl-C)",
        ]
        + rows
    )


def _program_name() -> str:
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "provision"
    return "python3 -m provision" if name in ("__main__.py", "-m", "-c") else name


def parser() -> argparse.ArgumentParser:
    """The command line; building it needs no library."""
    top = argparse.ArgumentParser(
        prog=_program_name(),
        description="Tools around libprovision: try a provision file against its servers, "
        "print the addressbook it leads to.",
    )
    top.add_argument("--version", action="store_true", help="print the package's and the library's versions")
    commands = top.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="try a provision file against its servers",
        description=textwrap.fill(
            "Asks each base URL of PROVISION_FILE in turn for its configuration, as a softphone "
            "does at start-up, and merges the first usable answer into the local config. Prints, "
            "on standard error, one line per URL tried (outcome and milliseconds) and which base "
            "URL served; on standard output, the merged config. On failure, prints the error (a "
            "server's <error> text as the server wrote it) on one line. Nothing is written to disk."
        ),
        epilog=_exit_codes(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("provision_file", metavar="PROVISION_FILE", help="the provision file (provision.conf)")
    run.add_argument(
        "--local",
        metavar="CONFIG",
        help="a local config to merge into (read, never written); a missing file is merged as an empty "
        "config, with a warning",
    )
    _user_option(run)
    _network_options(run)
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
    _network_options(book)
    return top


def _user_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--user",
        metavar="U",
        help=f"send U's credentials instead of the file's (needed when user_input_authentication is 1); "
        f"the password is taken from ${PASSWORD_VARIABLE}, else asked on the terminal. Ignored, with a "
        "warning, when the file has use_authentication 0",
    )

def _network_options(command: argparse.ArgumentParser) -> None:
    network = command.add_argument_group("network (docs/network.md)")
    network.add_argument("--client-cert", metavar="PEM", help="present this client certificate chain (with --client-key)")
    network.add_argument("--client-key", metavar="PEM", help="the private key of --client-cert (PKCS#8, RSA or EC)")
    network.add_argument(
        "--proxy",
        metavar="URL",
        help='http://[user:password@]host:port, or "" for none (default: the environment\'s HTTPS_PROXY...)',
    )
    network.add_argument(
        "--header",
        metavar="NAME=VALUE",
        action="append",
        default=[],
        help="send this header to the base URLs (repeatable; never printed)",
    )
    network.add_argument(
        "--set",
        metavar="NAME=VALUE",
        action="append",
        default=[],
        dest="variables",
        help="the value of [NAME] in URL templates, e.g. --set version=1.14 (repeatable)",
    )


def _pairs(option: str, given: List[str]) -> List[Tuple[str, str]]:
    """``NAME=VALUE`` arguments split; Failure (usage) naming the bad one
    by its name only: a header's value may be a secret."""
    pairs = []
    for item in given:
        name, equals, value = item.partition("=")
        if not equals or not name:
            raise Failure(EXIT_USAGE, f"error: {option} takes NAME=VALUE, got {name or 'nothing'!r} without '='")
        pairs.append((name, value))
    return pairs


def _network(prov: Any, args: argparse.Namespace) -> None:
    """Applies the network options (client certificate, proxy, headers, variables)."""
    if (args.client_cert is None) != (args.client_key is None):
        raise Failure(EXIT_USAGE, "error: --client-cert and --client-key go together")
    if args.client_cert is not None:
        prov.set_client_cert(args.client_cert, args.client_key)
    if args.proxy is not None:
        prov.set_proxy(args.proxy)
    for name, value in _pairs("--header", args.header):
        prov.set_header(name, value)
    for name, value in _pairs("--set", args.variables):
        prov.set_variable(name, value)


def _one_line(text: str) -> str:
    """A message on one line: a server's text or a list of URLs may hold breaks."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def _library() -> Any:
    """The binding's library-backed part; Failure when the library is missing."""
    try:
        from . import _provision

        return _provision
    except LibraryNotFound as e:
        raise Failure(EXIT_NO_LIBRARY, "error: " + _one_line(str(e))) from None


def _sends_credentials(provision_file: str) -> Optional[bool]:
    """Whether the file's use_authentication is on; None when that cannot be
    told without consuming the file (a pipe) or it is not plain XML."""
    if not os.path.isfile(provision_file):
        return None
    try:
        value = ElementTree.parse(provision_file).getroot().findtext("options/use_authentication")
    except (OSError, ElementTree.ParseError):
        return None
    if (value or "0").strip().lower() in ("1", "true"):
        return True
    # A URL template's [username] and [password] take the credentials whatever use_authentication says.
    urls = [u.text or "" for u in ElementTree.parse(provision_file).getroot().iterfind("base_urls/base_url")]
    return any(p in u for u in urls for p in ("[username]", "[password]", "{username}", "{password}"))


def _password(user: str) -> str:
    """``$PROVISION_PASSWORD``, else asked on the terminal; Failure without either."""
    password = os.environ.get(PASSWORD_VARIABLE)
    if password is not None:
        return password
    try:
        with open("/dev/tty", "rb"):
            pass  # getpass asks there
    except OSError:
        if not (sys.stdin is not None and sys.stdin.isatty()):
            raise Failure(
                EXIT_NO_PASSWORD,
                f"error: no password for {user}: set ${PASSWORD_VARIABLE}, or run on a terminal to be asked",
            ) from None
    try:
        return getpass.getpass(f"Password for {user}: ")
    except EOFError:
        raise Failure(EXIT_NO_PASSWORD, f"error: no password for {user}: the terminal gave none") from None


def _log_line(out: TextIO) -> Callable[[Any], None]:
    """The logger: one line per URL tried, and one per notice."""
    from ._callbacks import LogKind, LogRecord

    def hear(record: LogRecord) -> None:
        if record.kind is LogKind.NOTICE:
            print(f"notice {_status_name(record.status)}: {_one_line(record.message)}", file=out, flush=True)
            return
        kind = "ok" if record.status == Status.OK else "server" if record.status == Status.ERR_SERVER else "failed"
        print(f"{kind:<7}{record.url}: {_one_line(record.message)} ({record.elapsed_ms} ms)", file=out, flush=True)

    return hear


def _status_name(status: int) -> str:
    return status.name if isinstance(status, Status) else str(status)


def _credentials(prov: Any, args: argparse.Namespace, err: TextIO) -> None:
    """``--user``'s credentials on the handle, unless the file sends none."""
    if args.user is None:
        return
    if _sends_credentials(args.provision_file) is False:
        print(f"warning: --user {args.user} is not sent: {args.provision_file} has use_authentication 0", file=err)
    else:
        prov.set_credentials(args.user, _password(args.user))


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``run PROVISION_FILE``: the exit status; Failure for one-line failures."""
    binding = _library()
    try:
        with binding.Provision.load(args.provision_file) as prov:
            _credentials(prov, args, err)
            _network(prov, args)
            if args.local is not None and not os.path.exists(args.local):
                print(f"warning: --local {args.local} does not exist: merging into an empty local config", file=err)
            prov.set_logger(_log_line(err))
            prov.run(args.local)
            outcome = prov.last_outcome()
            print(f"served by {outcome.source_url} (provisioned: {', '.join(outcome.provisioned)})", file=err)
            out.write(outcome.config)
            return EXIT_OK
    except ProvisionError as e:
        raise _failure(e, args) from None


def table(book: Any) -> List[str]:
    """An Addressbook's contacts as aligned lines: a header, then one line per contact."""
    rows: List[Tuple[str, ...]] = [("ID", "NAME", "NUMBERS", "E-MAIL", "COMPANY", "NOTE")]
    for c in book:
        numbers = ", ".join(f"{n.number} ({n.type})" for n in c.numbers)
        rows.append((c.id or "", c.name, numbers, c.email or "", c.company or "", c.note or ""))
    rows = [tuple(_one_line(cell) for cell in row) for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]


def addressbook(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``addressbook PROVISION_FILE``: the exit status; Failure for one-line failures."""
    binding = _library()
    try:
        with binding.Provision.load(args.provision_file) as prov:
            _credentials(prov, args, err)
            _network(prov, args)
            prov.set_logger(_log_line(err))
            book = prov.addressbook()
            for line in table(book):
                print(line, file=out)
            print(f"{len(book)} contacts", file=err)
            return EXIT_OK
    except ProvisionError as e:
        raise _failure(e, args) from None


def _failure(e: ProvisionError, args: argparse.Namespace) -> Failure:
    """A library failure as the program's one line and exit status."""
    name = _status_name(e.status)
    if e.status == Status.ERR_SERVER:
        message = f"error ({name}): the server says: {_one_line(e.message)}"
    else:
        message = f"error ({name}): {_one_line(e.message)}"
        if e.status == Status.ERR_CREDENTIALS and args.user is None:
            message += " (give the user with --user)"
    return Failure(EXIT_BASE + int(e.status), message)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        package = version("provision")
    except PackageNotFoundError:
        package = "(not installed)"
    binding = _library()
    return f"provision {package}, libprovision {binding.version()} from {binding.library_path}"


def main(argv: Optional[List[str]] = None) -> int:
    """The program: its exit status. Prints no traceback, whatever happens."""
    top = parser()
    args = top.parse_args(argv)  # exits 2 (or 0 for --help) by itself
    try:
        if args.version:
            print(_version())
            return EXIT_OK
        if args.command is None:
            top.print_usage(sys.stderr)
            print(f"{top.prog}: error: give a COMMAND (run, addressbook)", file=sys.stderr)
            return EXIT_USAGE
        command = {"run": run, "addressbook": addressbook}[args.command]
        return command(args, sys.stdout, sys.stderr)
    except Failure as failure:
        print(str(failure), file=sys.stderr)
        return failure.code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of stdout went away (`| head`): nothing left to say to it.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return EXIT_OK
    except Exception as e:  # noqa: BLE001  (the promise is: no traceback)
        print(f"error: a bug in {top.prog}: {type(e).__name__}: {_one_line(str(e))}", file=sys.stderr)
        return EXIT_BUG
