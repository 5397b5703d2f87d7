"""Real gapwatch processes stopped at a named moment (``GAPWATCH_PAUSE_AT``), then signalled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from tests.conftest import write_config

#: Three indicators (two of them with shipped targets) keep each run to seconds.
INDICATORS = ["hypertension_treated_to_target", "cervical_screening_25_49", "mmr2_age_5"]


def small_config(folder: Path, data: Path, store: str) -> Path:
    return write_config(folder, data, areas=["england", "icb"], indicators=INDICATORS, store=store)


def gapwatch(*arguments: str, pause_at: str | None = None) -> subprocess.Popen[str]:
    environment = {**os.environ, "PYTHONUNBUFFERED": "1", "GAPWATCH_PAUSE_SECONDS": "120"}
    environment.pop("GAPWATCH_PAUSE_AT", None)
    if pause_at:
        environment["GAPWATCH_PAUSE_AT"] = pause_at
    command = [sys.executable, "-m", "gapwatch.cli.main", *arguments]
    return subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=environment
    )


def run_until(arguments: list[str], point: str, signal_number: int) -> tuple[int, str, bool]:
    """Start ``gapwatch ARGUMENTS``, send a signal when it pauses at ``point``.

    Returns the exit status (minus the signal for a killed process), its standard error,
    and whether it reached the point at all.
    """
    process = gapwatch(*arguments, pause_at=point)
    watchdog = threading.Timer(300, process.kill)
    watchdog.start()
    reached = False
    lines = []
    try:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line)
            if line.strip() == f"gapwatch: paused at {point}":
                reached = True
                process.send_signal(signal_number)
                break
        lines.append(process.stderr.read())
        status = process.wait()
    finally:
        watchdog.cancel()
    return status, "".join(lines), reached


def run_to_the_end(arguments: list[str]) -> tuple[int, str]:
    process = gapwatch(*arguments)
    _, error = process.communicate(timeout=300)
    return process.returncode, error


KILL = signal.SIGKILL
INTERRUPT = signal.SIGINT
