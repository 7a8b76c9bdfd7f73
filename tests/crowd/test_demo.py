"""`crowd.demo.seed`: a small demo crowd, its accounts, its consistency and idempotency."""

import math
import random
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from crowd import demo
from crowd.accounts.models import User
from crowd.customers.models import Customer, CustomerAddress, FavouriteMember
from crowd.demo_places import CITIES
from crowd.members.models import (
    AvailabilitySlot,
    Member,
    MemberSkill,
    MemberStats,
    MemberStatusChange,
    Skill,
    SkillCategory,
)

MEMBERS, CUSTOMERS = 40, 8
STAFF = {demo.ADMIN_EMAIL: "admin", **{email: "community_manager" for email in demo.CM_EMAILS}}


@pytest.fixture
def seeded(db_session):
    return demo.seed(members=MEMBERS, customers=CUSTOMERS, seed=3, echo=lambda *_: None)


def _count(db_session, model, *where):
    return db_session.scalar(select(func.count()).select_from(model).where(*where))


def test_seed_creates_the_expected_counts(seeded, db_session):
    assert _count(db_session, Member) == MEMBERS
    assert _count(db_session, Customer) == CUSTOMERS
    assert _count(db_session, MemberStats) == MEMBERS
    assert _count(db_session, User, User.role == "admin") == 1
    assert _count(db_session, User, User.role == "community_manager") == 2
    assert _count(db_session, User, User.role == "member") == MEMBERS
    assert _count(db_session, User, User.role == "customer") == CUSTOMERS
    assert _count(db_session, CustomerAddress) >= CUSTOMERS
    assert f"members    {MEMBERS} " in seeded
    assert demo.DEMO_PASSWORD in seeded and demo.ADMIN_EMAIL in seeded


@pytest.mark.parametrize(
    "email", [demo.ADMIN_EMAIL, *demo.CM_EMAILS, demo.CUSTOMER_EMAIL, demo.MEMBER_EMAIL]
)
def test_named_accounts_sign_in_with_the_demo_password(seeded, client, email):
    response = client.post(
        "/api/v1/auth/tokens", json={"email": email, "password": demo.DEMO_PASSWORD}
    )
    assert response.status_code == 201, response.json
    assert response.json["token"]
    assert response.json["user"]["role"] == STAFF.get(
        email, "customer" if email == demo.CUSTOMER_EMAIL else "member"
    )


def test_bulk_users_share_one_hash_and_can_sign_in(seeded, client, db_session):
    bulk_users = select(User.password_hash).where(User.email.like(f"%@{demo.BULK_DOMAIN}"))
    assert len(set(db_session.scalars(bulk_users))) == 1
    bulk = db_session.scalar(
        select(User.email).where(User.email.like(f"%@{demo.BULK_DOMAIN}")).limit(1)
    )
    response = client.post(
        "/api/v1/auth/tokens", json={"email": bulk, "password": demo.DEMO_PASSWORD}
    )
    assert response.status_code == 201


def test_every_member_has_catalogue_skills_in_one_or_two_categories(seeded, db_session):
    rows = db_session.execute(
        select(MemberSkill.member_id, Skill.category_id, MemberSkill.proficiency).join(
            Skill, Skill.id == MemberSkill.skill_id
        )
    ).all()
    by_member: dict[int, list] = {}
    for member_id, category_id, proficiency in rows:
        by_member.setdefault(member_id, []).append(category_id)
        assert 1 <= proficiency <= 3
    assert len(by_member) == MEMBERS
    for categories in by_member.values():
        assert 2 <= len(categories) <= 6
        assert 1 <= len(set(categories)) <= 2


def test_verified_skills_are_verified_by_a_community_manager(seeded, db_session):
    rows = db_session.execute(
        select(MemberSkill, SkillCategory.requires_verification, Member.status)
        .join(Skill, Skill.id == MemberSkill.skill_id)
        .join(SkillCategory, SkillCategory.id == Skill.category_id)
        .join(Member, Member.id == MemberSkill.member_id)
    ).all()
    cm_ids = set(db_session.scalars(select(User.id).where(User.role == "community_manager")))
    for skill, requires_verification, status in rows:
        if skill.verified:
            assert requires_verification and status != "applicant"
            assert skill.verified_by_id in cm_ids and skill.verified_at is not None
        else:
            assert skill.verified_by_id is None


def test_members_are_placed_near_their_city_with_consistent_profiles(seeded, db_session):
    centres = {c["city"]: c for c in CITIES}
    for member in db_session.scalars(select(Member)):
        centre = centres[member.city]
        assert (member.postcode, member.country) == (centre["postcode"], centre["country"])
        assert _km(member.lat, member.lon, centre["lat"], centre["lon"]) <= 8.5
        assert 10 <= member.service_radius_km <= 60
        assert 1 <= member.max_concurrent_jobs <= 4
        assert (member.business_name is not None) == (member.kind == "professional")
        if member.status == "active":
            assert 1 <= member.level_rank <= 4
        if member.status == "applicant":
            assert member.level_rank == 0


def test_stats_agree_with_each_other(seeded, db_session):
    rows = db_session.execute(select(MemberStats, Member.status).join(Member)).all()
    for stats, status in rows:
        answered = stats.offers_accepted + stats.offers_declined
        assert stats.offers_received >= answered
        assert stats.offers_accepted >= stats.jobs_completed + stats.jobs_cancelled
        assert stats.rating_count <= stats.jobs_completed
        if stats.rating_count:
            assert 3.8 <= stats.average_rating <= 5.0
            assert stats.average_rating == round(stats.rating_sum / stats.rating_count, 3)
        assert len(stats.recent_response_seconds) == min(50, answered)
        if status == "applicant":
            assert stats.jobs_completed == 0 and stats.offers_received == 0


def test_status_history_leads_to_the_current_status(seeded, db_session):
    for member in db_session.scalars(select(Member)):
        history = db_session.scalars(
            select(MemberStatusChange)
            .where(MemberStatusChange.member_id == member.id)
            .order_by(MemberStatusChange.created_at)
        ).all()
        assert history[0].to_status == "applicant" and history[0].from_status is None
        assert history[-1].to_status == member.status
        assert [h.from_status for h in history[1:]] == [h.to_status for h in history[:-1]]


def test_availability_fits_the_kind_of_member(seeded, db_session):
    rows = db_session.execute(select(AvailabilitySlot, Member.kind).join(Member)).all()
    assert rows
    for slot, kind in rows:
        if kind == "professional" and slot.weekday < 5:
            assert slot.start_minute >= 7 * 60 and slot.end_minute <= 18 * 60
        if kind == "private" and slot.weekday < 5:
            assert slot.start_minute >= 17 * 60


def test_demo_customer_has_a_home_and_a_favourite(seeded, db_session):
    customer = db_session.scalar(
        select(Customer).join(User).where(User.email == demo.CUSTOMER_EMAIL)
    )
    assert [a.label for a in customer.addresses] == ["Zuhause"]
    assert _count(db_session, FavouriteMember, FavouriteMember.customer_id == customer.id) == 1


def test_second_run_does_not_duplicate(seeded, db_session):
    before = {m: _count(db_session, m) for m in (User, Member, Customer, MemberSkill)}
    summary = demo.seed(members=MEMBERS, customers=CUSTOMERS, seed=3, echo=lambda *_: None)
    assert summary.startswith("demo data already present")
    assert {m: _count(db_session, m) for m in before} == before


def test_partial_demo_data_is_refused(db_session):
    from click import ClickException

    from crowd.accounts import service

    service.create_staff(
        actor_id=None,
        email=demo.CM_EMAILS[0],
        password="x" * 12,
        display_name="CM",
        role="community_manager",
    )
    with pytest.raises(ClickException, match="interrupted"):
        demo.seed(members=5, customers=2, echo=lambda *_: None)


def test_the_same_seed_plans_the_same_crowd():
    now = datetime(2026, 3, 1, tzinfo=UTC)
    first = [demo.plan_member(random.Random(11), i, now) for i in range(30)]
    again = [demo.plan_member(random.Random(11), i, now) for i in range(30)]
    other = [demo.plan_member(random.Random(12), i, now) for i in range(30)]
    assert first == again
    assert first != other


def test_planned_crowd_is_mostly_active_and_partly_professional():
    now = datetime(2026, 3, 1, tzinfo=UTC)
    rng = random.Random(5)
    plans = [demo.plan_member(rng, i, now) for i in range(2000)]
    active = sum(p.status == "active" for p in plans) / len(plans)
    professional = sum(p.kind == "professional" for p in plans) / len(plans)
    assert 0.8 <= active <= 0.9
    assert 0.3 <= professional <= 0.4
    assert {p.status for p in plans} == {"active", "applicant", "paused"}


def _km(lat1, lon1, lat2, lon2):
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371 * math.asin(math.sqrt(a))
