"""``gapwatch serve``: the dashboard over a results store."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import typer
from rich.console import Console

from gapwatch.errors import GapwatchError, StoreError

if TYPE_CHECKING:
    from gapwatch.web.auth import LoginSettings

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
    oidc_issuer: str | None = typer.Option(
        None,
        "--oidc-issuer",
        envvar="GAPWATCH_OIDC_ISSUER",
        help="OpenID Connect issuer URL: readers sign in there to see private runs.",
    ),
    oidc_client_id: str | None = typer.Option(
        None, "--oidc-client-id", envvar="GAPWATCH_OIDC_CLIENT_ID", help="This dashboard's client id there."
    ),
    oidc_client_secret_file: Path | None = typer.Option(
        None,
        "--oidc-client-secret-file",
        envvar="GAPWATCH_OIDC_CLIENT_SECRET_FILE",
        help="File holding the client secret (or set GAPWATCH_OIDC_CLIENT_SECRET instead).",
    ),
    allowed_areas_claim: str | None = typer.Option(
        None,
        "--allowed-areas-claim",
        envvar="GAPWATCH_OIDC_ALLOWED_AREAS_CLAIM",
        help="ID-token claim listing the areas (icb:E54000057) a reader may see.",
    ),
    area_map: Path | None = typer.Option(
        None,
        "--oidc-area-map",
        envvar="GAPWATCH_OIDC_AREA_MAP",
        help="YAML file mapping the organisation an ID-token claim names (an ODS code) to its areas.",
    ),
    audit_log: Path | None = typer.Option(
        None,
        "--audit-log",
        envvar="GAPWATCH_AUDIT_LOG",
        help="File to append one line per signed-in request to.",
    ),
) -> None:
    """Serve the dashboard and its JSON API (read-only) over a results store."""
    from gapwatch.store import open_store
    from gapwatch.web import server
    from gapwatch.web.app import create_app

    login = login_settings(
        oidc_issuer, oidc_client_id, oidc_client_secret_file, allowed_areas_claim, audit_log, area_map
    )

    # Fail now, with one line, if the store cannot be read or holds no run yet.
    opened = open_store(store, read_only=True)
    try:
        if opened.latest_run(include_private=True) is None:
            raise StoreError(f"{store}: the store holds no published run yet; run gapwatch run first")
    finally:
        opened.close()
    _console.print(f"gapwatch dashboard on http://{host}:{port}/ (Ctrl+C to stop)")
    server.run(
        create_app(store, page_cache_bytes=page_cache_mb * 1024 * 1024, login=login),
        host,
        port,
        request_timeout=request_timeout,
        keep_alive_timeout=keep_alive,
        max_connections=max_connections,
    )


class LoginConfigError(GapwatchError):
    """The sign-in options are incomplete or their secret cannot be read."""


def login_settings(
    issuer: str | None,
    client_id: str | None,
    secret_file: Path | None,
    allowed_areas_claim: str | None = None,
    audit_log: Path | None = None,
    area_map: Path | None = None,
) -> LoginSettings | None:
    """Sign-in settings from the options, or ``None`` when no provider is named.

    ``area_map`` is read now (:func:`gapwatch.web.orgs.load_area_map`), so a mistake in
    it stops the server before it starts.

    The client secret is read from ``secret_file`` or the environment variable
    ``GAPWATCH_OIDC_CLIENT_SECRET``, never from the command line, which any local user
    can read with ``ps``.
    """
    from gapwatch.web.auth import LoginSettings
    from gapwatch.web.orgs import load_area_map

    secret = os.environ.get("GAPWATCH_OIDC_CLIENT_SECRET")
    if secret_file is not None:
        try:
            secret = secret_file.read_text(encoding="utf-8").strip()
        except OSError as problem:
            raise LoginConfigError(
                f"cannot read the client secret file {secret_file}: {problem.strerror}"
            ) from None
    if issuer is None and client_id is None and secret_file is None:
        if audit_log is not None or allowed_areas_claim is not None or area_map is not None:
            raise LoginConfigError(
                "--audit-log, --allowed-areas-claim and --oidc-area-map need --oidc-issuer"
            )
        return None
    if not issuer or not client_id or not secret:
        raise LoginConfigError(
            "sign-in needs --oidc-issuer, --oidc-client-id and a client secret "
            "(--oidc-client-secret-file or GAPWATCH_OIDC_CLIENT_SECRET)"
        )
    parts = urlsplit(issuer)
    # Plain http only to a provider on this machine (a test or a local proxy).
    if parts.scheme != "https" and not (
        parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost")
    ):
        raise LoginConfigError(f"the issuer must be an https:// URL, not {issuer}")
    if area_map is not None and allowed_areas_claim is not None:
        raise LoginConfigError("give --allowed-areas-claim or --oidc-area-map, not both")
    mapped = load_area_map(area_map) if area_map is not None else None
    return LoginSettings(issuer, client_id, secret, audit_log, allowed_areas_claim, mapped)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
