"""Every operation that reads a JSON body refuses values nothing downstream can take.

A lone UTF-16 surrogate in a string and an integer of 5,000 digits used to raise inside the
password hash or the database driver (500s); crowd.core.jsonio refuses them while parsing, for
every operation at once. Each body names one of the operation's own properties, sent by a
caller the operation allows: the answer is a 422 naming that property.
"""

from __future__ import annotations

import re

from crowd.core import jsonio
from tests.factories import make_actor

SURROGATE = '"\\ud800"'
HUGE_INTEGER = "9" * 5000
# The loader's own refusals, not a schema's later complaint about the type.
REFUSALS = {SURROGATE: jsonio.LONE_SURROGATE, HUGE_INTEGER: jsonio.OUT_OF_RANGE_INTEGER}
# Bodies not parsed as arguments: a webhook's signature is checked first (400 unsigned).
SIGNED_BODIES = {"POST /api/v1/webhooks/stripe"}


def _json_schema(api_spec: dict, operation: dict) -> dict | None:
    content = (operation.get("requestBody") or {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    while schema and "$ref" in schema:
        schema = api_spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _path(path: str) -> str:
    # Any id will do: the body is parsed before the view looks anything up.
    return re.sub(r"\{[^}]+\}", "1", path)


def _body_operations(api_spec: dict, spec_operations: dict) -> list[tuple[str, str]]:
    found = []
    for label, operation in spec_operations.items():
        schema = _json_schema(api_spec, operation)
        if schema is not None and label not in SIGNED_BODIES:
            field = next(iter(schema.get("properties") or {"_schema": None}))
            found.append((label, field))
    return found


def test_every_operation_with_a_json_body_refuses_a_surrogate_and_a_huge_integer(
    client, api_spec, spec_operations
):
    operations = _body_operations(api_spec, spec_operations)
    assert len(operations) >= 100, len(operations)  # the walk reaches the whole API
    callers = {}
    refused = []
    for label, field in operations:
        method, path = label.split(" ", 1)
        roles = spec_operations[label].get("x-roles")
        headers = {}
        if roles:
            role = "customer" if roles == ["any"] else roles[0]
            if role not in callers:
                callers[role] = make_actor(role).headers
            headers = callers[role]
        for value in (SURROGATE, HUGE_INTEGER):
            response = client.open(
                _path(path),
                method=method,
                data=f'{{"{field}": {value}}}',
                content_type="application/json",
                headers=headers,
            )
            assert response.status_code < 500, (label, response.get_data(as_text=True))
            body = response.get_json()
            named = body.get("errors", {}).get("json", {}).get(field)
            if response.status_code != 422 or named != [REFUSALS[value]]:
                refused.append((label, value[:8], response.status_code, body))
    assert not refused, refused
