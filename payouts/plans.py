"""Commission plans as data: which plan a member is on when, and what a job's commission is.

Kinds of plan:
- percentage: the platform keeps percent_bp of each job's price (the default "standard" plan:
  2000 bp = 20 %).
- flat_fee: a monthly fee (monthly_fee_amount in fee_currency, billed by the monthly-fee job and
  never converted) plus a zero or reduced percent_bp per job.
- fixed_fee: fixed_fee_amount per job in fee_currency, never more than the job's price.

Rules, in one place (commission_for):
- commission = price × bp / 10 000 half up (payouts.rounding); the member earns price − it.
- A perk (MemberCommissionPerk, written by programmes) takes discount_bp percentage points off
  the rate, never below 0; of several valid at once the largest applies. Perks lower
  percentage commissions only: a fixed fee is a price agreed per job.
- EUR and CHF are never mixed: a fixed fee applies only to jobs in its own currency. A job in
  another currency is charged the standard plan's percentage (perks apply) and the breakdown
  says so (rule "standard_percentage_other_currency").
- No assignment at a moment means the standard plan: the stored "standard" plan when there is
  an active one, else the built-in 20 % (so nothing needs seeding; sync_default_plans stores it).
- Amounts of a plan in use (ever assigned, or the standard plan) never change: create a new plan
  and assign it. Assignments never overlap; a new one closes the open-ended current one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import NotFound, field_error
from crowd.core.i18n import _
from crowd.extensions import db
from members.access import own_member, visible_member
from members.models import Member
from organisations.service import lock_organisation
from payouts.errors import (
    PlanAssignmentOverlap,
    PlanExists,
    PlanInactive,
    PlanInUse,
    StandardPlanStays,
)
from payouts.models.plans import (
    CommissionPlan,
    MemberCommissionPerk,
    MemberPlan,
    OrganisationPlan,
)
from payouts.rounding import split

CURRENCIES = ("EUR", "CHF")
STANDARD_CODE = "standard"
STANDARD_PERCENT_BP = 2000
EXAMPLE_PRICE = 10_000  # 100.00 in minor units, for "what would a job cost me"
# Clock skew allowed for an assignment that starts "now".
PAST_TOLERANCE = timedelta(minutes=5)
AMOUNT_FIELDS = ("kind", "percent_bp", "monthly_fee_amount", "fixed_fee_amount", "fee_currency")


@dataclass(frozen=True)
class Commission:
    """What the platform keeps of one job and why; amount + earning == the price, exactly."""

    amount: int
    earning: int
    currency: str
    plan_code: str
    plan_kind: str
    percent_bp: int  # the rate applied after the discount (0 for a fixed fee)
    discount_bp: int
    breakdown: dict = field(default_factory=dict)


def builtin_standard_plan() -> CommissionPlan:
    """The default plan as an unsaved object: 20 % per job."""
    return CommissionPlan(
        code=STANDARD_CODE,
        name="Standard 20 %",
        kind="percentage",
        percent_bp=STANDARD_PERCENT_BP,
        active=True,
    )


def sync_default_plans() -> CommissionPlan:
    """Store the standard plan if it is missing (idempotent; the caller commits)."""
    plan = db.session.scalar(select(CommissionPlan).where(CommissionPlan.code == STANDARD_CODE))
    if plan is None:
        plan = builtin_standard_plan()
        db.session.add(plan)
        db.session.flush()
    return plan


def standard_plan() -> CommissionPlan:
    """The stored active standard plan, else the built-in one."""
    plan = db.session.scalar(
        select(CommissionPlan).where(
            CommissionPlan.code == STANDARD_CODE, CommissionPlan.active.is_(True)
        )
    )
    return plan or builtin_standard_plan()


# --- which plan, which perk -----------------------------------------------------------------


def assignment_at(member_id: int, at: datetime) -> MemberPlan | None:
    """The member's plan assignment covering instant `at`, if any."""
    return db.session.scalar(
        select(MemberPlan)
        .where(
            MemberPlan.member_id == member_id,
            MemberPlan.effective_from <= at,
            or_(MemberPlan.effective_to.is_(None), MemberPlan.effective_to > at),
        )
        .order_by(MemberPlan.effective_from.desc())
        .limit(1)
    )


def plan_for(member_id: int, at: datetime) -> CommissionPlan:
    """The plan a member is on at `at`: their assignment, else the standard plan."""
    assignment = assignment_at(member_id, at)
    return assignment.plan if assignment is not None else standard_plan()


def on_plan(code: str, at: datetime | None = None) -> ColumnElement[bool]:
    """SQL: the member (a query over Member) is on plan `code` at `at` (now). Assignments never
    overlap, so: an assignment to it covers `at`; for the standard plan, no assignment to
    another plan does (members without one are on it). Both are one pass over the current
    assignments (a hashed subquery), not a lookup per member."""
    at = at or utcnow()
    current = (
        select(MemberPlan.member_id)
        .join(CommissionPlan, CommissionPlan.id == MemberPlan.plan_id)
        .where(
            MemberPlan.effective_from <= at,
            or_(MemberPlan.effective_to.is_(None), MemberPlan.effective_to > at),
        )
    )
    if code == STANDARD_CODE:
        return Member.id.not_in(current.where(CommissionPlan.code != code))
    return Member.id.in_(current.where(CommissionPlan.code == code))


def perk_for(member_id: int, at: datetime) -> MemberCommissionPerk | None:
    """The member's largest commission perk valid at `at`."""
    return db.session.scalar(
        select(MemberCommissionPerk)
        .where(
            MemberCommissionPerk.member_id == member_id,
            MemberCommissionPerk.valid_from <= at,
            or_(MemberCommissionPerk.valid_to.is_(None), MemberCommissionPerk.valid_to > at),
        )
        .order_by(MemberCommissionPerk.discount_bp.desc(), MemberCommissionPerk.id)
        .limit(1)
    )


def grant_perk(
    *,
    member_id: int,
    discount_bp: int,
    reason: str,
    valid_from: datetime,
    valid_to: datetime | None = None,
) -> MemberCommissionPerk:
    """Give a member percentage points off their commission for a period (for programmes)."""
    if isinstance(discount_bp, bool) or not isinstance(discount_bp, int):
        raise field_error("discount_bp", _("must be an integer of basis points"))
    if not 1 <= discount_bp <= 10_000:
        raise field_error("discount_bp", _("must be between 1 and 10000"))
    if not reason or len(reason) > 200:
        raise field_error("reason", _("must be 1 to 200 characters"))
    if valid_to is not None and valid_to <= valid_from:
        raise field_error("valid_to", _("must be after valid_from"))
    if db.session.get(Member, member_id) is None:
        raise NotFound(_("No such crowd member."))
    perk = MemberCommissionPerk(
        member_id=member_id,
        discount_bp=discount_bp,
        reason=reason,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    db.session.add(perk)
    db.session.flush()
    return perk


# --- the commission of a job ----------------------------------------------------------------


def organisation_plan(organisation_id: int) -> OrganisationPlan | None:
    """A provider company's plan row, if staff put it on one (else it is on the standard plan)."""
    return db.session.scalar(
        select(OrganisationPlan).where(OrganisationPlan.organisation_id == organisation_id)
    )


def commission_for(
    job_price: int,
    currency: str,
    member_id: int,
    at: datetime,
    *,
    organisation_id: int | None = None,
) -> Commission:
    """The platform's share of a job of `job_price` in `currency` done by the member at `at`.

    A job done for a provider company (`organisation_id`) follows the company's plan (its
    OrganisationPlan, else the standard plan), not the technician's own: the company is the
    party paid. The technician's perks are theirs and do not lower a company's commission."""
    if isinstance(job_price, bool) or not isinstance(job_price, int) or job_price < 0:
        raise field_error("price", _("must be a non-negative integer of minor units"))
    if currency not in CURRENCIES:
        raise field_error("currency", _("must be one of {value}", value=", ".join(CURRENCIES)))
    if organisation_id is not None:
        company = organisation_plan(organisation_id)
        plan = company.plan if company is not None else standard_plan()
        assignment, cause = None, "company"
        breakdown = {
            "price": job_price,
            "currency": currency,
            "plan": plan.code,
            "plan_name": plan.name,
            "plan_since": company.updated_at.isoformat() if company else None,
            "plan_cause": cause,
            "plan_reason": REASONS[cause],
            "organisation_id": organisation_id,
        }
    else:
        assignment = assignment_at(member_id, at)
        plan = assignment.plan if assignment is not None else standard_plan()
        cause = _cause(assignment, member_id)
        breakdown = {
            "price": job_price,
            "currency": currency,
            "plan": plan.code,
            "plan_name": plan.name,
            "plan_since": assignment.effective_from.isoformat() if assignment else None,
            "plan_cause": cause,
            "plan_reason": (assignment.reason if assignment else None) or REASONS.get(cause, ""),
        }
    if plan.kind == "fixed_fee" and plan.fee_currency == currency:
        amount = min(plan.fixed_fee_amount, job_price)
        breakdown |= {"rule": "fixed_fee", "fixed_fee": plan.fixed_fee_amount}
        return Commission(
            amount, job_price - amount, currency, plan.code, plan.kind, 0, 0, breakdown
        )
    if plan.kind == "fixed_fee":
        fallback = standard_plan()
        base_bp = fallback.percent_bp
        breakdown |= {
            "rule": "standard_percentage_other_currency",
            "fee_currency": plan.fee_currency,
            "fallback_plan": fallback.code,
        }
    else:
        base_bp = plan.percent_bp
        breakdown["rule"] = "percentage"
    perk = perk_for(member_id, at) if organisation_id is None else None
    discount = min(perk.discount_bp, base_bp) if perk else 0
    applied = base_bp - discount
    amount, earning = split(job_price, applied)
    breakdown |= {"base_bp": base_bp, "discount_bp": discount, "applied_bp": applied}
    if perk:
        breakdown |= {"perk_id": perk.id, "perk_reason": perk.reason}
    return Commission(amount, earning, currency, plan.code, plan.kind, applied, discount, breakdown)


def _cause(assignment: MemberPlan | None, member_id: int) -> str:
    """How the member came to be on the plan: standard, promotion/demotion/admission (their
    level), chosen (by the member), assigned (by staff)."""
    if assignment is None:
        return "standard"
    if assignment.cause:
        return assignment.cause
    member_user = db.session.scalar(select(Member.user_id).where(Member.id == member_id))
    if assignment.assigned_by_id is not None and assignment.assigned_by_id == member_user:
        return "chosen"
    return "assigned"


REASONS = {
    "standard": "every member without another plan is on the standard plan",
    "chosen": "you chose this plan",
    "assigned": "the platform put you on this plan",
    "promotion": "your promotion gave you this plan",
    "demotion": "your new level does not offer your previous plan",
    "admission": "members of your level start on this plan",
    "level_rules": "your level's plans changed",
    "company": "jobs done for a provider company follow the company's plan",
}


# --- managing plans (admins) ----------------------------------------------------------------


def _plan_by_code(code: str, *, lock: str | None = None) -> CommissionPlan | None:
    """The plan with `code`; lock "update" to change it, "share" to rely on it unchanged."""
    query = select(CommissionPlan).where(CommissionPlan.code == code)
    if lock:
        share = lock == "share"
        query = query.with_for_update(read=share, key_share=not share)
        query = query.execution_options(populate_existing=True)
    return db.session.scalar(query)


def list_plans(*, actor: Principal, active: bool | None = None) -> list[CommissionPlan]:
    """Every plan a member can be on (or only active or inactive ones), by code.

    The standard plan is among them even before it is stored: members without an assignment
    are on it (the built-in 20 %, shown without `created_at`)."""
    query = select(CommissionPlan).order_by(CommissionPlan.code)
    if active is not None:
        query = query.where(CommissionPlan.active.is_(active))
    found = list(db.session.scalars(query))
    if active is not False and _plan_by_code(STANDARD_CODE) is None:
        found = sorted([*found, builtin_standard_plan()], key=lambda plan: plan.code)
    return found


def _check_amounts(code: str, values: dict) -> None:
    """The amounts a plan of its kind must carry, naming the field at fault."""
    kind = values["kind"]
    if code == STANDARD_CODE and kind != "percentage":
        raise field_error("kind", _("the standard plan is a percentage plan"))
    fee_field = {"flat_fee": "monthly_fee_amount", "fixed_fee": "fixed_fee_amount"}.get(kind)
    for name in ("monthly_fee_amount", "fixed_fee_amount"):
        if name == fee_field and values.get(name) is None:
            raise field_error(name, _("required for a {kind} plan", kind=kind))
        if name != fee_field and values.get(name) is not None:
            raise field_error(name, _("not part of a {kind} plan", kind=kind))
    if fee_field and values.get("fee_currency") is None:
        raise field_error("fee_currency", _("required for a {kind} plan", kind=kind))
    if not fee_field and values.get("fee_currency") is not None:
        raise field_error("fee_currency", _("only fee plans have a fee currency"))
    if kind == "percentage" and values.get("percent_bp") is None:
        raise field_error("percent_bp", _("required for a percentage plan"))
    if kind == "fixed_fee" and values.get("percent_bp"):
        raise field_error("percent_bp", _("a fixed-fee plan charges no percentage"))


def create_plan(*, actor: Principal, code: str, name: str, kind: str, **amounts) -> CommissionPlan:
    """A new plan; its code is unique (409 if taken)."""
    values = {"kind": kind, **amounts}
    _check_amounts(code, values)
    if _plan_by_code(code) is not None:
        raise PlanExists(_("A plan with code {code!r} exists already.", code=code), state="exists")
    values["percent_bp"] = values.get("percent_bp") or 0
    plan = CommissionPlan(code=code, name=name, active=True, **values)
    db.session.add(plan)
    db.session.flush()
    return plan


def plan_in_use(plan: CommissionPlan) -> bool:
    """Whether members' money depends on the plan: ever assigned, or the standard fallback."""
    if plan.code == STANDARD_CODE:
        return True
    query = select(MemberPlan.id).where(MemberPlan.plan_id == plan.id).limit(1)
    if db.session.scalar(query) is not None:
        return True
    company = select(OrganisationPlan.id).where(OrganisationPlan.plan_id == plan.id).limit(1)
    return db.session.scalar(company) is not None


def assign_organisation_plan(
    *, actor: Principal, organisation_id: int, plan_code: str
) -> OrganisationPlan:
    """Put a provider company on a plan from now (admins): the commission of the jobs its
    technicians do from now on, and its monthly fee. Jobs settled before keep theirs."""
    # The company row first (the lock order), then a shared lock on the plan as assign_plan.
    if lock_organisation(organisation_id) is None:
        raise NotFound(_("No such company."))
    plan = _plan_by_code(plan_code, lock="share")
    if plan is None:
        raise field_error("plan_code", _("no such plan"))
    if not plan.active:
        raise PlanInactive(
            _("Plan {plan_code!r} is inactive.", plan_code=plan.code), state="inactive"
        )
    if plan.id is None:  # the built-in standard plan, stored to be referred to
        plan = sync_default_plans()
    row = organisation_plan(organisation_id)
    now = utcnow()
    if row is None:
        row = OrganisationPlan(organisation_id=organisation_id, created_at=now)
        db.session.add(row)
    row.plan_id, row.plan = plan.id, plan
    row.assigned_by_id, row.updated_at = actor.user_id, now
    db.session.flush()
    return row


def update_plan(*, actor: Principal, code: str, **changes) -> CommissionPlan:
    """Rename, (de)activate, or change the amounts of a plan no member depends on yet."""
    plan = _plan_by_code(code, lock="update")
    if plan is None and code == STANDARD_CODE:
        plan = sync_default_plans()  # the built-in plan GET /plans lists: stored to change it
    if plan is None:
        raise NotFound(_("No such plan."))
    amounts = {k: v for k, v in changes.items() if k in AMOUNT_FIELDS}
    if amounts:
        if plan_in_use(plan):
            raise PlanInUse(
                _("The amounts of a plan in use never change; create a new plan and assign it."),
                state="in_use",
            )
        merged = {name: getattr(plan, name) for name in AMOUNT_FIELDS} | amounts
        if "kind" in amounts:
            # A new kind starts from its own amounts, not the old kind's.
            merged = {"kind": amounts["kind"]} | {k: v for k, v in amounts.items() if k != "kind"}
        _check_amounts(plan.code, merged)
        merged["percent_bp"] = merged.get("percent_bp") or 0
        for name in AMOUNT_FIELDS:
            setattr(plan, name, merged.get(name))
    if changes.get("active") is False and plan.code == STANDARD_CODE:
        raise StandardPlanStays(
            _("The standard plan is everyone's default; it stays on."), state="standard"
        )
    for name in ("name", "active"):
        if changes.get(name) is not None:
            setattr(plan, name, changes[name])
    db.session.flush()
    return plan


# --- assignments ----------------------------------------------------------------------------


def assign_plan(
    *,
    actor: Principal,
    member_id: int,
    plan_code: str,
    effective_from: datetime | None = None,
    effective_to: datetime | None = None,
) -> MemberPlan:
    """Put a member on a plan from `effective_from` (default now; never in the past).

    The open-ended current assignment ends where the new one starts; any other overlap —
    a later change already scheduled, a bounded period — is refused with 409.
    """
    now = utcnow()
    start = effective_from or now
    if start < now - PAST_TOLERANCE:
        raise field_error("effective_from", _("must not be in the past: history is not rewritten"))
    if effective_to is not None and effective_to <= start:
        raise field_error("effective_to", _("must be after effective_from"))
    # The member row lock makes one member's assignments go one at a time.
    member = visible_member(actor, member_id, lock=True)
    # A shared lock: an admin changing the plan's amounts or deactivating it waits for this
    # assignment, then sees the plan in use.
    plan = _plan_by_code(plan_code, lock="share")
    if plan is None:
        raise field_error("plan_code", _("no such plan"))
    return _assign(member.id, plan, start, effective_to, assigned_by_id=actor.user_id)


def follow_level(
    *,
    member_id: int,
    plan_code: str,
    cause: str,
    level_change_id: int | None = None,
    reason: str | None = None,
) -> MemberPlan | None:
    """Move a member to `plan_code` from now because their level changed (`cause`: promotion,
    demotion, admission or level_rules; `reason` as the member reads it); the caller has
    locked the member row. None when already on it."""
    now = utcnow()
    if plan_for(member_id, now).code == plan_code:
        return None
    plan = _plan_by_code(plan_code, lock="share")
    if plan is None and plan_code == STANDARD_CODE:
        plan = sync_default_plans()
    if plan is None:
        raise NotFound(_("No commission plan {plan_code!r}.", plan_code=plan_code))
    # A change of plan someone scheduled later stays; the level's plan runs until it.
    later = db.session.scalar(
        select(func.min(MemberPlan.effective_from)).where(
            MemberPlan.member_id == member_id, MemberPlan.effective_from > now
        )
    )
    return _assign(
        member_id,
        plan,
        now,
        later,
        cause=cause,
        level_change_id=level_change_id,
        reason=reason,
        strict=False,
    )


def list_price(plan: CommissionPlan, currency: str = "EUR") -> int:
    """What the plan keeps of a 100.00 job in `currency`, perks and monthly fees aside: how
    levels compare plans ("a cheaper plan")."""
    if plan.kind == "fixed_fee" and plan.fee_currency == currency:
        return min(plan.fixed_fee_amount, EXAMPLE_PRICE)
    bp = standard_plan().percent_bp if plan.kind == "fixed_fee" else plan.percent_bp
    return split(EXAMPLE_PRICE, bp)[0]


def _assign(
    member_id: int,
    plan: CommissionPlan,
    start: datetime,
    end: datetime | None,
    *,
    assigned_by_id: int | None = None,
    cause: str | None = None,
    level_change_id: int | None = None,
    reason: str | None = None,
    strict: bool = True,
) -> MemberPlan:
    if not plan.active:
        raise PlanInactive(
            _("Plan {plan_code!r} is inactive.", plan_code=plan.code), state="inactive"
        )
    assignments = db.session.scalars(
        select(MemberPlan).where(MemberPlan.member_id == member_id)
    ).all()
    current = None
    for other in assignments:
        if other.effective_to is None and other.effective_from < start:
            current = other
        elif _overlaps(other, start, end):
            if not strict and other.effective_to is not None and other.effective_from < start:
                other.effective_to = start  # a bounded period the level change cuts short
                continue
            raise PlanAssignmentOverlap(
                _(
                    "Overlaps the assignment from {value} ({plan_code}).",
                    value=other.effective_from.isoformat(),
                    plan_code=other.plan.code,
                ),
                state="overlap",
                assignment_id=other.id,
            )
    if current is not None:
        # After a bounded new period the member is on the standard plan, not the old one.
        current.effective_to = start
    assignment = MemberPlan(
        member_id=member_id,
        plan_id=plan.id,
        effective_from=start,
        effective_to=end,
        assigned_by_id=assigned_by_id,
        cause=cause,
        level_change_id=level_change_id,
        reason=reason[:200] if reason else None,
    )
    db.session.add(assignment)
    db.session.flush()
    return assignment


def _overlaps(other: MemberPlan, start: datetime, end: datetime | None) -> bool:
    other_end = other.effective_to
    starts_before_other_ends = other_end is None or start < other_end
    ends_after_other_starts = end is None or end > other.effective_from
    return starts_before_other_ends and ends_after_other_starts


def member_plans(*, actor: Principal, member_id: int) -> dict:
    """A member's plan now, their assignments (newest first) and perks."""
    member = visible_member(actor, member_id)
    return _plan_overview(member)


def my_plan(*, actor: Principal) -> dict:
    """The calling member's plan now, perks, and what a 100.00 job would cost in each currency."""
    member = own_member(actor)
    overview = _plan_overview(member)
    now = utcnow()
    overview["examples"] = [
        commission_for(EXAMPLE_PRICE, currency, member.id, now) for currency in CURRENCIES
    ]
    return overview


def _plan_overview(member: Member) -> dict:
    now = utcnow()
    assignments = db.session.scalars(
        select(MemberPlan)
        .where(MemberPlan.member_id == member.id)
        .order_by(MemberPlan.effective_from.desc())
    ).all()
    perks = db.session.scalars(
        select(MemberCommissionPerk)
        .where(MemberCommissionPerk.member_id == member.id)
        .order_by(MemberCommissionPerk.valid_from.desc(), MemberCommissionPerk.id.desc())
    ).all()
    return {
        "member_id": member.id,
        "plan": plan_for(member.id, now),
        "perk": perk_for(member.id, now),
        "assignments": assignments,
        "perks": perks,
    }
