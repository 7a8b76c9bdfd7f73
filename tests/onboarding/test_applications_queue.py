"""The review queue: filters by step, readiness, region, skill and name; one application in full."""

import pytest

from tests.factories import make_actor
from tests.onboarding.conftest import (
    API,
    application_id_of,
    complete_profile,
    create_test,
    leaks_answers,
    ok,
    problem,
    ready_applicant,
    schedule_call,
    start_attempt,
    submit_attempt,
    submit_document,
    verified_document,
)


def _queue(client, staff, query=""):
    return ok(client.get(f"{API}/applications?{query}", headers=staff.headers))


def _ids(client, staff, query="") -> list[int]:
    return [item["id"] for item in _queue(client, staff, query)["items"]]


@pytest.fixture
def crowd(client, cm):
    """Four applicants: ready in Berlin, documents pending in Munich, bare in Vienna, rejected."""
    berlin = make_actor("member", display_name="Berta Berlin")
    ready_applicant(client, cm, berlin)
    munich = make_actor("member", display_name="Max München")
    complete_profile(
        client,
        munich,
        skills=("router_config",),
        postcode="80331",
        city="München",
        lat=48.137,
        lon=11.575,
    )
    submit_document(client, munich)
    vienna = make_actor("member", display_name="Wanda Wien")
    complete_profile(
        client, vienna, postcode="1010", city="Wien", country="AT", lat=48.208, lon=16.373
    )
    verified_document(client, cm, vienna)
    schedule_call(client, cm, application_id_of(vienna))
    gone = make_actor("member", display_name="Rolf Rejected")
    url = f"{API}/applications/{application_id_of(gone)}/reject"
    ok(client.post(url, json={"reason": "No"}, headers=cm.headers))
    return {
        name: application_id_of(actor)
        for name, actor in (
            ("berlin", berlin),
            ("munich", munich),
            ("vienna", vienna),
            ("gone", gone),
        )
    }


def test_queue_lists_applications_in_progress_oldest_first(client, cm, crowd):
    assert _ids(client, cm) == [crowd["berlin"], crowd["munich"], crowd["vienna"]]
    assert _ids(client, cm, "status=rejected") == [crowd["gone"]]


def test_queue_items_carry_member_and_step_states(client, cm, crowd):
    items = {item["id"]: item for item in _queue(client, cm)["items"]}
    munich = items[crowd["munich"]]
    assert munich["member"]["city"] == "München"
    assert munich["member"]["postcode"] == "80331"
    assert munich["member"]["skills"] == ["router_config"]
    assert munich["number"] == 1 and munich["status"] == "in_progress"
    assert munich["steps"]["identity"] == "submitted"
    assert munich["steps"]["profile"] == "done"
    assert munich["ready"] is False
    assert items[crowd["berlin"]]["ready"] is True
    assert items[crowd["vienna"]]["steps"]["intro_call"] == "scheduled"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("step=identity", ["munich"]),
        ("step=intro_call", ["munich", "vienna"]),
        ("step=profile", []),
        ("step=house_rules", []),
        ("step=payout_account", ["munich", "vienna"]),
        ("ready=true", ["berlin"]),
        ("ready=false", ["munich", "vienna"]),
        ("country=AT", ["vienna"]),
        ("city=münchen", ["munich"]),
        ("postcode_prefix=10", ["berlin", "vienna"]),
        ("postcode_prefix=101&country=DE", ["berlin"]),
        ("skill=router_config", ["munich"]),
        ("skill=tv_wall_mount&step=identity", []),
        ("q=wien", ["vienna"]),
        ("status=rejected&step=intro_call", ["gone"]),
    ],
)
def test_queue_filters(client, cm, crowd, query, expected):
    assert _ids(client, cm, query) == [crowd[name] for name in expected]


def test_queue_counts_and_pages(client, cm, crowd):
    first = _queue(client, cm, "limit=2")
    assert first["page"]["total"] == 3
    assert [i["id"] for i in first["items"]] == [crowd["berlin"], crowd["munich"]]
    rest = _queue(client, cm, f"limit=2&cursor={first['page']['next_cursor']}")
    assert [i["id"] for i in rest["items"]] == [crowd["vienna"]]
    assert rest["page"]["next_cursor"] is None


def test_skill_test_step_filters_on_passes(client, cm, member):
    complete_profile(client, member)
    create_test(client, cm)
    application_id = application_id_of(member)
    assert _ids(client, cm, "step=skill_tests") == [application_id]
    attempt = ok(start_attempt(client, member), 201)
    submit_attempt(client, member, attempt["id"], [])
    assert _ids(client, cm, "step=skill_tests") == [application_id]


@pytest.mark.parametrize(
    "query", ["status=open", "step=charm", "ready=perhaps", "country=FR", "postcode_prefix=ab"]
)
def test_bad_filters_are_422(client, cm, query):
    assert problem(client.get(f"{API}/applications?{query}", headers=cm.headers), 422)


def test_an_unknown_skill_filter_is_422_naming_it(client, cm):
    response = client.get(f"{API}/applications?skill=juggling", headers=cm.headers)
    assert "skill" in problem(response, 422)["errors"]["query"]


def test_queue_is_for_staff(client, member, customer, admin):
    assert problem(client.get(f"{API}/applications"), 401)
    assert problem(client.get(f"{API}/applications", headers=member.headers), 403)
    assert problem(client.get(f"{API}/applications", headers=customer.headers), 403)
    assert ok(client.get(f"{API}/applications", headers=admin.headers))


# --- one application ------------------------------------------------------------------------


def test_detail_shows_steps_documents_calls_and_attempts(client, cm, member):
    complete_profile(client, member)
    create_test(client, cm)
    check = verified_document(client, cm, member)
    application_id = application_id_of(member)
    call = ok(schedule_call(client, cm, application_id))
    attempt = ok(start_attempt(client, member), 201)
    submit_attempt(client, member, attempt["id"], [])

    body = ok(client.get(f"{API}/applications/{application_id}", headers=cm.headers))
    assert body["application"]["id"] == application_id
    assert body["application"]["member_id"] == member.profile_id
    assert body["member"]["id"] == member.profile_id
    assert body["ready"] is False
    steps = {s["name"]: s for s in body["steps"]}
    assert steps["identity"]["state"] == "done"
    assert steps["skill_tests"]["state"] == "failed"
    [document] = body["document_checks"]
    assert (document["id"], document["checked_by_id"]) == (check["id"], cm.user_id)
    [listed_call] = body["intro_calls"]
    assert (listed_call["id"], listed_call["scheduled_by_id"]) == (call["id"], cm.user_id)
    [listed_attempt] = body["test_attempts"]
    assert listed_attempt["skill"] == "tv_wall_mount"
    assert (listed_attempt["score_percent"], listed_attempt["passed"]) == (0, False)
    assert not leaks_answers(body)


def test_detail_is_for_staff_and_404_for_unknown(client, cm, member):
    application_id = application_id_of(member)
    url = f"{API}/applications/{application_id}"
    assert problem(client.get(url, headers=member.headers), 403)
    assert problem(client.get(f"{API}/applications/999999", headers=cm.headers), 404)
