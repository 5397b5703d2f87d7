"""The dashboard: server-rendered pages and a JSON API over one results store.

Read-only by construction: each request opens the store read-only, reads one published
run through :mod:`gapwatch.views` and renders; nothing computes a statistic and nothing
can write. Charts are SVG rendered on the server, so pages carry no script at all and
the Content-Security-Policy forbids every script.

:func:`create_app` only assembles the parts, each a module of its own:

* :mod:`gapwatch.web.pages` (the HTML pages) and :mod:`gapwatch.web.api` (the JSON API and
  the CSV download) are routers; :mod:`gapwatch.web.deps` parses and checks what a URL
  asks for; :mod:`gapwatch.web.context` is the state they share (the store, per-run
  tables, templates); :mod:`gapwatch.web.render` formats and draws.
* :mod:`gapwatch.web.cache` keeps rendered pages per run and URL;
  :mod:`gapwatch.web.security` adds the security headers and refuses undeclared query
  parameters; :mod:`gapwatch.web.errors` answers every error; :mod:`gapwatch.web.auth`
  signs readers in to private runs.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from gapwatch import __version__
from gapwatch.web import api, pages
from gapwatch.web.auth import LoginSettings, install_login
from gapwatch.web.cache import PAGE_CACHE_BYTES, PageCache, PageCacheMiddleware
from gapwatch.web.context import NewestRun, WebContext
from gapwatch.web.errors import install_error_handlers
from gapwatch.web.render import templates
from gapwatch.web.security import HardenedApp, declared_query_only

HERE = Path(__file__).parent


def create_app(
    location: str, page_cache_bytes: int = PAGE_CACHE_BYTES, login: LoginSettings | None = None
) -> FastAPI:
    """The dashboard for the results store at ``location`` (a DuckDB file or a PostgreSQL URL).

    Rendered pages are kept per run and URL, at most ``page_cache_bytes`` bytes of them.
    Private runs are served only to readers signed in through ``login`` (never without it).
    """
    app = HardenedApp(
        title="gapwatch API",
        version=__version__,
        description="Published, disclosure-controlled health-inequality results: the same data as the pages.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        dependencies=[Depends(declared_query_only)],
    )
    web = WebContext(location, templates(login_enabled=login is not None))
    app.state.web = web
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(pages.router)
    app.include_router(api.router)
    # A published run never changes, so a page is the same for everyone until the next
    # run: pages are kept by run and URL (what the bench/web.py goal needs on 2 cores).
    app.add_middleware(
        PageCacheMiddleware, cache=PageCache(page_cache_bytes), current_run=NewestRun(location)
    )
    if login is not None:
        install_login(app, login)
    install_error_handlers(app, web.templates)
    return app
