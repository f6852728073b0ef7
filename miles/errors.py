"""The one error a user sees as a message: what was wrong and what to run.

``miles`` prints a ``MilesError`` (or a ``ValueError`` / ``FileNotFoundError`` raised on bad input) as one
line and exits with 2; anything else is a programming error, shown with its traceback under ``-v``.
Every layer may raise it: this module imports nothing.
"""

from __future__ import annotations


class MilesError(ValueError):
    """A user error with the fix in its message (a ValueError, so library callers can catch either)."""


class NotFound(MilesError, LookupError):
    """Something asked for by name is not in the store: the API answers 404."""


class TooLarge(MilesError):
    """An input over a size limit (bytes or pixels): the API answers 413."""
