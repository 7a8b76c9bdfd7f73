"""Numbers callers send are bounded where documented (crowd.core.fields): money amounts by one
maximum, ids by the BIGINT range."""

from __future__ import annotations

import re

import pytest

from crowd.core.fields import MAX_AMOUNT_MINOR, Amount

# Names of body properties that carry money; each must be an Amount (documented bounds).
MONEY = re.compile(r"amount|_minor$|fee|price|^rate$")


def _properties(spec: dict, schema: dict, seen=frozenset()):
    """(name, property schema) of every property reachable from `schema`."""
    if not isinstance(schema, dict):
        return
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        if name not in seen:
            yield from _properties(spec, spec["components"]["schemas"][name], seen | {name})
        return
    for key in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(key, []):
            yield from _properties(spec, part, seen)
    if "items" in schema:
        yield from _properties(spec, schema["items"], seen)
    for name, prop in (schema.get("properties") or {}).items():
        yield name, prop
        yield from _properties(spec, prop, seen)


def test_every_amount_a_caller_sends_documents_the_maximum(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    amounts = {}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            content = (operation.get("requestBody") or {}).get("content", {})
            body = content.get("application/json", {}).get("schema")
            for name, prop in _properties(spec, body or {}):
                if MONEY.search(name) and prop.get("type") == "integer":
                    amounts[f"{method.upper()} {path} {name}"] = prop
    # Prices and rates of jobs, parts of a work report, refunds, resolutions, plan fees.
    assert len(amounts) >= 10, sorted(amounts)
    unbounded = {
        where: (prop.get("minimum"), prop.get("maximum"))
        for where, prop in amounts.items()
        if prop.get("minimum") is None or not 0 < prop.get("maximum", 0) <= MAX_AMOUNT_MINOR
    }
    assert not unbounded, unbounded


def test_a_domain_may_cap_lower_but_never_higher():
    assert Amount(maximum=500).validate[0].max == 500
    with pytest.raises(ValueError, match="at most"):
        Amount(maximum=MAX_AMOUNT_MINOR + 1)


def test_amounts_are_whole_numbers_of_minor_units():
    field = Amount()
    assert field.deserialize(MAX_AMOUNT_MINOR) == MAX_AMOUNT_MINOR
    for refused in (12.5, "12", MAX_AMOUNT_MINOR + 1, -1, True):
        with pytest.raises(Exception, match="integer|greater|less|Not a valid"):
            field.deserialize(refused)


@pytest.mark.parametrize(
    ("kind", "field"),
    [("partial_refund", "refund_amount"), ("goodwill", "goodwill_amount")],
)
def test_a_resolution_amount_over_the_maximum_is_422(client, cm, kind, field):
    body = {"kind": kind, field: MAX_AMOUNT_MINOR + 1, "member_at_fault": False, "note": "x"}
    response = client.post("/api/v1/tickets/1/resolutions", json=body, headers=cm.headers)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]["json"]


def test_a_refund_over_the_maximum_is_422(client, cm):
    body = {"amount": MAX_AMOUNT_MINOR + 1, "reason": "Damaged wall"}
    response = client.post("/api/v1/staff/jobs/1/refunds", json=body, headers=cm.headers)
    assert response.status_code == 422, response.get_json()
    assert "amount" in response.get_json()["errors"]["json"]


@pytest.mark.parametrize("parameter", ["customer_id", "member_id"])
def test_an_id_filter_past_64_bits_is_422_naming_it(client, cm, parameter):
    response = client.get(f"/api/v1/staff/jobs?{parameter}={2**63}", headers=cm.headers)
    assert response.status_code == 422, response.get_json()
    assert parameter in response.get_json()["errors"]["query"]
