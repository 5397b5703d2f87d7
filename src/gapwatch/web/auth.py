"""Sign-in for private results: OpenID Connect login, who is reading, and an audit log.

Published, disclosure-controlled results are public information; a run published
without disclosure control (policy ``none``) or marked ``private: true`` is not
(:func:`gapwatch.store.run_is_private`). Such a run is served only to a reader signed in
through the organisation's OpenID Connect provider (Microsoft Entra ID and NHS Identity
are both OpenID Connect providers; OpenID Connect Core 1.0, authorization-code flow,
section 3.1). Without login configured nobody is ever signed in, so private runs are
never served.

* :class:`LoginSettings` names the provider (issuer URL, client id and secret).
* :func:`install_login` adds ``/login``, ``/auth/callback`` and ``/logout``, a signed
  session cookie (HttpOnly, SameSite=Lax, Secure over https) and :class:`ReaderMiddleware`.
* :class:`ReaderMiddleware` tells the pages who is reading (:func:`current_reader`) and
  writes one JSON line per request by a signed-in reader to the audit log.
* :func:`visible_runs` and :func:`latest_visible` choose the runs a reader may see.
* Access can be limited by organisation: an ID-token claim listing area keys
  (``allowed_areas_claim``), or gapwatch's own area map from organisation codes to areas
  (:mod:`gapwatch.web.orgs`), under which a reader of an unmapped organisation sees
  public runs only (:attr:`Reader.private` is false).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl

import pandas as pd
from fastapi import FastAPI, Query, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from starlette.datastructures import MutableHeaders
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gapwatch.codes import ENGLAND
from gapwatch.store import run_is_private
from gapwatch.web.orgs import AreaMap

#: How long a sign-in lasts before the provider is asked again (a working day).
SESSION_SECONDS = 8 * 60 * 60
SESSION_COOKIE = "gapwatch_session"
#: Areas every reader may see whatever their organisation: the national figures.
NATIONAL = f"england:{ENGLAND}"
# Pages that show no area's numbers: the catalogue, the list of runs, the method.
_AREA_FREE = ("/methods", "/api/indicators", "/api/areas", "/api/runs", "/static/", "/login", "/logout")

_READER: ContextVar[Reader | None] = ContextVar("gapwatch_reader", default=None)


@dataclass(frozen=True)
class Reader:
    """A signed-in reader: the provider's subject, email if given, and areas if limited.

    ``private`` says whether they may see private runs: a reader whose organisation the
    area map does not name is signed in (and audited) but sees public runs only.
    """

    subject: str
    email: str | None = None
    #: Area keys (``icb:E54000057``) this reader may see, or ``None`` for all of them.
    areas: frozenset[str] | None = None
    private: bool = True


@dataclass(frozen=True)
class LoginSettings:
    """An OpenID Connect provider and what the dashboard does with its sign-ins.

    ``issuer`` is the provider's issuer URL (its discovery document is at
    ``issuer/.well-known/openid-configuration``, OpenID Connect Discovery 1.0 section 4).
    ``allowed_areas_claim`` names an ID-token claim listing the area keys a reader may see
    (``["icb:E54000057"]``); a reader without it is refused at sign-in. ``area_map``
    instead maps the organisation an ID-token claim names to its areas
    (:mod:`gapwatch.web.orgs`); a reader whose organisation it does not name sees public
    runs only.
    """

    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    audit_log: Path | None = None
    allowed_areas_claim: str | None = None
    area_map: AreaMap | None = None
    session_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    scope: str = "openid email profile"


#: Any signed-in reader, for choosing the runs signed-in readers may see.
SIGNED_IN = Reader("any signed-in reader")


def current_reader() -> Reader | None:
    """The signed-in reader of the request being answered, or ``None`` (anonymous)."""
    return _READER.get()


def visible_runs(runs: pd.DataFrame, reader: Reader | None) -> pd.DataFrame:
    """The published runs (newest first) that ``reader`` may see: all but private ones
    unless signed in with access to private runs.

    >>> runs = pd.DataFrame({"run_id": ["b", "a"], "disclosure_policy": ["none", "nhs-digital"]})
    >>> visible_runs(runs, None)["run_id"].tolist(), len(visible_runs(runs, Reader("x")))
    (['a'], 2)
    >>> visible_runs(runs, Reader("x", private=False))["run_id"].tolist()
    ['a']
    """
    if (reader is not None and reader.private) or runs.empty:
        return runs
    private = [run_is_private({str(k): v for k, v in row.items()}) for row in runs.to_dict("records")]
    return runs.loc[[not flag for flag in private]]


def latest_visible(runs: pd.DataFrame, reader: Reader | None) -> str | None:
    """The newest run ``reader`` may see, or ``None`` when there is none."""
    mine = visible_runs(runs, reader)
    return None if mine.empty else str(mine["run_id"].iloc[0])


def may_see(reader: Reader | None, path: str, query: str) -> bool:
    """Whether a reader limited to some areas may open this address.

    A reader whose areas are limited sees the pages of those areas (and England's) and
    the pages that show no area's numbers; a page listing every area is refused.
    """
    if reader is None or reader.areas is None or path.startswith(_AREA_FREE):
        return True
    allowed = reader.areas | {NATIONAL}
    asked = [value for name, value in parse_qsl(query, keep_blank_values=True) if name == "area"]
    if not asked:
        # Pages without an area show England's figures or list every area.
        return path.startswith(("/overview", "/indicator/", "/quality", "/business-case", "/api/overview",
                                "/api/values", "/api/business-case")) or path == "/"  # fmt: skip
    return all(value in allowed for value in asked)


class AuditLog:
    """One JSON line per request by a signed-in reader, appended to a file.

    >>> import tempfile, pathlib; path = pathlib.Path(tempfile.mkdtemp()) / "audit.jsonl"
    >>> AuditLog(path).write(Reader("u1", "a@nhs.net"), "GET", "/overview?area=x", 200)
    >>> sorted(json.loads(path.read_text()))
    ['email', 'method', 'path', 'status', 'subject', 'time']
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def write(self, reader: Reader, method: str, path: str, status: int) -> None:
        line = json.dumps(
            {
                "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "subject": reader.subject,
                "email": reader.email,
                "method": method,
                "path": path,
                "status": status,
            },
            sort_keys=True,
        )
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")


def _reader_of(session: Mapping[str, Any] | None) -> Reader | None:
    user = (session or {}).get("reader")
    if not isinstance(user, Mapping) or not user.get("subject"):
        return None
    areas = user.get("areas")
    return Reader(
        str(user["subject"]),
        str(user["email"]) if user.get("email") else None,
        None if areas is None else frozenset(str(area) for area in areas),
        # A session that does not say so never opens private runs.
        user.get("private") is True,
    )


class ReaderMiddleware:
    """Sets :func:`current_reader` from the session and writes the audit log."""

    def __init__(self, app: ASGIApp, audit: AuditLog | None = None) -> None:
        self.app = app
        self.audit = audit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        reader = _reader_of(scope.get("session"))
        query = scope.get("query_string", b"").decode("latin-1")
        if not may_see(reader, str(scope["path"]), query):
            refused = PlainTextResponse("your sign-in does not cover this area", status_code=403)
            await self._answer(refused, reader, scope, receive, send)
            return
        await self._answer(self.app, reader, scope, receive, send)

    async def _answer(
        self, app: ASGIApp, reader: Reader | None, scope: Scope, receive: Receive, send: Send
    ) -> None:
        status = {"code": 500}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = int(message["status"])
                if reader is not None:
                    # A page only a signed-in reader may see is not kept by any shared cache.
                    MutableHeaders(scope=message)["Cache-Control"] = "private, no-store"
            await send(message)

        with _reading_as(reader):
            try:
                await app(scope, receive, sending)
            finally:
                if reader is not None and self.audit is not None:
                    query = scope.get("query_string", b"").decode("latin-1")
                    path = str(scope["path"]) + (f"?{query}" if query else "")
                    self.audit.write(reader, str(scope["method"]), path, status["code"])


@contextmanager
def _reading_as(reader: Reader | None) -> Iterator[None]:
    token = _READER.set(reader)
    try:
        yield
    finally:
        _READER.reset(token)


class SchemeSessionMiddleware:
    """Starlette's signed session cookie, marked Secure when the request came over https."""

    def __init__(self, app: ASGIApp, secret_key: str) -> None:
        options: dict[str, Any] = {
            "secret_key": secret_key,
            "session_cookie": SESSION_COOKIE,
            "max_age": SESSION_SECONDS,
            "same_site": "lax",
        }
        self.plain = SessionMiddleware(app, https_only=False, **options)
        self.secure = SessionMiddleware(app, https_only=True, **options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        chosen = self.secure if scope.get("scheme") in ("https", "wss") else self.plain
        await chosen(scope, receive, send)


def _areas_claim(claims: Mapping[str, Any], name: str | None) -> list[str] | None:
    if name is None:
        return None
    value = claims.get(name)
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    if not isinstance(value, list):
        return []
    return sorted({str(item) for item in value})


def _safe_next(target: str | None) -> str:
    # Only a path on this site: "//evil.example" or "https://..." would send a freshly
    # signed-in reader elsewhere (an open redirect).
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


def install_login(app: FastAPI, settings: LoginSettings) -> None:
    """Add OpenID Connect sign-in to ``app`` (call after every other middleware is added).

    Uses Authlib's Starlette client (https://docs.authlib.org/en/latest/client/starlette.html),
    which reads the provider's discovery document, checks ``state`` and ``nonce`` and the
    ID token's signature, issuer, audience and expiry.
    """
    from authlib.integrations.starlette_client import OAuth, OAuthError

    oauth = OAuth()
    provider = oauth.register(
        "provider",
        server_metadata_url=settings.issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        client_kwargs={"scope": settings.scope},
    )

    @app.get("/login", include_in_schema=False)
    async def login(request: Request, next: Annotated[str | None, Query(max_length=2000)] = None) -> Response:
        request.session["next"] = _safe_next(next)
        redirect_uri = str(request.url_for("auth_callback"))
        answer: Response = await provider.authorize_redirect(request, redirect_uri)
        return answer

    @app.get("/auth/callback", include_in_schema=False, name="auth_callback")
    async def auth_callback(
        request: Request,
        code: Annotated[str | None, Query(max_length=4000)] = None,
        state: Annotated[str | None, Query(max_length=4000)] = None,
        iss: Annotated[str | None, Query(max_length=2000)] = None,
        session_state: Annotated[str | None, Query(max_length=4000)] = None,
        error: Annotated[str | None, Query(max_length=200)] = None,
        error_description: Annotated[str | None, Query(max_length=2000)] = None,
    ) -> Response:
        if error is not None:
            return PlainTextResponse("sign-in was not completed; please try again", status_code=400)
        try:
            token = await provider.authorize_access_token(request)
        except OAuthError:
            return PlainTextResponse("sign-in could not be checked; please try again", status_code=400)
        claims = token.get("userinfo") or {}
        if not claims.get("sub"):
            return PlainTextResponse("sign-in could not be checked; please try again", status_code=400)
        areas = _areas_claim(claims, settings.allowed_areas_claim)
        private = True
        if settings.area_map is not None:
            private, mapped = settings.area_map.access(claims)
            areas = None if mapped is None else sorted(mapped)
        target = _safe_next(request.session.pop("next", None))
        # A fresh session on sign-in, so nothing set before it (session fixation) survives.
        request.session.clear()
        if areas is not None and not areas:
            # Limited by organisation and this reader's organisation names no area.
            return PlainTextResponse("your sign-in does not cover any area", status_code=403)
        request.session["reader"] = {
            "subject": str(claims["sub"]),
            "email": claims.get("email"),
            "areas": areas,
            "private": private,
        }
        return RedirectResponse(target, status_code=303)

    @app.get("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        request.session.clear()
        return RedirectResponse("/", status_code=303)

    audit = AuditLog(settings.audit_log) if settings.audit_log is not None else None
    app.add_middleware(ReaderMiddleware, audit=audit)
    app.add_middleware(SchemeSessionMiddleware, secret_key=settings.session_secret)
