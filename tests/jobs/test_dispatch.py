"""Dispatch in waves: offers, expiry, declines, the preferred member's hold, escalation, staff."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from accounts.models import User
from crowd.core.background import OutboxMessage
from crowd.core.db import commit, utcnow
from crowd.extensions import db
from jobs.models import Job, JobEvent, Offer
from jobs.tasks import dispatch as tasks
from members.models import MemberStats
from notifications.models import Notification
from tests.factories import make_actor
from tests.jobs.conftest import active_member, drain_background, future, post_job_via_api

OFFERS = "/api/v1/offers"


@pytest.fixture
def rules(app, monkeypatch):
    """Set dispatch rules for one test: rules(wave_size=2, max_waves=2)."""

    def _set(**values):
        for name, value in values.items():
            monkeypatch.setitem(app.config, f"JOBS_{name.upper()}", value)

    return _set


def post_job(app, client, customer, **overrides) -> int:
    """Post a job through the API and let its first dispatch run; returns the job id."""
    response = post_job_via_api(client, customer, **overrides)
    assert response.status_code == 201, response.get_json()
    drain_background(app)
    return response.get_json()["id"]


def run(app, task, **kwargs):
    """Run a task as the worker would: its unit of work, then whatever it queued."""
    result = task(**kwargs)
    commit()
    drain_background(app)
    return result


def offers_of(job_id: int, **filters) -> list[Offer]:
    query = select(Offer).where(Offer.job_id == job_id).order_by(Offer.id)
    for name, value in filters.items():
        query = query.where(getattr(Offer, name) == value)
    return list(db.session.scalars(query.execution_options(populate_existing=True)))


def job_row(job_id: int) -> Job:
    return db.session.execute(
        select(Job).where(Job.id == job_id).execution_options(populate_existing=True)
    ).scalar_one()


def overdue(job_id: int) -> None:
    """Let time pass: every pending offer of the job is past its expiry."""
    db.session.execute(
        update(Offer)
        .where(Offer.job_id == job_id, Offer.status == "pending")
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    commit()


def notifications(user_id: int, kind: str) -> list[Notification]:
    query = select(Notification).where(Notification.user_id == user_id, Notification.kind == kind)
    return list(db.session.scalars(query))


def stats(member_id: int) -> MemberStats:
    return db.session.execute(
        select(MemberStats)
        .where(MemberStats.member_id == member_id)
        .execution_options(populate_existing=True)
    ).scalar_one()


# --- the first wave ------------------------------------------------------------------------


def test_posting_sends_offers_to_the_top_wave_size_candidates(app, client, customer, rules):
    rules(wave_size=3)
    members = [active_member() for _ in range(5)]
    job_id = post_job(app, client, customer)

    offers = offers_of(job_id)
    assert len(offers) == 3
    assert {o.status for o in offers} == {"pending"}
    assert {o.wave for o in offers} == {1}
    assert not any(o.exclusive for o in offers)
    job = job_row(job_id)
    assert (job.status, job.wave) == ("offered", 1)
    offered = {o.member_id for o in offers}
    assert offered <= {m.profile_id for m in members}
    for member in members:
        sent = notifications(member.user_id, "offer.new")
        assert len(sent) == (1 if member.profile_id in offered else 0)
        assert stats(member.profile_id).offers_received == (
            1 if member.profile_id in offered else 0
        )


def test_offer_expiry_depends_on_how_soon_the_job_is(app, client, customer, rules):
    rules(offer_ttl_same_day_minutes=15, offer_ttl_later_minutes=240)
    active_member()
    soon, later = future(5), future(72)
    same_day = post_job(
        app,
        client,
        customer,
        windows=[
            {"starts_at": soon.isoformat(), "ends_at": (soon + timedelta(hours=3)).isoformat()}
        ],
    )
    next_week = post_job(
        app,
        client,
        customer,
        windows=[
            {"starts_at": later.isoformat(), "ends_at": (later + timedelta(hours=3)).isoformat()}
        ],
    )

    (short,) = offers_of(same_day)
    (long,) = offers_of(next_week)
    assert short.expires_at - short.sent_at == timedelta(minutes=15)
    assert long.expires_at - long.sent_at == timedelta(minutes=240)


def test_each_wave_schedules_its_own_expiry(app, client, customer):
    active_member()
    job_id = post_job(app, client, customer)
    (offer,) = offers_of(job_id)
    scheduled = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.task == "jobs.expire_offers_for_job")
    ).all()
    mine = [m for m in scheduled if m.kwargs["job_id"] == job_id]
    assert len(mine) == 1
    assert mine[0].run_after == offer.expires_at
    assert mine[0].kwargs["wave"] == 1


def test_a_job_nobody_can_take_is_escalated_at_once(app, client, customer):
    active_member(skills=("router_config",))  # the wrong skill
    job_id = post_job(app, client, customer)

    job = job_row(job_id)
    assert job.status == "open"
    assert job.escalated_at is not None
    assert "No eligible member" in job.escalation_reason
    assert offers_of(job_id) == []
    event = db.session.scalars(
        select(JobEvent).where(JobEvent.job_id == job_id, JobEvent.action == "escalate")
    ).one()
    assert event.actor == "system"


def test_running_the_wave_task_twice_sends_one_wave(app, client, customer, rules):
    rules(wave_size=2)
    for _ in range(4):
        active_member()
    job_id = post_job(app, client, customer)
    assert run(app, tasks.dispatch_wave, job_id=job_id) == "skipped"
    assert run(app, tasks.dispatch_wave, job_id=job_id, after_wave=0) == "skipped"
    assert len(offers_of(job_id)) == 2
    assert job_row(job_id).wave == 1


# --- expiry and further waves --------------------------------------------------------------


def test_expired_offers_bring_the_next_wave_to_other_members(app, client, customer, rules):
    rules(wave_size=2)
    for _ in range(5):
        active_member()
    job_id = post_job(app, client, customer)
    first = {o.member_id for o in offers_of(job_id)}

    overdue(job_id)
    run(app, tasks.expire_offers_for_job, job_id=job_id, wave=1)

    assert {o.member_id for o in offers_of(job_id, status="expired")} == first
    second = offers_of(job_id, status="pending")
    assert len(second) == 2
    assert {o.wave for o in second} == {2}
    assert not first & {o.member_id for o in second}
    assert job_row(job_id).wave == 2


def test_expiry_task_before_the_offers_are_due_changes_nothing(app, client, customer):
    active_member()
    job_id = post_job(app, client, customer)
    assert run(app, tasks.expire_offers_for_job, job_id=job_id, wave=1) == 0
    assert [o.status for o in offers_of(job_id)] == ["pending"]


def test_the_periodic_sweep_expires_overdue_offers_of_every_job(app, client, customer, rules):
    rules(wave_size=1)
    for _ in range(4):
        active_member()
    one, two = post_job(app, client, customer), post_job(app, client, customer)
    overdue(one)

    assert run(app, tasks.expire_offers) == 1

    assert [o.status for o in offers_of(one)] == ["expired", "pending"]
    assert [o.status for o in offers_of(two)] == ["pending"]


def test_after_max_waves_the_job_is_escalated(app, client, customer, rules):
    rules(wave_size=1, max_waves=2)
    for _ in range(5):
        active_member()
    job_id = post_job(app, client, customer)
    overdue(job_id)
    run(app, tasks.expire_offers_for_job, job_id=job_id, wave=1)
    overdue(job_id)
    run(app, tasks.expire_offers_for_job, job_id=job_id, wave=2)

    job = job_row(job_id)
    assert job.status == "open"
    assert job.escalated_at is not None
    assert "2 waves" in job.escalation_reason
    assert len(offers_of(job_id)) == 2
    # An escalated job waits for staff: a stray wave task does nothing.
    assert run(app, tasks.dispatch_wave, job_id=job_id) == "skipped"


def test_when_the_candidates_run_out_the_job_is_escalated(app, client, customer, rules):
    rules(wave_size=2, max_waves=5)
    for _ in range(3):
        active_member()
    job_id = post_job(app, client, customer)
    overdue(job_id)
    run(app, tasks.expire_offers_for_job, job_id=job_id, wave=1)
    assert len(offers_of(job_id, status="pending")) == 1
    overdue(job_id)
    run(app, tasks.expire_offers_for_job, job_id=job_id, wave=2)

    job = job_row(job_id)
    assert job.escalated_at is not None
    assert "No eligible member is left" in job.escalation_reason
    assert len(offers_of(job_id)) == 3


# --- declines ------------------------------------------------------------------------------


def test_all_declines_bring_the_next_wave(app, client, customer, rules):
    rules(wave_size=2)
    members = {m.profile_id: m for m in (active_member() for _ in range(4))}
    job_id = post_job(app, client, customer)
    first = offers_of(job_id)

    for offer in first:
        response = client.post(
            f"{OFFERS}/{offer.id}/decline",
            json={"reason": "not_available"},
            headers=members[offer.member_id].headers,
        )
        assert response.status_code == 200, response.get_json()
        drain_background(app)

    assert [o.status for o in offers_of(job_id, wave=1)] == ["declined", "declined"]
    second = offers_of(job_id, wave=2)
    assert len(second) == 2
    assert not {o.member_id for o in first} & {o.member_id for o in second}


def test_one_decline_of_several_waits_for_the_others(app, client, customer, rules):
    rules(wave_size=2)
    members = {m.profile_id: m for m in (active_member() for _ in range(4))}
    job_id = post_job(app, client, customer)
    offer = offers_of(job_id)[0]

    client.post(
        f"{OFFERS}/{offer.id}/decline",
        json={"reason": "too_far", "note": "across the river"},
        headers=members[offer.member_id].headers,
    )
    drain_background(app)

    assert len(offers_of(job_id)) == 2
    assert offers_of(job_id, id=offer.id)[0].decline_reason == "too_far: across the river"
    counters = stats(offer.member_id)
    assert (counters.offers_declined, counters.acceptance_rate) == (1, 0.0)


def test_a_member_who_declined_is_never_offered_the_job_again(app, client, customer, rules):
    rules(wave_size=1, max_waves=5)
    only = active_member()
    job_id = post_job(app, client, customer)
    (offer,) = offers_of(job_id)
    client.post(f"{OFFERS}/{offer.id}/decline", json={"reason": "other"}, headers=only.headers)
    drain_background(app)

    assert len(offers_of(job_id)) == 1
    assert job_row(job_id).escalated_at is not None


# --- the preferred member ------------------------------------------------------------------


def test_the_preferred_member_gets_an_exclusive_offer_first(app, client, customer, rules):
    rules(wave_size=3, preferred_hold_minutes=60)
    preferred = active_member()
    for _ in range(3):
        active_member()
    job_id = post_job(app, client, customer, preferred_member_id=preferred.profile_id)

    (offer,) = offers_of(job_id)
    assert (offer.member_id, offer.exclusive, offer.wave) == (preferred.profile_id, True, 1)
    assert offer.expires_at - offer.sent_at == timedelta(minutes=60)
    assert len(notifications(preferred.user_id, "offer.new")) == 1


def test_after_the_hold_expires_a_general_wave_goes_out(app, client, customer, rules):
    rules(wave_size=3, max_waves=1)
    preferred = active_member()
    others = {active_member().profile_id for _ in range(3)}
    job_id = post_job(app, client, customer, preferred_member_id=preferred.profile_id)

    overdue(job_id)
    run(app, tasks.expire_offers_for_job, job_id=job_id, wave=1)

    general = offers_of(job_id, status="pending")
    assert {o.member_id for o in general} == others
    assert not any(o.exclusive for o in general)
    # The hold does not use up a wave: max_waves=1 still allowed this general one.
    assert job_row(job_id).escalated_at is None


def test_an_ineligible_preferred_member_gets_no_hold(app, client, customer, rules):
    rules(wave_size=2)
    preferred = active_member(skills=("router_config",))
    active_member()
    job_id = post_job(app, client, customer, preferred_member_id=preferred.profile_id)

    offers = offers_of(job_id)
    assert len(offers) == 1
    assert offers[0].member_id != preferred.profile_id
    assert not offers[0].exclusive


# --- staff: dispatch now, assign directly --------------------------------------------------


def escalated_job(app, client, customer) -> int:
    """A job that was escalated because nobody could take it."""
    job_id = post_job(app, client, customer)
    assert job_row(job_id).escalated_at is not None
    return job_id


def test_staff_dispatch_sends_a_fresh_wave_and_clears_the_escalation(app, client, customer, cm):
    job_id = escalated_job(app, client, customer)
    newcomer = active_member()

    response = client.post(f"/api/v1/staff/jobs/{job_id}/dispatch", headers=cm.headers)

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "offered"
    assert body["escalated_at"] is None
    assert [o["member_id"] for o in body["offers"]] == [newcomer.profile_id]
    event = db.session.scalars(
        select(JobEvent).where(JobEvent.job_id == job_id).order_by(JobEvent.id.desc())
    ).first()
    assert (event.action, event.actor, event.actor_user_id) == ("dispatch", "staff", cm.user_id)


def test_staff_dispatch_without_candidates_is_a_409_and_keeps_the_escalation(
    app, client, customer, admin
):
    job_id = escalated_job(app, client, customer)
    response = client.post(f"/api/v1/staff/jobs/{job_id}/dispatch", headers=admin.headers)
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["state"] == "open"
    assert response.get_json()["type"] == "https://crowd.example/problems/no-candidate-left"
    assert job_row(job_id).escalated_at is not None


def test_staff_dispatch_of_an_offered_job_is_a_409(app, client, customer, cm):
    active_member()
    job_id = post_job(app, client, customer)
    response = client.post(f"/api/v1/staff/jobs/{job_id}/dispatch", headers=cm.headers)
    assert response.status_code == 409
    assert response.get_json()["state"] == "offered"


def test_staff_dispatch_needs_staff(app, client, customer, member, cm):
    active_member()
    job_id = post_job(app, client, customer)
    url = f"/api/v1/staff/jobs/{job_id}/dispatch"
    assert client.post(url).status_code == 401
    assert client.post(url, headers=customer.headers).status_code == 403
    assert client.post(url, headers=member.headers).status_code == 403
    assert client.post("/api/v1/staff/jobs/999999/dispatch", headers=cm.headers).status_code == 404


def test_staff_dispatch_starts_a_fresh_round_of_waves(app, client, customer, cm, rules):
    rules(wave_size=1, max_waves=1)
    job_id = escalated_job(app, client, customer)
    for _ in range(3):
        active_member()
    client.post(f"/api/v1/staff/jobs/{job_id}/dispatch", headers=cm.headers)
    assert job_row(job_id).escalated_at is None

    overdue(job_id)
    run(app, tasks.expire_offers_for_job, job_id=job_id, wave=1)

    # The round staff started had its one wave: escalated again, not sent on and on.
    job = job_row(job_id)
    assert job.escalated_at is not None
    assert len(offers_of(job_id)) == 1


def test_staff_assign_an_eligible_member_withdraws_the_offers(app, client, customer, cm, rules):
    rules(wave_size=2)
    offered = [active_member(), active_member()]
    job_id = post_job(app, client, customer)
    chosen = active_member()

    response = client.post(
        f"/api/v1/staff/jobs/{job_id}/assign",
        json={"member_id": chosen.profile_id},
        headers=cm.headers,
    )

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["status"], body["assigned_member_id"]) == ("assigned", chosen.profile_id)
    assert body["scheduled_start"] is not None
    job = job_row(job_id)
    assert job.scheduled_end - job.scheduled_start == timedelta(minutes=job.duration_minutes)
    assert [o.status for o in offers_of(job_id)] == ["withdrawn", "withdrawn"]
    drain_background(app)
    for member in offered:
        assert len(notifications(member.user_id, "offer.withdrawn")) == 1
    assert len(notifications(chosen.user_id, "job.assigned")) == 1
    assert len(notifications(customer.user_id, "job.assigned")) == 1
    event = db.session.scalars(
        select(JobEvent).where(JobEvent.job_id == job_id, JobEvent.action == "assign")
    ).one()
    assert (event.actor, event.actor_user_id, event.detail["override"]) == (
        "staff",
        cm.user_id,
        False,
    )


def test_staff_assign_an_ineligible_member_needs_an_override(app, client, customer, cm):
    job_id = escalated_job(app, client, customer)
    far = active_member(lat=48.14, lon=11.58)  # Munich
    url = f"/api/v1/staff/jobs/{job_id}/assign"

    refused = client.post(url, json={"member_id": far.profile_id}, headers=cm.headers)
    assert refused.status_code == 422
    assert "service radius" in " ".join(refused.get_json()["errors"]["json"]["member_id"])

    no_reason = client.post(
        url, json={"member_id": far.profile_id, "override": True}, headers=cm.headers
    )
    assert no_reason.status_code == 422
    assert "reason" in no_reason.get_json()["errors"]["json"]

    forced = client.post(
        url,
        json={"member_id": far.profile_id, "override": True, "reason": "travels anyway"},
        headers=cm.headers,
    )
    assert forced.status_code == 200, forced.get_json()
    job = job_row(job_id)
    assert (job.status, job.assigned_member_id, job.escalated_at) == (
        "assigned",
        far.profile_id,
        None,
    )
    event = db.session.scalars(
        select(JobEvent).where(JobEvent.job_id == job_id, JobEvent.action == "assign")
    ).one()
    assert event.detail["override"] is True
    assert event.detail["reason"] == "travels anyway"


def test_staff_assign_checks_member_window_and_state(app, client, customer, cm):
    active_member()
    job_id = post_job(app, client, customer)
    url = f"/api/v1/staff/jobs/{job_id}/assign"
    helper = active_member()

    unknown = client.post(url, json={"member_id": 999999}, headers=cm.headers)
    assert unknown.status_code == 422
    assert "member_id" in unknown.get_json()["errors"]["json"]
    bad_window = client.post(
        url, json={"member_id": helper.profile_id, "window_id": 999999}, headers=cm.headers
    )
    assert bad_window.status_code == 422
    assert "window_id" in bad_window.get_json()["errors"]["json"]

    window_id = job_row(job_id).windows[0].id
    ok = client.post(
        url, json={"member_id": helper.profile_id, "window_id": window_id}, headers=cm.headers
    )
    assert ok.status_code == 200
    again = client.post(url, json={"member_id": helper.profile_id}, headers=cm.headers)
    assert again.status_code == 409
    assert again.get_json()["state"] == "assigned"


def test_members_cannot_use_staff_assign(client, customer, member):
    response = client.post(
        "/api/v1/staff/jobs/1/assign", json={"member_id": 1}, headers=member.headers
    )
    assert response.status_code == 403


def _escalation_notices(job_id: int) -> list[tuple[int, str]]:
    rows = db.session.scalars(
        select(Notification).where(Notification.kind == "job.escalated").order_by(Notification.id)
    ).all()
    return [(row.user_id, row.body) for row in rows if row.data.get("job_id") == job_id]


def test_an_escalation_tells_every_active_community_manager_in_the_app(app, client, customer, cm):
    other_cm = make_actor("community_manager")
    gone_cm = make_actor("community_manager")
    db.session.execute(update(User).where(User.id == gone_cm.user_id).values(disabled_at=utcnow()))
    admin = make_actor("admin")
    active_member(skills=("router_config",))  # the wrong skill: escalated at once
    job_id = post_job(app, client, customer)

    notices = _escalation_notices(job_id)
    assert sorted(user_id for user_id, _ in notices) == sorted([cm.user_id, other_cm.user_id])
    assert all("No eligible member" in body for _, body in notices)
    assert admin.user_id not in {user_id for user_id, _ in notices}
    # What the CM sees in their inbox.
    inbox = client.get("/api/v1/me/notifications", headers=cm.headers).get_json()
    assert any(item["kind"] == "job.escalated" for item in inbox["items"])


def test_an_escalation_after_the_last_wave_tells_staff_too(app, client, customer, cm, rules):
    rules(wave_size=1, max_waves=1)
    active_member()
    job_id = post_job(app, client, customer)
    assert _escalation_notices(job_id) == []
    overdue(job_id)
    run(app, tasks.expire_offers_for_job, job_id=job_id, wave=1)

    assert [user_id for user_id, _ in _escalation_notices(job_id)] == [cm.user_id]


def test_without_community_managers_the_admins_hear_of_an_escalation(app, client, customer):
    admin = make_actor("admin")
    active_member(skills=("router_config",))
    job_id = post_job(app, client, customer)

    assert [user_id for user_id, _ in _escalation_notices(job_id)] == [admin.user_id]
