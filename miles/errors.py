"""The one error a user sees as a message: what was wrong and what to run.

Every input mistake Miles finds is a ``MilesError`` (or a subclass): ``miles`` prints it as one line and
exits with 2, the API answers it with a 4xx and the message. Anything else, a bare ``ValueError`` from
Miles's own code included, is a bug: "internal error" and exit 1 (the traceback under ``-v``), a 500 from
the API. A built-in exception raised in ``miles/`` says so on its line (``# internal``), and
``tests/test_errors.py`` walks every ``raise`` to hold that. Every layer may raise these: this module
imports nothing.
"""

from __future__ import annotations


class MilesError(ValueError):
    """A user error with the fix in its message (a ValueError, so library callers can catch either).
    ``hint``: what to run at the command line to fix it; ``miles`` prints it, the API and dashboard (whose
    users have no command line) do not."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


class NotFound(MilesError, LookupError):
    """Something asked for by name is not in the store: the API answers 404."""


class TooLarge(MilesError):
    """An input over a size limit (bytes or pixels): the API answers 413."""
