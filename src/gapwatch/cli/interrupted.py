"""Ctrl-C on the command line: exit status 130 and a true account of what was published."""

from __future__ import annotations


class Interrupted(Exception):  # noqa: N818 (named for what happened, like KeyboardInterrupt)
    """Raised by a command that was interrupted; ``gapwatch.cli.main`` prints it and exits 130."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Publication:
    """What a command has published so far, so that a Ctrl-C can say so.

    >>> state = Publication()
    >>> state.stage("count", "counting")
    >>> state.interrupted().message
    "interrupted at stage 'counting': nothing was published; the store is as it was before this run"
    """

    def __init__(self) -> None:
        self.run_id: str | None = None
        self.monitored = False
        self.doing = ""

    def stage(self, stage: str, description: str) -> None:
        self.doing = description

    def published(self, run_id: str, monitored: bool) -> None:
        self.run_id, self.monitored = run_id, monitored

    def interrupted(self) -> Interrupted:
        if self.run_id is None:
            during = f" at stage '{self.doing}'" if self.doing else ""
            return Interrupted(
                f"interrupted{during}: nothing was published; the store is as it was before this run"
            )
        monitor = "with its monitor tables" if self.monitored else "without monitor tables (monitor not run)"
        return Interrupted(f"interrupted after run {self.run_id} was published, {monitor}")
