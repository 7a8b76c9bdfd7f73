"""One set of consequences whatever the path: a job confirmed by its customer, by the
auto-confirm timer, by a dispute settled for the member or by a won chargeback has the same
effects (money, level, graduation and referral checks, notices, closing timer); a job
cancelled by its customer, by staff or by a full-refund resolution likewise. The effects come
from the subscribers of job.confirmed / job.cancelled (crowd.core.events)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from crowd.core.db import commit, utcnow
from crowd.extensions import db
from jobs.models import Job
from jobs.service import auto_confirm
from mentoring.models import Mentorship
from recruitment.codes import issue_code
from recruitment.models import Referral
from tests.jobs.conftest import active_member, drain_background, force_job_state
from tests.jobs.conftest import notifications_for as notices
from tests.onboarding.test_levels_support import (
    changes_of,
    default_ladder,  # noqa: F401  (fixture)
    put_ladder,
    ranked_member,
)
from tests.payouts.job_money_helpers import (
    assigned_job,
    cancel,
    completed_job,
    confirm,
    outbox,
    payment,
    transactions,
)
from tests.stripe_fake import post_event, stripe_event
from tests.support.dispute_helpers import proposed, staff_act
from tests.support.ticket_helpers import assign as take_ticket
from tests.support.ticket_helpers import opened

pytestmark = pytest.mark.usefixtures("stripe_settings", "ledger_sound", "default_ladder")


@pytest.fixture
def ladder(app, client, admin):
    """Starter; Member from 10 jobs: the member below is one completed job short of it."""
    return put_ladder(app, client, admin)


@pytest.fixture
def member(ladder):
    """A member one job short of promotion, with an active mentorship and an open referral."""
    actor = ranked_member(1, jobs=9)
    mentor = active_member()
    db.session.add(
        Mentorship(
            mentor_id=mentor.profile_id, mentee_id=actor.profile_id, status="active", origin="staff"
        )
    )
    referrer = active_member()
    code = issue_code(referrer.profile_id)
    db.session.flush()
    db.session.add(
        Referral(
            referrer_member_id=referrer.profile_id,
            referred_member_id=actor.profile_id,
            code_id=code.id,
            milestone="first_job",
        )
    )
    db.session.commit()
    return actor


def _deliver(app, client, type_: str, job_id: int, status: str) -> None:
    row = payment(job_id)
    dispute = {
        "id": "dp_1",
        "object": "dispute",
        "charge": f"ch_job{job_id}",
        "payment_intent": row.provider_payment_id,
        "amount": row.amount_authorized,
        "currency": "eur",
        "reason": "product_not_received",
        "status": status,
    }
    response = post_event(client, stripe_event(type_, dispute, created=int(time.time())))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "processed", response.get_json()
    drain_background(app)


def _disputed_with_support(app, client, customer, cm, member) -> tuple[int, dict]:
    job_id, _ = completed_job(app, client, customer, cm, member)
    ticket = opened(client, customer, job_id=job_id, dispute=True, subject="Not done right")
    assert take_ticket(client, cm, ticket["id"]).status_code == 200
    return job_id, ticket


def _settle(app, client, cm, ticket: dict, **body) -> None:
    resolution = proposed(client, cm, ticket["id"], **body)
    imposed = staff_act(client, cm, ticket["id"], resolution["id"], "impose")
    assert imposed.status_code == 200, imposed.get_json()
    drain_background(app)


# --- confirmed ------------------------------------------------------------------------------


def by_the_customer(app, client, customer, cm, member) -> int:
    job_id, _ = completed_job(app, client, customer, cm, member)
    confirm(app, client, customer, job_id)
    return job_id


def by_auto_confirm(app, client, customer, cm, member) -> int:
    job_id, _ = completed_job(app, client, customer, cm, member)
    force_job_state(job_id, completed_at=utcnow() - timedelta(days=30))
    assert auto_confirm(job_id) is True
    commit()
    drain_background(app)
    return job_id


def by_a_dispute_settled_for_the_member(app, client, customer, cm, member) -> int:
    job_id, ticket = _disputed_with_support(app, client, customer, cm, member)
    _settle(app, client, cm, ticket, kind="release")
    return job_id


def by_a_won_chargeback(app, client, customer, cm, member) -> int:
    job_id, _ = completed_job(app, client, customer, cm, member)
    _deliver(app, client, "charge.dispute.created", job_id, "needs_response")
    assert db.session.get(Job, job_id).status == "disputed"
    _deliver(app, client, "charge.dispute.closed", job_id, "won")
    return job_id


@pytest.mark.parametrize(
    "path",
    [by_the_customer, by_auto_confirm, by_a_dispute_settled_for_the_member, by_a_won_chargeback],
)
def test_every_confirmation_has_the_same_consequences(app, client, customer, cm, member, path):
    job_id = path(app, client, customer, cm, member)

    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job.status == "confirmed" and job.confirmed_at is not None
    # money: captured once and split (the ledger's zero sum is checked by ledger_sound)
    assert payment(job_id).status == "captured"
    assert [t.key for t in transactions(job_id)] == [f"job-{job_id}-settlement"]
    # the member's record: level evaluated (and here promoted), graduation and referral checked
    assert [c.detail for c in changes_of(member)] == [f"job.confirmed:{job_id}"]
    # (checked twice: for the confirmed job, and for the promotion it brought)
    assert len(outbox("mentoring.check_graduation", mentee_id=member.profile_id)) == 2
    assert len(outbox("recruitment.check_referral", referred_member_id=member.profile_id)) == 1
    # the parties: the member always, the customer unless they confirmed it themselves
    assert len(notices(member.user_id, "job.confirmed")) == 1
    told_customer = 0 if path is by_the_customer else 1
    assert len(notices(customer.user_id, "job.confirmed")) == told_customer
    # and the closing timer
    assert len(outbox("jobs.close", job_id=job_id)) == 1


def test_a_chargeback_won_on_a_job_disputed_with_support_leaves_it_to_support(
    app, client, customer, cm, member
):
    job_id, _ = _disputed_with_support(app, client, customer, cm, member)
    _deliver(app, client, "charge.dispute.created", job_id, "needs_response")
    _deliver(app, client, "charge.dispute.closed", job_id, "won")
    db.session.expire_all()
    assert db.session.get(Job, job_id).status == "disputed"
    assert notices(member.user_id, "job.confirmed") == []


# --- cancelled ------------------------------------------------------------------------------


def cancelled_by_the_customer(app, client, customer, cm, member) -> int:
    job_id, _ = assigned_job(app, client, customer, cm, member)
    cancel(app, client, customer, job_id)
    return job_id


def cancelled_by_staff(app, client, customer, cm, member) -> int:
    job_id, _ = assigned_job(app, client, customer, cm, member)
    cancel(app, client, cm, job_id, staff=True)
    return job_id


def cancelled_by_a_full_refund(app, client, customer, cm, member) -> int:
    job_id, ticket = _disputed_with_support(app, client, customer, cm, member)
    _settle(app, client, cm, ticket, kind="full_refund")
    return job_id


@pytest.mark.parametrize(
    "path", [cancelled_by_the_customer, cancelled_by_staff, cancelled_by_a_full_refund]
)
def test_every_cancellation_has_the_same_consequences(app, client, customer, cm, member, path):
    job_id = path(app, client, customer, cm, member)

    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job.status == "cancelled" and job.cancelled_at is not None
    # money: the authorisation released, nothing captured or posted
    assert (payment(job_id).status, payment(job_id).amount_captured) == ("cancelled", 0)
    assert transactions(job_id) == []
    # nothing of a confirmation follows
    assert changes_of(member) == []
    assert outbox("jobs.close", job_id=job_id) == []
    # the parties: the member who held the job, the customer unless they cancelled it
    assert len(notices(member.user_id, "job.cancelled")) == 1
    told_customer = 0 if path is cancelled_by_the_customer else 1
    assert len(notices(customer.user_id, "job.cancelled")) == told_customer


# --- the wiring -----------------------------------------------------------------------------


def test_flask_crowd_events_prints_every_event_with_its_subscribers(app):
    result = app.test_cli_runner().invoke(args=["crowd", "events"])
    assert result.exit_code == 0, result.output
    lines = [line.strip() for line in result.output.splitlines()]
    confirmed = lines[lines.index("job.confirmed") + 1 :]
    assert confirmed[:6] == [
        "payouts.events.capture_payment",
        "onboarding.events.evaluate_level",
        "mentoring.subscribers.check_graduation",
        "recruitment.events.check_referral",
        "jobs.events.schedule_closing",
        "jobs.events.tell_confirmed",
    ]
    assert lines[lines.index("job.assigned") + 1] == "payouts.events.authorize_payment"
    assert (
        lines[lines.index("review.published") + 1] == "onboarding.events.evaluate_level_on_review"
    )
    promoted = lines[lines.index("level.changed") + 1 :][:2]
    # The plan follows the level first (onboarding), then a promoted mentee graduates.
    assert promoted == [
        "onboarding.events.plan_follows_level",
        "mentoring.subscribers.check_graduation_on_promotion",
    ]
    cancelled = lines[lines.index("job.cancelled") + 1 :]
    assert cancelled[:3] == [
        "payouts.events.release_payment",
        "jobs.events.withdraw_offers",
        "jobs.events.tell_cancelled",
    ]
