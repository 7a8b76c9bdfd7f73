"""Fuzzing: every operation of our own spec with generated valid and invalid data, in-process.

Schemathesis reads /api/v1/openapi.json from the app and generates requests for one operation
per test (the operations are the authorization table's, so each has a test id of its own).
Each generated case is sent twice through the app's WSGI interface, inside the test's rolled-
back transaction: without credentials — it must be refused with a 401 problem unless the
operation is public — and with a real bearer token of a role the operation allows (taking
turns over its `x-roles`). Every response must be no server error and match the spec: status
code, content type and body schema; invalid data must be refused.

Authorized cases with a JSON body are also sent hostile (`hostile`): one property set to a lone
UTF-16 surrogate or a 5,000-digit integer, which crowd.core.jsonio must refuse with a 422 naming
that property — values Python's parser takes but no database can (they were 500s).

Bounded for CI: MAX_EXAMPLES cases per operation, derandomized (the same cases on every run).
"""

from __future__ import annotations

import json
import os
import uuid
from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.exceptions import HTTPException

from crowd.core import jsonio
from tests.api.authz_table import OPERATIONS
from tests.api.spec import tally
from tests.factories import make_actor
from tests.jobs.conftest import active_member

# CI's budget; CROWD_FUZZ_EXAMPLES=200 digs deeper locally (still derandomized).
MAX_EXAMPLES = int(os.environ.get("CROWD_FUZZ_EXAMPLES", "8"))
# Size limits apply at the edge, before anyone is identified (crowd/core/security.py): a URL
# or body too large is refused as such (414, 413).
EDGE_REFUSALS = (413, 414)
ROLES = ("customer", "member", "community_manager", "admin")
# Raw JSON for the hostile variant of a case, and what the loader answers for it.
HOSTILE = {'"\\ud800"': jsonio.LONE_SURROGATE, "9" * 5000: jsonio.OUT_OF_RANGE_INTEGER}
_MARKER = "@crowd-hostile@"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=(Phase.generate, Phase.shrink),
    # Cases are HTTP requests to a real app with a database: slow and sometimes large by nature.
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.large_base_example,
    ],
)


@pytest.fixture
def webhook_secret(app, monkeypatch):
    """A configured webhook secret: unsigned deliveries are then refused (400), as in production."""
    settings_ = app.config["CROWD_SETTINGS"].model_copy(
        update=dict(stripe_webhook_secret="whsec_fuzzing")
    )
    monkeypatch.setitem(app.config, "CROWD_SETTINGS", settings_)


def _callers(roles: list[str] | None) -> list[dict]:
    """Headers to take turns with: a real token per allowed role (none for public operations)."""
    if roles is None:
        return [{}]
    allowed = ROLES if roles == ["any"] else roles
    # An active member reaches further into the members' operations than an applicant.
    actors = [active_member() if role == "member" else make_actor(role) for role in allowed]
    return [actor.headers for actor in actors]


def _routes(app, method: str, response) -> bool:
    """Whether the request's path names a route at all (a malformed id cannot, and gets 404)."""
    path = unquote(urlsplit(response.request.url).path)
    try:
        app.url_map.bind("localhost").match(path, method=method)
    except HTTPException:
        return False
    return True


@pytest.mark.parametrize("label", OPERATIONS)
def test_fuzz(label, app, api_schema, spec_operations, webhook_secret):
    assert label in spec_operations, f"{label} is not in the spec (stale table entry?)"
    method, path = label.split(" ", 1)
    operation = api_schema[path][method]
    roles = spec_operations[label].get("x-roles")
    callers = _callers(roles)
    strategy = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )
    turn = iter(range(10**9))

    @FUZZ_SETTINGS
    @given(case=strategy, hostile=st.sampled_from((None, *HOSTILE)))
    def run(case, hostile):
        tally.cases += 1
        tally.operations.add(label)
        if roles is not None:
            anonymous = case.call()
            refused = anonymous.status_code == 401 or anonymous.status_code in EDGE_REFUSALS
            if _routes(app, method, anonymous):
                assert refused, (anonymous.status_code, anonymous.text)
            case.validate_response(anonymous, checks=CHECKS)
        headers = callers[next(turn) % len(callers)]
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)
        if hostile is not None and _valid_json_case(case):
            _check_hostile_body(case, headers, hostile, response)

    run()


def _valid_json_case(case) -> bool:
    # Invalid parameters of a negative case may be refused first, under another location.
    positive = case.meta is not None and case.meta.generation.mode == GenerationMode.POSITIVE
    return positive and case.media_type == "application/json" and isinstance(case.body, dict)


def _refused_before_the_body(plain) -> dict | None:
    """The errors of a plain answer refused before its body was read (None if it was read)."""
    if plain.status_code < 400:
        return None
    errors = plain.json().get("errors") or {}
    return None if "json" in errors else errors


def _check_hostile_body(case, headers: dict, raw_value: str, plain) -> None:
    """The case's body with one property set to `raw_value` (verbatim JSON): a 422 naming it,
    unless the plain case was refused before its body was read (then refused the same way:
    a generated Idempotency-Key refused or reused, a path naming nothing)."""
    field = next(iter(case.body), "hostile")
    raw = json.dumps({**case.body, field: _MARKER}).replace(f'"{_MARKER}"', raw_value)
    if "Idempotency-Key" in (case.headers or {}):
        # The plain call may have used the key: with another body it would be refused as reused.
        headers = {**headers, "Idempotency-Key": f"hostile-{uuid.uuid4().hex}"}
    tally.hostile_bodies += 1
    response = case.call(headers=headers, data=raw.encode())
    assert response.headers["content-type"] == ["application/problem+json"], response.text
    before = _refused_before_the_body(plain)
    if before is not None and response.status_code == plain.status_code:
        assert (response.json().get("errors") or {}) == before, response.text
        return
    assert response.status_code == 422, (raw[:200], response.text)
    assert response.json()["errors"]["json"][field] == [HOSTILE[raw_value]], response.text
