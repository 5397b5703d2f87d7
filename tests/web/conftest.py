"""A published, monitored run on synthetic data for the dashboard tests, made once per session."""

from __future__ import annotations

from pathlib import Path

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
