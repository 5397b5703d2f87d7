"""A published, monitored run on synthetic data for the dashboard tests, made once per session."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gapwatch.model.config import load_config
from gapwatch.monitor import monitor
from gapwatch.pipeline import run
from gapwatch.store import open_store
from tests.conftest import write_config


@pytest.fixture(scope="session")
def store_path(synthetic_data: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("web")
    config = write_config(
        folder, synthetic_data, areas=["england", "region", "icb", "sub_icb", "local_authority"]
    )
    summary = run(load_config(config))
    store = open_store(summary.store)
    try:
        monitor(store, summary.run_id)
    finally:
        store.close()
    return summary.store


@pytest.fixture
def serve() -> Iterator[Any]:
    """Serves ASGI apps on 127.0.0.1 in threads (uvicorn) until the test ends: ``serve(app, port)``."""
    import uvicorn

    servers: list[tuple[Any, threading.Thread]] = []

    def start(app: Any, port: int) -> str:
        instance = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=instance.run, daemon=True)
        thread.start()
        servers.append((instance, thread))
        deadline = time.monotonic() + 20
        while not instance.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert instance.started, "a test server did not start"
        return f"http://127.0.0.1:{port}"

    yield start
    for instance, thread in servers:
        instance.should_exit = True
        thread.join(timeout=10)
