"""What the dashboard's routers share: the store they read, its per-run tables, the templates.

One :class:`WebContext` is made by :func:`gapwatch.web.app.create_app` and kept on
``app.state``; a handler asks for it with the :data:`Web` dependency. It opens the store
read-only for each request (:meth:`WebContext.results`), keeps the tables every page
needs per published run (a published run never changes) and renders a page with the
area menu and the run's banner. :class:`NewestRun` tells the page cache which run a
reader is shown.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

import pandas as pd
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from gapwatch.store import open_store
from gapwatch.views import AREA_TYPE_NAMES, GUARDRAILS_NOT_RUN, Results, RunCatalogue
from gapwatch.web.auth import SIGNED_IN, current_reader, latest_visible, visible_runs
from gapwatch.web.errors import NotFoundError


class Catalogues:
    """Each published run's catalogue (run row, indicators, areas, periods), read once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, RunCatalogue] = {}

    def fill(self, results: Results) -> Results:
        """``results`` with its catalogue read from the store the first time only."""
        with self._lock:
            kept = self._runs.get(results.run_id)
            if kept is None:
                kept = results.catalogue()
                self._runs[results.run_id] = kept
        return results.with_catalogue(kept)


@dataclass
class WebContext:
    """The results store at ``location`` as the dashboard reads it, and its templates."""

    location: str
    templates: Jinja2Templates
    catalogues: Catalogues = field(default_factory=Catalogues)

    @contextmanager
    def results(self) -> Iterator[Results]:
        """The newest run this reader may see (private runs only to a signed-in reader)."""
        store = open_store(self.location, read_only=True)
        try:
            chosen = latest_visible(store.runs(), current_reader())
            if chosen is None and store.latest_run(include_private=True) is not None:
                raise NotFoundError("no results are published for everyone yet")
            yield self.catalogues.fill(Results.latest(store, chosen))
        finally:
            store.close()

    def visible_runs(self) -> pd.DataFrame:
        """The published runs this reader may see, newest first, without their configuration."""
        store = open_store(self.location, read_only=True)
        try:
            return visible_runs(store.runs(), current_reader()).drop(columns=["config"], errors="ignore")
        finally:
            store.close()

    def page(self, request: Request, template: str, found: Results, **context: Any) -> HTMLResponse:
        """``template`` rendered with ``context`` and what every page shows: the area menu, the run."""
        areas = found.areas.loc[found.areas["area_code"] != "unknown"]
        # Providers can number thousands: a list that long helps nobody, so the menu holds
        # only the provider being shown (the compare page lists them all).
        current = str(context.get("area") or "")
        areas = areas.loc[
            (areas["area_type"] != "provider") | (areas["area_type"] + ":" + areas["area_code"] == current)
        ]
        grouped = {
            area_type: areas.loc[areas["area_type"] == area_type, ["area_code", "area_name"]].values.tolist()
            for area_type in AREA_TYPE_NAMES
            if (areas["area_type"] == area_type).any()
        }
        return self.templates.TemplateResponse(
            request,
            template,
            {
                "run": found.run,
                # Typed facts about the run (policy, private, control_national, warning).
                "results": found,
                "areas_by_type": grouped,
                "indicators": found.indicators,
                # A run published without its monitor says so wherever alerts would be.
                "guardrails_not_run": None if found.guardrails_run else GUARDRAILS_NOT_RUN,
                **context,
            },
        )


def web_context(request: Request) -> WebContext:
    """The :class:`WebContext` of the application serving ``request`` (a FastAPI dependency)."""
    context = request.app.state.web
    if not isinstance(context, WebContext):
        raise TypeError("the application was not made by gapwatch.web.app.create_app")
    return context


#: A handler's parameter for the shared context: ``web: Web``.
Web = Annotated[WebContext, Depends(web_context)]


class NewestRun:
    """The run a reader is shown, looked up at most once every ``interval`` seconds.

    A new run may be published at any moment; looking once every two seconds keeps the
    page cache from outliving it for longer than that. The run is the one this reader is
    shown, so a private run's pages are kept under its own id only.
    """

    def __init__(self, location: str, interval: float = 2.0) -> None:
        self.location = location
        self.interval = interval
        self._checked = -1e9
        self._signed_in: str | None = None
        self._public: str | None = None

    def __call__(self) -> str | None:
        now = time.monotonic()
        if now - self._checked > self.interval:
            store = open_store(self.location, read_only=True)
            try:
                runs = store.runs()
            finally:
                store.close()
            # Worked out once per look, not once per request: the newest run for anyone
            # signed in and the newest public one.
            self._signed_in = latest_visible(runs, SIGNED_IN)
            self._public = latest_visible(runs, None)
            self._checked = now
        reader = current_reader()
        if reader is None:
            return self._public
        # A signed-in reader's pages name them in the header: kept for them alone.
        run = self._signed_in if reader.private else self._public
        return None if run is None else f"{run} for {reader.subject} {sorted(reader.areas or ())}"
