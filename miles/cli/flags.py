"""Flag helpers shared by the parsers: the store flag, a subcommand with its example, checked numbers."""

from __future__ import annotations

import argparse
import math

from miles.heads.registry import head_kind, list_heads


def _store_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", default=None, help="store folder or s3://bucket/prefix (default: $MILES_STORE or ./miles-store)")


def _sub(subs, name: str, help: str, example: str) -> argparse.ArgumentParser:
    p = subs.add_parser(name, help=help, description=help, epilog=f"example:\n  {example}",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(command=name)
    return p


def _number(kind, low: float | None = None, what: str = "a number", strict: bool = False):
    """An argparse type: ``kind`` (int or float) at least ``low`` (above it when ``strict``)."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if kind is float and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        if low is not None and (value <= low if strict else value < low):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    return parse


POSITIVE_INT = _number(int, 1, "a whole number of at least 1")
COUNT = _number(int, 0, "a whole number of 0 or more")
SECONDS = _number(float, 0, "a positive number of seconds", strict=True)
HEADS = list_heads()
VECTOR_HEADS = [h for h in HEADS if head_kind(h).reads == "blocks"]  # the heads that read a draft's vectors
