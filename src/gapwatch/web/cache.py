"""The dashboard's page cache: rendered pages kept per published run and URL, bounded in bytes.

A published run never changes, so a page is the same for everyone until the next run is
published. Pages are kept by (run, path, normalised query): the query's parameters are
decoded and sorted, so ``?a=1&b=2``, ``?b=2&a=1`` and ``?a=%31&b=2`` are one page. Any
parameter a page does not declare, and any parameter given twice, is refused before
rendering (:func:`gapwatch.web.security.declared_query_only`), and only 200 responses of
requests whose query was so checked are kept, so no query string can fill the cache or
force a fresh render.

The cache is a least-recently-used dictionary bounded both in entries and in bytes (the
sum of the kept bodies): pages with many charts can weigh megabytes, so an entry count
alone does not bound the memory.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gapwatch.errors import GapwatchError
from gapwatch.web.security import QUERY_CHECKED

PAGE_CACHE_BYTES = 256 * 1024 * 1024
PAGE_CACHE_ENTRIES = 2000


@dataclass(frozen=True)
class Page:
    """One kept response: status, headers (with its content-length) and body."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class PageCache:
    """A thread-safe LRU dictionary of pages whose bodies total at most ``max_bytes``.

    >>> cache = PageCache(max_bytes=10, max_entries=5)
    >>> cache.put(("r", "/a"), Page(200, [], b"123456"))
    >>> cache.put(("r", "/b"), Page(200, [], b"123456"))  # 12 bytes > 10: /a goes
    >>> cache.get(("r", "/a")) is None, cache.size
    (True, 6)
    """

    def __init__(self, max_bytes: int = PAGE_CACHE_BYTES, max_entries: int = PAGE_CACHE_ENTRIES) -> None:
        if max_bytes < 0 or max_entries < 0:
            raise ValueError("the page cache limits must be zero or more")
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self.size = 0
        self._pages: OrderedDict[tuple[str, str], Page] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._pages)

    def get(self, key: tuple[str, str]) -> Page | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: tuple[str, str], page: Page) -> None:
        weight = len(page.body)
        if weight > self.max_bytes or self.max_entries == 0:
            return  # larger than the whole cache: serve it, do not keep it
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self.size -= len(old.body)
            self._pages[key] = page
            self.size += weight
            while self.size > self.max_bytes or len(self._pages) > self.max_entries:
                _, evicted = self._pages.popitem(last=False)
                self.size -= len(evicted.body)


def page_key(run: str, path: str, query: bytes | str) -> tuple[str, str]:
    """The cache key of a page: the run, the path and the decoded, sorted query.

    >>> page_key("r1", "/overview", b"b=2&a=%31")
    ('r1', '/overview?a=1&b=2')
    """
    text = query.decode("latin-1") if isinstance(query, bytes) else query
    pairs = sorted(parse_qsl(text, keep_blank_values=True))
    return run, f"{path}?{urlencode(pairs)}"


class PageCacheMiddleware:
    """Serves kept pages for GET requests outside ``/static``; keeps each fresh 200.

    ``current_run`` names the newest published run (or raises a ``GapwatchError`` when
    the store cannot be read; nothing is then kept or served from the cache).
    """

    def __init__(self, app: ASGIApp, cache: PageCache, current_run: Callable[[], str | None]) -> None:
        self.app = app
        self.cache = cache
        self.current_run = current_run

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or str(scope["path"]).startswith("/static"):
            await self.app(scope, receive, send)
            return
        try:
            run = await run_in_threadpool(self.current_run)
        except GapwatchError:
            run = None
        if run is None:
            await self.app(scope, receive, send)
            return
        key = page_key(run, str(scope["path"]), scope.get("query_string", b""))
        hit = self.cache.get(key)
        if hit is not None:
            await send({"type": "http.response.start", "status": hit.status, "headers": list(hit.headers)})
            await send({"type": "http.response.body", "body": hit.body})
            return
        start: Message = {}
        chunks: list[bytes] = []

        async def keeping(message: Message) -> None:
            # Held back until the body is complete, so a kept page gets a content-length.
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                body = b"".join(chunks)
                headers = [pair for pair in start.get("headers", []) if pair[0].lower() != b"content-length"]
                headers.append((b"content-length", str(len(body)).encode()))
                if start["status"] == 200 and scope.get(QUERY_CHECKED):
                    self.cache.put(key, Page(200, headers, body))
                status = start["status"]
                await send({"type": "http.response.start", "status": status, "headers": list(headers)})
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, keeping)
