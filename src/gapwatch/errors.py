"""Errors that gapwatch reports to a person as one line, never as a traceback.

Every layer raises a subclass of :class:`GapwatchError` for problems in what it was
given; the command line catches them and prints the message alone. Messages name the
file, column or argument, the problem, and how many rows have it.
"""

from __future__ import annotations


class GapwatchError(Exception):
    """Base class for every error gapwatch reports to its user as one line."""

    def __init__(self, message: str) -> None:
        # One line, always: a multi-line message would read like a traceback.
        super().__init__(" ".join(message.split()))

    @property
    def message(self) -> str:
        return str(self.args[0])


class InputError(GapwatchError, ValueError):
    """Bad input: a value, argument, column or file that gapwatch cannot use."""


class ConfigError(GapwatchError):
    """A configuration or catalogue file that cannot be read or validated."""


class DisclosureError(GapwatchError):
    """An output that would reveal a small count."""


class StoreError(GapwatchError):
    """A results store that cannot be opened, read or written."""


def rows(n: int) -> str:
    """Say how many rows, in words a person reads: ``rows(1) == '1 row'``."""
    return f"{n:,} row" if n == 1 else f"{n:,} rows"
