"""Payout runs through the API: admins start and follow runs, members see their own payouts."""

import pytest
from sqlalchemy import func, select

from crowd.core.auth import Principal
from crowd.core.errors import Conflict
from crowd.extensions import db
from payouts import payout_run
from payouts.models import Payout, PayoutRun
from tests.factories import make_actor
from tests.jobs.conftest import drain_background
from tests.payouts.conftest import settle

pytestmark = pytest.mark.usefixtures("ledger_sound")

RUNS = "/api/v1/payouts/runs"
MINE = "/api/v1/me/payouts"
LINKS = {
    "refresh_url": "https://app.example/payout/refresh",
    "return_url": "https://app.example/payout/done",
    "country": "DE",
}


def payee(client, earning: int, *, account: bool = True):
    actor = make_actor("member")
    if account:
        response = client.post("/api/v1/me/payout-account", json=LINKS, headers=actor.headers)
        assert response.status_code == 201
    settle(actor.profile_id, price=earning + 1000, commission=1000)
    db.session.commit()
    return actor


def start_run(app, client, admin, **headers) -> dict:
    response = client.post(RUNS, headers={**admin.headers, **headers})
    assert response.status_code == 202, response.get_json()
    drain_background(app)
    return response.get_json()


def runs() -> int:
    return db.session.scalar(select(func.count()).select_from(PayoutRun))


def test_an_admin_starts_a_run_and_follows_it(app, client, admin):
    paid = payee(client, 5000)
    held = payee(client, 3000, account=False)
    started = start_run(app, client, admin)
    assert started["status"] == "requested"
    assert started["requested_by_id"] == admin.user_id

    response = client.get(f"{RUNS}/{started['id']}", headers=admin.headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["run"]["status"] == "completed"
    assert body["run"]["minimums"] == {"EUR": 2000, "CHF": 2000}
    assert body["run"]["totals"] == {
        "EUR": {"count": 1, "amount": 5000, "held_count": 1, "held_amount": 3000}
    }
    assert body["by_status"] == [
        {"currency": "EUR", "status": "held", "count": 1, "amount": 3000},
        {"currency": "EUR", "status": "paid", "count": 1, "amount": 5000},
    ]
    items = {p["member_id"]: p for p in body["payouts"]["items"]}
    assert items[paid.profile_id]["status"] == "paid"
    assert items[paid.profile_id]["idempotency_key"] == f"payout-{items[paid.profile_id]['id']}"
    assert items[held.profile_id]["hold_reason"] == "no payout account"

    only_held = client.get(
        f"{RUNS}/{started['id']}", query_string={"status": "held"}, headers=admin.headers
    ).get_json()
    assert [p["member_id"] for p in only_held["payouts"]["items"]] == [held.profile_id]


def test_runs_are_listed_newest_first(app, client, admin):
    first = start_run(app, client, admin)
    second = start_run(app, client, admin)
    listed = client.get(RUNS, headers=admin.headers).get_json()
    assert [r["id"] for r in listed["items"]] == [second["id"], first["id"]]
    assert listed["page"]["total"] == 2


def test_an_idempotency_key_starts_one_run(app, client, admin):
    first = start_run(app, client, admin, **{"Idempotency-Key": "weekly-run-1"})
    again = client.post(RUNS, headers={**admin.headers, "Idempotency-Key": "weekly-run-1"})
    assert again.status_code == 202
    assert again.get_json()["id"] == first["id"]
    assert runs() == 1


def test_a_second_request_while_one_waits_to_start_is_a_409(admin):
    actor = Principal(user_id=admin.user_id, role="admin", token_id=0, via="session")
    run = payout_run.request_run(actor=actor)
    with pytest.raises(Conflict) as refused:
        payout_run.request_run(actor=actor)
    assert refused.value.extra == {"state": "requested", "run_id": run.id}
    assert refused.value.type_slug == "run-already-requested"
    db.session.rollback()


def test_a_second_request_over_the_api_answers_run_already_requested(
    app, client, admin, monkeypatch
):
    # The first run stays requested: its task is not started.
    monkeypatch.setattr(payout_run, "enqueue", lambda *args, **kwargs: None)
    first = client.post(RUNS, headers=admin.headers)
    assert first.status_code == 202

    second = client.post(RUNS, headers=admin.headers)

    assert second.status_code == 409
    body = second.get_json()
    assert body["type"] == "https://crowd.example/problems/run-already-requested"
    assert (body["state"], body["run_id"]) == ("requested", first.get_json()["id"])
    assert runs() == 1


def test_the_database_itself_refuses_a_second_requested_run(admin):
    # What decides between simultaneous requests (tests/payouts/test_payout_run_races.py): a
    # partial unique index, so it holds on SQLite and PostgreSQL whatever the code checks.
    from sqlalchemy.exc import IntegrityError

    db.session.add(PayoutRun(status="requested", minimums={}, totals={}))
    db.session.flush()
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(PayoutRun(status="requested", minimums={}, totals={}))
    # Runs under way or done are not limited.
    db.session.add_all([PayoutRun(status=s, minimums={}, totals={}) for s in ("sending",) * 2])
    db.session.flush()
    db.session.rollback()


def test_the_weekly_run_starts_while_an_admins_run_waits(app, admin):
    actor = Principal(user_id=admin.user_id, role="admin", token_id=0, via="session")
    waiting = payout_run.request_run(actor=actor)
    weekly = payout_run.run_payouts()
    assert (weekly.status, waiting.status) == ("completed", "requested")
    db.session.rollback()


def test_an_unknown_run_is_a_404(client, admin):
    response = client.get(f"{RUNS}/987654", headers=admin.headers)
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"


def test_a_bad_status_filter_is_a_422(client, admin):
    response = client.get(f"{RUNS}/1", query_string={"status": "lost"}, headers=admin.headers)
    assert response.status_code == 422
    assert "status" in response.get_json()["errors"]["query"]


def test_only_admins_start_or_read_runs(client, cm, member, customer):
    for actor in (cm, member, customer):
        assert client.post(RUNS, headers=actor.headers).status_code == 403
        assert client.get(RUNS, headers=actor.headers).status_code == 403
        assert client.get(f"{RUNS}/1", headers=actor.headers).status_code == 403
    assert client.post(RUNS).status_code == 401


def test_a_member_sees_only_their_own_payouts(app, client, admin):
    mine = payee(client, 5000)
    theirs = payee(client, 7000)
    start_run(app, client, admin)
    response = client.get(MINE, headers=mine.headers)
    assert response.status_code == 200
    [payout] = response.get_json()["items"]
    assert (payout["amount"], payout["currency"], payout["status"]) == (5000, "EUR", "paid")
    assert "destination_account" not in payout
    other = client.get(MINE, headers=theirs.headers).get_json()["items"]
    assert [p["amount"] for p in other] == [7000]
    assert (
        client.get(MINE, query_string={"status": "held"}, headers=mine.headers).get_json()["items"]
        == []
    )


def test_my_payouts_is_for_members(client, cm, customer):
    assert client.get(MINE, headers=cm.headers).status_code == 403
    assert client.get(MINE, headers=customer.headers).status_code == 403


def test_the_run_api_leaves_one_payout_per_member_however_often_it_is_started(app, client, admin):
    actor = payee(client, 5000)
    for _ in range(3):
        start_run(app, client, admin)
    assert (
        db.session.scalar(
            select(func.count()).select_from(Payout).where(Payout.member_id == actor.profile_id)
        )
        == 1
    )
