"""The console's ticket page shows the files attached to messages, shared and internal, as
short-lived links (a thumbnail for an image) that a browser on the console can follow."""

from __future__ import annotations

import html as markup
import re

import pytest

from tests.console.helpers import make_staff, sign_in
from tests.console.ticket_helpers import dispute_for
from tests.crowd.test_files_s3 import s3, s3_endpoint  # noqa: F401
from tests.files_helpers import fetch, jpeg_with_gps, pdf, upload
from tests.jobs.conftest import drain_background
from tests.payouts.conftest import ledger_sound  # noqa: F401
from tests.support.ticket_helpers import said

pytestmark = pytest.mark.usefixtures("ledger_sound")
PAGE = "/console/tickets"


def _ready(client, actor, data: bytes, content_type: str) -> int:
    response = upload(client, actor, data, content_type, purpose="ticket_attachment")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["id"]


def _file_item(html: str, file_id: int) -> str:
    found = re.search(rf'<li data-file="{file_id}">(.*?)</li>', html, re.S)
    assert found, f"file {file_id} not on the page"
    return found.group(1)


def _links(item: str) -> dict[str, str]:
    """The item's link and thumbnail, unescaped."""
    href = re.search(r'<a href="([^"]+)"', item)
    src = re.search(r'<img src="([^"]+)"', item)
    return {
        "href": markup.unescape(href.group(1)) if href else None,
        "src": markup.unescape(src.group(1)) if src else None,
    }


def test_the_thread_links_the_messages_files_with_thumbnails(app, client, customer, cm):
    staff = make_staff()
    assert sign_in(client, staff).status_code == 303
    _job_id, member, ticket_id = dispute_for(app, client, customer, staff.user_id)
    photo = _ready(client, customer, jpeg_with_gps(), "image/jpeg")
    receipt = _ready(client, customer, pdf(), "application/pdf")
    said(client, customer, ticket_id, "Photo and receipt", attachment_file_ids=[photo, receipt])
    evidence = _ready(client, cm, pdf(), "application/pdf")
    said(
        client,
        cm,
        ticket_id,
        "His earlier job had the same bracket",
        visibility="internal",
        attachment_file_ids=[evidence],
    )
    drain_background(app)  # the photo's thumbnail

    response = client.get(f"{PAGE}/{ticket_id}")
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    html = response.get_data(as_text=True)

    shown = _links(_file_item(html, photo))
    assert shown["href"] and shown["src"]
    status, data, _headers = fetch(client, shown["href"])
    assert status == 200 and data.startswith(b"\xff\xd8")
    status, _thumb, headers = fetch(client, shown["src"])
    assert status == 200 and headers["Content-Type"] == "image/jpeg"

    document = _links(_file_item(html, receipt))
    assert document["src"] is None
    assert "application/pdf" in _file_item(html, receipt)
    assert fetch(client, document["href"])[1].startswith(b"%PDF")

    # The internal note's file is on the page too, in the internal message.
    internal = re.search(
        r'<li class="message internal"[^>]*>.*?<ul class="files".*?</ul>', html, re.S
    ).group(0)
    assert f'data-file="{evidence}"' in internal
    assert fetch(client, _links(_file_item(html, evidence))["href"])[1].startswith(b"%PDF")


@pytest.mark.usefixtures("s3")
def test_on_s3_the_page_lets_in_the_thumbnails_from_the_storage_only(app, client, customer):
    endpoint = app.config["FILES_S3_ENDPOINT_URL"]
    staff = make_staff()
    assert sign_in(client, staff).status_code == 303
    _job_id, _member, ticket_id = dispute_for(app, client, customer, staff.user_id)
    photo = _ready(client, customer, jpeg_with_gps(), "image/jpeg")
    said(client, customer, ticket_id, "The wall", attachment_file_ids=[photo])
    drain_background(app)

    response = client.get(f"{PAGE}/{ticket_id}")
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    shown = _links(_file_item(response.get_data(as_text=True), photo))
    assert shown["src"].startswith(endpoint + "/")
    status, data, _headers = fetch(client, shown["src"])
    assert status == 200 and data.startswith(b"\xff\xd8")
    policy = response.headers["Content-Security-Policy"]
    assert policy.startswith("default-src 'self';")
    assert policy.endswith(f"; img-src 'self' {endpoint}")
    # A page without thumbnails keeps the console's policy.
    other = dispute_for(app, client, customer, staff.user_id)[2]
    assert "img-src" not in client.get(f"{PAGE}/{other}").headers["Content-Security-Policy"]
