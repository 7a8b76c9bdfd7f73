"""The application checklist as data: each step's SQL predicate and its state for one member.

Like jobs.matching.eligibility.REQUIREMENTS, every Step in STEPS has a name, a summary, an SQL
predicate `done(ctx)` over `members` joined with their `applications` row (true when the step
is done or not required, so the review queue filters by step — or for readiness — in ONE
query), and a Python `state(facts, ctx)` giving the state and details shown to the applicant.
The two are written side by side and tested against each other, so they cannot drift.

States: pending, submitted, scheduled, done, failed, not_required. An application is *ready*
when every step is done or not required.

Documents: a kind group is done when any of its checks is verified and not expired — a
verification is not undone by a later submission; otherwise the newest check decides
(submitted → submitted, rejected or expired → failed, none → pending). With
ONBOARDING_IDENTITY_IMAGES_REQUIRED an identity check counts only with its front and selfie
images attached (or deleted by retention after its decision); a check without them is pending,
its details naming the `missing_images`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true
from sqlalchemy.orm import selectinload

from crowd.core.db import utcnow
from crowd.core.files.models import StoredFile
from crowd.extensions import db
from members.models import AvailabilitySlot, Member, MemberBillingProfile, MemberSkill
from onboarding.config import onboarding_rules
from onboarding.models import (
    Application,
    DocumentCheck,
    HouseRulesAcceptance,
    HouseRulesVersion,
    IntroCall,
    SelfBillingAgreement,
    SkillTest,
    SkillTestAttempt,
)
from onboarding.self_billing import current_decisions
from onboarding.skill_tests.standing import SkillStanding, standings_for, test_available
from payouts.models.payments import ConnectedAccount

STATES = ("pending", "submitted", "scheduled", "done", "failed", "not_required")
FINISHED = frozenset({"done", "not_required"})

# What a complete profile has; skills and availability are checked as rows.
PROFILE_FIELDS = ("display_name", "phone", "postcode", "city", "country", "lat", "lon")
IDENTITY_KINDS = ("identity",)
# An identity check's images (DocumentCheck.<slot>_file_id), and those it needs when
# ONBOARDING_IDENTITY_IMAGES_REQUIRED is on.
IMAGE_SLOTS = ("front", "back", "selfie")
REQUIRED_IMAGES = ("front", "selfie")
TRADE_KINDS = ("trade_certificate", "business_registration")
INTRO_CALL_STATES = {
    "scheduled": "scheduled",
    "passed": "done",
    "failed": "failed",
    "no_show": "failed",
    "cancelled": "pending",
}


@dataclass(frozen=True)
class StepContext:
    """What every predicate and state compares against: today, the current house rules, the
    skills whose test can be taken now (read once, so no predicate joins the tests) and
    whether the billing step is required (ONBOARDING_BILLING_REQUIRED) and an identity
    check's images (ONBOARDING_IDENTITY_IMAGES_REQUIRED)."""

    now: datetime
    house_rules: HouseRulesVersion | None
    tested_skill_ids: tuple[int, ...] = ()
    billing_required: bool = False
    identity_images_required: bool = False

    @property
    def today(self) -> date:
        return self.now.date()


def step_context(now: datetime | None = None) -> StepContext:
    current = db.session.scalar(
        select(HouseRulesVersion).order_by(HouseRulesVersion.version.desc()).limit(1)
    )
    tested = db.session.scalars(
        select(SkillTest.skill_id).distinct().where(test_available()).order_by(SkillTest.skill_id)
    )
    rules = onboarding_rules()
    return StepContext(
        now=now or utcnow(),
        house_rules=current,
        tested_skill_ids=tuple(tested),
        billing_required=rules.billing_required,
        identity_images_required=rules.identity_images_required,
    )


@dataclass
class MemberFacts:
    """Everything the steps read about one member and their application, loaded in batches."""

    member: Member
    application: Application | None
    checks: list[DocumentCheck] = field(default_factory=list)  # newest first
    calls: list[IntroCall] = field(default_factory=list)  # of the application, newest first
    skills: list[SkillStanding] = field(default_factory=list)
    accepted_version: int | None = None  # the newest house rules version accepted
    accepted_current: bool = False
    payout: ConnectedAccount | None = None
    billing_profile: bool = False  # a billing profile given (a stored one is complete)
    self_billing: SelfBillingAgreement | None = None  # the current decision
    file_status: dict[int, str] = field(default_factory=dict)  # of the checks' images


@dataclass(frozen=True)
class StepState:
    name: str
    state: str
    summary: str
    details: dict

    @property
    def finished(self) -> bool:
        return self.state in FINISHED


@dataclass(frozen=True)
class Step:
    name: str
    summary: str
    done: Callable[[StepContext], ColumnElement[bool]]
    state: Callable[[MemberFacts, StepContext], tuple[str, dict]]


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


# --- profile --------------------------------------------------------------------------------


def _profile_done(ctx: StepContext) -> ColumnElement[bool]:
    # Blank texts never get stored: the profile schema turns them into null.
    return and_(
        *(getattr(Member, name).is_not(None) for name in PROFILE_FIELDS),
        exists().where(MemberSkill.member_id == Member.id),
        exists().where(AvailabilitySlot.member_id == Member.id),
    )


def _profile_state(facts: MemberFacts, ctx: StepContext) -> tuple[str, dict]:
    member = facts.member
    missing = [name for name in PROFILE_FIELDS if getattr(member, name) is None]
    missing += [name for name in ("skills", "availability") if not getattr(member, name)]
    return ("pending" if missing else "done"), {"missing": missing}


# --- documents ------------------------------------------------------------------------------


def _images_needed(kinds: tuple[str, ...], ctx: StepContext) -> bool:
    return ctx.identity_images_required and kinds == IDENTITY_KINDS


def _images_present() -> ColumnElement[bool]:
    """SQL: the check has its required images, or retention deleted them (after the decision)."""
    return or_(
        DocumentCheck.images_deleted_at.is_not(None),
        and_(*(getattr(DocumentCheck, f"{slot}_file_id").is_not(None) for slot in REQUIRED_IMAGES)),
    )


def missing_images(check: DocumentCheck, required: bool) -> list[str]:
    """The images an identity check still needs (none when not required or deleted already)."""
    if not required or check.kind not in IDENTITY_KINDS or check.images_deleted_at is not None:
        return []
    return [slot for slot in REQUIRED_IMAGES if getattr(check, f"{slot}_file_id") is None]


def _valid_check(kinds: tuple[str, ...], ctx: StepContext) -> ColumnElement[bool]:
    conditions = [
        DocumentCheck.member_id == Member.id,
        DocumentCheck.kind.in_(kinds),
        DocumentCheck.status == "verified",
        or_(DocumentCheck.expires_on.is_(None), DocumentCheck.expires_on >= ctx.today),
    ]
    if _images_needed(kinds, ctx):
        conditions.append(_images_present())
    return exists().where(*conditions)


def _is_valid(check: DocumentCheck, ctx: StepContext) -> bool:
    unexpired = check.expires_on is None or check.expires_on >= ctx.today
    images = not missing_images(check, ctx.identity_images_required)
    return check.status == "verified" and unexpired and images


def _check_details(check: DocumentCheck, facts: MemberFacts, ctx: StepContext) -> dict:
    details = {
        "check_id": check.id,
        "kind": check.kind,
        "document_type": check.document_type,
        "status": check.status,
        "submitted_at": _iso(check.submitted_at),
        "expires_on": _iso(check.expires_on),
        "note": check.note,
    }
    if check.kind in IDENTITY_KINDS:
        details["images"] = {slot: _image(check, slot, facts) for slot in IMAGE_SLOTS}
        details["images_deleted_at"] = _iso(check.images_deleted_at)
        missing = missing_images(check, ctx.identity_images_required)
        if missing:
            details["missing_images"] = missing
    return details


def _image(check: DocumentCheck, slot: str, facts: MemberFacts) -> dict | None:
    file_id = getattr(check, f"{slot}_file_id")
    if file_id is None:
        return None
    return {"file_id": file_id, "status": facts.file_status.get(file_id, "deleted")}


def _documents_state(facts: MemberFacts, ctx: StepContext, kinds: tuple[str, ...]):
    checks = [check for check in facts.checks if check.kind in kinds]
    valid = next((check for check in checks if _is_valid(check, ctx)), None)
    if valid is not None:
        return "done", _check_details(valid, facts, ctx)
    if not checks:
        return "pending", {"kinds": list(kinds)}
    latest = checks[0]
    details = _check_details(latest, facts, ctx)
    if latest.status == "submitted":
        # Without the images it needs, the check waits for the applicant, not for a CM.
        return ("pending" if "missing_images" in details else "submitted"), details
    expired = latest.expires_on is not None and latest.expires_on < ctx.today
    if latest.status == "verified" and not expired:
        # Verified before images were required: the applicant submits it again with them.
        return "pending", details
    # Rejected, or verified but expired since: the member submits again.
    details["expired"] = latest.status == "verified"
    return "failed", details


def _trade_done(ctx: StepContext) -> ColumnElement[bool]:
    return or_(Member.kind != "professional", _valid_check(TRADE_KINDS, ctx))


def _trade_state(facts: MemberFacts, ctx: StepContext) -> tuple[str, dict]:
    if facts.member.kind != "professional":
        return "not_required", {}
    return _documents_state(facts, ctx, TRADE_KINDS)


# --- skill tests ----------------------------------------------------------------------------


def _skill_tests_done(ctx: StepContext) -> ColumnElement[bool]:
    # Correlated to the claim (the enclosing query), not to members two levels up.
    passed = exists().where(
        SkillTestAttempt.member_id == MemberSkill.member_id,
        SkillTestAttempt.skill_id == MemberSkill.skill_id,
        SkillTestAttempt.passed == true(),
    )
    if not ctx.tested_skill_ids:
        return true()  # no test to take: nobody is held up
    # A skill a community manager verified needs no passed test (the staff override).
    still_needed = select(MemberSkill.skill_id).where(
        MemberSkill.member_id == Member.id,
        MemberSkill.skill_id.in_(ctx.tested_skill_ids),
        MemberSkill.verified == false(),
        ~passed,
    )
    return ~still_needed.exists()


def _skill_details(standing: SkillStanding) -> dict:
    """One claimed skill's test standing, as the checklist shows it."""
    return {
        "skill": standing.skill,
        "name": standing.name,
        "test_available": standing.test_available,
        "attempts": standing.attempts,
        "best_score": standing.best_score,
        "passed": standing.passed,
        "verified": standing.verified,
        "retry_after": _iso(standing.retry_after),
        "open_attempt_id": standing.open_attempt.id if standing.open_attempt else None,
    }


def _skill_tests_state(facts: MemberFacts, ctx: StepContext) -> tuple[str, dict]:
    tested = [s for s in facts.skills if s.test_available]
    details = {"skills": [_skill_details(s) for s in facts.skills]}
    if not tested:
        return "not_required", details
    if all(s.satisfied for s in tested):
        return "done", details
    if any(s.needs_pass and s.last_failed and s.open_attempt is None for s in tested):
        return "failed", details
    return "pending", details


# --- intro call -----------------------------------------------------------------------------


def _intro_call_done(ctx: StepContext) -> ColumnElement[bool]:
    return exists().where(IntroCall.application_id == Application.id, IntroCall.status == "passed")


def _intro_call_state(facts: MemberFacts, ctx: StepContext) -> tuple[str, dict]:
    # A passed call stays passed (no call is scheduled after it); else the newest counts.
    passed = [call for call in facts.calls if call.status == "passed"]
    call = passed[0] if passed else (facts.calls[0] if facts.calls else None)
    if call is None:
        return "pending", {}
    details = {"call_id": call.id, "status": call.status, "scheduled_at": _iso(call.scheduled_at)}
    return INTRO_CALL_STATES[call.status], details


# --- house rules ----------------------------------------------------------------------------


def _house_rules_done(ctx: StepContext) -> ColumnElement[bool]:
    if ctx.house_rules is None:
        return true()
    return exists().where(
        HouseRulesAcceptance.member_id == Member.id,
        HouseRulesAcceptance.version_id == ctx.house_rules.id,
    )


def _house_rules_state(facts: MemberFacts, ctx: StepContext) -> tuple[str, dict]:
    if ctx.house_rules is None:
        return "not_required", {}
    details = {
        "current_version": ctx.house_rules.version,
        "accepted_version": facts.accepted_version,
    }
    return ("done" if facts.accepted_current else "pending"), details


# --- payout account -------------------------------------------------------------------------


def _payout_done(ctx: StepContext) -> ColumnElement[bool]:
    return exists().where(
        ConnectedAccount.member_id == Member.id, ConnectedAccount.details_submitted == true()
    )


def _payout_state(facts: MemberFacts, ctx: StepContext) -> tuple[str, dict]:
    account = facts.payout
    if account is None:
        return "pending", {}
    details = {
        "details_submitted": account.details_submitted,
        "payouts_enabled": account.payouts_enabled,
    }
    return ("done" if account.details_submitted else "submitted"), details


# --- billing --------------------------------------------------------------------------------


def _billing_done(ctx: StepContext) -> ColumnElement[bool]:
    if not ctx.billing_required:
        return true()
    return and_(
        exists().where(MemberBillingProfile.member_id == Member.id),
        exists().where(SelfBillingAgreement.member_id == Member.id),
    )


def _billing_state(facts: MemberFacts, ctx: StepContext) -> tuple[str, dict]:
    # Declining self-billing is a decision too: the member then invoices the platform.
    decision = facts.self_billing
    missing = [] if facts.billing_profile else ["billing_profile"]
    missing += [] if decision is not None else ["self_billing"]
    details = {
        "required": ctx.billing_required,
        "missing": missing,
        "self_billing": None if decision is None else decision.agreed,
    }
    if not missing:
        return "done", details
    return ("pending" if ctx.billing_required else "not_required"), details


STEPS: tuple[Step, ...] = (
    Step(
        "profile",
        "Name, phone, address with location, at least one skill and weekly availability.",
        done=_profile_done,
        state=_profile_state,
    ),
    Step(
        "identity",
        "An identity document checked and verified by a community manager.",
        done=lambda ctx: _valid_check(IDENTITY_KINDS, ctx),
        state=lambda facts, ctx: _documents_state(facts, ctx, IDENTITY_KINDS),
    ),
    Step(
        "trade_certificate",
        "Professionals: a verified trade certificate or business registration.",
        done=_trade_done,
        state=_trade_state,
    ),
    Step(
        "skill_tests",
        "A passed test for every claimed skill that has one (or the skill verified by a CM).",
        done=_skill_tests_done,
        state=_skill_tests_state,
    ),
    Step(
        "intro_call",
        "An intro call with a community manager, passed.",
        done=_intro_call_done,
        state=_intro_call_state,
    ),
    Step(
        "house_rules",
        "The newest house rules accepted (a new version asks again).",
        done=_house_rules_done,
        state=_house_rules_state,
    ),
    Step(
        "payout_account",
        "A payout account connected, its details submitted to the payment provider.",
        done=_payout_done,
        state=_payout_state,
    ),
    Step(
        "billing",
        "A billing profile (name, address, VAT status) and a decision on self-billing; "
        "required only where operations ask for it (ONBOARDING_BILLING_REQUIRED).",
        done=_billing_done,
        state=_billing_state,
    ),
)
STEP_NAMES = tuple(step.name for step in STEPS)
STEPS_BY_NAME = {step.name: step for step in STEPS}


def ready_predicate(ctx: StepContext) -> ColumnElement[bool]:
    """SQL: every step is done or not required."""
    return and_(*(step.done(ctx) for step in STEPS))


# --- loading facts for a page of members ----------------------------------------------------


def load_facts(
    pairs: Iterable[tuple[Member, Application | None]], ctx: StepContext
) -> dict[int, MemberFacts]:
    """Facts for (member, application) pairs, a handful of queries however many there are."""
    facts = {member.id: MemberFacts(member=member, application=app) for member, app in pairs}
    if not facts:
        return facts
    ids = sorted(facts)
    # Skills and availability for the profile step (loaded into the identity map).
    db.session.scalars(
        select(Member)
        .where(Member.id.in_(ids))
        .options(selectinload(Member.skills), selectinload(Member.availability))
    ).all()
    checks = select(DocumentCheck).where(DocumentCheck.member_id.in_(ids))
    for check in db.session.scalars(checks.order_by(DocumentCheck.id.desc())):
        facts[check.member_id].checks.append(check)
    _load_image_status(facts)
    app_ids = {f.application.id: f for f in facts.values() if f.application is not None}
    if app_ids:
        calls = select(IntroCall).where(IntroCall.application_id.in_(app_ids))
        for call in db.session.scalars(calls.order_by(IntroCall.id.desc())):
            app_ids[call.application_id].calls.append(call)
    for member_id, standings in standings_for(ids, ctx.now).items():
        facts[member_id].skills = standings
    _load_house_rules(facts, ids, ctx)
    for account in db.session.scalars(
        select(ConnectedAccount).where(ConnectedAccount.member_id.in_(ids))
    ):
        facts[account.member_id].payout = account
    _load_billing(facts, ids)
    return facts


def _load_image_status(facts: dict[int, MemberFacts]) -> None:
    """The status of every image the members' checks name (ready, or deleted by now)."""
    owner = {
        file_id: f
        for f in facts.values()
        for check in f.checks
        for slot in IMAGE_SLOTS
        if (file_id := getattr(check, f"{slot}_file_id")) is not None
    }
    if not owner:
        return
    rows = db.session.execute(
        select(StoredFile.id, StoredFile.status).where(StoredFile.id.in_(sorted(owner)))
    )
    for file_id, status in rows:
        owner[file_id].file_status[file_id] = status


def _load_house_rules(facts: dict[int, MemberFacts], ids: list[int], ctx: StepContext) -> None:
    accepted = defaultdict(list)
    rows = db.session.execute(
        select(HouseRulesAcceptance.member_id, HouseRulesVersion.id, HouseRulesVersion.version)
        .join(HouseRulesVersion, HouseRulesVersion.id == HouseRulesAcceptance.version_id)
        .where(HouseRulesAcceptance.member_id.in_(ids))
    )
    for member_id, version_id, version in rows:
        accepted[member_id].append((version, version_id))
    current_id = ctx.house_rules.id if ctx.house_rules else None
    for member_id, versions in accepted.items():
        facts[member_id].accepted_version = max(versions)[0]
        facts[member_id].accepted_current = any(vid == current_id for _, vid in versions)


def _load_billing(facts: dict[int, MemberFacts], ids: list[int]) -> None:
    profiles = select(MemberBillingProfile.member_id).where(MemberBillingProfile.member_id.in_(ids))
    for member_id in db.session.scalars(profiles):
        facts[member_id].billing_profile = True
    for member_id, decision in current_decisions(ids).items():
        facts[member_id].self_billing = decision


def evaluate(facts: MemberFacts, ctx: StepContext) -> list[StepState]:
    """Every step's state for one member, in checklist order."""
    states = []
    for step in STEPS:
        state, details = step.state(facts, ctx)
        states.append(StepState(step.name, state, step.summary, details))
    return states


def is_ready(states: list[StepState]) -> bool:
    return all(state.finished for state in states)


def checklists(
    pairs: Iterable[tuple[Member, Application | None]], ctx: StepContext
) -> dict[int, list[StepState]]:
    """Each member's step states, for a page of (member, application) pairs at once."""
    return {member_id: evaluate(f, ctx) for member_id, f in load_facts(pairs, ctx).items()}
