"""Sign-up with a referral code, a channel's code and a device id; the fraud signals at sign-up."""

import hashlib

from sqlalchemy import func, select

from crowd.extensions import db
from recruitment.fraud import normalise_email
from recruitment.models import MemberDevice, RecruitmentChannel, Referral
from tests.factories import PASSWORD, make_actor
from tests.recruitment.conftest import (
    API,
    first_application,
    friend_email,
    ok,
    problem,
    referral_of,
    referrer,
    set_status,
    sign_up,
    signed_up,
)


def channel(kind="partner", code="REPAIRCAFE-KREUZBERG", active=True, **kw) -> RecruitmentChannel:
    cm = make_actor("community_manager")
    row = RecruitmentChannel(
        kind=kind,
        code=code,
        name=kw.pop("name", "Repair Café Kreuzberg"),
        partner_type=kw.pop("partner_type", "repair_cafe" if kind == "partner" else None),
        active=active,
        created_by_id=cm.user_id,
        **kw,
    )
    db.session.add(row)
    db.session.commit()
    return row


def devices_of(member_id: int) -> list[str]:
    db.session.expire_all()
    query = select(MemberDevice.device_hash).where(MemberDevice.member_id == member_id)
    return list(db.session.scalars(query))


# --- sources --------------------------------------------------------------------------------


def test_without_codes_the_application_is_organic(client):
    friend = signed_up(client)
    application = first_application(friend)
    assert (application.source, application.channel_id) == ("organic", None)
    assert referral_of(friend) is None


def test_a_referral_code_in_any_case_makes_a_pending_referral_and_the_source(client):
    sponsor, code = referrer()
    friend = signed_up(client, referral_code=code.lower())
    assert first_application(friend).source == "referral"
    referral = referral_of(friend)
    assert referral.referrer_member_id == sponsor.profile_id
    assert (referral.status, referral.reason, referral.milestone) == ("pending", None, "first_job")


def test_a_channel_code_sets_the_channels_kind_and_id(client):
    partner = channel()
    friend = signed_up(client, source_code="repaircafe-kreuzberg")
    application = first_application(friend)
    assert (application.source, application.channel_id) == ("partner", partner.id)


def test_a_referral_wins_the_source_but_the_channel_is_kept(client):
    event = channel(kind="event", code="IFA2026", name="IFA Berlin")
    _, code = referrer()
    friend = signed_up(client, referral_code=code, source_code="ifa2026")
    application = first_application(friend)
    assert (application.source, application.channel_id) == ("referral", event.id)


# --- refused codes --------------------------------------------------------------------------


def test_unknown_disabled_or_inactive_codes_are_422_naming_the_field(client, cm):
    problem(sign_up(client, referral_code="ZZZZ2222"), 422, "referral_code")
    problem(sign_up(client, referral_code="no spaces!"), 422, "referral_code")
    problem(sign_up(client, source_code="NOPE"), 422, "source_code")
    channel(code="OLDCAMPAIGN", kind="campaign", active=False)
    problem(sign_up(client, source_code="oldcampaign"), 422, "source_code")

    paused, code = referrer()
    set_status(paused, "paused")
    body = problem(sign_up(client, referral_code=code), 422, "referral_code")
    assert "not active" in body["detail"]

    _, code = referrer()
    ok(client.post(f"{API}/referral-codes/{code.lower()}/disable", headers=cm.headers))
    body = problem(sign_up(client, referral_code=code), 422, "referral_code")
    assert "disabled" in body["detail"]
    # Nothing was written by the refused sign-ups.
    assert db.session.scalar(select(func.count()).select_from(Referral)) == 0


def test_a_bad_device_id_is_422(client):
    problem(sign_up(client, device_id="short"), 422, "device_id")
    problem(sign_up(client, device_id="has spaces in it"), 422, "device_id")


# --- devices --------------------------------------------------------------------------------


def test_device_ids_are_stored_hashed_at_sign_up_and_sign_in(client):
    friend = signed_up(client, device_id="install-0001-abcdef")
    digest = hashlib.sha256(b"install-0001-abcdef").hexdigest()
    assert devices_of(friend.profile_id) == [digest]
    body = {"email": friend.email, "password": PASSWORD, "device_id": "install-0002-abcdef"}
    ok(client.post(f"{API}/auth/tokens", json=body), 201)
    ok(client.post(f"{API}/auth/tokens", json=body), 201)
    assert sorted(devices_of(friend.profile_id)) == sorted(
        [digest, hashlib.sha256(b"install-0002-abcdef").hexdigest()]
    )


def test_staff_sign_in_with_a_device_id_records_nothing(client, cm):
    body = {"email": cm.email, "password": PASSWORD, "device_id": "staff-laptop-0001"}
    ok(client.post(f"{API}/auth/tokens", json=body), 201)
    assert db.session.scalar(select(func.count()).select_from(MemberDevice)) == 0


# --- fraud at sign-up -----------------------------------------------------------------------


def test_normalised_emails_ignore_case_tags_and_gmail_dots():
    assert normalise_email("Max.Muster+crowd@GoogleMail.com") == "maxmuster@gmail.com"
    assert normalise_email("max.muster@web.de") == "max.muster@web.de"
    assert normalise_email("max+a@web.de") == normalise_email("MAX+b@web.de")


def test_the_same_person_under_another_spelling_is_refused_but_may_join(client):
    _, code = referrer(email="lena.berg@gmail.com")
    friend = signed_up(client, email="LenaBerg+second@googlemail.com", referral_code=code)
    referral = referral_of(friend)
    assert (referral.status, referral.reason) == ("refused", "same_person")
    assert first_application(friend).source == "referral"


def test_a_device_the_referrer_used_is_refused(client):
    sponsor, code = referrer()
    sign_in = {"email": sponsor.email, "password": PASSWORD, "device_id": "shared-phone-0042"}
    ok(client.post(f"{API}/auth/tokens", json=sign_in), 201)
    friend = signed_up(client, referral_code=code, device_id="shared-phone-0042")
    assert (referral_of(friend).status, referral_of(friend).reason) == ("refused", "same_device")
    other = signed_up(client, referral_code=code, device_id="other-phone-0043")
    assert referral_of(other).status == "pending"


def test_the_same_company_domain_is_held_for_review_but_freemail_is_not(client):
    _, code = referrer(email="chef@elektro-schmidt.de")
    colleague = signed_up(client, email="azubi@elektro-schmidt.de", referral_code=code)
    assert (referral_of(colleague).status, referral_of(colleague).reason) == (
        "review",
        "same_email_domain",
    )
    _, code = referrer(email="someone@gmail.com")
    stranger = signed_up(client, email=friend_email("gmail.com"), referral_code=code)
    assert referral_of(stranger).status == "pending"


def test_the_referrer_is_told_a_friend_joined_without_private_data(app, client):
    from tests.jobs.conftest import drain_background, notifications_for

    sponsor, code = referrer()
    signed_up(client, referral_code=code, display_name="Jonas", phone="+49 30 555")
    drain_background(app)
    [note] = notifications_for(sponsor.user_id, "recruitment.referral_joined")
    assert "Jonas" in note.title
    assert "555" not in note.title + note.body


# --- re-applying ----------------------------------------------------------------------------


def test_a_re_application_keeps_the_first_source_and_channel(client, cm):
    campaign = channel(kind="campaign", code="SPRING26", name="Spring campaign")
    friend = signed_up(client, source_code="SPRING26")
    url = f"{API}/applications/{first_application(friend).id}/reject"
    ok(client.post(url, json={"reason": "Not yet"}, headers=cm.headers))
    first_application(friend).reapply_after = None
    db.session.commit()
    again = ok(client.post(f"{API}/me/onboarding/reapply", headers=friend.headers), 201)
    db.session.expire_all()
    from onboarding.models import Application

    second = db.session.get(Application, again["id"])
    assert second.number == 2
    assert (second.source, second.channel_id) == ("campaign", campaign.id)
