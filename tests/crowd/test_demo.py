"""`demo.seed`: a small demo crowd, its accounts, its consistency and idempotency."""

import math
import random
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

import demo
from accounts.models import User
from customers.billing_profile import billing_party as customer_party
from customers.models import (
    Customer,
    CustomerAddress,
    CustomerBillingProfile,
    FavouriteMember,
)
from demo.places import CITIES
from members.billing_profile import billing_parties
from members.models import (
    AvailabilitySlot,
    Member,
    MemberBillingProfile,
    MemberSkill,
    MemberStats,
    MemberStatusChange,
    Skill,
    SkillCategory,
)
from onboarding.levels.evaluation import survey_crowd
from onboarding.levels.metrics import load_figures
from onboarding.levels.rules import active_ruleset
from onboarding.levels.targets import Ladder, climb
from onboarding.models import (
    Application,
    DocumentCheck,
    HouseRulesAcceptance,
    HouseRulesVersion,
    IntroCall,
    LevelChange,
    MemberLevel,
    SkillTest,
    SkillTestAttempt,
    SkillTestQuestion,
    TrainingCompletion,
    TrainingModule,
)
from onboarding.self_billing import agreed_members
from tests.factories import PASSWORD

MEMBERS, CUSTOMERS = 40, 8
STAFF = {demo.ADMIN_EMAIL: "admin", **{email: "community_manager" for email in demo.CM_EMAILS}}


@pytest.fixture
def seeded(db_session):
    return demo.seed(
        members=MEMBERS, customers=CUSTOMERS, seed=3, history=False, echo=lambda *_: None
    )


def _count(db_session, model, *where):
    return db_session.scalar(select(func.count()).select_from(model).where(*where))


def test_seed_creates_the_expected_counts(seeded, db_session):
    # The crowd asked for, and on top the Swiss business customer of the invoicing story.
    assert _count(db_session, Member) == MEMBERS
    assert _count(db_session, Customer) == CUSTOMERS + 1
    assert _count(db_session, MemberStats) == MEMBERS
    assert _count(db_session, User, User.role == "admin") == 1
    assert _count(db_session, User, User.role == "community_manager") == 2
    assert _count(db_session, User, User.role == "member") == MEMBERS
    assert _count(db_session, User, User.role == "customer") == CUSTOMERS + 1
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
    levels = dict(db_session.execute(select(Member.id, Member.level_rank)).all())
    for skill, requires_verification, status in rows:
        if skill.verified:
            # Safety-relevant categories, and whatever Seniors and Experts need verified.
            assert requires_verification or levels[skill.member_id] >= 3
            assert status != "applicant"
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
        assert stats.disputes_lost <= stats.jobs_disputed <= stats.jobs_completed
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
    models = (User, Member, Customer, MemberSkill, SkillTest, TrainingModule, Application)
    before = {m: _count(db_session, m) for m in (*models, HouseRulesVersion, LevelChange)}
    summary = demo.seed(
        members=MEMBERS, customers=CUSTOMERS, seed=3, history=False, echo=lambda *_: None
    )
    assert summary.startswith("demo data already present")
    assert {m: _count(db_session, m) for m in before} == before


def test_partial_demo_data_is_refused(db_session):
    from click import ClickException

    from accounts import service

    service.create_staff(
        actor_id=None,
        email=demo.CM_EMAILS[0],
        password=PASSWORD,
        display_name="CM",
        role="community_manager",
    )
    with pytest.raises(ClickException, match="interrupted"):
        demo.seed(members=5, customers=2, history=False, echo=lambda *_: None)


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


# --- onboarding: tests, house rules, training, applications, levels ------------------------


def test_every_skill_has_a_test_with_answerable_questions(seeded, db_session):
    tests = {test.skill_id: test for test in db_session.scalars(select(SkillTest))}
    assert set(tests) == set(db_session.scalars(select(Skill.id)))
    for test in tests.values():
        assert (test.pass_mark_percent, test.retry_delay_hours, test.active) == (80, 24, True)
        questions = db_session.scalars(
            select(SkillTestQuestion).where(SkillTestQuestion.test_id == test.id)
        ).all()
        assert 5 <= len(questions) <= 8
        assert test.questions_per_attempt == len(questions)
        for question in questions:
            assert question.correct and len(question.options) >= 2
            assert all(0 <= index < len(question.options) for index in question.correct)
            assert "{skill}" not in question.prompt


def test_house_rules_version_one_and_the_training_catalogue(seeded, db_session):
    [rules] = db_session.scalars(select(HouseRulesVersion)).all()
    assert rules.version == 1 and "Ruhezeiten" in rules.body
    modules = db_session.scalars(select(TrainingModule)).all()
    assert len(modules) == 6
    assert {m.completion_mode for m in modules} == {"self_paced", "attended"}


def test_every_member_has_an_application_fitting_their_status(seeded, db_session):
    rows = db_session.execute(select(Member, Application).join(Application)).all()
    assert len(rows) == MEMBERS
    for member, application in rows:
        if member.status == "applicant":
            assert application.status == "in_progress" and application.decided_at is None
        else:
            assert application.status == "approved"
            assert application.decided_at is not None and application.decided_by_id


def test_admitted_members_passed_every_step_but_payout(seeded, db_session):
    admitted = db_session.scalars(select(Member).where(Member.status != "applicant")).all()
    for member in admitted:
        checks = db_session.scalars(
            select(DocumentCheck).where(DocumentCheck.member_id == member.id)
        ).all()
        assert {c.status for c in checks} == {"verified"}
        assert ("identity" in {c.kind for c in checks}) and len(checks) == (
            2 if member.kind == "professional" else 1
        )
        passed = set(
            db_session.scalars(
                select(SkillTestAttempt.skill_id).where(
                    SkillTestAttempt.member_id == member.id, SkillTestAttempt.passed.is_(True)
                )
            )
        )
        assert passed == {claim.skill_id for claim in member.skills}
        call = db_session.scalar(select(IntroCall).where(IntroCall.member_id == member.id))
        assert call.status == "passed" and call.recorded_by_id is not None
        accepted = _count(
            db_session, HouseRulesAcceptance, HouseRulesAcceptance.member_id == member.id
        )
        assert accepted == 1


def test_attempts_are_scored_like_the_server_would(seeded, db_session):
    for attempt in db_session.scalars(select(SkillTestAttempt)):
        questions = {
            q.id: q
            for q in db_session.scalars(
                select(SkillTestQuestion).where(SkillTestQuestion.id.in_(attempt.question_ids))
            )
        }
        right = sum(
            sorted(attempt.answers[str(qid)]) == sorted(questions[qid].correct)
            for qid in attempt.question_ids
        )
        assert attempt.score_percent == right * 100 // len(attempt.question_ids)
        assert attempt.passed == (attempt.score_percent >= attempt.pass_mark_percent)
        assert (attempt.retry_after is None) == attempt.passed


def test_admitted_members_have_a_standing_and_a_level_history(seeded, db_session):
    admitted = db_session.scalars(select(Member).where(Member.status != "applicant")).all()
    assert _count(db_session, MemberLevel) == len(admitted)
    for member in admitted:
        standing = db_session.get(MemberLevel, member.id)
        changes = db_session.scalars(
            select(LevelChange)
            .where(LevelChange.member_id == member.id)
            .order_by(LevelChange.created_at)
        ).all()
        assert [c.cause for c in changes] == ["approval"] + ["daily"] * (member.level_rank - 1)
        assert [c.to_rank for c in changes] == list(range(1, member.level_rank + 1))
        assert changes[0].created_at == standing.active_since
        assert standing.level_since == changes[-1].created_at
        assert (standing.promoted_at is None) == (member.level_rank == 1)
        assert not standing.locked


def test_training_fits_the_levels_and_comes_after_admission(seeded, db_session):
    rows = db_session.execute(
        select(TrainingCompletion, Member.status, MemberLevel.active_since)
        .join(Member, Member.id == TrainingCompletion.member_id)
        .outerjoin(MemberLevel, MemberLevel.member_id == Member.id)
    ).all()
    assert rows
    for completion, _, active_since in rows:
        if active_since is not None:
            assert completion.completed_at >= active_since
    done = Counter(completion.member_id for completion, _, _ in rows)
    for member in db_session.scalars(select(Member).where(Member.level_rank >= 3)):
        assert done.get(member.id, 0) >= (2 if member.level_rank == 3 else 4)


def test_the_first_daily_evaluation_changes_no_demo_member(seeded, db_session):
    ladder = Ladder.of(active_ruleset())
    now = datetime.now(UTC)

    survey = survey_crowd(ladder, now)

    admitted = _count(db_session, Member, Member.status.in_(("active", "paused")))
    assert survey.evaluated == admitted
    assert (survey.promoted, survey.demoted) == (0, 0)
    # Exactly at their level: every level up to theirs met in full, the next one not.
    assert all(climb(f.metrics, ladder) == f.level_rank for f in load_figures(now))


def test_planned_applicants_are_spread_over_the_steps():
    now = datetime(2026, 3, 1, tzinfo=UTC)
    rng = random.Random(9)
    plans = [demo.plan_member(rng, i, now, status="applicant") for i in range(200)]
    stages = {p.onboarding.stage for p in plans}
    assert stages == set(demo.APPLICANT_STAGES)
    assert all(p.onboarding.activated is None and not p.onboarding.promotions for p in plans)


def test_the_invoicing_story_has_billing_profiles_and_agreements(seeded, db_session):
    """A Kleinunternehmer, a VAT-registered member, a German and a Swiss business customer."""
    profiles = db_session.scalars(select(MemberBillingProfile)).all()
    assert sorted(p.small_business for p in profiles) == [False, True]
    small = next(p for p in profiles if p.small_business)
    user_id = db_session.get(Member, small.member_id).user_id
    assert db_session.get(User, user_id).email == demo.MEMBER_EMAIL
    parties = billing_parties([p.member_id for p in profiles])
    assert all(party["complete"] for party in parties.values())
    assert any(party["vat_id"] for party in parties.values())
    assert set(agreed_members(parties)) == set(parties)
    countries = {}
    for profile in db_session.scalars(select(CustomerBillingProfile)):
        party = customer_party(profile.customer_id)
        assert party["is_business"] and party["vat_id"] and party["complete"]
        countries[party["country"]] = party
    assert set(countries) == {"DE", "CH"}
    assert countries["CH"]["vat_id"].startswith("CHE-")
    assert countries["DE"]["buyer_reference"]


def test_identity_checks_under_review_show_their_images(seeded, db_session):
    from crowd.core.files.models import StoredFile
    from crowd.core.files.storage import storage

    checks = db_session.scalars(
        select(DocumentCheck).where(
            DocumentCheck.kind == "identity", DocumentCheck.front_file_id.is_not(None)
        )
    ).all()
    assert checks, "no identity check with images"
    for check in checks:
        for file_id in (check.front_file_id, check.back_file_id, check.selfie_file_id):
            file = db_session.get(StoredFile, file_id)
            assert (file.purpose, file.status, file.owner_user_id) == (
                "identity_document",
                "ready",
                db_session.get(Member, check.member_id).user_id,
            )
            assert file.thumbnail_key and storage().exists(file.key)
