"""The ``miles`` command: a thin layer, each subcommand calls one library function and prints its result.

    miles demo --store demo-store
    miles ingest videos.csv --store my-store --map views=playCount
    miles sql "SELECT count(*) FROM videos" --store my-store

``args`` builds the parser (one meaning per flag everywhere), ``commands`` and ``collect`` hold the
subcommands, and
``miles.present`` turns results into text. A user error is one line and exit code 2; an internal error
says so and shows its traceback under ``-v``.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Sequence

from miles import present
from miles.cli import collect  # noqa: F401  (registers the scrape subcommands)
from miles.cli.args import build_parser
from miles.cli.commands import COMMANDS, setup_logging
from miles.cli.flags import label_spec

__all__ = ["COMMANDS", "build_parser", "label_spec", "main", "not_utf8"]
log = logging.getLogger("miles")


def main(argv: Sequence[str] | None = None) -> int:
    from miles.errors import MilesError

    argv = list(sys.argv[1:] if argv is None else argv)
    refused = not_utf8(argv)
    if refused:
        print(f"miles: error: {present.clean(refused)}", file=sys.stderr)
        return 2
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    if args.command not in COMMANDS:  # a command group (`miles store`) without its action
        print(f"miles {args.command}: error: choose an action (`miles {args.command} --help` lists them)",
              file=sys.stderr)
        return 2
    setup_logging(args.verbose, args.quiet)
    try:
        return COMMANDS[args.command](args)
    except MilesError as err:  # bad input: one line, what to do
        if args.verbose:
            log.exception("the error in full")
        hint = f" ({present.clean(err.hint)})" if getattr(err, "hint", None) else ""
        print(f"miles {args.command}: error: {present.clean(str(err))}{hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"miles {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # a bug in Miles: say so, and how to see the traceback
        if args.verbose:
            raise
        print(f"miles {args.command}: internal error: {type(err).__name__}: {present.clean(str(err))} "
              "(run with -v for the traceback, and please report it)", file=sys.stderr)
        return 1


def not_utf8(argv: Sequence[str]) -> str | None:
    """Why an argument cannot be taken, or None. Python hands over arguments that are not UTF-8 with each
    bad byte as a surrogate (``surrogateescape``); no title, query or path of Miles can hold one, so they
    are refused here, at the one door, rather than met deep inside as an internal error."""
    for i, arg in enumerate(argv, start=1):
        bad = _SURROGATE.search(arg)
        if bad is not None:
            code = ord(bad.group())
            what = f"byte {code - 0xDC00:#04x}" if 0xDC80 <= code <= 0xDCFF else f"a lone surrogate \\u{code:04x}"
            shown = _SURROGATE.sub(_escaped, arg)
            return (f"argument {i} '{shown[:80]}' is not UTF-8 ({what} at character {bad.start()}): pass text "
                    "and paths as UTF-8")
    return None


_SURROGATE = re.compile("[\ud800-\udfff]")


def _escaped(m: re.Match) -> str:
    code = ord(m.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"
