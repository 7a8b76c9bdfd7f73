"""What the fuzzer found, pinned down: each was a failing case before its fix."""

from __future__ import annotations

import pytest

API = "/api/v1"


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    return response.get_json()


@pytest.mark.parametrize(
    ("path", "actor", "field", "maximum"),
    [
        ("/me/customer", "customer", "display_name", 120),  # a Trimmed field
        ("/me/member", "member", "display_name", 120),  # a schema that trims in pre_load
        ("/me/member", "member", "bio", 2000),
    ],
)
def test_text_over_its_documented_maximum_is_refused_even_if_trimming_would_fit(
    request, client, path, actor, field, maximum
):
    headers = request.getfixturevalue(actor).headers
    body = {field: " " + "x" * maximum}
    refused = problem(client.patch(API + path, json=body, headers=headers), 422)
    assert field in refused["errors"]["json"]
    # At the maximum, surrounding whitespace is still trimmed away.
    fits = client.patch(API + path, json={field: " " + "x" * (maximum - 1)}, headers=headers)
    assert fits.status_code == 200, fits.get_json()
    assert fits.get_json()[field] == "x" * (maximum - 1)


def test_a_sanction_reason_over_its_maximum_is_refused(client, cm, member):
    body = {"kind": "warn", "reason": "x" * 1000 + " "}
    url = f"{API}/members/{member.profile_id}/sanctions"
    refused = problem(client.post(url, json=body, headers=cm.headers), 422)
    assert "reason" in refused["errors"]["json"]


@pytest.mark.parametrize("raw", ["-2.7e16", '"text"', "[1, 2]", "null"])
def test_a_json_body_that_is_no_object_is_422_not_500(client, member, raw):
    response = client.patch(
        f"{API}/me/member", data=raw, content_type="application/json", headers=member.headers
    )
    problem(response, 422)


def test_csv_renderings_are_documented_as_text_csv(client, admin):
    spec = client.get(f"{API}/openapi.json").get_json()
    for path in ("/api/v1/reports/revenue", "/api/v1/me/statements"):
        content = spec["paths"][path]["get"]["responses"]["200"]["content"]
        assert {"application/json", "text/csv"} <= set(content), path
    response = client.get(
        f"{API}/reports/revenue",
        query_string={"date_from": "2024-01-01", "date_to": "2024-01-31", "format": "csv"},
        headers=admin.headers,
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"


def test_extension_members_of_problems_are_documented(client, member):
    """A 409 with `reasons` (not eligible to mentor) matches the documented problem schema."""
    spec = client.get(f"{API}/openapi.json").get_json()
    documented = set(spec["components"]["schemas"]["Problem"]["properties"])
    body = {"capacity": 1, "skills": ["tv_wall_mount"], "countries": ["DE"], "max_distance_km": 5}
    refused = problem(client.put(f"{API}/me/mentor", json=body, headers=member.headers), 409)
    assert refused["reasons"]
    assert set(refused) <= documented, set(refused) - documented
