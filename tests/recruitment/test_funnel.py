"""The recruitment funnel per source and channel: counts compared exactly with known data."""

from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from crowd.core.db import utcnow
from crowd.extensions import db
from members.models import Member, MemberStatusChange, Skill
from onboarding.models import Application, SkillTest, SkillTestAttempt
from recruitment.models import RecruitmentChannel
from tests.factories import make_actor
from tests.jobs.conftest import finished_job, force_job_state
from tests.recruitment.conftest import API, ok, problem

URL = f"{API}/recruitment/funnel"
STEPS = ("applied", "passed_skill_test", "approved", "first_job", "active_after_90_days")


@dataclass
class Story:
    """One applicant's history, in days before today (approval-relative for status changes)."""

    source: str = "organic"
    channel: str | None = None
    opened: int = 10
    passed: bool = False
    approved: int | None = None
    job: bool = False
    # (days after approval, status) after the activation at approval.
    changes: list = field(default_factory=list)
    country: str = "DE"
    reapplied: int | None = None  # first application rejected, a second one opened then


@pytest.fixture
def world(cm, customer):
    """Channels and applicants with known histories; returns the channels by code."""
    channels = {}
    for code, kind, partner_type in (
        ("P1", "partner", "trade_school"),
        ("P2", "partner", "repair_cafe"),
        ("E1", "event", None),
        ("C1", "campaign", None),
    ):
        channels[code] = RecruitmentChannel(
            kind=kind,
            code=code,
            name=f"Channel {code}",
            partner_type=partner_type,
            created_by_id=cm.user_id,
        )
        db.session.add(channels[code])
    skill = db.session.scalar(select(Skill).where(Skill.slug == "tv_wall_mount"))
    test = SkillTest(skill_id=skill.id, created_by_id=cm.user_id)
    db.session.add(test)
    db.session.commit()
    stories = [
        Story("referral", opened=150, passed=True, approved=140, job=True),
        Story(
            "referral",
            opened=150,
            passed=True,
            approved=140,
            job=True,
            changes=[(50, "paused"), (80, "offboarded")],
        ),
        Story("partner", "P1", opened=120, approved=100, changes=[(60, "paused"), (85, "active")]),
        Story("partner", "P2", opened=30, passed=True, approved=20, job=True),
        Story("organic", opened=10),
        Story("event", "E1", opened=400, passed=True, approved=390, job=True),
        Story("campaign", "C1", opened=50, approved=5, reapplied=5),
        Story("organic", opened=5, country="AT"),
    ]
    for story in stories:
        _write(story, channels, test, customer)
    return channels


def _ago(days: int):
    return utcnow() - timedelta(days=days)


def _write(story: Story, channels: dict, test: SkillTest, customer) -> None:
    actor = make_actor("member")
    member = db.session.get(Member, actor.profile_id)
    member.country = story.country
    first = db.session.scalar(select(Application).where(Application.member_id == member.id))
    first.opened_at = _ago(story.opened)
    first.source = story.source
    first.channel_id = channels[story.channel].id if story.channel else None
    approved_one = first
    if story.reapplied is not None:
        first.status, first.decided_at = "rejected", _ago(story.reapplied + 1)
        approved_one = Application(
            member_id=member.id,
            number=2,
            opened_at=_ago(story.reapplied),
            source=first.source,
            channel_id=first.channel_id,
        )
        db.session.add(approved_one)
    if story.passed:
        db.session.add(
            SkillTestAttempt(
                member_id=member.id,
                test_id=test.id,
                skill_id=test.skill_id,
                status="submitted",
                question_ids=[],
                pass_mark_percent=80,
                score_percent=100,
                passed=True,
                started_at=first.opened_at,
                expires_at=first.opened_at + timedelta(hours=1),
            )
        )
    if story.approved is not None:
        approved_at = _ago(story.approved)
        approved_one.status, approved_one.decided_at = "approved", approved_at
        statuses = [(0, "active"), *story.changes]
        befores = ["applicant", *[s for _, s in statuses[:-1]]]
        for (days, status), before in zip(statuses, befores, strict=True):
            db.session.add(
                MemberStatusChange(
                    member_id=member.id,
                    from_status=before,
                    to_status=status,
                    reason="story",
                    created_at=approved_at + timedelta(days=days),
                )
            )
    db.session.commit()
    if story.job:
        job_id = finished_job(customer, actor, status="confirmed")
        force_job_state(job_id, confirmed_at=_ago(1))


def figures(*values) -> dict:
    return dict(zip(STEPS, values, strict=True))


def counts(entry: dict) -> dict:
    return {step: entry[step] for step in STEPS}


def by_source(body: dict) -> dict:
    return {entry["source"]: entry for entry in body["sources"]}


def period(days: int = 199) -> str:
    today = utcnow().date()
    return f"from={(today - timedelta(days=days)).isoformat()}&to={today.isoformat()}"


def test_the_funnel_counts_each_source_and_channel_exactly(client, cm, world):
    body = ok(client.get(f"{URL}?{period()}", headers=cm.headers))
    sources = by_source(body)
    assert list(sources) == ["referral", "event", "partner", "campaign", "organic"]
    assert counts(sources["referral"]) == figures(2, 2, 2, 2, 1)
    assert sources["referral"]["conversion"] == {
        "passed_skill_test": 1.0,
        "approved": 1.0,
        "first_job": 1.0,
        "active_after_90_days": 0.5,
    }
    assert "channels" not in sources["referral"]
    # The event applicant first applied before the period: not in this cohort.
    assert counts(sources["event"]) == figures(0, 0, 0, 0, 0)
    assert sources["event"]["channels"] == []
    assert all(rate is None for rate in sources["event"]["conversion"].values())
    partner = sources["partner"]
    assert counts(partner) == figures(2, 1, 2, 1, 1)
    assert partner["conversion"] == {
        "passed_skill_test": 0.5,
        "approved": 2.0,
        "first_job": 0.5,
        "active_after_90_days": 1.0,
    }
    p1, p2 = partner["channels"]
    assert (p1["code"], p1["name"], p1["kind"]) == ("P1", "Channel P1", "partner")
    # Paused at 60 days, active again at 85: active at 90 days.
    assert counts(p1) == figures(1, 0, 1, 0, 1)
    assert p1["conversion"]["approved"] is None
    # Approved 20 days ago: not yet counted as retained.
    assert counts(p2) == figures(1, 1, 1, 1, 0)
    # A rejected then approved re-application counts once, as approved.
    assert counts(sources["campaign"]) == figures(1, 0, 1, 0, 0)
    assert [c["code"] for c in sources["campaign"]["channels"]] == ["C1"]
    assert counts(sources["organic"]) == figures(2, 0, 0, 0, 0)
    assert counts(body["total"]) == figures(7, 3, 5, 3, 2)


def test_the_funnel_filters_by_country_source_and_channel(client, cm, world):
    body = ok(client.get(f"{URL}?{period()}&country=AT", headers=cm.headers))
    assert counts(body["total"]) == figures(1, 0, 0, 0, 0)
    body = ok(client.get(f"{URL}?{period()}&source=partner", headers=cm.headers))
    assert [entry["source"] for entry in body["sources"]] == ["partner"]
    assert counts(body["total"]) == figures(2, 1, 2, 1, 1)
    channel_id = world["P1"].id
    body = ok(client.get(f"{URL}?{period()}&channel_id={channel_id}", headers=cm.headers))
    assert counts(body["total"]) == figures(1, 0, 1, 0, 1)
    assert body["channel_id"] == channel_id


def test_the_default_period_is_the_last_90_days(client, cm, world):
    body = ok(client.get(URL, headers=cm.headers))
    today = utcnow().date()
    assert body["to"] == today.isoformat()
    assert date.fromisoformat(body["from"]) == today - timedelta(days=89)
    sources = by_source(body)
    assert counts(sources["partner"]) == figures(1, 1, 1, 1, 0)
    assert counts(sources["campaign"]) == figures(1, 0, 1, 0, 0)
    assert counts(sources["organic"]) == figures(2, 0, 0, 0, 0)
    assert counts(body["total"]) == figures(4, 1, 2, 1, 0)


def test_bad_queries_are_422_naming_the_parameter(client, cm):
    def field_of(query: str) -> list:
        body = problem(client.get(f"{URL}?{query}", headers=cm.headers), 422)
        return list(body["errors"]["query"])

    assert field_of("from=2026-02-01&to=2026-01-01") == ["from"]
    assert field_of("from=2000-01-01&to=2026-01-01") == ["from"]
    assert field_of("channel_id=999999") == ["channel_id"]
    assert field_of("source=tv") == ["source"]
    assert field_of("country=FR") == ["country"]


def test_the_funnel_is_for_staff(client, member):
    assert client.get(URL, headers=member.headers).status_code == 403
