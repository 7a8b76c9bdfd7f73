"""The admins' settings page through the Flask test client: the adjustable settings with value,
default, meaning and form; a change made with the API's schema and service, in force at once
(the API reads it), on the audit log with old and new values and shown in the trail; a bad
value shown again with the field's message (422, nothing changed); back to the configured
value; CSRF; and a community manager (or anyone else) refused."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crowd.core.audit import AuditEntry
from crowd.core.settings import SettingOverride
from crowd.extensions import db
from tests.console.helpers import csrf_of, make_staff, sign_in
from tests.factories import PASSWORD, make_actor

PAGE = "/console/settings/"
KEY = "JOBS_WAVE_SIZE"


@pytest.fixture
def admin(client):
    staff = make_staff("admin")
    assert sign_in(client, staff).status_code == 303
    return staff


def _html(client, url: str = PAGE, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:1000]
    return response.get_data(as_text=True)


def _change(client, key: str = KEY, **fields):
    token = csrf_of(_html(client))
    return client.post(PAGE, data={"csrf_token": token, "key": key, **fields})


def _api_value(client, key: str) -> object:
    admin = make_actor("admin")
    listed = client.get("/api/v1/settings", headers=admin.headers).get_json()
    return next(s["value"] for s in listed if s["key"] == key)


def _row(html: str, key: str) -> str:
    start = html.index(f'data-setting="{key}"')
    return html[start : html.index("</tr>", start)]


def test_the_page_lists_each_setting_with_value_default_meaning_and_form(client, admin):
    html = _html(client)
    row = _row(html, KEY)
    configured = _api_value(client, KEY)
    assert f"<code data-value>{configured}</code>" in row
    assert "a whole number from 1 to 100" in row  # the form it takes
    assert 'data-source="default"' in row
    assert 'name="csrf_token"' in row
    for key in ("PAYOUT_MINIMUM_AMOUNT", "SUPPORT_RESOLUTION_HOURS_LOW"):
        assert f'data-setting="{key}"' in html
    assert 'href="/console/settings/" aria-current="page"' in html
    assert ">Payouts<" in html  # admins see both items


def test_an_admin_changes_a_setting_and_the_api_reads_it(client, admin):
    before = _api_value(client, KEY)
    new = 4 if before != 4 else 5
    response = _change(client, value=str(new))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"?done={KEY}#setting-{KEY}")
    db.session.expire_all()
    override = db.session.get(SettingOverride, KEY)
    assert override.value == new and override.changed_by_user_id == admin.user_id
    assert _api_value(client, KEY) == new
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.endpoint == "console_settings.change")
    ).one()
    assert entry.actor_user_id == admin.user_id
    assert entry.changes == {KEY: {"old": before, "new": new}}

    html = _html(client, f"{PAGE}?done={KEY}")
    assert f"<code data-value>{new}</code>" in _row(html, KEY)
    assert 'data-source="admin"' in _row(html, KEY)
    trail = html[html.index('id="trail"') :]
    assert f'data-change-key="{KEY}"' in trail
    assert f"<code data-old>{before}</code>" in trail and f"<code data-new>{new}</code>" in trail
    assert "console" in trail


def test_a_change_through_the_api_is_in_the_trail(client, admin):
    other = make_actor("admin")
    patched = client.patch(
        "/api/v1/settings", json={"SUPPORT_RESOLUTION_HOURS_LOW": 99}, headers=other.headers
    )
    assert patched.status_code == 200, patched.get_json()
    trail = _html(client)[_html(client).index('id="trail"') :]
    assert 'data-change-key="SUPPORT_RESOLUTION_HOURS_LOW"' in trail
    assert "<code data-new>99</code>" in trail and "API" in trail


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (KEY, "many", "must be a whole number from 1 to 100"),
        (KEY, "0", "JOBS_WAVE_SIZE"),
        (KEY, "4.5", "must be a whole number from 1 to 100"),
        ("PAYOUT_MINIMUM_AMOUNT", '{"USD": 5}', "PAYOUT_MINIMUM_AMOUNT"),
    ],
)
def test_a_bad_value_shows_the_form_again_with_the_message(client, admin, key, value, message):
    response = _change(client, key=key, value=value)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    row = _row(html, key)
    assert f'id="error-{key}"' in row and message in row
    assert 'aria-invalid="true"' in row
    db.session.expire_all()
    assert db.session.get(SettingOverride, key) is None
    # The refused attempt is on the log, without changes.
    tried = db.session.scalars(
        select(AuditEntry).where(AuditEntry.endpoint == "console_settings.change")
    ).all()
    assert [(e.status_code, e.changes) for e in tried] == [(422, None)]


def test_an_unknown_setting_is_refused(client, admin):
    response = _change(client, key="SECRET_KEY", value="x" * 40)
    assert response.status_code == 422
    assert "SECRET_KEY: not a setting admins can change" in response.get_data(as_text=True)


def test_back_to_the_configured_value(client, admin):
    configured = _api_value(client, KEY)
    assert _change(client, value=str(configured % 100 + 1)).status_code == 303
    assert _change(client, value="", reset="1").status_code == 303
    db.session.expire_all()
    assert db.session.get(SettingOverride, KEY) is None
    assert _api_value(client, KEY) == configured


def test_a_change_needs_the_csrf_token(client, admin):
    response = client.post(PAGE, data={"key": KEY, "value": "3"})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(SettingOverride, KEY) is None


def test_a_community_manager_gets_403_and_no_nav_item(client):
    cm = make_staff()
    assert sign_in(client, cm).status_code == 303
    assert "Forbidden" in _html(client, PAGE, status=403)
    nav = _html(client, "/console/my-work")
    assert 'href="/console/settings/"' not in nav and ">Settings<" not in nav
    token = csrf_of(nav)
    refused = client.post(PAGE, data={"csrf_token": token, "key": KEY, "value": "3"})
    assert refused.status_code == 403
    db.session.expire_all()
    assert db.session.get(SettingOverride, KEY) is None


def test_members_and_customers_cannot_reach_the_console(client):
    for role in ("member", "customer"):
        someone = make_actor(role)
        page = client.get("/console/sign-in").get_data(as_text=True)
        refused = client.post(
            "/console/sign-in",
            data={"csrf_token": csrf_of(page), "email": someone.email, "password": PASSWORD},
        )
        assert refused.status_code == 403
        assert client.get(PAGE).status_code == 303  # to the sign-in page


def test_the_address_without_the_slash_leads_to_the_page(client, admin):
    response = client.get("/console/settings")
    assert response.status_code in (301, 308)
    assert response.headers["Location"].endswith("/console/settings/")
