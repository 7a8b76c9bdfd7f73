"""Identity documents from the phone: the applicant uploads the front, the back and a selfie
(files API, purpose identity_document), attaches them to the identity check at submission or
while it waits, and reads them back; admins and the CMs responsible for onboarding read them
(each read on the audit log), nobody else; retention's deletion leaves nulls and its date;
ONBOARDING_IDENTITY_IMAGES_REQUIRED makes front and selfie a condition of the step."""

from __future__ import annotations

import io

import pytest
from PIL import ExifTags, Image
from sqlalchemy import select

from crowd.core import audit
from crowd.core.audit import AuditEntry
from crowd.core.db import utcnow
from crowd.core.files import service as files
from crowd.core.files.models import StoredFile
from crowd.extensions import db
from members.models import Member
from onboarding.models import Application, DocumentCheck
from onboarding.steps import STEPS_BY_NAME, checklists, step_context
from tests.factories import make_actor
from tests.files_helpers import fetch, jpeg_with_gps, png, start_upload, upload
from tests.jobs.conftest import drain_background
from tests.onboarding.conftest import (
    API,
    TRADE,
    application_id_of,
    decide_document,
    ok,
    problem,
    step,
    submit_document,
)

ENDPOINT = "onboarding_applications.get_document_images"
SLOTS = ("front", "back", "selfie")


# --- helpers --------------------------------------------------------------------------------


def id_image(client, actor, data: bytes | None = None, content_type: str = "image/jpeg") -> int:
    """A confirmed identity_document upload of `actor`'s (a photo with GPS in its EXIF)."""
    response = upload(
        client, actor, data or jpeg_with_gps(), content_type, purpose="identity_document"
    )
    return ok(response)["id"]


def three_images(client, actor) -> dict:
    return {f"{slot}_file_id": id_image(client, actor) for slot in SLOTS}


def images_url(actor, check_id: int) -> str:
    return f"{API}/applications/{application_id_of(actor)}/documents/{check_id}/images"


def own_url(check_id: int) -> str:
    return f"{API}/me/onboarding/documents/{check_id}/images"


def put_images(client, actor, check_id: int, **ids):
    body = {f"{slot}_file_id": ids.get(slot) for slot in SLOTS}
    return client.put(own_url(check_id), json=body, headers=actor.headers)


def set_responsibilities(client, staff, *queues: str | dict) -> None:
    """The CM's responsibilities: queue names, or whole entries (queue, country, prefix)."""
    entries = [queue if isinstance(queue, dict) else {"queue": queue} for queue in queues]
    body = {"responsibilities": entries}
    ok(client.patch(f"{API}/staff/me/alerts", json=body, headers=staff.headers))


def reads(check_id: int | None = None) -> list[AuditEntry]:
    db.session.expire_all()
    rows = db.session.scalars(
        select(AuditEntry).where(AuditEntry.endpoint == ENDPOINT).order_by(AuditEntry.id)
    )
    return [row for row in rows if check_id is None or row.target.get("check_id") == check_id]


def retention_deleted(check_id: int) -> None:
    """What retention does after the decision: the files discarded, the moment noted."""
    check = db.session.get(DocumentCheck, check_id)
    for slot in SLOTS:
        file_id = getattr(check, f"{slot}_file_id")
        if file_id is not None:
            files.discard(file_id)
    check.images_deleted_at = utcnow()
    db.session.commit()
    db.session.expire_all()


@pytest.fixture
def required(app, monkeypatch):
    monkeypatch.setitem(app.config, "ONBOARDING_IDENTITY_IMAGES_REQUIRED", True)


@pytest.fixture
def submitted(client, member):
    """The member's identity check, submitted with its three images: (check, ids)."""
    ids = three_images(client, member)
    check = ok(submit_document(client, member, **ids), 201)
    return check, ids


# --- the whole flow -------------------------------------------------------------------------


def test_upload_submit_review_and_decide_over_http(app, client, member, cm):
    ids = three_images(client, member)
    check = ok(submit_document(client, member, **ids), 201)
    assert {name: check[name] for name in ids} == ids
    assert check["images_deleted_at"] is None
    drain_background(app)  # thumbnails (inline on SQLite, RQ with Redis)

    # The applicant sees what is attached, and reads it back.
    details = step(client, member, "identity")["details"]
    assert details["images"] == {
        slot: {"file_id": ids[f"{slot}_file_id"], "status": "ready"} for slot in SLOTS
    }
    assert details["images_deleted_at"] is None and "missing_images" not in details
    own = ok(client.get(own_url(check["id"]), headers=member.headers))
    status, body, _ = fetch(client, own["selfie"]["url"])
    assert status == 200 and body[:2] == b"\xff\xd8"

    # The CM reviewing it gets every image as a clean JPEG, and a thumbnail.
    staff_view = ok(client.get(images_url(member, check["id"]), headers=cm.headers))
    assert staff_view["check_id"] == check["id"] and staff_view["images_deleted_at"] is None
    for slot in SLOTS:
        download = staff_view[slot]
        assert download["thumbnail_url"] and download["expires_at"]
        status, body, headers = fetch(client, download["url"])
        assert status == 200 and headers["Content-Type"] == "image/jpeg"
        image = Image.open(io.BytesIO(body))
        assert image.format == "JPEG"
        assert not image.getexif() and b"Exif" not in body and "exif" not in image.info
        assert not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert image.size == (48, 64)  # turned upright before the EXIF went
        assert fetch(client, download["thumbnail_url"])[0] == 200

    decided = ok(decide_document(client, cm, member, check["id"]))
    assert decided["status"] == "verified"
    assert step(client, member, "identity")["state"] == "done"


def test_images_can_be_attached_after_submission_and_replaced_while_waiting(app, client, member):
    check = ok(submit_document(client, member), 201)
    assert (check["front_file_id"], check["back_file_id"], check["selfie_file_id"]) == (
        None,
        None,
        None,
    )
    empty = ok(client.get(own_url(check["id"]), headers=member.headers))
    assert (empty["front"], empty["back"], empty["selfie"]) == (None, None, None)

    front, back, selfie = (id_image(client, member) for _ in SLOTS)
    body = ok(put_images(client, member, check["id"], front=front, back=back, selfie=selfie))
    assert (body["front_file_id"], body["back_file_id"], body["selfie_file_id"]) == (
        front,
        back,
        selfie,
    )
    # A new front; the back left out: both old files are deleted, the selfie stays.
    new_front = id_image(client, member, png(), "image/png")
    body = ok(put_images(client, member, check["id"], front=new_front, selfie=selfie))
    assert (body["front_file_id"], body["back_file_id"]) == (new_front, None)
    db.session.expire_all()
    assert db.session.get(StoredFile, front).status == "deleted"
    assert db.session.get(StoredFile, back).status == "deleted"
    assert db.session.get(StoredFile, selfie).status == "ready"
    images = step(client, member, "identity")["details"]["images"]
    assert images["front"] == {"file_id": new_front, "status": "ready"}
    assert images["back"] is None
    drain_background(app)
    own = ok(client.get(own_url(check["id"]), headers=member.headers))
    assert own["back"] is None
    assert fetch(client, own["front"]["url"])[2]["Content-Type"] == "image/png"
    # The same call again changes nothing (and deletes nothing).
    ok(put_images(client, member, check["id"], front=new_front, selfie=selfie))
    db.session.expire_all()
    assert db.session.get(StoredFile, new_front).status == "ready"


# --- refusals -------------------------------------------------------------------------------


def test_a_file_of_someone_else_is_422_naming_the_field(client, member, other_member):
    foreign = id_image(client, other_member)
    body = problem(submit_document(client, member, back_file_id=foreign), 422)
    assert list(body["errors"]["json"]) == ["back_file_id"]
    check = ok(submit_document(client, member), 201)
    body = problem(put_images(client, member, check["id"], selfie=foreign), 422)
    assert list(body["errors"]["json"]) == ["selfie_file_id"]


def test_an_unconfirmed_upload_is_422(client, member):
    pending = start_upload(client, member, jpeg_with_gps(), purpose="identity_document")["id"]
    body = problem(submit_document(client, member, front_file_id=pending), 422)
    assert body["errors"]["json"]["front_file_id"] == ["The file is not confirmed yet."]


def test_an_upload_for_another_purpose_is_422(client, member):
    photo = ok(upload(client, member, png(), "image/png"))["id"]  # a profile photo
    body = problem(submit_document(client, member, front_file_id=photo), 422)
    assert list(body["errors"]["json"]) == ["front_file_id"]
    assert db.session.scalar(select(DocumentCheck.id)) is None


def test_images_on_another_kind_of_document_are_422(client):
    pro = make_actor("member", kind="professional")
    image = id_image(client, pro)
    body = problem(submit_document(client, pro, TRADE, front_file_id=image), 422)
    assert list(body["errors"]["json"]) == ["front_file_id"]
    check = ok(submit_document(client, pro, TRADE), 201)
    body = problem(put_images(client, pro, check["id"], back=image), 422)
    assert list(body["errors"]["json"]) == ["back_file_id"]


def test_one_image_serves_one_place_only(client, member, cm):
    image = id_image(client, member)
    body = problem(submit_document(client, member, front_file_id=image, selfie_file_id=image), 422)
    assert list(body["errors"]["json"]) == ["selfie_file_id"]
    first = ok(submit_document(client, member, front_file_id=image), 201)
    ok(decide_document(client, cm, member, first["id"], "rejected", "Blurred"))
    # The rejected check keeps its image (retention deletes it); the next check needs its own.
    body = problem(submit_document(client, member, front_file_id=image), 422)
    assert body["errors"]["json"]["front_file_id"] == ["this image belongs to another document"]


def test_a_decided_check_takes_no_images_any_more(client, member, cm, submitted):
    check, ids = submitted
    ok(decide_document(client, cm, member, check["id"], "rejected", "Expired"))
    body = problem(put_images(client, member, check["id"], front=id_image(client, member)), 409)
    assert body["state"] == "rejected"
    db.session.expire_all()
    assert db.session.get(StoredFile, ids["front_file_id"]).status == "ready"


def test_only_the_applicant_attaches_and_reads_their_own_images(client, member, other_member):
    check = ok(submit_document(client, member), 201)
    image = id_image(client, other_member)
    assert problem(put_images(client, other_member, check["id"], front=image), 404)
    assert problem(client.get(own_url(check["id"]), headers=other_member.headers), 404)


# --- who reads them -------------------------------------------------------------------------


def test_admins_and_the_cms_responsible_for_onboarding_read_them(client, member, submitted):
    check, _ = submitted
    url = images_url(member, check["id"])
    admin, onboarding_cm, generalist, support_cm, dispatcher = (
        make_actor("admin"),
        make_actor("community_manager"),
        make_actor("community_manager"),
        make_actor("community_manager"),
        make_actor("community_manager"),
    )
    set_responsibilities(client, onboarding_cm, "onboarding", "tickets")
    set_responsibilities(client, generalist, {"queue": None, "country": "DE"})  # every queue
    set_responsibilities(client, support_cm, "tickets")
    set_responsibilities(client, dispatcher, "dispatch", "community")
    for allowed in (admin, onboarding_cm, generalist):
        assert ok(client.get(url, headers=allowed.headers))["front"] is not None
    for refused in (support_cm, dispatcher):
        body = problem(client.get(url, headers=refused.headers), 403)
        assert "onboarding" in body["detail"]
    # Crowd members and customers are no staff: 403, as on every application endpoint.
    assert problem(client.get(url, headers=member.headers), 403)
    assert problem(client.get(url, headers=make_actor("customer").headers), 403)


def test_a_cm_without_responsibilities_answers_for_everything(client, member, cm, submitted):
    check, _ = submitted
    set_responsibilities(client, make_actor("community_manager"), "tickets")
    assert ok(client.get(images_url(member, check["id"]), headers=cm.headers))["back"]


def test_when_no_cm_answers_for_onboarding_every_cm_reads_them(client, member, submitted):
    check, _ = submitted
    support_cm, dispatcher = make_actor("community_manager"), make_actor("community_manager")
    set_responsibilities(client, support_cm, "tickets")
    set_responsibilities(client, dispatcher, "dispatch")
    url = images_url(member, check["id"])
    # Like its alerts: nobody answers for onboarding, so it is every CM's.
    assert ok(client.get(url, headers=support_cm.headers))["selfie"]
    set_responsibilities(client, dispatcher, "dispatch", "onboarding")
    assert problem(client.get(url, headers=support_cm.headers), 403)
    assert ok(client.get(url, headers=dispatcher.headers))["selfie"]


def test_a_check_of_another_application_is_404(client, member, other_member, cm, submitted):
    check, _ = submitted
    ok(submit_document(client, other_member), 201)
    url = f"{API}/applications/{application_id_of(other_member)}/documents/{check['id']}/images"
    assert problem(client.get(url, headers=cm.headers), 404)
    assert problem(client.get(images_url(member, 2**40), headers=cm.headers), 404)


def test_a_trade_certificate_has_no_images(client, cm):
    pro = make_actor("member", kind="professional")
    check = ok(submit_document(client, pro, TRADE), 201)
    body = ok(client.get(images_url(pro, check["id"]), headers=cm.headers))
    assert (body["front"], body["back"], body["selfie"]) == (None, None, None)


# --- the audit log --------------------------------------------------------------------------


def test_every_staff_read_is_on_the_audit_log_with_the_check(client, member, cm, admin, submitted):
    check, _ = submitted
    url = images_url(member, check["id"])
    ok(client.get(url, headers=cm.headers))
    ok(client.get(url, headers=cm.headers))
    # The applicant's own reads are theirs, not staff actions.
    ok(client.get(own_url(check["id"]), headers=member.headers))
    entries = reads(check["id"])
    assert len(entries) == 2
    entry = entries[0]
    assert (entry.actor_user_id, entry.actor_role, entry.method, entry.status_code) == (
        cm.user_id,
        "community_manager",
        "GET",
        200,
    )
    assert entry.target == {"application_id": application_id_of(member), "check_id": check["id"]}
    # Admins find them in the log like any staff action.
    page = ok(
        client.get(f"{API}/audit-log", query_string={"endpoint": ENDPOINT}, headers=admin.headers)
    )
    assert [item["target"]["check_id"] for item in page["items"]] == [check["id"]] * 2


def test_a_refused_read_is_on_the_audit_log_too(client, member, submitted):
    check, _ = submitted
    support_cm = make_actor("community_manager")
    set_responsibilities(client, support_cm, "tickets")
    set_responsibilities(client, make_actor("community_manager"), "onboarding")
    problem(client.get(images_url(member, check["id"]), headers=support_cm.headers), 403)
    (entry,) = reads(check["id"])
    assert (entry.actor_user_id, entry.status_code) == (support_cm.user_id, 403)


def test_no_image_leaves_when_its_read_cannot_be_recorded(
    client, member, cm, submitted, monkeypatch
):
    check, _ = submitted
    real = audit._entry_for

    def unrecordable(response):
        entry = real(response)
        entry.actor_user_id = None  # NOT NULL: the write fails
        return entry

    monkeypatch.setattr(audit, "_entry_for", unrecordable)
    response = client.get(images_url(member, check["id"]), headers=cm.headers)
    body = problem(response, 503)
    assert "url" not in response.get_data(as_text=True)
    assert body["type"].endswith("/service-unavailable")


# --- after retention ------------------------------------------------------------------------


def test_after_retention_the_answer_is_nulls_and_when(client, member, cm, submitted):
    check, ids = submitted
    ok(decide_document(client, cm, member, check["id"]))
    retention_deleted(check["id"])
    deleted_at = db.session.get(DocumentCheck, check["id"]).images_deleted_at
    for actor, url in ((cm, images_url(member, check["id"])), (member, own_url(check["id"]))):
        body = ok(client.get(url, headers=actor.headers))
        assert (body["front"], body["back"], body["selfie"]) == (None, None, None)
        assert body["images_deleted_at"] == deleted_at.isoformat()
    identity = step(client, member, "identity")
    assert identity["state"] == "done"
    assert identity["details"]["images"]["front"] == {
        "file_id": ids["front_file_id"],
        "status": "deleted",
    }
    assert identity["details"]["images_deleted_at"] == deleted_at.isoformat()


# --- ONBOARDING_IDENTITY_IMAGES_REQUIRED ----------------------------------------------------


def test_off_by_default_a_check_without_images_completes_the_step(client, member, cm):
    check = ok(submit_document(client, member), 201)
    ok(decide_document(client, cm, member, check["id"]))
    assert step(client, member, "identity")["state"] == "done"


def test_required_front_and_selfie_at_submission(client, member, required):
    body = problem(submit_document(client, member), 422)
    assert sorted(body["errors"]["json"]) == ["front_file_id", "selfie_file_id"]
    front = id_image(client, member)
    body = problem(submit_document(client, member, front_file_id=front), 422)
    assert list(body["errors"]["json"]) == ["selfie_file_id"]
    selfie = id_image(client, member)
    check = ok(submit_document(client, member, front_file_id=front, selfie_file_id=selfie), 201)
    assert step(client, member, "identity")["state"] == "submitted"
    # Neither may be taken away while it waits.
    body = problem(put_images(client, member, check["id"], front=front), 422)
    assert list(body["errors"]["json"]) == ["selfie_file_id"]


def test_checks_without_images_do_not_complete_the_step_once_required(
    app, client, member, cm, admin, monkeypatch
):
    waiting = ok(submit_document(client, member), 201)
    # Admins switch the requirement on at once (an adjustable setting).
    body = {"ONBOARDING_IDENTITY_IMAGES_REQUIRED": True}
    ok(client.patch(f"{API}/settings", json=body, headers=admin.headers))
    identity = step(client, member, "identity")
    assert identity["state"] == "pending"
    assert identity["details"]["missing_images"] == ["front", "selfie"]
    # A CM cannot verify it without them.
    refused = problem(decide_document(client, cm, member, waiting["id"]), 422)
    assert list(refused["errors"]["json"]) == ["result"]
    # The applicant adds them; the check is back in the CMs' hands.
    images = {"front": id_image(client, member), "selfie": id_image(client, member)}
    ok(put_images(client, member, waiting["id"], **images))
    assert step(client, member, "identity")["state"] == "submitted"
    ok(decide_document(client, cm, member, waiting["id"]))
    assert step(client, member, "identity")["state"] == "done"


def test_a_check_verified_before_the_requirement_asks_again(app, client, member, cm, monkeypatch):
    old = ok(submit_document(client, member), 201)
    ok(decide_document(client, cm, member, old["id"]))
    monkeypatch.setitem(app.config, "ONBOARDING_IDENTITY_IMAGES_REQUIRED", True)
    identity = step(client, member, "identity")
    assert (identity["state"], identity["details"]["check_id"]) == ("pending", old["id"])


@pytest.mark.parametrize("required_images", [False, True])
def test_the_sql_predicate_agrees_with_the_state_shown(
    app, client, cm, monkeypatch, required_images
):
    bare, with_images, deleted, waiting = (make_actor("member") for _ in range(4))
    for actor in (bare, with_images, deleted, waiting):
        images = {} if actor is bare else three_images(client, actor)
        monkeypatch.setitem(app.config, "ONBOARDING_IDENTITY_IMAGES_REQUIRED", False)
        check = ok(submit_document(client, actor, **images), 201)
        if actor is not waiting:
            ok(decide_document(client, cm, actor, check["id"]))
        if actor is deleted:
            retention_deleted(check["id"])
    monkeypatch.setitem(app.config, "ONBOARDING_IDENTITY_IMAGES_REQUIRED", required_images)
    actors = (bare, with_images, deleted, waiting)
    ctx = step_context()
    assert ctx.identity_images_required is required_images
    pairs = [
        (db.session.get(Member, a.profile_id), db.session.get(Application, application_id_of(a)))
        for a in actors
    ]
    shown = {
        member_id: next(s for s in states if s.name == "identity").finished
        for member_id, states in checklists(pairs, ctx).items()
    }
    done = set(
        db.session.scalars(
            select(Member.id)
            .where(Member.id.in_([a.profile_id for a in actors]))
            .where(STEPS_BY_NAME["identity"].done(ctx))
        )
    )
    assert {member_id for member_id, finished in shown.items() if finished} == done
    expected = {with_images.profile_id, deleted.profile_id}
    if not required_images:
        expected.add(bare.profile_id)
    assert done == expected
