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
) -> None:
    """Serve the dashboard and its JSON API (read-only) over a results store."""
    import uvicorn

    from gapwatch.store import open_store
    from gapwatch.web.app import create_app

    # Fail now, with one line, if the store cannot be read or holds no run yet.
    opened = open_store(store, read_only=True)
    try:
        if opened.latest_run() is None:
            raise StoreError(f"{store}: the store holds no published run yet; run gapwatch run first")
    finally:
        opened.close()
    _console.print(f"gapwatch dashboard on http://{host}:{port}/ (Ctrl+C to stop)")
    uvicorn.run(create_app(store), host=host, port=port, log_level="warning")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
