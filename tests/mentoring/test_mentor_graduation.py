"""Graduation by level or by record + tenure; the mentor's reward through the ledger, once."""

import pytest
from sqlalchemy import func, select

from crowd.core.background import OutboxMessage
from crowd.core.db import commit
from crowd.extensions import db
from jobs.models import Job
from mentoring.mentors.assignment import auto_assign
from mentoring.mentors.graduation import check_graduation
from mentoring.models import Mentorship
from mentoring.tasks.mentors import graduate_mentees
from payouts import ledger
from payouts.ledger import account_code_for_member
from payouts.models.ledger import LedgerTransaction
from tests.jobs.conftest import drain_background, force_job_state
from tests.mentoring.conftest import API, inbox, member_row, mentor, ok, set_record, starter
from tests.payouts.conftest import assert_ledger_sound

pytestmark = pytest.mark.usefixtures("ledger_sound")


@pytest.fixture
def ledger_sound(db_session):
    yield
    db.session.rollback()
    assert_ledger_sound()


def _active(client, **mentor_kw):
    coach = mentor(client, **mentor_kw)
    newbie = starter()
    mentorship = auto_assign(newbie.profile_id)
    commit()
    ok(client.post(f"{API}/mentorships/{mentorship.id}/accept", headers=coach.headers))
    return coach, newbie, mentorship.id


def _payable(member_id: int, currency: str = "EUR") -> int:
    return ledger.balance(account_code_for_member(member_id), currency)


def _rewards(mentorship_id: int) -> int:
    key = f"mentorship-{mentorship_id}-reward"
    query = select(func.count()).select_from(LedgerTransaction).where(LedgerTransaction.key == key)
    return db.session.scalar(query)


def test_reaching_the_graduation_level_graduates_and_rewards_once(app, client):
    coach, newbie, mentorship_id = _active(client)
    assert check_graduation(newbie.profile_id) is None  # still a Starter
    member_row(newbie).level_rank = 2
    graduated = check_graduation(newbie.profile_id)
    commit()
    assert graduated.status == "graduated" and graduated.graduation_cause == "level"
    assert graduated.reward_transaction_id is not None
    assert _payable(coach.profile_id) == 5000
    # Running again pays nothing more.
    assert check_graduation(newbie.profile_id) is None
    assert graduate_mentees() == 0
    commit()
    assert _rewards(mentorship_id) == 1 and _payable(coach.profile_id) == 5000
    transaction = db.session.get(LedgerTransaction, graduated.reward_transaction_id)
    assert transaction.kind == "programme_reward" and transaction.member_id == coach.profile_id
    assert inbox(app, coach, "mentoring.graduated")
    assert inbox(app, newbie, "mentoring.graduated")
    body = ok(client.get(f"{API}/mentorships/{mentorship_id}", headers=newbie.headers))
    assert body["status"] == "graduated" and body["graduated_at"]


def test_jobs_plus_tenure_graduate_but_jobs_alone_do_not(client):
    coach, newbie, mentorship_id = _active(client)
    set_record(newbie, ratings=0, jobs=10, tenure_days=30)
    assert check_graduation(newbie.profile_id) is None
    set_record(newbie, ratings=0, jobs=10, tenure_days=61)
    assert graduate_mentees() == 1
    mentorship = db.session.get(Mentorship, mentorship_id)
    assert (mentorship.status, mentorship.graduation_cause) == ("graduated", "record")


def test_a_swiss_mentor_is_rewarded_in_chf(client):
    coach, newbie, _ = _active(client)
    member_row(coach).country = "CH"
    member_row(newbie).level_rank = 2
    check_graduation(newbie.profile_id)
    commit()
    assert _payable(coach.profile_id, "CHF") == 5000
    assert _payable(coach.profile_id, "EUR") == 0


def test_a_proposed_mentorship_does_not_graduate(client):
    mentor(client)
    newbie = starter()
    auto_assign(newbie.profile_id)
    commit()
    member_row(newbie).level_rank = 2
    assert check_graduation(newbie.profile_id) is None


def test_a_confirmed_job_queues_the_check_only_for_mentees(app, client, customer, make_job):
    coach, newbie, mentorship_id = _active(client)
    set_record(newbie, ratings=0, jobs=10, tenure_days=90)
    job = make_job(customer)
    force_job_state(job["id"], status="completed", assigned_member_id=newbie.profile_id)
    ok(client.post(f"{API}/jobs/{job['id']}/confirm", headers=customer.headers))
    assert db.session.get(Job, job["id"]).status == "confirmed"
    drain_background(app)
    db.session.expire_all()
    assert db.session.get(Mentorship, mentorship_id).status == "graduated"
    other = make_job(customer)
    force_job_state(other["id"], status="completed", assigned_member_id=coach.profile_id)
    before = db.session.scalar(
        select(func.count()).where(OutboxMessage.task == "mentoring.check_graduation")
    )
    ok(client.post(f"{API}/jobs/{other['id']}/confirm", headers=customer.headers))
    after = db.session.scalar(
        select(func.count()).where(OutboxMessage.task == "mentoring.check_graduation")
    )
    assert after == before  # the mentor is no mentee: nothing queued
