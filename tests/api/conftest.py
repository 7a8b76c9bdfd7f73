"""Fixtures for the API-wide tests: the spec loaded in-process, and the tally printed at the end."""

from __future__ import annotations

import pytest
import schemathesis

from tests.api.spec import FUZZ_CONFIG, operations_in_scope, tally


@pytest.fixture(scope="session")
def api_spec(app) -> dict:
    """Our own /api/v1/openapi.json as the app serves it."""
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


@pytest.fixture(scope="session")
def spec_operations(app, api_spec) -> dict[str, dict]:
    """The operations under test: "METHOD /path" → its operation in the spec."""
    return operations_in_scope(api_spec)


@pytest.fixture(scope="session")
def api_schema(app):
    """The spec loaded by schemathesis from the app itself: requests never leave the process."""
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=FUZZ_CONFIG)


def pytest_terminal_summary(terminalreporter):
    if tally.cases:
        terminalreporter.write_line(
            f"schemathesis: {tally.cases} cases over {len(tally.operations)} operations, "
            f"{tally.hostile_bodies} sent again with a hostile JSON value"
        )
    if tally.cells:
        terminalreporter.write_line(
            f"authorization matrix: {tally.cells} (operation, party) cells over "
            f"{len(tally.matrix_operations)} operations"
        )
