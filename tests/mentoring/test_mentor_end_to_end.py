"""Issue 6, items 1–3, through the API as a new user would: an approved applicant is matched
to a mentor, shadows a real job, graduates on a promotion, and the mentor is rewarded once."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from crowd.core.background import enqueue
from crowd.core.db import commit
from crowd.extensions import db
from onboarding.models import MemberLevel
from payouts import ledger
from payouts.ledger import account_code_for_member
from payouts.models.ledger import LedgerTransaction
from tests.jobs.conftest import (
    drain_background,
    force_job_state,
    future,
    notifications_for,
    post_job_via_api,
)
from tests.mentoring.conftest import API, member_row, mentor, ok, set_record
from tests.onboarding.conftest import application_id_of, ready_applicant
from tests.payouts.conftest import assert_ledger_sound

pytestmark = pytest.mark.usefixtures("default_ladder")

REPORT = {"notes": "Mounted, cables hidden", "minutes_spent": 80, "parts": [], "photo_refs": []}


def _offer_of(client, actor, job_id: int) -> int:
    offers = ok(client.get(f"{API}/me/offers", headers=actor.headers))["items"]
    return next(offer["id"] for offer in offers if offer["job"]["id"] == job_id)


def _work_job(client, actor, customer, job_id: int) -> None:
    """The member does an assigned job and the customer confirms it, through the API."""
    ok(client.post(f"{API}/me/jobs/{job_id}/start", headers=actor.headers))
    ok(client.post(f"{API}/me/jobs/{job_id}/complete", json=REPORT, headers=actor.headers))
    ok(client.post(f"{API}/jobs/{job_id}/confirm", headers=customer.headers))


def test_a_new_member_is_mentored_shadows_a_job_graduates_and_the_mentor_is_paid_once(
    app, client, cm, member, customer
):
    # An eligible Senior signs up as a mentor, explaining their eligibility first.
    coach = mentor(client)
    assert ok(client.get(f"{API}/me/mentor/eligibility", headers=coach.headers))["eligible"]

    # The applicant goes through every step and a CM approves: a Starter, matched at once.
    ready_applicant(client, cm, member)
    url = f"{API}/applications/{application_id_of(member)}/approve"
    ok(client.post(url, json={"note": "Welcome"}, headers=cm.headers))
    drain_background(app)
    mine = ok(client.get(f"{API}/me/mentorships", headers=member.headers))["items"]
    assert len(mine) == 1
    proposal = mine[0]
    assert proposal["status"] == "proposed" and proposal["origin"] == "system"
    assert proposal["mentor"]["member_id"] == coach.profile_id
    assert proposal["match_details"]["skill_overlap"] == 1
    assert notifications_for(member.user_id, "mentoring.mentor_proposed")
    mentorship_id = proposal["id"]

    # The mentor accepts and logs a call; the mentee rates it.
    ok(client.post(f"{API}/mentorships/{mentorship_id}/accept", headers=coach.headers))
    when = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    call = {"kind": "call", "occurred_at": when, "duration_minutes": 45, "mentor_notes": "Good"}
    sessions = f"{API}/mentorships/{mentorship_id}/sessions"
    logged = ok(client.post(sessions, json=call, headers=coach.headers), 201)
    feedback = {"feedback": "Clear advice", "rating": 5}
    ok(client.post(f"{sessions}/{logged['id']}/feedback", json=feedback, headers=member.headers))

    # A customer's job goes to the mentor; the mentee shadows it and the customer sees so.
    job_id = post_job_via_api(client, customer).get_json()["id"]
    drain_background(app)
    ok(
        client.post(
            f"{API}/offers/{_offer_of(client, coach, job_id)}/accept", headers=coach.headers
        )
    )
    shadow = {"job_id": job_id}
    ok(
        client.post(
            f"{API}/mentorships/{mentorship_id}/shadow", json=shadow, headers=coach.headers
        ),
        201,
    )
    drain_background(app)
    shadows = ok(client.get(f"{API}/jobs/{job_id}/shadows", headers=customer.headers))["items"]
    assert [s["mentee"]["member_id"] for s in shadows] == [member.profile_id]
    assert notifications_for(customer.user_id, "job.shadowed")

    # The mentee builds a record: nine jobs, five ratings, 40 days in; the tenth confirmed
    # job promotes them to Member (level 2) — and that graduates the mentorship.
    set_record(member, ratings=5, stars=5, jobs=9, tenure_days=40)
    # (The applicant's skill is not verified for this category: a CM hands them the job.)
    job_id = post_job_via_api(client, customer).get_json()["id"]
    start = future(1)
    force_job_state(
        job_id,
        status="assigned",
        assigned_member_id=member.profile_id,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=2),
    )
    _work_job(client, member, customer, job_id)
    drain_background(app)
    assert member_row(member).level_rank == 2
    done = ok(client.get(f"{API}/mentorships/{mentorship_id}", headers=coach.headers))
    assert done["status"] == "graduated" and done["graduation_cause"] == "level"
    assert notifications_for(coach.user_id, "mentoring.graduated")

    # The mentor's payable holds the reward exactly once; re-running the check changes nothing.
    payable = account_code_for_member(coach.profile_id)
    assert ledger.balance(payable, "EUR") == 5000
    enqueue("mentoring.check_graduation", mentee_id=member.profile_id)
    enqueue("mentoring.graduate_mentees")
    commit()
    drain_background(app)
    key = f"mentorship-{mentorship_id}-reward"
    count = select(func.count()).select_from(LedgerTransaction).where(LedgerTransaction.key == key)
    assert db.session.scalar(count) == 1
    assert ledger.balance(payable, "EUR") == 5000
    assert db.session.get(MemberLevel, member.profile_id) is not None
    assert_ledger_sound()
