"""What every response of the dashboard carries, and what no error body may show.

* :class:`HardenedApp` is the FastAPI application with one pure ASGI layer outside
  everything else (outside Starlette's ``ServerErrorMiddleware`` too), so that every
  response, a 500 included, carries :data:`SECURITY_HEADERS`, and so that ``HEAD`` is
  answered wherever ``GET`` is (RFC 9110 section 9.3.2: the same headers, no body).
* :func:`declared_query_only` is an application-wide dependency that answers 400 to a
  query parameter the page does not declare, or to one given twice, so that no query
  string can turn a kept page into a fresh render (see :mod:`gapwatch.web.cache`).
* :func:`scrub` takes file paths, interpreter paths, process ids and connection
  addresses out of a message before it reaches an error page.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; font-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}

# What a store error may carry that a visitor must never see: a URL with its password
# (postgresql://user:secret@host/db), an absolute POSIX or Windows path (the store file,
# the Python interpreter named in DuckDB's lock message), and a process id.
_SECRETS = [
    (re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE), "[address]"),
    (re.compile(r"""(?<![\w.])(?:[A-Za-z]:)?[\\/][^\s"'(),;:]+"""), "[path]"),
    (re.compile(r"\b(?:PID|process(?: id)?)\s*[:=#]?\s*\d+", re.IGNORECASE), "[process]"),
]


def scrub(message: str) -> str:
    """``message`` without paths, addresses or process ids, for an error page.

    >>> scrub('/srv/r.duckdb: lock held in /usr/bin/python3 (PID 4242)')
    '[path]: lock held in [path] ([process])'
    """
    for pattern, placeholder in _SECRETS:
        message = pattern.sub(placeholder, message)
    return message


class HardenedApp(FastAPI):
    """FastAPI with :class:`ResponseGuard` outside its whole middleware stack."""

    def build_middleware_stack(self) -> ASGIApp:
        return ResponseGuard(super().build_middleware_stack())


class ResponseGuard:
    """Adds the security headers to every HTTP response and answers ``HEAD`` as ``GET``.

    It sits outside Starlette's ``ServerErrorMiddleware``, which sends a 500 straight to
    the server: a header middleware inside it never sees that response.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        if head:
            # A copy: the server keeps its own scope and, seeing HEAD there, sends no body.
            scope = {**scope, "method": "GET"}
        api = str(scope["path"]).startswith("/api")

        async def guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                headers.setdefault("Cache-Control", "no-store" if api else "no-cache")
            elif message["type"] == "http.response.body" and head:
                message = {**message, "body": b""}
            await send(message)

        await self.app(scope, receive, guarded)


# Set in the request's scope once its query has been checked: the page cache keeps only
# such pages, so an address outside the checked routes (the OpenAPI document) cannot be
# used to fill the cache with one copy per made-up parameter.
QUERY_CHECKED = "gapwatch.query_checked"
_DECLARED: dict[int, frozenset[str]] = {}


def _declared(route: Any) -> frozenset[str]:
    key = id(route)
    names = _DECLARED.get(key)
    if names is None:
        # The route's own query parameters and those of its dependencies, all levels down.
        found: set[str] = set()
        pending = [getattr(route, "dependant", None)]
        while pending:
            dependant = pending.pop()
            if dependant is not None:
                found.update(str(field.alias) for field in dependant.query_params)
                pending.extend(dependant.dependencies)
        names = frozenset(found)
        _DECLARED[key] = names
    return names


async def declared_query_only(request: Request) -> None:
    """Refuse (400) a query parameter the route does not declare, or one given twice.

    Why refuse rather than ignore: a misspelt ``perod=2024-04-01`` that was ignored would
    show the latest period under a link that names another, a silent wrong number; and a
    parameter that changes nothing must not make a new page to render and keep.
    """
    allowed = _declared(request.scope.get("route"))
    seen: set[str] = set()
    for name, _ in parse_qsl(request.url.query, keep_blank_values=True):
        if name not in allowed:
            takes = f"it takes {', '.join(sorted(allowed))}" if allowed else "it takes none"
            raise HTTPException(400, f"this address does not take the parameter {name[:40]!r}; {takes}")
        if name in seen:
            raise HTTPException(400, f"the parameter {name!r} is given more than once")
        seen.add(name)
    request.scope[QUERY_CHECKED] = True
