"""Concurrent rate changes: one of several for the same rate wins, the periods stay apart."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from crowd.extensions import db
from invoicing.models.tax import TaxRate
from invoicing.tax_rates import local_today
from tests.concurrency import run_concurrently
from tests.factories import make_actor

pytestmark = pytest.mark.committing

RATES = "/api/v1/tax-rates"


def _periods(app) -> list[tuple[int, object, object]]:
    with app.app_context():
        rows = db.session.scalars(
            select(TaxRate)
            .where(TaxRate.country == "DE", TaxRate.category == "standard")
            .order_by(TaxRate.valid_from)
        )
        return [(row.rate_bp, row.valid_from, row.valid_until) for row in rows]


def _assert_apart(periods) -> None:
    for (_, _, until), (_, start, _) in zip(periods, periods[1:], strict=False):
        assert until is not None and until < start, periods


@pytest.mark.parametrize("spread", [False, True])
def test_simultaneous_changes_leave_apart_periods(app, spread):
    """Four admins at once: from the same day (one wins), or from four days (the periods
    never overlap, whoever wins)."""
    admin = make_actor("admin")
    today = local_today()

    def change(client, i):
        day = today + timedelta(days=30 + (10 * i if spread else 0))
        body = {"country": "DE", "category": "standard", "rate_bp": 2000 + i}
        body["valid_from"] = day.isoformat()
        return client.post(RATES, json=body, headers=admin.headers).status_code

    statuses = run_concurrently(app, 4, change)
    assert set(statuses) <= {201, 409}, statuses
    periods = _periods(app)
    assert len(periods) == 3 + statuses.count(201)
    if not spread:
        assert statuses.count(201) == 1
    assert periods[-1][2] is None
    _assert_apart(periods)
