"""Console sign-in through the Flask test client: staff only, TOTP, recovery codes, CSRF,
session rotation, timeouts, sign out everywhere, the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from accounts.models import User
from console.models import ConsoleSession
from console.tasks import purge_sessions
from console.web import CSRF_COOKIE, SESSION_COOKIE
from crowd.core.audit import AuditEntry
from crowd.core.db import utcnow
from crowd.extensions import db
from tests.console.helpers import csrf_of, make_staff, post_form, sign_in
from tests.factories import PASSWORD, make_actor


def _cookie(client, name=SESSION_COOKIE):
    cookie = client.get_cookie(name, path="/console")
    return cookie.value if cookie else None


def test_cm_signs_in_with_totp_and_reaches_my_work(client):
    staff = make_staff()
    response = sign_in(client, staff)
    assert response.status_code == 303
    assert response.headers["Location"] == "/console/my-work"
    page = client.get("/console/my-work")
    assert page.status_code == 200
    assert "My work" in page.get_data(as_text=True)
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert page.headers["Cache-Control"] == "no-store"


def test_session_cookie_is_httponly_lax_and_secure_off_loopback(client):
    staff = make_staff()
    html = client.get("/console/sign-in", base_url="https://console.example").get_data(as_text=True)
    response = client.post(
        "/console/sign-in",
        base_url="https://console.example",
        data={"csrf_token": csrf_of(html), "email": staff.email, "password": PASSWORD},
    )
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if SESSION_COOKIE + "=" in h)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    assert "Path=/console" in cookie


def test_wrong_password_is_refused_on_the_form(client):
    staff = make_staff()
    response = post_form(client, "/console/sign-in", email=staff.email, password="wrong")
    assert response.status_code == 401
    assert "Email or password is wrong." in response.get_data(as_text=True)
    assert _cookie(client) is None


def test_wrong_code_is_refused(client):
    staff = make_staff()
    post_form(client, "/console/sign-in", email=staff.email, password=PASSWORD)
    response = post_form(client, "/console/two-factor", code="000000")
    assert response.status_code == 401
    assert client.get("/console/my-work").status_code == 303  # still pending


def test_a_code_works_once(client, app):
    staff = make_staff()
    code = staff.code()
    assert sign_in(client, staff, code=code).status_code == 303
    other = app.test_client()
    post_form(other, "/console/sign-in", email=staff.email, password=PASSWORD)
    assert post_form(other, "/console/two-factor", code=code).status_code == 401


def test_recovery_code_works_once(client, app):
    staff = make_staff()
    recovery = staff.recovery_codes[0]
    response = sign_in(client, staff, code=recovery.upper())
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/console/account")
    assert "Recovery codes left: 9" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    again = app.test_client()
    assert sign_in(again, staff, code=recovery).status_code == 401


def test_admin_without_2fa_must_enrol(client):
    admin = make_staff("admin", enrolled=False)
    response = post_form(client, "/console/sign-in", email=admin.email, password=PASSWORD)
    assert response.status_code == 303
    # Every page leads to the enrolment until it is done.
    assert client.get("/console/my-work").headers["Location"] == "/console/two-factor"
    page = client.get("/console/two-factor/enrol")
    html = page.get_data(as_text=True)
    assert "<svg" in html
    secret = html.split('id="totp-secret">')[1].split("<")[0]
    import pyotp

    confirmed = client.post(
        "/console/two-factor/enrol",
        data={"csrf_token": csrf_of(html), "code": pyotp.TOTP(secret).now()},
    )
    assert confirmed.status_code == 200
    assert confirmed.get_data(as_text=True).count("<li><code>") == 10
    assert client.get("/console/my-work").status_code == 200


def test_cm_without_2fa_signs_in_with_password_when_not_required(app, client):
    cm = make_staff(enrolled=False)
    app.config["CONSOLE_REQUIRE_2FA_FOR_CMS"] = False
    try:
        response = post_form(client, "/console/sign-in", email=cm.email, password=PASSWORD)
    finally:
        app.config["CONSOLE_REQUIRE_2FA_FOR_CMS"] = True
    assert response.headers["Location"] == "/console/my-work"
    assert client.get("/console/my-work").status_code == 200


@pytest.mark.parametrize("role", ["customer", "member"])
def test_customers_and_members_are_refused_with_a_clear_page(client, role):
    actor = make_actor(role)
    response = post_form(client, "/console/sign-in", email=actor.email, password=PASSWORD)
    assert response.status_code == 403
    assert "The console is for staff only" in response.get_data(as_text=True)
    assert _cookie(client) is None


def test_post_without_or_with_a_wrong_csrf_token_is_400(client):
    staff = make_staff()
    client.get("/console/sign-in")
    missing = client.post("/console/sign-in", data={"email": staff.email, "password": PASSWORD})
    assert missing.status_code == 400
    assert "text/html" in missing.content_type
    wrong = client.post(
        "/console/sign-in",
        data={"csrf_token": "forged", "email": staff.email, "password": PASSWORD},
    )
    assert wrong.status_code == 400
    assert _cookie(client) is None


def test_post_from_another_origin_is_400(client):
    staff = make_staff()
    sign_in(client, staff)
    html = client.get("/console/account").get_data(as_text=True)
    response = client.post(
        "/console/sign-out",
        data={"csrf_token": csrf_of(html)},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 400


def test_session_id_and_csrf_secret_change_at_sign_in(client):
    staff = make_staff()
    client.set_cookie(SESSION_COOKIE, "ccs_planted-by-an-attacker", path="/console")
    client.get("/console/sign-in")
    csrf_before = _cookie(client, CSRF_COOKIE)
    post_form(client, "/console/sign-in", email=staff.email, password=PASSWORD)
    pending = _cookie(client)
    assert pending not in (None, "ccs_planted-by-an-attacker")
    post_form(client, "/console/two-factor", code=staff.code())
    assert _cookie(client) not in (pending, None)
    assert _cookie(client, CSRF_COOKIE) != csrf_before


def test_idle_timeout_signs_out(client, app):
    staff = make_staff()
    sign_in(client, staff)
    assert client.get("/console/my-work").status_code == 200
    db.session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.user_id == staff.user_id)
        .values(last_seen_at=utcnow() - timedelta(minutes=31))
    )
    response = client.get("/console/my-work")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/console/sign-in")


def test_absolute_timeout_signs_out_even_when_used(client):
    staff = make_staff()
    sign_in(client, staff)
    db.session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.user_id == staff.user_id)
        .values(created_at=utcnow() - timedelta(hours=13))
    )
    assert client.get("/console/my-work").status_code == 303


def test_polling_the_counts_does_not_keep_the_session_alive(client):
    staff = make_staff()
    sign_in(client, staff)
    old = db.session.scalar(
        select(ConsoleSession.last_seen_at).where(
            ConsoleSession.user_id == staff.user_id, ConsoleSession.revoked_at.is_(None)
        )
    ) - timedelta(minutes=5)
    db.session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.user_id == staff.user_id)
        .values(last_seen_at=old)
    )
    db.session.commit()
    assert client.get("/console/my-work/counts").status_code == 200
    seen = db.session.scalar(
        select(ConsoleSession.last_seen_at).where(
            ConsoleSession.user_id == staff.user_id, ConsoleSession.revoked_at.is_(None)
        )
    )
    assert seen == old


def test_sign_out_everywhere_ends_the_other_sessions(client, app):
    staff = make_staff()
    other = app.test_client()
    sign_in(other, staff, code=staff.code(-30 + 30))
    sign_in(client, staff, code=staff.code(30))
    assert other.get("/console/my-work").status_code == 200
    response = post_form(client, "/console/account", "/console/sign-out-everywhere")
    assert response.status_code == 303
    assert other.get("/console/my-work").status_code == 303
    assert client.get("/console/my-work").status_code == 303


def test_sign_out_ends_this_session_only(client, app):
    staff = make_staff()
    other = app.test_client()
    sign_in(other, staff)
    sign_in(client, staff, code=staff.code(30))
    post_form(client, "/console/account", "/console/sign-out")
    assert client.get("/console/my-work").status_code == 303
    assert other.get("/console/my-work").status_code == 200


def test_console_posts_are_on_the_audit_log_with_the_actor(client):
    staff = make_staff()
    sign_in(client, staff)
    post_form(client, "/console/account", "/console/sign-out")
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.actor_user_id == staff.user_id).order_by(AuditEntry.id)
    ).all()
    assert [e.endpoint for e in entries] == [
        "console.sign_in",
        "console.two_factor",
        "console.sign_out",
    ]
    assert {e.actor_role for e in entries} == {"community_manager"}


def test_wrong_passwords_lock_the_console_sign_in_like_the_api(client, app):
    staff = make_staff()
    threshold = app.config["CROWD_SETTINGS"].sign_in_lockout_threshold
    for _ in range(threshold):
        post_form(client, "/console/sign-in", email=staff.email, password="wrong")
    locked = post_form(client, "/console/sign-in", email=staff.email, password=PASSWORD)
    assert locked.status_code == 429
    assert "Retry-After" in locked.headers
    api = client.post("/api/v1/auth/tokens", json={"email": staff.email, "password": PASSWORD})
    assert api.status_code == 429


def test_pages_need_sign_in(client):
    response = client.get("/console/my-work")
    assert response.status_code == 303
    assert response.headers["Location"] == "/console/sign-in?next=/console/my-work"


def test_ended_sessions_are_purged_after_a_month(client):
    staff = make_staff()
    sign_in(client, staff)
    live = db.session.scalar(
        select(ConsoleSession).where(
            ConsoleSession.user_id == staff.user_id, ConsoleSession.revoked_at.is_(None)
        )
    )
    old_revoked = db.session.scalar(
        select(ConsoleSession).where(
            ConsoleSession.user_id == staff.user_id, ConsoleSession.revoked_at.is_not(None)
        )
    )
    old_revoked.revoked_at = utcnow() - timedelta(days=31)
    db.session.flush()
    assert purge_sessions() == 1
    assert db.session.get(ConsoleSession, live.id) is not None
    assert client.get("/console/my-work").status_code == 200


def test_the_language_switch_saves_the_staff_members_language(client):
    cm = make_staff()
    sign_in(client, cm)
    english = client.get("/console/my-work").get_data(as_text=True)
    assert "My work" in english and 'lang="en"' in english
    switched = client.post(
        "/console/language",
        data={"csrf_token": csrf_of(english), "locale": "de", "next": "/console/my-work"},
    )
    assert switched.status_code == 303 and switched.headers["Location"].endswith("/console/my-work")
    german = client.get("/console/my-work").get_data(as_text=True)
    assert "Meine Arbeit" in german and '<html lang="de">' in german
    db.session.expire_all()
    assert db.session.get(User, cm.user_id).locale == "de"
    refused = client.post("/console/language", data={"csrf_token": csrf_of(german), "locale": "fr"})
    assert refused.status_code == 404
    no_token = client.post("/console/language", data={"locale": "en"})
    assert no_token.status_code == 400
