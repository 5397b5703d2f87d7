"""What the dashboard answers when a request goes wrong: one error page or JSON body per case.

* :class:`NotFoundError` (404): the URL names an area, indicator, breakdown or period
  this run does not have; :class:`BadValueError` (422): a value has the right shape but
  no meaning (a date like 2026-13-45). Both are raised in :mod:`gapwatch.web.deps`.
* A store that cannot be read (:class:`gapwatch.errors.GapwatchError`) is a 503 whose
  reason goes to the server log, never to the page.
* A parameter that fails its pattern is a 422 naming the parameter; anything unexpected
  is a 500 that says only that it was logged.

Every message passes through :func:`gapwatch.web.security.scrub` first. Pages under
``/api`` get ``{"detail": message}``; the others get the ``error.html`` page.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from gapwatch.errors import GapwatchError
from gapwatch.web.security import scrub

STORE_UNAVAILABLE = "the results cannot be read just now; please try again in a minute"
_log = logging.getLogger("gapwatch.web")


class NotFoundError(Exception):
    """A page or record the URL names does not exist in this run."""


class BadValueError(Exception):
    """A URL parameter has the right shape but no meaning (a date like 2026-13-45)."""


def install_error_handlers(app: FastAPI, templates: Jinja2Templates) -> None:
    """Answer every error of ``app`` with a scrubbed message: JSON under /api, a page elsewhere."""

    def error(request: Request, status: int, message: str) -> Response:
        message = scrub(message)
        if request.url.path.startswith("/api"):
            return JSONResponse({"detail": message}, status_code=status)
        return templates.TemplateResponse(
            request, "error.html", {"status": status, "message": message}, status_code=status
        )

    async def not_found(request: Request, problem: Exception) -> Response:
        return error(request, 404, str(problem))

    async def bad_value(request: Request, problem: Exception) -> Response:
        return error(request, 422, str(problem))

    async def store_unavailable(request: Request, problem: GapwatchError) -> Response:
        # The reason (a store path, a lock held by a named process) is for the server log;
        # the page says only that the results cannot be read now.
        _log.warning("results store unavailable: %s", problem.message)
        return error(request, 503, STORE_UNAVAILABLE)

    async def invalid(request: Request, problem: RequestValidationError) -> Response:
        fields = ", ".join(str(item["loc"][-1]) for item in problem.errors()) or "request"
        return error(request, 422, f"not a valid value for: {fields}")

    async def http_error(request: Request, problem: HTTPException) -> Response:
        return error(
            request,
            problem.status_code,
            "page not found" if problem.status_code == 404 else str(problem.detail),
        )

    async def unexpected(request: Request, problem: Exception) -> Response:
        # Internals (paths, SQL, tracebacks) stay in the server log, never in the page.
        return error(request, 500, "something went wrong on our side; the error has been logged")

    app.exception_handler(NotFoundError)(not_found)
    app.exception_handler(BadValueError)(bad_value)
    app.exception_handler(GapwatchError)(store_unavailable)
    app.exception_handler(RequestValidationError)(invalid)
    app.exception_handler(HTTPException)(http_error)
    app.exception_handler(Exception)(unexpected)
