"""Level privileges: the job cap on the profile, categories in matching, plans by level."""

from __future__ import annotations

from sqlalchemy import func, select

from crowd.core.db import utcnow
from crowd.extensions import db
from jobs.models import Offer
from members.models import Member, SkillCategory
from onboarding.models import Level, LevelCategory, LevelRuleset
from payouts.models.plans import MemberPlan
from payouts.plans import commission_for
from tests.jobs.conftest import active_member, drain_background, post_job_via_api

PROFILE = "/api/v1/me/member"
CHOOSE_PLAN = "/api/v1/me/level/plan"


def install_ruleset(*levels: dict) -> LevelRuleset:
    """Make a rule set of `levels` the active one (the current one retires), as activation
    would. A level dict: rank, code, max_concurrent_jobs, and optionally plan_codes,
    categories (slugs; restricts the level) and requirements."""
    current = db.session.scalar(select(LevelRuleset).where(LevelRuleset.status == "active"))
    current.status = "retired"
    db.session.flush()
    version = db.session.scalar(select(func.max(LevelRuleset.version))) + 1
    ruleset = LevelRuleset(version=version, status="active", activated_at=utcnow())
    for spec in levels:
        slugs = spec.get("categories")
        level = Level(
            rank=spec["rank"],
            code=spec["code"],
            name=spec["code"].title(),
            requirements=spec.get("requirements", []),
            max_concurrent_jobs=spec["max_concurrent_jobs"],
            plan_codes=spec.get("plan_codes", ["standard"]),
            restricts_categories=slugs is not None,
        )
        for slug in slugs or ():
            category_id = db.session.scalar(
                select(SkillCategory.id).where(SkillCategory.slug == slug)
            )
            level.categories.append(LevelCategory(category_id=category_id))
        ruleset.levels.append(level)
    db.session.add(ruleset)
    db.session.commit()
    return ruleset


# --- the job cap ----------------------------------------------------------------------------


def test_profile_cap_above_the_level_is_422_naming_level_and_cap(client):
    actor = active_member(level_rank=1)

    response = client.patch(PROFILE, json={"max_concurrent_jobs": 4}, headers=actor.headers)

    assert response.status_code == 422, response.json
    [message] = response.json["errors"]["json"]["max_concurrent_jobs"]
    assert "Starter" in message and "3" in message
    assert db.session.get(Member, actor.profile_id).max_concurrent_jobs == 2


def test_profile_cap_up_to_the_level_is_accepted(client):
    actor = active_member(level_rank=2)

    response = client.patch(PROFILE, json={"max_concurrent_jobs": 5}, headers=actor.headers)

    assert response.status_code == 200, response.json
    assert response.json["max_concurrent_jobs"] == 5


def test_other_profile_changes_do_not_check_the_cap(client):
    actor = active_member(level_rank=1)
    db.session.get(Member, actor.profile_id).max_concurrent_jobs = 6  # e.g. set by staff
    db.session.commit()

    response = client.patch(PROFILE, json={"city": "Potsdam"}, headers=actor.headers)

    assert response.status_code == 200, response.json


def test_applicant_has_no_level_cap(client, member):
    response = client.patch(PROFILE, json={"max_concurrent_jobs": 10}, headers=member.headers)
    assert response.status_code == 200, response.json


def test_cap_follows_the_active_rule_set(client):
    actor = active_member(level_rank=1)
    install_ruleset({"rank": 1, "code": "rookie", "max_concurrent_jobs": 1})

    response = client.patch(PROFILE, json={"max_concurrent_jobs": 2}, headers=actor.headers)
    assert response.status_code == 422
    assert "Rookie" in response.json["errors"]["json"]["max_concurrent_jobs"][0]


def test_a_rank_the_active_rule_set_lacks_has_no_cap(client):
    actor = active_member(level_rank=3)
    install_ruleset({"rank": 1, "code": "rookie", "max_concurrent_jobs": 1})
    response = client.patch(PROFILE, json={"max_concurrent_jobs": 10}, headers=actor.headers)
    assert response.status_code == 200, response.json


# --- categories in matching -----------------------------------------------------------------


def restricted_ladder() -> LevelRuleset:
    """Rookies take only smart-home jobs; pros take every category."""
    return install_ruleset(
        {"rank": 1, "code": "rookie", "max_concurrent_jobs": 3, "categories": ["smart_home"]},
        {"rank": 2, "code": "pro", "max_concurrent_jobs": 5},
    )


def test_a_level_restricted_to_a_category_gets_no_offers_in_another(app, client, customer):
    active_member(level_rank=1, skills=("tv_wall_mount", "smart_lighting_setup"))
    pro = active_member(level_rank=2)
    restricted_ladder()

    response = post_job_via_api(client, customer)  # a TV job (tv_audio)
    assert response.status_code == 201, response.json
    drain_background(app)

    offered = set(
        db.session.scalars(select(Offer.member_id).where(Offer.job_id == response.json["id"]))
    )
    assert offered == {pro.profile_id}


def test_a_level_restricted_to_a_category_is_offered_jobs_in_it(app, client, customer):
    rookie = active_member(level_rank=1, skills=("tv_wall_mount", "smart_lighting_setup"))
    restricted_ladder()

    response = post_job_via_api(
        client,
        customer,
        category="smart_home",
        skills=["smart_lighting_setup"],
        title="Set up smart lights in the living room",
    )
    assert response.status_code == 201, response.json
    drain_background(app)

    offered = set(
        db.session.scalars(select(Offer.member_id).where(Offer.job_id == response.json["id"]))
    )
    assert offered == {rookie.profile_id}


def test_candidates_and_eligibility_explain_the_category_restriction(app, client, customer, cm):
    rookie = active_member(level_rank=1)
    pro = active_member(level_rank=2)
    restricted_ladder()
    job_id = post_job_via_api(client, customer).json["id"]

    url = f"/api/v1/jobs/{job_id}/candidates?include_offered=true"
    candidates = client.get(url, headers=cm.headers).json
    explained = client.get(
        f"/api/v1/jobs/{job_id}/candidates/{rookie.profile_id}/eligibility", headers=cm.headers
    ).json

    assert [item["member_id"] for item in candidates["items"]] == [pro.profile_id]
    assert "level_category" in candidates["requirements"]
    assert explained["eligible"] is False
    assert explained["problems"] == [
        "Level Rookie (rank 1) does not take jobs in the category tv_audio."
    ]


def test_unrestricted_default_ladder_takes_every_category(app, client, customer, cm):
    starter = active_member(level_rank=1)
    job_id = post_job_via_api(client, customer).json["id"]

    explained = client.get(
        f"/api/v1/jobs/{job_id}/candidates/{starter.profile_id}/eligibility", headers=cm.headers
    ).json

    assert explained["problems"] == []


def test_me_level_lists_the_categories_of_a_restricted_level(client):
    rookie = active_member(level_rank=1)
    restricted_ladder()

    body = client.get("/api/v1/me/level", headers=rookie.headers).json

    assert body["level"]["privileges"]["categories"] == ["smart_home"]
    ladder = client.get("/api/v1/levels", headers=rookie.headers).json
    assert [level["privileges"]["categories"] for level in ladder["levels"]] == [
        ["smart_home"],
        None,
    ]


# --- commission plans by level --------------------------------------------------------------


def create_plan(client, admin, code="pro10", percent_bp=1000):
    body = {"code": code, "name": f"{code} plan", "kind": "percentage", "percent_bp": percent_bp}
    response = client.post("/api/v1/plans", json=body, headers=admin.headers)
    assert response.status_code == 201, response.json


def plans_ladder():
    return install_ruleset(
        {"rank": 1, "code": "rookie", "max_concurrent_jobs": 3, "plan_codes": ["standard"]},
        {
            "rank": 2,
            "code": "pro",
            "max_concurrent_jobs": 5,
            "plan_codes": ["standard", "pro10"],
        },
    )


def test_member_chooses_a_plan_their_level_offers_and_the_commission_follows(client, admin):
    create_plan(client, admin)
    plans_ladder()
    actor = active_member(level_rank=2)

    response = client.post(CHOOSE_PLAN, json={"plan_code": "pro10"}, headers=actor.headers)

    assert response.status_code == 200, response.json
    assert response.json["member_id"] == actor.profile_id
    assert response.json["plan"]["code"] == "pro10"
    examples = {example["currency"]: example for example in response.json["examples"]}
    assert examples["EUR"]["amount"] == 1000 and examples["EUR"]["earning"] == 9000
    assert commission_for(12_000, "EUR", actor.profile_id, utcnow()).amount == 1200
    [assignment] = response.json["assignments"]
    assert assignment["assigned_by_id"] == actor.user_id


def test_choosing_the_current_plan_again_changes_nothing(client, admin):
    create_plan(client, admin)
    plans_ladder()
    actor = active_member(level_rank=2)

    for _ in range(2):
        response = client.post(CHOOSE_PLAN, json={"plan_code": "pro10"}, headers=actor.headers)
        assert response.status_code == 200

    count = db.session.scalar(select(func.count()).where(MemberPlan.member_id == actor.profile_id))
    assert count == 1


def test_member_returns_to_the_standard_plan(client, admin):
    create_plan(client, admin)
    plans_ladder()
    actor = active_member(level_rank=2)
    client.post(CHOOSE_PLAN, json={"plan_code": "pro10"}, headers=actor.headers)

    response = client.post(CHOOSE_PLAN, json={"plan_code": "standard"}, headers=actor.headers)

    assert response.status_code == 200, response.json
    assert response.json["plan"]["code"] == "standard"
    assert commission_for(10_000, "EUR", actor.profile_id, utcnow()).amount == 2000


def test_a_plan_the_level_does_not_offer_is_409_not_offered(client, admin):
    create_plan(client, admin)
    plans_ladder()
    actor = active_member(level_rank=1)

    response = client.post(CHOOSE_PLAN, json={"plan_code": "pro10"}, headers=actor.headers)

    assert response.status_code == 409, response.json
    assert response.json["state"] == "not_offered"
    assert response.json["type"] == "https://crowd.example/problems/plan-not-offered"
    assert "Rookie" in response.json["detail"]
    assert commission_for(10_000, "EUR", actor.profile_id, utcnow()).plan_code == "standard"


def test_an_applicant_is_offered_no_plan(client, admin, member):
    create_plan(client, admin)

    response = client.post(CHOOSE_PLAN, json={"plan_code": "pro10"}, headers=member.headers)

    assert response.status_code == 409
    assert response.json["state"] == "not_offered"


def test_an_unknown_plan_is_404(client):
    actor = active_member(level_rank=2)
    response = client.post(CHOOSE_PLAN, json={"plan_code": "nope"}, headers=actor.headers)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_plan_choice_validates_the_body(client):
    actor = active_member(level_rank=2)
    for body in ({}, {"plan_code": ""}, {"plan_code": "pro10", "extra": 1}):
        response = client.post(CHOOSE_PLAN, json=body, headers=actor.headers)
        assert response.status_code == 422, body


def test_plan_choice_is_for_members(client, customer, cm, admin):
    assert client.post(CHOOSE_PLAN, json={"plan_code": "standard"}).status_code == 401
    for actor in (customer, cm, admin):
        response = client.post(CHOOSE_PLAN, json={"plan_code": "standard"}, headers=actor.headers)
        assert response.status_code == 403
