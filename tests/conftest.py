"""Shared fixtures: the real engines this machine can run.

PostgreSQL and Spark tests always run in CI (``CI=true``): a missing server is a failure
there. On a user's machine without them they skip with the reason.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
POSTGRES_URL = os.environ.get("GAPWATCH_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_postgres() -> str:
    """Return the test server's URL, or skip (fail in CI) when it is not running."""
    if _port_open("127.0.0.1", 5432):
        return POSTGRES_URL
    if IN_CI:
        pytest.fail("CI=true but no PostgreSQL server answers on 127.0.0.1:5432")
    pytest.skip("no PostgreSQL server on 127.0.0.1:5432 (tests run in CI)")


def require_spark() -> None:
    """Skip (fail in CI) when PySpark or Java is missing."""
    missing = []
    try:
        import pyspark  # noqa: F401
    except ImportError:
        missing.append("pyspark")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        missing.append("java")
    if missing:
        reason = f"Spark tests need {' and '.join(missing)}"
        if IN_CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(f"{reason} (tests run in CI)")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    return require_postgres()


# Synthetic data shared by the engine, pipeline and store tests: two ICBs of contrasting
# deprivation, one financial year, generated once per test session.
SYNTH_ICBS = ["E54000057", "E54000036"]  # Greater Manchester; Cornwall and the Isles of Scilly
SYNTH_START, SYNTH_END = "2024-04", "2025-03"


@pytest.fixture(scope="session")
def synthetic_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from gapwatch.synth import generate

    folder = tmp_path_factory.mktemp("synthetic") / "data"
    generate(40_000, 11, folder, SYNTH_ICBS, SYNTH_START, 12)
    return folder


def write_config(folder: Path, data: Path, **settings: object) -> Path:
    """Write a run configuration for ``data`` into ``folder`` and return its path."""
    import yaml

    config = {
        "name": "test",
        "data": str(data),
        "periods": {"start": SYNTH_START, "end": SYNTH_END},
        "store": str(folder / "results.duckdb"),
    }
    config.update(settings)
    path = folder / "gapwatch.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path
