"""Serving the dashboard: uvicorn with limits on idle, slow and half-open connections.

uvicorn closes a kept-alive connection that stays idle after a response
(``timeout_keep_alive``), but it sets no limit on how long a client may take to send a
request: a connection opened and left silent, or one that sends its headers a byte at a
time (the "slowloris" attack), holds a connection for ever. :class:`DeadlineH11Protocol`
gives every request a deadline measured from the moment the connection is opened or the
previous response is complete: if the request has not fully arrived by then, the
connection is closed. A slow client is not reset by trickling a byte, because the
deadline is fixed when the wait starts, not extended by each byte.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

REQUEST_TIMEOUT = 10.0
KEEP_ALIVE_TIMEOUT = 5
MAX_CONNECTIONS = 200
# h11's bound on a request line plus headers; 16 KiB is its own default, stated here.
MAX_HEADER_BYTES = 16 * 1024


class DeadlineH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request to arrive in full."""

    request_timeout: float = REQUEST_TIMEOUT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.request_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state in (h11.IDLE, h11.SEND_BODY):
            # Still waiting for (the rest of) a request; the deadline set when the wait
            # began stands (uvicorn cancelled its keep-alive timer on this data).
            self._arm()
        else:
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # uvicorn's keep-alive timer now covers the idle wait; the deadline covers the
        # next request once its first byte arrives.
        self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def protocol(request_timeout: float) -> type[DeadlineH11Protocol]:
    """The protocol class with a deadline of ``request_timeout`` seconds per request."""
    if request_timeout <= 0:
        raise ValueError("the request timeout must be more than 0 seconds")
    return type("DeadlineH11Protocol", (DeadlineH11Protocol,), {"request_timeout": float(request_timeout)})


def run(
    app: Any,
    host: str,
    port: int,
    request_timeout: float = REQUEST_TIMEOUT,
    keep_alive_timeout: int = KEEP_ALIVE_TIMEOUT,
    max_connections: int = MAX_CONNECTIONS,
) -> None:
    """Serve ``app`` on ``host:port`` until interrupted, with the limits above.

    Beyond ``max_connections`` open connections and requests, uvicorn answers 503 at once
    rather than queueing without bound.
    """
    import uvicorn

    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        http=protocol(request_timeout),
        timeout_keep_alive=keep_alive_timeout,
        limit_concurrency=max_connections,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
    )
