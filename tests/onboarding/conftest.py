"""Shared helpers for the onboarding tests: an applicant's steps done through the API.

Others may append fixtures here; keep the names below stable.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from crowd.core.db import utcnow
from crowd.extensions import db
from members.models import Member
from onboarding.levels.defaults import DEFAULT_GRACE_DAYS, DEFAULT_LEVELS, DEFAULT_TOLERANCE_PERCENT
from onboarding.models import Application, Level, LevelRuleset, SkillTestAttempt
from tests.factories import Actor

API = "/api/v1"
PROFILE = {
    "phone": "+49 30 1234567",
    "postcode": "10117",
    "city": "Berlin",
    "country": "DE",
    "lat": 52.52,
    "lon": 13.405,
}
WEEKDAY_SLOT = {"weekday": 0, "start": "08:00", "end": "18:00"}
PAYOUT_LINKS = {
    "refresh_url": "https://app.example/payout/refresh",
    "return_url": "https://app.example/payout/done",
}
# Four questions with known answers; Q2 needs two options chosen.
QUESTIONS = [
    {"prompt": "Which plug is earthed?", "options": ["Euro", "Schuko", "None"], "correct": [1]},
    {"prompt": "Pick the wall types", "options": ["Brick", "Water", "Drywall"], "correct": [0, 2]},
    {"prompt": "Cut the power first?", "options": ["Yes", "No"], "correct": [0]},
    {"prompt": "VESA 200 means", "options": ["2 cm", "20 mm", "2 m", "200 mm"], "correct": [3]},
]
IDENTITY = {
    "kind": "identity",
    "document_type": "id_card",
    "issuer": "Bürgeramt Berlin-Mitte",
    "issuing_country": "DE",
    "reference_hint": "7X2K",
    "expires_on": "2035-01-31",
}
TRADE = {
    "kind": "trade_certificate",
    "document_type": "meisterbrief",
    "issuer": "Handwerkskammer Berlin",
    "issuing_country": "DE",
    "reference_hint": "0042",
    "expires_on": None,
}


@pytest.fixture
def default_ladder(db_session):
    """The migration's default ladder, put back when a committing test elsewhere emptied it
    (tests/conftest.py's truncate keeps only the skill catalogue); approval needs rank 1.
    Opt in per module: pytestmark = pytest.mark.usefixtures("default_ladder")."""
    active = select(LevelRuleset.id).where(LevelRuleset.status == "active")
    if db.session.scalar(active) is not None:
        return
    last = db.session.scalar(select(func.max(LevelRuleset.version))) or 0
    ruleset = LevelRuleset(
        version=last + 1,
        status="active",
        note="Default ladder",
        demotion_tolerance_percent=DEFAULT_TOLERANCE_PERCENT,
        grace_days=DEFAULT_GRACE_DAYS,
        activated_at=utcnow(),
    )
    ruleset.levels = [Level(**level, restricts_categories=False) for level in DEFAULT_LEVELS]
    db.session.add(ruleset)
    db.session.commit()


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    return response.get_json()


def in_future(**delta) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).replace(microsecond=0).isoformat()


# --- the applicant's steps ------------------------------------------------------------------


def complete_profile(client, actor: Actor, *, skills=("tv_wall_mount",), **overrides) -> None:
    ok(client.patch(f"{API}/me/member", json={**PROFILE, **overrides}, headers=actor.headers))
    claims = {"skills": [{"skill": slug} for slug in skills]}
    ok(client.put(f"{API}/me/member/skills", json=claims, headers=actor.headers))
    week = {"slots": [WEEKDAY_SLOT]}
    ok(client.put(f"{API}/me/member/availability", json=week, headers=actor.headers))


def submit_document(client, actor: Actor, body: dict | None = None, **overrides):
    payload = {**(body or IDENTITY), **overrides}
    return client.post(f"{API}/me/onboarding/documents", json=payload, headers=actor.headers)


def application_id_of(actor: Actor) -> int:
    """The member's latest application."""
    return db.session.scalar(
        select(Application.id)
        .where(Application.member_id == actor.profile_id)
        .order_by(Application.number.desc())
        .limit(1)
    )


def decide_document(
    client, staff: Actor, actor: Actor, check_id: int, result="verified", note=None
):
    url = f"{API}/applications/{application_id_of(actor)}/documents/{check_id}/decision"
    return client.post(url, json={"result": result, "note": note}, headers=staff.headers)


def verified_document(client, staff: Actor, actor: Actor, body: dict | None = None) -> dict:
    check = ok(submit_document(client, actor, body), 201)
    return ok(decide_document(client, staff, actor, check["id"]))


def create_test(client, staff: Actor, skill="tv_wall_mount", questions=None, **settings) -> dict:
    body = {
        "skill": skill,
        "pass_mark_percent": 75,
        "retry_delay_hours": 24,
        "questions_per_attempt": 4,
        "time_limit_minutes": 20,
        "questions": questions or QUESTIONS,
        **settings,
    }
    return ok(client.post(f"{API}/skill-tests", json=body, headers=staff.headers), 201)


def start_attempt(client, actor: Actor, skill="tv_wall_mount"):
    return client.post(f"{API}/me/skill-tests/{skill}/attempts", headers=actor.headers)


def answers(attempt: dict, test: dict, *, right: int) -> list[dict]:
    """Answers to an attempt's questions: the first `right` correct, the others wrong."""
    by_id = {q["id"]: q for q in test["questions"]}
    chosen = []
    for index, served in enumerate(attempt["questions"]):
        question = by_id[served["id"]]
        if index < right:
            options = question["correct"]
        else:
            wrong = next(i for i in range(len(question["options"])) if i not in question["correct"])
            options = [wrong]
        chosen.append({"question_id": served["id"], "options": options})
    return chosen


def submit_attempt(client, actor: Actor, attempt_id: int, chosen: list[dict]):
    url = f"{API}/me/skill-test-attempts/{attempt_id}/submit"
    return client.post(url, json={"answers": chosen}, headers=actor.headers)


def pass_test(client, actor: Actor, test: dict, skill="tv_wall_mount") -> dict:
    attempt = ok(start_attempt(client, actor, skill), 201)
    chosen = answers(attempt, test, right=len(attempt["questions"]))
    return ok(submit_attempt(client, actor, attempt["id"], chosen))


def shift_attempt(attempt_id: int, **delta) -> None:
    """Move an attempt's clock back by `delta` (as if it happened that long ago)."""
    by = timedelta(**delta)
    attempt = db.session.get(SkillTestAttempt, attempt_id)
    values = {"started_at": attempt.started_at - by, "expires_at": attempt.expires_at - by}
    for name in ("submitted_at", "retry_after"):
        if getattr(attempt, name) is not None:
            values[name] = getattr(attempt, name) - by
    db.session.execute(
        update(SkillTestAttempt).where(SkillTestAttempt.id == attempt_id).values(**values)
    )
    db.session.commit()
    db.session.expire_all()


def publish_rules(client, admin: Actor, title="House rules", summary=None) -> dict:
    body = {"title": title, "body": "Be on time. Be kind.", "summary_of_changes": summary}
    return ok(client.post(f"{API}/house-rules", json=body, headers=admin.headers), 201)


def accept_rules(client, actor: Actor, version: int):
    url = f"{API}/me/onboarding/house-rules/accept"
    return client.post(url, json={"version": version}, headers=actor.headers)


def connect_payout(client, actor: Actor) -> dict:
    return ok(
        client.post(f"{API}/me/payout-account", json=PAYOUT_LINKS, headers=actor.headers), 201
    )


def schedule_call(client, staff: Actor, application_id: int, **delta):
    when = in_future(**(delta or {"days": 2}))
    url = f"{API}/applications/{application_id}/intro-call"
    return client.put(url, json={"scheduled_at": when}, headers=staff.headers)


def call_outcome(client, staff: Actor, application_id: int, outcome="passed", note=None):
    url = f"{API}/applications/{application_id}/intro-call/outcome"
    return client.post(url, json={"outcome": outcome, "note": note}, headers=staff.headers)


def passed_call(client, staff: Actor, actor: Actor) -> None:
    application_id = application_id_of(actor)
    ok(schedule_call(client, staff, application_id))
    ok(call_outcome(client, staff, application_id))


def ready_applicant(client, staff: Actor, actor: Actor, *, test: dict | None = None) -> Actor:
    """Do every step for `actor` (profile, documents, test, call, rules if any, payout)."""
    complete_profile(client, actor)
    verified_document(client, staff, actor)
    if actor_kind(actor) == "professional":
        verified_document(client, staff, actor, TRADE)
    if test is not None:
        pass_test(client, actor, test)
    passed_call(client, staff, actor)
    current = client.get(f"{API}/house-rules/current", headers=actor.headers)
    if current.status_code == 200:
        ok(accept_rules(client, actor, current.get_json()["version"]))
    connect_payout(client, actor)
    return actor


def actor_kind(actor: Actor) -> str:
    return db.session.get(Member, actor.profile_id).kind


def onboarding(client, actor: Actor) -> dict:
    return ok(client.get(f"{API}/me/onboarding", headers=actor.headers))


def states(client, actor: Actor) -> dict[str, str]:
    return {step["name"]: step["state"] for step in onboarding(client, actor)["steps"]}


def step(client, actor: Actor, name: str) -> dict:
    return next(s for s in onboarding(client, actor)["steps"] if s["name"] == name)


def leaks_answers(payload) -> bool:
    """Whether a JSON payload anywhere carries a `correct` key."""
    if isinstance(payload, dict):
        return "correct" in payload or any(leaks_answers(v) for v in payload.values())
    if isinstance(payload, list):
        return any(leaks_answers(v) for v in payload)
    return False
