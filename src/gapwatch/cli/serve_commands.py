"""``gapwatch serve``: the dashboard over a results store."""

from __future__ import annotations

import typer
from rich.console import Console

from gapwatch.errors import StoreError

_console = Console(stderr=True, highlight=False)


def serve(
    store: str = typer.Option(..., "--store", help="Results store: a DuckDB file or a postgresql:// URL."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback by default)."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
    request_timeout: float = typer.Option(
        10.0,
        "--request-timeout",
        min=0.5,
        max=300.0,
        help="Seconds a client has to send a whole request before its connection is closed.",
    ),
    keep_alive: int = typer.Option(
        5, "--keep-alive", min=1, max=300, help="Seconds an idle connection is kept open after a response."
    ),
    max_connections: int = typer.Option(
        200,
        "--max-connections",
        min=1,
        max=100_000,
        help="Open connections and requests beyond which the server answers 503 at once.",
    ),
    page_cache_mb: int = typer.Option(
        256, "--page-cache-mb", min=0, max=65_536, help="MiB of rendered pages kept until the next run."
    ),
) -> None:
    """Serve the dashboard and its JSON API (read-only) over a results store."""
    from gapwatch.store import open_store
    from gapwatch.web import server
    from gapwatch.web.app import create_app

    # Fail now, with one line, if the store cannot be read or holds no run yet.
    opened = open_store(store, read_only=True)
    try:
        if opened.latest_run() is None:
            raise StoreError(f"{store}: the store holds no published run yet; run gapwatch run first")
    finally:
        opened.close()
    _console.print(f"gapwatch dashboard on http://{host}:{port}/ (Ctrl+C to stop)")
    server.run(
        create_app(store, page_cache_bytes=page_cache_mb * 1024 * 1024),
        host,
        port,
        request_timeout=request_timeout,
        keep_alive_timeout=keep_alive,
        max_connections=max_connections,
    )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
