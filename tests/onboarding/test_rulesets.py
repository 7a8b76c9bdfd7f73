"""Level rule sets: drafts, validation naming the field at fault, activation, reading, roles."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crowd.core.background import OutboxMessage
from crowd.extensions import db
from onboarding.models import LevelCategory, LevelRuleset
from payouts.models.plans import CommissionPlan
from tests.factories import make_actor
from tests.onboarding.test_levels_support import (
    LADDER,
    MEMBER,
    RULESETS,
    SENIOR,
    STARTER,
    activate,
    create_ruleset,
    default_ladder,  # noqa: F401  (fixture)
    ruleset_body,
)

pytestmark = pytest.mark.usefixtures("default_ladder")


def first_ladder() -> LevelRuleset:
    """The ladder in force when the test began (the default one)."""
    return db.session.scalar(select(LevelRuleset).where(LevelRuleset.version == 1))


def post(client, actor, body, headers=None):
    return client.post(RULESETS, json=body, headers={**actor.headers, **(headers or {})})


def field_errors(response) -> dict:
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    return response.get_json()["errors"]["json"]


def with_level(index: int, **changes) -> dict:
    levels = [dict(level) for level in LADDER]
    levels[index].update(changes)
    return ruleset_body(levels)


# --- creating drafts ------------------------------------------------------------------------


def test_an_admin_creates_a_draft_numbered_after_the_newest(client, admin):
    body = ruleset_body(
        [SENIOR, STARTER, {**MEMBER, "categories": ["tv_audio", "pc_network"]}],
        demotion_tolerance_percent=85,
        grace_days=30,
    )

    response = post(client, admin, body)

    assert response.status_code == 201, response.get_json()
    ruleset = response.get_json()
    assert ruleset["version"] == first_ladder().version + 1
    assert ruleset["status"] == "draft" and ruleset["activated_at"] is None
    assert (ruleset["demotion_tolerance_percent"], ruleset["grace_days"]) == (85, 30)
    assert ruleset["created_by_id"] == admin.user_id
    levels = ruleset["levels"]
    assert [level["code"] for level in levels] == ["starter", "member", "senior"]
    assert levels[0]["categories"] is None and levels[0]["restricts_categories"] is False
    assert levels[0]["plan_codes"] == ["standard"] and levels[0]["requirements"] == []
    assert levels[1]["categories"] == ["pc_network", "tv_audio"]
    assert levels[1]["restricts_categories"] is True
    assert levels[2]["requirements"] == SENIOR["requirements"]
    stored = db.session.scalars(select(LevelCategory)).all()
    assert len(stored) == 2


def test_whole_numbers_stay_whole_and_rates_stay_rates(client, admin):
    body = with_level(1, requirements=[{"metric": "jobs_completed", "min": 10.0}])
    body["levels"][2]["requirements"] = [{"metric": "average_rating", "min": 4}]
    levels = post(client, admin, body).get_json()["levels"]
    assert levels[1]["requirements"] == [{"metric": "jobs_completed", "min": 10}]
    assert isinstance(levels[1]["requirements"][0]["min"], int)
    assert levels[2]["requirements"] == [{"metric": "average_rating", "min": 4.0}]


def test_an_existing_commission_plan_may_be_offered(client, admin):
    db.session.add(CommissionPlan(code="pro_flat", name="Pro", kind="percentage", percent_bp=1000))
    db.session.commit()
    response = post(client, admin, with_level(2, plan_codes=["standard", "pro_flat"]))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["levels"][2]["plan_codes"] == ["standard", "pro_flat"]
    assert response.get_json()["levels"][2]["default_plan_code"] is None


def test_a_level_names_the_plan_a_promotion_gives(client, admin):
    db.session.add(CommissionPlan(code="pro_flat", name="Pro", kind="percentage", percent_bp=1000))
    db.session.commit()
    level = with_level(2, plan_codes=["standard", "pro_flat"], default_plan_code="pro_flat")
    response = post(client, admin, level)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["levels"][2]["default_plan_code"] == "pro_flat"


def test_creating_with_an_idempotency_key_twice_creates_one_draft(client, admin):
    key = {"Idempotency-Key": "ladder-2027"}
    first = post(client, admin, ruleset_body(), key)
    again = post(client, admin, ruleset_body(), key)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    assert db.session.scalar(select(LevelRuleset).where(LevelRuleset.status == "draft"))


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (
            with_level(1, requirements=[{"metric": "karma", "min": 1}]),
            ("1", "requirements", "0", "metric"),
        ),
        (
            with_level(1, requirements=[{"metric": "jobs_completed", "min": 1, "max": 9}]),
            ("1", "requirements", "0", "min"),
        ),
        (
            with_level(1, requirements=[{"metric": "jobs_completed"}]),
            ("1", "requirements", "0", "min"),
        ),
        (
            with_level(1, requirements=[{"metric": "cancellation_rate", "max": 10}]),
            ("1", "requirements", "0", "max"),
        ),
        (
            with_level(1, requirements=[{"metric": "average_rating", "min": 6}]),
            ("1", "requirements", "0", "min"),
        ),
        (
            with_level(1, requirements=[{"metric": "jobs_completed", "min": 2.5}]),
            ("1", "requirements", "0", "min"),
        ),
        (
            with_level(1, requirements=[{"metric": "tenure_days", "min": -1}]),
            ("1", "requirements", "0", "min"),
        ),
        (
            with_level(
                1,
                requirements=[
                    {"metric": "jobs_completed", "min": 1},
                    {"metric": "jobs_completed", "min": 2},
                ],
            ),
            ("1", "requirements"),
        ),
        (with_level(1, max_concurrent_jobs=21), ("1", "max_concurrent_jobs")),
        (with_level(1, max_concurrent_jobs=0), ("1", "max_concurrent_jobs")),
        (with_level(1, code="Not A Slug"), ("1", "code")),
        (with_level(1, plan_codes=[]), ("1", "plan_codes")),
        (with_level(1, categories=[]), ("1", "categories")),
        (with_level(1, default_plan_code="gold"), ("1", "default_plan_code")),
    ],
    ids=[
        "unknown metric",
        "both min and max",
        "neither min nor max",
        "rate above 1",
        "rating above 5",
        "fractional count",
        "negative days",
        "same bound twice",
        "too many jobs",
        "no jobs",
        "code not a slug",
        "no plan",
        "empty category list",
        "default plan not offered",
    ],
)
def test_a_bad_level_is_refused_naming_the_field(client, admin, body, path):
    errors = field_errors(post(client, admin, body))
    node = errors["levels"]
    for key in path:
        assert key in node, errors
        node = node[key]


@pytest.mark.parametrize(
    ("levels", "message"),
    [
        ([STARTER, SENIOR], "ranks must run 1..2"),
        ([{**STARTER, "rank": 2}, {**MEMBER, "rank": 3}], "ranks must run 1..2"),
        ([STARTER, {**MEMBER, "rank": 1}], "ranks must run 1..2"),
        ([STARTER, {**MEMBER, "code": "starter"}], "codes must be unique: starter"),
        ([], "Length"),
    ],
    ids=["gap", "not from 1", "repeated rank", "duplicate code", "no levels"],
)
def test_a_bad_ladder_is_refused_on_levels(client, admin, levels, message):
    errors = field_errors(post(client, admin, ruleset_body(levels) | {"levels": levels}))
    assert "levels" in errors
    if message != "Length":
        assert message in str(errors["levels"])


def test_an_unknown_plan_code_is_refused_on_the_level(client, admin):
    errors = field_errors(post(client, admin, with_level(2, plan_codes=["standard", "gold"])))
    assert errors == {"levels": {"2": {"plan_codes": ["unknown commission plan: gold"]}}}


def test_an_unknown_category_is_refused_on_the_level(client, admin):
    errors = field_errors(post(client, admin, with_level(0, categories=["tv_audio", "knitting"])))
    assert errors == {"levels": {"0": {"categories": ["unknown skill category: knitting"]}}}


@pytest.mark.parametrize(
    "settings",
    [{"demotion_tolerance_percent": 0}, {"demotion_tolerance_percent": 101}, {"grace_days": -1}],
)
def test_hysteresis_settings_are_checked(client, admin, settings):
    errors = field_errors(post(client, admin, ruleset_body(**settings)))
    assert set(errors) == set(settings)


def test_unknown_fields_are_refused(client, admin):
    errors = field_errors(post(client, admin, with_level(0, perks=["free coffee"])))
    assert "perks" in errors["levels"]["0"]


# --- editing drafts -------------------------------------------------------------------------


def test_a_draft_is_replaced_whole_and_may_reuse_ranks_and_codes(client, admin):
    draft = create_ruleset(client, admin)
    body = ruleset_body(
        [STARTER, {**SENIOR, "rank": 2, "categories": ["tv_audio"]}, {**MEMBER, "rank": 3}],
        grace_days=7,
        note="swapped",
    )

    response = client.put(f"{RULESETS}/{draft['id']}", json=body, headers=admin.headers)

    assert response.status_code == 200, response.get_json()
    updated = response.get_json()
    assert (updated["id"], updated["version"], updated["grace_days"]) == (
        draft["id"],
        draft["version"],
        7,
    )
    assert [lvl["code"] for lvl in updated["levels"]] == ["starter", "senior", "member"]
    assert updated["levels"][1]["categories"] == ["tv_audio"]
    again = client.get(f"{RULESETS}/{draft['id']}", headers=admin.headers).get_json()
    assert again == updated


@pytest.mark.parametrize("status", ["active", "retired"])
def test_only_drafts_can_be_edited(client, admin, status):
    draft = create_ruleset(client, admin)
    activate(client, admin, draft["id"])
    target = draft["id"] if status == "active" else first_ladder().id
    response = client.put(f"{RULESETS}/{target}", json=ruleset_body(), headers=admin.headers)
    assert response.status_code == 409 and response.get_json()["state"] == status


def test_editing_an_unknown_rule_set_is_404(client, admin):
    response = client.put(f"{RULESETS}/424242", json=ruleset_body(), headers=admin.headers)
    assert response.status_code == 404


# --- activation -----------------------------------------------------------------------------


def test_activation_retires_the_old_rule_set_and_queues_an_evaluation(client, admin):
    draft = create_ruleset(client, admin)

    activated = activate(client, admin, draft["id"])

    assert activated["status"] == "active" and activated["activated_by_id"] == admin.user_id
    db.session.expire_all()
    assert db.session.get(LevelRuleset, first_ladder().id).status == "retired"
    active = client.get(f"{RULESETS}/active", headers=admin.headers).get_json()
    assert active["id"] == draft["id"]
    queued = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.task == "onboarding.evaluate_levels")
    )
    assert queued.kwargs == {"cause": "ruleset", "detail": f"ruleset.activated:v{draft['version']}"}


def test_only_a_draft_can_be_activated(client, admin):
    draft = create_ruleset(client, admin)
    activate(client, admin, draft["id"])
    for ruleset_id, state in ((draft["id"], "active"), (first_ladder().id, "retired")):
        response = client.post(f"{RULESETS}/{ruleset_id}/activate", headers=admin.headers)
        assert response.status_code == 409 and response.get_json()["state"] == state
    assert client.post(f"{RULESETS}/424242/activate", headers=admin.headers).status_code == 404


# --- reading --------------------------------------------------------------------------------


def test_staff_list_rule_sets_newest_first_and_by_status(client, admin, cm):
    first = create_ruleset(client, admin)
    second = create_ruleset(client, admin)

    everything = client.get(RULESETS, headers=cm.headers).get_json()
    drafts = client.get(f"{RULESETS}?status=draft&limit=1", headers=cm.headers).get_json()

    versions = [item["version"] for item in everything["items"]]
    assert versions == sorted(versions, reverse=True)
    assert versions[:2] == [second["version"], first["version"]]
    assert [item["id"] for item in drafts["items"]] == [second["id"]]
    assert drafts["page"]["total"] == 2 and drafts["page"]["next_cursor"]
    rest = client.get(
        f"{RULESETS}?status=draft&limit=1&cursor={drafts['page']['next_cursor']}",
        headers=cm.headers,
    ).get_json()
    assert [item["id"] for item in rest["items"]] == [first["id"]]
    bad = client.get(f"{RULESETS}?status=archived", headers=cm.headers)
    assert bad.status_code == 422


def test_staff_read_the_active_rule_set_and_any_version(client, cm):
    active = client.get(f"{RULESETS}/active", headers=cm.headers)
    one = client.get(f"{RULESETS}/{first_ladder().id}", headers=cm.headers)
    assert active.status_code == one.status_code == 200
    assert active.get_json() == one.get_json()
    assert [lvl["code"] for lvl in one.get_json()["levels"]] == [
        "starter",
        "member",
        "senior",
        "expert",
    ]
    assert client.get(f"{RULESETS}/424242", headers=cm.headers).status_code == 404


# --- who may ----------------------------------------------------------------------------------


def test_community_managers_read_but_do_not_write_rule_sets(client, admin, cm):
    draft = create_ruleset(client, admin)
    assert post(client, cm, ruleset_body()).status_code == 403
    url = f"{RULESETS}/{draft['id']}"
    assert client.put(url, json=ruleset_body(), headers=cm.headers).status_code == 403
    assert client.post(f"{url}/activate", headers=cm.headers).status_code == 403
    assert client.get(url, headers=cm.headers).status_code == 200


@pytest.mark.parametrize("role", ["member", "customer"])
def test_members_and_customers_see_no_rule_sets(client, role):
    actor = make_actor(role)
    for url in (RULESETS, f"{RULESETS}/active", f"{RULESETS}/1"):
        assert client.get(url, headers=actor.headers).status_code == 403
    assert post(client, actor, ruleset_body()).status_code == 403
    assert client.post(f"{RULESETS}/1/dry-run", headers=actor.headers).status_code == 403


def test_rule_sets_need_a_token(client):
    assert client.get(RULESETS).status_code == 401
    assert client.post(RULESETS, json=ruleset_body()).status_code == 401
