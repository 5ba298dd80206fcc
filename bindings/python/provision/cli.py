"""``provision run`` (also ``python3 -m provision run``): try a provision
file against its servers.

For operators testing their provisioning servers: does what a softphone
does at start-up (ask each base URL in turn, merge the first usable answer
into a local config) and prints what happened. Nothing is written.

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
from typing import Any, Callable, List, Optional, TextIO

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
        description="Tools around libprovision: try a provision file against its servers.",
    )
    top.add_argument("--version", action="store_true", help="print the package's and the library's versions")
    commands = top.add_subparsers(dest="command_name", metavar="COMMAND")
    # Each command: a subparser whose `command` default is the function
    # that runs it, (args, out, err) -> exit status.
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
    run.set_defaults(command=run_command)
    run.add_argument("provision_file", metavar="PROVISION_FILE", help="the provision file (provision.conf)")
    run.add_argument(
        "--local",
        metavar="CONFIG",
        help="a local config to merge into (read, never written); a missing file is merged as an empty "
        "config, with a warning",
    )
    run.add_argument(
        "--user",
        metavar="U",
        help=f"send U's credentials instead of the file's (needed when user_input_authentication is 1); "
        f"the password is taken from ${PASSWORD_VARIABLE}, else asked on the terminal. Ignored, with a "
        "warning, when the file has use_authentication 0",
    )
    return top


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
    return (value or "0").strip().lower() in ("1", "true")


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


def run_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``run PROVISION_FILE``: the exit status; Failure for one-line failures."""
    binding = _library()
    try:
        with binding.Provision.load(args.provision_file) as prov:
            if args.user is not None:
                if _sends_credentials(args.provision_file) is False:
                    print(
                        f"warning: --user {args.user} is not sent: {args.provision_file} has use_authentication 0",
                        file=err,
                    )
                else:
                    prov.set_credentials(args.user, _password(args.user))
            if args.local is not None and not os.path.exists(args.local):
                print(f"warning: --local {args.local} does not exist: merging into an empty local config", file=err)
            prov.set_logger(_log_line(err))
            prov.run(args.local)
            outcome = prov.last_outcome()
            print(f"served by {outcome.source_url} (provisioned: {', '.join(outcome.provisioned)})", file=err)
            out.write(outcome.config)
            return EXIT_OK
    except ProvisionError as e:
        name = _status_name(e.status)
        if e.status == Status.ERR_SERVER:
            message = f"error ({name}): the server says: {_one_line(e.message)}"
        else:
            message = f"error ({name}): {_one_line(e.message)}"
            if e.status == Status.ERR_CREDENTIALS and args.user is None:
                message += " (give the user with --user)"
        raise Failure(EXIT_BASE + int(e.status), message) from None


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
        if getattr(args, "command", None) is None:
            top.print_usage(sys.stderr)
            print(f"{top.prog}: error: give a COMMAND (run)", file=sys.stderr)
            return EXIT_USAGE
        return int(args.command(args, sys.stdout, sys.stderr))
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
