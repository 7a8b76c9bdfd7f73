"""The identity check's images on the console's application page: thumbnails linking to the
full image for the staff who may read them (each view on the audit log), a notice for the
others, the date of their deletion after retention, and nothing loaded from elsewhere."""

from __future__ import annotations

import io
import re
from html import unescape
from urllib.parse import urlsplit

import pytest
from PIL import Image
from sqlalchemy import select

from accounts.models import StaffResponsibility
from crowd.core.audit import AuditEntry
from crowd.core.db import utcnow
from crowd.core.files import service as files
from crowd.extensions import db
from onboarding.models import DocumentCheck
from tests.console.helpers import make_staff, sign_in
from tests.files_helpers import jpeg_with_gps, upload
from tests.onboarding.conftest import application_id_of, ok, submit_document

BASE = "/console/onboarding"
PAGE_ENDPOINT = "console_onboarding.application"
SLOTS = ("front", "back", "selfie")


def _responsible(user_id: int, *queues: str) -> None:
    for queue in queues:
        db.session.add(StaffResponsibility(user_id=user_id, queue=queue))
    db.session.commit()


def _signed_in(client, role: str = "community_manager", *queues: str):
    staff = make_staff(role)
    _responsible(staff.user_id, *queues)
    assert sign_in(client, staff).status_code == 303
    return staff


@pytest.fixture
def applicant(client, member):
    """An applicant whose identity check came with its three images: (application id, check)."""
    ids = {}
    for slot in SLOTS:
        response = upload(client, member, jpeg_with_gps(), purpose="identity_document")
        ids[f"{slot}_file_id"] = ok(response)["id"]
    check = ok(submit_document(client, member, **ids), 201)
    return application_id_of(member), check


def _page(client, application_id: int) -> str:
    response = client.get(f"{BASE}/applications/{application_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _page_reads(user_id: int) -> list[AuditEntry]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.endpoint == PAGE_ENDPOINT, AuditEntry.actor_user_id == user_id
            )
        )
    )


def _addresses(html: str) -> list[str]:
    return [unescape(value) for value in re.findall(r'(?:src|href)="([^"]+)"', html)]


def test_the_onboarding_team_sees_thumbnails_linking_to_the_full_images(client, applicant):
    application_id, check = applicant
    _signed_in(client, "community_manager", "onboarding")
    html = _page(client, application_id)
    block = html.split(f'data-check="{check["id"]}"', 1)[1].split("</div>", 1)[0]
    assert 'data-images="shown"' in block
    images = re.findall(r'<img src="([^"]+)" alt="([^"]+)"', block)
    assert [alt for _, alt in images] == [
        "Front of the document",
        "Back of the document",
        "Selfie with the document",
    ]
    links = re.findall(r'<a href="([^"]+)" target="_blank"', block)
    assert len(links) == 3
    for src in [unescape(src) for src, _ in images] + [unescape(link) for link in links]:
        # The app's own storage URLs, as paths: nothing from elsewhere.
        assert src.startswith("/files/local/"), src
        response = client.get(src)
        assert response.status_code == 200 and response.mimetype == "image/jpeg"
        image = Image.open(io.BytesIO(response.data))
        assert not image.getexif() and b"Exif" not in response.data


def test_each_view_of_the_images_is_on_the_audit_log(client, applicant):
    application_id, check = applicant
    staff = _signed_in(client, "community_manager")  # no responsibilities: every queue
    _page(client, application_id)
    _page(client, application_id)
    entries = _page_reads(staff.user_id)
    assert len(entries) == 2
    assert entries[0].method == "GET" and entries[0].status_code == 200
    assert entries[0].target == {"application_id": application_id, "check_ids": [check["id"]]}


def test_admins_see_them_too(client, applicant):
    application_id, _ = applicant
    _signed_in(client, "admin")
    assert 'data-images="shown"' in _page(client, application_id)


def test_other_staff_read_that_the_onboarding_team_sees_them(client, applicant):
    application_id, check = applicant
    _responsible(make_staff().user_id, "onboarding")
    staff = _signed_in(client, "community_manager", "tickets")
    html = _page(client, application_id)
    assert 'data-images="hidden"' in html
    assert "Images visible to the onboarding team only." in html
    assert "/files/local/" not in html and "<img" not in html
    assert _page_reads(staff.user_id) == []
    # The decision is still theirs to take (the API's rules are unchanged).
    assert f"/documents/{check['id']}/decision" in html


def test_after_retention_the_page_says_when_they_were_deleted(client, applicant):
    application_id, check = applicant
    row = db.session.get(DocumentCheck, check["id"])
    for slot in SLOTS:
        files.discard(getattr(row, f"{slot}_file_id"))
    row.images_deleted_at = deleted = utcnow()
    db.session.commit()
    staff = _signed_in(client, "community_manager", "onboarding")
    html = _page(client, application_id)
    assert 'data-images="deleted"' in html and "/files/local/" not in html
    assert f'datetime="{deleted.isoformat()}"' in html
    assert _page_reads(staff.user_id) == []


def test_a_check_without_images_says_so(client, member):
    ok(submit_document(client, member), 201)
    _signed_in(client, "community_manager", "onboarding")
    html = _page(client, application_id_of(member))
    assert 'data-images="none"' in html and "No images attached." in html


def test_the_page_loads_nothing_from_elsewhere(client, applicant):
    application_id, _ = applicant
    _signed_in(client, "community_manager", "onboarding")
    response = client.get(f"{BASE}/applications/{application_id}")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    for address in _addresses(response.get_data(as_text=True)):
        parts = urlsplit(address)
        assert not parts.scheme and not parts.netloc, address


def test_the_page_speaks_german(client, applicant):
    application_id, _ = applicant
    staff = _signed_in(client, "community_manager", "onboarding")
    from accounts.models import User

    db.session.get(User, staff.user_id).locale = "de"
    db.session.commit()
    html = _page(client, application_id)
    assert "Vorderseite" in html
