"""German and English: problem responses follow the user's saved language, else Accept-Language,
else DEFAULT_LOCALE (German); sign-up picks the language (tests/notifications/test_languages.py:
notifications, pushes and emails in the recipient's language)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from accounts.models import User
from crowd.core.i18n import negotiate
from crowd.extensions import db
from tests.factories import PASSWORD

DE = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}
EN = {"Accept-Language": "en-GB"}


def _set_locale(client, actor, locale, headers=None):
    return client.patch(
        "/api/v1/me", json={"locale": locale}, headers={**actor.headers, **(headers or {})}
    )


# --- the request's language -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("de", "de"),
        ("de-AT", "de"),
        ("fr-CH, de-CH;q=0.8, en;q=0.5", "de"),
        ("en-US,en;q=0.9", "en"),
        ("fr, es", None),
        ("", None),
    ],
)
def test_accept_language_picks_german_or_english(header, expected):
    assert negotiate(header) == expected


def test_a_domain_error_speaks_the_requests_language(client):
    german = client.get("/api/v1/me", headers=DE)
    english = client.get("/api/v1/me", headers=EN)

    assert german.status_code == english.status_code == 401
    assert german.json["title"] == "Anmeldung erforderlich"
    assert german.json["type"] == english.json["type"]  # the slug never changes
    assert english.json["title"] == "Authentication required"
    assert german.headers["Content-Language"] == "de"
    assert english.headers["Content-Language"] == "en"
    assert "Accept-Language" in german.headers["Vary"]


def test_validation_problems_translate_marshmallows_messages(client):
    response = client.post("/api/v1/auth/tokens", json={"name": "x" * 200}, headers=DE)

    assert response.status_code == 422
    body = response.json
    assert body["title"] == "Prüfung fehlgeschlagen"
    assert body["detail"] == "Die Anfrage enthält ungültige Felder; siehe errors."
    assert body["errors"]["json"]["email"] == ["Pflichtfeld fehlt."]
    assert body["errors"]["json"]["name"] == ["Die Länge muss zwischen 1 und 120 liegen."]


def test_werkzeugs_own_errors_are_translated_too(client):
    response = client.get("/api/v1/no-such-thing", headers=DE)

    assert response.status_code == 404
    assert response.json["title"] == "Nicht gefunden"
    assert response.json["type"].endswith("/not-found")


def test_without_accept_language_the_api_speaks_german(app, client, monkeypatch):
    """The product's default (DEFAULT_LOCALE=de); the suite itself runs with English."""
    monkeypatch.setitem(app.config, "DEFAULT_LOCALE", "de")
    client.environ_base.pop("HTTP_ACCEPT_LANGUAGE", None)

    response = client.get("/api/v1/me")

    assert response.json["title"] == "Anmeldung erforderlich"
    assert response.headers["Content-Language"] == "de"


def test_a_details_placeholders_are_filled_in_either_language(client, customer):
    german = client.get("/api/v1/jobs/999999", headers={**customer.headers, **DE})
    english = client.get("/api/v1/jobs/999999", headers={**customer.headers, **EN})

    assert german.status_code == english.status_code == 404
    assert german.json["detail"] != english.json["detail"]
    assert german.json["title"] == "Nicht gefunden"


# --- the user's saved language --------------------------------------------------------------


def test_the_saved_language_wins_over_accept_language(client, customer):
    response = _set_locale(client, customer, "de", EN)

    assert response.status_code == 200
    assert response.json["locale"] == "de"
    # The answer to the change already speaks it.
    assert response.headers["Content-Language"] == "de"
    assert client.get("/api/v1/me", headers=customer.headers).json["locale"] == "de"
    missing = client.get("/api/v1/jobs/999999", headers={**customer.headers, **EN})
    assert missing.status_code == 404
    assert missing.json["title"] == "Nicht gefunden"


def test_clearing_the_language_falls_back_to_accept_language(client, customer):
    _set_locale(client, customer, "de")

    response = _set_locale(client, customer, None, EN)

    assert response.status_code == 200 and response.json["locale"] is None
    missing = client.get("/api/v1/jobs/999999", headers={**customer.headers, **EN})
    assert missing.json["title"] == "Not found"


@pytest.mark.parametrize("locale", ["fr", "DE", "", 7])
def test_only_german_or_english_can_be_chosen(client, customer, locale):
    response = _set_locale(client, customer, locale)

    assert response.status_code == 422
    assert "locale" in response.json["errors"]["json"]


def test_locale_is_required_in_the_change(client, customer):
    response = client.patch("/api/v1/me", json={}, headers=customer.headers)

    assert response.status_code == 422
    assert response.json["errors"]["json"]["locale"] == ["Missing data for required field."]


def test_me_needs_a_session(client):
    assert client.patch("/api/v1/me", json={"locale": "de"}).status_code == 401


# --- sign-up --------------------------------------------------------------------------------


def _member_sign_up(client, email, headers, **fields):
    body = {
        "email": email,
        "password": PASSWORD,
        "display_name": "Max",
        "kind": "private",
        **fields,
    }
    return client.post("/api/v1/accounts/members", json=body, headers=headers)


def _locale_of(email):
    return db.session.scalar(select(User.locale).where(User.email == email))


def test_sign_up_takes_the_language_from_accept_language(client):
    response = client.post(
        "/api/v1/accounts/customers",
        json={"email": "eva@example.test", "password": PASSWORD, "display_name": "Eva"},
        headers=DE,
    )
    assert response.status_code == 202
    assert _locale_of("eva@example.test") == "de"

    _member_sign_up(client, "max@example.test", EN, country="AT")
    assert _locale_of("max@example.test") == "en"


def test_a_member_in_austria_who_names_no_language_gets_german(client):
    client.environ_base.pop("HTTP_ACCEPT_LANGUAGE", None)

    assert _member_sign_up(client, "sepp@example.test", {}, country="AT").status_code == 202
    _member_sign_up(client, "jo@example.test", {}, country="NL")

    assert _locale_of("sepp@example.test") == "de"
    assert _locale_of("jo@example.test") is None  # not chosen: DEFAULT_LOCALE applies
