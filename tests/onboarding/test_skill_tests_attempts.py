"""Members sit skill tests: questions without answers, server-side scoring, retry delays."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from crowd.core.background import TASKS
from crowd.extensions import db
from onboarding.models import SkillTestAttempt
from tests.factories import make_actor
from tests.onboarding.conftest import (
    API,
    QUESTIONS,
    answers,
    complete_profile,
    create_test,
    leaks_answers,
    ok,
    pass_test,
    problem,
    shift_attempt,
    start_attempt,
    submit_attempt,
)

ATTEMPTS = f"{API}/me/skill-test-attempts"


@pytest.fixture
def test(client, cm, member):
    """The tv_wall_mount test (4 questions, pass mark 75, retry after 24 h); member claims it."""
    complete_profile(client, member, skills=("tv_wall_mount", "router_config"))
    return create_test(client, cm)


def _by_id(test):
    return {q["id"]: q for q in test["questions"]}


# --- what there is to sit -------------------------------------------------------------------


def test_member_sees_each_claimed_skill_and_its_test(client, member, test):
    items = ok(client.get(f"{API}/me/skill-tests", headers=member.headers))["items"]
    by_skill = {item["skill"]: item for item in items}
    mount = by_skill["tv_wall_mount"]
    assert mount["test_available"] is True
    assert (mount["pass_mark_percent"], mount["questions_per_attempt"]) == (75, 4)
    assert (mount["time_limit_minutes"], mount["retry_delay_hours"]) == (20, 24)
    assert (mount["attempts"], mount["best_score"], mount["passed"]) == (0, None, False)
    assert (mount["retry_after"], mount["open_attempt"]) == (None, None)
    assert by_skill["router_config"]["test_available"] is False
    assert by_skill["router_config"]["pass_mark_percent"] is None
    attempt = ok(start_attempt(client, member), 201)
    items = ok(client.get(f"{API}/me/skill-tests", headers=member.headers))["items"]
    opened = {item["skill"]: item for item in items}["tv_wall_mount"]["open_attempt"]
    assert opened == {"id": attempt["id"], "expires_at": attempt["expires_at"]}


def test_questions_per_attempt_shown_is_what_will_be_served(client, cm, member):
    complete_profile(client, member)
    create_test(client, cm, questions_per_attempt=10)
    [item] = ok(client.get(f"{API}/me/skill-tests", headers=member.headers))["items"]
    assert item["questions_per_attempt"] == 4


def test_skill_tests_are_for_members(client, customer, cm):
    assert problem(client.get(f"{API}/me/skill-tests"), 401)
    assert problem(client.get(f"{API}/me/skill-tests", headers=customer.headers), 403)
    assert problem(client.get(f"{API}/me/skill-tests", headers=cm.headers), 403)
    assert problem(
        client.post(f"{API}/me/skill-tests/tv_wall_mount/attempts", headers=cm.headers), 403
    )


# --- starting -------------------------------------------------------------------------------


def test_an_attempt_serves_questions_without_answers(client, member, test):
    attempt = ok(start_attempt(client, member), 201)
    assert not leaks_answers(attempt)
    assert attempt["skill"] == "tv_wall_mount"
    assert attempt["status"] == "started"
    assert attempt["pass_mark_percent"] == 75
    assert len(attempt["questions"]) == 4
    for served in attempt["questions"]:
        assert set(served) == {"id", "prompt", "options"}
        assert served["options"] == _by_id(test)[served["id"]]["options"]
    started = datetime.fromisoformat(attempt["started_at"])
    assert datetime.fromisoformat(attempt["expires_at"]) - started == timedelta(minutes=20)
    stored = db.session.get(SkillTestAttempt, attempt["id"])
    assert stored.question_ids == [q["id"] for q in attempt["questions"]]


def test_a_sample_of_the_active_questions_is_served(client, cm, member):
    complete_profile(client, member)
    create_test(client, cm, questions_per_attempt=2)
    attempt = ok(start_attempt(client, member), 201)
    assert len({q["id"] for q in attempt["questions"]}) == 2


def test_an_open_attempt_is_named_and_served_again_not_doubled(client, member, test):
    attempt = ok(start_attempt(client, member), 201)
    body = problem(start_attempt(client, member), 409)
    assert (body["state"], body["attempt_id"]) == ("started", attempt["id"])
    assert body["type"] == "https://crowd.example/problems/attempt-under-way"
    again = ok(client.get(f"{ATTEMPTS}/{attempt['id']}", headers=member.headers))
    assert again["questions"] == attempt["questions"]
    assert again["results"] is None
    assert not leaks_answers(again)
    count = select(func.count()).where(SkillTestAttempt.member_id == member.profile_id)
    assert db.session.scalar(count) == 1


def test_idempotency_key_replays_the_start(client, member, test):
    headers = {**member.headers, "Idempotency-Key": "start-1"}
    url = f"{API}/me/skill-tests/tv_wall_mount/attempts"
    first = client.post(url, headers=headers)
    again = client.post(url, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json()["id"] == first.get_json()["id"]
    assert not leaks_answers(again.get_json())


@pytest.mark.parametrize("skill", ["router_config", "washing_machine_install", "juggling"])
def test_no_test_to_sit_is_404(client, member, test, skill):
    # router_config is claimed without a test; the others are not claimed (or do not exist).
    assert problem(start_attempt(client, member, skill), 404)


def test_a_switched_off_test_cannot_be_started(client, cm, member, test):
    client.patch(f"{API}/skill-tests/{test['id']}", json={"active": False}, headers=cm.headers)
    assert problem(start_attempt(client, member), 404)


def test_a_passed_skill_is_not_tested_again(client, member, test):
    pass_test(client, member, test)
    assert problem(start_attempt(client, member), 409)["state"] == "passed"


# --- scoring --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("right", "score", "passed"), [(4, 100, True), (3, 75, True), (2, 50, False), (0, 0, False)]
)
def test_score_is_the_share_of_right_answers_against_the_pass_mark(
    client, member, test, right, score, passed
):
    attempt = ok(start_attempt(client, member), 201)
    result = ok(submit_attempt(client, member, attempt["id"], answers(attempt, test, right=right)))
    assert (result["score_percent"], result["passed"], result["status"]) == (
        score,
        passed,
        "submitted",
    )
    assert [r["right"] for r in result["results"]] == [i < right for i in range(4)]
    assert not leaks_answers(result)


def test_a_question_is_right_only_with_exactly_its_correct_options(client, member, test):
    attempt = ok(start_attempt(client, member), 201)
    by_id = _by_id(test)
    chosen = []
    expected = []
    for served in attempt["questions"]:
        correct = by_id[served["id"]]["correct"]
        if len(correct) > 1:
            chosen.append({"question_id": served["id"], "options": correct[:1]})  # partial
            expected.append(False)
        elif served["prompt"].startswith("Cut"):
            chosen.append({"question_id": served["id"], "options": [0, 1]})  # superset
            expected.append(False)
        else:
            chosen.append({"question_id": served["id"], "options": list(reversed(correct))})
            expected.append(True)
    result = ok(submit_attempt(client, member, attempt["id"], chosen))
    assert [r["right"] for r in result["results"]] == expected
    assert result["score_percent"] == 50


def test_unanswered_questions_count_as_wrong_and_scores_round_down(client, cm, member):
    complete_profile(client, member)
    test = create_test(
        client, cm, questions=QUESTIONS[:3], questions_per_attempt=3, pass_mark_percent=60
    )
    attempt = ok(start_attempt(client, member), 201)
    chosen = answers(attempt, test, right=2)[:2]
    result = ok(submit_attempt(client, member, attempt["id"], chosen))
    assert (result["score_percent"], result["passed"]) == (66, True)


def test_the_pass_mark_is_the_one_in_force_at_the_start(client, cm, member, test):
    attempt = ok(start_attempt(client, member), 201)
    client.patch(
        f"{API}/skill-tests/{test['id']}", json={"pass_mark_percent": 100}, headers=cm.headers
    )
    result = ok(submit_attempt(client, member, attempt["id"], answers(attempt, test, right=3)))
    assert (result["pass_mark_percent"], result["passed"]) == (75, True)


def test_a_question_deactivated_after_serving_is_still_scored(client, cm, member, test):
    attempt = ok(start_attempt(client, member), 201)
    first = attempt["questions"][0]["id"]
    client.delete(f"{API}/skill-tests/{test['id']}/questions/{first}", headers=cm.headers)
    result = ok(submit_attempt(client, member, attempt["id"], answers(attempt, test, right=4)))
    assert result["score_percent"] == 100


@pytest.mark.parametrize(
    "mangle",
    [
        lambda chosen: chosen + [{"question_id": 999999, "options": [0]}],
        lambda chosen: chosen + chosen[:1],
        lambda chosen: [{**chosen[0], "options": [7]}],
    ],
    ids=["not-served", "twice", "no-such-option"],
)
def test_answers_that_do_not_fit_the_attempt_are_422(client, member, test, mangle):
    attempt = ok(start_attempt(client, member), 201)
    chosen = mangle(answers(attempt, test, right=4))
    body = problem(submit_attempt(client, member, attempt["id"], chosen), 422)
    assert "answers" in body["errors"]["json"]
    assert db.session.get(SkillTestAttempt, attempt["id"]).status == "started"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"answers": [{"question_id": "1", "options": [0]}]},
        {"answers": [{"question_id": 1, "options": [-1]}]},
    ],
)
def test_malformed_answers_are_422(client, member, test, body):
    attempt = ok(start_attempt(client, member), 201)
    url = f"{ATTEMPTS}/{attempt['id']}/submit"
    assert problem(client.post(url, json=body, headers=member.headers), 422)


def test_submitting_twice_is_409(client, member, test):
    attempt = ok(start_attempt(client, member), 201)
    chosen = answers(attempt, test, right=4)
    ok(submit_attempt(client, member, attempt["id"], chosen))
    assert (
        problem(submit_attempt(client, member, attempt["id"], chosen), 409)["state"] == "submitted"
    )


def test_another_members_attempt_is_404(client, member, other_member, test):
    attempt = ok(start_attempt(client, member), 201)
    assert problem(client.get(f"{ATTEMPTS}/{attempt['id']}", headers=other_member.headers), 404)
    assert problem(submit_attempt(client, other_member, attempt["id"], []), 404)
    assert problem(submit_attempt(client, member, 999999, []), 404)


# --- failing, expiry and retrying -----------------------------------------------------------


def test_after_a_failure_the_retry_waits_for_the_delay(client, member, test):
    attempt = ok(start_attempt(client, member), 201)
    failed = ok(submit_attempt(client, member, attempt["id"], answers(attempt, test, right=1)))
    retry_after = datetime.fromisoformat(failed["retry_after"])
    submitted = datetime.fromisoformat(failed["submitted_at"])
    assert retry_after - submitted == timedelta(hours=24)
    body = problem(start_attempt(client, member), 409)
    assert (body["state"], body["retry_after"]) == ("retry_later", failed["retry_after"])
    shift_attempt(attempt["id"], hours=24, seconds=1)
    retry = ok(start_attempt(client, member), 201)
    result = ok(submit_attempt(client, member, retry["id"], answers(retry, test, right=4)))
    assert result["passed"] is True
    [item] = [
        i
        for i in ok(client.get(f"{API}/me/skill-tests", headers=member.headers))["items"]
        if i["skill"] == "tv_wall_mount"
    ]
    assert (item["attempts"], item["best_score"], item["passed"]) == (2, 100, True)


def test_without_a_delay_a_failed_test_can_be_retried_at_once(client, cm, member):
    complete_profile(client, member)
    create_test(client, cm, retry_delay_hours=0)
    attempt = ok(start_attempt(client, member), 201)
    ok(submit_attempt(client, member, attempt["id"], []))
    assert ok(start_attempt(client, member), 201)


def test_a_late_submission_is_409_and_the_attempt_counts_as_failed(client, member, test):
    attempt = ok(start_attempt(client, member), 201)
    shift_attempt(attempt["id"], minutes=21)
    chosen = answers(attempt, test, right=4)
    assert problem(submit_attempt(client, member, attempt["id"], chosen), 409)["state"] == "expired"
    shown = ok(client.get(f"{ATTEMPTS}/{attempt['id']}", headers=member.headers))
    assert (shown["status"], shown["passed"]) == ("expired", False)
    # The retry delay runs from the expiry, whether or not the expiry was written down yet.
    body = problem(start_attempt(client, member), 409)
    assert body["state"] == "retry_later"
    stored = db.session.get(SkillTestAttempt, attempt["id"])
    expected = stored.expires_at + timedelta(hours=24)
    assert datetime.fromisoformat(body["retry_after"]) == expected


def test_the_expiry_task_writes_the_expiry_down_once(client, member, test):
    attempt = ok(start_attempt(client, member), 201)
    expire = TASKS["onboarding.expire_skill_test_attempt"].func
    assert expire(attempt_id=attempt["id"]) is False  # not due yet
    shift_attempt(attempt["id"], minutes=21)
    assert expire(attempt_id=attempt["id"]) is True
    db.session.commit()
    stored = db.session.get(SkillTestAttempt, attempt["id"])
    db.session.refresh(stored)
    assert (stored.status, stored.passed) == ("expired", False)
    assert stored.retry_after == stored.expires_at + timedelta(hours=24)
    assert expire(attempt_id=attempt["id"]) is False


def test_an_expired_open_attempt_gives_way_once_the_delay_is_over(client, member, test):
    attempt = ok(start_attempt(client, member), 201)
    shift_attempt(attempt["id"], hours=25)
    fresh = ok(start_attempt(client, member), 201)
    assert fresh["id"] != attempt["id"]
    assert db.session.get(SkillTestAttempt, attempt["id"]).status == "expired"


# --- the member's attempts ------------------------------------------------------------------


def test_member_lists_own_attempts_newest_first(client, member, other_member, test):
    first = ok(start_attempt(client, member), 201)
    ok(submit_attempt(client, member, first["id"], []))
    shift_attempt(first["id"], hours=25)
    second = ok(start_attempt(client, member), 201)
    page = ok(client.get(f"{ATTEMPTS}?limit=1", headers=member.headers))
    assert [a["id"] for a in page["items"]] == [second["id"]]
    assert page["page"]["total"] == 2
    rest = ok(
        client.get(f"{ATTEMPTS}?cursor={page['page']['next_cursor']}", headers=member.headers)
    )
    assert [a["id"] for a in rest["items"]] == [first["id"]]
    assert rest["items"][0]["skill"] == "tv_wall_mount"
    assert "questions" not in rest["items"][0]
    assert not leaks_answers(page) and not leaks_answers(rest)
    assert ok(client.get(ATTEMPTS, headers=other_member.headers))["items"] == []


def test_a_submitted_attempt_shows_right_and_wrong_but_never_the_answers(client, member, test):
    attempt = ok(start_attempt(client, member), 201)
    ok(submit_attempt(client, member, attempt["id"], answers(attempt, test, right=2)))
    shown = ok(client.get(f"{ATTEMPTS}/{attempt['id']}", headers=member.headers))
    assert [r["right"] for r in shown["results"]] == [True, True, False, False]
    assert not leaks_answers(shown)


def test_attempt_lists_are_for_members(client, customer):
    assert problem(client.get(ATTEMPTS), 401)
    assert problem(client.get(ATTEMPTS, headers=customer.headers), 403)
    nobody = make_actor("community_manager")
    assert problem(client.get(f"{ATTEMPTS}/1", headers=nobody.headers), 403)
