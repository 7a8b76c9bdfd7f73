"""The VAT rate table over HTTP: staff read it, admins add dated changes that close the running
period; the past and the already scheduled are not rewritten."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from crowd.core.audit import AuditEntry
from crowd.extensions import db
from invoicing import tax
from invoicing.models.tax import TaxRate
from invoicing.tax_rates import local_today

RATES = "/api/v1/tax-rates"


def _day(days: int) -> date:
    return local_today() + timedelta(days=days)


def _change(client, actor, *, days: int = 30, headers=None, **body):
    body = {
        "country": "DE",
        "category": "standard",
        "rate_bp": 2000,
        "valid_from": _day(days).isoformat(),
        **body,
    }
    return client.post(RATES, json=body, headers={**actor.headers, **(headers or {})})


def _periods(country: str, category: str) -> list[tuple[int, date, date | None]]:
    rows = db.session.scalars(
        select(TaxRate)
        .where(TaxRate.country == country, TaxRate.category == category)
        .order_by(TaxRate.valid_from)
    )
    return [(row.rate_bp, row.valid_from, row.valid_until) for row in rows]


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.json
    assert response.mimetype == "application/problem+json"
    return response.json


# --- who may ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "status"), [("customer", 403), ("member", 403)])
def test_parties_may_not_read_the_rates(client, request, role, status):
    actor = request.getfixturevalue(role)
    _problem(client.get(RATES, headers=actor.headers), status)


def test_anonymous_callers_are_asked_to_sign_in(client):
    _problem(client.get(RATES), 401)
    _problem(client.post(RATES, json={}), 401)


@pytest.mark.parametrize("role", ["customer", "member", "cm"])
def test_only_admins_change_rates(client, request, role):
    actor = request.getfixturevalue(role)
    _problem(_change(client, actor), 403)
    assert _periods("DE", "standard")[-1] == (1900, date(2021, 1, 1), None)


# --- reading ----------------------------------------------------------------------------------


def test_a_cm_reads_the_seeded_periods_in_order(client, cm):
    response = client.get(RATES, query_string={"country": "DE"}, headers=cm.headers)
    assert response.status_code == 200, response.json
    got = [
        (r["category"], r["rate_bp"], r["valid_from"], r["valid_until"], r["created_by_user_id"])
        for r in response.json
    ]
    assert got == [
        ("reduced", 700, "2007-01-01", "2020-06-30", None),
        ("reduced", 500, "2020-07-01", "2020-12-31", None),
        ("reduced", 700, "2021-01-01", None, None),
        ("standard", 1900, "2007-01-01", "2020-06-30", None),
        ("standard", 1600, "2020-07-01", "2020-12-31", None),
        ("standard", 1900, "2021-01-01", None, None),
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"on": "2020-08-15", "country": "DE"}, [("DE", "reduced", 500), ("DE", "standard", 1600)]),
        (
            {"on": "2023-12-31", "category": "standard"},
            [("AT", "standard", 2000), ("CH", "standard", 770), ("DE", "standard", 1900)],
        ),
        ({"on": "2024-01-01", "country": "CH", "category": "reduced"}, [("CH", "reduced", 260)]),
        ({"on": "2017-06-01", "country": "CH"}, []),
    ],
)
def test_the_rates_in_force_on_a_day(client, admin, query, expected):
    response = client.get(RATES, query_string=query, headers=admin.headers)
    assert response.status_code == 200, response.json
    assert [(r["country"], r["category"], r["rate_bp"]) for r in response.json] == expected


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"country": "FR"}, "country"),
        ({"category": "zero"}, "category"),
        ({"on": "2024-13-01"}, "on"),
        ({"on": "yesterday"}, "on"),
    ],
)
def test_a_bad_filter_is_a_422_naming_it(client, cm, query, field):
    body = _problem(client.get(RATES, query_string=query, headers=cm.headers), 422)
    assert list(body["errors"]["query"]) == [field]


# --- changing ---------------------------------------------------------------------------------


def test_a_change_closes_the_running_period_the_day_before(client, admin):
    response = _change(client, admin, days=30)
    assert response.status_code == 201, response.json
    assert response.json | {"id": None, "created_at": None} == {
        "id": None,
        "country": "DE",
        "category": "standard",
        "rate_bp": 2000,
        "valid_from": _day(30).isoformat(),
        "valid_until": None,
        "created_at": None,
        "created_by_user_id": admin.user_id,
    }
    assert _periods("DE", "standard")[-2:] == [
        (1900, date(2021, 1, 1), _day(29)),
        (2000, _day(30), None),
    ]
    assert tax.rate("DE", _day(29)) == 1900
    assert tax.rate("DE", _day(30)) == 2000
    # The reduced rate and the other countries are untouched.
    assert _periods("DE", "reduced")[-1] == (700, date(2021, 1, 1), None)
    assert tax.rate("AT", _day(30)) == 2000


def test_a_change_from_today_is_allowed(client, admin):
    response = _change(client, admin, days=0, country="AT", category="reduced", rate_bp=1300)
    assert response.status_code == 201, response.json
    assert _periods("AT", "reduced") == [
        (1000, date(2016, 1, 1), _day(-1)),
        (1300, _day(0), None),
    ]


def test_changes_are_added_in_order(client, admin):
    assert _change(client, admin, days=30).status_code == 201
    assert _change(client, admin, days=60, rate_bp=2100).status_code == 201
    assert _periods("DE", "standard")[-3:] == [
        (1900, date(2021, 1, 1), _day(29)),
        (2000, _day(30), _day(59)),
        (2100, _day(60), None),
    ]


@pytest.mark.parametrize("days", [10, 30])
def test_a_change_on_or_before_a_scheduled_one_is_a_409(client, admin, days):
    assert _change(client, admin, days=30).status_code == 201
    body = _problem(_change(client, admin, days=days, rate_bp=1800), 409)
    assert body["type"].endswith("/tax-rate-overlap")
    assert _day(30).isoformat() in body["detail"]
    assert _periods("DE", "standard")[-1] == (2000, _day(30), None)


def test_a_first_rate_of_a_category_needs_no_period_to_close(client, admin):
    # Emptied for the test: a country's first rate stands alone.
    db.session.execute(
        TaxRate.__table__.delete().where(TaxRate.country == "CH", TaxRate.category == "reduced")
    )
    response = _change(client, admin, country="CH", category="reduced", rate_bp=260)
    assert response.status_code == 201, response.json
    assert _periods("CH", "reduced") == [(260, _day(30), None)]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"valid_from": date(2024, 1, 1).isoformat()}, "valid_from"),
        ({"rate_bp": 10_001}, "rate_bp"),
        ({"rate_bp": -1}, "rate_bp"),
        ({"rate_bp": "1900"}, "rate_bp"),
        ({"rate_bp": 19.5}, "rate_bp"),
        ({"country": "FR"}, "country"),
        ({"country": "de"}, "country"),
        ({"category": "super_reduced"}, "category"),
        ({"valid_from": "01.01.2030"}, "valid_from"),
        ({"valid_until": "2030-01-01"}, "valid_until"),
    ],
)
def test_a_bad_change_is_a_422_naming_the_field(client, admin, body, field):
    response = _change(client, admin, **body)
    assert list(_problem(response, 422)["errors"]["json"]) == [field]
    assert _periods("DE", "standard")[-1] == (1900, date(2021, 1, 1), None)


def test_yesterday_is_the_past(client, admin):
    body = _problem(_change(client, admin, days=-1), 422)
    assert "valid_from" in body["errors"]["json"]


@pytest.mark.parametrize("missing", ["country", "category", "rate_bp", "valid_from"])
def test_every_field_of_a_change_is_required(client, admin, missing):
    body = {"country": "DE", "category": "standard", "rate_bp": 2000}
    body["valid_from"] = _day(30).isoformat()
    del body[missing]
    response = client.post(RATES, json=body, headers=admin.headers)
    assert list(_problem(response, 422)["errors"]["json"]) == [missing]


def test_a_retried_change_is_applied_once(client, admin):
    key = {"Idempotency-Key": "vat-de-2000"}
    first = _change(client, admin, headers=key)
    again = _change(client, admin, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json
    assert [p[0] for p in _periods("DE", "standard")] == [1900, 1600, 1900, 2000]
    # The same key with another body is refused, not applied.
    other = _change(client, admin, headers=key, rate_bp=2100)
    _problem(other, 422)
    assert [p[0] for p in _periods("DE", "standard")] == [1900, 1600, 1900, 2000]


def test_a_change_is_in_the_audit_log_with_old_and_new_rate(client, admin):
    assert _change(client, admin).status_code == 201
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.actor_user_id == admin.user_id)
    ).one()
    assert (entry.method, entry.path, entry.status_code) == ("POST", RATES, 201)
    assert entry.changes == {f"DE standard from {_day(30).isoformat()}": {"old": 1900, "new": 2000}}


def test_a_refused_change_is_in_the_audit_log_too(client, admin):
    assert _change(client, admin, days=-1).status_code == 422
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.actor_user_id == admin.user_id)
    ).one()
    assert (entry.path, entry.status_code, entry.changes) == (RATES, 422, None)
