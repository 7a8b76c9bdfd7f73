"""Notifications, pushes and emails come in the recipient's language (their saved locale, else
DEFAULT_LOCALE), whoever triggered them and in whatever language they asked."""

from __future__ import annotations

from sqlalchemy import select

from accounts.models import User
from crowd.core.i18n import _l
from crowd.extensions import db
from notifications.models import Delivery, Notification, OutboundEmail
from notifications.service import notify, notify_many
from tests.jobs.conftest import active_member, drain_background, post_job_via_api
from tests.notifications.conftest import send_due
from tests.notifications.helpers import register

DE = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}
EN = {"Accept-Language": "en-GB"}


def _set_locale(client, actor, locale, headers=None):
    return client.patch(
        "/api/v1/me", json={"locale": locale}, headers={**actor.headers, **(headers or {})}
    )


def test_notify_renders_each_recipients_language(customer, member, admin):
    db.session.get(User, member.user_id).locale = "de"
    db.session.get(User, customer.user_id).locale = "en"
    db.session.flush()

    notify_many(
        "job.confirmed",
        _l("Job confirmed"),
        _l("{job_title}: please check the work report and confirm.", job_title="Regal"),
        recipients=[
            (member.user_id, "t:1", {}),
            (customer.user_id, "t:2", {}),
            (admin.user_id, "t:3", {}),  # chose none: DEFAULT_LOCALE (en in the suite)
        ],
    )

    rows = {n.user_id: (n.title, n.body) for n in db.session.scalars(select(Notification)).all()}
    assert rows[member.user_id] == (
        "Auftrag bestätigt",
        "Regal: Bitte prüfen Sie den Arbeitsbericht und bestätigen Sie.",
    )
    assert rows[customer.user_id] == (
        "Job confirmed",
        "Regal: please check the work report and confirm.",
    )
    assert rows[admin.user_id] == rows[customer.user_id]


def test_the_recipients_language_not_the_callers(client, customer, member):
    """A German member's notification triggered by an English request is German."""
    db.session.get(User, member.user_id).locale = "de"
    db.session.commit()

    with client.application.test_request_context(headers=EN):
        notify(member.user_id, "job.confirmed", _l("Job confirmed"), dedupe_key="t:4")

    row = db.session.scalar(select(Notification).where(Notification.dedupe_key == "t:4"))
    assert row.title == "Auftrag bestätigt"


def test_plain_text_is_stored_as_given(member):
    db.session.get(User, member.user_id).locale = "de"

    notify(member.user_id, "broadcast.announcement", "Sommerfest", "Am Freitag", dedupe_key="t:5")

    row = db.session.scalar(select(Notification).where(Notification.dedupe_key == "t:5"))
    assert (row.title, row.body) == ("Sommerfest", "Am Freitag")


def _offer_notification(user_id):
    return db.session.scalar(
        select(Notification).where(
            Notification.user_id == user_id, Notification.kind == "offer.new"
        )
    )


def test_a_new_offer_reaches_a_german_members_phone_in_german(
    app, client, customer, live_push, fcm_fake
):
    """The done-when story: the member chose German in the app; the customer posts in English;
    the first wave's offer lands in the inbox and on the phone (FCM fake) in German."""
    german = active_member()
    assert _set_locale(client, german, "de").status_code == 200
    phone = register(client, german, "android").get_json()

    response = post_job_via_api(client, customer, headers=EN)
    assert response.status_code == 201, response.get_json()
    drain_background(app)
    send_due()

    notification = _offer_notification(german.user_id)
    assert notification.title == "Neues Auftragsangebot"
    assert "antworten Sie bis" in notification.body
    [message] = fcm_fake.sent_to(phone["token"])
    assert message["notification"]["title"] == "Neues Auftragsangebot"
    assert message["notification"]["body"] == notification.body
    [delivery] = db.session.scalars(
        select(Delivery).where(Delivery.notification_id == notification.id)
    ).all()
    assert (delivery.channel, delivery.status) == ("push", "sent")


def test_an_english_members_offer_comes_in_english(app, client, customer, live_push, fcm_fake):
    english = active_member()
    assert _set_locale(client, english, "en", DE).status_code == 200
    phone = register(client, english, "android").get_json()

    assert post_job_via_api(client, customer, headers=DE).status_code == 201
    drain_background(app)
    send_due()

    [message] = fcm_fake.sent_to(phone["token"])
    assert message["notification"]["title"] == "New job offer"
    assert "answer by" in message["notification"]["body"]


def test_an_email_comes_in_the_recipients_language(member):
    db.session.get(User, member.user_id).locale = "de"
    db.session.commit()

    notify(
        member.user_id,
        "onboarding.approved",
        _l("Welcome to the crowd"),
        _l("Your application was approved: you can take jobs now."),
        dedupe_key="t:6",
    )
    db.session.commit()
    send_due()

    email = db.session.scalar(select(OutboundEmail).where(OutboundEmail.dedupe_key == "t:6"))
    assert email.subject == "Willkommen in der Crowd"
    assert "Ihre Bewerbung wurde angenommen" in email.body
    # The template's own words: the unsubscribe line and the kind's name.
    assert "Abmelden von: Aufnahme" in email.body
    assert '<html lang="de">' in email.html
