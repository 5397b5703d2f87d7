"""Interrupts around the moment a run is published, and pause points for fault tests.

A run becomes visible at one instant (a rename on DuckDB, a ``COMMIT`` on PostgreSQL).
:func:`deferred_interrupt` holds a Ctrl-C that arrives during that instant until the
instant and its bookkeeping are over, so whoever reports what happened (the command line)
never says "nothing was published" about a run that was.

:func:`pause_point` lets tests stop a real process at a named moment and then kill or
interrupt it (``GAPWATCH_PAUSE_AT=publish:written``); without that variable it does nothing.

>>> with deferred_interrupt():
...     pass
>>> pause_point("never-named")
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_paused: set[str] = set()


@contextmanager
def deferred_interrupt() -> Iterator[None]:
    """Run the block with Ctrl-C (SIGINT) held back; raise it (``KeyboardInterrupt``) after.

    Only the main thread can change signal handlers; elsewhere the block simply runs.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    previous = signal.signal(signal.SIGINT, hold)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received and callable(previous):
            previous(signal.SIGINT, None)
        elif received and previous == signal.SIG_DFL:
            raise KeyboardInterrupt


def is_interrupt(error: BaseException) -> bool:
    """Whether ``error`` is a database client's way of reporting a Ctrl-C.

    DuckDB's Python client stops a query on SIGINT and raises ``RuntimeError('Query
    interrupted')`` instead of ``KeyboardInterrupt``; both must read as an interrupt.
    """
    if isinstance(error, KeyboardInterrupt):
        return True
    text = str(error).strip().lower()
    return text.startswith(("query interrupted", "interrupt error"))


def pause_point(name: str) -> None:
    """Stop here for ``GAPWATCH_PAUSE_SECONDS`` (default 60) if ``GAPWATCH_PAUSE_AT`` names ``name``.

    A test hook: it writes ``gapwatch: paused at NAME`` to standard error first, once per
    name and process, so a test knows when to send its signal.
    """
    wanted = os.environ.get("GAPWATCH_PAUSE_AT", "")
    if not wanted or name in _paused or name not in wanted.split(","):
        return
    _paused.add(name)
    sys.stderr.write(f"gapwatch: paused at {name}\n")
    sys.stderr.flush()
    time.sleep(float(os.environ.get("GAPWATCH_PAUSE_SECONDS", "60")))
