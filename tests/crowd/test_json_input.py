"""Hostile JSON: values Python's parser takes but nothing downstream can are a 422 naming them.

Lone UTF-16 surrogates, integers past 64 bits (and past the 4,300 digits int() converts),
numbers overflowing to infinity, and the non-standard NaN / Infinity literals are refused by
crowd.core.jsonio, the one loader of request bodies, before any schema or view runs.
"""

from __future__ import annotations

import base64
import json

import pytest

from crowd.core import jsonio
from tests.jobs.conftest import job_body

API = "/api/v1"
PROBLEM = "application/problem+json"
SIGN_IN = f"{API}/auth/tokens"


def _post_raw(client, path: str, raw: str, headers: dict | None = None):
    return client.post(path, data=raw, content_type="application/json", headers=headers or {})


def _refused(response, *path: str | int) -> list[str]:
    """The messages of a 422 at `path` under errors.json."""
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    where = response.get_json()["errors"]["json"]
    for step in path:
        where = where[str(step)]
    return where


def _with(body: dict, raw_value: str) -> str:
    """`body` as JSON text with the placeholder "@" replaced by `raw_value` verbatim."""
    return json.dumps(body).replace('"@"', raw_value)


# --- unauthenticated: refused before authentication or any database work ------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ('"\\ud800"', jsonio.LONE_SURROGATE),
        ('"abc\\udfffdef"', jsonio.LONE_SURROGATE),
        ('"\\ude00\\ud83d"', jsonio.LONE_SURROGATE),  # a pair in the wrong order is two lone
        ('"abc\\u0000def"', jsonio.NUL_CHARACTER),
        ("9" * 5000, jsonio.OUT_OF_RANGE_INTEGER),
        ("-" + "9" * 5000, jsonio.OUT_OF_RANGE_INTEGER),
        ("9223372036854775808", jsonio.OUT_OF_RANGE_INTEGER),
        ("-9223372036854775809", jsonio.OUT_OF_RANGE_INTEGER),
        ("1e400", jsonio.OUT_OF_RANGE_NUMBER),
        ("-1E+309", jsonio.OUT_OF_RANGE_NUMBER),
        ("1" + "0" * 400 + ".5", jsonio.OUT_OF_RANGE_NUMBER),
        ("NaN", jsonio.NOT_A_NUMBER),
        ("Infinity", jsonio.NOT_A_NUMBER),
        ("-Infinity", jsonio.NOT_A_NUMBER),
    ],
)
def test_sign_in_refuses_the_value_naming_the_field(client, raw, message):
    response = _post_raw(client, SIGN_IN, _with({"email": "a@example.test", "password": "@"}, raw))
    assert _refused(response, "password") == [message]


def test_sign_up_refuses_a_surrogate_in_any_field_and_creates_nothing(client, db_session):
    from sqlalchemy import func, select

    from accounts.models import User

    users = db_session.scalar(select(func.count()).select_from(User))
    body = {"email": "new@example.test", "password": "a long secret 42", "display_name": "@"}
    response = _post_raw(client, f"{API}/accounts/customers", _with(body, '"Ann \\udc00"'))
    assert _refused(response, "display_name") == [jsonio.LONE_SURROGATE]
    assert db_session.scalar(select(func.count()).select_from(User)) == users


def test_every_refused_value_is_named_not_only_the_first(client):
    raw = '{"email": "\\ud800", "password": 1e999, "display_name": NaN}'
    response = _post_raw(client, f"{API}/accounts/customers", raw)
    assert set(_refused(response)) == {"email", "password", "display_name"}


def test_a_key_with_a_surrogate_is_named_in_printable_form(client):
    response = _post_raw(client, SIGN_IN, '{"pass\\ud800word": "x"}')
    assert _refused(response, "pass\\ud800word") == [jsonio.LONE_SURROGATE]
    # The problem itself is UTF-8 text a client can read.
    response.get_data().decode("utf-8")


def test_a_refused_value_that_is_the_whole_body_belongs_to_no_field(client):
    assert _refused(_post_raw(client, SIGN_IN, '"\\ud800"'), "_schema") == [jsonio.LONE_SURROGATE]


def test_malformed_json_is_still_400_and_an_empty_body_still_422(client):
    for raw in ("{", "\xff"):
        response = _post_raw(client, SIGN_IN, raw)
        assert response.status_code == 400, raw
        assert response.get_json()["errors"] == {"json": ["Invalid JSON body."]}
    response = client.post(SIGN_IN, data=b"\xed\xa0\x80", content_type="application/json")
    assert response.status_code == 400  # a surrogate encoded as bytes is no UTF-8 at all
    assert _refused(client.post(SIGN_IN, data="", content_type="application/json"), "email")


# --- what stays accepted ------------------------------------------------------------------


def test_a_surrogate_pair_is_one_character_and_accepted(client, member):
    body = _with({"display_name": "@"}, '"Ann \\ud83d\\ude00"')
    response = client.patch(
        f"{API}/me/member", data=body, content_type="application/json", headers=member.headers
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["display_name"] == "Ann \U0001f600"


def test_long_digit_runs_inside_strings_and_small_numbers_pass(client, member):
    body = {"bio": "IBAN DE89370400440532013000 and 12345678901234567890123", "display_name": "B"}
    response = client.patch(f"{API}/me/member", json=body, headers=member.headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["bio"] == body["bio"]


def test_the_loader_takes_the_64_bit_range_and_finite_floats():
    text = '{"a": 9223372036854775807, "b": -9223372036854775808, "c": 1.5e308, "d": 1e-400}'
    assert jsonio.loads(text) == {"a": 2**63 - 1, "b": -(2**63), "c": 1.5e308, "d": 0.0}
    assert jsonio.loads(b'["\\ud83d\\ude00"]') == ["\U0001f600"]


# --- nested bodies, signed in -------------------------------------------------------------


def test_a_nested_refusal_names_its_path(client, customer):
    body = job_body(pricing={"kind": "fixed", "amount": "@"})
    response = _post_raw(client, f"{API}/jobs", _with(body, "9" * 5000), customer.headers)
    assert _refused(response, "pricing", "amount") == [jsonio.OUT_OF_RANGE_INTEGER]
    windows = job_body()["windows"]
    body = job_body(windows=[windows[0], {**windows[0], "starts_at": "@"}])
    response = _post_raw(client, f"{API}/jobs", _with(body, '"\\udbff"'), customer.headers)
    assert _refused(response, "windows", 1, "starts_at") == [jsonio.LONE_SURROGATE]


def test_nan_for_a_float_field_is_refused_as_non_standard_json(client, customer):
    body = job_body()
    body["address"]["lat"] = "@"
    response = _post_raw(client, f"{API}/jobs", _with(body, "NaN"), customer.headers)
    assert _refused(response, "address", "lat") == [jsonio.NOT_A_NUMBER]


def test_request_get_json_reads_through_the_same_loader(app):
    with app.test_request_context(
        "/", method="POST", data='{"a": "\\ud800"}', content_type="application/json"
    ):
        from flask import request

        with pytest.raises(jsonio.InvalidJSONValue) as refused:
            request.get_json()
    assert refused.value.errors == {"json": {"a": [jsonio.LONE_SURROGATE]}}


# --- outside bodies: query strings, paths, headers, cursors -------------------------------


def test_surrogate_bytes_in_query_path_and_headers_are_no_server_error(client, cm, customer):
    # Werkzeug decodes URLs as UTF-8 with replacement: the bytes of a surrogate never arrive
    # as one; headers are Latin-1. None of them may reach the database as a 500.
    response = client.get(f"{API}/members?city=%ED%A0%80", headers=cm.headers)
    assert response.status_code in (200, 422), response.get_json()
    response = client.get(f"{API}/help/articles/%ED%A0%80", headers=customer.headers)
    assert response.status_code == 404
    response = client.post(
        f"{API}/jobs",
        json=job_body(),
        headers={**customer.headers, "Idempotency-Key": "k\xed\xa0\x80"},
    )
    assert response.status_code == 201, response.get_json()


FORGED_CURSORS = [b'["\\ud800", "\\ud800"]', b"[" + b"9" * 30 + b', "x"]', b"[NaN, 1]"]


@pytest.mark.parametrize("raw", FORGED_CURSORS)
def test_a_forged_cursor_with_refused_values_is_a_422_on_the_cursor(client, admin, raw):
    cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    response = client.get(f"{API}/ledger/accounts?cursor={cursor}", headers=admin.headers)
    assert _refused_query(response) == {"cursor": ["not valid"]}


def _refused_query(response) -> dict:
    assert response.status_code == 422, response.get_data(as_text=True)
    return response.get_json()["errors"]["query"]
