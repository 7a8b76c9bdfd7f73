"""Staff keep a test per skill: settings, questions with their answers, deactivation."""

import pytest

from tests.onboarding.conftest import (
    API,
    QUESTIONS,
    complete_profile,
    create_test,
    ok,
    problem,
    start_attempt,
)

TESTS = f"{API}/skill-tests"


def _body(**changes) -> dict:
    return {"skill": "tv_wall_mount", "questions": QUESTIONS, **changes}


def test_cm_creates_a_test_with_answers(client, cm):
    test = create_test(client, cm, pass_mark_percent=60, time_limit_minutes=15)
    assert (test["skill"], test["category"]) == ("tv_wall_mount", "tv_audio")
    assert (test["pass_mark_percent"], test["time_limit_minutes"]) == (60, 15)
    assert test["active"] is True
    assert test["active_questions"] == 4
    assert test["created_by_id"] == cm.user_id
    assert [q["position"] for q in test["questions"]] == [1, 2, 3, 4]
    assert [q["correct"] for q in test["questions"]] == [[1], [0, 2], [0], [3]]


def test_settings_have_defaults(client, admin):
    body = {"skill": "router_config", "questions": QUESTIONS[:1]}
    test = ok(client.post(TESTS, json=body, headers=admin.headers), 201)
    assert test["pass_mark_percent"] == 80
    assert test["retry_delay_hours"] == 24
    assert test["questions_per_attempt"] == 10
    assert test["time_limit_minutes"] == 30


def test_a_skill_has_one_test(client, cm):
    create_test(client, cm)
    assert problem(client.post(TESTS, json=_body(), headers=cm.headers), 409)["state"] == "exists"


def test_an_unknown_skill_is_422(client, cm):
    body = problem(client.post(TESTS, json=_body(skill="juggling"), headers=cm.headers), 422)
    assert "skill" in body["errors"]["json"]


@pytest.mark.parametrize(
    "question",
    [
        {"prompt": "One option", "options": ["only"], "correct": [0]},
        {"prompt": "Nine", "options": [str(i) for i in range(9)], "correct": [0]},
        {"prompt": "None right", "options": ["a", "b"], "correct": []},
        {"prompt": "Beyond", "options": ["a", "b"], "correct": [2]},
        {"prompt": "Twice", "options": ["a", "b"], "correct": [1, 1]},
        {"prompt": "Negative", "options": ["a", "b"], "correct": [-1]},
        {"prompt": " ", "options": ["a", "b"], "correct": [0]},
        {"prompt": "Blank option", "options": ["a", " "], "correct": [0]},
        {"prompt": "Extra", "options": ["a", "b"], "correct": [0], "hint": "a"},
    ],
)
def test_malformed_questions_are_422(client, cm, question):
    assert problem(client.post(TESTS, json=_body(questions=[question]), headers=cm.headers), 422)


@pytest.mark.parametrize(
    "change",
    [
        {"questions": []},
        {"pass_mark_percent": 0},
        {"pass_mark_percent": 101},
        {"time_limit_minutes": 0},
        {"questions_per_attempt": 0},
        {"retry_delay_hours": -1},
        {"pass_mark_percent": "80"},
    ],
)
def test_bad_settings_are_422(client, cm, change):
    assert problem(client.post(TESTS, json=_body(**change), headers=cm.headers), 422)


def test_tests_are_managed_by_staff(client, member, customer):
    assert problem(client.post(TESTS, json=_body()), 401)
    assert problem(client.post(TESTS, json=_body(), headers=member.headers), 403)
    assert problem(client.get(TESTS, headers=customer.headers), 403)
    assert problem(client.get(f"{TESTS}/1", headers=member.headers), 403)


def test_list_filters_by_category_skill_and_active(client, cm):
    mount = create_test(client, cm, "tv_wall_mount")
    router = create_test(client, cm, "router_config")
    client.patch(f"{TESTS}/{router['id']}", json={"active": False}, headers=cm.headers)

    def ids(query=""):
        return [t["id"] for t in ok(client.get(f"{TESTS}?{query}", headers=cm.headers))["items"]]

    assert ids() == [mount["id"], router["id"]]
    assert ids("category=pc_network") == [router["id"]]
    assert ids("skill=tv_wall_mount") == [mount["id"]]
    assert ids("active=true") == [mount["id"]]
    listed = ok(client.get(TESTS, headers=cm.headers))["items"][0]
    assert listed["active_questions"] == 4
    assert "questions" not in listed
    assert problem(client.get(f"{TESTS}?category=toys", headers=cm.headers), 422)
    assert problem(client.get(f"{TESTS}?skill=juggling", headers=cm.headers), 422)


def test_get_shows_answers_to_staff(client, cm):
    test = create_test(client, cm)
    shown = ok(client.get(f"{TESTS}/{test['id']}", headers=cm.headers))
    assert shown["questions"] == test["questions"]
    assert problem(client.get(f"{TESTS}/999999", headers=cm.headers), 404)


def test_patch_changes_settings(client, cm):
    test = create_test(client, cm)
    url = f"{TESTS}/{test['id']}"
    changed = ok(
        client.patch(
            url, json={"pass_mark_percent": 50, "questions_per_attempt": 2}, headers=cm.headers
        )
    )
    assert (changed["pass_mark_percent"], changed["questions_per_attempt"]) == (50, 2)
    assert problem(client.patch(url, json={"pass_mark_percent": 0}, headers=cm.headers), 422)
    assert problem(client.patch(url, json={"skill": "router_config"}, headers=cm.headers), 422)
    assert problem(client.patch(f"{TESTS}/999999", json={"active": True}, headers=cm.headers), 404)


def test_questions_are_added_at_the_end_and_deactivated(client, cm, member):
    test = create_test(client, cm, questions_per_attempt=10)
    url = f"{TESTS}/{test['id']}/questions"
    added = ok(client.post(url, json=QUESTIONS[0], headers=cm.headers), 201)
    assert (added["position"], added["active"], added["correct"]) == (5, True, [1])
    removed = test["questions"][0]["id"]
    response = client.delete(f"{url}/{removed}", headers=cm.headers)
    assert response.status_code == 204
    shown = ok(client.get(f"{TESTS}/{test['id']}", headers=cm.headers))
    assert shown["active_questions"] == 4
    assert {q["id"]: q["active"] for q in shown["questions"]}[removed] is False
    # A deactivated question is no longer served.
    complete_profile(client, member)
    served = ok(start_attempt(client, member), 201)["questions"]
    assert len(served) == 4 and removed not in {q["id"] for q in served}


def test_questions_of_another_test_or_unknown_are_404(client, cm):
    mount = create_test(client, cm, "tv_wall_mount")
    router = create_test(client, cm, "router_config")
    other = router["questions"][0]["id"]
    assert problem(
        client.delete(f"{TESTS}/{mount['id']}/questions/{other}", headers=cm.headers), 404
    )
    url = f"{TESTS}/999999/questions"
    assert problem(client.post(url, json=QUESTIONS[0], headers=cm.headers), 404)
    assert problem(
        client.post(f"{TESTS}/{mount['id']}/questions", json={"prompt": "x"}, headers=cm.headers),
        422,
    )
