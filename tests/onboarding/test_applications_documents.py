"""Documents: applicants submit metadata (no files), community managers verify or reject them."""

from datetime import date, timedelta

import pytest

from tests.factories import make_actor
from tests.jobs.conftest import drain_background, notifications_for
from tests.onboarding.conftest import (
    API,
    IDENTITY,
    TRADE,
    application_id_of,
    decide_document,
    ok,
    problem,
    submit_document,
)


def test_member_submits_identity_metadata(client, member):
    check = ok(submit_document(client, member), 201)
    assert check["member_id"] == member.profile_id
    assert check["status"] == "submitted"
    assert check["reference_hint"] == "7X2K"
    assert check["expires_on"] == "2035-01-31"
    assert (check["checked_by_id"], check["checked_at"]) == (None, None)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"reference_hint": "12345"}, "reference_hint"),
        ({"reference_hint": "7-2K"}, "reference_hint"),
        ({"issuing_country": "de"}, "issuing_country"),
        ({"kind": "selfie"}, "kind"),
        ({"issuer": "  "}, "issuer"),
        ({"document_type": "library_card"}, "document_type"),
        ({"expires_on": (date.today() - timedelta(days=1)).isoformat()}, "expires_on"),
        ({"expires_on": date.today().isoformat()}, "expires_on"),
        ({"file": "data:image/png;base64,AAAA"}, "file"),
    ],
)
def test_invalid_documents_are_422_naming_the_field(client, member, change, field):
    body = problem(submit_document(client, member, **change), 422)
    assert field in body["errors"]["json"]


def test_private_members_cannot_submit_trade_documents(client, member):
    body = problem(submit_document(client, member, TRADE), 422)
    assert "kind" in body["errors"]["json"]


def test_professionals_submit_trade_certificates(client):
    pro = make_actor("member", kind="professional")
    assert ok(submit_document(client, pro, TRADE), 201)["kind"] == "trade_certificate"


def test_a_second_submission_of_a_kind_waiting_for_its_check_is_409(client, member, cm):
    first = ok(submit_document(client, member), 201)
    body = problem(submit_document(client, member, document_type="passport"), 409)
    assert (body["state"], body["check_id"]) == ("submitted", first["id"])
    assert body["type"] == "https://crowd.example/problems/check-pending"
    decide_document(client, cm, member, first["id"], "rejected", "Blurred")
    assert ok(submit_document(client, member, document_type="passport"), 201)


def test_idempotency_key_replays_the_submission(client, member):
    headers = {**member.headers, "Idempotency-Key": "doc-1"}
    url = f"{API}/me/onboarding/documents"
    first = client.post(url, json=IDENTITY, headers=headers)
    again = client.post(url, json=IDENTITY, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]


def test_documents_are_for_members(client, customer, cm):
    assert problem(client.post(f"{API}/me/onboarding/documents", json=IDENTITY), 401)
    url = f"{API}/me/onboarding/documents"
    assert problem(client.post(url, json=IDENTITY, headers=customer.headers), 403)
    assert problem(client.post(url, json=IDENTITY, headers=cm.headers), 403)


# --- decisions ------------------------------------------------------------------------------


def test_cm_verifies_a_document_and_the_applicant_is_told(app, client, member, cm):
    check = ok(submit_document(client, member), 201)
    decided = ok(decide_document(client, cm, member, check["id"], note="Seen on video"))
    assert decided["status"] == "verified"
    assert decided["checked_by_id"] == cm.user_id
    assert decided["checked_at"] is not None
    assert decided["note"] == "Seen on video"
    drain_background(app)
    [notice] = notifications_for(member.user_id, "onboarding.document_verified")
    assert notice.data["check_id"] == check["id"]


def test_rejecting_needs_a_note_and_tells_the_applicant(app, client, member, cm):
    check = ok(submit_document(client, member), 201)
    body = problem(decide_document(client, cm, member, check["id"], "rejected"), 422)
    assert "note" in body["errors"]["json"]
    ok(decide_document(client, cm, member, check["id"], "rejected", "Expired document"))
    drain_background(app)
    [notice] = notifications_for(member.user_id, "onboarding.document_rejected")
    assert notice.body == "Expired document"


def test_only_a_submitted_document_can_be_decided(client, member, cm):
    check = ok(submit_document(client, member), 201)
    ok(decide_document(client, cm, member, check["id"]))
    body = problem(decide_document(client, cm, member, check["id"], "rejected", "No"), 409)
    assert body["state"] == "verified"


def test_a_document_of_another_applicant_is_not_found_through_this_application(
    client, member, other_member, cm
):
    theirs = ok(submit_document(client, other_member), 201)
    assert problem(decide_document(client, cm, member, theirs["id"]), 404)
    url = f"{API}/applications/999999/documents/{theirs['id']}/decision"
    assert problem(client.post(url, json={"result": "verified"}, headers=cm.headers), 404)


def test_document_decisions_are_for_staff(client, member, admin):
    check = ok(submit_document(client, member), 201)
    url = f"{API}/applications/{application_id_of(member)}/documents/{check['id']}/decision"
    assert problem(client.post(url, json={"result": "verified"}, headers=member.headers), 403)
    assert problem(client.post(url, json={"result": "verified"}), 401)
    assert problem(client.post(url, json={"result": "maybe"}, headers=admin.headers), 422)
    assert ok(client.post(url, json={"result": "verified"}, headers=admin.headers))
