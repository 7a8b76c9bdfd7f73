"""Onboarding review through the Flask test client: the queue (tabs with counts per step,
filters, oldest first), its CSV, an application's page and every action on it (document
decisions, intro call, approve, reject, ask for more, skill verification, the retry-delay
override) with their refusals shown on the page, the bulk actions (per item, a refused item
does not undo the others), and the refusal of anyone but staff."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from sqlalchemy import select, update

from crowd.core.db import utcnow
from crowd.extensions import db
from members.models import Member, MemberSkill, Skill
from onboarding.models import (
    Application,
    DocumentCheck,
    InformationRequest,
    IntroCall,
    SkillTestAttempt,
)
from tests.console.helpers import csrf_of, make_staff, post_form, sign_in
from tests.factories import PASSWORD, make_actor
from tests.jobs.conftest import drain_background, notifications_for
from tests.onboarding.conftest import (
    answers,
    application_id_of,
    complete_profile,
    create_test,
    default_ladder,  # noqa: F401 (a fixture)
    ok,
    ready_applicant,
    schedule_call,
    start_attempt,
    submit_attempt,
    submit_document,
)

pytestmark = pytest.mark.usefixtures("default_ladder")
BASE = "/console/onboarding"


@pytest.fixture
def console(client):
    """A community manager signed in to the console."""
    staff = make_staff()
    assert sign_in(client, staff).status_code == 303
    return staff


def _html(response) -> str:
    return response.get_data(as_text=True)


def _page(client, application_id: int) -> str:
    response = client.get(f"{BASE}/applications/{application_id}")
    assert response.status_code == 200
    return _html(response)


def _post(client, application_id: int, action: str, **fields):
    """POST a form of the application's page (with its CSRF token)."""
    page = f"{BASE}/applications/{application_id}"
    return post_form(client, page, f"{page}/{action}", **fields)


def _reload(model, row_id):
    db.session.expire_all()
    return db.session.get(model, row_id)


def _tab_count(html: str, step: str) -> int:
    found = re.search(rf'data-step="{step}".*?<span class="count">(\d+)</span>', html, re.S)
    assert found, step
    return int(found.group(1))


@pytest.fixture
def queue(client, cm):
    """Three applicants: ready in Berlin; identity waiting in Munich (router skill, opened
    10 days ago); intro call scheduled in Vienna. Their application ids by name."""
    berlin = make_actor("member", display_name="Berta Berlin")
    ready_applicant(client, cm, berlin)
    munich = make_actor("member", display_name="Max München")
    complete_profile(client, munich, skills=("router_config",), postcode="80331", city="München")
    submit_document(client, munich)
    vienna = make_actor("member", display_name="Wanda Wien")
    complete_profile(
        client, vienna, postcode="1010", city="Wien", country="AT", lat=48.2, lon=16.37
    )
    ok(schedule_call(client, cm, application_id_of(vienna)))
    ids = {"berlin": berlin, "munich": munich, "vienna": vienna}
    ids = {name: application_id_of(actor) for name, actor in ids.items()}
    db.session.execute(
        update(Application)
        .where(Application.id == ids["munich"])
        .values(opened_at=utcnow() - timedelta(days=10))
    )
    db.session.commit()
    return {**ids, "actors": {"berlin": berlin, "munich": munich, "vienna": vienna}}


def _rows(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-application="(\d+)"', html)]


# --- the queue ----------------------------------------------------------------------------


def _tabs(client, **query) -> str:
    """The tabs fragment the queue page loads (hx-get) for the same filters."""
    page = _html(client.get(f"{BASE}/", query_string=query))
    found = re.search(r'<nav class="step-tabs"[^>]*hx-get="([^"]+)"', page)
    assert found, "the queue page loads its tabs"
    assert '<span class="count">' not in page  # counted in the fragment, not here
    fragment = client.get(unescape(found.group(1)))
    assert fragment.status_code == 200
    text = fragment.get_data(as_text=True)
    assert "<html" not in text and 'class="step-tabs"' in text and "hx-get" not in text
    return text


def test_the_queue_shows_counts_per_step_and_the_oldest_first(client, console, queue):
    page = _html(client.get(f"{BASE}/"))
    assert _rows(page) == [queue["berlin"], queue["munich"], queue["vienna"]]
    tabs = _tabs(client)
    assert _tab_count(tabs, "all") == 3
    assert _tab_count(tabs, "identity") == 2  # Munich's waits for its check, Vienna has none
    assert _tab_count(tabs, "intro_call") == 2
    assert _tab_count(tabs, "profile") == 0
    html = page
    assert 'data-waiting-days="10"' in html
    assert "Berta Berlin" in html and 'href="/console/onboarding/applications/' in html


def test_the_queue_filters_by_step_region_skill_and_waiting_time(client, console, queue):
    def rows(**query):
        response = client.get(f"{BASE}/", query_string=query)
        assert response.status_code == 200
        return _rows(_html(response))

    assert rows(step="identity") == [queue["munich"], queue["vienna"]]
    assert rows(country="AT") == [queue["vienna"]]
    assert rows(country="DE", postcode_prefix="80") == [queue["munich"]]
    assert rows(skill="router_config") == [queue["munich"]]
    assert rows(waiting_days="7") == [queue["munich"]]
    assert rows(q="wanda") == [queue["vienna"]]
    # The tabs count within the other filters.
    tabs = _tabs(client, country="AT", step="identity")
    assert _tab_count(tabs, "all") == 1
    assert 'data-step="identity" aria-current="page"' in tabs
    # The fragment checks its filters as the page does.
    refused = client.get(f"{BASE}/step-tabs", query_string={"waiting_days": "-3"})
    assert refused.status_code == 422 and '<span class="count">' not in _html(refused)


def test_a_bad_filter_shows_the_queue_again_with_the_message(client, console, queue):
    response = client.get(f"{BASE}/", query_string={"waiting_days": "-3", "skill": "x"})
    assert response.status_code == 422
    html = _html(response)
    assert 'class="error" role="alert"' in html and "waiting_days" in html
    response = client.get(f"{BASE}/", query_string={"skill": "no_such_skill"})
    assert response.status_code == 422
    assert "unknown skill" in _html(response)


def test_the_csv_holds_the_filtered_queue_with_each_steps_state(client, console, queue):
    response = client.get(f"{BASE}/applications.csv", query_string={"step": "identity"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True).lstrip("\ufeff")
    table = list(csv.DictReader(io.StringIO(text)))
    assert [int(row["application_id"]) for row in table] == [queue["munich"], queue["vienna"]]
    munich = table[0]
    assert (munich["display_name"], munich["postcode"]) == ("Max München", "80331")
    assert (munich["profile"], munich["identity"], munich["intro_call"]) == (
        "done",
        "open",
        "open",
    )
    everyone = client.get(f"{BASE}/applications.csv").get_data(as_text=True)
    assert "Berta Berlin" in everyone


# --- an application's page ------------------------------------------------------------------


def test_the_application_page_shows_checks_tests_call_and_rules(client, cm, console, queue):
    html = _page(client, queue["munich"])
    assert "Max München" in html
    assert 'data-check-status="submitted"' in html
    assert 'data-step="identity"' in html
    for section in ("identity", "skill-tests", "intro-call", "house-rules", "training"):
        assert f'id="{section}"' in html
    assert f'action="/console/onboarding/applications/{queue["munich"]}/approve"' in html
    assert client.get(f"{BASE}/applications/999999").status_code == 404


def test_document_decisions_verify_and_refuse_a_rejection_without_note(client, console, queue):
    check_id = db.session.scalar(
        select(DocumentCheck.id).where(
            DocumentCheck.member_id == queue["actors"]["munich"].profile_id
        )
    )
    action = f"documents/{check_id}/decision"
    refused = _post(client, queue["munich"], action, result="rejected", note="")
    assert refused.status_code == 422
    assert 'data-error="identity"' in _html(refused) and "note" in _html(refused)
    assert _reload(DocumentCheck, check_id).status == "submitted"
    done = _post(client, queue["munich"], action, result="verified")
    assert done.status_code == 303
    assert _reload(DocumentCheck, check_id).status == "verified"
    again = _post(client, queue["munich"], action, result="verified")
    assert again.status_code == 409
    assert "already" in _html(again)


def test_the_intro_call_is_scheduled_and_its_outcome_recorded_with_notes(client, console, queue):
    app_id = queue["munich"]
    no_call = _post(client, app_id, "intro-call/outcome", outcome="passed", note="x")
    assert no_call.status_code == 409
    assert 'data-error="intro-call"' in _html(no_call)
    past = _post(client, app_id, "intro-call", scheduled_at="2020-01-01T10:00")
    assert past.status_code == 422 and "future" in _html(past)
    when = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    assert _post(client, app_id, "intro-call", scheduled_at=when).status_code == 303
    call = db.session.scalar(select(IntroCall).where(IntroCall.application_id == app_id))
    assert call.status == "scheduled"
    assert call.scheduled_at.strftime("%Y-%m-%dT%H:%M") == when
    recorded = _post(
        client, app_id, "intro-call/outcome", outcome="passed", note="Knows the rules."
    )
    assert recorded.status_code == 303
    call = _reload(IntroCall, call.id)
    assert (call.status, call.note) == ("passed", "Knows the rules.")
    assert "Knows the rules." in _page(client, app_id)


def test_approving_an_incomplete_application_shows_the_missing_steps(client, console, queue):
    refused = _post(client, queue["munich"], "approve")
    assert refused.status_code == 409
    html = _html(refused)
    assert 'data-error="decision"' in html and "identity" in html
    assert _reload(Application, queue["munich"]).status == "in_progress"


def test_approving_a_ready_application_admits_the_member(client, console, queue):
    done = _post(client, queue["berlin"], "approve", note="Welcome")
    assert done.status_code == 303
    assert _reload(Application, queue["berlin"]).status == "approved"
    member = _reload(Member, queue["actors"]["berlin"].profile_id)
    assert member.status == "active"
    assert 'data-application-status="approved"' in _page(client, queue["berlin"])
    twice = _post(client, queue["berlin"], "approve")
    assert twice.status_code == 409


def test_rejecting_needs_a_reason(client, console, queue):
    refused = _post(client, queue["vienna"], "reject", reason="")
    assert refused.status_code == 422 and "reason" in _html(refused)
    assert _reload(Application, queue["vienna"]).status == "in_progress"
    assert _post(client, queue["vienna"], "reject", reason="Too far").status_code == 303
    application = _reload(Application, queue["vienna"])
    assert (application.status, application.reason) == ("rejected", "Too far")


def test_asking_for_more_keeps_the_request_and_tells_the_applicant(app, client, console, queue):
    empty = _post(client, queue["munich"], "request-info", reason=" ")
    assert empty.status_code == 422
    asked = _post(client, queue["munich"], "request-info", reason="A sharper photo, please.")
    assert asked.status_code == 303
    [row] = db.session.scalars(
        select(InformationRequest).where(InformationRequest.application_id == queue["munich"])
    )
    assert row.reason == "A sharper photo, please."
    assert _reload(Application, queue["munich"]).status == "in_progress"
    assert "A sharper photo, please." in _page(client, queue["munich"])
    drain_background(app)
    munich = queue["actors"]["munich"]
    assert notifications_for(munich.user_id, "onboarding.info_requested")
    _post(client, queue["vienna"], "reject", reason="No")
    decided = _post(client, queue["vienna"], "request-info", reason="More?")
    assert decided.status_code == 409


def _claim(member_id: int, slug: str) -> MemberSkill:
    db.session.expire_all()
    return db.session.scalar(
        select(MemberSkill)
        .join(Skill, Skill.id == MemberSkill.skill_id)
        .where(MemberSkill.member_id == member_id, Skill.slug == slug)
    )


def test_a_skill_is_verified_and_a_failed_tests_wait_reset(client, cm, console, queue):
    munich = queue["actors"]["munich"]
    test = create_test(client, cm, "router_config")
    attempt = ok(start_attempt(client, munich, "router_config"), 201)
    ok(submit_attempt(client, munich, attempt["id"], answers(attempt, test, right=1)))
    html = _page(client, queue["munich"])
    assert f'data-attempt="{attempt["id"]}"' in html and "25 %" in html
    base = f"members/{munich.profile_id}"
    reset = _post(client, queue["munich"], f"{base}/skill-tests/router_config/reset")
    assert reset.status_code == 303
    assert _reload(SkillTestAttempt, attempt["id"]).retry_after <= utcnow()
    verified = _post(client, queue["munich"], f"{base}/skills/router_config/verify")
    assert verified.status_code == 303
    assert _claim(munich.profile_id, "router_config").verified
    unclaimed = _post(client, queue["munich"], f"{base}/skills/tv_wall_mount/verify")
    assert unclaimed.status_code == 404


# --- bulk actions -------------------------------------------------------------------------


def _bulk(client, action: str, ids: list[int], **fields):
    token = csrf_of(_html(client.get(f"{BASE}/")))
    data = {"csrf_token": token, "application_ids": [str(i) for i in ids], **fields}
    return client.post(f"{BASE}/bulk/{action}", data=data)


def test_bulk_approve_reports_each_item_and_a_refusal_undoes_nothing_else(
    client, cm, console, queue
):
    other = make_actor("member", display_name="Otto Ready")
    ready_applicant(client, cm, other)
    other_id = application_id_of(other)
    response = _bulk(client, "approve", [queue["berlin"], queue["munich"], other_id])
    assert response.status_code == 200
    html = _html(response)
    assert 'data-done="2" data-refused="1"' in html
    assert f'data-application="{queue["munich"]}" data-result="refused"' in html
    assert f'data-application="{queue["berlin"]}" data-result="done"' in html
    for approved in (queue["berlin"], other_id):
        assert _reload(Application, approved).status == "approved"
    assert _reload(Application, queue["munich"]).status == "in_progress"
    assert _bulk(client, "approve", []).status_code == 422


def test_bulk_verify_verifies_one_skill_for_several_members(client, console, queue):
    response = _bulk(
        client, "verify-skill", [queue["berlin"], queue["munich"]], skill="tv_wall_mount"
    )
    assert response.status_code == 200
    html = _html(response)
    # Munich claims router_config only: refused; Berlin's is verified.
    assert 'data-done="1" data-refused="1"' in html
    assert _claim(queue["actors"]["berlin"].profile_id, "tv_wall_mount").verified
    both = _bulk(client, "verify-skill", [queue["munich"], queue["vienna"]], skill="router_config")
    assert 'data-done="1"' in _html(both)
    assert _claim(queue["actors"]["munich"].profile_id, "router_config").verified
    assert _bulk(client, "verify-skill", [queue["munich"]], skill="").status_code == 422


# --- who may ------------------------------------------------------------------------------


def test_members_and_customers_are_refused_and_anonymous_sent_to_sign_in(client, member, customer):
    assert client.get(f"{BASE}/").status_code == 303
    assert client.get(f"{BASE}/step-tabs").status_code == 303  # the counts too
    for actor in (member, customer):
        refused = post_form(client, "/console/sign-in", email=actor.email, password=PASSWORD)
        assert refused.status_code == 403
        assert client.get(f"{BASE}/").status_code == 303  # still no console session
        assert client.get(f"{BASE}/applications.csv").status_code == 303
        assert client.get(f"{BASE}/step-tabs").status_code == 303


def test_a_form_without_its_csrf_token_is_refused(client, console, queue):
    response = client.post(f"{BASE}/applications/{queue['berlin']}/approve", data={})
    assert response.status_code == 400
    assert _reload(Application, queue["berlin"]).status == "in_progress"
