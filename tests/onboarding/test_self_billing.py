"""Self-billing: the agreement's text in the member's language, their decisions (history kept,
a stale text refused), what invoicing reads, and the billing step of the checklist — shown
always, required only with ONBOARDING_BILLING_REQUIRED."""

import pytest
from sqlalchemy import select

from crowd.extensions import db
from members.models import Member
from onboarding.models import Application, SelfBillingAgreement
from onboarding.self_billing import CURRENT_VERSION, TEXTS, agreed_members, agreement_of
from onboarding.steps import STEPS_BY_NAME, checklists, step_context
from tests.factories import make_actor
from tests.onboarding.conftest import (
    API,
    application_id_of,
    ok,
    onboarding,
    problem,
    ready_applicant,
    states,
    step,
)

URL = f"{API}/me/onboarding/self-billing"
PROFILE = {
    "legal_name": "Ada Installateur",
    "street": "Friedrichstr. 1",
    "postcode": "10117",
    "city": "Berlin",
    "country": "DE",
    "small_business": True,
}


def decide(client, actor, agreed, version=CURRENT_VERSION, **headers):
    body = {"agreed": agreed, "text_version": version}
    return client.put(URL, json=body, headers={**actor.headers, **headers})


def decisions(actor) -> list[tuple[bool, str]]:
    rows = db.session.scalars(
        select(SelfBillingAgreement)
        .where(SelfBillingAgreement.member_id == actor.profile_id)
        .order_by(SelfBillingAgreement.id)
    )
    return [(row.agreed, row.language) for row in rows]


@pytest.fixture
def billing_required(app, monkeypatch):
    monkeypatch.setitem(app.config, "ONBOARDING_BILLING_REQUIRED", True)


# --- the agreement ---------------------------------------------------------------------------


def test_the_text_comes_in_the_members_language_and_nothing_is_decided_yet(client, member):
    # The tests' default language is English; a member who chose German reads German.
    ok(client.patch(f"{API}/me", json={"locale": "de"}, headers=member.headers))
    german = ok(client.get(URL, headers=member.headers))
    assert german["text"] == {
        "version": CURRENT_VERSION,
        "language": "de",
        **TEXTS[CURRENT_VERSION]["de"],
    }
    assert "Gutschrift" in german["text"]["body"]
    assert (german["decided"], german["agreed"], german["decided_at"]) == (False, None, None)
    ok(client.patch(f"{API}/me", json={"locale": "en"}, headers=member.headers))
    english = ok(client.get(URL, headers=member.headers))
    assert english["text"]["language"] == "en"
    assert english["text"]["title"] == "Agreement on self-billing"


def test_agreeing_then_withdrawing_keeps_every_decision(client, member):
    agreed = ok(decide(client, member, True, **{"Accept-Language": "de"}))
    assert (agreed["decided"], agreed["agreed"], agreed["text_version"]) == (
        True,
        True,
        CURRENT_VERSION,
    )
    assert agreed["decided_at"] is not None
    # A double tap records one decision.
    ok(decide(client, member, True))
    assert decisions(member) == [(True, "de")]
    withdrawn = ok(decide(client, member, False, **{"Accept-Language": "en"}))
    assert withdrawn["agreed"] is False
    assert decisions(member) == [(True, "de"), (False, "en")]
    again = ok(decide(client, member, True, **{"Accept-Language": "de-CH"}))
    assert again["agreed"] is True
    assert decisions(member) == [(True, "de"), (False, "en"), (True, "de")]
    assert agreement_of(member.profile_id).agreed is True


def test_a_decision_on_a_stale_text_is_a_409_and_records_nothing(client, member):
    body = problem(decide(client, member, True, version="2020-01"), 409)
    assert body["type"].endswith("/self-billing-text-outdated")
    assert CURRENT_VERSION in body["detail"]
    assert body["state"] == "outdated"
    assert decisions(member) == []


@pytest.mark.parametrize(
    "body",
    [{"agreed": True}, {"text_version": CURRENT_VERSION}, {"agreed": "maybe", "text_version": "x"}],
)
def test_a_decision_without_its_fields_is_a_422(client, member, body):
    response = client.put(URL, json=body, headers=member.headers)
    assert problem(response, 422)["errors"]["json"]
    assert decisions(member) == []


def test_only_members_decide(client, customer, cm):
    problem(client.get(URL, headers=customer.headers), 403)
    problem(decide(client, cm, True), 403)


def test_agreed_members_are_those_whose_current_decision_is_yes(client):
    yes, withdrew, declined, silent = (make_actor("member") for _ in range(4))
    ok(decide(client, yes, True))
    ok(decide(client, withdrew, True))
    ok(decide(client, withdrew, False))
    ok(decide(client, declined, False))
    ids = [a.profile_id for a in (yes, withdrew, declined, silent)]
    found = agreed_members(ids)
    assert set(found) == {yes.profile_id}
    version, decided_at = found[yes.profile_id]
    assert version == CURRENT_VERSION and decided_at is not None
    assert agreed_members([]) == {}
    assert agreement_of(silent.profile_id) is None
    assert agreement_of(withdrew.profile_id).agreed is False


# --- the billing step ------------------------------------------------------------------------


def test_by_default_the_billing_step_never_holds_anyone_up(client, member, cm):
    assert step(client, member, "billing")["state"] == "not_required"
    assert step(client, member, "billing")["details"] == {
        "required": False,
        "missing": ["billing_profile", "self_billing"],
        "self_billing": None,
    }
    ready_applicant(client, cm, member)
    body = onboarding(client, member)
    assert body["ready"] is True
    # Done when given anyway; then it counts as done.
    ok(client.put(f"{API}/me/billing-profile", json=PROFILE, headers=member.headers))
    assert states(client, member)["billing"] == "not_required"
    ok(decide(client, member, False))
    assert states(client, member)["billing"] == "done"
    assert onboarding(client, member)["ready"] is True


def test_when_required_approval_waits_for_profile_and_decision(
    client, member, cm, billing_required
):
    ready_applicant(client, cm, member)
    billing = step(client, member, "billing")
    assert billing["state"] == "pending"
    assert billing["details"]["required"] is True
    assert onboarding(client, member)["ready"] is False
    url = f"{API}/applications/{application_id_of(member)}/approve"
    refused = problem(client.post(url, json={}, headers=cm.headers), 409)
    assert refused["type"].endswith("/steps-incomplete")
    assert "billing" in str(refused)
    ok(decide(client, member, True))
    assert step(client, member, "billing")["details"]["missing"] == ["billing_profile"]
    assert onboarding(client, member)["ready"] is False
    ok(client.put(f"{API}/me/billing-profile", json=PROFILE, headers=member.headers))
    billing = step(client, member, "billing")
    assert billing["state"] == "done"
    assert billing["details"] == {"required": True, "missing": [], "self_billing": True}
    assert onboarding(client, member)["ready"] is True


def test_admins_switch_the_requirement_on_at_once(client, member, admin):
    assert states(client, member)["billing"] == "not_required"
    body = {"ONBOARDING_BILLING_REQUIRED": True}
    ok(client.patch(f"{API}/settings", json=body, headers=admin.headers))
    assert states(client, member)["billing"] == "pending"


@pytest.mark.parametrize("required", [False, True])
def test_the_sql_predicate_agrees_with_the_state_shown(client, app, monkeypatch, required):
    monkeypatch.setitem(app.config, "ONBOARDING_BILLING_REQUIRED", required)
    nothing, profile_only, decided_only, both = (make_actor("member") for _ in range(4))
    for actor in (profile_only, both):
        ok(client.put(f"{API}/me/billing-profile", json=PROFILE, headers=actor.headers))
    ok(decide(client, decided_only, True))
    ok(decide(client, both, True))
    ok(decide(client, both, False))  # a withdrawal is a decision too
    actors = (nothing, profile_only, decided_only, both)
    ctx = step_context()
    assert ctx.billing_required is required
    pairs = [
        (db.session.get(Member, a.profile_id), db.session.get(Application, application_id_of(a)))
        for a in actors
    ]
    shown = {
        member_id: next(s for s in states_ if s.name == "billing")
        for member_id, states_ in checklists(pairs, ctx).items()
    }
    in_sql = set(
        db.session.scalars(
            select(Member.id).where(
                Member.id.in_([a.profile_id for a in actors]), STEPS_BY_NAME["billing"].done(ctx)
            )
        )
    )
    assert in_sql == {member_id for member_id, s in shown.items() if s.finished}
    expected_open = set() if not required else {a.profile_id for a in actors[:3]}
    assert {a.profile_id for a in actors} - in_sql == expected_open
    assert shown[both.profile_id].state == "done"
    assert shown[nothing.profile_id].state == ("pending" if required else "not_required")
