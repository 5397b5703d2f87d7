"""schemathesis against the dashboard's OpenAPI document: no generated request may cause a server error."""

from __future__ import annotations

import os

import schemathesis
from hypothesis import HealthCheck, given, settings

from gapwatch.web.app import create_app

EXAMPLES = max(int(os.environ.get("GAPWATCH_PROPERTY_EXAMPLES", "150")) // 10, 15)


def test_no_generated_request_causes_a_server_error(store_path: str) -> None:
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", create_app(store_path))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            response = case.call()
            assert response.status_code < 500, (
                f"{case.method} {case.path} {case.query}: {response.text[:300]}"
            )
            # Every answer is JSON, errors included, and errors say what was wrong.
            content_type = response.headers["content-type"]
            assert str(content_type[0] if isinstance(content_type, list) else content_type).startswith(
                "application/json"
            )
            if response.status_code >= 400:
                assert "detail" in response.json()

        check()
