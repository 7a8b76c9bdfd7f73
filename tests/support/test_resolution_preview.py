"""The preview of a proposal shows exactly what applying it does: the refund, the member's and
the platform's parts of it, checked against the refund the proposal really makes."""

from __future__ import annotations

import pytest

from crowd.core.auth import Principal
from crowd.core.errors import DomainError, Forbidden
from support.resolutions import preview
from tests.jobs.conftest import drain_background
from tests.payouts.conftest import ledger_sound  # noqa: F401
from tests.payouts.job_money_helpers import refunds
from tests.support.dispute_helpers import (
    COMMISSION,
    EARNING,
    PRICE,
    disputed_job,
    proposed,
    staff_act,
)

pytestmark = pytest.mark.usefixtures("ledger_sound")
BOTH_PATHS = pytest.mark.parametrize("confirmed", [True, False], ids=["settled", "authorised"])


def _as(actor) -> Principal:
    return Principal(user_id=actor.user_id, role=actor.role, token_id=0, via="session")


@BOTH_PATHS
def test_a_30_percent_refund_previews_what_applying_it_books(app, client, customer, cm, confirmed):
    job_id, _member, ticket = disputed_job(app, client, customer, cm, confirmed=confirmed)
    shown = preview(actor=_as(cm), ticket_id=ticket["id"], kind="split", customer_share_percent=30)
    assert shown["refund_amount"] == 3600
    assert shown["customer_gets_back"] == 3600 and shown["customer_pays"] == PRICE - 3600
    assert shown["member_earning_before"] == EARNING
    assert shown["platform_commission_before"] == COMMISSION
    assert shown["commission_estimate"] is not confirmed
    resolution = proposed(client, cm, ticket["id"], kind="split", customer_share_percent=30)
    response = staff_act(client, cm, ticket["id"], resolution["id"], "impose")
    assert response.status_code == 200, response.get_json()
    drain_background(app)
    (refund,) = refunds(job_id)
    assert refund.amount == shown["refund_amount"]
    assert refund.member_part == shown["member_gives_up"] == 2880
    assert refund.commission_part == COMMISSION - shown["platform_commission_after"] == 720
    assert shown["member_earning_after"] == EARNING - 2880


def test_goodwill_leaves_the_split_alone(app, client, customer, cm):
    _job, _member, ticket = disputed_job(app, client, customer, cm, confirmed=True)
    shown = preview(actor=_as(cm), ticket_id=ticket["id"], kind="goodwill", goodwill_amount=2000)
    assert (shown["customer_gets_back"], shown["member_gives_up"]) == (2000, 0)
    assert shown["platform_goodwill_cost"] == 2000
    assert shown["platform_commission_after"] == COMMISSION


def test_a_full_refund_of_a_job_never_confirmed_cancels_it(app, client, customer, cm):
    _job, _member, ticket = disputed_job(app, client, customer, cm, confirmed=False)
    shown = preview(actor=_as(cm), ticket_id=ticket["id"], kind="full_refund")
    assert shown["cancels_job"] is True and shown["customer_pays"] == 0


def test_a_preview_is_refused_as_the_proposal_would_be(app, client, customer, cm):
    _job, _member, ticket = disputed_job(app, client, customer, cm, confirmed=True)
    with pytest.raises(DomainError) as refused:
        preview(
            actor=_as(cm), ticket_id=ticket["id"], kind="partial_refund", refund_amount=PRICE + 1
        )
    assert refused.value.status == 422 and "refund_amount" in str(refused.value.errors)
    with pytest.raises(Forbidden):
        preview(actor=_as(customer), ticket_id=ticket["id"], kind="release")
