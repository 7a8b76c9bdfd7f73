"""Top-performer runs: figures, gates, ranking per cell, badges, perks, API errors, revocation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from crowd.core.db import utcnow
from crowd.core.errors import Unprocessable
from crowd.extensions import db
from jobs.matching.ranking import programme_boosts
from members.models import Member
from mentoring.models import TopPerformerBadge, TopPerformerDecision, TopPerformerRun
from mentoring.tasks.top_performers import run_top_performers
from mentoring.top_performers.holders import active_badge_member_ids
from mentoring.top_performers.periods import parse_period, period_at
from mentoring.top_performers.runs import run_period
from payouts.models.plans import MemberCommissionPerk
from payouts.plans import commission_for
from support.models import Ticket, TicketEvent
from tests.jobs.conftest import drain_background, notifications_for
from tests.mentoring.test_top_performers_support import (
    API,
    RUNS,
    answered_offers,
    current_quarter,
    done_jobs,
    lost_dispute,
    performer,
    previous_quarter,
    run,
    sanction,
    withdrawals,
)


def _in_window():
    return current_quarter().start - timedelta(days=30)


def _decisions(run_id: int) -> dict[int, TopPerformerDecision]:
    rows = db.session.scalars(
        select(TopPerformerDecision).where(TopPerformerDecision.run_id == run_id)
    )
    return {(d.member_id, d.category_id): d for d in rows}


# --- periods --------------------------------------------------------------------------------


def test_periods_are_calendar_quarters_or_months_with_a_window_ending_at_the_end():
    at = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
    quarter = period_at(at, 3)
    assert (quarter.label, quarter.start, quarter.end) == (
        "2026-Q4",
        datetime(2026, 10, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert quarter.next().label == "2027-Q1"
    assert quarter.next().end == datetime(2027, 4, 1, tzinfo=UTC)
    assert quarter.previous().label == "2026-Q3"
    assert quarter.window(12) == (datetime(2026, 1, 1, tzinfo=UTC), quarter.end)
    month = period_at(at, 1)
    assert (month.label, month.start, month.end) == (
        "2026-11",
        datetime(2026, 11, 1, tzinfo=UTC),
        datetime(2026, 12, 1, tzinfo=UTC),
    )
    assert parse_period("2026-Q4", 3) == quarter
    assert parse_period("2026-11", 1) == month
    assert period_at(at, 6).label == "2026-H2" and period_at(at, 12).label == "2026"
    for wrong, months in (("2026-Q5", 3), ("2026-11", 3), ("2026-Q4", 1), ("Q4", 3), ("0000", 12)):
        with pytest.raises(Unprocessable):
            parse_period(wrong, months)


# --- the run --------------------------------------------------------------------------------


def test_run_awards_the_top_share_of_each_cell_and_records_every_decision(
    app, client, cm, customer
):
    at = _in_window()
    best = performer(customer, at=at, stars=5)
    good = performer(customer, at=at, stars=[5] * 16 + [4] * 4)  # 4.8
    more = performer(customer, jobs=25, at=at, stars=[5] * 20 + [4] * 5)  # 4.8, more jobs
    few = performer(customer, jobs=5, at=at)
    vienna = performer(customer, at=at)
    db.session.get(Member, vienna.profile_id).country = "AT"
    db.session.commit()

    response = run(client, cm)

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["period"] == previous_quarter().label
    assert (body["status"], body["evaluated"], body["awarded"]) == ("done", 5, 2)
    assert body["window_end"] == current_quarter().start.isoformat()
    decisions = {d.member_id: d for d in _decisions(body["id"]).values()}
    # Ranked by rating, then volume: best 1st, more (4.8, 25 jobs) 2nd, good 3rd.
    ranks = {m.profile_id: decisions[m.profile_id].rank for m in (best, more, good, few)}
    assert ranks == {
        best.profile_id: 1,
        more.profile_id: 2,
        good.profile_id: 3,
        few.profile_id: None,
    }
    assert decisions[best.profile_id].awarded and not decisions[more.profile_id].awarded
    assert decisions[few.profile_id].failed_gates == ["volume"]
    assert decisions[good.profile_id].cell_size == 3 and decisions[vienna.profile_id].cell_size == 1
    assert decisions[vienna.profile_id].awarded and decisions[vienna.profile_id].region == "AT"
    assert decisions[good.profile_id].figures == {
        "jobs": 20,
        "rating": 4.8,
        "rating_count": 20,
        "rating_sum": 96,
        "cancellations": 0,
        "cancellation_permille": 0,
        "offers_answered": 0,
        "offers_accepted": 0,
        "acceptance_permille": None,
        "sanctions": 0,
        "lost_disputes": 0,
    }
    [badge] = db.session.scalars(
        select(TopPerformerBadge).where(TopPerformerBadge.member_id == best.profile_id)
    ).all()
    assert badge.valid_from == current_quarter().start
    assert badge.valid_until == current_quarter().next().end
    perk = db.session.get(MemberCommissionPerk, badge.perk_id)
    assert (perk.discount_bp, perk.reason) == (200, f"Top performer {previous_quarter().label}")
    assert perk.valid_to == badge.valid_until
    drain_background(app)
    [note] = notifications_for(best.user_id, "mentoring.top_performer_awarded")
    assert note.data["categories"] == ["tv_audio"]
    assert notifications_for(more.user_id, "mentoring.top_performer_awarded") == []


def test_each_gate_fails_on_its_own_figure(client, cm, customer):
    at = _in_window()
    cancelling = performer(customer, at=at)
    withdrawals(customer, cancelling, 2, at=at)  # 2 / 22 = 91 ‰ > 50 ‰
    declining = performer(customer, at=at)
    jobs = done_jobs(customer, declining, 10, at=at - timedelta(days=1), stars=None)
    answered_offers(declining, jobs[:5], "declined", at=at)
    answered_offers(declining, jobs[5:9], "accepted", at=at)  # 4 / 9 = 444 ‰ < 600 ‰
    low = performer(customer, at=at, stars=[5] * 10 + [4] * 10)  # 4.5 < 4.7
    unrated = performer(customer, at=at, stars=None)
    sanctioned = performer(customer, at=at)
    sanction(sanctioned, cm, at=at)
    disputed = performer(customer, at=at)
    lost_dispute(disputed, cm, done_jobs(customer, disputed, 1, at=at)[0], at=at)
    paused = performer(customer, at=at)
    db.session.get(Member, paused.profile_id).status = "paused"
    old_sanction = performer(customer, at=at)
    sanction(old_sanction, cm, at=current_quarter().start + timedelta(hours=1))  # after the window
    db.session.commit()

    body = run(client, cm).get_json()

    failed = {d.member_id: d.failed_gates for d in _decisions(body["id"]).values()}
    assert failed == {
        cancelling.profile_id: ["cancellation"],
        declining.profile_id: ["acceptance"],
        low.profile_id: ["rating"],
        unrated.profile_id: ["rating"],
        sanctioned.profile_id: ["sanction"],
        disputed.profile_id: ["lost_dispute"],
        paused.profile_id: ["status"],
        old_sanction.profile_id: [],
    }
    figures = {d.member_id: d.figures for d in _decisions(body["id"]).values()}
    assert (figures[cancelling.profile_id]["cancellations"], figures[cancelling.profile_id][
        "cancellation_permille"]) == (2, 91)  # fmt: skip
    assert figures[declining.profile_id]["acceptance_permille"] == 444
    assert figures[declining.profile_id]["jobs"] == 30
    assert body["awarded"] == 1


def test_jobs_outside_the_window_do_not_count(client, cm, customer):
    period = current_quarter()
    inside = performer(customer, jobs=19, at=period.start - timedelta(days=3))
    done_jobs(customer, inside, 5, at=period.start + timedelta(hours=1))  # this period: not yet
    done_jobs(customer, inside, 5, at=period.start - timedelta(days=366))  # before the window

    body = run(client, cm).get_json()

    [decision] = _decisions(body["id"]).values()
    assert (decision.figures["jobs"], decision.failed_gates) == (19, ["volume"])


def test_one_perk_per_member_even_with_badges_in_two_categories(client, cm, customer):
    at = _in_window()
    both = performer(customer, at=at)
    done_jobs(customer, both, 20, at=at, category="smart_home")

    body = run(client, cm).get_json()

    badges = db.session.scalars(
        select(TopPerformerBadge).where(TopPerformerBadge.member_id == both.profile_id)
    ).all()
    assert body["awarded"] == 2 and len(badges) == 2
    assert len({badge.perk_id for badge in badges}) == 1
    perks = db.session.scalars(
        select(MemberCommissionPerk).where(MemberCommissionPerk.member_id == both.profile_id)
    ).all()
    assert len(perks) == 1


def test_nobody_with_activity_gives_an_empty_run(client, cm):
    body = run(client, cm).get_json()
    assert (body["evaluated"], body["awarded"], body["status"]) == (0, 0, "done")


# --- API errors -----------------------------------------------------------------------------


def test_runs_are_for_staff_only(client, customer, member):
    assert client.post(RUNS, json={}).status_code == 401
    for actor in (customer, member):
        assert run(client, actor).status_code == 403
        assert client.get(RUNS, headers=actor.headers).status_code == 403
        assert client.get(f"{API}/top-performers", headers=actor.headers).status_code == 403


def test_a_period_runs_once(client, cm, admin):
    assert run(client, cm).status_code == 201
    again = run(client, admin, previous_quarter().label)
    assert again.status_code == 409
    assert again.get_json()["state"] == "exists"
    assert len(db.session.scalars(select(TopPerformerRun)).all()) == 1


def test_an_older_period_after_a_newer_one_is_refused(client, cm):
    assert run(client, cm).status_code == 201
    older = run(client, cm, previous_quarter().previous().label)
    assert older.status_code == 409
    assert older.get_json()["state"] == "superseded"


def test_the_current_period_is_refused_until_it_has_ended(client, cm, customer):
    performer(customer, at=current_quarter().start + timedelta(hours=1))
    current = current_quarter()

    response = run(client, cm, current.label)

    assert response.status_code == 409
    body = response.get_json()
    assert body["type"].endswith("/period-not-over")
    assert (body["state"], body["ends_at"]) == ("not_over", current.end.isoformat())
    assert db.session.scalars(select(TopPerformerRun)).all() == []
    # Once over, it is evaluated over the window ending with it.
    later = run_period_at(current.end + timedelta(minutes=1), current.label)
    assert (later.period, later.window_end) == (current.label, current.end)
    assert later.evaluated == 1


def test_a_run_right_after_start_up_never_takes_the_current_period(cm, customer):
    performer(customer, at=current_quarter().start + timedelta(hours=1))  # this quarter only

    assert run_top_performers() == previous_quarter().label

    [evaluated] = db.session.scalars(select(TopPerformerRun)).all()
    assert (evaluated.period, evaluated.evaluated) == (previous_quarter().label, 0)
    assert evaluated.window_end == current_quarter().start
    assert run_top_performers() is None
    # The current quarter stays open for its own run once it has ended.
    assert current_quarter().label not in {
        r.period for r in db.session.scalars(select(TopPerformerRun))
    }


@pytest.mark.parametrize("period", ["2999-Q1", "2026-Q7", "2026-11", "soon", ""])
def test_a_future_or_malformed_period_is_a_422(client, cm, period):
    response = run(client, cm, period)
    assert response.status_code == 422
    assert "period" in str(response.get_json())


def test_unknown_fields_and_objects(client, cm):
    assert client.post(RUNS, json={"when": "now"}, headers=cm.headers).status_code == 422
    assert client.get(f"{RUNS}/999999", headers=cm.headers).status_code == 404
    assert client.get(f"{RUNS}/999999/decisions", headers=cm.headers).status_code == 404
    revoke = f"{API}/top-performer-badges/999999/revoke"
    assert client.post(revoke, json={"reason": "x"}, headers=cm.headers).status_code == 404


# --- reading --------------------------------------------------------------------------------


def test_staff_read_runs_cells_and_filtered_decisions(client, cm, customer):
    at = _in_window()
    top = performer(customer, at=at)
    weak = performer(customer, jobs=3, at=at)
    run_id = run(client, cm).get_json()["id"]

    listed = client.get(RUNS, headers=cm.headers).get_json()
    assert [item["id"] for item in listed["items"]] == [run_id]
    detail = client.get(f"{RUNS}/{run_id}", headers=cm.headers).get_json()
    assert detail["run"]["criteria"]["min_jobs"] == 20
    assert detail["cells"] == [
        {"category": "tv_audio", "region": "DE", "evaluated": 2, "passed": 1, "awarded": 1}
    ]
    url = f"{RUNS}/{run_id}/decisions"
    everyone = client.get(url, headers=cm.headers).get_json()
    assert everyone["page"]["total"] == 2
    awarded = client.get(f"{url}?awarded=true", headers=cm.headers).get_json()["items"]
    assert [(d["member_id"], d["rank"], d["period"]) for d in awarded] == [
        (top.profile_id, 1, previous_quarter().label)
    ]
    mine = client.get(f"{url}?member_id={weak.profile_id}", headers=cm.headers).get_json()
    assert [d["failed_gates"] for d in mine["items"]] == [["volume"]]
    other = client.get(f"{url}?category=smart_home&region=DE", headers=cm.headers).get_json()
    assert other["items"] == []
    paged = client.get(f"{url}?limit=1", headers=cm.headers).get_json()
    assert len(paged["items"]) == 1 and paged["page"]["next_cursor"]
    bad = client.get(f"{url}?category=nope", headers=cm.headers)
    assert bad.status_code == 422
    holders = client.get(f"{API}/top-performers?region=DE", headers=cm.headers).get_json()
    assert [h["member_id"] for h in holders["items"]] == [top.profile_id]
    assert client.get(f"{API}/top-performers?region=AT", headers=cm.headers).get_json()[
        "items"] == []  # fmt: skip


def test_a_member_sees_their_badges_perks_and_history(client, cm, customer, member):
    at = _in_window()
    top = performer(customer, at=at)
    run(client, cm)

    mine = client.get(f"{API}/me/top-performer", headers=top.headers).get_json()
    assert mine["top_performer"] is True
    [badge] = mine["badges"]
    assert badge["category"] == "tv_audio"
    assert badge["valid_until"] == current_quarter().next().end.isoformat()
    assert mine["perks"]["matching_boost"] and mine["perks"]["priority_support"]
    assert [p["discount_bp"] for p in mine["perks"]["commission"]] == [200]
    assert mine["perks"]["commission_perk_in_force"]["discount_bp"] == 200
    [decision] = mine["history"]
    assert decision["awarded"] and decision["figures"]["jobs"] == 20
    nobody = client.get(f"{API}/me/top-performer", headers=member.headers).get_json()
    assert (nobody["top_performer"], nobody["badges"], nobody["history"]) == (False, [], [])
    assert client.get(f"{API}/me/top-performer", headers=cm.headers).status_code == 403


# --- revocation -----------------------------------------------------------------------------


def test_revoking_a_badge_ends_its_perk_boost_and_priority(app, client, cm, customer):
    top = performer(customer, at=_in_window())
    run(client, cm)
    badge = db.session.scalar(
        select(TopPerformerBadge).where(TopPerformerBadge.member_id == top.profile_id)
    )
    url = f"{API}/top-performer-badges/{badge.id}/revoke"
    assert client.post(url, json={"reason": " "}, headers=cm.headers).status_code == 422
    assert client.post(url, json={"reason": "x"}, headers=top.headers).status_code == 403

    response = client.post(url, json={"reason": "Fake reviews"}, headers=cm.headers)

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["revoke_reason"] == "Fake reviews"
    db.session.expire_all()
    perk = db.session.get(MemberCommissionPerk, badge.perk_id)
    assert perk.valid_to <= utcnow()
    assert commission_for(10_000, "EUR", top.profile_id, utcnow()).amount == 2000
    assert active_badge_member_ids([top.profile_id]) == set()
    assert programme_boosts([top.profile_id]) == {}
    again = client.post(url, json={"reason": "again"}, headers=cm.headers)
    assert (again.status_code, again.get_json()["state"]) == (409, "revoked")
    assert again.get_json()["type"] == "https://crowd.example/problems/badge-revoked"
    drain_background(app)
    assert len(notifications_for(top.user_id, "mentoring.top_performer_revoked")) == 1


# --- perks: matching boost, priority support, the daily task ---------------------------------


def test_the_boost_follows_the_configured_percentage(app, client, cm, customer, monkeypatch):
    top = performer(customer, at=_in_window())
    other = performer(customer, jobs=0, at=_in_window())
    run(client, cm)

    assert programme_boosts([top.profile_id, other.profile_id]) == {top.profile_id: 1.0}
    monkeypatch.setitem(app.config, "MENTORING_TOP_MATCHING_BOOST_PERCENT", 50)
    assert programme_boosts([top.profile_id]) == {top.profile_id: 0.5}


def test_a_top_performers_ticket_gets_priority_support(client, cm, customer):
    top = performer(customer, at=_in_window())
    plain = performer(customer, jobs=0, at=_in_window())
    run(client, cm)
    body = {"subject": "Payout late", "category": "payment", "description": "Where is it?"}

    opened = {}
    for actor in (top, plain):
        response = client.post(f"{API}/tickets", json=body, headers=actor.headers)
        assert response.status_code == 201, response.get_json()
        opened[actor.profile_id] = response.get_json()["id"]

    assert db.session.get(Ticket, opened[top.profile_id]).priority == "high"
    assert db.session.get(Ticket, opened[plain.profile_id]).priority == "normal"
    event = db.session.scalar(
        select(TicketEvent).where(TicketEvent.ticket_id == opened[top.profile_id])
    )
    assert event.data["priority_support"] == "top_performer"
    assert event.data["requested_priority"] == "normal"


def test_the_daily_task_runs_each_period_once(cm, customer):
    performer(customer, at=_in_window())

    assert run_top_performers() == previous_quarter().label
    assert run_top_performers() is None

    runs = db.session.scalars(select(TopPerformerRun)).all()
    assert [(r.period, r.started_by_id, r.awarded) for r in runs] == [
        (previous_quarter().label, None, 1)
    ]


def test_monthly_periods_are_configurable(client, cm, app, monkeypatch):
    monkeypatch.setitem(app.config, "MENTORING_TOP_PERIOD_MONTHS", 1)
    body = run(client, cm).get_json()
    assert body["period"] == period_at(utcnow(), 1).previous().label
    assert body["criteria"]["period_months"] == 1


def run_period_at(now, label):
    """The run of `label` as the service makes it at `now` (the clock moved on)."""
    made = run_period(actor=None, period=label, now=now)
    db.session.commit()
    return made
