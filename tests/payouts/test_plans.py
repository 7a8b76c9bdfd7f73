"""Commission plans as data: which plan applies when, perks, fees, and currencies never mixed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import Conflict, NotFound, Unprocessable
from crowd.extensions import db
from payouts import plans
from payouts.models.plans import CommissionPlan, MemberPlan
from payouts.plans import commission_for, grant_perk, plan_for


@pytest.fixture
def boss(admin) -> Principal:
    return Principal(user_id=admin.user_id, role="admin", token_id=0, via="session")


def _plan(boss, code, kind="percentage", **amounts) -> CommissionPlan:
    return plans.create_plan(actor=boss, code=code, name=code.title(), kind=kind, **amounts)


def _assign(boss, member_id, code, start=None, end=None) -> MemberPlan:
    return plans.assign_plan(
        actor=boss, member_id=member_id, plan_code=code, effective_from=start, effective_to=end
    )


# --- the default ----------------------------------------------------------------------------


def test_without_any_plan_stored_a_member_pays_the_built_in_20_percent(member):
    # Only the default ladder's reduced plans are stored (by the migration), not "standard".
    stored = db.session.scalars(select(CommissionPlan.code)).all()
    assert "standard" not in stored
    plan = plan_for(member.profile_id, utcnow())
    assert (plan.code, plan.kind, plan.percent_bp) == ("standard", "percentage", 2_000)
    commission = commission_for(10_000, "EUR", member.profile_id, utcnow())
    assert (commission.amount, commission.earning) == (2_000, 8_000)
    assert commission.plan_code == "standard"
    assert commission.breakdown["rule"] == "percentage"


def test_sync_default_plans_stores_the_standard_plan_once():
    first = plans.sync_default_plans()
    again = plans.sync_default_plans()
    assert first.id == again.id
    assert (first.code, first.kind, first.percent_bp, first.active) == (
        "standard",
        "percentage",
        2_000,
        True,
    )
    codes = db.session.scalars(select(CommissionPlan.code)).all()
    assert sorted(codes) == ["expert-10", "senior-15", "standard"]  # the ladder's + standard


def test_a_stored_standard_plan_is_the_fallback(boss, member):
    _plan(boss, "standard", percent_bp=1_800)
    assert commission_for(10_000, "EUR", member.profile_id, utcnow()).amount == 1_800


# --- assignments over time ------------------------------------------------------------------


def test_a_plan_applies_from_its_effective_date(boss, member):
    _plan(boss, "pro15", percent_bp=1_500)
    start = utcnow() + timedelta(days=3)
    _assign(boss, member.profile_id, "pro15", start)

    assert plan_for(member.profile_id, start - timedelta(seconds=1)).code == "standard"
    assert plan_for(member.profile_id, start).code == "pro15"
    assert commission_for(10_000, "EUR", member.profile_id, start).amount == 1_500


def test_a_new_assignment_ends_the_current_one(boss, member):
    _plan(boss, "pro15", percent_bp=1_500)
    _plan(boss, "pro10", percent_bp=1_000)
    first = _assign(boss, member.profile_id, "pro15")
    switch = utcnow() + timedelta(days=30)
    second = _assign(boss, member.profile_id, "pro10", switch)

    assert first.effective_to == switch
    assert second.effective_to is None
    assert plan_for(member.profile_id, switch - timedelta(seconds=1)).code == "pro15"
    assert plan_for(member.profile_id, switch + timedelta(days=400)).code == "pro10"


def test_after_a_bounded_assignment_the_standard_plan_applies(boss, member):
    _plan(boss, "trial", percent_bp=0)
    start = utcnow() + timedelta(hours=1)
    end = start + timedelta(days=30)
    _assign(boss, member.profile_id, "trial", start, end)
    assert plan_for(member.profile_id, end - timedelta(seconds=1)).code == "trial"
    assert plan_for(member.profile_id, end).code == "standard"


@pytest.mark.parametrize(
    "start_days, end_days",
    [
        (10, None),  # starts exactly where the scheduled one starts
        (5, 15),  # its end reaches into the scheduled one
        (15, 16),  # inside the scheduled one (10–30)
        (0, None),  # open-ended from now, over the scheduled one
        (20, None),  # open-ended from inside it
    ],
)
def test_overlapping_a_scheduled_assignment_gets_409(boss, member, start_days, end_days):
    _plan(boss, "pro15", percent_bp=1_500)
    now = utcnow()
    scheduled = _assign(
        boss, member.profile_id, "pro15", now + timedelta(days=10), now + timedelta(days=30)
    )
    end = now + timedelta(days=end_days) if end_days else None
    with pytest.raises(Conflict) as refused:
        _assign(boss, member.profile_id, "pro15", now + timedelta(days=start_days), end)
    assert refused.value.extra == {"state": "overlap", "assignment_id": scheduled.id}


def test_an_assignment_may_follow_a_bounded_one(boss, member):
    _plan(boss, "trial", percent_bp=0)
    _plan(boss, "pro15", percent_bp=1_500)
    now = utcnow()
    _assign(boss, member.profile_id, "trial", now, now + timedelta(days=30))
    _assign(boss, member.profile_id, "pro15", now + timedelta(days=30))
    assert plan_for(member.profile_id, now + timedelta(days=31)).code == "pro15"


def test_assignments_are_never_backdated(boss, member):
    _plan(boss, "pro15", percent_bp=1_500)
    with pytest.raises(Unprocessable) as refused:
        _assign(boss, member.profile_id, "pro15", utcnow() - timedelta(days=1))
    assert "effective_from" in refused.value.errors["json"]


def test_an_unknown_or_inactive_plan_or_member_is_refused(boss, member):
    with pytest.raises(Unprocessable):
        _assign(boss, member.profile_id, "nope")
    _plan(boss, "old", percent_bp=1_500)
    plans.update_plan(actor=boss, code="old", active=False)
    with pytest.raises(Conflict) as refused:
        _assign(boss, member.profile_id, "old")
    assert refused.value.extra["state"] == "inactive"
    with pytest.raises(NotFound):
        _assign(boss, 999_999, "standard")


# --- kinds of plan --------------------------------------------------------------------------


def test_a_flat_fee_plan_charges_its_reduced_percentage_and_a_monthly_fee(boss, member):
    _plan(
        boss,
        "flat29",
        kind="flat_fee",
        percent_bp=500,
        monthly_fee_amount=2_900,
        fee_currency="EUR",
    )
    _assign(boss, member.profile_id, "flat29")
    now = utcnow()
    assert commission_for(10_000, "EUR", member.profile_id, now).amount == 500
    # A percentage mixes no currencies: a CHF job pays 5 % in CHF; the fee stays in EUR.
    chf = commission_for(10_000, "CHF", member.profile_id, now)
    assert (chf.amount, chf.currency, chf.plan_kind) == (500, "CHF", "flat_fee")


def test_a_fixed_fee_plan_charges_its_fee_never_more_than_the_price(boss, member):
    _plan(boss, "fix5", kind="fixed_fee", fixed_fee_amount=500, fee_currency="CHF")
    _assign(boss, member.profile_id, "fix5")
    now = utcnow()
    regular = commission_for(12_000, "CHF", member.profile_id, now)
    assert (regular.amount, regular.earning, regular.percent_bp) == (500, 11_500, 0)
    assert regular.breakdown["rule"] == "fixed_fee"
    tiny = commission_for(300, "CHF", member.profile_id, now)
    assert (tiny.amount, tiny.earning) == (300, 0)


def test_a_fixed_fee_in_another_currency_falls_back_to_the_standard_percentage(boss, member):
    _plan(boss, "fix5", kind="fixed_fee", fixed_fee_amount=500, fee_currency="CHF")
    _assign(boss, member.profile_id, "fix5")
    commission = commission_for(12_345, "EUR", member.profile_id, utcnow())
    assert (commission.amount, commission.earning, commission.currency) == (2_469, 9_876, "EUR")
    assert commission.plan_code == "fix5"
    assert commission.breakdown["rule"] == "standard_percentage_other_currency"
    assert commission.breakdown["fee_currency"] == "CHF"


@pytest.mark.parametrize(
    "price, currency, expected",
    [(12_345, "EUR", 2_469), (5, "CHF", 1), (1, "EUR", 0), (0, "CHF", 0)],
)
def test_commission_rounds_half_up_and_the_split_sums_exactly(member, price, currency, expected):
    commission = commission_for(price, currency, member.profile_id, utcnow())
    assert commission.amount == expected
    assert commission.amount + commission.earning == price


@pytest.mark.parametrize("price, currency", [(-1, "EUR"), (10.5, "EUR"), (100, "USD")])
def test_commission_of_a_malformed_price_or_currency_gets_422(member, price, currency):
    with pytest.raises(Unprocessable):
        commission_for(price, currency, member.profile_id, utcnow())


# --- perks ----------------------------------------------------------------------------------


def test_a_perk_lowers_the_commission(member):
    now = utcnow()
    grant_perk(member_id=member.profile_id, discount_bp=500, reason="top performer", valid_from=now)
    commission = commission_for(10_000, "EUR", member.profile_id, now)
    assert (commission.amount, commission.percent_bp, commission.discount_bp) == (1_500, 1_500, 500)
    assert commission.breakdown["perk_reason"] == "top performer"
    assert commission.breakdown["base_bp"] == 2_000


def test_of_several_perks_the_largest_applies_and_expired_ones_none(member):
    now = utcnow()
    grant_perk(member_id=member.profile_id, discount_bp=300, reason="mentor", valid_from=now)
    grant_perk(member_id=member.profile_id, discount_bp=800, reason="elite", valid_from=now)
    grant_perk(
        member_id=member.profile_id,
        discount_bp=1_500,
        reason="expired promo",
        valid_from=now - timedelta(days=60),
        valid_to=now - timedelta(days=30),
    )
    assert commission_for(10_000, "EUR", member.profile_id, now).amount == 1_200
    assert commission_for(10_000, "EUR", member.profile_id, now - timedelta(days=45)).amount == 500


def test_a_perk_never_takes_the_commission_below_zero(boss, member):
    _plan(boss, "low", percent_bp=300)
    _assign(boss, member.profile_id, "low")
    grant_perk(member_id=member.profile_id, discount_bp=500, reason="elite", valid_from=utcnow())
    commission = commission_for(10_000, "EUR", member.profile_id, utcnow())
    assert (commission.amount, commission.discount_bp, commission.earning) == (0, 300, 10_000)


def test_a_perk_does_not_lower_a_fixed_fee(boss, member):
    _plan(boss, "fix5", kind="fixed_fee", fixed_fee_amount=500, fee_currency="EUR")
    _assign(boss, member.profile_id, "fix5")
    grant_perk(member_id=member.profile_id, discount_bp=500, reason="elite", valid_from=utcnow())
    assert commission_for(10_000, "EUR", member.profile_id, utcnow()).amount == 500


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"discount_bp": 0}, "discount_bp"),
        ({"discount_bp": 10_001}, "discount_bp"),
        ({"discount_bp": 1.5}, "discount_bp"),
        ({"reason": ""}, "reason"),
        ({"valid_to": "same"}, "valid_to"),
    ],
)
def test_malformed_perks_get_422(member, overrides, field):
    now = utcnow()
    values = {"discount_bp": 500, "reason": "x", "valid_from": now, **overrides}
    if values.get("valid_to") == "same":
        values["valid_to"] = now
    with pytest.raises(Unprocessable) as refused:
        grant_perk(member_id=member.profile_id, **values)
    assert field in refused.value.errors["json"]
