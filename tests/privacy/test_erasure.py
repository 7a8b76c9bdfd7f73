"""Erasure on request (issue 25, item 5): a member with jobs, reviews, tickets, payouts and
files is erased, and nothing personal is left in any table or in the file storage; what blocks
an erasure, who may ask, and a customer's erasure."""

from __future__ import annotations

import json
import os

from flask import current_app
from sqlalchemy import func, select

from crowd.core.audit import AuditEntry
from crowd.core.files.models import StoredFile
from crowd.extensions import db
from customers.models import CustomerAddress, CustomerBillingProfile
from invoicing.models import Document
from jobs.models import Job, Offer, WorkReportFile
from members.models import Member, MemberSkill, Skill
from notifications.models import Delivery, Notification
from onboarding.models import DocumentCheck
from payouts import ledger
from payouts.models import CustomerPaymentMethod, Payout
from privacy.models import Erasure
from support.models import TicketMessage, TicketMessageFile
from tests.factories import PASSWORD, make_actor
from tests.files_helpers import jpeg_with_gps, pdf, png, upload
from tests.invoicing.helpers import set_customer_profile, set_member_profile
from tests.jobs.conftest import active_member, drain_background, post_job_via_api
from tests.payouts.conftest import assert_ledger_sound
from tests.payouts.job_money_helpers import assigned_job, confirmed_job, payment
from tests.support.dispute_helpers import disputed_job, payout_account, run_payouts
from tests.support.ticket_helpers import acted, assign, closed_ticket, opened, said

API = "/api/v1"
NAME = "Zebulon Quarrington"
EMAIL = "zebulon.quarrington@example.test"
PHONE = "+4915799887766"
# Issued documents are legal records, kept unchanged with the names they were issued to.
KEPT_TABLES = ("documents",)


# --- helpers ----------------------------------------------------------------------------------


def scan(needles: list[str]) -> list[str]:
    """Every table (but the issued documents), every row, every column, as text: where any
    of `needles` appears (case-insensitive)."""
    db.session.expire_all()
    lowered = [n.lower() for n in needles]
    found = []
    for table in db.metadata.sorted_tables:
        if table.name in KEPT_TABLES:
            continue
        for row in db.session.execute(select(table)).mappings():
            for column, value in row.items():
                if value is None:
                    continue
                if isinstance(value, bytes):
                    text = value.decode("latin-1")
                elif isinstance(value, dict | list):
                    text = json.dumps(value, ensure_ascii=False, default=str)
                else:
                    text = str(value)
                text = text.lower()
                found += [f"{table.name}.{column}: {n}" for n in lowered if n in text]
    return found


def stored_objects() -> dict[str, bytes]:
    """Every object in the local storage, by key."""
    root = current_app.config["FILES_LOCAL_DIRECTORY"]
    objects = {}
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                objects[os.path.relpath(path, root)] = handle.read()
    return objects


def uploaded(client, actor, data: bytes, content_type: str, purpose: str) -> int:
    response = upload(client, actor, data, content_type, purpose=purpose)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["id"]


def erase_me(client, actor, password: str = PASSWORD):
    return client.post(f"{API}/me/erasure", json={"password": password}, headers=actor.headers)


def erase(client, admin, user_id: int, reason: str = "Asked by letter"):
    return client.post(
        f"{API}/users/{user_id}/erasure", json={"reason": reason}, headers=admin.headers
    )


def sign_in(client, email: str, password: str = PASSWORD):
    return client.post(f"{API}/auth/tokens", json={"email": email, "password": password})


def documents_of_job(job_id: int) -> list[int]:
    return list(db.session.scalars(select(Document.id).where(Document.job_id == job_id)))


def more_history(app, client, member, cm) -> None:
    device = client.post(
        f"{API}/me/devices",
        json={
            "platform": "android",
            "token": "f0001:APA91b" + "Z" * 140,
            "app_version": "2.4.1",
            "locale": "de-DE",
            "name": f"{NAME}'s phone",
        },
        headers=member.headers,
    )
    assert device.status_code in (200, 201), device.get_json()
    note = client.post(
        f"{API}/members/{member.profile_id}/contacts",
        json={"kind": "call", "channel": "phone", "summary": f"Called {NAME} on {PHONE}"},
        headers=cm.headers,
    )
    assert note.status_code == 201, note.get_json()
    check = client.post(
        f"{API}/me/onboarding/documents",
        json={
            "kind": "identity",
            "document_type": "passport",
            "issuer": "Quarrington County",
            "issuing_country": "DE",
        },
        headers=member.headers,
    )
    assert check.status_code == 201, check.get_json()
    front = uploaded(client, member, jpeg_with_gps(), "image/jpeg", "identity_document")
    db.session.get(DocumentCheck, check.get_json()["id"]).front_file_id = front
    db.session.commit()
    skill = db.session.scalar(select(Skill.id).where(Skill.slug == "tv_wall_mount"))
    group = client.post(
        f"{API}/topic-groups",
        json={"slug": "wall-mounts", "name": "Wall mounts", "kind": "skill", "skill_id": skill},
        headers=cm.headers,
    )
    assert group.status_code == 201, group.get_json()
    group_id = group.get_json()["id"]
    joined = client.post(f"{API}/topic-groups/{group_id}/join", headers=member.headers)
    assert joined.status_code == 200, joined.get_json()
    thread = client.post(
        f"{API}/topic-groups/{group_id}/threads",
        json={"title": f"{NAME} asks", "body": f"Anchors for brick? Text me: {PHONE}"},
        headers=member.headers,
    )
    assert thread.status_code == 201, thread.get_json()
    drain_background(app)


# --- the walk ---------------------------------------------------------------------------------


def test_a_member_with_a_history_is_erased_and_nothing_personal_is_left(
    app, client, customer, cm, admin
):
    member = active_member(display_name=NAME, email=EMAIL, phone=PHONE)
    assert db.session.get(Member, member.profile_id).phone == PHONE
    payout_account(client, member)
    # A profile photo (with GPS in its EXIF), a bio.
    photo = uploaded(client, member, jpeg_with_gps(), "image/jpeg", "profile_photo")
    put = client.put(f"{API}/me/profile-photo", json={"file_id": photo}, headers=member.headers)
    assert put.status_code == 200, put.get_json()
    bio = f"I am {NAME}, call me on {PHONE}."
    patched = client.patch(f"{API}/me/member", json={"bio": bio}, headers=member.headers)
    assert patched.status_code == 200, patched.get_json()

    # Billing particulars: the documents name the member.
    set_customer_profile(client, customer, country="DE", vat_id=None)
    set_member_profile(client, member, small_business=True, vat_id=None, legal_name=NAME)
    # A job done, confirmed, settled, reviewed both ways, with a work photo of the member's.
    job_id, _ = confirmed_job(app, client, customer, cm, member)
    work_photo = uploaded(client, member, png(), "image/png", "work_photo")
    db.session.add(WorkReportFile(job_id=job_id, file_id=work_photo, kind="photo", position=0))
    db.session.commit()
    for actor, text in ((member, f"Friendly customer. {NAME}"), (customer, "Great work!")):
        review = client.post(
            f"{API}/jobs/{job_id}/reviews",
            json={"stars": 5, "comment": text},
            headers=actor.headers,
        )
        assert review.status_code == 201, review.get_json()
    drain_background(app)
    invoices = documents_of_job(job_id)
    assert invoices

    # A ticket the member opened, with a message quoting their phone and an attachment;
    # resolved and closed by the community manager.
    ticket = opened(client, member, job_id=job_id, subject=f"Question from {NAME}")
    message = said(client, member, ticket["id"], f"Reach me on {PHONE} — {NAME}")
    attachment = uploaded(client, member, pdf(author=NAME), "application/pdf", "ticket_attachment")
    db.session.add(TicketMessageFile(message_id=message["id"], file_id=attachment, position=0))
    db.session.commit()
    assert assign(client, cm, ticket["id"]).status_code == 200
    acted(client, cm, ticket["id"], "resolve", note="Answered")
    acted(client, cm, ticket["id"], "close")

    # More of a member's life: a phone for pushes, a note of a call, an identity document,
    # a thread in a community group.
    more_history(app, client, member, cm)

    # The payout: their earnings paid out in full.
    payouts = run_payouts(app)
    assert [(p.member_id, p.status) for p in payouts] == [(member.profile_id, "paid")]
    drain_background(app)

    issued_before = db.session.scalars(select(Document.data).where(Document.job_id == job_id)).all()
    files = list(
        db.session.scalars(select(StoredFile).where(StoredFile.owner_user_id == member.user_id))
    )
    keys = {key for f in files for key in (f.key, f.thumbnail_key) if key}
    assert len(files) == 4 and keys <= set(stored_objects())
    needles = [*NAME.split(), EMAIL, PHONE, PHONE[3:]]
    assert scan(needles), "the walk should have left the member's data around"

    response = erase_me(client, member)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["user_id"], body["via"], body["requested_by_id"]) == (
        member.user_id,
        "self",
        member.user_id,
    )
    assert body["counts"]["files"] == 4 and body["counts"]["reviews"] == 1
    assert body["counts"]["posts"] == 1 and body["counts"]["devices"] == 1
    assert any("invoices" in kept for kept in body["kept"])
    drain_background(app)

    # Nothing personal in any table (the issued invoices are kept as legal records).
    left = scan(needles)
    assert left == [], "\n".join(sorted(set(left)))
    # Their files: marked deleted, every object and thumbnail gone from the storage.
    db.session.expire_all()
    assert {
        f.status
        for f in db.session.scalars(
            select(StoredFile).where(StoredFile.id.in_([f.id for f in files]))
        )
    } == {"deleted"}
    objects = stored_objects()
    assert not keys & set(objects)
    assert not any(part.encode() in data for data in objects.values() for part in NAME.split())
    # Where they live: no position left, nor the reach of their skills around it.
    erased = db.session.get(Member, member.profile_id)
    assert (erased.lat, erased.lon, erased.postcode, erased.city) == (None, None, None, None)
    reach = db.session.scalars(
        select(MemberSkill.reach_lat_lo).where(MemberSkill.member_id == member.profile_id)
    ).all()
    assert reach and set(reach) == {None}
    assert db.session.scalar(select(func.count()).select_from(WorkReportFile)) == 0
    assert db.session.scalar(select(func.count()).select_from(TicketMessageFile)) == 0

    # No way back in: the old token is refused, signing in fails.
    assert client.get(f"{API}/me", headers=member.headers).status_code == 401
    assert sign_in(client, EMAIL).status_code == 401

    # The customer's view of the job still works, with the member anonymised.
    seen = client.get(f"{API}/jobs/{job_id}", headers=customer.headers)
    assert seen.status_code == 200
    assert seen.get_json()["assigned_member"]["display_name"] == f"Erased user #{member.user_id}"
    reviews = client.get(f"{API}/jobs/{job_id}/reviews", headers=customer.headers).get_json()
    comments = sorted(r["comment"] for r in reviews["items"])
    assert comments == ["Great work!", "[erased]"]
    # The ticket stays, with the member's message marked.
    messages = db.session.scalars(
        select(TicketMessage.body).where(TicketMessage.ticket_id == ticket["id"])
    ).all()
    assert "[erased]" in messages

    # Money and legal records stay: the issued documents unchanged.
    assert documents_of_job(job_id) == invoices
    issued = db.session.scalars(select(Document.data).where(Document.job_id == job_id)).all()
    assert issued == issued_before
    assert [
        p.status
        for p in db.session.scalars(select(Payout).where(Payout.member_id == member.profile_id))
    ] == ["paid"]
    assert ledger.balance(f"member:{member.profile_id}:payable", "EUR") == 0
    assert_ledger_sound()

    record = db.session.scalar(select(Erasure).where(Erasure.user_id == member.user_id))
    assert record.via == "self" and record.reason is None
    audit = db.session.scalar(
        select(AuditEntry).where(AuditEntry.endpoint == "privacy_erasure.erase_own_account")
    )
    assert audit.target == {"user_id": member.user_id, "erasure_id": record.id}
    assert audit.actor_user_id == member.user_id

    # An erased account is never reactivated, nor erased twice.
    reopened = client.delete(f"{API}/users/{member.user_id}/deactivation", headers=admin.headers)
    assert reopened.status_code == 409
    again = erase(client, admin, member.user_id)
    assert again.status_code == 409
    assert again.get_json()["type"].endswith("/already-erased")
    assert again.get_json()["erasure_id"] == record.id


def test_a_customer_is_erased_and_the_member_keeps_the_job(app, client, cm, admin):
    customer = make_actor(
        "customer",
        display_name="Ottoline Wetherby",
        email="ottoline@example.test",
        phone="+41791112233",
    )
    member = active_member()
    payout_account(client, member)
    address = client.post(
        f"{API}/me/customer/addresses",
        json={
            "label": "Home",
            "street": "Wetherbystrasse 9",
            "postcode": "10117",
            "city": "Berlin",
            "country": "DE",
            "lat": 52.52,
            "lon": 13.405,
        },
        headers=customer.headers,
    )
    assert address.status_code == 201, address.get_json()
    set_customer_profile(
        client, customer, country="DE", vat_id=None, legal_name="Ottoline Wetherby"
    )
    job_id, _ = confirmed_job(app, client, customer, cm, member, title="Ottoline's TV")
    attachment = uploaded(client, customer, pdf(), "application/pdf", "ticket_attachment")
    run_payouts(app)
    invoices = documents_of_job(job_id)

    response = erase_me(client, customer)
    assert response.status_code == 200, response.get_json()
    drain_background(app)

    assert scan(["Ottoline", "Wetherby", "+41791112233"]) == []
    assert db.session.get(StoredFile, attachment).status == "deleted"
    assert sign_in(client, "ottoline@example.test").status_code == 401
    seen = client.get(f"{API}/me/jobs/{job_id}", headers=member.headers)
    assert seen.status_code == 200, seen.get_json()
    assert seen.get_json()["title"] == "[erased]"
    job = db.session.get(Job, job_id)
    assert (job.street, job.postcode, job.lat, job.lon) == (None, "10117", 52.52, 13.41)
    assert db.session.scalars(select(CustomerAddress)).all() == []
    assert db.session.scalars(select(CustomerBillingProfile)).all() == []
    assert db.session.scalars(select(CustomerPaymentMethod)).all() == []
    # The invoice stays as issued, with the name it was issued to (the one table the scan
    # leaves out).
    assert documents_of_job(job_id) == invoices
    issued = db.session.scalars(select(Document.data).where(Document.job_id == job_id)).all()
    assert any(data["recipient"]["name"] == "Ottoline Wetherby" for data in issued)
    assert_ledger_sound()


# --- what blocks an erasure -------------------------------------------------------------------


def test_an_open_dispute_blocks_the_erasure(app, client, customer, cm):
    job_id, member, ticket = disputed_job(app, client, customer, cm, confirmed=True)
    for actor in (member, customer):
        response = erase_me(client, actor)
        assert response.status_code == 409
        problem = response.get_json()
        assert problem["type"].endswith("/erasure-blocked")
        assert {"kind": "dispute", "id": job_id} in problem["blocking"]
        assert {"kind": "dispute", "id": ticket["id"]} in problem["blocking"]
        assert f"dispute {job_id}" in problem["detail"]
    # Nothing changed: they still sign in.
    assert client.get(f"{API}/me", headers=member.headers).status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Erasure)) == 0


def test_earnings_not_yet_paid_out_block_the_erasure(app, client, customer, cm):
    job_id, member = confirmed_job(app, client, customer, cm)
    response = erase_me(client, member)
    assert response.status_code == 409
    blocking = response.get_json()["blocking"]
    assert [(b["kind"], b["account"], b["currency"]) for b in blocking] == [
        ("balance", f"member:{member.profile_id}:payable", "EUR")
    ]


def test_a_payout_in_transit_blocks_the_erasure(app, client, customer, cm):
    member = active_member()
    payout_account(client, member)
    confirmed_job(app, client, customer, cm, member)
    (payout,) = run_payouts(app)
    payout = db.session.get(Payout, payout.id)
    payout.status = "in_transit"  # the bank has not confirmed it yet
    db.session.commit()
    response = erase_me(client, member)
    assert response.status_code == 409
    assert response.get_json()["blocking"] == [{"kind": "payout", "id": payout.id}]


def test_an_active_job_and_its_authorised_payment_block_the_erasure(app, client, customer, cm):
    job_id, member = assigned_job(app, client, customer, cm)
    payment_id = payment(job_id).id
    assert payment(job_id).status == "authorized"
    for actor in (member, customer):
        blocking = erase_me(client, actor).get_json()["blocking"]
        assert {"kind": "job", "id": job_id} in blocking
        assert {"kind": "payment", "id": payment_id} in blocking


# --- who may ask ------------------------------------------------------------------------------


def test_a_wrong_password_is_refused(client, member):
    response = erase_me(client, member, "not my password")
    assert response.status_code == 422
    assert "password" in response.get_json()["errors"]["json"]
    missing = client.post(f"{API}/me/erasure", json={}, headers=member.headers)
    assert missing.status_code == 422
    assert "password" in missing.get_json()["errors"]["json"]
    assert client.get(f"{API}/me", headers=member.headers).status_code == 200


def test_only_admins_erase_someone_else(client, member, other_member, cm, admin):
    for actor in (other_member, cm):
        assert erase(client, actor, member.user_id).status_code == 403
    assert erase(client, admin, cm.user_id).status_code == 403  # staff: deactivated instead
    assert erase(client, admin, 2**40).status_code == 404
    assert (
        client.post(
            f"{API}/me/erasure", json={"password": PASSWORD}, headers=cm.headers
        ).status_code
        == 403
    )


def test_an_admin_erases_an_account_with_a_reason_and_it_is_audited(app, client, admin):
    customer = make_actor("customer", display_name="Perpetua Hollingsworth")
    response = erase(client, admin, customer.user_id, reason="Asked by letter of 1 December")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["via"], body["requested_by_id"], body["reason"]) == (
        "admin",
        admin.user_id,
        "Asked by letter of 1 December",
    )
    entries = client.get(
        f"{API}/audit-log",
        query_string={"endpoint": "privacy_erasure.erase_account"},
        headers=admin.headers,
    ).get_json()["items"]
    assert [(e["actor_user_id"], e["target"], e["status_code"]) for e in entries] == [
        (admin.user_id, {"user_id": customer.user_id}, 200)
    ]
    assert scan(["Perpetua", "Hollingsworth", customer.email]) == []
    assert client.get(f"{API}/me", headers=customer.headers).status_code == 401


def test_a_members_pending_offers_are_withdrawn_with_the_erasure(app, client, customer):
    member = active_member()
    posted = post_job_via_api(client, customer)
    assert posted.status_code == 201, posted.get_json()
    drain_background(app)
    offer = db.session.scalar(select(Offer).where(Offer.member_id == member.profile_id))
    assert offer is not None and offer.status == "pending"

    response = erase_me(client, member)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["counts"]["offers_withdrawn"] == 1
    db.session.expire_all()
    assert db.session.get(Offer, offer.id).status == "withdrawn"
    assert db.session.get(Member, member.profile_id).status == "offboarded"


def test_quotes_in_other_peoples_messages_are_replaced_only_where_they_are_about_the_person(
    app, client, cm, other_customer
):
    customer = make_actor("customer", display_name="Jürgen Übermann")
    subject = "The TV bracket came loose"
    theirs = closed_ticket(client, cm, customer, subject=subject)
    someone_elses = closed_ticket(client, cm, other_customer, subject=subject)

    def message(ticket_id: int, body: str) -> Notification:
        note = Notification(
            user_id=cm.user_id,
            kind="test",
            title="Ticket",
            body=body,
            data={"ticket_id": ticket_id},
        )
        db.session.add(note)
        db.session.flush()
        db.session.add(
            Delivery(
                notification_id=note.id,
                user_id=cm.user_id,
                kind="test",
                channel="email",
                status="sent",
                content={"title": "Ticket", "body": body},
            )
        )
        return note

    quoting = message(theirs["id"], f"“{subject}” from Jürgen Übermann is closed.")
    other = message(someone_elses["id"], f"“{subject}” is closed.")
    db.session.commit()

    response = erase(client, make_actor("admin"), customer.user_id)
    assert response.status_code == 200, response.get_json()
    db.session.expire_all()
    expected = f"“[erased]” from Erased user #{customer.user_id} is closed."
    assert db.session.get(Notification, quoting.id).body == expected
    delivery = db.session.scalar(select(Delivery).where(Delivery.notification_id == quoting.id))
    assert delivery.content["body"] == expected
    # The same words about someone else's ticket are theirs: untouched.
    assert db.session.get(Notification, other.id).body == f"“{subject}” is closed."
    assert scan(["Jürgen", "Übermann", "J\\u00fcrgen"]) == []
