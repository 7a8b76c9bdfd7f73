"""Broadcasts in German and English: each recipient reads the text of their language (the
inbox, the email and GET /me/broadcasts), the default text when theirs has none, and an
unknown language is refused."""

from __future__ import annotations

from accounts.models import User
from crowd.extensions import db
from tests.jobs.conftest import drain_background, notifications_for
from tests.mentoring.test_broadcasts import crowd_member

API = "/api/v1"
TEXTS = {
    "de": {"title": "Neue Skills", "body": "Ab Montag gibt es Smart-Home-Aufträge."},
    "en": {"title": "New skills", "body": "Smart-home jobs start on Monday."},
}


def _speaking(locale: str | None, city: str):
    actor = crowd_member(city=city)
    db.session.get(User, actor.user_id).locale = locale
    db.session.commit()
    return actor


def test_each_recipient_reads_the_broadcast_in_their_language(app, client, cm):
    german = _speaking("de", "Lübeck")
    english = _speaking("en", "Lübeck")
    created = client.post(
        f"{API}/broadcasts",
        json={
            "kind": "announcement",
            "title": TEXTS["de"]["title"],
            "body": TEXTS["de"]["body"],
            "translations": TEXTS,
            "segment": {"cities": ["Lübeck"]},
        },
        headers=cm.headers,
    )
    assert created.status_code == 201, created.json
    assert created.json["translations"] == TEXTS
    sent = client.post(f"{API}/broadcasts/{created.json['id']}/send", headers=cm.headers)
    assert sent.status_code == 200, sent.json
    drain_background(app)

    for actor, locale in ((german, "de"), (english, "en")):
        (inbox,) = notifications_for(actor.user_id, "broadcast.announcement")
        assert (inbox.title, inbox.body) == (TEXTS[locale]["title"], TEXTS[locale]["body"])
        mine = client.get(f"{API}/me/broadcasts", headers=actor.headers).json["items"]
        assert [(m["title"], m["body"]) for m in mine] == [
            (TEXTS[locale]["title"], TEXTS[locale]["body"])
        ]
    read = client.post(
        f"{API}/me/broadcasts/{created.json['id']}/read", headers=english.headers
    ).json
    assert read["title"] == "New skills"


def test_without_a_translation_of_their_language_recipients_read_the_default_text(app, client, cm):
    english = _speaking("en", "Kiel")
    created = client.post(
        f"{API}/broadcasts",
        json={
            "kind": "announcement",
            "title": "Hallo",
            "body": "Nur auf Deutsch.",
            "translations": {"de": {"title": "Hallo", "body": "Nur auf Deutsch."}},
            "segment": {"cities": ["Kiel"]},
        },
        headers=cm.headers,
    )
    client.post(f"{API}/broadcasts/{created.json['id']}/send", headers=cm.headers)
    drain_background(app)
    (inbox,) = notifications_for(english.user_id, "broadcast.announcement")
    assert inbox.title == "Hallo"


def test_a_translation_into_an_unknown_language_or_without_a_body_is_a_422(client, cm):
    for translations in ({"fr": TEXTS["en"]}, {"en": {"title": "Only a title"}}):
        response = client.post(
            f"{API}/broadcasts",
            json={
                "kind": "announcement",
                "title": "t",
                "body": "b",
                "translations": translations,
                "segment": {"cities": ["Kiel"]},
            },
            headers=cm.headers,
        )
        assert response.status_code == 422, response.json
        assert "translations" in response.json["errors"]["json"]
