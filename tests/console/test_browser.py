"""The console in a real browser (Chromium via Playwright) against a real server: sign-in with
TOTP, enrolment, recovery codes, CSRF, session fixation, refusals, timeouts, sign out
everywhere, My work; axe-core checks each page for serious or critical violations."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import update

from console.models import ConsoleSession
from console.web import SESSION_COOKIE
from crowd.core.db import utcnow
from crowd.extensions import db
from tests.console.helpers import make_staff, seed_my_work
from tests.factories import PASSWORD, make_actor

pytestmark = pytest.mark.committing


def _password_step(page, email: str, password: str = PASSWORD) -> None:
    page.goto("/console/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def _sign_in(page, staff, code: str | None = None) -> None:
    _password_step(page, staff.email)
    page.get_by_label("Code from your authenticator app, or a recovery code").fill(
        code or staff.code()
    )
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()


def _session_cookie(page) -> str | None:
    for cookie in page.context.cookies():
        if cookie["name"] == SESSION_COOKIE:
            return cookie["value"]
    return None


def test_sign_in_with_totp_lands_on_my_work(new_page, client, screenshot, check_accessibility):
    cm = make_staff()
    ids = seed_my_work(client, cm.user_id)
    page = new_page()
    page.goto("/console/my-work")
    assert page.url.endswith("/console/sign-in?next=/console/my-work")
    check_accessibility(page)
    screenshot(page, "sign-in")
    _password_step(page, cm.email)
    assert "/console/two-factor" in page.url
    check_accessibility(page)
    page.get_by_label("Code from your authenticator app, or a recovery code").fill(cm.code())
    page.get_by_role("button", name="Continue").click()
    assert page.url.endswith("/console/my-work")
    urgent = page.locator(f'tr[data-ticket="{ids["urgent"]}"]')
    assert urgent.get_attribute("class") == "due-soon"
    assert "about to breach" in urgent.inner_text()
    # Highlighted by the stylesheet (the CSP let it load).
    assert urgent.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 244, 206)"
    assert page.locator(f'tr[data-job="{ids["job"]}"]').is_visible()
    assert "Escalated jobs: 1" in page.locator("#nav-counts").inner_text()
    check_accessibility(page)
    screenshot(page, "my-work")
    page.goto("/console/account")
    check_accessibility(page)
    screenshot(page, "account")


def test_htmx_refreshes_the_counts(new_page, client):
    cm = make_staff()
    page = new_page()
    _sign_in(page, cm)
    assert "My tickets: 0" in page.locator("#nav-counts").inner_text()
    seed_my_work(client, cm.user_id)
    # htmx loaded under the CSP; the element's own request runs now instead of in 30 s.
    page.evaluate("htmx.trigger('#nav-counts', 'refresh-counts')")
    # Polled from Python: wait_for_function would evaluate a string, which the CSP forbids.
    for _ in range(50):
        if "My tickets: 2" in page.locator("#nav-counts").inner_text():
            break
        page.wait_for_timeout(100)
    assert "My tickets: 2" in page.locator("#nav-counts").inner_text()


def test_wrong_code_is_refused_and_a_recovery_code_works_once(new_page, check_accessibility):
    cm = make_staff()
    page = new_page()
    _sign_in(page, cm, code="123456" if cm.code() != "123456" else "654321")
    assert "/console/two-factor" in page.url
    assert page.get_by_role("alert").inner_text() == "The code is wrong, expired or used already."
    check_accessibility(page)
    page.get_by_label("Code from your authenticator app, or a recovery code").fill(
        cm.recovery_codes[0]
    )
    page.get_by_role("button", name="Continue").click()
    assert "/console/account" in page.url
    assert "Recovery codes left: 9" in page.content()
    other = new_page()
    _sign_in(other, cm, code=cm.recovery_codes[0])
    assert "/console/two-factor" in other.url
    assert other.get_by_role("alert").is_visible()


def test_admin_without_two_factor_is_made_to_enrol(new_page, screenshot, check_accessibility):
    admin = make_staff("admin", enrolled=False)
    page = new_page()
    _password_step(page, admin.email)
    page.goto("/console/my-work")
    assert "/console/two-factor/enrol" in page.url
    assert page.locator("figure.qr svg").is_visible()
    check_accessibility(page)
    screenshot(page, "enrol")
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm").click()
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    check_accessibility(page)
    screenshot(page, "recovery-codes")
    page.get_by_role("link", name="Continue to the console").click()
    assert page.url.endswith("/console/my-work")


def test_form_without_csrf_token_is_refused(new_page, check_accessibility):
    cm = make_staff()
    page = new_page()
    page.goto("/console/sign-in")
    page.locator('input[name="csrf_token"]').evaluate("e => e.remove()")
    page.get_by_label("Email").fill(cm.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Form expired or forged"
    assert _session_cookie(page) is None
    check_accessibility(page)


def test_a_cookie_set_before_sign_in_is_not_the_one_after(new_page, live_server):
    cm = make_staff()
    page = new_page()
    planted = "ccs_fixed-by-an-attacker"
    host = live_server.split("//")[1].split(":")[0]
    page.context.add_cookies(
        [{"name": SESSION_COOKIE, "value": planted, "domain": host, "path": "/console"}]
    )
    _password_step(page, cm.email)
    pending = _session_cookie(page)
    assert pending not in (None, planted)
    page.get_by_label("Code from your authenticator app, or a recovery code").fill(cm.code())
    page.get_by_role("button", name="Continue").click()
    assert page.url.endswith("/console/my-work")
    assert _session_cookie(page) not in (None, planted, pending)


@pytest.mark.parametrize("role", ["member", "customer"])
def test_members_and_customers_are_refused(new_page, check_accessibility, role):
    actor = make_actor(role)
    page = new_page()
    _password_step(page, actor.email)
    assert page.get_by_role("heading", level=1).inner_text() == "The console is for staff only"
    assert _session_cookie(page) is None
    check_accessibility(page)


def test_idle_session_is_signed_out(new_page):
    cm = make_staff()
    page = new_page()
    _sign_in(page, cm)
    # Signed in and arrived: only then does the session age (no navigation left in flight).
    page.wait_for_url("**/console/my-work")
    db.session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.user_id == cm.user_id)
        .values(last_seen_at=utcnow() - timedelta(minutes=31))
    )
    db.session.commit()
    page.goto("/console/my-work")
    assert "/console/sign-in?next=/console/my-work" in page.url


def test_sign_out_everywhere_ends_the_other_browsers_session(new_page):
    cm = make_staff()
    first, second = new_page(), new_page()
    _sign_in(first, cm)
    _sign_in(second, cm, code=cm.code(30))
    assert second.url.endswith("/console/my-work")
    first.goto("/console/account")
    first.get_by_role("button", name="Sign out everywhere").click()
    assert "/console/sign-in" in first.url
    second.reload()
    assert "/console/sign-in" in second.url
