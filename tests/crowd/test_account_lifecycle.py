"""Account lifecycle (issue 16): per-address sign-in lockout, password strength, sign-up that
does not reveal taken emails, password change and reset, deactivation by staff, and the
member offboarding and suspension that close an account the same way."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from accounts.models import AccountEvent, AuthToken, PasswordResetToken, SignInThrottle, User
from accounts.passwords import check_strength
from accounts.tasks import purge_stale
from accounts.throttle import email_hash
from crowd.core import background
from crowd.core.audit import AuditEntry
from crowd.core.db import utcnow
from crowd.core.errors import Unprocessable
from crowd.extensions import db
from notifications.models import Notification, OutboundEmail
from tests.factories import PASSWORD, make_actor
from tests.jobs.conftest import active_member
from tests.secret_scan import assert_secret_nowhere

API = "/api/v1"
PROBLEM = "application/problem+json"
NEW_PASSWORD = "purple tractor 77 lantern"
WEAK = ["aaaaaaaaaa", "1234567890", "password12"]


def _sign_in(client, email, password=PASSWORD):
    return client.post(f"{API}/auth/tokens", json={"email": email, "password": password})


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _me(client, token: str) -> int:
    return client.get(f"{API}/me", headers=_bearer(token)).status_code


def _settings(app, monkeypatch, **changes):
    settings = app.config["CROWD_SETTINGS"].model_copy(update=dict(**changes))
    monkeypatch.setitem(app.config, "CROWD_SETTINGS", settings)


def _emails(user_id: int, dedupe_prefix: str) -> list[OutboundEmail]:
    # With Redis the commit handed the sender to a worker: send what is due here.
    background.run_periodic("notifications.send_due")
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(OutboundEmail)
            .where(
                OutboundEmail.user_id == user_id, OutboundEmail.dedupe_key.like(dedupe_prefix + "%")
            )
            .order_by(OutboundEmail.id)
        )
    )


def _inbox(user_id: int, kind: str) -> list[Notification]:
    db.session.expire_all()
    query = select(Notification).where(Notification.user_id == user_id, Notification.kind == kind)
    return list(db.session.scalars(query))


def _events(user_id: int) -> list[tuple[str, int | None, str | None]]:
    query = select(AccountEvent).where(AccountEvent.user_id == user_id).order_by(AccountEvent.id)
    return [(e.kind, e.actor_id, e.reason) for e in db.session.scalars(query)]


def _api_key(client, customer) -> str:
    created = client.post(
        f"{API}/auth/api-keys",
        json={"name": "ERP", "scopes": ["jobs:read"]},
        headers=customer.headers,
    )
    assert created.status_code == 201
    return created.json["token"]


def _unrevoked(user_id: int) -> int:
    query = select(func.count()).where(AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None))
    return db.session.scalar(query)


# --- brute force: the per-address lock --------------------------------------------------------


def _fail(client, email, times: int) -> list[int]:
    return [_sign_in(client, email, "not the password 9").status_code for _ in range(times)]


def _assert_locked(response, *, at_most: int) -> dict:
    assert response.status_code == 429
    assert response.content_type == PROBLEM
    assert response.json["type"].endswith("/sign-in-locked")
    assert 1 <= int(response.headers["Retry-After"]) <= at_most
    return response.json


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(client, customer):
    assert _fail(client, customer.email, 5) == [401] * 5
    locked = _sign_in(client, customer.email)
    _assert_locked(locked, at_most=60)
    # The probe's finding: many wrong guesses then the right one no longer gets a token.
    assert db.session.scalar(select(func.count()).where(AuthToken.user_id == customer.user_id)) == 1


def test_an_unknown_email_is_locked_the_same_way(client, customer):
    _fail(client, customer.email, 5)
    _fail(client, "nobody@example.test", 5)
    known = _sign_in(client, customer.email)
    unknown = _sign_in(client, "nobody@example.test")
    assert known.status_code == unknown.status_code == 429
    assert known.headers["Retry-After"] == unknown.headers["Retry-After"]
    assert {k: v for k, v in known.json.items() if k != "instance"} == {
        k: v for k, v in unknown.json.items() if k != "instance"
    }
    assert _fail(client, "nobody-else@example.test", 1) == [401]


def test_the_lock_doubles_with_each_further_failure_up_to_the_cap(
    app, client, customer, monkeypatch
):
    _settings(app, monkeypatch, sign_in_lockout_max_seconds=300)
    key = email_hash(customer.email)

    def expire_lock():
        db.session.get(SignInThrottle, key).locked_until = utcnow() - timedelta(seconds=1)
        db.session.commit()

    _fail(client, customer.email, 5)
    retry_afters = [int(_sign_in(client, customer.email).headers["Retry-After"])]
    for _ in range(4):
        expire_lock()
        assert _fail(client, customer.email, 1) == [401]
        locked = _sign_in(client, customer.email)
        _assert_locked(locked, at_most=300)
        retry_afters.append(int(locked.headers["Retry-After"]))
    # 60 s, 120 s, 240 s, then the cap (300 s) — a second or so less for the time passed.
    assert [round(s / 60) for s in retry_afters] == [1, 2, 4, 5, 5]
    assert db.session.get(SignInThrottle, key).failures == 9


def test_a_success_clears_the_count(client, customer):
    _fail(client, customer.email, 4)
    assert _sign_in(client, customer.email).status_code == 201
    assert db.session.get(SignInThrottle, email_hash(customer.email)) is None
    assert _fail(client, customer.email, 4) == [401] * 4
    assert _sign_in(client, customer.email).status_code == 201


def test_the_owner_is_told_once_when_the_lock_engages(client, customer):
    _fail(client, customer.email, 4)
    assert _inbox(customer.user_id, "account.sign_in_locked") == []
    _fail(client, customer.email, 1)
    (notice,) = _inbox(customer.user_id, "account.sign_in_locked")
    assert "reset your password" in notice.body
    (email,) = _emails(customer.user_id, "account.sign_in_locked")
    assert email.to_address == customer.email and email.status == "pending"
    assert [kind for kind, _, _ in _events(customer.user_id)] == ["sign_in_locked"]
    # Further failures after the lock expired lock longer but do not message again.
    key = email_hash(customer.email)
    db.session.get(SignInThrottle, key).locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    _fail(client, customer.email, 1)
    assert len(_inbox(customer.user_id, "account.sign_in_locked")) == 1


def test_the_count_lives_in_the_database_not_in_the_rate_limiter(app, client, customer):
    from crowd.extensions import limiter

    # With the per-address limiter off altogether (as when Redis is down: it fails open),
    # the per-account lock still holds.
    limiter.enabled = False
    try:
        _fail(client, customer.email, 5)
        _assert_locked(_sign_in(client, customer.email), at_most=60)
    finally:
        limiter.enabled = True
    assert db.session.get(SignInThrottle, email_hash(customer.email)).failures == 5


def test_purge_forgets_old_unlocked_counts_only(client, customer):
    from accounts.throttle import purge_stale

    _fail(client, customer.email, 5)
    _fail(client, "old@example.test", 2)
    old = db.session.get(SignInThrottle, email_hash("old@example.test"))
    old.last_failed_at = utcnow() - timedelta(days=2)
    locked = db.session.get(SignInThrottle, email_hash(customer.email))
    locked.last_failed_at = utcnow() - timedelta(days=2)
    db.session.commit()
    assert purge_stale() == 1
    assert db.session.get(SignInThrottle, email_hash(customer.email)) is not None


# --- password strength ------------------------------------------------------------------------


@pytest.mark.parametrize("password", WEAK)
def test_weak_passwords_are_refused_at_sign_up_naming_the_field(client, db_session, password):
    body = {"email": "weak@example.test", "password": password, "display_name": "W"}
    response = client.post(f"{API}/accounts/customers", json=body)
    assert response.status_code == 422
    assert response.content_type == PROBLEM
    (message,) = response.json["errors"]["json"]["password"]
    assert message.startswith("too easy to guess")
    assert db_session.scalar(select(func.count()).where(User.email == "weak@example.test")) == 0


def test_the_accounts_own_data_counts_against_the_password():
    check_strength("ottiliewagenknecht")  # strong for a stranger…
    with pytest.raises(Unprocessable) as refused:
        check_strength("ottiliewagenknecht", user_inputs=["ottilie", "wagenknecht"])
    assert list(refused.value.errors["json"]) == ["password"]


def test_sign_up_checks_the_password_against_email_name_and_company(client, db_session):
    body = {
        "email": "ottilie.wagenknecht@example.test",
        "password": "ottilie.wagenknecht",
        "display_name": "Otti",
        "kind": "business",
        "company_name": "Wagenknecht Haustechnik",
    }
    assert client.post(f"{API}/accounts/customers", json=body).status_code == 422
    company = {**body, "email": "o@example.test", "password": "wagenknecht2024"}
    assert client.post(f"{API}/accounts/customers", json=company).status_code == 422


def test_staff_creation_refuses_a_weak_password(client, admin):
    body = {"email": "cm@example.test", "password": "password12", "display_name": "C"}
    response = client.post(
        f"{API}/accounts/staff", json={**body, "role": "community_manager"}, headers=admin.headers
    )
    assert response.status_code == 422
    assert "password" in response.json["errors"]["json"]


def test_create_admin_refuses_a_weak_password(app, db_session):
    result = app.test_cli_runner().invoke(
        args=["crowd", "create-admin", "--email", "boss@example.test", "--password", "1234567890"]
    )
    assert result.exit_code != 0
    assert "too easy to guess" in result.stderr
    assert db_session.scalar(select(func.count()).where(User.email == "boss@example.test")) == 0


def test_the_demo_and_test_passwords_are_strong_enough():
    from demo.named_accounts import DEMO_PASSWORD

    for password in (DEMO_PASSWORD, PASSWORD, NEW_PASSWORD):
        check_strength(password)


# --- sign-up does not reveal taken emails -----------------------------------------------------


@pytest.mark.parametrize("path, extra", [("customers", {}), ("members", {"kind": "private"})])
def test_sign_up_with_a_taken_email_answers_like_a_new_one(client, db_session, path, extra):
    owner = make_actor("member")
    new = {"email": "fresh@example.test", "password": PASSWORD, "display_name": "F", **extra}
    fresh = client.post(f"{API}/accounts/{path}", json=new)
    taken = client.post(f"{API}/accounts/{path}", json={**new, "email": owner.email.upper()})
    assert fresh.status_code == taken.status_code == 202
    assert set(fresh.headers.keys()) == set(taken.headers.keys())
    assert fresh.json["detail"] == taken.json["detail"]
    assert taken.json["email"] == owner.email
    # Nothing changed for the owner: the password and the account are theirs as before.
    assert db_session.scalar(select(func.count()).where(User.email == owner.email)) == 1
    assert _sign_in(client, owner.email).status_code == 201
    (notice,) = _inbox(owner.user_id, "account.sign_up_with_existing_email")
    assert "Nothing was changed" in notice.body
    assert len(_emails(owner.user_id, "account.sign_up_with_existing_email")) == 1
    assert [kind for kind, _, _ in _events(owner.user_id)] == ["sign_up_with_existing_email"]


def test_repeated_sign_ups_with_a_taken_email_message_the_owner_once_an_hour(client, customer):
    body = {"email": customer.email, "password": PASSWORD, "display_name": "X"}
    for _ in range(3):
        assert client.post(f"{API}/accounts/customers", json=body).status_code == 202
    assert len(_emails(customer.user_id, "account.sign_up_with_existing_email")) == 1
    assert len(_inbox(customer.user_id, "account.sign_up_with_existing_email")) == 1


def test_a_weak_password_is_refused_the_same_for_taken_and_new_emails(client, customer):
    body = {"email": customer.email, "password": "password12", "display_name": "X"}
    taken = client.post(f"{API}/accounts/customers", json=body)
    new = client.post(f"{API}/accounts/customers", json={**body, "email": "n@example.test"})
    assert taken.status_code == new.status_code == 422
    assert taken.json["errors"] == new.json["errors"]


def test_sign_up_with_an_idempotency_key_replays_the_receipt(client, customer):
    body = {"email": customer.email, "password": PASSWORD, "display_name": "X"}
    headers = {"Idempotency-Key": "signup-1"}
    first = client.post(f"{API}/accounts/customers", json=body, headers=headers)
    again = client.post(f"{API}/accounts/customers", json=body, headers=headers)
    assert first.status_code == again.status_code == 202 and first.json == again.json
    assert again.headers["Idempotent-Replayed"] == "true"


# --- password change --------------------------------------------------------------------------


def _change(client, actor_headers, current=PASSWORD, new=NEW_PASSWORD):
    body = {"current_password": current, "new_password": new}
    return client.post(f"{API}/me/password", json=body, headers=actor_headers)


def test_changing_the_password_revokes_other_sessions_and_api_keys(client, customer):
    other_session = _sign_in(client, customer.email).json["token"]
    key = _api_key(client, customer)
    response = _change(client, customer.headers)
    assert response.status_code == 204
    assert _me(client, customer.token) == 200  # the session that changed it stays
    assert _me(client, other_session) == 401
    assert _me(client, key) == 401
    assert _sign_in(client, customer.email).status_code == 401
    assert _sign_in(client, customer.email, NEW_PASSWORD).status_code == 201
    assert _events(customer.user_id) == [("password_changed", customer.user_id, None)]
    assert len(_inbox(customer.user_id, "account.password_changed")) == 1
    assert len(_emails(customer.user_id, "account.password_changed")) == 1


def test_a_wrong_current_password_is_422_and_counts_towards_the_lock(client, customer):
    for _ in range(5):
        refused = _change(client, customer.headers, current="not it at all 1")
        assert refused.status_code == 422
        assert list(refused.json["errors"]["json"]) == ["current_password"]
    _assert_locked(_change(client, customer.headers), at_most=60)
    _assert_locked(_sign_in(client, customer.email), at_most=60)


def test_the_new_password_must_be_strong_and_new(client, customer):
    weak = _change(client, customer.headers, new="password12")
    assert weak.status_code == 422 and list(weak.json["errors"]["json"]) == ["new_password"]
    same = _change(client, customer.headers, new=PASSWORD)
    assert same.status_code == 422 and list(same.json["errors"]["json"]) == ["new_password"]
    assert _sign_in(client, customer.email).status_code == 201


def test_an_api_key_cannot_change_the_password(client, customer):
    key = _api_key(client, customer)
    assert _change(client, _bearer(key)).status_code == 403
    assert _sign_in(client, customer.email).status_code == 201


# --- password reset ---------------------------------------------------------------------------


def _request_reset(client, email):
    return client.post(f"{API}/auth/password-resets", json={"email": email})


def _reset_code(user_id: int) -> str:
    email = _emails(user_id, "account.password_reset_requested")[-1]
    (code,) = [word for word in email.body.split() if word.startswith("crp_")]
    return code


def _redeem(client, token, password=NEW_PASSWORD):
    body = {"token": token, "password": password}
    return client.post(f"{API}/auth/password-resets/redeem", json=body)


def test_reset_answers_the_same_whether_or_not_the_email_exists(client, customer):
    known = _request_reset(client, customer.email)
    unknown = _request_reset(client, "nobody@example.test")
    assert known.status_code == unknown.status_code == 202
    assert known.json == unknown.json
    assert len(_emails(customer.user_id, "account.password_reset_requested")) == 1
    assert db.session.scalar(select(func.count()).select_from(PasswordResetToken)) == 1


def test_the_reset_link_is_stored_hashed_and_only_the_email_carries_it(client, customer):
    _request_reset(client, customer.email)
    code = _reset_code(customer.user_id)
    stored = db.session.scalar(select(PasswordResetToken))
    assert code not in stored.token_hash and len(stored.token_hash) == 64
    assert stored.expires_at - stored.created_at == timedelta(minutes=30)
    (notice,) = _inbox(customer.user_id, "account.password_reset_requested")
    assert code not in notice.body and code not in str(notice.data)


def test_a_reset_sets_the_password_and_revokes_every_credential(client, customer):
    key = _api_key(client, customer)
    _fail(client, customer.email, 5)  # locked: a reset lifts the lock
    _request_reset(client, customer.email)
    assert _redeem(client, _reset_code(customer.user_id)).status_code == 204
    assert _me(client, customer.token) == 401 and _me(client, key) == 401
    assert _unrevoked(customer.user_id) == 0
    assert _sign_in(client, customer.email).status_code == 401
    assert _sign_in(client, customer.email, NEW_PASSWORD).status_code == 201
    kinds = [kind for kind, _, _ in _events(customer.user_id)]
    assert kinds == ["sign_in_locked", "password_reset_requested", "password_reset"]


def test_a_reset_link_works_once(client, customer):
    _request_reset(client, customer.email)
    code = _reset_code(customer.user_id)
    assert _redeem(client, code).status_code == 204
    again = _redeem(client, code, password="another strong one 88")
    assert again.status_code == 422 and list(again.json["errors"]["json"]) == ["token"]
    assert _sign_in(client, customer.email, NEW_PASSWORD).status_code == 201


def test_a_reset_link_expires(client, customer):
    _request_reset(client, customer.email)
    code = _reset_code(customer.user_id)
    db.session.scalar(select(PasswordResetToken)).expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert _redeem(client, code).status_code == 422
    assert _sign_in(client, customer.email).status_code == 201


def test_a_used_reset_code_is_nowhere_at_rest(client, customer):
    _request_reset(client, customer.email)
    code = _reset_code(customer.user_id)
    assert _redeem(client, code).status_code == 204
    assert_secret_nowhere(code)


def test_a_voided_reset_code_is_blanked_in_its_email(client, customer):
    _request_reset(client, customer.email)
    older = _reset_code(customer.user_id)
    _request_reset(client, customer.email)
    assert_secret_nowhere(older)
    assert _reset_code(customer.user_id) != older


def test_an_expired_reset_code_is_blanked_by_the_sweep(client, customer):
    _request_reset(client, customer.email)
    code = _reset_code(customer.user_id)
    (email,) = _emails(customer.user_id, "account.password_reset_requested")
    email.created_at = utcnow() - timedelta(minutes=31)
    db.session.commit()
    purge_stale()
    db.session.commit()
    assert_secret_nowhere(code)
    assert "removed" in email.body


def test_a_new_link_voids_the_older_ones(client, customer):
    _request_reset(client, customer.email)
    older = _reset_code(customer.user_id)
    _request_reset(client, customer.email)
    newer = _reset_code(customer.user_id)
    assert older != newer
    assert _redeem(client, older).status_code == 422
    assert _redeem(client, newer).status_code == 204


def test_a_weak_password_leaves_the_link_usable(client, customer):
    _request_reset(client, customer.email)
    code = _reset_code(customer.user_id)
    weak = _redeem(client, code, password="1234567890")
    assert weak.status_code == 422 and list(weak.json["errors"]["json"]) == ["password"]
    assert _redeem(client, code).status_code == 204


def test_a_password_change_voids_open_reset_links(client, customer):
    _request_reset(client, customer.email)
    code = _reset_code(customer.user_id)
    assert _change(client, customer.headers).status_code == 204
    assert _redeem(client, code, password="another strong one 88").status_code == 422


def test_unknown_codes_are_422(client):
    assert _redeem(client, "crp_" + "x" * 40).status_code == 422


# --- deactivation -----------------------------------------------------------------------------


def _deactivate(client, staff, user_id, reason="Left the company"):
    url = f"{API}/users/{user_id}/deactivation"
    return client.post(url, json={"reason": reason}, headers=staff.headers)


def _reactivate(client, staff, user_id):
    return client.delete(f"{API}/users/{user_id}/deactivation", headers=staff.headers)


def test_a_cm_deactivates_a_customer_with_immediate_effect(client, cm, customer):
    key = _api_key(client, customer)
    response = _deactivate(client, cm, customer.user_id, reason="Chargeback fraud")
    assert response.status_code == 200
    assert response.json["active"] is False
    assert response.json["disabled_reason"] == "Chargeback fraud"
    assert response.json["credentials_revoked"] == 2
    assert _me(client, customer.token) == 401 and _me(client, key) == 401
    refused = _sign_in(client, customer.email)
    assert refused.status_code == 403 and refused.content_type == PROBLEM
    assert refused.json["type"].endswith("/account-deactivated")
    assert _events(customer.user_id) == [("deactivated", cm.user_id, "Chargeback fraud")]
    assert len(_emails(customer.user_id, "account.deactivated")) == 1
    (entry,) = db.session.scalars(
        select(AuditEntry).where(AuditEntry.endpoint == "accounts.deactivate_user")
    )
    assert (entry.actor_user_id, entry.target, entry.status_code) == (
        cm.user_id,
        {"user_id": customer.user_id},
        200,
    )
    # A reset link cannot be had for a deactivated account either.
    assert _request_reset(client, customer.email).status_code == 202
    assert _emails(customer.user_id, "account.password_reset_requested") == []


def test_reactivation_lets_them_sign_in_but_old_tokens_stay_revoked(client, cm, customer):
    _deactivate(client, cm, customer.user_id)
    response = _reactivate(client, cm, customer.user_id)
    assert response.status_code == 200 and response.json["active"] is True
    assert response.json["disabled_at"] is None
    assert _me(client, customer.token) == 401
    assert _sign_in(client, customer.email).status_code == 201
    kinds = [kind for kind, _, _ in _events(customer.user_id)]
    assert kinds == ["deactivated", "reactivated"]


def test_who_may_deactivate_whom(client, cm, admin, customer, member):
    other_cm = make_actor("community_manager")
    assert _deactivate(client, cm, other_cm.user_id).status_code == 403
    assert _deactivate(client, cm, admin.user_id).status_code == 403
    assert _deactivate(client, cm, cm.user_id).status_code == 403
    assert _deactivate(client, admin, admin.user_id).status_code == 403
    assert _deactivate(client, customer, member.user_id).status_code == 403
    assert _deactivate(client, cm, 2**62).status_code == 404
    assert _me(client, other_cm.token) == 200
    assert _deactivate(client, admin, other_cm.user_id).status_code == 200
    assert _deactivate(client, cm, member.user_id).status_code == 200


def test_deactivating_twice_or_reactivating_an_active_account_is_409(client, cm, customer):
    active = _reactivate(client, cm, customer.user_id)
    assert (
        active.status_code == 409
        and active.json["type"] == "https://crowd.example/problems/account-active"
    )
    assert _deactivate(client, cm, customer.user_id).status_code == 200
    again = _deactivate(client, cm, customer.user_id)
    assert again.status_code == 409 and again.json["state"] == "deactivated"
    assert again.json["type"] == "https://crowd.example/problems/account-already-deactivated"


def test_the_reason_is_required(client, cm, customer):
    url = f"{API}/users/{customer.user_id}/deactivation"
    response = client.post(url, json={}, headers=cm.headers)
    assert response.status_code == 422 and "reason" in response.json["errors"]["json"]
    assert _me(client, customer.token) == 200


# --- offboarding and suspension close the account the same way --------------------------------


def _member_status(client, cm, member, action, reason="Repeated no-shows"):
    url = f"{API}/members/{member.profile_id}/status"
    return client.post(url, json={"action": action, "reason": reason}, headers=cm.headers)


def test_an_offboarded_member_is_signed_out_and_cannot_sign_in(client, cm):
    member = active_member()
    assert _member_status(client, cm, member, "offboard").status_code == 200
    # The probe's finding: the token kept working and sign-in went through.
    assert _me(client, member.token) == 401
    assert _sign_in(client, member.email).status_code == 403
    assert _events(member.user_id) == [("deactivated", cm.user_id, "offboard: Repeated no-shows")]
    # Offboarding is final: the account is not reopened by reactivation either.
    refused = _reactivate(client, cm, member.user_id)
    assert refused.status_code == 409 and refused.json["state"] == "offboarded"
    assert refused.json["type"] == "https://crowd.example/problems/member-closed"


def test_a_suspension_closes_the_account_and_reinstatement_reopens_it(client, cm):
    member = active_member()
    url = f"{API}/members/{member.profile_id}/sanctions"
    suspended = client.post(url, json={"kind": "suspend", "reason": "Fraud"}, headers=cm.headers)
    assert suspended.status_code == 201
    assert _me(client, member.token) == 401
    assert _sign_in(client, member.email).status_code == 403
    assert _reactivate(client, cm, member.user_id).json["state"] == "suspended"
    reinstated = client.post(url, json={"kind": "reinstate", "reason": "Ok"}, headers=cm.headers)
    assert reinstated.status_code == 201
    assert _me(client, member.token) == 401
    assert _sign_in(client, member.email).status_code == 201
    kinds = [kind for kind, _, _ in _events(member.user_id)]
    assert kinds == ["deactivated", "reactivated"]


# --- settings ---------------------------------------------------------------------------------


def test_lockout_and_reset_settings_are_read_and_checked():
    from crowd.config import ConfigError, Settings

    defaults = Settings.from_env({}, "/tmp/crowd-instance")
    assert (
        defaults.sign_in_lockout_threshold,
        defaults.sign_in_lockout_base_seconds,
        defaults.sign_in_lockout_max_seconds,
        defaults.password_reset_ttl_minutes,
    ) == (5, 60, 3600, 30)
    env = {"SIGN_IN_LOCKOUT_THRESHOLD": "3", "PASSWORD_RESET_TTL_MINUTES": "15"}
    assert Settings.from_env(env, "/tmp/crowd-instance").sign_in_lockout_threshold == 3
    with pytest.raises(ConfigError, match="SIGN_IN_LOCKOUT_MAX_SECONDS"):
        Settings.from_env(
            {"SIGN_IN_LOCKOUT_BASE_SECONDS": "600", "SIGN_IN_LOCKOUT_MAX_SECONDS": "60"},
            "/tmp/crowd-instance",
        )
    with pytest.raises(ConfigError, match="SIGN_IN_LOCKOUT_THRESHOLD"):
        Settings.from_env({"SIGN_IN_LOCKOUT_THRESHOLD": "0"}, "/tmp/crowd-instance")
